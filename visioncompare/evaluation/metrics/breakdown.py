"""Two breakdowns read from one evaluation: precision-recall by object size, and the
confidence that maximises F1 (overall and per class)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from visioncompare.evaluation.metrics.cocoeval import AREA_NAMES, Evaluation

ALL_CLASSES = "all classes (pooled)"


def pr_by_size(
    evaluation: Evaluation, iou: float = 0.5
) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """COCO's interpolated precision-recall curve per area range, mean over classes
    with objects of that size (maxDets 100).

    Returns:
        area name -> (recall (R,), precision (R,), AP); areas without objects are left out.
    """
    params = evaluation.params
    t = params.snap_iou(iou)
    md = params.max_dets
    m = md.index(100) if 100 in md else min(2, len(md) - 1)
    recall = np.asarray(params.recall_thresholds)
    out = {}
    for a, name in enumerate(AREA_NAMES):
        curves = evaluation.precision[t, :, :, a, m]  # (R, K)
        valid = (curves > -1).any(axis=0)
        if not valid.any():
            continue
        precision = curves[:, valid].mean(axis=1)
        out[name] = (recall, precision, float(precision.mean()))
    return out


def best_operating_points(
    evaluation: Evaluation,
    class_names: tuple[str, ...],
    iou: float,
    low: float = 0.0,
    high: float = 1.0,
) -> pd.DataFrame:
    """The confidence with the highest F1 at one IoU (area "all", the explorer's counts),
    for all classes pooled (first row, class ``ALL_CLASSES``) and for each class with objects.

    A cut at confidence c keeps the detections scoring >= c (float32), so F1 changes only at
    a detection's score: every distinct score within [low, high] is tried. Ties in F1 go to
    the higher confidence (fewer boxes for the same F1).

    Returns:
        Columns ``class, conf, F1, precision, recall, objects``.
    """
    flat = evaluation.flat
    t = evaluation.params.snap_iou(iou)
    match = evaluation.dt_match[:, 0, t] >= 0
    ignored = evaluation.dt_ignore[:, 0, t]
    score = flat.dt_score.astype(np.float32)
    keep = ~ignored & (score >= np.float32(low)) & (score <= np.float32(high))
    objects = np.bincount(
        flat.gt_class[~evaluation.gt_ignore[:, 0]], minlength=flat.num_classes
    )
    score, match, cls = score[keep], match[keep], flat.dt_class[keep]
    rows = [_best(score, match, int(objects.sum()), ALL_CLASSES)]
    # each class's detections, contiguous and best score first (one sort for all)
    order = np.lexsort((-score, cls))
    score, match, cls = score[order], match[order], cls[order]
    bounds = np.searchsorted(cls, np.arange(flat.num_classes + 1))
    for c in np.flatnonzero(objects):
        part = slice(bounds[c], bounds[c + 1])
        rows.append(_best(score[part], match[part], int(objects[c]), class_names[c]))
    return pd.DataFrame(rows, columns=["class", "conf", "F1", "precision", "recall",
                                       "objects"])  # fmt: skip


def _best(score: np.ndarray, tp: np.ndarray, objects: int, name: str) -> tuple:
    if not len(score) or not objects:
        return (name, np.nan, 0.0, 0.0, 0.0, objects)
    order = np.argsort(-score, kind="stable")
    s, hit = score[order], tp[order]
    tp_cum = np.cumsum(hit)
    # a cut at s[i] keeps every detection scoring >= s[i]: the last of each equal run
    last = np.r_[s[1:] != s[:-1], True]
    n_tp = tp_cum[last].astype(np.float64)
    n_det = (np.flatnonzero(last) + 1).astype(np.float64)
    f1 = 2 * n_tp / (n_det + objects)
    cut = s[last]
    best = int(np.flatnonzero(f1 == f1.max())[0])  # the highest confidence among ties
    return (name, float(cut[best]), float(f1[best]), float(n_tp[best] / n_det[best]),
            float(n_tp[best] / objects), objects)  # fmt: skip
