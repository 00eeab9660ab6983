"""Draw boxes and labels on an RGB image (our own annotator: RGB in, RGB out, no downloads).

Colours: one per class name, the same on every page (boxes, labels and the charts of
``visioncompare.plots``), from ``PALETTE``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from visioncompare.kernel.types import Detections

PALETTE: tuple[tuple[int, int, int], ...] = (
    (225, 30, 75), (0, 150, 255), (255, 210, 0), (240, 0, 255), (0, 240, 195),
    (255, 90, 0), (60, 15, 255), (0, 255, 0), (255, 150, 180), (150, 90, 0),
    (0, 210, 255), (165, 225, 30), (120, 60, 120), (210, 225, 135), (15, 120, 0),
    (255, 0, 165), (0, 135, 105), (240, 135, 255), (255, 180, 135), (75, 60, 195),
    (135, 60, 60), (195, 180, 240), (0, 225, 105), (75, 90, 30),
)  # fmt: skip
"""24 class colours, each at least 35 CIELAB units (ΔE76) from every other and from
white, black and grey: picked greedily (farthest first) from an sRGB grid, lightness 35 to
88 and chroma above 30, so each stands out on a photograph and from its neighbours. Their
order gives the classes of one street scene (person, bicycle, car, motorcycle, bus, train,
truck) hues of their own: red, azure, yellow, magenta, orange, blue, green."""

COLOR_ORDER: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl",
    "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
    "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
    "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
    "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
"""The order colours are handed out in: COCO's 80 classes in COCO's own order (used for
colours only; class names always come from the model or the dataset). Neighbours in it
(person, bicycle, car, motorcycle, bus...) share scenes, and get different colours."""


@lru_cache(maxsize=1024)
def class_color(class_name: str) -> tuple[int, int, int]:
    """The colour of a class, the same on every page and in every chart.

    ``person`` has the first colour to itself; the other COCO classes take the others in
    COCO's order, round and round; any other name (an open-vocabulary prompt, a dataset of
    its own) a colour chosen by a checksum of the name.
    """
    name = class_name.strip().lower()
    if name == COLOR_ORDER[0]:
        return PALETTE[0]
    if name in _ORDER_INDEX:
        return PALETTE[1 + (_ORDER_INDEX[name] - 1) % (len(PALETTE) - 1)]
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


_ORDER_INDEX = {name: i for i, name in enumerate(COLOR_ORDER)}


def hex_color(rgb: tuple[int, int, int]) -> str:
    """``(225, 30, 75)`` -> ``"#e11e4b"`` (for Plotly)."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def class_hex(class_name: str) -> str:
    """``class_color`` as a ``#rrggbb`` string."""
    return hex_color(class_color(class_name))


@dataclass(frozen=True)
class BoxStyle:
    """How one group of boxes is drawn: a fixed colour (or per class), line width, dashes."""

    color: tuple[int, int, int] | None = None
    width: int | None = None
    dashed: bool = False


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    c = np.asarray(rgb, np.float64) / 255
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    return float(c @ (0.2126, 0.7152, 0.0722))


@lru_cache(maxsize=64)
def _text_color(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever contrasts more with ``fill`` (WCAG contrast ratio)."""
    lum = _luminance(fill)
    return (0, 0, 0) if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else (255, 255, 255)


@lru_cache(maxsize=4096)
def _text_mask(text: str, size: int) -> np.ndarray:
    """One line of text in the default font at ``size`` px, rendered once: the coverage
    of its ink box, (h, w) uint8 from 0 to 255, anti-aliased as ``ImageDraw.text`` draws
    it. Cached: a video's labels repeat frame after frame (4096 short labels are a few
    MB at most)."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)))
    ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=font)
    coverage = np.asarray(mask)
    coverage.flags.writeable = False
    return coverage


def _put_text(
    out: np.ndarray, x: int, y: int, coverage: np.ndarray, color: tuple[int, int, int]
) -> None:
    """Blend ``color`` into ``out`` in place through ``coverage`` with its top-left at
    (x, y), clipped to the image: what ``ImageDraw.text`` does, on the array itself."""
    height, width = out.shape[:2]
    h, w = coverage.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    alpha = coverage[y0 - y : y1 - y, x0 - x : x1 - x, None].astype(np.uint16)
    region = out[y0:y1, x0:x1]
    ink = np.asarray(color, np.uint16)
    region[...] = (region * (255 - alpha) + ink * alpha + 127) // 255


def _fill(
    out: np.ndarray, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int]
) -> None:
    """Paint the pixels x0..x1, y0..y1 (both inclusive, as PIL counts a rectangle),
    clipped to the image."""
    height, width = out.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width - 1, x1), min(height - 1, y1)
    if x1 >= x0 and y1 >= y0:
        out[y0 : y1 + 1, x0 : x1 + 1] = color


def _outline(
    out: np.ndarray,
    box: Sequence[float],
    color: tuple[int, int, int],
    width: int,
    dash: int = 0,
) -> None:
    """A box's outline, ``width`` px inside its edges (as PIL's ``rectangle`` draws it),
    solid or, with ``dash`` > 0, in dashes about ``dash`` px long with gaps as long,
    painted straight into the array (no copy of the image)."""
    x1, y1, x2, y2 = (int(v) for v in box)
    if x2 < x1 or y2 < y1:
        return
    w = width - 1
    for horizontal, lo, hi, a, b in (
        (True, x1, x2, y1, y1 + w),
        (True, x1, x2, y2 - w, y2),
        (False, y1, y2, x1, x1 + w),
        (False, y1, y2, x2 - w, x2),
    ):
        steps = max(1, (hi - lo) // dash) if dash else 1
        for i in range(0, steps, 2 if dash else 1):
            s0 = lo + (hi - lo) * i // steps
            s1 = hi if steps == 1 else lo + (hi - lo) * (i + 1) // steps
            if horizontal:
                _fill(out, s0, a, s1, b, color)
            else:
                _fill(out, a, s0, b, s1, color)


Layer = tuple[Detections, "Sequence[str] | None", "BoxStyle | None"]
"""One group of boxes for ``annotate_layers``: detections, their labels, their style."""


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
        labels: one text per box; defaults to ``"class score"``; an empty text draws
            no label.
        style: colour (None: one colour per class), line width (None: scaled to the image),
            and whether the outline is dashed.

    Returns:
        (H, W, 3) uint8 RGB with the boxes drawn; the input is not modified.

    Raises:
        ValueError: the image is not (H, W, 3) uint8, or labels and boxes differ in number.
    """
    return annotate_layers(image, [(detections, labels, style)])


def annotate_layers(image: np.ndarray, layers: Sequence[Layer]) -> np.ndarray:
    """Draw several groups of boxes, each in its own style, with one label placement for
    all of them: no label covers another, whichever group it belongs to.

    Put the most important layer last: its boxes are drawn over the others, and its
    labels choose their places first (within a layer, the best scores first).

    Args:
        image: (H, W, 3) uint8 RGB.
        layers: (detections, labels, style) per group, as ``annotate`` takes them.

    Returns:
        (H, W, 3) uint8 RGB; the input is not modified.

    Raises:
        ValueError: as ``annotate``.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"image: expected (H, W, 3) uint8, got {image.shape} {image.dtype}"
        )
    height, width = image.shape[:2]
    scale = max(height, width)
    font_size = max(11, round(scale / 50))
    # Drawn straight into one copy of the image with numpy (the labels' text rendered
    # once per text and size): a video writes every frame through here.
    out = image.copy()
    texts: list[str] = []
    boxes: list[np.ndarray] = []
    colors: list[tuple[int, int, int]] = []
    ranks: list[tuple[int, float]] = []
    line = max(2, round(scale / 320))
    for layer, (detections, labels, style) in enumerate(layers):
        style = style or BoxStyle()
        if labels is None:
            labels = [
                f"{n} {s:.2f}" for n, s in zip(detections.labels, detections.scores)
            ]
        if len(labels) != len(detections):
            raise ValueError(f"labels: expected {len(detections)}, got {len(labels)}")
        width_px = style.width or line
        dash = max(4, width_px * 3) if style.dashed else 0
        layer_colors = [style.color or class_color(n) for n in detections.labels]
        # Largest first, so small boxes stay visible on top of large ones.
        for i in np.argsort(-detections.area, kind="stable"):
            _outline(out, detections.xyxy[i].tolist(), layer_colors[i], width_px, dash)
        for i, text in enumerate(labels):
            if text:
                texts.append(text)
                boxes.append(detections.xyxy[i])
                colors.append(layer_colors[i])
                ranks.append((-layer, -float(detections.scores[i])))
    if not texts:
        return out
    # Labels after every box (no outline crosses a label), placed so that they do not
    # overlap; later layers, then the best-scoring boxes, choose their place first.
    pad = max(2, line)
    masks = [_text_mask(text, font_size) for text in texts]
    sizes = [(m.shape[1] + 2 * pad, m.shape[0] + 2 * pad) for m in masks]
    order = sorted(range(len(texts)), key=lambda i: ranks[i])
    places = place_labels(
        np.array([boxes[i] for i in order], np.float64).reshape(-1, 4),
        [sizes[i] for i in order],
        width,
        height,
    )
    drawn = [(i, place) for i, place in zip(order, places) if place is not None]
    # (A label with no free room left is not drawn: the page's table still lists it.)
    for i, (x, y) in drawn:
        w, h = sizes[i]
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        if x > x2 or x + w < x1 or y > y2 or y + h < y1:  # moved away: point at its box
            anchor = (min(max(x + w / 2, x1), x2), min(max(y + h / 2, y1), y2))
            centre = (round(x + w / 2), round(y + h / 2))
            cv2.line(out, centre, (round(anchor[0]), round(anchor[1])), colors[i], pad)
    for i, (x, y) in drawn:
        w, h = sizes[i]
        _fill(out, int(x), int(y), int(x + w), int(y + h), colors[i])
        _put_text(out, int(x) + pad, int(y) + pad, masks[i], _text_color(colors[i]))
    return out


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
    font_size = max(11, round(max(height, width) / 45))
    font = _font(font_size)
    pad = max(3, round(height / 120))

    def ink_width(s: str) -> int:
        left, _, right, _ = font.getbbox(s)
        return right - left

    shown = text
    while shown and ink_width(shown) > width - 2 * pad:
        shown = shown[:-2] + "…" if len(shown) > 2 else ""
    _, top, _, bottom = font.getbbox(shown or " ")
    band = min(height, bottom - top + 2 * pad)
    out = image.copy()
    region = out[height - band :]
    region[...] = region.astype(np.uint16) * 3 // 10  # darken, keep context
    if shown:
        _put_text(
            out, pad, height - band + pad, _text_mask(shown, font_size), (255,) * 3
        )
    return out


def place_labels(
    boxes: np.ndarray,
    sizes: Sequence[tuple[float, float]],
    width: int,
    height: int,
    max_shift: int = 8,
) -> list[tuple[float, float] | None]:
    """Top-left corners for box labels that do not overlap one another.

    Each label tries, in order: above its box, inside its top edge, below its box, inside
    its bottom edge (each at the box's left, then right-aligned); then the same spots moved
    down or up by one label height at a time, up to ``max_shift`` heights. The first place
    inside the image that overlaps no label already placed wins. A label with none of
    these free takes the free place nearest its box anywhere in the image (the annotator
    then draws a line to its box); with no free place at all it gets None (not drawn).
    Labels are placed in the order given: put the important first.

    Args:
        boxes: (N, 4) xyxy, absolute pixels.
        sizes: (width, height) of each label in pixels.
        width, height: the image size.
        max_shift: how many label heights a label may move away from its box.

    Returns:
        N (x, y) top-left corners (or None), each label inside the image; no two of the
        labels placed intersect.
    """
    placed = np.empty((0, 4))
    corners: list[tuple[float, float] | None] = []
    shifts = [0] + [sign * k for k in range(1, max_shift + 1) for sign in (1, -1)]
    for (x1, y1, x2, y2), (w, h) in zip(np.asarray(boxes, float).tolist(), sizes):
        base = [(x, y) for y in (y1 - h, y1, y2, y2 - h) for x in (x1, x2 - w)]
        spots = np.array([(x, y + k * h) for k in shifts for x, y in base], float)
        spots[:, 0] = np.clip(spots[:, 0], 0, max(0.0, width - w))
        free = _free_spots(spots, w, h, width, height, placed)
        if not len(free):
            # Anywhere in the image, on a grid of half a label, nearest the box first.
            xs = np.arange(0.0, max(0.0, width - w) + 1, max(1.0, w / 2))
            ys = np.arange(0.0, max(0.0, height - h) + 1, max(1.0, h / 2))
            grid = np.array([(x, y) for y in ys for x in xs], float).reshape(-1, 2)
            free = _free_spots(grid, w, h, width, height, placed)
            if len(free):
                centre = np.array([(x1 + x2 - w) / 2, (y1 + y2 - h) / 2])
                free = free[np.argsort(np.hypot(*(free - centre).T), kind="stable")]
        if not len(free):
            corners.append(None)
            continue
        x, y = free[0]
        placed = np.vstack([placed, (x, y, x + w, y + h)])
        corners.append((float(x), float(y)))
    return corners


def _free_spots(
    spots: np.ndarray, w: float, h: float, width: int, height: int, placed: np.ndarray
) -> np.ndarray:
    """The (x, y) corners among ``spots`` whose w×h label lies inside the image and
    overlaps none of the ``placed`` rectangles (K, 4), in the order given."""
    inside = (
        (spots[:, 0] >= 0)
        & (spots[:, 0] + w <= width)
        & (spots[:, 1] >= 0)
        & (spots[:, 1] + h <= height)
    )
    rects = np.column_stack([spots, spots[:, 0] + w, spots[:, 1] + h])
    clash = (
        (rects[:, None, 0] < placed[None, :, 2])
        & (placed[None, :, 0] < rects[:, None, 2])
        & (rects[:, None, 1] < placed[None, :, 3])
        & (placed[None, :, 1] < rects[:, None, 3])
    ).any(axis=1)
    return spots[inside & ~clash]
