"""Why mAP numbers differ between tools: one set of predictions, the common recipes.

Every COCO row is read from the one evaluation the report already made (its precision
array at maxDets 100 and 300, and its matches re-accumulated above a confidence cut); the
VOC rows from the report's VOC result; the Ultralytics row matches as Ultralytics'
validator does and integrates as its ``ap_per_class`` does
(``visioncompare.evaluation.metrics.ultralytics_recipe``, re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.cocoeval import Evaluation, _accumulate
from visioncompare.evaluation.metrics.ultralytics_recipe import (  # re-exported
    UltralyticsInputs as UltralyticsInputs,
)
from visioncompare.evaluation.metrics.ultralytics_recipe import (
    ultralytics_ap,
    ultralytics_inputs,
    ultralytics_note,
)
from visioncompare.evaluation.metrics.voc import VocResult
from visioncompare.kernel.types import Detections


def _coco_ap(precision: np.ndarray, t: int | slice, m: int) -> float:
    values = precision[t, :, :, 0, m]
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else -1.0


def why_map_differs(
    dataset: Dataset,
    aligned: Mapping[int, Detections],
    evaluation: Evaluation,
    voc: VocResult,
) -> pd.DataFrame:
    """The same predictions scored the ways popular tools score them.

    Args:
        dataset: the ground truth.
        aligned: the report's aligned predictions.
        evaluation: the report's COCO evaluation (maxDets must include 100 and 300).
        voc: the report's VOC result.

    Returns:
        One row per recipe: ``recipe``, ``value``, ``tools`` (who computes it this way)
        and ``cause`` (one sentence).
    """
    params = evaluation.params
    md = params.max_dets
    m100 = md.index(100)
    m_last = len(md) - 1
    p = evaluation.precision
    cut = params.cut
    # a confidence cut keeps a prefix of every (image, class) ranking, so the matches of
    # the kept detections are unchanged: re-accumulate them, at maxDets 100, area "all"
    kept = evaluation.flat.dt_score.astype(np.float32) >= np.float32(cut)
    sub = replace(params, max_dets=(100,), area_ranges=params.area_ranges[:1])
    cut_precision, _ = _accumulate(
        evaluation.flat, sub, evaluation.dt_rank, evaluation.dt_match[:, :1],
        evaluation.dt_ignore[:, :1], evaluation.gt_ignore[:, :1], kept,
    )  # fmt: skip
    ap, _ = ultralytics_ap(ultralytics_inputs(dataset, aligned, max_det=md[-1]))
    ultra50, ultra = (
        (float(ap[:, 0].mean()), float(ap.mean())) if len(ap) else (-1.0, -1.0)
    )
    voc_note = (
        "inclusive pixels (width = x2 - x1 + 1), as the devkit measures VOC data"
        if voc.convention == "devkit"
        else "continuous pixels (width = x2 - x1)"
    )
    rows = [
        ("COCO AP50 (101-point)", _coco_ap(p, 0, m100),
         "pycocotools, faster-coco-eval, torchmetrics, Detectron2 and MMDetection COCO "
         "evaluators",
         "Interpolated precision sampled at 101 recall points (step, searchsorted), mean "
         "over classes; crowd regions ignored, difficult objects left out; ties ranked "
         "stably; at most 100 boxes per image and class."),
        ("Ultralytics AP50", ultra50,
         "Ultralytics YOLO val (DetectionValidator, ap_per_class): "
         f"{ultralytics_note()} matching and ranking",
         "Linear np.interp of the precision envelope at 101 recall points, integrated "
         "with the trapezoid rule; each box, most confident first, takes the unclaimed "
         "object it overlaps most; tied scores in numpy's default (unstable) sort order, "
         "all classes ranked at once; up to 300 boxes per image; crowd regions are not "
         "in its labels, so boxes on them are false positives."),
        ("VOC AP50 (11-point, VOC2007)", voc.map_11pt,
         "PASCAL VOC2007 devkit, py-faster-rcnn voc_eval(use_07_metric=True), "
         "Detectron2 PascalVOC evaluator (2007)",
         "Only 11 recall points (0, 0.1, ... 1): coarse steps can move AP either way; "
         f"difficult objects ignored, IoU must exceed 0.5; {voc_note}."),
        ("VOC AP50 (all-point, VOC2010+)", voc.map_all,
         "PASCAL VOC2010+ devkit, review_object_detection_metrics (VOC mode)",
         f"Exact area under the interpolated curve at every recall change; {voc_note}."),
        (f"COCO AP50 with a {cut} confidence cut", _coco_ap(cut_precision, 0, 0),
         "demo apps and scripts scoring the boxes they display (Ultralytics predict "
         "defaults to conf 0.25)",
         "Keeping only confident boxes stops the curve early: recall is capped and AP "
         "drops."),
        ("COCO AP50-95, maxDets 100", _coco_ap(p, slice(None), m100),
         "pycocotools and every COCO evaluator by default",
         "The COCO standard: at most 100 boxes per image, averaged over IoU 0.50:0.95."),
        ("Ultralytics mAP50-95", ultra,
         "Ultralytics YOLO val (the mAP50-95 it prints)",
         "Its interpolation and matching (above) averaged over IoU 0.50:0.95."),
        (f"COCO AP50-95, maxDets {md[-1]}", _coco_ap(p, slice(None), m_last),
         "DETR-family evaluations scoring 300 queries; pycocotools with maxDets raised",
         "More low-score boxes per image can add recall in crowded images."),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["recipe", "value", "tools", "cause"])
    frame["value"] = frame["value"].astype(np.float64)
    return frame
