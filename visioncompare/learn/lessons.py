"""The Learn page's teaching computations: plain data from real predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from visioncompare.evaluation.metrics.ap import (
    APMethod,
    average_precision,
    precision_recall,
)
from visioncompare.evaluation.metrics.matching import IGNORED, TP, match_image
from visioncompare.kernel.boxes import box_iou
from visioncompare.kernel.taxonomy import IMAGENET_TO_COCO, resolve_mapping
from visioncompare.kernel.types import Classification, Detections


def multilabel(
    classification: Classification, threshold: float
) -> list[tuple[str, float]]:
    """Every class whose probability reaches ``threshold``, best first."""
    order = np.argsort(-classification.scores, kind="stable")
    return [
        (classification.class_names[i], float(classification.scores[i]))
        for i in order
        if classification.scores[i] >= threshold
    ]


def detector_label_set(detections: Detections) -> list[tuple[str, int, float]]:
    """The detector's answer as an image-level multi-label set: (class, boxes, best score),
    most boxes first."""
    out = []
    for name in sorted(set(detections.labels)):
        mask = np.array(detections.labels) == name
        out.append((name, int(mask.sum()), float(detections.scores[mask].max())))
    return sorted(out, key=lambda r: (-r[1], -r[2], r[0]))


def imagenet_to_coco(imagenet_names: Sequence[str]) -> dict[str, str]:
    """ImageNet class name -> the COCO class it is a kind of (only mapped classes)."""
    mapping = resolve_mapping(imagenet_names, list(IMAGENET_TO_COCO))
    return {
        imagenet_names[i]: coco for coco, indices in mapping.items() for i in indices
    }


def image_level_label(gt: Detections) -> str | None:
    """What an image-classification dataset would store for an image: one label, here the
    class covering the largest total box area (None for an image without boxes)."""
    if not len(gt):
        return None
    areas: dict[str, float] = {}
    for name, area in zip(gt.labels, gt.area):
        areas[name] = areas.get(name, 0.0) + float(area)
    return max(areas, key=lambda n: (areas[n], n))


def overlap_box(
    a: Sequence[float], b: Sequence[float]
) -> tuple[float, float, float, float] | None:
    """The intersection of two xyxy boxes (None when they do not overlap)."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def iou_of(a: Sequence[float], b: Sequence[float]) -> float:
    return float(box_iou(np.array([a]), np.array([b]))[0, 0])


@dataclass(frozen=True)
class APSteps:
    """A ranked list of detections turned into a precision-recall curve, step by step.

    Attributes:
        is_tp: (N,) True for a true positive at the IoU threshold, in rank order.
        scores: (N,) confidences in rank order.
        labels: (N,) class names.
        ious: (N,) best IoU with a ground truth of the same class.
        recall, precision: (N,) cumulative values after each detection.
        num_gt: ground-truth objects.
    """

    is_tp: np.ndarray
    scores: np.ndarray
    labels: list[str]
    ious: np.ndarray
    recall: np.ndarray
    precision: np.ndarray
    num_gt: int

    def ap_after(self, k: int, method: APMethod = APMethod.VOC_ALL) -> float:
        """AP of the first k detections (the curve so far)."""
        return average_precision(self.recall[:k], self.precision[:k], method)


def ap_steps(det: Detections, gt: Detections, iou_threshold: float = 0.5) -> APSteps:
    """Rank one image's detections and mark each TP or FP, for the 'AP built step by step'
    demonstration, by the evaluation's own rule
    (``visioncompare.evaluation.metrics.matching.match_image``): greedy by score within
    each class; a detection on a crowd region or a difficult object is ignored and left
    out of the ranking. All classes are pooled into one ranking.

    Args:
        det: detections, class ids in the ground truth's class list.
        gt: the image's ground truth.
    """
    records, _ = match_image(det, gt, iou_threshold)
    counted = [r for r in records if r[0] != IGNORED]
    is_tp = np.array([r[0] == TP for r in counted], dtype=bool)
    scores = np.array([r[2] for r in counted], dtype=np.float64)
    none = np.zeros(len(gt), dtype=np.int64)
    ignored = (gt.extra.get("iscrowd", none) > 0) | (
        gt.extra.get("difficult", none) > 0
    )
    num_gt = int((~ignored).sum())
    recall, precision = precision_recall(is_tp, scores, num_gt)
    return APSteps(
        is_tp,
        scores,
        [det.class_names[r[1]] for r in counted],
        np.array([r[3] for r in counted], dtype=np.float64),
        recall,
        precision,
        num_gt,
    )


def crop_boxes(
    image: np.ndarray, detections: Detections, margin: float = 0.1, min_side: int = 8
) -> list[tuple[int, np.ndarray]]:
    """Crops of each box (with a margin on every side, clipped to the image) for the
    classifier; boxes smaller than ``min_side`` pixels are skipped.

    Returns:
        (box index, (h, w, 3) uint8 crop) pairs.
    """
    h, w = image.shape[:2]
    out = []
    for i, (x1, y1, x2, y2) in enumerate(detections.xyxy.tolist()):
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        a, b = int(max(0, x1 - mx)), int(max(0, y1 - my))
        c, d = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
        if c - a >= min_side and d - b >= min_side:
            out.append((i, np.ascontiguousarray(image[b:d, a:c])))
    return out


def thumbnail(
    crop: np.ndarray, side: int = 160, fill: tuple[int, int, int] = (240, 240, 240)
) -> np.ndarray:
    """A crop fitted inside a ``side``×``side`` square (aspect kept, centred, the rest
    ``fill``), so a row of crops of any shape shares one height on the page.

    Args:
        crop: (h, w, 3) uint8 RGB.

    Returns:
        (side, side, 3) uint8 RGB.
    """
    h, w = crop.shape[:2]
    scale = side / max(h, w, 1)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR))
    out = np.empty((side, side, 3), np.uint8)
    out[:] = fill
    top, left = (side - size[1]) // 2, (side - size[0]) // 2
    out[top : top + size[1], left : left + size[0]] = small
    return out


def heatmap_overlay(
    image: np.ndarray, heat: np.ndarray, alpha: float = 0.5
) -> np.ndarray:
    """Blend an (H, W) map in [0, 1] over an RGB image with a blue-to-red ramp."""
    heat = np.clip(np.asarray(heat, np.float32), 0, 1)[..., None]
    cold, hot = np.array([40, 60, 220], np.float32), np.array([240, 40, 30], np.float32)
    colour = cold * (1 - heat) + hot * heat
    weight = alpha * (0.25 + 0.75 * heat)
    return (
        (image.astype(np.float32) * (1 - weight) + colour * weight)
        .round()
        .astype(np.uint8)
    )


@dataclass(frozen=True)
class ModelCost:
    """One model's size and speed as the Learn page shows them."""

    title: str
    macs: float
    """Multiply-accumulates per image (NaN when unknown)."""
    latency_ms: float
    runtime: str
    """What runs its arithmetic, in words (kernels, precision, threads)."""


def latency_note(a: ModelCost, b: ModelCost, tolerance: float = 3.0) -> str | None:
    """One line explaining a latency ratio the multiply-accumulates do not predict.

    None when the model with fewer MACs is faster by at least ``1 / tolerance`` of the MAC
    ratio (nothing surprising), or when a number is missing.
    """
    values = (a.macs, b.macs, a.latency_ms, b.latency_ms)
    if not all(np.isfinite(v) and v > 0 for v in values):
        return None
    small, big = (a, b) if a.macs <= b.macs else (b, a)
    mac_ratio = big.macs / small.macs
    speedup = big.latency_ms / small.latency_ms
    if mac_ratio < 2 or speedup * tolerance >= mac_ratio:
        return None
    speed = (
        f"is only {speedup:.1f}× faster"
        if speedup >= 1.05
        else "takes about as long"
        if speedup > 1 / 1.05
        else f"is {1 / speedup:.1f}× slower"
    )
    return (
        f"{small.title} does {mac_ratio:.0f}× fewer multiply-accumulates than {big.title} "
        f"but {speed} here: latency follows the kernels and threads, not the count "
        f"({small.title}: {small.runtime}; {big.title}: {big.runtime})."
    )


NOT_IN_IMAGENET = "n/a"
"""A crop whose detector class ImageNet has no class of (the page explains "n/a")."""


def crop_agreement(
    classification: Classification, detector_class: str, to_coco: dict[str, str]
) -> tuple[str, str]:
    """Whether a crop's classifier output agrees with the detector's class for the box.

    Args:
        classification: the classifier's output on the crop.
        detector_class: the detector's (COCO) class for the box.
        to_coco: ImageNet class -> the COCO class it is a kind of.

    Returns:
        (top-1, top-3): "yes" when the classifier's top-1 class (any of its top 3) maps to
        the detector's class, "no" otherwise, ``NOT_IN_IMAGENET`` for both when no
        ImageNet class maps to the detector's class.
    """
    if detector_class not in to_coco.values():
        return NOT_IN_IMAGENET, NOT_IN_IMAGENET
    mapped = [to_coco.get(name) for name, _ in classification.topk(3)]
    return (
        "yes" if mapped[:1] == [detector_class] else "no",
        "yes" if detector_class in mapped else "no",
    )
