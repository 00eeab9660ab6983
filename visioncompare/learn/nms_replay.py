"""Non-maximum suppression, replayed one kept box at a time (for the Learn page).

The same greedy, per-class NMS that torchvision's ``batched_nms`` and Ultralytics run: take
the best-scoring box left, keep it, suppress every box of its class that overlaps it by more
than the IoU threshold, repeat. Here each step also records what it suppressed and by how
much, so a page can show why a box disappeared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from visioncompare.kernel.boxes import box_iou
from visioncompare.kernel.types import Detections


@dataclass(frozen=True, eq=False)
class NMSStep:
    """One kept box and the boxes it suppressed.

    Attributes:
        kept: index of the kept box in the candidates.
        suppressed: (S,) indices of the candidates it suppressed.
        ious: (S,) their IoU with the kept box (each above the threshold).
    """

    kept: int
    suppressed: np.ndarray
    ious: np.ndarray


@dataclass(frozen=True, eq=False)
class NMSTrace:
    """Every step of NMS over a set of candidate boxes, best score first."""

    candidates: Detections
    steps: tuple[NMSStep, ...]
    iou_threshold: float

    @property
    def kept(self) -> np.ndarray:
        """(K,) indices of the kept candidates, in the order they were kept."""
        return np.array([s.kept for s in self.steps], dtype=np.int64)

    @property
    def num_suppressed(self) -> int:
        return int(sum(len(s.suppressed) for s in self.steps))


def nms_trace(candidates: Detections, iou_threshold: float) -> NMSTrace:
    """Greedy per-class NMS, recording each step.

    Args:
        candidates: boxes before NMS ((N, 4) xyxy, absolute pixels).
        iou_threshold: a box overlapping a kept box of its class by more than this goes.

    Returns:
        The trace; ``trace.kept`` equals what torchvision's ``batched_nms`` keeps (ties in
        score keep the earlier box, as a stable sort does).
    """
    order = np.argsort(-candidates.scores, kind="stable")
    alive = np.ones(len(candidates), dtype=bool)
    iou = box_iou(candidates.xyxy, candidates.xyxy) if len(candidates) else None
    steps = []
    for i in order:
        if not alive[i]:
            continue
        alive[i] = False
        rivals = np.flatnonzero(
            alive
            & (candidates.class_ids == candidates.class_ids[i])
            & (iou[i] > iou_threshold)
        )
        alive[rivals] = False
        steps.append(NMSStep(int(i), rivals, iou[i, rivals].astype(np.float32)))
    return NMSTrace(candidates, tuple(steps), float(iou_threshold))


def nms_steps_frame(trace: NMSTrace) -> pd.DataFrame:
    """One row per NMS step: the kept box and what it suppressed."""
    c = trace.candidates
    return pd.DataFrame(
        {
            "step": np.arange(1, len(trace.steps) + 1),
            "kept": [c.labels[s.kept] for s in trace.steps],
            "score": [round(float(c.scores[s.kept]), 3) for s in trace.steps],
            "suppressed": [len(s.suppressed) for s in trace.steps],
            "largest IoU suppressed": [
                round(float(s.ious.max()), 2) if len(s.ious) else None
                for s in trace.steps
            ],
        }
    )
