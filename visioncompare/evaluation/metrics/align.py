"""Map a model's predictions onto a dataset's classes, by class name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.datasets.voc import VOC_TO_COCO
from visioncompare.kernel.types import Detections


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


def _index_of(dataset: Dataset) -> dict[str, int]:
    """Class name -> dataset class index; VOC names also find their COCO names (a
    VOC-trained detector on a dataset that was renamed to COCO names, or the reverse)."""
    index_of = {name: i for i, name in enumerate(dataset.class_names)}
    for voc, coco in VOC_TO_COCO.items():
        if coco in index_of and voc not in index_of:
            index_of[voc] = index_of[coco]
        if voc in index_of and coco not in index_of:
            index_of[coco] = index_of[voc]
    return index_of


def class_table(detector_names: Sequence[str], dataset: Dataset) -> pd.DataFrame:
    """The detector's classes against the dataset's, before evaluating.

    Returns:
        One row per detector class and per dataset class the detector cannot predict:
        ``detector class``, ``dataset class`` ("" when none), ``status``: ``matched``
        (same name), ``renamed`` (VOC <-> COCO name), ``unmatched: left out`` (the
        dataset does not annotate it; its boxes are dropped and counted) or ``never
        predicted: AP 0`` (a dataset class the detector has no name for).
    """
    index_of = _index_of(dataset)
    original: dict[str, str] = {}  # several names may merge into one (KITTI's people)
    for old, new in dataset.renamed.items():
        original[new] = f"{original[new]} and {old}" if new in original else old
    rows, covered = [], set()
    for name in detector_names:
        k = index_of.get(name)
        if k is None:
            rows.append((name, "", "unmatched: left out"))
            continue
        target = dataset.class_names[k]
        covered.add(target)
        if target == name and name not in original:
            rows.append((name, target, "matched"))
        else:
            was = original.get(target)
            note = f"renamed ({name} -> {target})"
            if was is not None and was != name:
                note += f"; the dataset calls it {was}"
            rows.append((name, target, note if target != name else
                         f"renamed (the dataset's {was} -> {target})"))  # fmt: skip
    for target in dataset.class_names:
        if target not in covered:
            rows.append(("", target, "never predicted: AP 0"))
    return pd.DataFrame(rows, columns=["detector class", "dataset class", "status"])


def align_predictions(
    predictions: Mapping[int, Detections], dataset: Dataset
) -> Aligned:
    """Re-index predictions by class *name* onto the dataset's class list (VOC and COCO
    names of one class match each other; see ``class_table``)."""
    index_of = _index_of(dataset)
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
