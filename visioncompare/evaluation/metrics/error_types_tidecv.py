"""TIDE error types and dAP by tidecv 1.0.1's own rules (``rules="tidecv"`` of
``error_types.analyse_errors``), equal to the ``tidecv`` package on the same ground truth
and results files.

The types and the fixes are TIDE's, as in ``error_types`` (COCO's rules); what tidecv
does differently, each rule transcribed from its ``quantify.py``, ``ap.py`` and
``errors/``:

- at most ``max_dets`` (100) detections per image, all classes together, best score first
  (a stable sort of the image's detections in the order they were given); COCO keeps 100
  per image and class;
- matching per image, best score first: a detection takes the free object of its class it
  overlaps most (IoU >= 0.5, the first object on a tie); crowd regions take no part, and
  an unmatched detection whose intersection over its own area with a crowd region of its
  class is above 0.5 (strictly) is ignored, left out of AP but still typed;
- no area ranges; a class with detections but no objects averages in as AP 0, a class
  whose points a fix removes (and that has no objects) drops out of the mean;
- precision sampled at recall ``x / 100`` (COCO: ``np.linspace(0, 1, 101)``);
- tied scores: AP ranks a class's points with Python's stable sort, in the order they were
  pushed. Unfixed, that is the images in the ground truth's order, each image's
  detections best first; after a fix, every point of an error first (same order), then
  the true positives: so a fix can move a tied point without changing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from visioncompare.evaluation.metrics.cocoeval import (
    Evaluation,
    _precision_at_recalls,
    group_pairs,
    pair_iou,
)
from visioncompare.evaluation.metrics.ultralytics_recipe import greedy_match

CLS, LOC, BOTH, DUPE, BKG, MISS = range(6)
"""The error type codes, in TIDE's order (``error_types.ERROR_TYPES`` names them)."""

TIDECV_RECALLS = tuple(x / 100 for x in range(101))
"""tidecv's recall points (``x / resolution``), which differ from COCO's in the last bit
at some points."""


def _segment_argmax(
    owner: np.ndarray, values: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per owner (sorted, in [0, n)): the maximum value (0 without pairs) and the first
    pair position holding it (-1 without pairs), like ``np.argmax`` over a row."""
    best = np.zeros(n)
    arg = np.full(n, -1, np.int64)
    if not len(owner):
        return best, arg
    seg = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    top = np.maximum.reduceat(values, seg)
    seg_of = np.repeat(np.arange(len(seg)), np.diff(np.r_[seg, len(owner)]))
    pos = np.where(values == top[seg_of], np.arange(len(owner)), len(owner))
    best[owner[seg]] = top
    arg[owner[seg]] = np.minimum.reduceat(pos, seg)
    return best, arg


def tide_types(
    owner: np.ndarray,
    same: np.ndarray,
    iou: np.ndarray,
    objects: np.ndarray,
    used: np.ndarray,
    has_gt: np.ndarray,
    bg_iou: float,
    pos_iou: float,
) -> tuple[np.ndarray, np.ndarray]:
    """TIDE's type of each error and the object a classification or localisation error
    aims at (-1 for the other types), from the error's pairs with the objects of its
    image (crowd regions left out).

    Args:
        owner: (P,) the error of each pair, sorted.
        same: (P,) the pair's object is of the error's class.
        iou: (P,) the pair's IoU.
        objects: (P,) the pair's object.
        used: (G,) the objects a true positive took.
        has_gt: (E,) the error's image has an object.
        bg_iou, pos_iou: TIDE's background and foreground thresholds.
    """
    n = len(has_gt)
    loc_iou, loc_arg = _segment_argmax(owner, np.where(same, iou, 0.0), n)
    cls_iou, cls_arg = _segment_argmax(owner, np.where(same, 0.0, iou), n)
    dup_iou, _ = _segment_argmax(owner, np.where(same & used[objects], iou, 0.0), n)
    any_iou = np.maximum(loc_iou, cls_iou)
    kind = np.full(n, BOTH, np.int64)
    gt_of = np.full(n, -1, np.int64)
    # TIDE's tests in reverse order, so the first test that fits is written last
    kind[any_iou <= bg_iou] = BKG
    kind[dup_iou >= pos_iou] = DUPE
    is_cls = cls_iou >= pos_iou
    kind[is_cls] = CLS
    gt_of[is_cls] = objects[cls_arg[is_cls]]
    is_loc = (loc_iou >= bg_iou) & (loc_iou <= pos_iou) & (loc_arg >= 0)
    kind[is_loc] = LOC
    gt_of[is_loc] = objects[loc_arg[is_loc]]
    kind[~has_gt] = BKG
    gt_of[(kind != CLS) & (kind != LOC)] = -1
    return kind, gt_of


def tide_fixes(
    gt_of: np.ndarray,
    used: np.ndarray,
    regular: np.ndarray,
    score: np.ndarray,
    tie: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """TIDE's ``BestGTMatch``: per object no true positive took, the one classification
    or localisation error aiming at it that a fix makes its true positive (the highest
    score, then the lowest ``tie``); and the missed objects, which no true positive took
    and no error aims at.

    Args:
        gt_of: (E,) the object each error aims at, -1 for none.
        used: (G,) the objects a true positive took.
        regular: (G,) the objects that count (not crowd regions).
        score, tie: (E,) each error's score and its place among equal scores.

    Returns:
        (fixer (E,) bool, missed: the missed objects' indices).
    """
    aims = np.flatnonzero(gt_of >= 0)
    aims = aims[~used[gt_of[aims]]]
    aims = aims[np.lexsort((tie[aims], -score[aims], gt_of[aims]))]
    first = np.r_[True, gt_of[aims][1:] != gt_of[aims][:-1]] if len(aims) else []
    fixer = np.zeros(len(gt_of), bool)
    fixer[aims[np.asarray(first, bool)]] = True
    usable = np.zeros(len(regular), bool)
    usable[gt_of[aims]] = True
    return fixer, np.flatnonzero(regular & ~used & ~usable)


def _tide_map(
    cls: np.ndarray,
    positive: np.ndarray,
    keys: tuple[np.ndarray, ...],
    npos: np.ndarray,
    classes: np.ndarray,
) -> float:
    """tidecv's ``ClassedAPDataObject.get_mAP`` in AP points.

    Args:
        cls, positive: (N,) each point's class and whether it is a true positive.
        keys: the ranking, least significant first (``np.lexsort``), within a class.
        npos: (K,) objects per class.
        classes: (K,) bool, the classes of the data object (tidecv's ``objs``); those
            with neither points nor objects are empty and left out.
    """
    k = len(npos)
    order = np.lexsort((*keys, cls))
    c = cls[order]
    bounds = np.searchsorted(c, np.arange(k + 1))
    precision, _ = _precision_at_recalls(
        c, bounds, positive[order], ~positive[order], npos,
        np.asarray(TIDECV_RECALLS),
    )  # fmt: skip
    ap = np.where(npos > 0, precision.mean(axis=1), 0.0)
    kept = classes & ((np.diff(bounds) > 0) | (npos > 0))
    return float(ap[kept].mean() * 100) if kept.any() else 0.0


def analyse_errors_tidecv(
    evaluation: Evaluation,
    image_order: Sequence[int] | None = None,
    bg_iou: float = 0.1,
    pos_iou: float = 0.5,
    max_dets: int = 100,
) -> dict:
    """tidecv's typed errors and dAP of the evaluation's inputs (its matches unused).

    Args:
        evaluation: its flat ground truth and detections (a file's own boxes and scores).
        image_order: image ids in the ground truth's order (tidecv's order of images,
            which ranks tied scores); None: ascending ids.
        bg_iou, pos_iou: TIDE's background and foreground thresholds.
        max_dets: detections kept per image (tidecv's ``Data.max_dets``).

    Returns:
        The fields of ``error_types.ErrorAnalysis`` after ``evaluation`` and
        ``class_names``: ``ap50`` and ``dap`` (fractions), ``det``, ``det_type``,
        ``det_gt``, ``missed``.
    """
    flat = evaluation.flat
    n_dt, n_gt, k = len(flat.dt_class), len(flat.gt_class), flat.num_classes
    n_img = len(flat.image_ids)
    file_pos = np.arange(n_img)
    if image_order is not None:
        where = {int(i): n for n, i in enumerate(image_order)}
        file_pos = np.array([where[int(i)] for i in flat.image_ids], np.int64)
    score = flat.dt_score
    # each image's detections, best first (stable in the order given), 100 kept
    by_image = np.lexsort((flat.dt_index, -score, flat.dt_image))
    starts = np.searchsorted(flat.dt_image[by_image], flat.dt_image[by_image], "left")
    rank = np.empty(n_dt, np.int64)
    rank[by_image] = np.arange(n_dt) - starts
    counted = rank < max_dets
    regular = ~flat.gt_crowd

    # matching: every image and class at once, best score first
    group = flat.dt_image * k + flat.dt_class
    gt_group = np.where(regular, flat.gt_image * k + flat.gt_class, -1)
    pd_, pg = group_pairs(group, gt_group, np.flatnonzero(counted))
    iou = pair_iou(flat.dt_xywh[pd_], flat.gt_xywh[pg], np.zeros(len(pg), bool))
    hit = iou >= pos_iou
    thresholds = np.array([pos_iou], np.float64)
    tp, took = greedy_match(
        pd_[hit], pg[hit], iou[hit], group, thresholds, n_dt, n_gt, rank
    )
    tp = tp[:, 0]
    used = np.zeros(n_gt, bool)
    used[took[tp, 0]] = True

    # ignored: unmatched, over a crowd region of its class by more than pos_iou (IoA)
    crowd_group = np.where(flat.gt_crowd, flat.gt_image * k + flat.gt_class, -1)
    free_dt = np.flatnonzero(counted & ~tp)
    cd, cg = group_pairs(group, crowd_group, free_dt)
    ioa = pair_iou(flat.dt_xywh[cd], flat.gt_xywh[cg], np.ones(len(cg), bool))
    ignored = np.zeros(n_dt, bool)
    ignored[cd[ioa > pos_iou]] = True

    # types, tested in tidecv's order, of every unmatched detection (ignored ones too)
    err = free_dt
    n_err = len(err)
    err_pos = np.full(n_dt, -1, np.int64)
    err_pos[err] = np.arange(n_err)
    ed, eg = group_pairs(flat.dt_image, np.where(regular, flat.gt_image, -1), err)
    e_iou = pair_iou(flat.dt_xywh[ed], flat.gt_xywh[eg], np.zeros(len(eg), bool))
    same = flat.dt_class[ed] == flat.gt_class[eg]
    has_gt = np.bincount(flat.gt_image[regular], minlength=n_img)[flat.dt_image[err]] > 0
    kind, gt_of = tide_types(err_pos[ed], same, e_iou, eg, used, has_gt, bg_iou, pos_iou)
    # BestGTMatch: per free object, its highest-scoring error fixes (first on a tie)
    fixer, missed = tide_fixes(gt_of, used, regular, score[err], rank[err])

    npos = np.bincount(flat.gt_class[regular], minlength=k)
    base_pts = np.flatnonzero(counted & ~ignored)  # TPs and FPs, ignored ones left out
    classes = np.zeros(k, bool)
    classes[npos > 0] = True
    classes[flat.dt_class[base_pts]] = True
    img_pos = file_pos[flat.dt_image]
    base = _tide_map(
        flat.dt_class[base_pts], tp[base_pts],
        (rank[base_pts], img_pos[base_pts], -score[base_pts]), npos, classes,
    )  # fmt: skip

    tps = np.flatnonzero(tp & counted)
    dap = {}
    for code in (CLS, LOC, BOTH, DUPE, BKG, MISS):
        fixed = kind == code
        # the error loop's points: unfixed errors as they were (ignored ones: none),
        # fixed classification / localisation errors as true positives when they fix
        keep = np.where(fixed, fixer & ((kind == CLS) | (kind == LOC)), ~ignored[err])
        pts = err[keep]
        pts_cls = np.where(fixed & (kind == CLS), flat.gt_class[np.maximum(gt_of, 0)],
                           flat.dt_class[err])[keep]  # fmt: skip
        pts_tp = fixed[keep]
        n = npos - np.bincount(flat.gt_class[missed], minlength=k) if code == MISS else npos
        idx = np.concatenate([pts, tps])
        in_tps = np.r_[np.zeros(len(pts), np.int64), np.ones(len(tps), np.int64)]
        ap = _tide_map(
            np.concatenate([pts_cls, flat.dt_class[tps]]),
            np.concatenate([pts_tp, np.ones(len(tps), bool)]),
            (rank[idx], img_pos[idx], in_tps, -score[idx]), n, classes,
        )  # fmt: skip
        dap[code] = max(ap - base, 0.0) / 100
    return {
        "ap50": base / 100,
        "dap": dap,
        "det": err,
        "det_type": kind.astype(np.int8),
        "det_gt": gt_of,
        "missed": missed,
    }

