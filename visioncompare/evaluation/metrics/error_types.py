"""TIDE error types (Bolya et al., ECCV 2020) read from one evaluation.

Every false positive at IoU 0.5 and every missed object gets one of six types, in TIDE's
order of tests (the first that fits wins):

1. localisation: its best IoU with an object of its class is in [0.1, 0.5];
2. classification: IoU >= 0.5 with an object of another class;
3. duplicate: IoU >= 0.5 with an object of its class that a higher-scoring detection took;
4. background: IoU <= 0.1 with every object (also: the image has no objects);
5. both (classification and localisation): none of the above;
6. missed: an object no detection took and no classification / localisation error
   points at.

dAP of a type is TIDE's: fix that type only, re-score AP50 and subtract (clamped at 0, as
TIDE does). Fixing a classification or localisation error turns the highest-scoring such
error on a free object into a true positive (of the object's class) and drops the others;
a duplicate, background or "both" error is dropped; a missed object leaves the count of
objects.

Two sets of rules (``RULES``), each labelled on the page:

- ``coco`` (the default): the matching is the evaluation's (pycocotools' rules at IoU
  0.5, area "all", maxDets 100), so the unfixed AP50 is the page's mAP50. Deliberate
  differences from ``tidecv`` 1.0.1 (the tests name them): its matching caps 100
  detections per image and ours per (image, class) like COCO's; it averages classes that
  have detections but no objects as AP 0, we leave them out (COCO's rule); detections
  ignored on a crowd region are not errors here (it types them);
- ``tidecv``: tidecv 1.0.1's own rules (``error_types_tidecv``), so each dAP equals what
  the ``tidecv`` package prints for the same ground truth and results files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from visioncompare.evaluation.metrics.cocoeval import (
    Evaluation,
    _precision_at_recalls,
    group_pairs,
    pair_iou,
)
from visioncompare.evaluation.metrics.error_types_tidecv import BKG as BKG
from visioncompare.evaluation.metrics.error_types_tidecv import BOTH as BOTH
from visioncompare.evaluation.metrics.error_types_tidecv import (
    CLS,
    MISS,
    analyse_errors_tidecv,
    tide_fixes,
    tide_types,
)
from visioncompare.evaluation.metrics.error_types_tidecv import DUPE as DUPE
from visioncompare.evaluation.metrics.error_types_tidecv import LOC as LOC

ERROR_TYPES = (
    "classification", "localisation", "both", "duplicate", "background", "missed",
)  # fmt: skip
"""The six types, in TIDE's order (``CLS`` ... ``MISS`` index them)."""
RULES = {
    "coco": "COCO's rules (the evaluation's own matching: AP50 is COCO's AP50)",
    "tidecv": "tidecv 1.0.1's rules (the numbers the tidecv package prints)",
}
"""The two sets of rules ``analyse_errors`` offers, with their labels."""
RULES_DIFFER = (
    "tidecv keeps the 100 best boxes per image (COCO: per image and class), matches "
    "without area ranges and ignores a box on a crowd region only above 0.5 of its area "
    "(it still types it), counts a class with boxes but no objects as AP 0 (COCO leaves "
    "it out) and samples recall at x/100, so its AP50 and dAP can differ from COCO's."
)
"""One sentence on what differs between the two rules."""
ERROR_HELP = (
    "IoU ≥ 0.5 with an object of another class",
    "IoU 0.1–0.5 with an object of its class",
    "none of the above: mostly the wrong class and poorly placed",
    "IoU ≥ 0.5 with an object a higher-scoring detection already took",
    "IoU ≤ 0.1 with every object",
    "an object no detection found or came near",
)


@dataclass(frozen=True, eq=False)
class ErrorAnalysis:
    """The typed errors of one evaluation and the dAP of each type.

    Attributes:
        evaluation: the evaluation the errors are read from.
        class_names: the dataset's classes.
        ap50: AP50 before any fix (under COCO's rules the evaluation's AP50, under
            tidecv's the AP50 tidecv prints, as a fraction).
        dap: type name -> AP50 gained by fixing that type only (fractions, not points).
        det: (E,) flat indices of the false positives.
        det_type: (E,) their type code (``CLS`` ... ``BOTH``).
        det_gt: (E,) the object each points at (flat ground-truth index; -1 none).
        missed: (M,) flat indices of the missed objects.
        rules: ``coco`` or ``tidecv`` (``RULES``); under tidecv's, ``ap50`` is tidecv's
            AP50 and ``det`` includes detections ignored on crowd regions.
    """

    evaluation: Evaluation
    class_names: tuple[str, ...]
    ap50: float
    dap: dict[str, float]
    det: np.ndarray
    det_type: np.ndarray
    det_gt: np.ndarray
    missed: np.ndarray
    rules: str = "coco"

    @property
    def rules_label(self) -> str:
        """The rules' label (``RULES``)."""
        return RULES[self.rules]

    def counts(self) -> dict[str, int]:
        n = np.bincount(self.det_type, minlength=6)
        n[MISS] = len(self.missed)
        return {name: int(c) for name, c in zip(ERROR_TYPES, n)}

    def table(self) -> pd.DataFrame:
        """One row per type: count, dAP (AP50 points, as TIDE prints), images."""
        counts = self.counts()
        images = self.images_per_type
        return pd.DataFrame(
            {
                "error type": list(ERROR_TYPES),
                "count": [counts[t] for t in ERROR_TYPES],
                "dAP50": [100 * self.dap[t] for t in ERROR_TYPES],
                "images": [len(images[t]) for t in ERROR_TYPES],
                "meaning": list(ERROR_HELP),
            }
        )

    @cached_property
    def _frame(self) -> pd.DataFrame:
        """Every error as a row: type, image id, class, score and box (xyxy)."""
        flat = self.evaluation.flat
        d, g = self.det, self.missed
        xywh = np.concatenate([flat.dt_xywh[d], flat.gt_xywh[g]])
        frame = pd.DataFrame(
            {
                "type": np.concatenate([self.det_type, np.full(len(g), MISS)]),
                "image_id": flat.image_ids[
                    np.concatenate([flat.dt_image[d], flat.gt_image[g]])
                ],
                "class": np.concatenate([flat.dt_class[d], flat.gt_class[g]]),
                "score": np.concatenate(
                    [flat.dt_score[d], np.full(len(g), np.nan)]
                ).astype(np.float32),
                "x1": xywh[:, 0], "y1": xywh[:, 1],
                "x2": xywh[:, 0] + xywh[:, 2], "y2": xywh[:, 1] + xywh[:, 3],
            }
        )  # fmt: skip
        return frame

    @cached_property
    def images_per_type(self) -> dict[str, pd.DataFrame]:
        """Type name -> (image_id, errors) of the images with that type, most first."""
        frame = self._frame
        out = {}
        for code, name in enumerate(ERROR_TYPES):
            ids = frame["image_id"].to_numpy()[frame["type"].to_numpy() == code]
            uniq, n = np.unique(ids, return_counts=True)
            order = np.lexsort((uniq, -n))
            out[name] = pd.DataFrame({"image_id": uniq[order], "errors": n[order]})
        return out

    def images(self, error_type: str, min_score: float = 0.0) -> pd.DataFrame:
        """(image_id, errors) of the images with that type among detections scoring >=
        ``min_score`` (missed objects always count), most errors first."""
        if min_score <= 0:
            return self.images_per_type[error_type]
        frame = self._frame
        code = ERROR_TYPES.index(error_type)
        score = frame["score"].to_numpy()
        keep = (frame["type"].to_numpy() == code) & ~(score < np.float32(min_score))
        uniq, n = np.unique(frame["image_id"].to_numpy()[keep], return_counts=True)
        order = np.lexsort((uniq, -n))
        return pd.DataFrame({"image_id": uniq[order], "errors": n[order]})

    def boxes(
        self, image_id: int, error_type: str | None = None, min_score: float = 0.0
    ) -> pd.DataFrame:
        """One image's errors (of one type, or all) among detections scoring >=
        ``min_score`` (missed objects always): type name, class name, score, xyxy."""
        frame = self._frame
        rows = frame[frame["image_id"].to_numpy() == image_id]
        if error_type is not None:
            rows = rows[rows["type"] == ERROR_TYPES.index(error_type)]
        if min_score > 0:
            rows = rows[~(rows["score"].to_numpy() < np.float32(min_score))]
        rows = rows.copy()
        rows["type"] = [ERROR_TYPES[t] for t in rows["type"]]
        rows["class"] = [self.class_names[c] for c in rows["class"]]
        return rows.reset_index(drop=True)


def _map(
    cls: np.ndarray,
    score: np.ndarray,
    tie: np.ndarray,
    tp: np.ndarray,
    npos: np.ndarray,
    rec_thr: np.ndarray,
) -> float:
    """COCO's 101-point AP averaged over classes with objects (ranked by score, then
    ``tie``)."""
    order = np.lexsort((tie, -score, cls))
    c = cls[order]
    bounds = np.searchsorted(c, np.arange(len(npos) + 1))
    precision, _ = _precision_at_recalls(
        c, bounds, tp[order], ~tp[order], npos, rec_thr
    )
    valid = npos > 0
    return float(precision[valid].mean()) if valid.any() else -1.0


def analyse_errors(
    evaluation: Evaluation,
    class_names: tuple[str, ...],
    bg_iou: float = 0.1,
    rules: str = "coco",
    image_order: Sequence[int] | None = None,
) -> ErrorAnalysis:
    """Type every false positive and missed object at IoU 0.5 and compute each dAP.

    Args:
        evaluation: matches at COCO's thresholds (IoU 0.5 must be one of them).
        class_names: the dataset's classes.
        bg_iou: TIDE's background threshold.
        rules: ``coco`` (the evaluation's matching) or ``tidecv`` (tidecv 1.0.1's).
        image_order: for ``tidecv``: the image ids in the ground truth file's order
            (``[s.image_id for s in dataset.samples]``), which ranks tied scores.

    Raises:
        ValueError: unknown rules, or 0.5 is not one of the evaluation's IoU thresholds.
    """
    if rules not in RULES:
        raise ValueError(f"rules: expected one of {sorted(RULES)}, got {rules!r}")
    if rules == "tidecv":
        found = analyse_errors_tidecv(evaluation, image_order, bg_iou)
        dap = {name: found["dap"][code] for code, name in enumerate(ERROR_TYPES)}
        return ErrorAnalysis(
            evaluation, tuple(class_names), found["ap50"], dap, found["det"],
            found["det_type"], found["det_gt"], found["missed"], "tidecv",
        )  # fmt: skip
    params, flat = evaluation.params, evaluation.flat
    if 0.5 not in params.iou_thresholds:
        raise ValueError("TIDE errors need IoU 0.5 among the evaluation's thresholds")
    pos_iou = 0.5
    t = params.iou_thresholds.index(pos_iou)
    md = params.max_dets
    cap = 100 if 100 in md else md[min(2, len(md) - 1)]  # the AP's maxDets
    n_gt, k = len(flat.gt_class), flat.num_classes
    counted = evaluation.dt_rank < cap
    match = evaluation.dt_match[:, 0, t].astype(np.int64)
    ignored = evaluation.dt_ignore[:, 0, t]
    tp = counted & (match >= 0) & ~ignored
    fp_idx = np.flatnonzero(counted & (match < 0) & ~ignored)
    regular = ~flat.gt_crowd
    used = np.zeros(n_gt, bool)
    used[match[tp]] = True

    # every (false positive, object) pair of an image, any class, crowd regions left out
    gt_key = np.where(regular, flat.gt_image, -1)
    pd_, pg = group_pairs(flat.dt_image, gt_key, fp_idx)
    # pairs that do not overlap in x have IoU 0, which no test reads: left out early
    dx, gx = flat.dt_xywh[:, 0], flat.gt_xywh[:, 0]
    dx2, gx2 = dx + flat.dt_xywh[:, 2], gx + flat.gt_xywh[:, 2]
    near = (np.fmin(dx2[pd_], gx2[pg]) - np.fmax(dx[pd_], gx[pg])) > 0
    pd_, pg = pd_[near], pg[near]
    iou = pair_iou(flat.dt_xywh[pd_], flat.gt_xywh[pg], np.zeros(len(pg), bool))
    n_fp = len(fp_idx)
    fp_pos = np.full(len(flat.dt_class), -1, np.int64)
    fp_pos[fp_idx] = np.arange(n_fp)
    owner = fp_pos[pd_]  # position in fp_idx, sorted
    same = flat.dt_class[pd_] == flat.gt_class[pg]
    has_gt = np.bincount(flat.gt_image[regular], minlength=len(flat.image_ids))[
        flat.dt_image[fp_idx]
    ] > 0
    kind, gt_of = tide_types(owner, same, iou, pg, used, has_gt, bg_iou, pos_iou)

    # the one classification / localisation error that a fix makes a true positive, per
    # free object: the highest score (ties: the first in the image's ranking)
    score = flat.dt_score
    fixer, missed = tide_fixes(gt_of, used, regular, score[fp_idx], fp_idx)

    # AP50 with each type fixed
    rec_thr = np.asarray(params.recall_thresholds, np.float64)
    npos = np.bincount(flat.gt_class[regular], minlength=k)
    tp_idx = np.flatnonzero(tp)
    tie = flat.dt_image * (cap + 1) + evaluation.dt_rank

    # every point of the unfixed ranking, sorted once: (class, -score, image, rank)
    points = np.concatenate([tp_idx, fp_idx])
    points = points[np.lexsort((tie[points], -score[points], flat.dt_class[points]))]
    point_cls = flat.dt_class[points]
    point_tp = tp[points]
    of_fp = fp_pos[points]  # position in fp_idx, -1 for a true positive
    bounds = np.searchsorted(point_cls, np.arange(k + 1))

    def ranked_map(keep, positive, n) -> float:
        c = point_cls[keep]
        precision, _ = _precision_at_recalls(
            c, np.searchsorted(c, np.arange(k + 1)) if not keep.all() else bounds,
            positive[keep], ~positive[keep], n, rec_thr,
        )  # fmt: skip
        valid = n > 0
        return float(precision[valid].mean()) if valid.any() else -1.0

    def rescored(code: int) -> float:
        if code == CLS:  # fixed errors change class: rank again
            fixed = kind == CLS
            d_fp, d_new = fp_idx[~fixed], fp_idx[fixed & fixer]
            cls = np.concatenate([flat.dt_class[tp_idx], flat.dt_class[d_fp],
                                  flat.gt_class[gt_of[fixed & fixer]]])  # fmt: skip
            idx = np.concatenate([tp_idx, d_fp, d_new])
            positive = np.concatenate(
                [np.ones(len(tp_idx), bool), np.zeros(len(d_fp), bool),
                 np.ones(len(d_new), bool)]
            )  # fmt: skip
            return _map(cls, score[idx], tie[idx], positive, npos, rec_thr)
        # the other fixes keep every point's class and place: drop or promote in place
        is_fp = of_fp >= 0
        fixed = np.zeros(len(points), bool)
        fixed[is_fp] = kind[of_fp[is_fp]] == code
        promote = np.zeros(len(points), bool)
        promote[is_fp] = fixer[of_fp[is_fp]]
        promote &= fixed
        keep = ~fixed | promote
        positive = point_tp | promote
        n = npos
        if code == MISS:
            n = npos - np.bincount(flat.gt_class[missed], minlength=k)
        return ranked_map(keep, positive, n)

    base = rescored(-1)
    dap = {}
    for code, name in enumerate(ERROR_TYPES):
        dap[name] = max(rescored(code) - base, 0.0) if base >= 0 else 0.0
    return ErrorAnalysis(
        evaluation, tuple(class_names), base, dap, fp_idx, kind.astype(np.int8),
        gt_of, missed,
    )  # fmt: skip
