"""Two detectors on the same images, image by image, at one operating point.

Read from each model's matching records (``MatchResult.at_confidence``): an object is
identified by (image id, index in the sample's ground truth), so "found" and "missed" line
up exactly between the models. A false positive of B is "new" when A has no false positive
of the same class in the same image overlapping it by IoU >= ``same_iou``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from visioncompare.evaluation.metrics.cocoeval import group_pairs, pair_iou
from visioncompare.evaluation.metrics.matching import FN, FP, TP

B_FINDS, A_FINDS, B_NEW_FP, A_NEW_FP, BOTH_MISS = (
    "B finds what A missed",
    "A finds what B missed",
    "B adds false positives A did not have",
    "A adds false positives B did not have",
    "both miss",
)
CATEGORIES = (B_FINDS, B_NEW_FP, BOTH_MISS, A_FINDS, A_NEW_FP)


def _object_keys(records: pd.DataFrame, kind: str) -> np.ndarray:
    rows = records[records["kind"] == kind]
    return rows["image_id"].to_numpy(np.int64) * 1_000_003 + rows["gt_index"].to_numpy(
        np.int64
    )


def _object_mask(records: pd.DataFrame, kind: str, keys: np.ndarray) -> np.ndarray:
    mine = records["image_id"].to_numpy(np.int64) * 1_000_003 + records[
        "gt_index"
    ].to_numpy(np.int64)
    return (records["kind"].to_numpy() == kind) & np.isin(mine, keys)


def _new_false_positives(
    mine: pd.DataFrame, other: pd.DataFrame, same_iou: float
) -> np.ndarray:
    """(len(mine),) bool: a false positive of ``mine`` that no false positive of ``other``
    (same image, same class) overlaps by IoU >= ``same_iou``."""
    is_fp = mine["kind"].to_numpy() == FP
    fp_m = np.flatnonzero(is_fp)
    fp_o = np.flatnonzero(other["kind"].to_numpy() == FP)
    codes = {c: n for n, c in enumerate(sorted(set(mine["class"].astype(str))
                                               | set(other["class"].astype(str))))}  # fmt: skip
    k = max(len(codes), 1)

    def keys(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        cls = np.array([codes[c] for c in frame["class"].astype(str).to_numpy()[rows]],
                       np.int64)  # fmt: skip
        return frame["image_id"].to_numpy(np.int64)[rows] * k + cls

    def xywh(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        box = frame[["x1", "y1", "x2", "y2"]].to_numpy(np.float64)[rows]
        return np.concatenate([box[:, :2], box[:, 2:] - box[:, :2]], axis=1)

    new = is_fp.copy()
    if len(fp_m) and len(fp_o):
        d, g = group_pairs(keys(mine, fp_m), keys(other, fp_o))
        iou = pair_iou(xywh(mine, fp_m)[d], xywh(other, fp_o)[g], np.zeros(len(d), bool))
        new[fp_m[d[iou >= same_iou]]] = False
    return new


@dataclass(frozen=True, eq=False)
class ModelDiff:
    """Where two detectors differ, image by image.

    Attributes:
        records_a, records_b: each model's records at the operating point.
        masks_a, masks_b: category -> (rows,) bool over that model's records: the boxes
            that make the category (B_FINDS: B's true positives and A's misses of the
            same objects; B_NEW_FP: B's false positives; BOTH_MISS: both models' misses).
        images: one row per image with a count per category (objects or boxes).
    """

    records_a: pd.DataFrame
    records_b: pd.DataFrame
    masks_a: dict[str, np.ndarray]
    masks_b: dict[str, np.ndarray]
    images: pd.DataFrame

    def images_of(self, category: str) -> pd.DataFrame:
        """(image_id, count) of the images with that category, most first."""
        rows = self.images[self.images[category] > 0]
        return rows[["image_id", category]].sort_values(
            [category, "image_id"], ascending=[False, True], kind="stable"
        ).reset_index(drop=True)

    def boxes(self, image_id: int, category: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The boxes of one category in one image: (A's rows, B's rows)."""
        out = []
        for records, masks in ((self.records_a, self.masks_a),
                               (self.records_b, self.masks_b)):  # fmt: skip
            rows = records[masks[category] & (records["image_id"] == image_id).to_numpy()]
            out.append(rows)
        return out[0], out[1]


def compare_models(
    records_a: pd.DataFrame, records_b: pd.DataFrame, same_iou: float = 0.5
) -> ModelDiff:
    """Image-by-image differences of two models' records on the same dataset.

    Args:
        records_a, records_b: ``MatchResult.at_confidence`` of each model (same dataset,
            same confidence and IoU).
        same_iou: the IoU at which two false positives are the same mistake.
    """
    a_tp, a_fn = _object_keys(records_a, TP), _object_keys(records_a, FN)
    b_tp, b_fn = _object_keys(records_b, TP), _object_keys(records_b, FN)
    b_finds = np.intersect1d(a_fn, b_tp)
    a_finds = np.intersect1d(b_fn, a_tp)
    both = np.intersect1d(a_fn, b_fn)
    none_a = np.zeros(len(records_a), bool)
    none_b = np.zeros(len(records_b), bool)
    masks_a = {
        B_FINDS: _object_mask(records_a, FN, b_finds),
        A_FINDS: _object_mask(records_a, TP, a_finds),
        B_NEW_FP: none_a,
        A_NEW_FP: _new_false_positives(records_a, records_b, same_iou),
        BOTH_MISS: _object_mask(records_a, FN, both),
    }
    masks_b = {
        B_FINDS: _object_mask(records_b, TP, b_finds),
        A_FINDS: _object_mask(records_b, FN, a_finds),
        B_NEW_FP: _new_false_positives(records_b, records_a, same_iou),
        A_NEW_FP: none_b,
        BOTH_MISS: _object_mask(records_b, FN, both),
    }
    ids = np.union1d(records_a["image_id"].to_numpy(), records_b["image_id"].to_numpy())

    def per_image(records: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
        hit = records["image_id"].to_numpy()[mask]
        uniq, n = np.unique(hit, return_counts=True)
        out = np.zeros(len(ids), np.int64)
        out[np.searchsorted(ids, uniq)] = n
        return out

    images = pd.DataFrame(
        {
            "image_id": ids,
            B_FINDS: per_image(records_b, masks_b[B_FINDS]),
            B_NEW_FP: per_image(records_b, masks_b[B_NEW_FP]),
            BOTH_MISS: per_image(records_a, masks_a[BOTH_MISS]),
            A_FINDS: per_image(records_a, masks_a[A_FINDS]),
            A_NEW_FP: per_image(records_a, masks_a[A_NEW_FP]),
        }
    )
    return ModelDiff(records_a, records_b, masks_a, masks_b, images)
