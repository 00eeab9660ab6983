"""What the Learn page says in words and tables, computed from the models' outputs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from visioncompare.kernel.display import count_noun
from visioncompare.kernel.types import Classification, Detections
from visioncompare.learn.lessons import NOT_IN_IMAGENET, crop_agreement


def goal_sentence(
    top_name: str, top_coco: str | None, found: Sequence[tuple[str, int, float]]
) -> str:
    """The classifier's one label set against the detector's classes.

    Args:
        top_name: the classifier's top-1 ImageNet class.
        top_coco: the COCO class it is a kind of (None: none).
        found: the detector's (class, boxes, best score), from ``detector_label_set``.
    """
    named = (
        f"a kind of **{top_coco}**" if top_coco else "not one of the detector's classes"
    )
    found_text = ", ".join(f"{name} × {n}" for name, n, _ in found) or "nothing"
    missed = [name for name, _, _ in found if name != top_coco]
    tail = (
        f" The single label leaves out **{', '.join(missed)}**: a classifier names the "
        "main subject, a detector lists every object it knows."
        if missed
        else " Here the two agree: the image has one main subject."
        " Pick “Bus and people” to see them disagree."
    )
    return (
        f"The classifier's “{top_name}” is {named}. The detector found {found_text}."
        + tail
    )


@dataclass(frozen=True)
class CostRow:
    """One model's row of the complexity table (NaN where a count is unknown)."""

    title: str
    task: str
    device: str
    params_m: float
    gmacs: float
    input_size: int
    latency_ms: float

    def as_record(self) -> dict:
        return {
            "model": self.title,
            "task": self.task,
            "device": self.device,
            "parameters (M)": self.params_m,
            "MACs per image (G)": self.gmacs,
            "input (px)": f"{self.input_size}×{self.input_size}",
            "latency here (ms)": self.latency_ms,
        }


def cost_row(
    title: str, task: str, device: str, complexity, input_size: int, latency_ms: float
) -> CostRow:
    """A complexity-table row; ``complexity`` has ``params`` and ``macs`` (or is None
    when they cannot be counted)."""
    return CostRow(
        title,
        task,
        device,
        complexity.params / 1e6 if complexity else math.nan,
        complexity.macs / 1e9 if complexity else math.nan,
        input_size,
        latency_ms,
    )


def crop_records(
    boxes: Sequence[int],
    crop_classifications: Sequence[Classification],
    shown: Detections,
    to_coco: dict[str, str],
) -> list[dict]:
    """One table row per detected box cropped and classified.

    Args:
        boxes: the index in ``shown`` of each crop's box.
        crop_classifications: the classifier's output on each crop.
        shown: the detector's boxes above the confidence threshold.
        to_coco: ImageNet class -> the COCO class it is a kind of.
    """
    records = []
    for box, classification in zip(boxes, crop_classifications):
        det_class = shown.labels[box]
        top1, top3 = crop_agreement(classification, det_class, to_coco)
        records.append(
            {
                "box": box + 1,
                "detector": f"{det_class} {shown.scores[box]:.2f}",
                "classifier top-3": ", ".join(
                    f"{n} {p:.0%}" for n, p in classification.topk(3)
                ),
                "agree (top-1)": top1,
                "in top-3": top3,
            }
        )
    return records


def crop_summary(records: Sequence[dict]) -> str:
    """One paragraph on how often the classifier agrees with the detector's crops."""
    comparable = [r for r in records if r["agree (top-1)"] != NOT_IN_IMAGENET]
    agree = sum(r["agree (top-1)"] == "yes" for r in comparable)
    in_top3 = sum(r["in top-3"] == "yes" for r in comparable)
    summary = (
        f"the classifier agrees with the detector on **{agree} of {len(comparable)}** crops "
        "whose class ImageNet can name (agreement: its top-1 ImageNet class is a kind of "
        f"the detector's class; {in_top3} of {len(comparable)} have it among the top 3)"
        if comparable
        else "none of the detected classes exists in ImageNet, so no crop can agree"
    )
    skipped = len(records) - len(comparable)
    return (
        f"Each detected box is cropped (10 % margin) and classified on its own: {summary}"
        + (
            f"; {count_noun(skipped, 'crop')} {'is' if skipped == 1 else 'are'} of "
            "classes ImageNet cannot name"
            if skipped
            else ""
        )
        + ". This is how the field sub-classifies detections, e.g. the breed of a "
        "detected dog."
    )


def head_sentence(
    num_points: int, num_classes: int, above: int, conf: float, kept: int, cls_n: int
) -> str:
    """What the detection head produced on the image, against the classifier's head."""
    return (
        f"On this image the detection head produced **{num_points:,} points × "
        f"{4 + num_classes} numbers**; **{above}** points had a class score ≥ "
        f"{conf:.2f}, and non-maximum suppression merged them into "
        f"**{count_noun(kept, 'box', 'boxes')}**. The "
        f"classifier's head produced **{cls_n:,} numbers**."
    )


def points_above(scores: np.ndarray, conf: float) -> int:
    """How many head rows (P, K) have a best class score of at least ``conf``."""
    return int((scores.max(axis=1) >= conf).sum()) if len(scores) else 0
