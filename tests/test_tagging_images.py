"""Classifier versus detector image by image: hand-built cases."""

from __future__ import annotations

import numpy as np
from torchvision.models import get_weight

from tests.helpers import make_dataset, make_detections
from visioncompare.evaluation.metrics.tagging_images import (
    CLASSIFIER_ONLY,
    DETECTOR_ONLY,
    tagging_by_image,
)

IMAGENET = tuple(get_weight("ResNet50_Weights.DEFAULT").meta["categories"])
NAMES = ("person", "cat", "dog")
BOX = [0, 0, 100, 100]


def _probs(*names: str) -> np.ndarray:
    """A softmax with the named ImageNet classes on top, in that order."""
    p = np.full(len(IMAGENET), 1e-4)
    for rank, name in enumerate(names):
        p[IMAGENET.index(name)] = 0.5 / (rank + 1)
    return p / p.sum()


def test_each_case_by_hand():
    dataset = make_dataset(
        [
            ([BOX], [1]),  # a cat: the classifier says tabby, the detector sees nothing
            ([BOX], [2]),  # a dog: the detector finds it, the classifier says "tabby"
            ([BOX, BOX], [1, 2]),  # both agree on both classes
            ([BOX], [0]),  # a person: ImageNet cannot name it, never listed
        ],
        NAMES,
    )
    probabilities = {
        0: _probs("tabby"),
        1: _probs("tabby"),
        2: _probs("tabby", "beagle"),
        3: _probs("tabby"),
    }
    aligned = {
        0: make_detections([BOX], [0.1], [1], NAMES),  # below the confidence
        1: make_detections([BOX], [0.8], [2], NAMES),
        2: make_detections([BOX, BOX], [0.9, 0.7], [1, 2], NAMES),
        3: make_detections([BOX], [0.9], [0], NAMES),
    }
    frame = tagging_by_image(dataset, probabilities, IMAGENET, aligned, k=5, conf=0.25)
    rows = frame.set_index(["image_id", "class"])
    assert list(rows.index) == [(0, "cat"), (1, "dog")]
    assert rows.loc[(0, "cat"), "case"] == CLASSIFIER_ONLY
    assert rows.loc[(0, "cat"), "classifier_top"] == "tabby"
    assert rows.loc[(0, "cat"), "detector_score"] == np.float32(0.1)
    assert rows.loc[(1, "dog"), "case"] == DETECTOR_ONLY
    assert rows.loc[(1, "dog"), "classifier_top"] == "tabby"  # its top-1 instead
    # a lower confidence lets the detector find the cat: the disagreement disappears
    lower = tagging_by_image(dataset, probabilities, IMAGENET, aligned, conf=0.05)
    assert (0, "cat") not in set(zip(lower["image_id"], lower["class"]))
