"""Why mAP numbers differ between tools: one set of predictions, the common recipes.

Every COCO row is read from the one evaluation the report already made (its precision
array at maxDets 100 and 300, and its matches re-accumulated above a confidence cut); the
VOC rows from the report's VOC result; the Ultralytics row matches as Ultralytics'
validator does and integrates as its ``ap_per_class`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.cocoeval import (
    Evaluation,
    _accumulate,
    group_pairs,
)
from visioncompare.evaluation.metrics.voc import VocResult
from visioncompare.kernel.types import Detections


@dataclass(frozen=True, eq=False)
class UltralyticsInputs:
    """What Ultralytics' validator hands to ``ap_per_class``, for our predictions.

    Attributes:
        tp: (N, 10) bool, true positive at IoU 0.50:0.05:0.95.
        conf: (N,) float32 scores, images in dataset order, each image's boxes best
            first (the order of the validator's ``stats`` lists).
        pred_cls: (N,) class ids.
        target_cls: (M,) class ids of the objects (crowd and difficult left out, as its
            dataset converters do).
    """

    tp: np.ndarray
    conf: np.ndarray
    pred_cls: np.ndarray
    target_cls: np.ndarray


def ultralytics_inputs(
    dataset: Dataset, aligned: Mapping[int, Detections], max_det: int = 300
) -> UltralyticsInputs:
    """Match like ``DetectionValidator.match_predictions``: per image and threshold, the
    pairs of the same class with IoU >= t, by decreasing IoU, one per detection, then one
    per object (the first detection in score order keeps it); IoU in float32 with
    ``eps=1e-7`` as ``ultralytics.utils.metrics.box_iou``; at most ``max_det`` boxes per
    image (its NMS cap), best first."""
    iouv = np.linspace(0.5, 0.95, 10, dtype=np.float32)  # torch.linspace in float32
    d_img, d_cls, d_box, d_conf, g_img, g_cls, g_box = [], [], [], [], [], [], []
    for n, sample in enumerate(dataset.samples):
        gt = sample.gt
        keep = (gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)
        g_img.append(np.full(int(keep.sum()), n))
        g_cls.append(gt.class_ids[keep])
        g_box.append(gt.xyxy[keep])
        det = aligned.get(sample.image_id)
        if det is None or not len(det):
            continue
        det = det[np.argsort(-det.scores, kind="stable")[:max_det]]
        d_img.append(np.full(len(det), n))
        d_cls.append(det.class_ids)
        d_box.append(det.xyxy)
        d_conf.append(det.scores)

    def cat(parts, dtype, width=None):
        if parts:
            return np.concatenate(parts).astype(dtype, copy=False)
        return np.zeros((0, width) if width else 0, dtype)

    d_img, d_cls, g_img, g_cls = (cat(p, np.int64) for p in (d_img, d_cls, g_img, g_cls))
    d_box, g_box = cat(d_box, np.float32, 4), cat(g_box, np.float32, 4)
    conf = cat(d_conf, np.float32)
    k = len(dataset.class_names)
    pd_, pg = group_pairs(d_img * k + d_cls, g_img * k + g_cls)
    a, b = d_box[pd_], g_box[pg]
    wh = np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None)
    inter = wh[:, 0] * wh[:, 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / (area_a + area_b - inter + np.float32(1e-7))
    tp = np.zeros((len(conf), len(iouv)), bool)
    for t, threshold in enumerate(iouv):
        ok = iou >= threshold
        d, g, v = pd_[ok], pg[ok], iou[ok]
        if not len(d):  # no pair this close: no true positive at this threshold
            continue
        # best object per detection, then the first detection per object
        order = np.lexsort((-v, d))
        d, g = d[order], g[order]
        first_d = np.r_[True, d[1:] != d[:-1]]
        d, g = d[first_d], g[first_d]
        order = np.lexsort((d, g))
        d, g = d[order], g[order]
        first_g = np.r_[True, g[1:] != g[:-1]]
        tp[d[first_g], t] = True
    return UltralyticsInputs(tp, conf, d_cls, g_cls)


def ultralytics_ap(inputs: UltralyticsInputs) -> tuple[np.ndarray, np.ndarray]:
    """AP per class and threshold as ``ultralytics.utils.metrics.ap_per_class``: rank by
    ``np.argsort(-conf)`` (its quicksort: the order of tied scores is numpy's), recall and
    precision per class, precision envelope starting at 1 and dropping to 0 after the
    last recall reached, then ``np.interp`` at 101 recall points and trapezoidal
    integration (``compute_ap`` of Ultralytics 8.4).

    Returns:
        (ap (C, 10), classes (C,)) over the classes with objects.
    """
    i = np.argsort(-inputs.conf)
    tp, conf, pred_cls = inputs.tp[i], inputs.conf[i], inputs.pred_cls[i]
    classes, counts = np.unique(inputs.target_cls, return_counts=True)
    ap = np.zeros((len(classes), tp.shape[1]))
    x = np.linspace(0, 1, 101)
    eps = 1e-16
    for ci, c in enumerate(classes):
        mask = pred_cls == c
        if not mask.any():
            continue
        tpc = tp[mask].cumsum(0)
        fpc = (1 - tp[mask]).cumsum(0)
        recall = tpc / (counts[ci] + eps)
        precision = tpc / (tpc + fpc)
        for j in range(tp.shape[1]):
            # the curve drops to 0 right after the last recall reached (Ultralytics 8.4)
            r = recall[:, j]
            mrec = np.concatenate(([0.0], r, [r[-1] if len(r) else 1.0], [1.0]))
            mpre = np.concatenate(([1.0], precision[:, j], [0.0], [0.0]))
            mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
            ap[ci, j] = np.trapezoid(np.interp(x, mrec, mpre), x)
    del conf
    return ap, classes


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
         "Ultralytics YOLO val (DetectionValidator, ap_per_class)",
         "Linear np.interp of the precision envelope at 101 recall points, integrated "
         "with the trapezoid rule; matching by IoU rather than by score; numpy's "
         "quicksort order for tied scores; up to 300 boxes per image; crowd regions are "
         "not in its labels, so boxes on them are false positives."),
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
