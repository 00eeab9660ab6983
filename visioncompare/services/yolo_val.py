"""``yolo val`` parity, on demand: run Ultralytics' own validator on a YOLO-format copy of
the report's dataset and walk from the number it prints to the report's pycocotools
number (``visioncompare.evaluation.metrics.yolo_val_walk``).

It runs a model, so the page and the command line ask for it (a button, ``--yolo-val``);
``unavailable`` says in words why it cannot run, before anything is loaded.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from visioncompare.datasets import Dataset
from visioncompare.datasets.yolo_writer import write_yolo
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.coco import coco_result
from visioncompare.evaluation.metrics.cocoeval import EvalParams, evaluate
from visioncompare.evaluation.metrics.yolo_val_walk import (
    Scores,
    ultralytics_scores,
    val_results,
    yolo_val_walk,
)
from visioncompare.evaluation.prediction_runs import DetectSettings
from visioncompare.evaluation.results_file import load_coco_results
from visioncompare.evaluation.session_files import images_present


class YoloValUnavailable(ValueError):
    """``yolo val`` cannot run for this report; the message says why, in words."""


def unavailable(dataset: Dataset, detector: str | None) -> str | None:
    """Why ``yolo val`` cannot run on ``dataset`` for ``detector`` (None: it can), without
    loading anything.

    Args:
        dataset: the dataset evaluated.
        detector: the report's model-zoo detector; None for a predictions file.
    """
    from model_zoo import ModelFamily, Task, get_spec

    if detector is None:
        return (
            "yolo val makes its own predictions with an Ultralytics detector; these "
            "come from a predictions file, so there is no model to run."
        )
    try:
        spec = get_spec(detector)
    except KeyError:
        return f"{detector} is not in the model zoo."
    if spec.task != Task.DETECT or spec.family != ModelFamily.ULTRALYTICS:
        return (
            f"{detector} is not an Ultralytics detector: yolo val runs Ultralytics "
            "models only."
        )
    if spec.open_vocabulary:
        return f"{detector} is open-vocabulary: yolo val scores a fixed set of classes."
    present = images_present(dataset)
    if present < len(dataset):
        return (
            f"yolo val needs every image: {len(dataset) - present} of {len(dataset)} "
            "are not on disk (this dataset holds annotations only)."
        )
    return None


def _coco_scores(dataset: Dataset, results: list[dict], folder: Path) -> Scores:
    """A COCO results list scored as pycocotools scores it (AP50 and AP at maxDets
    100), read as any uploaded results file is read; the list is kept as
    ``folder/yolo_val_results.json``."""
    path = folder / "yolo_val_results.json"
    path.write_text(json.dumps(results))
    detections, _ = load_coco_results(str(path), dataset)
    aligned = align_predictions(detections, dataset)
    stats = coco_result(evaluate(dataset, aligned.predictions, EvalParams()), dataset)
    return Scores(float(stats.stats["AP50"]), float(stats.stats["AP"]))


def run_yolo_val(
    report, device: str = "auto", workdir: str | Path | None = None
) -> pd.DataFrame:
    """``yolo val`` on the report's dataset, and the walk from its number to the
    report's.

    Args:
        report: an ``EvaluationReport`` of an Ultralytics detector.
        device: ``"auto"`` or a device name, for the validator.
        workdir: where the YOLO copy (``workdir/dataset/data.yaml``) and the COCO results
            of yolo val's predictions are written and kept; default a temporary folder,
            removed afterwards.

    Returns:
        The walk (``yolo_val_walk``): its first row is the number ``yolo val`` prints,
        its last the report's COCO AP50 and AP.

    Raises:
        YoloValUnavailable: it cannot run (``unavailable``), or the dataset has classes
            the detector does not know (yolo val pairs classes by index).
        WeightsNotFoundError, model_zoo.device.DeviceError: as loading the model.
    """
    from model_zoo.ultralytics_val import validate

    detector = None if report.detector_run is None else report.source
    reason = unavailable(report.dataset, detector)
    if reason is not None:
        raise YoloValUnavailable(reason)
    dataset = report.dataset
    names = tuple(report.detector_run.meta.get("class_names", ()))
    unknown = [n for n in dataset.class_names if n not in names]
    if unknown:
        raise YoloValUnavailable(
            f"yolo val pairs classes by index: {len(unknown)} of the dataset's classes "
            f"are not among {detector}'s ({', '.join(unknown[:8])}"
            f"{', ...' if len(unknown) > 8 else ''})."
        )
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="yolo-val-")
            )
        folder = Path(workdir)
        folder.mkdir(parents=True, exist_ok=True)
        data_yaml = write_yolo(dataset, folder / "dataset", class_names=names)
        val = validate(detector, data_yaml, device)
        if val.names != names:  # the labels index names, the validator its own
            raise YoloValUnavailable(
                f"{detector}'s classes differ from those of its stored run; evaluate "
                "it again before running yolo val."
            )
        results, _ = val_results(val.predictions, val.names, dataset)
        val_coco = _coco_scores(dataset, results, folder)
    stats = report.coco.stats
    return yolo_val_walk(
        printed=Scores(val.map50, val.map50_95),
        val_coco=val_coco,
        ours_ultralytics=ultralytics_scores(dataset, report.aligned.predictions),
        ours_coco=Scores(float(stats["AP50"]), float(stats["AP"])),
        settings=val.settings,
        version=val.version,
        ours=asdict(DetectSettings()),
    )
