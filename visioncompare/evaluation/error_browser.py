"""The error browser's data: per-image counts and a drawing of TP / FP / FN."""

from __future__ import annotations

import numpy as np
import pandas as pd

from visioncompare.evaluation.metrics.matching import FN, FP, TP
from visioncompare.kernel.draw import BoxStyle, Layer, annotate_layers
from visioncompare.kernel.types import Detections

STYLES = {
    TP: BoxStyle(color=(30, 170, 70)),
    FP: BoxStyle(color=(220, 40, 40)),
    FN: BoxStyle(color=(255, 150, 0), dashed=True),
}
"""True positives green, false positives red, missed objects orange and dashed."""


def per_image_table(records: pd.DataFrame, image_names: dict[int, str]) -> pd.DataFrame:
    """One row per image: TP, FP, FN counts and the worst IoU of its true positives.

    Args:
        records: matching records at the chosen thresholds (``MatchResult.at_confidence``).
        image_names: image id -> file name, for every image (images without records too).
    """
    ids = list(image_names)
    counts = (
        records.groupby(["image_id", "kind"]).size().unstack(fill_value=0)
        .reindex(index=ids, columns=[TP, FP, FN], fill_value=0)
    )  # fmt: skip
    worst = records[records["kind"] == TP].groupby("image_id")["iou"].min()
    frame = pd.DataFrame(
        {
            "image_id": ids,
            "image": [image_names[i] for i in ids],
            TP: counts[TP].to_numpy(),
            FP: counts[FP].to_numpy(),
            FN: counts[FN].to_numpy(),
            "worst IoU": worst.reindex(ids).to_numpy(np.float64),
        }
    )
    return frame


def error_layers(records: pd.DataFrame, class_names: tuple[str, ...]) -> list[Layer]:
    """The TP, FP and FN boxes of one image as ``annotate_layers`` takes them: misses,
    then false positives, then true positives (drawn on top, labelled first), each in its
    style and labelled with class, score and IoU.

    Args:
        records: this image's matching records.
        class_names: the dataset's classes (``records['class']`` holds their names).
    """
    layers: list[Layer] = []
    for kind in (FN, FP, TP):
        rows = records[records["kind"] == kind]
        if not len(rows):
            continue
        det = Detections(
            rows[["x1", "y1", "x2", "y2"]].to_numpy(np.float32),
            rows["score"].fillna(1.0).to_numpy(np.float32),
            np.array(
                [class_names.index(c) for c in rows["class"].astype(str)], np.int64
            ),
            class_names,
        )
        # The colour says TP / FP / FN; the label says what and how well.
        labels = [
            c
            + (f" {s:.2f}" if s == s else "")
            + (f" IoU {u:.2f}" if u == u and u > 0 else "")
            for c, s, u in zip(rows["class"].astype(str), rows["score"], rows["iou"])
        ]
        layers.append((det, labels, STYLES[kind]))
    return layers


def draw_errors(
    image: np.ndarray, records: pd.DataFrame, class_names: tuple[str, ...]
) -> np.ndarray:
    """The image with each TP, FP and FN box drawn in its style, labelled with class,
    score and IoU; no label covers another.

    Args:
        image: (H, W, 3) uint8 RGB.
        records: this image's matching records.
        class_names: the dataset's classes (``records['class']`` holds their names).
    """
    return annotate_layers(image, error_layers(records, class_names))
