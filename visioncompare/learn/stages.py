"""Two-stage vs one-stage, as plain data: a two-stage detector's region proposals next
to its final boxes, and a one-stage detector's default boxes at one feature-map cell.

``model_zoo.stages`` fills these from the real torchvision models; the Learn page draws
them. Boxes are (N, 4) float32 xyxy in the original image's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visioncompare.kernel.boxes import clip_xyxy
from visioncompare.kernel.display import count_noun
from visioncompare.kernel.types import Detections


@dataclass(frozen=True, eq=False)
class RegionProposals:
    """Faster R-CNN's two stages on one image.

    Attributes:
        boxes: (N, 4) the region proposal network's top N proposals, best first.
        objectness: (N,) their objectness probabilities, descending.
        anchors: how many anchors the RPN scored (every level, every cell).
        proposals_kept: how many proposals the RPN passes to the second stage after its
            own NMS (N is at most this).
        final: the second stage's boxes (classified, refined, NMS per class).
        trained: False when the model has random weights (no weights on this machine):
            the anchors are real, the proposals and boxes untrained.
    """

    boxes: np.ndarray
    objectness: np.ndarray
    anchors: int
    proposals_kept: int
    final: Detections
    trained: bool


@dataclass(frozen=True, eq=False)
class DefaultBoxes:
    """An SSD's default (anchor) boxes at one cell of one feature map.

    Attributes:
        boxes: (A, 4) the cell's default boxes, as the model places them.
        level: the feature map's index (0: the finest).
        grid: (rows, columns) of that feature map.
        cell: (row, column) of the cell.
        per_level: default boxes per cell on each feature map (the anchor generator's
            ``num_anchors_per_location()``).
        total: default boxes over the whole image (every level, every cell).
        input_size: (height, width) the model resizes the image to.
        trained: False when the model has random weights (the boxes are the same: they
            are fixed by the design, not learned).
    """

    boxes: np.ndarray
    level: int
    grid: tuple[int, int]
    cell: tuple[int, int]
    per_level: tuple[int, ...]
    total: int
    input_size: tuple[int, int]
    trained: bool


def proposals_sentence(p: RegionProposals, title: str) -> str:
    """What the two stages did, in words."""
    return (
        f"**Stage 1**: {title}'s region proposal network scored **{p.anchors:,} "
        f"anchors** for “is there an object here?” and kept **{p.proposals_kept:,} "
        f"proposals**; the best {len(p.boxes)} are drawn. **Stage 2** crops the "
        "feature map under every proposal, classifies it and refines its box: "
        f"**{count_noun(len(p.final), 'box', 'boxes')}** at the confidence threshold."
    )


def default_boxes_sentence(d: DefaultBoxes, title: str) -> str:
    """What one cell of a one-stage detector predicts, in words."""
    rows, cols = d.grid
    return (
        f"{title} predicts from every cell of {len(d.per_level)} feature maps at once, "
        f"with no proposal stage: feature map {d.level + 1} is {rows}×{cols} cells, and "
        f"its cell (row {d.cell[0] + 1}, column {d.cell[1] + 1}) carries "
        f"**{len(d.boxes)} default boxes** of fixed sizes and shapes; for each, the head "
        f"outputs a class score per class and 4 offsets. Over the image: "
        f"**{d.total:,} default boxes**, each classified in one pass."
    )


def drawable(
    boxes: np.ndarray, scores: np.ndarray | None, name: str, width: int, height: int
) -> Detections:
    """Boxes of one kind ("proposal", "default box") as ``Detections`` to draw, clipped
    to the image (a default box may reach past its edge)."""
    n = len(boxes)
    return Detections(
        clip_xyxy(np.asarray(boxes, np.float32).reshape(n, 4), width, height).astype(
            np.float32
        ),
        np.ones(n, np.float32) if scores is None else np.asarray(scores, np.float32),
        np.zeros(n, np.int64),
        (name,),
    )


def cell_point(shown: Detections, width: int, height: int) -> tuple[float, float]:
    """Where to look at the default boxes: the centre of the best box the sidebar's
    detector found, else the image centre."""
    if not len(shown):
        return width / 2, height / 2
    x1, y1, x2, y2 = shown.xyxy[int(np.argmax(shown.scores))]
    return float(x1 + x2) / 2, float(y1 + y2) / 2
