"""COCOeval's accumulate and summarize over the matches ``cocoeval.evaluate`` keeps.

Split from ``visioncompare.evaluation.metrics.cocoeval`` (which re-exports every name
here): ``_accumulate`` turns stored matches into pycocotools' precision and recall arrays
(also for a subset of the detections: a confidence cut, a fix of TIDE's), and
``summarize`` reads COCO's 12 numbers from them, with pycocotools' float operations.
"""

from __future__ import annotations

import numpy as np

from visioncompare.evaluation.metrics.cocoeval_types import EvalParams, Flat


def _accumulate(
    flat: Flat,
    params: EvalParams,
    dt_rank: np.ndarray,
    dt_match: np.ndarray,
    dt_ignore: np.ndarray,
    gt_ignore: np.ndarray,
    kept: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """pycocotools' accumulate over the stored matches (of the ``kept`` detections only,
    when given: a score cut keeps a prefix of every ranking, so its matches stand)."""
    rec_thr = np.asarray(params.recall_thresholds, np.float64)
    n_t, n_r = len(params.iou_thresholds), len(rec_thr)
    n_k, n_a, n_m = flat.num_classes, len(params.area_ranges), len(params.max_dets)
    precision = -np.ones((n_t, n_r, n_k, n_a, n_m))
    recall = -np.ones((n_t, n_k, n_a, n_m))
    # each class's detections: score (stable, mergesort), then image, then rank
    order = np.lexsort(
        (dt_rank, flat.dt_image, -flat.dt_score, flat.dt_class)
    )
    cls = flat.dt_class[order]
    rank = dt_rank[order]
    if kept is not None:
        rank = np.where(kept[order], rank, np.iinfo(np.int64).max)
    counts = ~dt_ignore  # (D, A, T)
    matched = dt_match >= 0
    # (A, T, D) in ranking order, so every row below is contiguous
    tp_all = np.ascontiguousarray((matched & counts).transpose(1, 2, 0))[:, :, order]
    fp_all = np.ascontiguousarray((~matched & counts).transpose(1, 2, 0))[:, :, order]
    npig = np.zeros((n_k, n_a), np.int64)
    for a in range(n_a):
        npig[:, a] = np.bincount(flat.gt_class[~gt_ignore[:, a]], minlength=n_k)
    counted_k = npig > 0  # (K, A)
    previous = None
    for m, max_det in enumerate(params.max_dets):
        inc = rank < max_det
        if previous is not None and inc.all() and previous[1].all():
            # nothing is capped at this maxDets either: the same numbers
            precision[..., m] = precision[..., previous[0]]
            recall[..., m] = recall[..., previous[0]]
            previous = (m, inc)
            continue
        previous = (m, inc)
        whole = inc.all()
        c = cls if whole else cls[inc]
        bounds = np.searchsorted(c, np.arange(n_k + 1))
        for a in range(n_a):
            for t in range(n_t):
                tp_row = tp_all[a, t] if whole else tp_all[a, t][inc]
                fp_row = fp_all[a, t] if whole else fp_all[a, t][inc]
                p_tk, r_k = _precision_at_recalls(
                    c, bounds, tp_row, fp_row, npig[:, a], rec_thr
                )
                precision[t, :, :, a, m] = np.where(counted_k[:, a], p_tk.T, -1.0)
                recall[t, :, a, m] = np.where(counted_k[:, a], r_k, -1.0)
    return precision, recall


def _precision_at_recalls(
    cls: np.ndarray,
    bounds: np.ndarray,
    tp: np.ndarray,
    fp: np.ndarray,
    npig: np.ndarray,
    rec_thr: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """pycocotools' interpolated precision at the recall points, for every class at once.

    Recall only rises at a true positive and precision only falls between two, so the
    first detection reaching a recall point is a true positive and the precision
    envelope there is a maximum over true positives: only the true positives' running
    counts are needed, computed with the same float operations as pycocotools.

    Args:
        cls: (N,) class of each detection, sorted by class (then rank).
        bounds: (K + 1,) where each class starts in ``cls``.
        tp, fp: (N,) bool, true and false positives (ignored detections neither).
        npig: (K,) objects that count per class.
        rec_thr: (R,) recall points.

    Returns:
        (precision (K, R), recall (K,)); rows of classes without objects are undefined.
    """
    n_k = len(bounds) - 1
    fp_cum = fp.astype(np.int32)
    np.cumsum(fp_cum, out=fp_cum)
    padded = np.concatenate(([0], fp_cum))  # padded[i]: false positives before i
    fp_base = padded[bounds[:-1]]
    pos = np.flatnonzero(tp)
    pc = cls[pos]
    tp_start = np.searchsorted(pc, np.arange(n_k + 1))
    n_tp = np.diff(tp_start)
    tpc = (np.arange(len(pos)) - tp_start[pc] + 1).astype(np.float64)
    fpc = (fp_cum[pos] - fp_base[pc]).astype(np.float64)
    pr = tpc / (fpc + tpc + np.spacing(1))
    width = int(n_tp.max()) if len(n_tp) and n_tp.max() > 0 else 1
    env = np.zeros((n_k, width))
    env[pc, tpc.astype(np.int64) - 1] = pr
    env = np.maximum.accumulate(env[:, ::-1], axis=1)[:, ::-1]
    denom = np.maximum(npig, 1).astype(np.float64)[:, None]  # (K, 1)
    # the first count j with j / npig >= the recall point, found with the same division
    # pycocotools makes (the estimate from a product is off by at most one); it depends
    # on npig alone, so it is found once per distinct count (per-image AP has 100,000
    # groups and a handful of counts)
    counts, which = np.unique(denom[:, 0], return_inverse=True)
    per_count = counts[:, None]
    j = np.maximum(np.ceil(rec_thr[None, :] * per_count) - 2, 1)
    for _ in range(4):
        j = np.where(j / per_count >= rec_thr[None, :], j, j + 1)
    j = j.astype(np.int64)[which.reshape(-1)]
    inside = j <= n_tp[:, None]
    rows = np.broadcast_to(np.arange(n_k)[:, None], j.shape)
    precision = np.where(inside, env[rows, np.minimum(j, width) - 1], 0.0)
    recall = n_tp / denom[:, 0]
    return precision, recall


STAT_NAMES = (
    "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
    "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
)  # fmt: skip
"""The 12 numbers of COCOeval.summarize(), in its order."""


def summarize(
    precision: np.ndarray, recall: np.ndarray, params: EvalParams
) -> dict[str, float]:
    """COCOeval.summarize()'s 12 numbers: AP at maxDets 100 (the third value when 100 is
    not among them), the rest at ``max_dets[2]``; AR1 / AR10 at ``max_dets[0]`` / ``[1]``."""
    thr = np.asarray(params.iou_thresholds)
    md = params.max_dets
    # pycocotools: stats[0] asks for maxDets 100 by name, the others use maxDets[2]
    m100 = md.index(100) if 100 in md else min(2, len(md) - 1)
    m2 = min(2, len(md) - 1)

    def mean(values: np.ndarray) -> float:
        valid = values[values > -1]
        return float(np.mean(valid)) if valid.size else -1.0

    def ap(t=slice(None), a=0, m=m2):
        return mean(precision[t, :, :, a, m])

    def ar(a=0, m=m2):
        return mean(recall[:, :, a, m])

    t50 = np.where(thr == 0.5)[0]
    t75 = np.where(thr == 0.75)[0]
    values = [
        ap(m=m100), ap(t50), ap(t75), ap(a=1), ap(a=2), ap(a=3),
        ar(m=0), ar(m=min(1, len(md) - 1)), ar(),
        ar(a=1), ar(a=2), ar(a=3),
    ]  # fmt: skip
    return dict(zip(STAT_NAMES, values))
