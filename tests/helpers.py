"""Builders for typed test objects."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from core.types import Detections


def make_detections(
    boxes: list[list[float]],
    scores: list[float] | None = None,
    class_ids: list[int] | None = None,
    class_names: tuple[str, ...] = ("a", "b", "c"),
) -> Detections:
    n = len(boxes)
    return Detections(
        np.array(boxes, dtype=np.float32).reshape(n, 4),
        np.array(scores if scores is not None else [1.0] * n, dtype=np.float32),
        np.array(class_ids if class_ids is not None else [0] * n, dtype=np.int64),
        class_names,
    )


def random_boxes(n: int, seed: int = 0, size: float = 640.0) -> np.ndarray:
    """(n, 4) valid xyxy boxes inside a size x size image."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size * 0.8, (n, 2))
    wh = rng.uniform(1, size * 0.3, (n, 2))
    return np.concatenate([xy, np.minimum(xy + wh, size)], axis=1)


def encode(image: Image.Image, fmt: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


def gradient_rgb(width: int = 64, height: int = 48) -> np.ndarray:
    """A deterministic RGB image whose every pixel differs from its neighbours."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(
        np.uint8
    )
