"""The classifier as an image-level tagger, next to the detector, on the same images.

Each image's labels are the classes of its ground-truth boxes. The classifier's score for
a class is the total probability of the ImageNet classes mapped to it
(``visioncompare.kernel.taxonomy``); the detector's is its highest box confidence for
that class. Both are ranked over all images and scored with the same AP, so the two
tasks meet on one footing: "does this image contain a dog?".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.ap import (
    APMethod,
    average_precision,
    precision_recall,
)
from visioncompare.kernel.taxonomy import resolve_mapping
from visioncompare.kernel.types import Detections


@dataclass(frozen=True, eq=False)
class TaggingResult:
    """Attributes:
    per_class: one row per nameable class with images: ``class``, ``images`` (containing
        it), ``imagenet_classes`` (mapped), ``classifier_AP``, ``detector_AP``,
        ``classifier_top{k}``, ``detector_hit`` (share of those images where the
        detector has a box of it at ``conf``).
    unnameable: dataset classes with no ImageNet class at all.
    coverage: share of (image, label) pairs whose class the classifier can name.
    mapping: class -> ImageNet class names (what the page shows).
    k, conf: the top-k and the detector confidence used.
    """

    per_class: pd.DataFrame
    unnameable: tuple[str, ...]
    coverage: float
    mapping: dict[str, list[str]]
    k: int
    conf: float

    @property
    def classifier_map(self) -> float:
        return self._mean("classifier_AP")

    @property
    def detector_map(self) -> float:
        return self._mean("detector_AP")

    def _mean(self, column: str) -> float:
        """The column's mean over the classes; NaN when no class has images."""
        if not len(self.per_class):
            return float("nan")
        return float(self.per_class[column].mean())


def image_labels(dataset: Dataset) -> np.ndarray:
    """(images, classes) bool: the image has at least one box of the class."""
    labels = np.zeros((len(dataset), len(dataset.class_names)), dtype=bool)
    for row, sample in enumerate(dataset.samples):
        labels[row, np.unique(sample.gt.class_ids)] = True
    return labels


def evaluate_tagging(
    dataset: Dataset,
    probabilities: Mapping[int, np.ndarray],
    imagenet_names: tuple[str, ...],
    detections: Mapping[int, Detections] | None = None,
    k: int = 5,
    conf: float = 0.25,
) -> TaggingResult:
    """Image-level AP of the classifier (and of the detector, when given) per class.

    Args:
        dataset: images and their boxes.
        probabilities: image id -> (1000,) ImageNet softmax of the classifier.
        imagenet_names: the classifier's category names.
        detections: image id -> detector boxes (optional).
        k: the top-k for the hit rate.
        conf: the detector confidence for its hit rate.
    """
    mapping = resolve_mapping(imagenet_names, dataset.class_names)
    labels = image_labels(dataset)
    probs = np.stack(
        [np.asarray(probabilities[s.image_id], np.float64) for s in dataset.samples]
    )
    topk = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    aligned = align_predictions(detections, dataset).predictions if detections else None
    rows = []
    for c, name in enumerate(dataset.class_names):
        indices = mapping[name]
        positives = labels[:, c]
        if not indices or not positives.any():
            continue
        cls_score = probs[:, indices].sum(axis=1)
        row = {
            "class": name,
            "images": int(positives.sum()),
            "imagenet_classes": len(indices),
            "classifier_AP": _image_ap(cls_score, positives),
            f"classifier_top{k}": float(
                np.isin(topk[positives], indices).any(axis=1).mean()
            ),
        }
        if aligned is not None:
            det_score = np.array(
                [_max_score(aligned[s.image_id], c) for s in dataset.samples]
            )
            row["detector_AP"] = _image_ap(det_score, positives)
            row["detector_hit"] = float((det_score[positives] >= conf).mean())
        rows.append(row)
    unnameable = tuple(n for n in dataset.class_names if not mapping[n])
    nameable = np.array([bool(mapping[n]) for n in dataset.class_names])
    total = labels.sum()
    coverage = float(labels[:, nameable].sum() / total) if total else float("nan")
    columns = [
        "class",
        "images",
        "imagenet_classes",
        "classifier_AP",
        f"classifier_top{k}",
    ]
    if aligned is not None:
        columns += ["detector_AP", "detector_hit"]
    return TaggingResult(
        pd.DataFrame(rows, columns=columns),
        unnameable,
        coverage,
        {n: [imagenet_names[i] for i in mapping[n]] for n in dataset.class_names},
        k,
        conf,
    )


def _max_score(det: Detections, class_index: int) -> float:
    scores = det.scores[det.class_ids == class_index]
    return float(scores.max()) if scores.size else 0.0


def _image_ap(scores: np.ndarray, positives: np.ndarray) -> float:
    """AP over images; an image scored exactly 0 (no box at all) is never retrieved."""
    retrieved = scores > 0
    recall, precision = precision_recall(
        positives[retrieved], scores[retrieved], int(positives.sum())
    )
    return average_precision(recall, precision, APMethod.VOC_ALL)
