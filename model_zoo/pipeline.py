"""Run the classifier and the detector on the same image at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from visioncompare.kernel.types import Prediction

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="visioncompare-model")


def predict_pair(
    classifier, detector, image: np.ndarray, *, conf: float, iou: float
) -> tuple[Prediction, Prediction]:
    """Classify and detect one image concurrently.

    Both runtimes (torch, OpenVINO) release the GIL while they compute, so on two CPU
    cores the pair takes about as long as the slower model instead of the sum of both
    (docs/benchmarks.md). Each model keeps its own lock, so concurrent sessions stay safe.

    Args:
        classifier: a loaded ``Classifier``.
        detector: a loaded ``Detector``.
        image: (H, W, 3) uint8 RGB.
        conf: detector confidence threshold.
        iou: detector NMS IoU threshold.

    Returns:
        (classification prediction, detection prediction).
    """
    pending = _POOL.submit(classifier.predict, [image])
    detection = detector.predict([image], conf=conf, iou=iou)[0]
    return pending.result()[0], detection
