"""On one image and one corruption, severity by severity: does the single label or the
boxes break first?

The label breaks at the first severity whose top-1 is not the clean image's; the boxes
break at the first severity that keeps fewer than half of the clean image's boxes
(``BOX_BREAK_SHARE``; boxes matched as in ``changes.detection_change``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from visioncompare.robustness.changes import ClassificationChange, DetectionChange
from visioncompare.robustness.corruptions import corruption_title

BOX_BREAK_SHARE = 0.5
"""The boxes have broken when fewer than this share of the clean boxes is kept."""


@dataclass(frozen=True, eq=False)
class SeverityStep:
    """Both models' change from the clean image at one severity."""

    severity: int
    classification: ClassificationChange
    detection: DetectionChange


@dataclass(frozen=True, eq=False)
class BreakingPoints:
    """Where each answer breaks on one image under one corruption.

    Attributes:
        corruption: the corruption's name.
        steps: one per severity run, mild to strong.
        label_at: the first severity whose top-1 differs from the clean one (None: it
            held at every severity run).
        boxes_at: the first severity keeping fewer than ``BOX_BREAK_SHARE`` of the clean
            boxes (None: they held, or the clean image had no box).
    """

    corruption: str
    steps: tuple[SeverityStep, ...]
    label_at: int | None
    boxes_at: int | None

    @property
    def first(self) -> str:
        """``"label"``, ``"boxes"``, ``"both"`` (at the same severity) or ``"neither"``."""
        label = self.label_at if self.label_at is not None else 99
        boxes = self.boxes_at if self.boxes_at is not None else 99
        if label == boxes:
            return "neither" if label == 99 else "both"
        return "label" if label < boxes else "boxes"

    def sentence(self) -> str:
        """What happened, in one or two sentences."""
        name = corruption_title(self.corruption).lower()
        clean = self.steps[0].classification if self.steps else None
        boxes = self.steps[0].detection.clean if self.steps else 0
        if not boxes and self.label_at is None:
            return (
                f"Under {name}, the label held at every severity; the detector found "
                "no box on the clean image, so there were no boxes to lose."
            )
        label = (
            f"the label ({clean.clean_label}) flipped at severity {self.label_at}"
            if self.label_at is not None
            else f"the label ({clean.clean_label}) held at every severity"
        )
        box = (
            f"the boxes fell below half of the clean {boxes} at severity "
            f"{self.boxes_at}"
            if self.boxes_at is not None
            else f"at least half of the clean {boxes} boxes were kept at every severity"
            if boxes
            else "the clean image had no box to lose"
        )
        verdict = {
            "label": "The single label broke first",
            "boxes": "The boxes broke first",
            "both": "Both broke at the same severity",
            "neither": "Neither broke",
        }[self.first]
        return f"{verdict}: under {name}, {label}, and {box}."


def breaking_points(corruption: str, steps: list[SeverityStep]) -> BreakingPoints:
    """Find where the label and the boxes break in ``steps`` (sorted by severity)."""
    steps = sorted(steps, key=lambda s: s.severity)
    label_at = next((s.severity for s in steps if not s.classification.kept), None)
    boxes_at = next(
        (
            s.severity
            for s in steps
            if s.detection.clean and s.detection.kept_share < BOX_BREAK_SHARE
        ),
        None,
    )
    return BreakingPoints(corruption, tuple(steps), label_at, boxes_at)


def steps_frame(points: BreakingPoints) -> pd.DataFrame:
    """A table of the steps: severity, top-1 and its probability, the clean top-1's
    probability, and the boxes kept, lost and new."""
    rows = []
    for step in points.steps:
        c, d = step.classification, step.detection
        rows.append({
            "severity": step.severity,
            "top-1": c.label,
            "top-1 probability": c.probability,
            f"{c.clean_label} (clean top-1)": c.clean_label_now,
            "boxes kept": d.kept,
            "lost": len(d.lost),
            "new": len(d.new),
            "kept share": d.kept_share,
        })  # fmt: skip
    return pd.DataFrame(rows)
