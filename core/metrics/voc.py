"""PASCAL VOC AP at IoU 0.5, ``difficult`` ignored, as the VOC devkit computes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.boxes import box_iou
from core.datasets.types import Dataset
from core.metrics.align import align_predictions
from core.metrics.ap import APMethod, average_precision, precision_recall
from core.types import Detections


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


def class_ranking(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    class_index: int,
    iou_threshold: float = 0.5,
    max_dets: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The devkit's matching for one class: every detection, best score first, is a true
    positive when its highest-IoU ground truth of that class is not yet taken and overlaps
    by more than ``iou_threshold``; a detection whose best match is ``difficult`` (or a
    crowd region) is ignored; everything else is a false positive.

    Returns:
        (is_tp, scores, num_gt) of the counted detections (ignored ones removed).
    """
    records: list[tuple[float, int, int]] = []  # (-score, image order, box index)
    per_image = []
    for order, sample in enumerate(dataset.samples):
        det = predictions[sample.image_id]
        if max_dets is not None and len(det) > max_dets:
            det = det.sorted_by_score()[:max_dets]
        det = det[det.class_ids == class_index]
        gt = sample.gt[sample.gt.class_ids == class_index]
        per_image.append((det, gt))
        records.extend((-float(s), order, j) for j, s in enumerate(det.scores))
    ignore = [
        (gt.extra["difficult"] > 0) | (gt.extra["iscrowd"] > 0) for _, gt in per_image
    ]
    num_gt = int(sum((~ig).sum() for ig in ignore))
    taken = [np.zeros(len(gt), dtype=bool) for _, gt in per_image]
    ious = [box_iou(det.xyxy, gt.xyxy) for det, gt in per_image]
    is_tp, scores = [], []
    for neg_score, order, j in sorted(
        records, key=lambda r: r[0]
    ):  # stable: ties keep order
        iou = ious[order]
        if iou.shape[1]:
            best = int(np.argmax(iou[j]))
            if iou[j, best] > iou_threshold:
                if ignore[order][best]:
                    continue
                tp = not taken[order][best]
                taken[order][best] = True
                is_tp.append(tp)
                scores.append(-neg_score)
                continue
        is_tp.append(False)
        scores.append(-neg_score)
    return np.array(is_tp, dtype=bool), np.array(scores, dtype=np.float64), num_gt


def evaluate_voc(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    iou_threshold: float = 0.5,
    max_dets: int | None = None,
) -> VocResult:
    """VOC AP per class (11-point and all-point) at one IoU threshold.

    Args:
        dataset: ground truth; difficult objects and crowd regions are ignored.
        predictions: image id -> detections, classes matched by name.
        iou_threshold: a match needs IoU strictly above it (0.5 in VOC).
        max_dets: keep only the best boxes per image (None: all).
    """
    aligned = align_predictions(predictions, dataset).predictions
    rows, curves = [], {}
    for k, name in enumerate(dataset.class_names):
        is_tp, scores, num_gt = class_ranking(
            dataset, aligned, k, iou_threshold, max_dets
        )
        recall, precision = precision_recall(is_tp, scores, num_gt)
        curves[name] = (recall, precision)
        if num_gt == 0:
            rows.append((name, 0, np.nan, np.nan))
            continue
        rows.append(
            (
                name,
                num_gt,
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
    )
