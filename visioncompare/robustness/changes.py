"""How a model's answer changed from the clean image to the corrupted one.

A classification: is the top-1 the same, and how sure is the model of it now. A
detector's boxes: each clean box is kept when a corrupted box of the same class overlaps
it at IoU 0.5 or more (one-to-one, the best overlaps first), lost otherwise; the
corrupted boxes left over are new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visioncompare.kernel.boxes import box_iou
from visioncompare.kernel.display import count_noun
from visioncompare.kernel.types import Classification, Detections

MATCH_IOU = 0.5


@dataclass(frozen=True)
class ClassificationChange:
    """The classifier on the clean and on the corrupted image.

    Attributes:
        clean_label, clean_probability: the clean image's top-1 and its probability.
        label, probability: the corrupted image's top-1 and its probability.
        clean_label_now: the probability the corrupted image gives the clean top-1.
    """

    clean_label: str
    clean_probability: float
    label: str
    probability: float
    clean_label_now: float

    @property
    def kept(self) -> bool:
        return self.label == self.clean_label

    def sentence(self) -> str:
        """One line for the panel."""
        if self.kept:
            return (
                f"Top-1 kept: **{self.label}**, {self.clean_probability:.1%} → "
                f"{self.probability:.1%} on the corrupted image."
            )
        return (
            f"Top-1 flipped: **{self.clean_label}** ({self.clean_probability:.1%}) → "
            f"**{self.label}** ({self.probability:.1%}); {self.clean_label} is now "
            f"{self.clean_label_now:.1%}."
        )


def classification_change(
    clean: Classification, corrupted: Classification
) -> ClassificationChange:
    """Compare two classifications of the same classes.

    Raises:
        ValueError: the two name different classes.
    """
    if clean.class_names != corrupted.class_names:
        raise ValueError("the two classifications name different classes")
    clean_label, clean_probability = clean.top1
    label, probability = corrupted.top1
    index = clean.class_names.index(clean_label)
    return ClassificationChange(
        clean_label, clean_probability, label, probability,
        float(corrupted.scores[index]),
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class DetectionChange:
    """Clean boxes matched to corrupted ones.

    Attributes:
        pairs: (K, 2) int64 (clean index, corrupted index) of the kept boxes.
        lost: (L,) int64 clean indices with no match.
        new: (M,) int64 corrupted indices with no match.
        ious: (K,) float64 IoU of each kept pair.
        iou: the IoU a match needs.
    """

    pairs: np.ndarray
    lost: np.ndarray
    new: np.ndarray
    ious: np.ndarray
    iou: float = MATCH_IOU

    @property
    def kept(self) -> int:
        return len(self.pairs)

    @property
    def clean(self) -> int:
        """Boxes on the clean image."""
        return self.kept + len(self.lost)

    @property
    def kept_share(self) -> float:
        """Kept clean boxes over all clean boxes (1.0 when there were none)."""
        return self.kept / self.clean if self.clean else 1.0

    def sentence(self) -> str:
        """One line for the panel."""
        return (
            f"Against the clean image: **{self.kept} of "
            f"{count_noun(self.clean, 'box', 'boxes')} kept**, {len(self.lost)} lost, "
            f"{len(self.new)} new (same class, IoU ≥ {self.iou:g})."
        )


def detection_change(
    clean: Detections, corrupted: Detections, iou: float = MATCH_IOU
) -> DetectionChange:
    """Match the clean image's boxes to the corrupted image's, one to one.

    Args:
        clean: (N,) boxes on the clean image, xyxy absolute pixels.
        corrupted: (M,) boxes on the corrupted image, the same size and classes.
        iou: the least IoU of a kept pair.

    Returns:
        Pairs of the same class at IoU >= ``iou``, the highest IoU first (ties: the
        lower clean index, then the lower corrupted index), each box in one pair at most.
    """
    overlap = box_iou(clean.xyxy, corrupted.xyxy)
    same = clean.class_ids[:, None] == corrupted.class_ids[None, :]
    overlap = np.where(same, overlap, -1.0)
    rows, cols = np.nonzero(overlap >= iou)
    order = np.lexsort((cols, rows, -overlap[rows, cols]))
    used_clean, used_new, pairs, ious = set(), set(), [], []
    for r, c in zip(rows[order], cols[order]):
        if r in used_clean or c in used_new:
            continue
        used_clean.add(int(r))
        used_new.add(int(c))
        pairs.append((int(r), int(c)))
        ious.append(float(overlap[r, c]))
    lost = [i for i in range(len(clean)) if i not in used_clean]
    new = [j for j in range(len(corrupted)) if j not in used_new]
    return DetectionChange(
        np.array(pairs, np.int64).reshape(-1, 2), np.array(lost, np.int64),
        np.array(new, np.int64), np.array(ious, np.float64), iou,
    )  # fmt: skip
