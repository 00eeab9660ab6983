"""Stand-in models for the Ray engine's fault tests. Ray's workers import this module by
name (the driver's working directory, the repository, is on their path), so it stays
light: numpy and the core types only."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from core.types import Detections, Prediction, Timing


class LoggingDetector:
    """Predicts one box the size of each image and leaves a file per predicted image in
    ``log_dir`` (actors are other processes: files are how the test counts their work).

    With ``die_after`` set, the actor that predicts the image after that many have been
    predicted (by any actor) kills its own process, once: a worker lost mid-run.
    """

    class_names = ("person", "dog")
    device = "cpu"

    def __init__(self, log_dir: str, die_after: int | None = None) -> None:
        self.log_dir, self.die_after = Path(log_dir), die_after

    def predict(self, images, **settings):
        out = []
        for image in images:
            h, w = image.shape[:2]
            predicted = len(list(self.log_dir.glob("*.done")))
            marker = self.log_dir / "killed"
            if self.die_after is not None and predicted >= self.die_after:
                try:
                    marker.touch(exist_ok=False)
                except FileExistsError:
                    pass
                else:
                    os._exit(1)  # no cleanup, as a killed worker
            (self.log_dir / f"{w}x{h}-{uuid.uuid4().hex}.done").touch()
            det = Detections(np.array([[0, 0, w, h]], np.float32), [0.5], [1],
                             self.class_names)  # fmt: skip
            out.append(Prediction("logging", "cpu", Timing(), detections=det))
        return out


def logging_detector(log_dir: str, die_after: int | None = None) -> LoggingDetector:
    """The picklable loader each actor calls once."""
    return LoggingDetector(log_dir, die_after)
