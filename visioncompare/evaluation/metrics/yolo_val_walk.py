"""The walk from the number ``yolo val`` prints to the pycocotools number on this app's
predictions, one named change at a time.

Two things separate them: the predictions (``yolo val`` makes its own) and the metric
recipe (Ultralytics' matching and ``ap_per_class`` against COCO's). Four rows, each
changing one of the two from a named earlier row:

1. ``yolo val`` as printed: its predictions, its recipe;
2. its predictions (its ``predictions.json``), scored by pycocotools: from 1, the recipe;
3. this app's predictions, Ultralytics' recipe (``ultralytics_recipe``): from 1, the
   predictions;
4. this app's predictions, pycocotools (the report's COCO numbers): from 3, the recipe;
   from 2, the predictions.

Nothing here runs a model: ``visioncompare.services.yolo_val`` runs ``yolo val`` and
hands its numbers and predictions in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.datasets.yolo_writer import copy_names
from visioncompare.evaluation.metrics.ultralytics_recipe import (
    ultralytics_ap,
    ultralytics_inputs,
)
from visioncompare.kernel.types import Detections

WALK_COLUMNS = ("step", "predictions", "scored by", "mAP50", "mAP50-95", "what changed")
"""The walk's columns, in order."""


@dataclass(frozen=True)
class Scores:
    """One row's two numbers.

    Attributes:
        map50: mAP at IoU 0.50.
        map50_95: mAP averaged over IoU 0.50:0.05:0.95.
    """

    map50: float
    map50_95: float


def val_results(
    predictions: Sequence[Mapping],
    names: Sequence[str],
    dataset: Dataset,
) -> tuple[list[dict], int]:
    """``yolo val``'s ``predictions.json`` entries as a COCO results file of ``dataset``
    (pycocotools' ``loadRes`` reads it): each entry's ``file_name`` (an image of the YOLO
    copy, ``copy_names``) gives the dataset's ``image_id``, and its ``category_id`` (the
    model's class index + 1) the dataset's category of that class name.

    Args:
        predictions: the entries, as Ultralytics writes them.
        names: the model's class names, by index.
        dataset: the dataset the YOLO copy was written from.

    Returns:
        (the results, entries left out: an image not in the copy, or a class the dataset
        does not annotate, which pycocotools would never score).
    """
    image_of = dict(
        zip(copy_names(dataset), (s.image_id for s in dataset.samples), strict=True)
    )
    category_of = dict(zip(dataset.class_names, dataset.category_ids, strict=True))
    results, left_out = [], 0
    for entry in predictions:
        image_id = image_of.get(str(entry.get("file_name")))
        category = category_of.get(names[int(entry["category_id"]) - 1])
        if image_id is None or category is None:
            left_out += 1
            continue
        results.append({
            "image_id": image_id,
            "category_id": category,
            "bbox": list(entry["bbox"]),
            "score": entry["score"],
        })  # fmt: skip
    return results, left_out


def ultralytics_scores(
    dataset: Dataset, aligned: Mapping[int, Detections], max_det: int = 300
) -> Scores:
    """Ultralytics' recipe on predictions aligned to ``dataset`` (the "why mAP
    differs" table's Ultralytics rows): mAP50 and mAP50-95 over the classes with
    objects, -1 when there is none."""
    ap, _ = ultralytics_ap(ultralytics_inputs(dataset, aligned, max_det=max_det))
    if not len(ap):
        return Scores(-1.0, -1.0)
    return Scores(float(ap[:, 0].mean()), float(ap.mean()))


def _settings_text(settings: Mapping) -> str:
    imgsz = settings.get("imgsz")
    if isinstance(imgsz, (list, tuple)):
        imgsz = "x".join(str(v) for v in imgsz)
    return (
        f"imgsz {imgsz}, batch {settings.get('batch')}, rect {settings.get('rect')}, "
        f"multi-label NMS at conf {settings.get('conf')} and IoU {settings.get('iou')}, "
        f"at most {settings.get('max_det')} boxes per image"
    )


def yolo_val_walk(
    printed: Scores,
    val_coco: Scores,
    ours_ultralytics: Scores,
    ours_coco: Scores,
    settings: Mapping,
    version: str,
    ours: Mapping,
) -> pd.DataFrame:
    """The four rows of the walk (see the module's docstring).

    Args:
        printed: what ``yolo val`` printed (its "all" row).
        val_coco: its saved predictions scored by pycocotools on the dataset.
        ours_ultralytics: this app's predictions, Ultralytics' recipe.
        ours_coco: this app's predictions, pycocotools (the report's AP50 and AP).
        settings: the validator's arguments (``imgsz``, ``batch``, ``rect``, ``conf``,
            ``iou``, ``max_det``).
        version: the Ultralytics version that ran.
        ours: this app's detector settings (``conf``, ``iou``, ``max_det``).

    Returns:
        One row per step, columns ``WALK_COLUMNS``; the last row is the report's number.
    """
    theirs = f"yolo val's (Ultralytics {version}: {_settings_text(settings)})"
    ours = (
        f"this app's stored run (Ultralytics' predict: single-label NMS at conf "
        f"{ours.get('conf')} and IoU {ours.get('iou')}, at most {ours.get('max_det')} "
        "boxes per image)"
    )
    ultralytics = (
        "Ultralytics' matching and ap_per_class (np.interp at 101 recall points, "
        "trapezoid rule; crowd regions and difficult objects are not in its labels)"
    )
    coco = (
        "pycocotools (101-point step interpolation, crowd regions ignored, at most "
        "100 boxes per image)"
    )
    rows = [
        ("1. yolo val as printed", theirs, f"its own validator: {ultralytics}",
         printed, "The start: the mAP50 and mAP50-95 of the 'all' row yolo val prints."),
        ("2. its predictions, pycocotools", "yolo val's, read from its predictions.json",
         coco, val_coco,
         "From 1, the metric recipe only: the same boxes scored by pycocotools (the "
         "JSON rounds boxes to 3 decimals and scores to 5)."),
        ("3. this app's predictions, Ultralytics' recipe", ours, ultralytics,
         ours_ultralytics,
         "From 1, the predictions only: this app's run instead of yolo val's. Val's "
         "NMS is multi-label (a box is kept once for every class scoring above conf), "
         "predict keeps one class per box; val decodes images with OpenCV and rounds "
         "the resized side up, predict gets Pillow's pixels here and rounds it to the "
         "nearest pixel."),
        ("4. this app's predictions, pycocotools", ours, coco, ours_coco,
         "From 3, the metric recipe only (from 2, the predictions only): the "
         "report's COCO AP50 and AP."),
    ]  # fmt: skip
    frame = pd.DataFrame(
        [(step, who, how, s.map50, s.map50_95, why) for step, who, how, s, why in rows],
        columns=list(WALK_COLUMNS),
    )
    frame[["mAP50", "mAP50-95"]] = frame[["mAP50", "mAP50-95"]].astype(np.float64)
    return frame


def walk_as_recipes(walk: pd.DataFrame) -> pd.DataFrame:
    """The walk in the "why mAP differs" table's columns (``recipe``, ``value``,
    ``tools``, ``cause``): two rows per step, its mAP50 then its mAP50-95, for
    ``why_differs.csv``."""
    rows = [
        (f"yolo val walk {row['step']}: {metric}", row[metric],
         f"predictions: {row['predictions']}; scored by: {row['scored by']}",
         row["what changed"])
        for _, row in walk.iterrows()
        for metric in ("mAP50", "mAP50-95")
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["recipe", "value", "tools", "cause"])
    frame["value"] = frame["value"].astype(np.float64)
    return frame
