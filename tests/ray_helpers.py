"""Stand-in models for the Ray engine's fault tests. Ray's workers import this module by
name (the driver's working directory, the repository, is on their path), so it stays
light: numpy and the core types only."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np

from visioncompare.kernel.types import Detections, Prediction, Timing


class LoggingDetector:
    """Predicts one box the size of each image and leaves a file per predicted image in
    ``log_dir`` (actors are other processes: files are how the test counts their work).

    With ``die_after`` set, the actor that predicts the image after that many have been
    predicted (by any actor) kills its own process, once: a worker lost mid-run.
    """

    class_names = ("person", "dog")
    device = "cpu"

    def __init__(
        self, log_dir: str, die_after: int | None = None, delay: float = 0.0
    ) -> None:
        self.log_dir, self.die_after, self.delay = Path(log_dir), die_after, delay

    def predict(self, images, **settings):
        out = []
        for image in images:
            time.sleep(self.delay)
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


def logging_detector(
    log_dir: str, die_after: int | None = None, delay: float = 0.0
) -> LoggingDetector:
    """The picklable loader each actor calls once."""
    return LoggingDetector(log_dir, die_after, delay)


DRIVER = """
import sys
from functools import partial

sys.path.insert(0, sys.argv[1])
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.store import PredictionStore
from tests.ray_helpers import logging_detector
from visioncompare.services.engines.ray import RayOptions, predict_detections_on_ray

dataset = load_bundled("voc2012-sample100").subset(int(sys.argv[5]))
predict_detections_on_ray(
    "logging", dataset, PredictionStore(sys.argv[3]), {"name": "logging"},
    options=RayOptions(address=sys.argv[2], actors=1),
    load=partial(logging_detector, sys.argv[4], delay=0.3),
)
"""
"""A Ray driver in its own process (argv: repository, cluster address, store, log folder,
images), for a test to kill mid-run."""
