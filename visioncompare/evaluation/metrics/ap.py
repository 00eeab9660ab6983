"""Average precision from a ranked list: the three interpolations tools disagree on."""

from __future__ import annotations

from enum import Enum

import numpy as np


class APMethod(str, Enum):
    """How a precision-recall curve becomes one number."""

    COCO_101 = "coco_101"
    """Interpolated precision sampled at 101 recall points 0, 0.01, ..., 1 (COCO)."""
    VOC07_11 = "voc07_11"
    """Mean of the best precision at recall >= 0, 0.1, ..., 1 (PASCAL VOC2007)."""
    VOC_ALL = "voc_all"
    """Area under the interpolated curve at every recall change (PASCAL VOC2010+)."""


def precision_recall(
    is_tp: np.ndarray, scores: np.ndarray, num_gt: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative precision and recall down a ranked list.

    Args:
        is_tp: (N,) bool, True for a true positive (ignored detections already removed).
        scores: (N,) confidences; sorted high to low with a stable sort.
        num_gt: ground-truth objects that count (difficult and crowd excluded).

    Returns:
        (recall, precision), each (N,), in rank order.
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    tp = np.asarray(is_tp, dtype=bool)[order]
    tp_cum = np.cumsum(tp, dtype=np.float64)
    fp_cum = np.cumsum(~tp, dtype=np.float64)
    recall = tp_cum / num_gt if num_gt > 0 else np.zeros_like(tp_cum)
    precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
    return recall, precision


def average_precision(
    recall: np.ndarray, precision: np.ndarray, method: APMethod | str = APMethod.VOC_ALL
) -> float:
    """AP of one class from its cumulative recall/precision (rank order).

    Returns 0.0 for an empty list; callers decide what a class without ground truth is.
    """
    method = APMethod(method)
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if method is APMethod.VOC07_11:
        ap = 0.0
        for t in np.linspace(0.0, 1.0, 11):
            above = precision[recall >= t]
            ap += (above.max() if above.size else 0.0) / 11.0
        return float(ap)
    # Precision envelope: the best precision at this recall or any higher recall.
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    if method is APMethod.VOC_ALL:
        changes = np.where(mrec[1:] != mrec[:-1])[0]
        return float(np.sum((mrec[changes + 1] - mrec[changes]) * mpre[changes + 1]))
    # COCO: sample the envelope at 101 recall points (pycocotools' searchsorted 'left').
    points = np.linspace(0.0, 1.0, 101)
    envelope = mpre[1:-1] if len(recall) else np.zeros(0)
    index = np.searchsorted(recall, points, side="left")
    sampled = np.array([envelope[i] if i < len(envelope) else 0.0 for i in index])
    return float(sampled.mean())
