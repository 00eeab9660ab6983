"""ObjectLab, cleanlab's label quality scores for object detection, in numpy.

cleanlab 2.9 (``cleanlab.object_detection``, AGPL-3.0 like this project) scores every
annotated box and every confident predicted box of an image, pools them into one label
quality score per image, and flags boxes whose score falls below a per-class threshold.
Its reference code compares boxes one pair at a time in Python and computes the per-class
thresholds in a process pool (8 s for 32 COCO images here, a forked process per IoU
threshold); this module computes the same numbers with array operations. The tests hold
it equal to ``cleanlab.object_detection.rank.get_label_quality_scores``,
``filter.find_label_issues`` and the per-box ``compute_*_box_scores`` on the same inputs.

Inputs are cleanlab's own (``label_issues.CleanlabInputs``): per image a ``labels`` dict
(``bboxes`` (L, 4) xyxy absolute pixels, ``labels`` (L,) class indices) and a list of K
``(M_k, 5)`` arrays ``[x1, y1, x2, y2, score]``, one per class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# cleanlab.internal.constants (2.9), named here so that importing this module does not
# import cleanlab and scikit-learn (seconds).
ALPHA = 0.9
"""Weight of IoU against centre distance in the box similarity."""
EUC_FACTOR = 0.1
"""How fast the distance term decays with the centres' distance in pixels."""
EPSILON = 1e-6
TINY_VALUE = 1e-100
LOW_PROBABILITY_THRESHOLD = 0.5
"""Predicted boxes above this score can show that a label box is badly placed."""
HIGH_PROBABILITY_THRESHOLD = 0.95
"""Predicted boxes at or above this score can show a missing box or a swapped class."""
TEMPERATURE = 0.1
"""Softmin temperature that pools box scores into an image score."""
LABEL_OVERLAP_THRESHOLD = 0.95
"""Two label boxes of different classes overlapping this much: a swap candidate."""
THRESHOLD_FACTOR = 0.8
"""A box is flagged when its score <= this times its class's scaled AP (all kinds)."""
AP_SCALE_FACTOR = 0.25
WEIGHTS = {"overlooked": 1 / 3, "swap": 1 / 3, "badloc": 1 / 3}
"""Each subtype's weight in the image's label quality (a weighted geometric mean)."""
IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10, endpoint=True)
"""The IoU thresholds of the per-class AP behind the flagging thresholds."""


@dataclass(frozen=True, eq=False)
class ImageBoxes:
    """One image's boxes as cleanlab separates them.

    Attributes:
        lab_bboxes: (L, 4) float64 annotated boxes, xyxy absolute pixels.
        lab_labels: (L,) int64 their class indices.
        pred_bboxes: (M, 4) float64 predicted boxes, class by class (cleanlab's order).
        pred_labels: (M,) int64 their class indices.
        pred_probs: (M,) float64 their scores.
        iou: (L, M) IoU of every label box with every predicted box.
        similarity: (L, M) ``ALPHA * IoU + (1 - ALPHA) * exp(-EUC_FACTOR * distance)``.
    """

    lab_bboxes: np.ndarray
    lab_labels: np.ndarray
    pred_bboxes: np.ndarray
    pred_labels: np.ndarray
    pred_probs: np.ndarray
    iou: np.ndarray
    similarity: np.ndarray


@dataclass(frozen=True, eq=False)
class BoxScores:
    """Every box's scores (lower: more likely a label error), per image.

    Attributes:
        overlooked: per image (M,) for each predicted box; NaN where the box is not a
            candidate (below the high threshold, or overlapping a label box).
        swap: per image (L,) for each label box.
        badloc: per image (L,) for each label box.
        swap_by: per image (L,) the predicted box behind the swap score (-1: none).
        badloc_by: per image (L,) the predicted box behind the badloc score (-1: none).
    """

    overlooked: list[np.ndarray]
    swap: list[np.ndarray]
    badloc: list[np.ndarray]
    swap_by: list[np.ndarray]
    badloc_by: list[np.ndarray]


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cleanlab's IoU of every box of ``a`` (N, 4) with every box of ``b`` (M, 4), xyxy.

    Returns:
        (N, M) float64; 0 where the boxes do not meet; the union is clipped at EPSILON.
    """
    a, b = a[:, None, :4], b[None, :, :4]
    left = np.maximum(a[..., 0], b[..., 0])
    top = np.maximum(a[..., 1], b[..., 1])
    right = np.minimum(a[..., 2], b[..., 2])
    bottom = np.minimum(a[..., 3], b[..., 3])
    inter = (right - left) * (bottom - top)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    iou = inter / np.clip(area_a + area_b - inter, EPSILON, None)
    return np.where((right < left) | (bottom < top), 0.0, iou)


def _similarity(iou: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    centre_a = np.stack([(a[:, 0] + a[:, 2]) / 2, (a[:, 1] + a[:, 3]) / 2], axis=1)
    centre_b = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
    distance = np.linalg.norm(centre_a[:, None, :] - centre_b[None, :, :], axis=2)
    # The same expression as cleanlab's (1 - (1 - d) is not d in floating point).
    dist_matrix = 1 - np.exp(-distance * EUC_FACTOR)
    return iou * ALPHA + (1 - ALPHA) * (1 - dist_matrix)


def image_boxes(label: dict, prediction: list[np.ndarray]) -> ImageBoxes:
    """Separate one image's cleanlab inputs and compare every label with every box."""
    lab_bboxes = np.asarray(label["bboxes"], np.float64).reshape(-1, 4)
    lab_labels = np.asarray(label["labels"], np.int64).reshape(-1)
    stacked = np.concatenate(
        [np.asarray(p, np.float64).reshape(-1, 5) for p in prediction]
    )
    pred_labels = np.repeat(
        np.arange(len(prediction), dtype=np.int64), [len(p) for p in prediction]
    )
    iou = pairwise_iou(lab_bboxes, stacked[:, :4])
    return ImageBoxes(
        lab_bboxes, lab_labels, stacked[:, :4], pred_labels, stacked[:, 4], iou,
        _similarity(iou, lab_bboxes, stacked[:, :4]),
    )  # fmt: skip


def min_possible_similarity(images: list[ImageBoxes]) -> float:
    """The smallest non-zero similarity of any label and predicted box in the dataset
    (1.0 when there is none): cleanlab's floor for a few scores."""
    smallest = 1.0
    for image in images:
        nonzero = image.similarity[image.similarity != 0]
        if nonzero.size:
            smallest = min(smallest, float(nonzero.min()))
    return smallest


def _masked_best(values: np.ndarray, mask: np.ndarray, axis: int):
    """Max and argmax of ``values`` where ``mask`` along ``axis`` (first of ties)."""
    masked = np.where(mask, values, -np.inf)
    if not masked.shape[axis]:
        shape = masked.shape[1 - axis]
        return np.full(shape, -np.inf), np.zeros(shape, np.int64)
    return masked.max(axis=axis), masked.argmax(axis=axis)


def box_scores(
    images: list[ImageBoxes],
    high: float = HIGH_PROBABILITY_THRESHOLD,
    low: float = LOW_PROBABILITY_THRESHOLD,
) -> BoxScores:
    """cleanlab's overlooked, swap and badloc scores of every box.

    Args:
        images: every image's boxes (``image_boxes``).
        high: the score at or above which a predicted box can reveal a missing label
            (overlooked) and above which one can reveal a swapped class.
        low: the score above which a predicted box can reveal a badly placed label.
    """
    floor = min_possible_similarity(images)
    out = BoxScores([], [], [], [], [])
    for im in images:
        same = im.lab_labels[:, None] == im.pred_labels[None, :]  # (L, M)
        # Overlooked: a confident box that touches no label box.
        candidate = (im.pred_probs >= high) & ~np.any(im.iou > 0, axis=0)
        best_same, _ = _masked_best(im.similarity, same, axis=0)
        has_same = same.any(axis=0)
        overlooked = np.where(has_same, best_same, floor * (1 - im.pred_probs))
        out.overlooked.append(np.where(candidate, overlooked, np.nan))
        # Badly located: the best same-class box above ``low`` that overlaps the label.
        near = same & (im.pred_probs[None, :] > low) & (im.iou > 0)
        best, by = _masked_best(im.similarity, near, axis=1)
        found = near.any(axis=1)
        out.badloc.append(np.where(found, best, 1.0))
        out.badloc_by.append(np.where(found, by, -1))
        # Swapped: the most similar confident box of another class.
        other = ~same & (im.pred_probs[None, :] > high)
        best, by = _masked_best(im.similarity, other, axis=1)
        found = other.any(axis=1)
        swap = np.where(found, np.maximum(floor, 1 - best), 1.0)
        overlap = _conflicting_labels(im.lab_bboxes, im.lab_labels)
        out.swap.append(np.where(overlap, floor, swap))
        out.swap_by.append(np.where(found & ~overlap, by, -1))
    return out


def _conflicting_labels(bboxes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(L,) label boxes that another label box of another class covers almost exactly."""
    iou = pairwise_iou(bboxes, bboxes)
    np.fill_diagonal(iou, 0.0)
    return np.any(
        (iou >= LABEL_OVERLAP_THRESHOLD) & (labels[:, None] != labels[None, :]), axis=1
    )


def _softmin(scores: np.ndarray) -> float:
    """cleanlab's softmin pooling of one image's box scores (NaN left out; none: 1.0)."""
    scores = scores[~np.isnan(scores)]
    if not len(scores):
        return 1.0
    x = -scores / max(TEMPERATURE, EPSILON)
    x = x - np.max(x, axis=0, keepdims=True)
    weights = np.exp(x) / np.sum(np.exp(x), axis=0, keepdims=True)
    return float(np.dot(weights, scores))


def pooled(per_box: list[np.ndarray]) -> np.ndarray:
    """(N,) one subtype's image scores from its box scores."""
    return np.array([_softmin(s) for s in per_box], np.float64)


def label_quality(scores: BoxScores) -> np.ndarray:
    """(N,) cleanlab's label quality score of each image, in [0, 1]; low: suspicious."""
    log = sum(
        WEIGHTS[kind] * np.log(TINY_VALUE + pooled(getattr(scores, kind)))
        for kind in ("overlooked", "badloc", "swap")
    )
    return np.exp(log)


def _average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """All-point AP as cleanlab computes it (the precision envelope, VOC 2010+)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    index = np.where(mrec[1:] != mrec[:-1])[0]
    return np.float32(np.sum((mrec[index + 1] - mrec[index]) * mpre[index + 1]))


def _true_positives(pred: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """(T, M) one image's predicted boxes of one class that are true positives at each
    IoU threshold: each label box goes to the first (by score) box whose best IoU is
    with it and reaches the threshold; later ones count as false positives."""
    tp = np.zeros((len(IOU_THRESHOLDS), len(pred)), bool)
    if not len(lab):
        return tp
    ious = pairwise_iou(pred[:, :4], lab)
    order = np.argsort(-pred[:, -1])  # cleanlab's (unstable) order, for equal ties
    best, which = ious.max(axis=1)[order], ious.argmax(axis=1)[order]
    reaches = best[None, :] >= IOU_THRESHOLDS[:, None]  # (T, M), by score
    same = which[:, None] == np.arange(len(lab))[None, :]  # (M, L)
    # How many boxes reaching the threshold claimed this box's label so far, itself
    # included: the first one (1) is the true positive.
    claims = np.cumsum(reaches[:, :, None] & same[None], axis=1)  # (T, M, L)
    first = np.take_along_axis(claims, which[None, :, None], axis=2)[..., 0] == 1
    tp[:, order] = reaches & first
    return tp


def class_thresholds(
    labels: list[dict], predictions: list[list[np.ndarray]]
) -> np.ndarray:
    """(K,) the score at or below which a box of each class is flagged: cleanlab's
    per-class AP (mean over IoU 0.50:0.05:0.95) times ``AP_SCALE_FACTOR`` and
    ``THRESHOLD_FACTOR``."""
    n_classes = len(predictions[0]) if predictions else 0
    hits: list[list[np.ndarray]] = [[] for _ in range(n_classes)]
    scores: list[list[np.ndarray]] = [[] for _ in range(n_classes)]
    n_gt = np.zeros(n_classes, np.int64)
    for label, prediction in zip(labels, predictions):
        boxes = np.asarray(label["bboxes"], np.float64).reshape(-1, 4)
        classes = np.asarray(label["labels"], np.int64).reshape(-1)
        n_gt += np.bincount(classes, minlength=n_classes)[:n_classes]
        for k, pred in enumerate(prediction):
            if len(pred):  # in image order, as cleanlab stacks them
                pred = np.asarray(pred, np.float64).reshape(-1, 5)
                hits[k].append(_true_positives(pred, boxes[classes == k]))
                scores[k].append(pred[:, -1])
    thresholds = np.zeros(n_classes, np.float32)  # float32, as cleanlab's
    eps = np.finfo(np.float32).eps
    for k in range(n_classes):
        tp = np.concatenate(hits[k], axis=1) if hits[k] else np.zeros((10, 0), bool)
        order = np.argsort(-np.concatenate(scores[k])) if scores[k] else []
        tp = tp[:, order].astype(np.float32)
        aps = []  # one (1,) array per IoU threshold, averaged as cleanlab does
        for row in tp:
            tps, fps = np.cumsum(row), np.cumsum(1 - row)
            recall = tps / np.maximum(np.array([n_gt[k]]), eps)
            precision = tps / np.maximum(tps + fps, eps)
            aps.append(np.array([_average_precision(recall, precision)], np.float32))
        thresholds[k] = np.mean(aps) * AP_SCALE_FACTOR
    return thresholds * THRESHOLD_FACTOR


def flagged_boxes(
    scores: BoxScores, images: list[ImageBoxes], thresholds: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per image, the overlooked (M,), swap (L,) and badloc (L,) boxes at or below
    their class's threshold (``class_thresholds``); NaN scores never are."""
    flags: tuple[list, list, list] = ([], [], [])
    for n, im in enumerate(images):
        for out, values, classes in (
            (flags[0], scores.overlooked[n], im.pred_labels),
            (flags[1], scores.swap[n], im.lab_labels),
            (flags[2], scores.badloc[n], im.lab_labels),
        ):
            values = np.where(np.isnan(values), 1.0, values)
            out.append(values <= thresholds[classes])
    return flags
