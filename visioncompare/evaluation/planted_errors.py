"""Label errors planted on purpose, to measure how many a label checker finds.

``plant_label_errors`` copies a dataset and, with a seed, removes some boxes, gives some
another class and shifts some by part of their size; ``recovery`` compares the images a
checker flagged (``label_issues.LabelIssues``) with the images that were changed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.label_issues import IssueKind, LabelIssues
from visioncompare.kernel.types import Detections


def plant_label_errors(
    dataset: Dataset,
    fraction: float = 0.1,
    shift: tuple[float, float] = (0.3, 0.6),
    seed: int = 0,
) -> tuple[Dataset, pd.DataFrame]:
    """A copy of ``dataset`` with errors planted in its non-crowd boxes.

    Three disjoint random sets of ``fraction`` of the boxes each: removed (a missing
    box), given another of the dataset's classes at random (a swapped class), and moved
    by ``shift`` of their width and height in a random direction, clipped to the image
    (a badly placed box).

    Args:
        dataset: the annotated images (not changed).
        fraction: the share of boxes planted of each kind.
        shift: the range of the move, as a fraction of the box's size.
        seed: the random seed.

    Returns:
        The changed copy (same images and ids), and one row per planted box:
        ``image_id``, ``image``, ``kind`` (an ``IssueKind`` value), ``class``, ``new
        class`` (swapped), ``x1 y1 x2 y2`` (the box as annotated) and ``new x1 .. new
        y2`` (moved; the original box where not moved).

    Raises:
        ValueError: ``fraction`` is not in [0, 1/3] or the dataset has one class.
    """
    if not 0 <= fraction <= 1 / 3:
        raise ValueError(f"fraction: expected a share in [0, 1/3], got {fraction}")
    rng = np.random.default_rng(seed)
    boxes = [
        (n, i)
        for n, sample in enumerate(dataset.samples)
        for i in np.flatnonzero(
            sample.gt.extra.get("iscrowd", np.zeros(len(sample.gt))) == 0
        )
    ]
    count = round(fraction * len(boxes))
    if count and len(dataset.class_names) < 2:
        raise ValueError(
            "a class can be swapped only in a dataset of two classes or more"
        )
    order = rng.permutation(len(boxes))
    kinds = {
        IssueKind.MISSING: order[:count],
        IssueKind.SWAPPED: order[count : 2 * count],
        IssueKind.BADLY_PLACED: order[2 * count : 3 * count],
    }
    changes: dict[int, dict[int, tuple]] = {}
    for kind, picked in kinds.items():
        for index in sorted(picked):
            n, i = boxes[index]
            changes.setdefault(n, {})[int(i)] = (
                kind,
                *_change(kind, dataset, n, i, rng, shift),
            )
    rows, samples = [], list(dataset.samples)
    for n, changed in sorted(changes.items()):
        sample = samples[n]
        gt = sample.gt
        xyxy, class_ids, keep = (
            gt.xyxy.copy(),
            gt.class_ids.copy(),
            np.ones(len(gt), bool),
        )
        for i, (kind, new_class, new_box) in sorted(changed.items()):
            rows.append([sample.image_id, sample.name, kind.value,
                         dataset.class_names[gt.class_ids[i]],
                         dataset.class_names[new_class], *gt.xyxy[i].tolist(),
                         *new_box.tolist()])  # fmt: skip
            keep[i] = kind is not IssueKind.MISSING
            class_ids[i], xyxy[i] = new_class, new_box
        new_gt = Detections(xyxy, gt.scores, class_ids, gt.class_names, gt.extra)[keep]
        samples[n] = replace(sample, gt=new_gt)
    columns = ["image_id", "image", "kind", "class", "new class", "x1", "y1", "x2", "y2",
               "new x1", "new y1", "new x2", "new y2"]  # fmt: skip
    planted = replace(dataset, name=f"{dataset.name} (planted errors, seed {seed})",
                      samples=tuple(samples))  # fmt: skip
    return planted, pd.DataFrame(rows, columns=columns)


def _change(kind: IssueKind, dataset: Dataset, n: int, i: int, rng, shift):
    """The planted class and box of box ``i`` of image ``n``."""
    sample = dataset.samples[n]
    class_id, box = int(sample.gt.class_ids[i]), sample.gt.xyxy[i].astype(np.float32)
    if kind is IssueKind.SWAPPED:
        others = [c for c in range(len(dataset.class_names)) if c != class_id]
        class_id = int(rng.choice(others))
    elif kind is IssueKind.BADLY_PLACED:
        size = rng.uniform(*shift)
        angle = rng.uniform(0, 2 * np.pi)
        w, h = box[2] - box[0], box[3] - box[1]
        moved = box + np.array([np.cos(angle) * w, np.sin(angle) * h] * 2) * size
        limits = np.array([sample.width, sample.height] * 2, np.float32)
        box = np.clip(moved, 0, limits).astype(np.float32)
    return class_id, box


def recovery(issues: LabelIssues, planted: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of the flagged images against the planted ones, per kind.

    For each kind: ``planted images`` (with a box of that kind planted), ``flagged
    images`` (with a box of that kind flagged), their overlap, ``precision`` (flagged
    images that were planted that kind), ``recall`` (planted images flagged as that
    kind) and ``recall, any kind`` (planted images flagged at all). The last row,
    ``any``, compares every planted image with every flagged one. Errors already in the
    dataset count against precision: some of them are real.
    """
    flagged_any = set(issues.images.loc[issues.images["flagged"], "image_id"])
    rows = []
    for kind in [*(k.value for k in IssueKind), "any"]:
        planted_ids = set(
            planted["image_id"] if kind == "any"
            else planted.loc[planted["kind"] == kind, "image_id"]
        )  # fmt: skip
        flagged = (
            flagged_any if kind == "any"
            else set(issues.boxes.loc[issues.boxes["kind"] == kind, "image_id"])
        )  # fmt: skip
        both = planted_ids & flagged
        rows.append(
            {
                "kind": kind,
                "planted images": len(planted_ids),
                "flagged images": len(flagged),
                "flagged and planted": len(both),
                "precision": len(both) / len(flagged) if flagged else np.nan,
                "recall": len(both) / len(planted_ids) if planted_ids else np.nan,
                "recall, any kind": (
                    len(planted_ids & flagged_any) / len(planted_ids)
                    if planted_ids else np.nan
                ),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)
