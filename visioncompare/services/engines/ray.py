"""The Ray engine: a dataset's predictions made by a Ray Data actor pool, stored like a
local run's (``RayEngine``; ``protocol.Engine``).

The driver lists the images the store still lacks, hands them to Ray Data
(``from_items`` of image ids and paths), and ``map_batches`` runs them through a pool of
actors (a callable class: each actor loads the model once). Each actor reads and decodes
its images with ``visioncompare.kernel.images`` (the local run's decoder) and returns
the packed payloads the store keeps, so a Ray run and a local run of the same model
store the same bytes' worth of predictions under the same key. The driver streams the
results into the store batch by batch: an interrupted driver resumes from the store, a
restarted actor's task is retried by Ray (``max_restarts``/``max_task_retries``), and
the store's primary key keeps one row per image whatever is retried.

Ray is optional (``requirements-ray.txt``); this module imports it only when called.
The images and the model weights must be readable at the same paths on every node (a
shared filesystem, or the same checkout and weights on each machine).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial

import numpy as np

from visioncompare.datasets.types import Dataset, DatasetError
from visioncompare.evaluation.prediction_runs import (
    DetectSettings,
    Interrupted,
    Progress,
    StoredRun,
    claimed_run,
    classification_key,
    corruption_part,
    detection_key,
    read_images,
    stored_detections,
    stored_probabilities,
)
from visioncompare.evaluation.store import (
    PredictionStore,
    pack_detections,
    pack_probabilities,
)
from visioncompare.kernel.types import Detections
from visioncompare.robustness.corruptions import Corruption
from visioncompare.services.engines.local import load_on_device
from visioncompare.services.engines.protocol import RunRequest

log = logging.getLogger(__name__)


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


@dataclass(frozen=True)
class RayOptions:
    """How the actor pool is shaped.

    Attributes:
        address: a cluster (``ray://host:10001``, ``host:6379`` or ``auto``); None starts a
            local one (or uses ``$RAY_ADDRESS`` when set, as ``ray.init`` does).
        actors: actors in the pool (each loads the model once).
        cpus_per_actor, gpus_per_actor: resources each actor reserves; with GPUs the
            model runs on ``cuda`` (and its fp16 rule enters the store key).
        batch_size: images per ``predict`` call; None: the local run's batch for the
            device (1 on a CPU, 16 on a GPU), so both engines predict alike.
    """

    address: str | None = None
    actors: int = 2
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    batch_size: int | None = None

    @property
    def device(self) -> str:
        return "cuda" if self.gpus_per_actor > 0 else "cpu"


def ensure_ray(address: str | None = None, num_cpus: int | None = None):
    """``ray`` connected to a cluster: the one already initialised, the one at
    ``address``, or a new local one (``num_cpus`` CPUs, default all).

    Raises:
        RayUnavailable: Ray is not installed, or the address cannot be reached.
    """
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(
            "the Ray engine needs Ray: pip install -r requirements-ray.txt"
        ) from exc
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=num_cpus, log_to_driver=False,
                         include_dashboard=False)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or os.environ.get("RAY_ADDRESS") or "a new local cluster"
            raise RayUnavailable(f"cannot start Ray on {where}: {exc}") from exc
    import ray.data

    # Our own progress (the CLI bar, the page) replaces Ray Data's bars.
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


class BatchPredictor:
    """The callable class of the actor pool: loads the model once, then maps a batch of
    ``{"image_id", "path"}`` rows to ``{"image_id", "payload", "seconds", "timed",
    "class_names"}``.

    ``seconds`` is the batch's time in the actor (reading, decoding, predicting) shared
    among its rows, so the driver adds up the model time as a local run does (``timed``
    is False on the actor's first, warm-up batch, which a local run does not time either).
    """

    def __init__(
        self,
        load: Callable[[], object],
        kind: str,
        settings: dict,
        corruption: Corruption | None = None,
    ) -> None:
        self.model = load()
        self.kind, self.settings, self.corruption = kind, settings, corruption
        self.class_names = json.dumps(list(self.model.class_names))
        self.warm = False

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        started = time.perf_counter()
        ids = [int(i) for i in batch["image_id"]]
        # The local run's reader: decoded, and corrupted for a corrupted run.
        images = read_images([str(p) for p in batch["path"]], self.corruption)
        if self.kind == "detect":
            predictions = self.model.predict(images, **self.settings)
            payloads = [pack_detections(p.detections) for p in predictions]
        else:
            predictions = self.model.predict(images)
            payloads = [pack_probabilities(p.classification.scores) for p in predictions]
        # As in a local run, an actor's first batch warms the model up and is not timed.
        timed = self.warm
        self.warm = True
        seconds = (time.perf_counter() - started) / max(len(ids), 1) if timed else 0.0
        return {
            "image_id": np.array(ids, np.int64),
            "payload": np.array(payloads, dtype=object),
            "seconds": np.full(len(ids), seconds),
            "timed": np.full(len(ids), timed),
            "class_names": np.array([self.class_names] * len(ids), dtype=object),
        }


def run_on_ray(
    store: PredictionStore,
    key: str,
    kind: str,
    meta: dict,
    dataset: Dataset,
    load: Callable[[], object],
    settings: dict,
    options: RayOptions,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    corruption: Corruption | None = None,
) -> float:
    """Predict the images the store lacks on the Ray cluster; store them as they come.

    Returns the seconds the actors spent on the timed images (all but each actor's first
    batch), summed over actors.

    The run is claimed as a local run is (``claimed_run``): another driver, replica or
    session predicting the same key on the same store is waited for, not repeated.

    Raises:
        Interrupted: ``should_stop`` returned True (what arrived is stored).
        DatasetError: an image cannot be read (named), or the pool lost an image.
        RayUnavailable: no Ray.
    """
    ray = ensure_ray(options.address)
    with claimed_run(store, key, len(dataset), progress, should_stop):
        return _predict_on_ray(ray, store, key, kind, meta, dataset, load, settings,
                               options, progress, should_stop, corruption)  # fmt: skip


def _predict_on_ray(
    ray, store, key, kind, meta, dataset, load, settings, options, progress, should_stop,
    corruption=None,
) -> float:
    store.begin(key, kind, meta, len(dataset))
    if store.is_complete(key):
        return 0.0
    done = store.done_ids(key)
    todo = [s for s in dataset.samples if s.image_id not in done]
    total, finished = len(dataset), len(done)
    if progress:
        progress(finished, total)
    seconds, timed = 0.0, 0
    if todo:
        batch = options.batch_size or (16 if options.device == "cuda" else 1)
        items = [{"image_id": s.image_id, "path": str(s.path)} for s in todo]
        # One block per batch: a block is Ray Data's unit of scheduling and of streaming
        # back, so every actor gets work and each batch is stored as soon as it is done.
        blocks = -(-len(items) // batch)
        predicted = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            BatchPredictor,
            fn_constructor_kwargs={
                "load": load,
                "kind": kind,
                "settings": settings,
                "corruption": corruption,
            },
            batch_size=batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=options.actors),
            num_cpus=options.cpus_per_actor,
            num_gpus=options.gpus_per_actor or None,
            # A killed actor is restarted and its batch retried: Ray Data's actor pools
            # default to max_restarts=-1 and max_task_retries=-1 (Ray 2.60,
            # actor_pool_map_operator.py); tests/test_ray_engine.py kills one.
        )
        names_recorded = False
        # The iterator itself (iter_batches gives an iterable): closing it shuts the
        # executor down (Ray Data's _iter_batches does so in its finally).
        batches = iter(predicted.iter_batches(batch_size=None, batch_format="numpy"))
        try:
            for out in batches:
                if not names_recorded:
                    # Before the first image: a stored image always has its class names.
                    store.update_meta(key, class_names=json.loads(out["class_names"][0]))
                    names_recorded = True
                store.put_payloads(key, zip(out["image_id"].tolist(), out["payload"]))
                seconds += float(np.sum(out["seconds"]))
                timed += int(np.sum(out["timed"]))
                finished += len(out["image_id"])
                if progress:
                    progress(min(finished, total), total)
                if should_stop is not None and should_stop() and finished < total:
                    raise Interrupted(f"stopped after {finished} of {total} images")
        except ray.exceptions.RayTaskError as exc:
            cause = exc.as_instanceof_cause()
            if isinstance(cause, DatasetError):
                raise DatasetError(str(cause).splitlines()[-1]) from exc
            raise
        finally:
            # Stopped early, the executor shuts the pool down now (its actors are
            # killed) rather than whenever the generator is collected.
            close = getattr(batches, "close", None)  # absent on other iterators
            try:
                if close is not None:
                    close()
            except Exception:  # never in place of the error or stop on its way out
                log.warning("the Ray executor did not shut down cleanly", exc_info=True)
    missing = {s.image_id for s in dataset.samples} - store.done_ids(key)
    if missing:
        raise DatasetError(
            f"the Ray run returned no prediction for {len(missing)} images "
            f"(e.g. {sorted(missing)[:5]}); run again to predict them"
        )
    recorded = store.meta(key) or {}
    store.update_meta(
        key,
        model_seconds=recorded.get("model_seconds", 0.0) + seconds,
        timed_images=recorded.get("timed_images", 0) + timed,
        engine="ray",
        ray_actors=options.actors,
    )
    store.mark_complete(key)
    return seconds


def predict_detections_on_ray(
    name: str,
    dataset: Dataset,
    store: PredictionStore,
    model_id: dict,
    settings: DetectSettings = DetectSettings(),
    options: RayOptions = RayOptions(),
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    record: dict | None = None,
    load: Callable[[], object] | None = None,
    corruption: Corruption | None = None,
) -> tuple[dict[int, Detections], StoredRun]:
    """A detector's predictions for every image, made on Ray (or read from the store).

    Args:
        name: the model-zoo detector each actor loads.
        model_id: what identifies its weights (``visioncompare.services.report.model_identity``
            on ``options.device``); the key is the local run's.
        load: a picklable () -> model, instead of the model zoo (tests).
        corruption: corrupt each image first (the local run's key and pixels).
    """
    key = detection_key(model_id, dataset, settings, corruption)
    meta = {"model": model_id, "dataset": dataset.name, "settings": asdict(settings),
            **corruption_part(corruption), **(record or {})}  # fmt: skip
    load = load or partial(load_on_device, name, options.device)
    seconds = run_on_ray(store, key, "detect", meta, dataset, load, asdict(settings),
                         options, progress, should_stop, corruption)  # fmt: skip
    detections, run = stored_detections(store, key)
    return detections, replace(run, seconds=seconds)


@dataclass(frozen=True)
class RayEngine:
    """Predict on a Ray cluster (``protocol.Engine``).

    The store key names the weights on this machine (the driver): weights missing here
    are fetched once by loading the model here (``get_model``), or the run fails with
    ``WeightsNotFoundError`` offline; the actors load the same files.

    Attributes:
        options: the cluster address and the actor pool's shape.
        get_model: model name -> loaded model, used only to fetch missing weights.
    """

    options: RayOptions = RayOptions()
    get_model: Callable[[str], object] | None = None
    name = "ray"

    @property
    def device(self) -> str:
        return self.options.device

    def _identity(self, model: str) -> dict:
        from model_zoo.identity import identity_on_disk

        identity = identity_on_disk(model, self.device)
        if identity is None:
            (self.get_model or partial(load_on_device, device=self.device))(model)
            identity = identity_on_disk(model, self.device)
        return identity

    def detections(
        self, request: RunRequest, settings: DetectSettings
    ) -> tuple[dict[int, Detections], StoredRun]:
        """See ``protocol.Engine.detections``."""
        return predict_detections_on_ray(
            request.model, request.dataset, request.store, self._identity(request.model),
            settings, self.options, request.progress, request.should_stop,
            record={**request.record, "device": self.device},
            corruption=request.corruption,
        )  # fmt: skip

    def probabilities(self, request: RunRequest) -> tuple[dict[int, np.ndarray], StoredRun]:
        """See ``protocol.Engine.probabilities``: a classifier's softmax for every image,
        made on Ray (or read from the store)."""
        identity = self._identity(request.model)
        key = classification_key(identity, request.dataset, request.corruption)
        meta = {"model": identity, "dataset": request.dataset.name,
                **corruption_part(request.corruption), **request.record,
                "device": self.device}  # fmt: skip
        load = partial(load_on_device, request.model, self.device)
        seconds = run_on_ray(request.store, key, "classify", meta, request.dataset, load, {},
                             self.options, request.progress, request.should_stop,
                             request.corruption)  # fmt: skip
        probabilities, run = stored_probabilities(request.store, key)
        return probabilities, replace(run, seconds=seconds)
