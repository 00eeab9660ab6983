"""Draw boxes and labels on an RGB image (our own annotator: RGB in, RGB out, no downloads)."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from visioncompare.kernel.types import Detections


@lru_cache(maxsize=256)
def class_color(class_name: str) -> tuple[int, int, int]:
    """A stable, well-separated colour per class name (golden-ratio hue walk on a hash)."""
    digest = sum((i + 1) * ord(c) for i, c in enumerate(class_name))
    hue = (digest * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


@dataclass(frozen=True)
class BoxStyle:
    """How one group of boxes is drawn: a fixed colour (or per class), line width, dashes."""

    color: tuple[int, int, int] | None = None
    width: int | None = None
    dashed: bool = False


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _text_color(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    luminance = 0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2]
    return (0, 0, 0) if luminance > 150 else (255, 255, 255)


def _dashed_rectangle(
    draw: ImageDraw.ImageDraw,
    box: Sequence[float],
    color: tuple[int, int, int],
    width: int,
    dash: int,
) -> None:
    x1, y1, x2, y2 = box
    for (ax, ay), (bx, by) in (
        ((x1, y1), (x2, y1)),
        ((x2, y1), (x2, y2)),
        ((x2, y2), (x1, y2)),
        ((x1, y2), (x1, y1)),
    ):
        length = max(abs(bx - ax), abs(by - ay))
        steps = max(1, int(length // dash))
        for i in range(0, steps, 2):
            t0, t1 = i / steps, min(1.0, (i + 1) / steps)
            draw.line(
                [
                    (ax + (bx - ax) * t0, ay + (by - ay) * t0),
                    (ax + (bx - ax) * t1, ay + (by - ay) * t1),
                ],
                fill=color,
                width=width,
            )


def annotate(
    image: np.ndarray,
    detections: Detections,
    labels: Sequence[str] | None = None,
    style: BoxStyle | None = None,
) -> np.ndarray:
    """Draw boxes with labels on a copy of an image.

    Args:
        image: (H, W, 3) uint8 RGB.
        detections: boxes in absolute-pixel xyxy.
        labels: one text per box; defaults to ``"class score"``.
        style: colour (None: one colour per class), line width (None: scaled to the image),
            and whether the outline is dashed.

    Returns:
        (H, W, 3) uint8 RGB with the boxes drawn; the input is not modified.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"image: expected (H, W, 3) uint8, got {image.shape} {image.dtype}"
        )
    style = style or BoxStyle()
    if labels is None:
        labels = [f"{n} {s:.2f}" for n, s in zip(detections.labels, detections.scores)]
    if len(labels) != len(detections):
        raise ValueError(f"labels: expected {len(detections)}, got {len(labels)}")
    height, width = image.shape[:2]
    scale = max(height, width)
    line = style.width or max(2, round(scale / 320))
    font = _font(max(11, round(scale / 50)))
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    # Largest first, so small boxes stay visible on top of large ones.
    order = np.argsort(-detections.area, kind="stable")
    colors = [style.color or class_color(name) for name in detections.labels]
    for i in order:
        box = detections.xyxy[i].tolist()
        if style.dashed:
            _dashed_rectangle(draw, box, colors[i], line, dash=max(4, line * 3))
        else:
            draw.rectangle(box, outline=colors[i], width=line)
    # Labels after every box (no outline crosses a label), placed so they do not overlap;
    # the best-scoring boxes choose their place first.
    pad = max(2, line)
    sizes, offsets = [], []
    for text in labels:
        left, top, right, bottom = draw.textbbox((0, 0), text or " ", font=font)
        sizes.append((right - left + 2 * pad, bottom - top + 2 * pad))
        offsets.append((left, top))
    wanted = [i for i in np.argsort(-detections.scores, kind="stable") if labels[i]]
    places = place_labels(
        detections.xyxy[wanted], [sizes[i] for i in wanted], width, height
    )
    for i, (x, y) in zip(wanted, places):
        w, h = sizes[i]
        left, top = offsets[i]
        draw.rectangle([x, y, x + w, y + h], fill=colors[i])
        draw.text(
            (x + pad - left, y + pad - top),
            labels[i],
            fill=_text_color(colors[i]),
            font=font,
        )
    return np.asarray(canvas)


def caption_band(image: np.ndarray, text: str) -> np.ndarray:
    """Write one line of text in a dark band along the bottom of a copy of an image.

    The image keeps its size (a video's frames must), so the band covers the bottom
    rows; text that does not fit is cut with an ellipsis.

    Args:
        image: (H, W, 3) uint8 RGB.
        text: the caption.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    height, width = image.shape[:2]
    font = _font(max(11, round(max(height, width) / 45)))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pad = max(3, round(height / 120))

    def size(s: str) -> tuple[int, int, int, int]:
        return probe.textbbox((0, 0), s, font=font)

    shown = text
    while shown and size(shown)[2] - size(shown)[0] > width - 2 * pad:
        shown = shown[:-2] + "…" if len(shown) > 2 else ""
    left, top, _right, bottom = size(shown or " ")
    band = min(height, bottom - top + 2 * pad)
    out = image.copy()
    region = out[height - band :].astype(np.uint16)
    out[height - band :] = (region * 3 // 10).astype(np.uint8)  # darken, keep context
    canvas = Image.fromarray(out)
    ImageDraw.Draw(canvas).text(
        (pad - left, height - band + pad - top), shown, fill=(255, 255, 255), font=font
    )
    return np.asarray(canvas)


def place_labels(
    boxes: np.ndarray,
    sizes: Sequence[tuple[float, float]],
    width: int,
    height: int,
    max_shift: int = 8,
) -> list[tuple[float, float]]:
    """Top-left corners for box labels that do not overlap one another.

    Each label tries, in order: above its box, inside its top edge, below its box, inside
    its bottom edge (each at the box's left, then right-aligned); then the same spots moved
    down or up by one label height at a time, up to ``max_shift`` heights. The first place
    inside the image that overlaps no label already placed wins; a label with no free place
    keeps its first spot. Labels are placed in the order given: put the important first.

    Args:
        boxes: (N, 4) xyxy, absolute pixels.
        sizes: (width, height) of each label in pixels.
        width, height: the image size.
        max_shift: how many label heights a label may move away from its box.

    Returns:
        N (x, y) top-left corners, each label inside the image when it fits.
    """
    placed = np.empty((0, 4))
    corners: list[tuple[float, float]] = []
    shifts = [0] + [sign * k for k in range(1, max_shift + 1) for sign in (1, -1)]
    for (x1, y1, x2, y2), (w, h) in zip(np.asarray(boxes, float).tolist(), sizes):
        base = [(x, y) for y in (y1 - h, y1, y2, y2 - h) for x in (x1, x2 - w)]
        spots = np.array([(x, y + k * h) for k in shifts for x, y in base], float)
        spots[:, 0] = np.clip(spots[:, 0], 0, max(0.0, width - w))
        inside = (spots[:, 1] >= 0) & (spots[:, 1] + h <= height)
        rects = np.column_stack([spots, spots[:, 0] + w, spots[:, 1] + h])
        clash = (
            (rects[:, None, 0] < placed[None, :, 2])
            & (placed[None, :, 0] < rects[:, None, 2])
            & (rects[:, None, 1] < placed[None, :, 3])
            & (placed[None, :, 1] < rects[:, None, 3])
        ).any(axis=1)
        free = np.flatnonzero(inside & ~clash)
        if len(free):
            x, y = spots[free[0]]
        else:
            x, y = spots[0, 0], min(max(0.0, spots[0, 1]), max(0.0, height - h))
        placed = np.vstack([placed, (x, y, x + w, y + h)])
        corners.append((float(x), float(y)))
    return corners
