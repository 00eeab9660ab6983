"""The threshold explorer: numbers at one confidence and IoU, looked up in an evaluation.

``visioncompare.evaluation.metrics.cocoeval`` keeps every detection's match at COCO's
ten IoU thresholds, so the explorer's IoU snaps to those values and an IoU change is an
index. Each detection only competes with higher-scoring ones, so the matching at a
confidence threshold is the full matching with the detections below it removed (the
objects they matched become misses): a confidence change is a ``searchsorted``. The
rules are COCO's at area "all" (crowd regions ignore their matches; VOC ``difficult``
objects are left out, as in every COCO-style number here).

The confusion matrix matches class-agnostically: pairs of a detection (score >= conf) and
an object (not a crowd region) with IoU >= the threshold, taken in order of decreasing
IoU, each box at most once. The candidate pairs are computed once; a threshold change
filters them and resolves the greedy matching with a few vectorised rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from visioncompare.evaluation.metrics.cocoeval import Evaluation, group_pairs, pair_iou
from visioncompare.evaluation.metrics.matching import (
    FN,
    FP,
    IGNORED,
    RECORD_COLUMNS,
    TP,
    ConfusionResult,
    MatchResult,
    Summary,
    f1_of,
    pr_of,
)


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    corner = xywh[:, :2] + xywh[:, 2:]
    return np.concatenate(
        [np.minimum(xywh[:, :2], corner), np.maximum(xywh[:, :2], corner)], axis=1
    )


def greedy_pairs(
    det: np.ndarray, gt: np.ndarray, iou: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs taken in order of decreasing IoU (ties: input order), each box at most once.

    Equal to the sequential greedy loop: a pair that is the best remaining pair of both
    its boxes is taken by the loop too, so each round takes all such pairs at once.

    Returns:
        (det, gt) of the taken pairs.
    """
    n = len(iou)
    if not n:
        return det[:0], gt[:0]
    rank = np.empty(n, np.int64)
    rank[np.lexsort((np.arange(n), -iou))] = np.arange(n)
    alive = np.ones(n, bool)
    size_d = int(det.max()) + 1
    size_g = int(gt.max()) + 1
    taken = []
    while alive.any():
        idx = np.flatnonzero(alive)
        best_d = np.full(size_d, n, np.int64)
        best_g = np.full(size_g, n, np.int64)
        np.minimum.at(best_d, det[idx], rank[idx])
        np.minimum.at(best_g, gt[idx], rank[idx])
        win = idx[(best_d[det[idx]] == rank[idx]) & (best_g[gt[idx]] == rank[idx])]
        taken.append(win)
        used_d = np.zeros(size_d, bool)
        used_g = np.zeros(size_g, bool)
        used_d[det[win]] = True
        used_g[gt[win]] = True
        alive &= ~(used_d[det] | used_g[gt])
    chosen = np.concatenate(taken)
    return det[chosen], gt[chosen]


@dataclass(frozen=True, eq=False)
class Explorer:
    """Lookups into one evaluation (area "all", every detection given).

    Attributes:
        evaluation: the evaluation (matches at ``params.iou_thresholds``).
        class_names: the dataset's classes.
    """

    evaluation: Evaluation
    class_names: tuple[str, ...]

    @property
    def iou_thresholds(self) -> tuple[float, ...]:
        return self.evaluation.params.iou_thresholds

    def snap(self, iou: float) -> int:
        return self.evaluation.params.snap_iou(iou)

    def warm(self) -> None:
        """Compute what every threshold change reads (once, with the report)."""
        _ = self._kinds, self._pairs, self._num_gt

    @cached_property
    def _scores32(self) -> np.ndarray:
        # thresholds compare in float32, as on the Detections the model gave
        return self.evaluation.flat.dt_score.astype(np.float32)

    @cached_property
    def _num_gt(self) -> int:
        return int((~self.evaluation.gt_ignore[:, 0]).sum())

    @cached_property
    def _kinds(self) -> np.ndarray:
        """(D, T) int8: 0 TP, 1 FP, 2 ignored."""
        ev = self.evaluation
        matched = ev.dt_match[:, 0, :] >= 0
        ignored = ev.dt_ignore[:, 0, :]
        return np.where(ignored, 2, np.where(matched, 0, 1)).astype(np.int8)

    def _sorted_scores(self, t: int, kind: int) -> np.ndarray:
        key = (t, kind)
        cache = self.__dict__.setdefault("_sorted", {})
        if key not in cache:
            cache[key] = np.sort(self._scores32[self._kinds[:, t] == kind])
        return cache[key]

    def summary(self, conf: float, iou: float) -> Summary:
        """TP / FP / FN, precision, recall and F1 at one operating point."""
        t = self.snap(iou)
        c = np.float32(conf)
        tp_scores, fp_scores = self._sorted_scores(t, 0), self._sorted_scores(t, 1)
        tp = int(len(tp_scores) - np.searchsorted(tp_scores, c, side="left"))
        fp = int(len(fp_scores) - np.searchsorted(fp_scores, c, side="left"))
        fn = self._num_gt - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return Summary(tp, fp, fn, precision, recall, f1)

    def pr_curve(
        self, iou: float, class_name: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``matching.pr_curve`` of ``match(iou)``, read from the evaluation's arrays
        without building the matching's records."""
        t, flat, order = self.snap(iou), self.evaluation.flat, self._by_score
        kinds = self._kinds[order, t]
        counted = kinds != 2
        if class_name is None:
            num_gt = self._num_gt
        else:
            c = self.class_names.index(class_name)
            counted &= flat.dt_class[order] == c
            num_gt = int(((flat.gt_class == c) & ~self.evaluation.gt_ignore[:, 0]).sum())
        scores = self._scores32[order]
        return pr_of(scores[counted], kinds[counted] == 0, num_gt)

    def f1_curve(self, iou: float) -> pd.DataFrame:
        """``matching.f1_curve`` of ``match(iou)``, read from the evaluation's arrays."""
        kinds = self._kinds[self._by_score, self.snap(iou)]
        counted = kinds != 2
        scores = self._scores32[self._by_score]
        return f1_of(scores[counted], kinds[counted] == 0, self._num_gt)

    @cached_property
    def _by_score(self) -> np.ndarray:
        """Every detection, best score first, ties in the records' order (a stable sort):
        the curves' own stable sort then finds them in order, at every IoU."""
        return np.argsort(-self._scores32, kind="stable")

    def match(self, iou: float) -> MatchResult:
        """Every detection and every missed object at one IoU threshold, as records
        (filter with ``MatchResult.at_confidence``)."""
        t = self.snap(iou)
        cache = self.__dict__.setdefault("_matches", {})
        if t not in cache:
            while len(cache) >= 2:  # records of 500,000 boxes: keep the last two
                cache.pop(next(iter(cache)))
            cache[t] = self._match(t)
        return cache[t]

    def _match(self, t: int) -> MatchResult:
        ev, flat = self.evaluation, self.evaluation.flat
        kinds = self._kinds[:, t]
        gt_of = ev.dt_match[:, 0, t].astype(np.int64)
        iou = ev.dt_best_iou.copy()
        hit = np.flatnonzero(gt_of >= 0)
        iou[hit] = pair_iou(
            flat.dt_xywh[hit], flat.gt_xywh[gt_of[hit]], flat.gt_crowd[gt_of[hit]]
        )
        det_box = _xyxy(flat.dt_xywh)
        covered = np.zeros(len(flat.gt_class), bool)
        covered[gt_of[(gt_of >= 0) & (kinds == 0)]] = True
        missed = np.flatnonzero(~covered & ~ev.gt_ignore[:, 0])
        gt_box = _xyxy(flat.gt_xywh)
        names = np.array([TP, FP, IGNORED], dtype=object)
        det_frame = pd.DataFrame(
            {
                "image_id": flat.image_ids[flat.dt_image],
                "kind": names[kinds],
                "class": flat.dt_class,
                "score": flat.dt_score.astype(np.float32),
                "iou": iou,
                "x1": det_box[:, 0], "y1": det_box[:, 1],
                "x2": det_box[:, 2], "y2": det_box[:, 3],
                "gt_index": np.where(gt_of >= 0, flat.gt_index[np.maximum(gt_of, 0)], -1),
            }
        )  # fmt: skip
        fn_frame = pd.DataFrame(
            {
                "image_id": flat.image_ids[flat.gt_image[missed]],
                "kind": FN,
                "class": flat.gt_class[missed],
                "score": np.full(len(missed), np.nan, np.float32),
                "iou": np.nan,
                "x1": gt_box[missed, 0], "y1": gt_box[missed, 1],
                "x2": gt_box[missed, 2], "y2": gt_box[missed, 3],
                "gt_index": flat.gt_index[missed],
            }
        )  # fmt: skip
        frame = pd.concat([det_frame, fn_frame], ignore_index=True)[RECORD_COLUMNS]
        frame["class"] = pd.Categorical.from_codes(
            frame["class"].to_numpy(np.int64), categories=list(self.class_names)
        )
        frame["score"] = frame["score"].astype(np.float32)
        return MatchResult(frame, self.iou_thresholds[t], self.class_names,
                           self._num_gt, self._gt_boxes)  # fmt: skip

    @cached_property
    def _gt_boxes(self) -> dict[tuple[int, int], list[float]]:
        """(image id, index in its image) -> xyxy of every ground-truth box: the same at
        every IoU threshold, so built once (about 0.2 s for 36,000 boxes)."""
        flat = self.evaluation.flat
        return {
            (int(i), int(g)): box
            for i, g, box in zip(
                flat.image_ids[flat.gt_image], flat.gt_index, _xyxy(flat.gt_xywh).tolist()
            )
        }

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._pairs_above(self.evaluation.params.min_conf)

    def _pairs_above(self, conf: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (detection, object) pair of an image, any classes, crowd regions left
        out, with IoU >= the lowest threshold, for detections scoring >= ``conf``."""
        flat = self.evaluation.flat
        gt_key = np.where(flat.gt_crowd, -1, flat.gt_image)  # crowd regions: no image
        dets = np.flatnonzero(self._scores32 >= np.float32(conf))
        det, gt = group_pairs(flat.dt_image, gt_key, dets)
        iou = pair_iou(flat.dt_xywh[det], flat.gt_xywh[gt], np.zeros(len(gt), bool))
        keep = iou >= min(self.iou_thresholds)
        return det[keep], gt[keep], iou[keep]

    def confusion(self, conf: float, iou: float) -> ConfusionResult:
        """The confusion matrix at one operating point (IoU snapped like the rest)."""
        iou = self.iou_thresholds[self.snap(iou)]
        flat = self.evaluation.flat
        k = len(self.class_names)
        if np.float32(conf) >= np.float32(self.evaluation.params.min_conf):
            det, gt, overlap = self._pairs
        else:
            det, gt, overlap = self._pairs_above(conf)
        kept = self._scores32 >= np.float32(conf)
        use = kept[det] & (overlap >= iou)
        d, g = greedy_pairs(det[use], gt[use], overlap[use])
        matched_d = np.zeros(len(flat.dt_class), bool)
        matched_g = np.zeros(len(flat.gt_class), bool)
        matched_d[d] = True
        matched_g[g] = True
        false = np.flatnonzero(kept & ~matched_d)
        missed = np.flatnonzero(~matched_g & ~flat.gt_crowd)
        rows = np.concatenate([flat.dt_class[d], flat.dt_class[false], np.full(len(missed), k)])
        cols = np.concatenate([flat.gt_class[g], np.full(len(false), k), flat.gt_class[missed]])
        images = flat.image_ids[
            np.concatenate([flat.dt_image[d], flat.dt_image[false], flat.gt_image[missed]])
        ]
        matrix = np.bincount(rows * (k + 1) + cols, minlength=(k + 1) ** 2).reshape(
            k + 1, k + 1
        )
        events = np.stack([rows, cols, images], axis=1)
        return ConfusionResult(
            matrix, (*self.class_names, "background"), conf, iou, events
        )
