"""Wall-clock timing of the three stages of a model call."""

from __future__ import annotations

import time

from model_zoo.device import synchronize


class StageTimer:
    """Measures preprocess / inference / postprocess in milliseconds.

    GPU work is synchronised before each reading so the split is honest.
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self.ms: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, stage: str) -> None:
        synchronize(self.device)
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self._start) * 1000.0
        self._start = now
