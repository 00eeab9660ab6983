"""Classifier versus detector, image by image, on the classes each image truly contains.

For each image and each class it has a box of (and that ImageNet can name, through
``visioncompare.kernel.taxonomy``): does the classifier name it (one of its top-k
ImageNet classes maps to it), and does the detector find it (a box of that class scoring
>= ``conf``)? Two lists come out: the classifier names a class the detector misses, and
the detector finds a class the classifier does not name.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.tagging import image_labels
from visioncompare.kernel.taxonomy import resolve_mapping
from visioncompare.kernel.types import Detections

CLASSIFIER_ONLY = "the classifier names a class the detector misses"
DETECTOR_ONLY = "the detector finds a class the classifier does not name"


def tagging_by_image(
    dataset: Dataset,
    probabilities: Mapping[int, np.ndarray],
    imagenet_names: tuple[str, ...],
    aligned: Mapping[int, Detections],
    k: int = 5,
    conf: float = 0.25,
) -> pd.DataFrame:
    """One row per (image, true nameable class) where the two models disagree.

    Args:
        dataset: images and their boxes.
        probabilities: image id -> (C,) softmax of the classifier over ``imagenet_names``.
        imagenet_names: the classifier's categories.
        aligned: image id -> detections whose ``class_ids`` index the dataset's classes.
        k: the classifier names a class when one of its top-k categories maps to it.
        conf: the detector finds a class with a box of it scoring >= conf.

    Returns:
        Columns ``image_id, class, case, classifier_top`` (the top-k categories that named
        it, or the top-1 when none did), ``classifier_mass`` (its mapped probability),
        ``detector_score`` (best box of the class, 0 for none), sorted by case and image.
    """
    mapping = resolve_mapping(imagenet_names, dataset.class_names)
    labels = image_labels(dataset)
    probs = np.stack(
        [np.asarray(probabilities[s.image_id], np.float64) for s in dataset.samples]
    )
    topk = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    rows = []
    for c, name in enumerate(dataset.class_names):
        indices = mapping[name]
        if not indices:
            continue
        named = np.isin(topk, indices)  # (images, k)
        for n in np.flatnonzero(labels[:, c]):
            sample = dataset.samples[n]
            det = aligned.get(sample.image_id)
            best = (
                float(det.scores[det.class_ids == c].max())
                if det is not None and (det.class_ids == c).any()
                else 0.0
            )
            says, finds = bool(named[n].any()), best >= np.float32(conf)
            if says == finds:
                continue
            which = topk[n][named[n]] if says else topk[n][:1]
            rows.append(
                (sample.image_id, name, CLASSIFIER_ONLY if says else DETECTOR_ONLY,
                 ", ".join(imagenet_names[i] for i in which),
                 float(probs[n, indices].sum()), best)
            )  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=["image_id", "class", "case", "classifier_top", "classifier_mass",
                 "detector_score"],
    )  # fmt: skip
    return frame.sort_values(["case", "image_id", "class"], kind="stable").reset_index(
        drop=True
    )
