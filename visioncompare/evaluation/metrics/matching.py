"""Per-image matching at a chosen confidence and IoU: TP / FP / FN with IoU, summary
counts, the IoU distribution, and a detection confusion matrix with a background class.

Matching is greedy by score within each class (pycocotools' rule): a detection takes the
highest-IoU ground truth of its class that is still free and overlaps by at least the IoU
threshold. A detection that instead overlaps a crowd region (intersection over the
detection's area) or a difficult object is "ignored": neither TP nor FP. Because each
detection only competes with higher-scoring ones, the matching at a confidence threshold
is the matching of all detections, filtered by score: one matching per IoU threshold serves
every confidence threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.kernel.boxes import box_ioa, box_iou
from visioncompare.kernel.types import Detections

TP, FP, FN, IGNORED = "TP", "FP", "FN", "ignored"
RECORD_COLUMNS = [
    "image_id", "kind", "class", "score", "iou", "x1", "y1", "x2", "y2", "gt_index",
]  # fmt: skip


def match_image(
    det: Detections, gt: Detections, iou_threshold: float
) -> tuple[list[tuple], np.ndarray]:
    """One image's matching, best score first.

    Args:
        det: detections, class ids in the ground truth's class list.
        gt: ground truth; ``extra`` ``iscrowd`` / ``difficult`` mark boxes to ignore
            (absent: none are).

    Returns:
        (records, matched): one ``(kind, class id, score, iou, x1, y1, x2, y2, gt index)``
        per detection in score order, and which ground truths a detection took.
    """
    order = np.argsort(-det.scores, kind="stable")
    det = det[order]
    none = np.zeros(len(gt), dtype=np.int64)
    crowd = gt.extra.get("iscrowd", none) > 0
    difficult = gt.extra.get("difficult", none) > 0
    matched = np.zeros(len(gt), dtype=bool)
    iou = box_iou(det.xyxy, gt.xyxy)
    ioa = box_ioa(det.xyxy, gt.xyxy)
    same_class = det.class_ids[:, None] == gt.class_ids[None, :]
    regular = ~(crowd | difficult)
    records = []
    for i in range(len(det)):
        kind, best_iou, gt_index = FP, 0.0, -1
        candidates = same_class[i] & regular & ~matched & (iou[i] >= iou_threshold)
        if candidates.any():
            gt_index = int(np.argmax(np.where(candidates, iou[i], -1.0)))
            kind, best_iou = TP, float(iou[i, gt_index])
            matched[gt_index] = True
        else:
            ignorable = same_class[i] & (
                (crowd & (ioa[i] >= iou_threshold))
                | (difficult & (iou[i] >= iou_threshold))
            )
            if ignorable.any():
                kind = IGNORED
            if same_class[i].any():  # report the best overlap it had, for the browser
                best_iou = float(np.max(np.where(same_class[i] & ~crowd, iou[i], 0.0)))
        records.append(
            (kind, int(det.class_ids[i]), float(det.scores[i]), best_iou,
             *det.xyxy[i].tolist(), gt_index)
        )  # fmt: skip
    return records, matched


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Every detection and every missed ground truth of a dataset at one IoU threshold.

    Attributes:
        records: one row per detection (TP / FP / ignored) and per missed ground truth
            (FN, score NaN); columns ``RECORD_COLUMNS``. Detections are all those given
            (filter with ``at_confidence``).
        iou_threshold: the IoU a match needs.
        class_names: the dataset's classes.
        num_gt: ground-truth objects that count (crowd and difficult excluded).
        gt_boxes: (image id, ground-truth index) -> its xyxy box.
    """

    records: pd.DataFrame
    iou_threshold: float
    class_names: tuple[str, ...]
    num_gt: int
    gt_boxes: dict[tuple[int, int], list[float]]

    def at_confidence(self, conf: float) -> pd.DataFrame:
        """Records at a confidence threshold: detections below it are dropped and the
        ground truths they matched become misses (FN)."""
        rec = self.records
        det = rec[rec["kind"] != FN]
        above = det["score"].to_numpy() >= np.float32(conf)
        keep = det[above]
        lost = det[~above & (det["kind"] == TP).to_numpy()]
        misses = rec[rec["kind"] == FN]
        if len(lost):
            xyxy = np.array(
                [
                    self.gt_boxes[(i, g)]
                    for i, g in zip(lost["image_id"], lost["gt_index"])
                ]
            )
            lost = lost.assign(
                kind=FN, score=np.nan, iou=np.nan,
                x1=xyxy[:, 0], y1=xyxy[:, 1], x2=xyxy[:, 2], y2=xyxy[:, 3],
            )  # fmt: skip
        frames = [f for f in (keep, misses, lost) if len(f)]
        if not frames:
            return rec.iloc[0:0]
        return pd.concat(frames, ignore_index=True)


def match_dataset(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    iou_threshold: float = 0.5,
    min_score: float = 0.0,
) -> MatchResult:
    """Match every image's detections (score >= ``min_score``) to its ground truth."""
    aligned = align_predictions(predictions, dataset).predictions
    rows: list[tuple] = []
    gt_lookup: dict[tuple[int, int], list[float]] = {}
    num_gt = 0
    for sample in dataset.samples:
        det = aligned[sample.image_id]
        det = det[det.scores >= min_score]
        gt = sample.gt
        records, matched = match_image(det, gt, iou_threshold)
        rows.extend((sample.image_id, *r) for r in records)
        countable = (gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)
        num_gt += int(countable.sum())
        for g in range(len(gt)):
            gt_lookup[(sample.image_id, g)] = gt.xyxy[g].tolist()
            if countable[g] and not matched[g]:
                rows.append(
                    (sample.image_id, FN, int(gt.class_ids[g]), np.nan, np.nan,
                     *gt.xyxy[g].tolist(), g)
                )  # fmt: skip
    frame = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    # Scores stay float32, as the model gave them, so a threshold compares the same way
    # here as on the Detections (float32(0.9) >= 0.9 must not depend on the container).
    frame["score"] = frame["score"].astype(np.float32)
    frame["class"] = pd.Categorical.from_codes(
        frame["class"].to_numpy(dtype=np.int64), categories=list(dataset.class_names)
    )
    return MatchResult(frame, iou_threshold, dataset.class_names, num_gt, gt_lookup)


@dataclass(frozen=True)
class Summary:
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float


def summarize(records: pd.DataFrame) -> Summary:
    """Counts and precision / recall / F1 of records at one threshold (ignored excluded)."""
    kinds = records["kind"].value_counts()
    tp, fp, fn = (int(kinds.get(k, 0)) for k in (TP, FP, FN))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Summary(tp, fp, fn, precision, recall, f1)


def f1_curve(match: MatchResult, thresholds: np.ndarray | None = None) -> pd.DataFrame:
    """Precision, recall and F1 at each confidence threshold (one matching, many cuts)."""
    det = match.records[match.records["kind"].isin([TP, FP])]
    return f1_of(
        det["score"].to_numpy(), (det["kind"] == TP).to_numpy(), match.num_gt, thresholds
    )


def f1_of(
    scores: np.ndarray,
    is_tp: np.ndarray,
    num_gt: int,
    thresholds: np.ndarray | None = None,
) -> pd.DataFrame:
    """``f1_curve`` of detections (float32 scores, in the matching's order) that are
    true or false positives, against ``num_gt`` objects."""
    thresholds = np.linspace(0.0, 1.0, 101) if thresholds is None else thresholds
    order = np.argsort(-scores, kind="stable")
    scores, is_tp = scores[order], is_tp[order]
    tp_cum = np.concatenate(([0], np.cumsum(is_tp)))
    # detections with score >= t, compared in float32 like everywhere else
    count = np.searchsorted(-scores, -thresholds.astype(np.float32), side="right")
    tp = tp_cum[count].astype(np.float64)
    fp = count - tp
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = tp / num_gt if num_gt else np.zeros_like(tp)
    denom = precision + recall
    f1 = np.divide(
        2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0
    )
    return pd.DataFrame(
        {"confidence": thresholds, "precision": precision, "recall": recall, "f1": f1}
    )


@dataclass(frozen=True, eq=False)
class ConfusionResult:
    """Detection confusion matrix.

    Attributes:
        matrix: (K + 1, K + 1) counts; rows are predicted classes, columns true classes;
            the last row and column are "background" (a missed object is in the background
            row of its true class, a false detection in the background column of its class).
        labels: the K class names then ``"background"``.
        conf, iou: the thresholds it was computed at.
        events: (E, 3) ``row, column, image id`` of every count (for ``images_in``).
    """

    matrix: np.ndarray
    labels: tuple[str, ...]
    conf: float
    iou: float
    events: np.ndarray

    def normalized(self) -> np.ndarray:
        """Each column divided by its total (the share of each true class's outcomes)."""
        totals = self.matrix.sum(axis=0, keepdims=True)
        return np.divide(
            self.matrix, totals, out=np.zeros(self.matrix.shape), where=totals > 0
        )

    def nonzero_cells(self) -> list[tuple[int, int]]:
        """Cells with a count, the largest first."""
        rows, cols = np.nonzero(self.matrix)
        order = np.argsort(-self.matrix[rows, cols], kind="stable")
        return [(int(rows[i]), int(cols[i])) for i in order]

    def images_in(self, cell: tuple[int, int]) -> list[int]:
        """Ids of the images contributing to one cell, ascending."""
        row, col = cell
        hit = (self.events[:, 0] == row) & (self.events[:, 1] == col)
        return [int(i) for i in np.unique(self.events[hit, 2])]

    @cached_property
    def cells(self) -> dict[tuple[int, int], list[int]]:
        """(row, column) -> image ids of every non-empty cell."""
        return {cell: self.images_in(cell) for cell in self.nonzero_cells()}


def confusion_matrix(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    conf: float,
    iou: float,
) -> ConfusionResult:
    """Class-agnostic matching, then a count of (predicted class, true class) pairs.

    The per-image reference for
    ``visioncompare.evaluation.metrics.explorer.Explorer.confusion`` (which the page
    uses): pairs of a detection (score >= conf) and a ground truth with IoU >= iou are
    taken in order of decreasing IoU, each box at most once. Crowd and difficult objects
    take no part.
    """
    aligned = align_predictions(predictions, dataset).predictions
    k = len(dataset.class_names)
    matrix = np.zeros((k + 1, k + 1), dtype=np.int64)
    events: list[tuple[int, int, int]] = []

    def add(row: int, col: int, image_id: int) -> None:
        matrix[row, col] += 1
        events.append((row, col, image_id))

    for sample in dataset.samples:
        det = aligned[sample.image_id]
        det = det[det.scores >= np.float32(conf)]
        gt = sample.gt
        gt = gt[(gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)]
        overlap = box_iou(det.xyxy, gt.xyxy)
        d_idx, g_idx = np.nonzero(overlap >= iou)
        used_d, used_g = set(), set()
        for n in np.argsort(-overlap[d_idx, g_idx], kind="stable"):
            d, g = int(d_idx[n]), int(g_idx[n])
            if d in used_d or g in used_g:
                continue
            used_d.add(d)
            used_g.add(g)
            add(int(det.class_ids[d]), int(gt.class_ids[g]), sample.image_id)
        for g in range(len(gt)):
            if g not in used_g:
                add(k, int(gt.class_ids[g]), sample.image_id)
        for d in range(len(det)):
            if d not in used_d:
                add(int(det.class_ids[d]), k, sample.image_id)
    return ConfusionResult(
        matrix, (*dataset.class_names, "background"), conf, iou,
        np.array(events, np.int64).reshape(-1, 3),
    )  # fmt: skip


def pr_curve(
    match: MatchResult, class_name: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The raw precision-recall curve of ranked detections at the matching's IoU.

    Args:
        match: a matching of all detections.
        class_name: one class, or None for every class pooled (micro average).

    Returns:
        (recall, precision, scores), each (N,), best score first.
    """
    rec = match.records
    if class_name is not None:
        rec = rec[rec["class"] == class_name]
    det = rec[rec["kind"].isin([TP, FP])]
    is_tp = (det["kind"] == TP).to_numpy()
    if class_name is None:
        num_gt = match.num_gt
    else:
        num_gt = int(is_tp.sum() + (rec["kind"] == FN).sum())
    return pr_of(det["score"].to_numpy(), is_tp, num_gt)


def pr_of(
    scores: np.ndarray, is_tp: np.ndarray, num_gt: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pr_curve`` of detections (float32 scores, in the matching's order) that are
    true or false positives, against ``num_gt`` objects."""
    order = np.argsort(-scores, kind="stable")
    tp = is_tp[order]
    scores = scores.astype(np.float64)[order]
    tp_cum = np.cumsum(tp, dtype=np.float64)
    recall = tp_cum / num_gt if num_gt else np.zeros_like(tp_cum)
    precision = tp_cum / np.arange(1, len(tp) + 1)
    return recall, precision, scores


def operating_point(
    recall: np.ndarray, precision: np.ndarray, scores: np.ndarray, conf: float
) -> tuple[float, float] | None:
    """(recall, precision) of the detections kept at ``conf`` (None: none kept)."""
    kept = int(
        np.searchsorted(-scores.astype(np.float32), -np.float32(conf), side="right")
    )
    return (float(recall[kept - 1]), float(precision[kept - 1])) if kept else None
