"""The metrics report: dataset -> stored predictions -> one evaluation -> every view.

The Evaluate page and ``python -m visioncompare evaluate`` both call ``run_evaluation``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from visioncompare.datasets import Dataset, DatasetError
from visioncompare.datasets.registry import BUNDLED, load_bundled, load_folder
from visioncompare.evaluation.metrics.align import (
    Aligned,
    align_predictions,
    class_table,
)
from visioncompare.evaluation.metrics.coco import CocoResult, coco_result, coco_results
from visioncompare.evaluation.metrics.cocoeval import EvalParams, Evaluation, evaluate
from visioncompare.evaluation.metrics.disagreement import why_map_differs
from visioncompare.evaluation.metrics.error_types import ErrorAnalysis, analyse_errors
from visioncompare.evaluation.metrics.explorer import Explorer
from visioncompare.evaluation.metrics.matching import Summary
from visioncompare.evaluation.metrics.per_image import per_image_scores
from visioncompare.evaluation.metrics.tagging import TaggingResult, evaluate_tagging
from visioncompare.evaluation.metrics.voc import VocResult, evaluate_voc
from visioncompare.evaluation.prediction_runs import (
    DetectSettings,
    Progress,
    StoredRun,
    classification_key,
    detection_key,
    load_coco_results,
    predict_detections,
    predict_probabilities,
    stored_detections,
    stored_probabilities,
)
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.paths import default_runs_dir
from visioncompare.kernel.types import Detections
from visioncompare.services import ray_engine
from visioncompare.services.ray_engine import RayOptions

log = logging.getLogger(__name__)


def runs_dir() -> Path:
    """Where stored predictions and reports go: ``$VISIONCOMPARE_RUNS`` or ``runs/``
    (the checkout's, or the working directory's when installed)."""
    default = default_runs_dir()
    return Path(os.environ.get("VISIONCOMPARE_RUNS", default))


def default_store(runs: Path | None = None) -> PredictionStore:
    """The predictions store: ``$VISIONCOMPARE_STORE_URL`` (``postgresql://...`` for one
    shared by replicas and Ray drivers) or ``<runs>/predictions.sqlite``."""
    url = os.environ.get("VISIONCOMPARE_STORE_URL")
    return PredictionStore(url or (runs or runs_dir()) / "predictions.sqlite")


def open_dataset(name_or_path: str, within: str | None = None) -> Dataset:
    """A bundled subset by name, or a dataset folder or file by path (its COCO images
    looked for only inside ``within``, when given: see ``load_folder``)."""
    if name_or_path in BUNDLED:
        return load_bundled(name_or_path)
    if not Path(name_or_path).expanduser().exists():
        raise DatasetError(
            f"unknown dataset {name_or_path!r}: not a bundled dataset "
            f"({', '.join(BUNDLED)}) and no such file or folder"
        )
    return load_folder(name_or_path, within=within)


def library_versions() -> dict[str, str]:
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


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Everything one evaluation computed; the CLI, the page and every tab read it.

    Predictions are aligned to the dataset's classes once, evaluated once with one
    ``EvalParams`` (every threshold), and each view is read from that evaluation.
    """

    dataset: Dataset
    source: str
    """The detector's registry name, or the predictions file."""
    detections: dict[int, Detections]
    aligned: Aligned
    params: EvalParams
    evaluation: Evaluation
    coco: CocoResult
    voc: VocResult
    explorer: Explorer
    detector_run: StoredRun | None = None
    tagging: TaggingResult | None = None
    classifier: str | None = None
    classifier_run: StoredRun | None = None
    device: str = "cpu"
    skipped: dict[str, int] = field(default_factory=dict)
    """Entries of a predictions file left out (category not in the dataset, ...)."""
    extras: dict = field(default_factory=dict)

    @property
    def class_table(self) -> pd.DataFrame:
        """The detector's classes matched, renamed and unmatched against the dataset's
        (``visioncompare.evaluation.metrics.align.class_table``); a predictions file
        names the dataset's."""
        names = (
            self.detector_run.meta.get("class_names", self.dataset.class_names)
            if self.detector_run is not None
            else self.dataset.class_names
        )
        return class_table(tuple(names), self.dataset)

    @property
    def conf(self) -> float:
        return self.params.conf

    @property
    def iou(self) -> float:
        return self.params.iou

    @property
    def dropped(self) -> dict[str, int]:
        """Boxes left out per class the dataset does not annotate."""
        return {**self.aligned.dropped, **self.skipped}

    @property
    def summary(self) -> Summary:
        """TP / FP / FN, precision, recall, F1 at the report's operating point."""
        return self.explorer.summary(self.params.conf, self.params.iou)

    @cached_property
    def disagreement(self) -> pd.DataFrame:
        """The "why mAP differs" rows, read from this evaluation."""
        return why_map_differs(
            self.dataset, self.aligned.predictions, self.evaluation, self.voc
        )

    @cached_property
    def errors(self) -> ErrorAnalysis:
        """TIDE error types and their dAP at IoU 0.5
        (``visioncompare.evaluation.metrics.error_types``)."""
        return analyse_errors(self.evaluation, self.dataset.class_names)

    def per_image(
        self,
        conf: float | None = None,
        iou: float | None = None,
        class_name: str | None = None,
        area: str = "all",
    ) -> pd.DataFrame:
        """Per-image TP / FP / FN, F1 at ``conf`` and AP at ``iou`` (default: the report's
        operating point), with the image's file name
        (``visioncompare.evaluation.metrics.per_image``)."""
        frame = per_image_scores(
            self.evaluation,
            self.params.conf if conf is None else conf,
            self.params.iou if iou is None else iou,
            None if class_name is None else self.dataset.class_names.index(class_name),
            area,
        )
        names = {s.image_id: s.name for s in self.dataset.samples}
        frame.insert(1, "image", [names[i] for i in frame["image_id"]])
        return frame

    @property
    def ms_per_image(self) -> float | None:
        run = self.detector_run
        if run is None or not run.meta.get("timed_images"):
            return None
        return 1000.0 * run.meta["model_seconds"] / run.meta["timed_images"]

    def metrics_dict(self) -> dict:
        """The JSON-ready summary written to metrics.json."""
        out = {
            "dataset": self.dataset.name,
            **({"scored_as": self.dataset.scored_as} if self.dataset.scored_as else {}),
            "notes": list(self.dataset.notes),
            "images": len(self.dataset),
            "boxes": self.dataset.num_boxes,
            "source": self.source,
            "coco": self.coco.stats,
            "voc": {
                "mAP_11pt": self.voc.map_11pt,
                "mAP_all": self.voc.map_all,
                "iou": self.params.voc_iou,
                "pixel_convention": self.voc.convention,
            },
            "at_threshold": {
                "conf": self.conf,
                "iou": self.iou,
                **asdict(self.summary),
            },
            "classes_renamed": self.dataset.renamed,
            "predictions_dropped_by_class": self.dropped,
            "device": self.device,
            "ms_per_image": self.ms_per_image,
            "why_map_differs": self.disagreement.to_dict(orient="records"),
        }
        if self.detector_run is not None:
            out["detector_run"] = {
                "key": self.detector_run.key,
                **self.detector_run.meta,
            }
            out["detector_run"].pop("class_names", None)
        if self.tagging is not None:
            out["classifier"] = {
                "name": self.classifier,
                "tagging_mAP": self.tagging.classifier_map,
                "detector_tagging_mAP": self.tagging.detector_map,
                "top_k": self.tagging.k,
                "coverage": self.tagging.coverage,
                "unnameable_classes": list(self.tagging.unnameable),
            }
        return out

    def per_class_frame(self):
        frame = self.coco.per_class.merge(
            self.voc.per_class[["class", "AP_11pt", "AP_all"]], on="class", how="left"
        )
        return frame.rename(columns={"AP_11pt": "VOC_AP_11pt", "AP_all": "VOC_AP_all"})

    def coco_results(self) -> list[dict]:
        """The evaluated predictions as a COCO results list; it re-scores (pycocotools)
        to exactly ``coco.stats``."""
        return coco_results(self.aligned.predictions, self.dataset)

    def write(self, out_dir: Path) -> dict[str, Path]:
        """COCO results JSON, metrics JSON, per-class, error-type, per-image and "why mAP
        differs" CSVs into ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {
            "results": out_dir / "coco_results.json",
            "metrics": out_dir / "metrics.json",
            "per_class": out_dir / "per_class.csv",
        }
        paths["results"].write_text(json.dumps(self.coco_results()))
        paths["metrics"].write_text(
            json.dumps(self.metrics_dict(), indent=2, default=_json)
        )
        self.per_class_frame().to_csv(paths["per_class"], index=False)
        paths["error_types"] = out_dir / "error_types.csv"
        self.errors.table().to_csv(paths["error_types"], index=False)
        paths["per_image"] = out_dir / "per_image.csv"
        self.per_image().to_csv(paths["per_image"], index=False)
        paths["why_differs"] = out_dir / "why_differs.csv"
        self.disagreement.to_csv(paths["why_differs"], index=False)
        if self.tagging is not None:
            paths["tagging"] = out_dir / "classifier_tagging.csv"
            self.tagging.per_class.to_csv(paths["tagging"], index=False)
        return paths


def _json(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


def evaluate_predictions(
    dataset: Dataset,
    detections: dict[int, Detections],
    source: str,
    params: EvalParams | None = None,
    aligned: Aligned | None = None,
    **extra,
) -> EvaluationReport:
    """Every detection metric from stored predictions (no model involved): aligned once,
    evaluated once, every view read from that evaluation."""
    params = params or EvalParams()
    aligned = aligned or align_predictions(detections, dataset)
    evaluation = evaluate(dataset, aligned.predictions, params)
    explorer = Explorer(evaluation, dataset.class_names)
    explorer.warm()
    return EvaluationReport(
        dataset=dataset,
        source=source,
        detections=detections,
        aligned=aligned,
        params=params,
        evaluation=evaluation,
        coco=coco_result(evaluation, dataset),
        voc=evaluate_voc(dataset, aligned.predictions, params.voc_iou),
        explorer=explorer,
        **extra,
    )


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
    engine: str = "local",
    ray_options: RayOptions | None = None,
) -> EvaluationReport:
    """Evaluate a detector (or a predictions file) and optionally a classifier.

    Args:
        dataset: the held-out images.
        detector: a model-zoo name; or ``predictions``: a COCO results file.
        classifier: a model-zoo name to score as an image-level tagger (optional).
        device: ``auto`` or a device name.
        store: the predictions store (default ``default_store()``).
        params: every threshold (default ``EvalParams()``: conf 0.25, IoU 0.5).
        progress: (model name, images done, images in total) callback.
        should_stop: polled between batches; True stops with
        ``visioncompare.evaluation.prediction_runs.Interrupted``. get_model: model name
        -> loaded model (the page passes its cached loader); called
            only when predictions are not already stored.
        engine: ``local`` (this process) or ``ray`` (a Ray Data actor pool; the same
            store keys, so either engine reads what the other stored).
        ray_options: the Ray cluster address and pool shape (``engine="ray"``).

    Raises:
        KeyError (unknown model), WeightsNotFoundError, ValueError (bad predictions file),
        visioncompare.services.ray_engine.RayUnavailable (``engine="ray"`` without Ray).
    """
    if (detector is None) == (predictions is None):
        raise ValueError("give exactly one of a detector or a predictions file")
    if engine not in ("local", "ray"):
        raise ValueError(f"unknown engine {engine!r}: local or ray")
    if engine == "ray":
        ray_options = ray_options or RayOptions()
        device = ray_options.device  # the actors' device names the stored run
    store = store or default_store()
    versions = library_versions()
    get_model = get_model or (lambda name: _load(name, device))
    settings = DetectSettings()
    run = None
    used_device = "cpu"
    params = params or EvalParams()
    skipped: dict[str, int] = {}
    if predictions is not None:
        detections, skipped = load_coco_results(predictions, dataset)
        source = str(predictions)
    else:
        identity = model_identity(detector, device)
        hit = identity and stored_detections(
            store, detection_key(identity, dataset, settings)
        )
        if hit:
            detections, run = hit
        elif engine == "ray":
            identity = _ray_identity(detector, identity, get_model, device)
            detections, run = ray_engine.predict_detections_on_ray(
                detector, dataset, store, identity, settings, ray_options,
                _stage(progress, detector), should_stop,
                record={"versions": versions, "device": device},
            )  # fmt: skip
        else:
            model = get_model(detector)
            detections, run = predict_detections(
                model, dataset, store, _model_id(model), settings,
                batch_size=_batch(model.device), progress=_stage(progress, detector),
                should_stop=should_stop, record={"versions": versions, "device": model.device},
            )  # fmt: skip
        source, used_device = detector, run.meta.get("device", "cpu")
    aligned = align_predictions(detections, dataset)  # once, for every metric
    tagging = classifier_run = None
    if classifier is not None:
        identity = model_identity(classifier, device)
        hit = identity and stored_probabilities(
            store, classification_key(identity, dataset)
        )
        if hit:
            probabilities, classifier_run = hit
        elif engine == "ray":
            identity = _ray_identity(classifier, identity, get_model, device)
            probabilities, classifier_run = ray_engine.predict_probabilities_on_ray(
                classifier, dataset, store, identity, ray_options,
                _stage(progress, classifier), should_stop,
                record={"versions": versions, "device": device},
            )  # fmt: skip
        else:
            model = get_model(classifier)
            probabilities, classifier_run = predict_probabilities(
                model, dataset, store, _model_id(model), batch_size=_batch(model.device),
                progress=_stage(progress, classifier), should_stop=should_stop,
                record={"versions": versions, "device": model.device},
            )  # fmt: skip
        tagging = evaluate_tagging(
            dataset, probabilities, tuple(classifier_run.meta["class_names"]),
            aligned.predictions, conf=params.conf,
        )  # fmt: skip
    return evaluate_predictions(
        dataset, detections, source, params, aligned, detector_run=run, tagging=tagging,
        classifier=classifier, classifier_run=classifier_run, device=used_device,
        skipped=skipped,
    )  # fmt: skip


def _ray_identity(name: str, identity: dict | None, get_model, device: str) -> dict:
    """The store key's model identity for a Ray run: the driver names the run from the
    weights on this machine (downloaded once by loading the model here if missing); the
    actors load the same files."""
    if identity is None:
        get_model(name)  # downloads the weights, or raises WeightsNotFoundError offline
        identity = model_identity(name, device)
    return identity


def _stage(
    progress: Callable[[str, int, int], None] | None, name: str
) -> Progress | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _load(name: str, device: str):
    from model_zoo import get_spec, load_model
    from model_zoo.device import device_for

    spec = get_spec(name)
    return load_model(name, device_for(device, spec.devices)[0])


def _batch(device: str) -> int:
    from model_zoo.device import batch_size

    return batch_size(device)


def _model_id(model) -> dict:
    from model_zoo.identity import loaded_identity

    return loaded_identity(model)


def model_identity(name: str, device: str = "auto") -> dict | None:
    """What identifies a model's stored predictions, without loading it (None: its weights
    are not on this machine). Equal to ``_model_id`` of the model loaded on ``device``."""
    from model_zoo.identity import identity_on_disk

    return identity_on_disk(name, device)


def is_stored(
    dataset: Dataset,
    detector: str | None,
    classifier: str | None,
    store: PredictionStore | None = None,
    device: str = "auto",
) -> bool:
    """True when every prediction these models would make on the dataset is stored."""
    store = store or default_store()
    keys = []
    if detector is not None:
        identity = model_identity(detector, device)
        if identity is None:
            return False
        keys.append(detection_key(identity, dataset, DetectSettings()))
    if classifier is not None:
        identity = model_identity(classifier, device)
        if identity is None:
            return False
        keys.append(classification_key(identity, dataset))
    return all(store.is_complete(k) for k in keys)
