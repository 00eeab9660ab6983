"""COCOeval's evaluate -> accumulate in numpy, keeping every match.

pycocotools matches each detection at ten IoU thresholds and four area ranges and then
throws the matches away; we keep them, so a confidence or IoU change on the page is a
lookup, and every other number (COCO's 12, per-class AP, PR curves, the "why mAP differs"
rows) is read from one evaluation.

The rules are pycocotools' (``cocoeval.py``), reproduced exactly and tested equal to it:

- boxes are ``[x, y, w, h]`` float64: a file's own numbers where the boxes came from one
  (a COCO annotation file's ``bbox``, a results file's: ``FILE_BOX``), else made from our
  float32 ``xyxy`` exactly as ``coco.coco_results`` / ``coco.coco_ground_truth`` write
  them; IoU is computed as ``maskApi.c``'s ``bbIou`` does (a crowd region divides by the
  detection's area), so a pair exactly on a threshold falls on pycocotools' side of it;
- per (image, class), detections in stable score order, at most ``max_dets[-1]``;
- a detection takes, among ground truths still free (crowd regions never fill up), the
  not-ignored one with the highest IoU >= the threshold (ties: the later one), else an
  ignored one the same way; matching an ignored one makes the detection ignored;
- a ground truth is ignored when it is a crowd region or its annotated area is outside the
  area range; an unmatched detection whose area is outside it is ignored too;
- accumulation sorts each class's detections by score (stable, images in id order), takes
  the precision envelope and samples it at 101 recall points with ``searchsorted`` 'left'.

The accumulate and summarize steps are in ``visioncompare.evaluation.metrics.accumulate``
and the parameters and flat inputs in ``cocoeval_types`` (both re-exported here).

The greedy matching is sequential only within one (image, class): step ``r`` matches the
``r``-th candidate detection of every (image, class) at once, for all ten thresholds and
four area ranges, so the Python loop runs as many times as the longest such list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from visioncompare.datasets.types import (  # re-exported: results files use it too
    FILE_BOX as FILE_BOX,
)
from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.accumulate import (  # re-exported
    STAT_NAMES as STAT_NAMES,
)
from visioncompare.evaluation.metrics.accumulate import (
    _accumulate as _accumulate,
)
from visioncompare.evaluation.metrics.accumulate import (
    _precision_at_recalls as _precision_at_recalls,
)
from visioncompare.evaluation.metrics.accumulate import (
    summarize as summarize,
)
from visioncompare.evaluation.metrics.cocoeval_types import (  # re-exported
    AREA_NAMES as AREA_NAMES,
)
from visioncompare.evaluation.metrics.cocoeval_types import (
    EvalParams as EvalParams,
)
from visioncompare.evaluation.metrics.cocoeval_types import Flat as Flat
from visioncompare.kernel.types import Detections


def flatten(
    dataset: Dataset, predictions: Mapping[int, Detections], drop_difficult: bool = True
) -> Flat:
    """Flat arrays of the ground truth (difficult objects left out, as COCO-style metrics
    do) and of aligned predictions (``class_ids`` index ``dataset.class_names``)."""
    order = sorted(range(len(dataset.samples)), key=lambda i: dataset.samples[i].image_id)
    samples = [dataset.samples[i] for i in order]
    g_parts, d_parts = [], []
    for n, s in enumerate(samples):
        gt = s.gt
        keep = (
            np.flatnonzero(gt.extra["difficult"] == 0)
            if drop_difficult
            else np.arange(len(gt))
        )
        g_parts.append((n, gt, keep))
        det = predictions.get(s.image_id)
        if det is not None and len(det):
            d_parts.append((n, det))

    def xywh(xyxy: np.ndarray) -> np.ndarray:
        xyxy = xyxy.astype(np.float64)
        return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)

    def cat(items, dtype, width=None):
        if items:
            return np.concatenate(items).astype(dtype, copy=False)
        return np.zeros((0, width) if width else 0, dtype)

    g_xyxy = [gt.xyxy[k] for _, gt, k in g_parts]
    g_xywh = [_file_xywh(gt)[k] for _, gt, k in g_parts]
    d_xyxy = [det.xyxy for _, det in d_parts]
    d_xywh = [_file_xywh(det) for _, det in d_parts]
    return Flat(
        image_ids=np.array([s.image_id for s in samples], np.int64),
        gt_image=cat([np.full(len(k), n) for n, _, k in g_parts], np.int64),
        gt_class=cat([gt.class_ids[k] for _, gt, k in g_parts], np.int64),
        gt_xywh=np.where(
            np.isnan(cat(g_xywh, np.float64, 4)),
            xywh(cat(g_xyxy, np.float32, 4)),
            cat(g_xywh, np.float64, 4),
        ),
        gt_area=cat([gt.extra["area"][k] for _, gt, k in g_parts], np.float64),
        gt_crowd=cat([gt.extra["iscrowd"][k] > 0 for _, gt, k in g_parts], bool),
        gt_index=cat([k for _, _, k in g_parts], np.int64),
        dt_image=cat([np.full(len(d), n) for n, d in d_parts], np.int64),
        dt_class=cat([d.class_ids for _, d in d_parts], np.int64),
        dt_xywh=np.where(
            np.isnan(cat(d_xywh, np.float64, 4)),
            xywh(cat(d_xyxy, np.float32, 4)),
            cat(d_xywh, np.float64, 4),
        ),
        dt_score=cat([_file_score(d) for _, d in d_parts], np.float64),
        dt_index=cat([np.arange(len(d)) for _, d in d_parts], np.int64),
        num_classes=len(dataset.class_names),
    )


FILE_SCORE = "file_score"
"""``Detections.extra`` key of a results file's own float64 score (ranked as pycocotools
ranks it; ``scores`` holds its float32 rounding)."""


FILE_ORDER = "file_order"
"""``Detections.extra`` key of each detection's position in the results file it was read
from: the VOC devkit ranks tied scores in results-file order."""


def _file_score(det: Detections) -> np.ndarray:
    if FILE_SCORE in det.extra:
        return det.extra[FILE_SCORE].astype(np.float64)
    return det.scores.astype(np.float32).astype(np.float64)


def _file_xywh(det: Detections) -> np.ndarray:
    """(N, 4) the file's own ``[x, y, w, h]`` of ground truth or detections, NaN where
    the boxes did not come from a file."""
    if all(k in det.extra for k in FILE_BOX):
        return np.stack([det.extra[k] for k in FILE_BOX], axis=1).astype(np.float64)
    return np.full((len(det), 4), np.nan)


def pair_iou(
    dt_xywh: np.ndarray, gt_xywh: np.ndarray, crowd: np.ndarray
) -> np.ndarray:
    """IoU of paired boxes, operation for operation as ``maskApi.c`` ``bbIou``."""
    dx, dy, dw, dh = dt_xywh.T
    gx, gy, gw, gh = gt_xywh.T
    w = np.fmin(dw + dx, gw + gx) - np.fmax(dx, gx)
    h = np.fmin(dh + dy, gh + gy) - np.fmax(dy, gy)
    inter = w * h
    da, ga = dw * dh, gw * gh
    union = np.where(crowd, da, da + ga - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w > 0) & (h > 0), iou, 0.0)


def group_pairs(
    dt_key: np.ndarray, gt_key: np.ndarray, dets: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every (detection, ground truth) pair with equal keys, vectorised.

    Args:
        dt_key: (D,) int key per detection (e.g. image * classes + class).
        gt_key: (G,) int key per ground truth.
        dets: the detections to pair, ascending (None: all).

    Returns:
        (det index, gt index), sorted by detection, then ground truth (ascending index).
    """
    dets = np.arange(len(dt_key)) if dets is None else dets
    gt_order = np.argsort(gt_key, kind="stable")
    gt_sorted = gt_key[gt_order]
    lo = np.searchsorted(gt_sorted, dt_key[dets], side="left")
    hi = np.searchsorted(gt_sorted, dt_key[dets], side="right")
    per = hi - lo
    pair_dt = np.repeat(dets, per)
    offsets = np.arange(len(pair_dt)) - np.repeat(np.cumsum(per) - per, per)
    return pair_dt, gt_order[np.repeat(lo, per) + offsets]


def greedy_order(
    pair_dt: np.ndarray, pair_gt: np.ndarray, group: np.ndarray, within: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The order in which a greedy matching visits (detection, ground truth) pairs, for
    every group at once: step ``r`` holds the ``r``-th candidate detection (one with a
    pair) of every group, in ``within`` order; inside a step, pairs by detection, then
    ground truth.

    Args:
        pair_dt, pair_gt: the pairs.
        group: (D,) the group key of each detection.
        within: (D,) the order of the detections inside their group.

    Returns:
        (order: the pairs' permutation, bounds: step ``r`` is the reordered pairs
        ``bounds[r]:bounds[r + 1]``).
    """
    cand = np.unique(pair_dt)
    cand_sorted = cand[np.lexsort((within[cand], group[cand]))]
    g = group[cand_sorted]
    rank = np.empty(len(group), np.int64)
    rank[cand_sorted] = np.arange(len(cand_sorted)) - np.searchsorted(g, g, "left")
    prank = rank[pair_dt]
    order = np.lexsort((pair_gt, pair_dt, prank))
    prank = prank[order]
    steps = np.arange(prank.max() + 2 if len(prank) else 1)
    return order, np.searchsorted(prank, steps)


def greedy_steps(
    bounds: np.ndarray, pair_dt: np.ndarray
) -> Iterator[tuple[slice, np.ndarray]]:
    """Each step of ``greedy_order`` (``pair_dt`` reordered): its slice of the pairs and
    where each detection's run of pairs starts in it (for ``reduceat``)."""
    for r in range(len(bounds) - 1):
        s = slice(bounds[r], bounds[r + 1])
        pd_ = pair_dt[s]
        if len(pd_):
            yield s, np.flatnonzero(np.r_[True, pd_[1:] != pd_[:-1]])


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Everything one evaluation computed (the arrays are read, never recomputed).

    Attributes:
        params: the thresholds.
        flat: the inputs as flat arrays.
        dt_rank: (D,) rank of each detection in its (image, class) by score (stable);
            detections at rank >= ``max_dets[-1]`` take no part.
        dt_match: (D, A, T) index into the ground truth of the match, -1 for none.
        dt_ignore: (D, A, T) ignored detections (matched an ignored ground truth, or
            unmatched and outside the area range).
        gt_ignore: (G, A) ignored ground truth (crowd, or area outside the range).
        precision: (T, R, K, A, M) interpolated precision, -1 where a class has no
            ground truth (pycocotools' ``eval['precision']``).
        recall: (T, K, A, M) final recall, -1 likewise.
        stats: COCO's 12 numbers by name.
        dt_best_iou: (D,) each detection's best IoU with a same-class object that is not
            a crowd region (0 for none).
    """

    params: EvalParams
    flat: Flat
    dt_rank: np.ndarray
    dt_match: np.ndarray
    dt_ignore: np.ndarray
    gt_ignore: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    stats: dict[str, float]
    dt_best_iou: np.ndarray

    def class_ap(self, t: int | slice = slice(None), m: int = -1) -> np.ndarray:
        """(K,) AP per class at IoU index/slice ``t``, area "all", maxDets index ``m``
        (-1: no ground truth)."""
        p = self.precision[t, :, :, 0, m]
        p = p.reshape(-1, p.shape[-1])
        valid = p > -1
        count = valid.sum(axis=0)
        total = np.where(valid, p, 0.0).sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), -1.0)


def evaluate(
    dataset: Dataset, predictions: Mapping[int, Detections], params: EvalParams
) -> Evaluation:
    """COCO bbox evaluation of aligned predictions (``class_ids`` index the dataset's
    classes), equal to pycocotools' evaluate + accumulate + summarize."""
    flat = flatten(dataset, predictions)
    thr = np.asarray(params.iou_thresholds, np.float64)
    area_rng = np.asarray(params.area_ranges, np.float64)
    n_t, n_a = len(thr), len(area_rng)
    n_gt, n_dt = len(flat.gt_class), len(flat.dt_class)
    max_det = params.max_dets[-1]

    # (image, class) groups; detections in stable score order inside each group
    k = flat.num_classes
    gt_group = flat.gt_image * k + flat.gt_class
    dt_group = flat.dt_image * k + flat.dt_class
    dt_order = np.lexsort((np.arange(n_dt), -flat.dt_score, dt_group))
    sorted_groups = dt_group[dt_order]
    starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
    dt_rank = np.empty(n_dt, np.int64)
    dt_rank[dt_order] = np.arange(n_dt) - starts
    counted = dt_rank < max_det

    gt_area_out = (flat.gt_area[:, None] < area_rng[None, :, 0]) | (
        flat.gt_area[:, None] > area_rng[None, :, 1]
    )
    gt_ignore = gt_area_out | flat.gt_crowd[:, None]  # (G, A)
    dt_area = flat.dt_xywh[:, 2] * flat.dt_xywh[:, 3]
    dt_area_out = (dt_area[:, None] < area_rng[None, :, 0]) | (
        dt_area[:, None] > area_rng[None, :, 1]
    )

    # every (detection, ground truth) pair of the same image and class
    pair_dt, pair_gt = group_pairs(dt_group, gt_group, np.flatnonzero(counted))
    iou = pair_iou(flat.dt_xywh[pair_dt], flat.gt_xywh[pair_gt], flat.gt_crowd[pair_gt])
    # best overlap with a same-class object that is not a crowd region (error browser)
    dt_best_iou = np.zeros(n_dt)
    if len(pair_dt):
        seg = np.flatnonzero(np.r_[True, pair_dt[1:] != pair_dt[:-1]])
        plain = np.where(flat.gt_crowd[pair_gt], 0.0, iou)
        dt_best_iou[pair_dt[seg]] = np.maximum.reduceat(plain, seg)
    keep = iou >= min(thr[0], 1 - 1e-10)
    pair_dt, pair_gt, iou = pair_dt[keep], pair_gt[keep], iou[keep]

    # candidate detections, ranked inside their group; pairs sorted (rank, det, gt)
    order, bounds = greedy_order(pair_dt, pair_gt, dt_group, dt_rank)
    pair_dt, pair_gt, iou = pair_dt[order], pair_gt[order], iou[order]

    dt_match = np.full((n_dt, n_a, n_t), -1, np.int32)
    gt_taken = np.zeros((n_gt, n_a, n_t), bool)
    crowd = flat.gt_crowd
    above = iou[:, None] >= thr[None, :]  # (P, T)
    for s, seg in greedy_steps(bounds, pair_dt):
        pd_, pg = pair_dt[s], pair_gt[s]
        valid = above[s][:, None, :] & (
            ~gt_taken[pg] | crowd[pg][:, None, None]
        )  # (P, A, T)
        regular = ~gt_ignore[pg][:, :, None]  # (P, A, 1)
        has_regular = np.logical_or.reduceat(valid & regular, seg, axis=0)
        seg_of = np.repeat(np.arange(len(seg)), np.diff(np.r_[seg, len(pd_)]))
        want = valid & (regular == has_regular[seg_of])
        v = np.where(want, iou[s][:, None, None], -1.0)
        best = np.maximum.reduceat(v, seg, axis=0)
        pick = want & (v == best[seg_of])
        pos = np.where(pick, np.arange(len(pd_))[:, None, None], -1)
        chosen = np.maximum.reduceat(pos, seg, axis=0)  # (S, A, T)
        ok = chosen >= 0
        si, ai, ti = np.nonzero(ok)
        gts = pg[chosen[si, ai, ti]]
        gt_taken[gts, ai, ti] = True
        dt_match[pd_[seg[si]], ai, ti] = gts

    matched = dt_match >= 0
    gt_ig_of_match = np.zeros_like(matched)
    di, ai, ti = np.nonzero(matched)
    gt_ig_of_match[di, ai, ti] = gt_ignore[dt_match[di, ai, ti], ai]
    dt_ignore = np.where(matched, gt_ig_of_match, dt_area_out[:, :, None])

    precision, recall = _accumulate(flat, params, dt_rank, dt_match, dt_ignore, gt_ignore)
    return Evaluation(
        params, flat, dt_rank, dt_match, dt_ignore, gt_ignore, precision, recall,
        summarize(precision, recall, params), dt_best_iou,
    )  # fmt: skip
