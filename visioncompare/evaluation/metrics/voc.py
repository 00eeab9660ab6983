"""PASCAL VOC AP at IoU 0.5, ``difficult`` ignored, as the VOC devkit computes it.

Tied scores: the devkit ranks a class's detections with a stable sort by score of its
results file (``[sc, si] = sort(-confidence)`` in ``VOCevaldet.m``), so ties keep the
results file's order. Detections read from a results file keep their position in it
(``FILE_ORDER``) and are ranked that way; a model's own run has no file, and its
detections are ranked in the order ``coco.coco_results`` writes them: image ids
ascending, then each image's boxes in the model's order. Neither depends on the order of
the images in the annotation file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.ap import (
    APMethod,
    average_precision,
    precision_recall,
)
from visioncompare.evaluation.metrics.cocoeval import (
    FILE_ORDER,
    _file_score,
    group_pairs,
)
from visioncompare.kernel.types import Detections


@dataclass(frozen=True, eq=False)
class VocResult:
    """VOC AP per class and mean, for both interpolations.

    Attributes:
        per_class: ``class``, ``gt`` (non-difficult boxes), ``AP_11pt``, ``AP_all``
            (NaN for a class without ground truth; it is left out of the means).
        map_11pt, map_all: means over classes with ground truth.
        curves: class -> (recall, precision) in rank order.
    """

    per_class: pd.DataFrame
    map_11pt: float
    map_all: float
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    convention: str = "continuous"
    """The pixel convention its IoU used (``BoxConvention``)."""


class BoxConvention(str, Enum):
    """How a box's extent is measured when computing IoU."""

    CONTINUOUS = "continuous"
    """``width = x2 - x1`` on continuous pixel coordinates (COCO, Ultralytics)."""
    DEVKIT = "devkit"
    """The VOC devkit's inclusive pixels: boxes are 1-based pixel indices and
    ``width = x2 - x1 + 1``. On VOC-format data our continuous boxes (the loader stores
    ``x1 = xmin - 1, y1 = ymin - 1``) are turned back into the devkit's indices
    (``x1 + 1, y1 + 1``: the XML's own numbers for the ground truth, and detections the
    way detectron2 writes VOC results) before the devkit's formula; on other data the
    boxes are taken as indices as they are."""


def pair_iou_voc(
    a: np.ndarray, b: np.ndarray, convention: BoxConvention | str
) -> np.ndarray:
    """IoU of paired xyxy float64 boxes, as the devkit's ``voc_eval`` computes it.

    Args:
        a, b: (P, 4) boxes, in the coordinates the convention measures.
        convention: ``devkit`` adds 1 to every width and height (inclusive pixels).
    """
    one = 1.0 if BoxConvention(convention) is BoxConvention.DEVKIT else 0.0
    iw = np.maximum(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]) + one, 0.0)
    ih = np.maximum(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]) + one, 0.0)
    inter = iw * ih
    union = (
        (a[:, 2] - a[:, 0] + one) * (a[:, 3] - a[:, 1] + one)
        + (b[:, 2] - b[:, 0] + one) * (b[:, 3] - b[:, 1] + one)
        - inter
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def convention_for(dataset: Dataset) -> BoxConvention:
    """The devkit's convention for VOC-format data, continuous pixels otherwise."""
    return BoxConvention.DEVKIT if dataset.format == "voc" else BoxConvention.CONTINUOUS


def devkit_matching(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    iou_threshold: float,
    convention: BoxConvention | str = BoxConvention.CONTINUOUS,
    max_dets: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The devkit's matching for every class at once.

    Per class, detections best score first (the file's own float64 score where there
    is one), ties in results-file order (``FILE_ORDER``, when every detection has one),
    else by image id, then box order (see the module's docstring): a detection's
    best-overlapping object of its class (any, taken or not) must
    overlap by more than ``iou_threshold``; if that object is ``difficult`` (or a crowd
    region) the detection is ignored, if it is still free the detection is a true
    positive and takes it, otherwise a false positive. A true positive is therefore the
    first detection, in that order, whose best object is a given free object.

    Returns:
        (class, score, kind, num_gt): per counted detection in ranking order within each
        class (classes ascending): class id, score (float64), kind (0 TP, 1 FP, 2
        ignored); and (K,) the objects that count per class.
    """
    k = len(dataset.class_names)
    g_img, g_cls, g_box, g_ign, d_img, d_cls, d_box, d_score, d_idx, d_id, d_pos = (
        [], [], [], [], [], [], [], [], [], [], []
    )  # fmt: skip
    # continuous -> the devkit's 1-based pixel indices, for VOC-format data only
    to_indices = (
        BoxConvention(convention) is BoxConvention.DEVKIT and dataset.format == "voc"
    )
    shift = np.array([1.0, 1.0, 0.0, 0.0]) if to_indices else np.zeros(4)
    for n, sample in enumerate(dataset.samples):
        gt = sample.gt
        g_img.append(np.full(len(gt), n))
        g_cls.append(gt.class_ids)
        g_box.append(gt.xyxy.astype(np.float64) + shift)
        g_ign.append((gt.extra["difficult"] > 0) | (gt.extra["iscrowd"] > 0))
        det = predictions.get(sample.image_id)
        if det is None or not len(det):
            continue
        if max_dets is not None and len(det) > max_dets:
            det = det[np.argsort(-det.scores, kind="stable")[:max_dets]]
        d_img.append(np.full(len(det), n))
        d_cls.append(det.class_ids)
        d_box.append(det.xyxy.astype(np.float64) + shift)
        d_score.append(_file_score(det))
        d_idx.append(np.arange(len(det)))
        d_id.append(np.full(len(det), sample.image_id))
        d_pos.append(det.extra.get(FILE_ORDER, np.full(len(det), -1)))

    def cat(parts, dtype, width=None):
        if parts:
            return np.concatenate(parts).astype(dtype, copy=False)
        return np.zeros((0, width) if width else 0, dtype)

    g_img, g_cls, g_ign = cat(g_img, np.int64), cat(g_cls, np.int64), cat(g_ign, bool)
    g_box = cat(g_box, np.float64, 4)
    d_img, d_cls, d_idx = cat(d_img, np.int64), cat(d_cls, np.int64), cat(d_idx, np.int64)
    d_id, d_pos = cat(d_id, np.int64), cat(d_pos, np.int64)
    d_box, d_score = cat(d_box, np.float64, 4), cat(d_score, np.float64)
    num_gt = np.bincount(g_cls[~g_ign], minlength=k)

    pair_dt, pair_gt = group_pairs(d_img * k + d_cls, g_img * k + g_cls)
    iou = pair_iou_voc(d_box[pair_dt], g_box[pair_gt], convention)
    best_gt = np.full(len(d_cls), -1)
    best_iou = np.full(len(d_cls), -np.inf)
    if len(pair_dt):
        seg = np.flatnonzero(np.r_[True, pair_dt[1:] != pair_dt[:-1]])
        seg_max = np.maximum.reduceat(iou, seg)
        seg_of = np.repeat(np.arange(len(seg)), np.diff(np.r_[seg, len(pair_dt)]))
        # np.argmax's choice: the first object with the highest overlap
        first = np.where(iou == seg_max[seg_of], np.arange(len(iou)), len(iou))
        pick = np.minimum.reduceat(first, seg)
        best_gt[pair_dt[seg]] = pair_gt[pick]
        best_iou[pair_dt[seg]] = seg_max
    from_file = len(d_pos) > 0 and bool((d_pos >= 0).all())
    ties = (d_pos,) if from_file else (d_idx, d_id)
    order = np.lexsort((*ties, -d_score, d_cls))
    overlaps = best_iou[order] > iou_threshold
    target = best_gt[order]
    kind = np.ones(len(order), np.int8)  # FP
    ignored = overlaps & g_ign[np.maximum(target, 0)]
    kind[ignored] = 2
    free = overlaps & ~ignored
    cand = np.flatnonzero(free)
    _, first = np.unique(target[cand], return_index=True)
    kind[cand[first]] = 0
    return d_cls[order], d_score[order], kind, num_gt


def evaluate_voc(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    iou_threshold: float = 0.5,
    max_dets: int | None = None,
    convention: BoxConvention | str | None = None,
) -> VocResult:
    """VOC AP per class (11-point and all-point) at one IoU threshold.

    Args:
        dataset: ground truth; difficult objects and crowd regions are ignored.
        predictions: image id -> detections, classes matched by name.
        iou_threshold: a match needs IoU strictly above it (0.5 in VOC).
        max_dets: keep only the best boxes per image (None: all).
        convention: how IoU measures boxes (None: ``convention_for(dataset)``).
    """
    convention = BoxConvention(convention or convention_for(dataset))
    aligned = align_predictions(predictions, dataset).predictions
    cls, scores, kind, num_gt = devkit_matching(
        dataset, aligned, iou_threshold, convention, max_dets
    )
    bounds = np.searchsorted(cls, np.arange(len(dataset.class_names) + 1))
    rows, curves = [], {}
    for k, name in enumerate(dataset.class_names):
        lo, hi = bounds[k], bounds[k + 1]
        counted = kind[lo:hi] != 2
        recall, precision = precision_recall(
            kind[lo:hi][counted] == 0, scores[lo:hi][counted], int(num_gt[k])
        )
        curves[name] = (recall, precision)
        if num_gt[k] == 0:
            rows.append((name, 0, np.nan, np.nan))
            continue
        rows.append(
            (
                name,
                int(num_gt[k]),
                average_precision(recall, precision, APMethod.VOC07_11),
                average_precision(recall, precision, APMethod.VOC_ALL),
            )
        )
    frame = pd.DataFrame(rows, columns=["class", "gt", "AP_11pt", "AP_all"])
    return VocResult(
        frame,
        float(frame["AP_11pt"].mean())
        if frame["AP_11pt"].notna().any()
        else float("nan"),
        float(frame["AP_all"].mean())
        if frame["AP_all"].notna().any()
        else float("nan"),
        curves,
        convention.value,
    )
