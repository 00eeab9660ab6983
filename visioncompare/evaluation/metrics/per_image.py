"""Per-image scores read from one evaluation: AP per image and F1 at the operating point.

An image's AP is COCO's 101-point AP of each class it has objects of, computed on that
image alone (at the chosen IoU, area range and maxDets 100), averaged over those classes.
Its mean over images is not mAP: mAP pools every image's detections per class before
ranking them, so one image's confident false positive lowers every image's precision.

F1 at the operating point counts the image's true positives, false positives and missed
objects at a confidence and IoU (the threshold explorer's counts, image by image):
``2 TP / (2 TP + FP + FN)``, undefined for an image without objects or detections.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from visioncompare.evaluation.metrics.cocoeval import (
    AREA_NAMES,
    Evaluation,
    _precision_at_recalls,
)


def _ap_cap(max_dets: tuple[int, ...]) -> int:
    return 100 if 100 in max_dets else max_dets[min(2, len(max_dets) - 1)]


def per_image_scores(
    evaluation: Evaluation,
    conf: float,
    iou: float,
    class_id: int | None = None,
    area: str = "all",
) -> pd.DataFrame:
    """One row per image: objects, TP, FP, FN, F1 at ``conf``, and AP at ``iou``.

    Args:
        evaluation: the evaluation (its matches at COCO's IoU thresholds).
        conf: the confidence of the TP / FP / FN counts and F1.
        iou: the IoU (snapped to the evaluation's thresholds).
        class_id: one class only (None: every class).
        area: ``all``, ``small``, ``medium`` or ``large`` (COCO's area ranges: objects
            outside are ignored, as are unmatched detections outside).

    Returns:
        Columns ``image_id, objects, TP, FP, FN, F1, AP`` (F1 / AP NaN where undefined),
        images in ascending id.
    """
    params, flat = evaluation.params, evaluation.flat
    t = params.snap_iou(iou)
    a = AREA_NAMES.index(area)
    n_img, k = len(flat.image_ids), flat.num_classes
    match = evaluation.dt_match[:, a, t] >= 0
    ignored = evaluation.dt_ignore[:, a, t]
    gt_in = ~evaluation.gt_ignore[:, a]
    dt_in = np.ones(len(match), bool)
    if class_id is not None:
        gt_in &= flat.gt_class == class_id
        dt_in &= flat.dt_class == class_id
    tp = dt_in & match & ~ignored
    fp = dt_in & ~match & ~ignored

    # counts at the confidence, compared in float32 like the explorer's
    above = flat.dt_score.astype(np.float32) >= np.float32(conf)
    objects = np.bincount(flat.gt_image[gt_in], minlength=n_img)
    n_tp = np.bincount(flat.dt_image[tp & above], minlength=n_img)
    n_fp = np.bincount(flat.dt_image[fp & above], minlength=n_img)
    n_fn = objects - n_tp
    denom = 2 * n_tp + n_fp + n_fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * n_tp / denom, np.nan)

    # AP of each (image, class) with objects, on that image alone
    counted = evaluation.dt_rank < _ap_cap(params.max_dets)
    gt_group = flat.gt_image[gt_in] * k + flat.gt_class[gt_in]
    groups, npos = np.unique(gt_group, return_counts=True)
    dt_group = flat.dt_image * k + flat.dt_class
    pos = np.searchsorted(groups, dt_group)
    pos_ok = np.minimum(pos, max(len(groups) - 1, 0))
    has = (
        counted & (tp | fp) & (len(groups) > 0)
        & (groups[pos_ok] == dt_group if len(groups) else False)
    )  # fmt: skip
    idx = np.flatnonzero(has)
    order = idx[np.lexsort((evaluation.dt_rank[idx], -flat.dt_score[idx], pos[idx]))]
    g = pos[order]
    bounds = np.searchsorted(g, np.arange(len(groups) + 1))
    rec_thr = np.asarray(params.recall_thresholds, np.float64)
    precision, _ = _precision_at_recalls(g, bounds, tp[order], fp[order], npos, rec_thr)
    group_ap = precision.mean(axis=1) if len(groups) else np.zeros(0)
    img = groups // k
    ap_sum = np.bincount(img, weights=group_ap, minlength=n_img)
    ap_n = np.bincount(img, minlength=n_img)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = np.where(ap_n > 0, ap_sum / np.maximum(ap_n, 1), np.nan)
    return pd.DataFrame(
        {
            "image_id": flat.image_ids,
            "objects": objects,
            "TP": n_tp,
            "FP": n_fp,
            "FN": n_fn,
            "F1": f1,
            "AP": ap,
        }
    )
