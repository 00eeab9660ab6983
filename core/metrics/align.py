"""Map a model's predictions onto a dataset's classes, by class name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.datasets.types import Dataset
from core.types import Detections


@dataclass(frozen=True)
class Aligned:
    """Predictions re-indexed to the dataset's classes.

    Attributes:
        predictions: image id -> detections whose ``class_ids`` index ``dataset.class_names``
            (images without a prediction get an empty entry).
        dropped: boxes of classes the dataset does not annotate, per class name; they are
            left out of every metric (a COCO model scored on VOC predicts cups too).
    """

    predictions: dict[int, Detections]
    dropped: dict[str, int]


def align_predictions(
    predictions: Mapping[int, Detections], dataset: Dataset
) -> Aligned:
    """Re-index predictions by class *name* onto the dataset's class list."""
    index_of = {name: i for i, name in enumerate(dataset.class_names)}
    out: dict[int, Detections] = {}
    dropped: dict[str, int] = {}
    for sample in dataset.samples:
        det = predictions.get(sample.image_id)
        if det is None or not len(det):
            out[sample.image_id] = Detections.empty(dataset.class_names)
            continue
        if tuple(det.class_names) == tuple(dataset.class_names):
            out[sample.image_id] = det  # already aligned: nothing to map
            continue
        labels = det.labels
        mapped = np.array([index_of.get(label, -1) for label in labels], dtype=np.int64)
        for label, m in zip(labels, mapped):
            if m < 0:
                dropped[label] = dropped.get(label, 0) + 1
        keep = mapped >= 0
        out[sample.image_id] = Detections(
            det.xyxy[keep], det.scores[keep], mapped[keep], dataset.class_names,
            {k: v[keep] for k, v in det.extra.items()},
        )  # fmt: skip
    return Aligned(out, dict(sorted(dropped.items(), key=lambda kv: -kv[1])))
