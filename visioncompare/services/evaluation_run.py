"""One evaluation flow, for the page and the command line: open the dataset, fill the
store through an engine (or read a predictions file), then compute the report from what
was stored.

The flow knows engines only through ``engines.Engine``; the report
(``visioncompare.services.report``) knows neither engines nor the store.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

import numpy as np

from visioncompare.datasets import Dataset, DatasetError
from visioncompare.datasets.registry import BUNDLED, load_bundled, load_folder
from visioncompare.datasets.roots import require_inside
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.cocoeval import EvalParams
from visioncompare.evaluation.metrics.tagging import TaggingResult, evaluate_tagging
from visioncompare.evaluation.prediction_runs import (
    DetectSettings,
    Progress,
    StoredRun,
    classification_key,
    detection_key,
    stored_detections,
    stored_probabilities,
)
from visioncompare.evaluation.results_file import load_coco_results
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.paths import default_runs_dir
from visioncompare.kernel.types import Detections
from visioncompare.robustness.corruptions import Corruption
from visioncompare.services.engines import Engine, RayOptions, RunRequest, make_engine
from visioncompare.services.report import EvaluationReport, evaluate_predictions


def runs_dir() -> Path:
    """Where stored predictions and reports go: ``$VISIONCOMPARE_RUNS`` or ``runs/``
    (the checkout's, or the working directory's when installed)."""
    return Path(os.environ.get("VISIONCOMPARE_RUNS", default_runs_dir()))


def default_store(runs: Path | None = None) -> PredictionStore:
    """The predictions store: ``$VISIONCOMPARE_STORE_URL`` (``postgresql://...`` for one
    shared by replicas and Ray drivers) or ``<runs>/predictions.sqlite``."""
    url = os.environ.get("VISIONCOMPARE_STORE_URL")
    return PredictionStore(url or (runs or runs_dir()) / "predictions.sqlite")


def open_dataset(name_or_path: str, within: str | None = None) -> Dataset:
    """A bundled subset by name, or a dataset folder or file by path. With ``within``
    (an upload's or a data root's folder), its COCO images are looked for only inside it
    (see ``load_folder``), and a dataset naming an image outside it is refused.

    Raises:
        DatasetError: no such dataset, a file's own mistake, or an image outside
            ``within`` (``visioncompare.datasets.roots.require_inside``).
    """
    if name_or_path in BUNDLED:
        dataset = load_bundled(name_or_path)
    elif not Path(name_or_path).expanduser().exists():
        raise DatasetError(
            f"unknown dataset {name_or_path!r}: not a bundled dataset "
            f"({', '.join(BUNDLED)}) and no such file or folder"
        )
    else:
        dataset = load_folder(name_or_path, within=within)
    if within is not None:
        require_inside(dataset, Path(within))
    return dataset


def library_versions() -> dict[str, str]:
    """The versions that can change a prediction, stored with every run."""
    versions = {"python": platform.python_version()}
    for package in (
        "torch",
        "torchvision",
        "ultralytics",
        "openvino",
        "faster-coco-eval",
        "numpy",
    ):
        # The headless build of Ultralytics is the same module under another name.
        for distribution in (package, f"{package}-opencv-headless"):
            try:
                versions[package] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                pass
    return versions


def model_identity(name: str, device: str = "auto") -> dict | None:
    """What identifies a model's stored predictions, without loading it (None: its weights
    are not on this machine); equal to the identity of the model loaded on ``device``."""
    from model_zoo.identity import identity_on_disk

    return identity_on_disk(name, device)


def run_evaluation(
    dataset: Dataset,
    detector: str | None = None,
    predictions: str | None = None,
    classifier: str | None = None,
    device: str = "auto",
    store: PredictionStore | None = None,
    params: EvalParams | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    get_model: Callable[[str], object] | None = None,
    engine: str | Engine = "local",
    ray_options: RayOptions | None = None,
    corruption: Corruption | None = None,
    warm: bool = True,
) -> EvaluationReport:
    """Evaluate a detector (or a predictions file) and optionally a classifier.

    Args:
        dataset: the held-out images.
        detector: a model-zoo name; or ``predictions``: a COCO results file.
        classifier: a model-zoo name to score as an image-level tagger (optional).
        device: ``auto`` or a device name (the local engine's).
        store: the predictions store (default ``default_store()``).
        params: every threshold (default ``EvalParams()``: conf 0.25, IoU 0.5).
        progress: (model name, images done, images in total) callback.
        should_stop: polled between batches; True stops with
            ``visioncompare.evaluation.prediction_runs.Interrupted``.
        get_model: model name -> loaded model (the page passes its cached loader); called
            only when predictions are not already stored.
        engine: an ``Engine``, or its name (``local``: this process; ``ray``: a Ray Data
            actor pool). Both store under the same keys, so either reads what the
            other stored.
        ray_options: the Ray cluster address and pool shape (``engine="ray"``).
        corruption: the models see each image corrupted
            (``visioncompare.robustness``; stored under its own key); None: clean.
        warm: compute the explorer's threshold lookups with the report (the page), or
            on first use (False: the command line, which reads one threshold).

    Raises:
        KeyError (unknown model), WeightsNotFoundError, ValueError (bad predictions file
        or engine name), ``engines.ray.RayUnavailable`` (the Ray engine without Ray).
    """
    if (detector is None) == (predictions is None):
        raise ValueError("give exactly one of a detector or a predictions file")
    if isinstance(engine, str):
        engine = make_engine(engine, device, get_model, ray_options)
    store = store or default_store()
    record = {"versions": library_versions()}
    params = params or EvalParams()
    run, used_device, skipped = None, "cpu", {}
    if predictions is not None:
        detections, skipped = load_coco_results(predictions, dataset)
        source = str(predictions)
    else:
        request = RunRequest(detector, dataset, store, _stage(progress, detector),
                             should_stop, record, corruption)  # fmt: skip
        detections, run = stored_or_predicted_detections(engine, request)
        source, used_device = detector, run.meta.get("device", "cpu")
    aligned = align_predictions(detections, dataset)  # once, for every metric
    tagging = classifier_run = None
    if classifier is not None:
        request = RunRequest(classifier, dataset, store, _stage(progress, classifier),
                             should_stop, record, corruption)  # fmt: skip
        tagging, classifier_run = stored_tagging(
            engine, request, aligned.predictions, params.conf
        )
    return evaluate_predictions(
        dataset, detections, source, params, aligned, detector_run=run, tagging=tagging,
        classifier=classifier, classifier_run=classifier_run, device=used_device,
        skipped=skipped, extras={"corruption": corruption} if corruption else {},
        warm=warm,
    )  # fmt: skip


def stored_or_predicted_detections(
    engine: Engine, request: RunRequest
) -> tuple[dict[int, Detections], StoredRun]:
    """The detector's stored run on the dataset (each image corrupted first, when the
    request names a corruption), read back when complete (no model loaded), else made
    by ``engine``."""
    settings = DetectSettings()
    identity = model_identity(request.model, engine.device)
    key = identity and detection_key(
        identity, request.dataset, settings, request.corruption
    )
    return (key and stored_detections(request.store, key)) or engine.detections(
        request, settings
    )


def stored_or_predicted_probabilities(
    engine: Engine, request: RunRequest
) -> tuple[dict[int, np.ndarray], StoredRun]:
    """The classifier's stored run on the dataset, read back when complete, else made
    by ``engine``."""
    identity = model_identity(request.model, engine.device)
    key = identity and classification_key(
        identity, request.dataset, request.corruption
    )
    return (key and stored_probabilities(request.store, key)) or engine.probabilities(
        request
    )


def stored_tagging(
    engine: Engine,
    request: RunRequest,
    detections: Mapping[int, Detections] | None,
    conf: float,
) -> tuple[TaggingResult, StoredRun]:
    """The classifier's tagging result on ``request.dataset`` from its stored run
    (``stored_or_predicted_probabilities``), beside ``detections``' image-level mAP at
    confidence ``conf`` (None: the classifier alone); and that run."""
    probabilities, run = stored_or_predicted_probabilities(engine, request)
    tagging = evaluate_tagging(
        request.dataset, probabilities, tuple(run.meta["class_names"]), detections,
        conf=conf,
    )  # fmt: skip
    return tagging, run


def _stage(
    progress: Callable[[str, int, int], None] | None, name: str
) -> Progress | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def is_stored(
    dataset: Dataset,
    detector: str | None,
    classifier: str | None,
    store: PredictionStore | None = None,
    device: str = "auto",
    corruption: Corruption | None = None,
) -> bool:
    """True when every prediction these models would make on the dataset (corrupted
    by ``corruption``, when given) is stored."""
    store = store or default_store()
    keys = []
    if detector is not None:
        identity = model_identity(detector, device)
        if identity is None:
            return False
        keys.append(detection_key(identity, dataset, DetectSettings(), corruption))
    if classifier is not None:
        identity = model_identity(classifier, device)
        if identity is None:
            return False
        keys.append(classification_key(identity, dataset, corruption))
    return all(store.is_complete(k) for k in keys)
