"""Box formats and pairwise IoU, vectorised with numpy.

Formats: ``xyxy`` (corners), ``xywh`` (top-left corner + size, COCO), ``cxcywh``
(centre + size, YOLO). All absolute pixels unless a function says "normalised".
"""

from __future__ import annotations

import numpy as np


def _as_boxes(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes: expected shape (N, 4), got {boxes.shape}")
    return boxes


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) ``x, y, w, h`` -> (N, 4) ``x1, y1, x2, y2``."""
    b = _as_boxes(boxes).copy()
    b[:, 2:] += b[:, :2]
    return b


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) ``x1, y1, x2, y2`` -> (N, 4) ``x, y, w, h``."""
    b = _as_boxes(boxes).copy()
    b[:, 2:] -= b[:, :2]
    return b


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) ``cx, cy, w, h`` -> (N, 4) ``x1, y1, x2, y2``."""
    b = _as_boxes(boxes)
    half = b[:, 2:] / 2
    return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) ``x1, y1, x2, y2`` -> (N, 4) ``cx, cy, w, h``."""
    b = _as_boxes(boxes)
    return np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], axis=1)


def normalize_xyxy(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Absolute ``xyxy`` -> ``xyxy`` in [0, 1] of the image size."""
    return _as_boxes(boxes) / np.array([width, height, width, height], dtype=np.float64)


def denormalize_xyxy(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """``xyxy`` in [0, 1] -> absolute pixels."""
    return _as_boxes(boxes) * np.array([width, height, width, height], dtype=np.float64)


def clip_xyxy(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip ``xyxy`` boxes to the image rectangle ``[0, width] x [0, height]``."""
    b = _as_boxes(boxes).copy()
    b[:, [0, 2]] = b[:, [0, 2]].clip(0, width)
    b[:, [1, 3]] = b[:, [1, 3]].clip(0, height)
    return b


def box_area(boxes: np.ndarray) -> np.ndarray:
    """(N,) areas of ``xyxy`` boxes (0 for degenerate boxes)."""
    b = _as_boxes(boxes)
    return (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection areas of (N, 4) and (M, 4) xyxy boxes."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clip(0)
    return wh[..., 0] * wh[..., 1]


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of two sets of ``xyxy`` boxes.

    Args:
        boxes_a: (N, 4) xyxy.
        boxes_b: (M, 4) xyxy.

    Returns:
        (N, M) float64 IoU; a pair whose union is empty has IoU 0.
    """
    a, b = _as_boxes(boxes_a), _as_boxes(boxes_b)
    inter = _intersection(a, b)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def box_ioa(boxes_a: np.ndarray, crowd_b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over the area of ``boxes_a`` (COCO's IoU with a crowd region).

    Args:
        boxes_a: (N, 4) xyxy detections.
        crowd_b: (M, 4) xyxy crowd regions.

    Returns:
        (N, M) float64 intersection / area(a); 0 where a has no area.
    """
    a, b = _as_boxes(boxes_a), _as_boxes(crowd_b)
    inter = _intersection(a, b)
    area = box_area(a)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, inter / area, 0.0)
