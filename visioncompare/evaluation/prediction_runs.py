"""Batch inference over a dataset, stored once: the engine behind the CLI and the page.

Models are duck-typed (``predict(images, **settings) -> list[Prediction]``) so this module
stays free of torch; ``model_zoo`` provides the real ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from visioncompare.datasets.types import Dataset, DatasetError, Sample
from visioncompare.evaluation.store import PredictionStore, run_key
from visioncompare.kernel.bounded_cache import ByteBoundedCache
from visioncompare.kernel.images import ImageError, load_image_file
from visioncompare.kernel.keyed_locks import KeyedLocks
from visioncompare.kernel.types import Detections
from visioncompare.robustness.corruptions import (
    Corruption,
    CorruptionError,
    CorruptionUnavailable,
    corrupt,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (images done, images in total) after every batch."""


class Interrupted(RuntimeError):
    """The caller asked to stop; everything predicted so far is stored."""


@dataclass(frozen=True)
class DetectSettings:
    """Detector settings for evaluation: a low confidence and many boxes, as COCO-style
    evaluation expects (thresholds are applied afterwards, on the stored boxes)."""

    conf: float = 0.001
    iou: float = 0.7
    max_det: int = 300


def dataset_fingerprint(dataset: Dataset) -> str:
    """Changes when the images or the ground truth of a dataset change."""
    digest = hashlib.sha256(dataset.name.encode())
    for s in dataset.samples:
        digest.update(f"{s.image_id}:{s.path.name}:{s.width}x{s.height}".encode())
        digest.update(s.gt.xyxy.tobytes() + s.gt.class_ids.tobytes())
    return digest.hexdigest()[:16]


def corruption_part(corruption: Corruption | None) -> dict:
    """What a corrupted run adds to its key and record (``{"corruption": {...}}``);
    nothing for a clean run, whose key stays what it always was."""
    return {} if corruption is None else {"corruption": corruption.key()}


def detection_key(
    model_id: dict,
    dataset: Dataset,
    settings: DetectSettings,
    corruption: Corruption | None = None,
) -> str:
    """The store key of a detector's predictions on a dataset (corrupted: its own)."""
    return run_key(kind="detect", model=model_id, dataset=dataset_fingerprint(dataset),
                   settings=asdict(settings), **corruption_part(corruption))  # fmt: skip


def classification_key(
    model_id: dict, dataset: Dataset, corruption: Corruption | None = None
) -> str:
    """The store key of a classifier's probabilities on a dataset (corrupted: its own)."""
    return run_key(
        kind="classify", model=model_id, dataset=dataset_fingerprint(dataset),
        **corruption_part(corruption),
    )  # fmt: skip


def _batches(samples: Sequence[Sample], size: int) -> Iterator[list[Sample]]:
    for start in range(0, len(samples), size):
        yield list(samples[start : start + size])


CORRUPTED_IMAGES = ByteBoundedCache(64 * 2**20)
"""The last corrupted dataset images, by file and cell: a robustness run predicts a
cell with the detector and then the classifier, which see the same pixels, corrupted
once."""


def _corrupted_file(path: str, corruption: Corruption) -> np.ndarray:
    stat = Path(path).stat()
    key = f"{path}:{stat.st_mtime_ns}:{stat.st_size}:{corruption.tag}"
    return CORRUPTED_IMAGES.get_or_compute(
        key, lambda: corrupt(load_image_file(path).array, corruption)
    )


def read_images(
    paths: Sequence[str | Path], corruption: Corruption | None = None
) -> list[np.ndarray]:
    """The images a model sees: dataset images decoded (RGB uint8, EXIF-oriented) and,
    for a corrupted run, corrupted (``visioncompare.robustness``, each image with its own
    seed): the one reader of every engine.

    Returns:
        (H, W, 3) uint8 RGB arrays, one per path.

    Raises:
        DatasetError: an image is missing or broken, or cannot be corrupted, named.
    """
    images = []
    for path in paths:
        try:
            images.append(
                load_image_file(str(path)).array
                if corruption is None
                else _corrupted_file(str(path), corruption)
            )
        except (OSError, ImageError, CorruptionError) as exc:
            # A dataset image that is missing or broken stops the run with its name; the
            # images before it are already stored.
            # Named by its folder and file (never the server's path, nor a decoder's
            # message that may hold it).
            name = "/".join(Path(path).parts[-2:])
            if isinstance(exc, CorruptionUnavailable):
                raise
            if isinstance(exc, CorruptionError):
                raise DatasetError(f"{name}: cannot corrupt this image ({exc})") from exc
            reason = (
                exc if isinstance(exc, ImageError) else exc.strerror or "unreadable"
            )
            raise DatasetError(f"{name}: cannot read this image ({reason})") from exc
    return images


def _load(batch: list[Sample], corruption: Corruption | None) -> list[np.ndarray]:
    return read_images([sample.path for sample in batch], corruption)


CLAIMS = KeyedLocks()
"""The runs being predicted or waited for in this process, by (store, key)."""
WAIT_POLL_SECONDS = 0.5
"""How often a run waiting for another session's run of the same key reports progress."""


def claim_key(store: PredictionStore, key: str) -> tuple[str, str]:
    """A run's place in ``CLAIMS``: its store (a file or a database) and its key."""
    where = str(store.path.resolve()) if store.backend == "sqlite" else store.url
    return where, key


def _model_seconds(predictions: Sequence) -> float:
    """The model's own time for a batch: each prediction's timing is measured while the
    model's lock is held, so waiting for another caller of the model is not in it."""
    return sum(p.timing.total_ms for p in predictions) / 1000.0


@contextlib.contextmanager
def claimed_run(
    store: PredictionStore,
    key: str,
    total: int,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
) -> Iterator[None]:
    """Hold the run's claim: whoever holds it predicts the run; another caller asking
    for the same run, a session of this server (``CLAIMS``) or another process on the
    same store (``PredictionStore.holding_run``), waits, reporting the run's progress and
    stopping when asked, and then reads the run back or goes on where it stopped.

    Raises:
        Interrupted: ``should_stop`` returned True while waiting.
    """

    def waiting() -> None:
        done = store.count(key)
        if progress:
            progress(done, total)
        if should_stop is not None and should_stop():
            raise Interrupted(
                f"stopped while another session predicted {done} of {total} images"
            )

    with CLAIMS.holding(claim_key(store, key), WAIT_POLL_SECONDS, waiting):
        with store.holding_run(key, WAIT_POLL_SECONDS, waiting):
            yield


def _run(
    store: PredictionStore,
    key: str,
    kind: str,
    meta: dict,
    dataset: Dataset,
    predict: Callable[[list[np.ndarray]], list],
    put: Callable[[int, object], None],
    batch_size: int,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
    corruption: Corruption | None = None,
) -> float:
    """Predict the images not yet stored, committing each batch.

    One run of a key at a time in this process: a second caller (another browser
    session) waits, reporting the first one's progress, and then finds the run complete.

    Returns the model's own seconds on the timed images (every batch after the first).
    """
    with claimed_run(store, key, len(dataset), progress, should_stop):
        store.begin(key, kind, meta, len(dataset))
        if store.is_complete(key):
            return 0.0
        if "class_names" in meta and "class_names" not in (store.meta(key) or {}):
            # Begun by an engine that learns the names from its first batch (Ray), and
            # stopped before it: record them now.
            store.update_meta(key, class_names=meta["class_names"])
        done = store.done_ids(key)
        todo = [s for s in dataset.samples if s.image_id not in done]
        total, finished = len(dataset), len(done)
        if progress:
            progress(finished, total)
        batches = list(_batches(todo, batch_size))
        seconds, timed = 0.0, 0
        # Decode the next batch while the model works on this one.
        with ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="visioncompare-decode"
        ) as pool:
            pending = pool.submit(_load, batches[0], corruption) if batches else None
            for n, batch in enumerate(batches):
                images = pending.result()
                pending = (
                    pool.submit(_load, batches[n + 1], corruption)
                    if n + 1 < len(batches)
                    else None
                )
                predictions = predict(images)
                for sample, prediction in zip(batch, predictions):
                    put(sample.image_id, prediction)
                if not (n == 0 and len(batches) > 1):
                    # The first call warms the model up (graph compilation, caches): the time
                    # per image is measured on the batches after it.
                    seconds += _model_seconds(predictions)
                    timed += len(batch)
                finished += len(batch)
                if progress:
                    progress(finished, total)
                if should_stop is not None and should_stop() and finished < total:
                    raise Interrupted(f"stopped after {finished} of {total} images")
        recorded = store.meta(key) or {}
        store.update_meta(
            key,
            model_seconds=recorded.get("model_seconds", 0.0) + seconds,
            timed_images=recorded.get("timed_images", 0) + timed,
        )
        store.mark_complete(key)
        return seconds


@dataclass(frozen=True, eq=False)
class StoredRun:
    """What an evaluation run produced or read back."""

    key: str
    meta: dict
    seconds: float
    """Model time spent in this call (0 when everything was already stored)."""


def stored_detections(
    store: PredictionStore, key: str
) -> tuple[dict[int, Detections], StoredRun] | None:
    """A finished detection run read back from the store (None: not stored)."""
    if not store.is_complete(key):
        return None
    meta = store.meta(key) or {}
    return store.get_detections(key, tuple(meta["class_names"])), StoredRun(
        key, meta, 0.0
    )


def stored_probabilities(
    store: PredictionStore, key: str
) -> tuple[dict[int, np.ndarray], StoredRun] | None:
    """A finished classification run read back from the store (None: not stored)."""
    if not store.is_complete(key):
        return None
    return store.get_probabilities(key), StoredRun(key, store.meta(key) or {}, 0.0)


def predict_detections(
    detector,
    dataset: Dataset,
    store: PredictionStore,
    model_id: dict,
    settings: DetectSettings = DetectSettings(),
    batch_size: int = 1,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    record: dict | None = None,
    corruption: Corruption | None = None,
) -> tuple[dict[int, Detections], StoredRun]:
    """Detections for every image, from the store or by running the detector.

    Args:
        detector: has ``predict(images, conf=, iou=, max_det=)`` and ``class_names``.
        dataset: the images.
        store: where predictions live.
        model_id: what identifies the weights (name and weights SHA-256); part of the key.
        settings: inference settings (part of the key).
        batch_size: images per ``predict`` call.
        progress: progress callback.
        should_stop: polled after each batch; True stops with ``Interrupted``.
        record: recorded with the run but not part of its key (library versions, device).
        corruption: corrupt each image first (a run of its own key); None: clean.
    """
    key = detection_key(model_id, dataset, settings, corruption)
    meta = {"model": model_id, "dataset": dataset.name, "settings": asdict(settings),
            "class_names": list(detector.class_names), **corruption_part(corruption),
            **(record or {})}  # fmt: skip

    def predict(images: list[np.ndarray]) -> list:
        return detector.predict(images, **asdict(settings))

    def put(image_id: int, prediction) -> None:
        store.put_detections(key, image_id, prediction.detections)

    seconds = _run(store, key, "detect", meta, dataset, predict, put, batch_size,
                   progress, should_stop, corruption)  # fmt: skip
    detections, run = stored_detections(store, key)
    return detections, replace(run, seconds=seconds)


def predict_probabilities(
    classifier,
    dataset: Dataset,
    store: PredictionStore,
    model_id: dict,
    batch_size: int = 1,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    record: dict | None = None,
    corruption: Corruption | None = None,
) -> tuple[dict[int, np.ndarray], StoredRun]:
    """The classifier's full softmax for every image, from the store or by running it
    (on each image corrupted first, when a ``corruption`` is given)."""
    key = classification_key(model_id, dataset, corruption)
    meta = {"model": model_id, "dataset": dataset.name,
            "class_names": list(classifier.class_names), **corruption_part(corruption),
            **(record or {})}  # fmt: skip

    def predict(images: list[np.ndarray]) -> list:
        return classifier.predict(images)

    def put(image_id: int, prediction) -> None:
        store.put_probabilities(key, image_id, prediction.classification.scores)

    seconds = _run(store, key, "classify", meta, dataset, predict, put, batch_size,
                   progress, should_stop, corruption)  # fmt: skip
    probabilities, run = stored_probabilities(store, key)
    return probabilities, replace(run, seconds=seconds)
