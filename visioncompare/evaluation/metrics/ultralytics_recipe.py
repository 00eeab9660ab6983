"""The Ultralytics row of "why mAP differs": its validator's matching and its
``ap_per_class``, transcribed from Ultralytics 8.4.190 (``TRANSCRIBED_FROM``) and tested
equal to the installed Ultralytics' own functions on the same predictions.

- IoU in float32 as ``ultralytics.utils.metrics.box_iou`` (``eps=1e-7``), thresholds
  ``torch.linspace(0.5, 0.95, 10)`` in float32;
- ``DetectionValidator.match_predictions`` (``ultralytics/engine/validator.py``): per image
  and threshold, each detection, most confident first, takes the unclaimed object of its
  class it overlaps most (the first such object on a tie) when that overlap reaches the
  threshold. Older releases sorted the pairs by IoU instead, which gives a detection's
  object to a less confident detection that overlaps it more;
- ``ap_per_class`` (``ultralytics/utils/metrics.py``): every detection of every class
  ranked at once by ``np.argsort(-conf)``, numpy's default sort, which does not keep the
  order of tied scores (an INT8 model gives many); the precision envelope starts at 1 and
  drops to 0 after the last recall reached; ``np.interp`` at 101 recall points and the
  trapezoid rule.

This module never imports Ultralytics: the installed version is only read from the
package metadata (``installed_ultralytics``) for the row's note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.cocoeval import (
    greedy_order,
    greedy_steps,
    group_pairs,
)
from visioncompare.kernel.types import Detections

TRANSCRIBED_FROM = "8.4.190"
"""The Ultralytics release whose matching and ``ap_per_class`` this module follows."""


def installed_ultralytics() -> str | None:
    """The installed Ultralytics version (the ``ultralytics`` distribution or its headless
    build ``ultralytics-opencv-headless``, the same module), None when neither is
    installed; read from the package metadata, without importing Ultralytics."""
    for distribution in ("ultralytics", "ultralytics-opencv-headless"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def ultralytics_note(installed: str | None = None) -> str:
    """Which Ultralytics the row follows, for its ``tools`` column: the installed version
    when there is one (``installed`` overrides the lookup, for tests)."""
    installed = installed_ultralytics() if installed is None else installed
    if installed is None:
        return f"Ultralytics {TRANSCRIBED_FROM}'s (Ultralytics is not installed here)"
    if installed == TRANSCRIBED_FROM:
        return f"Ultralytics {installed}'s (the installed version)"
    return f"Ultralytics {TRANSCRIBED_FROM}'s (installed here: {installed})"


@dataclass(frozen=True, eq=False)
class UltralyticsInputs:
    """What Ultralytics' validator hands to ``ap_per_class``, for our predictions.

    Attributes:
        tp: (N, 10) bool, true positive at IoU 0.50:0.05:0.95.
        conf: (N,) float32 scores, images in dataset order, each image's boxes best
            first (a stable sort of its boxes by score): the order of the validator's
            ``stats`` lists, whose NMS hands each image's boxes best first.
        pred_cls: (N,) class ids.
        target_cls: (M,) class ids of the objects (crowd and difficult left out, as its
            dataset converters do).
    """

    tp: np.ndarray
    conf: np.ndarray
    pred_cls: np.ndarray
    target_cls: np.ndarray


def greedy_match(
    pair_dt: np.ndarray,
    pair_gt: np.ndarray,
    iou: np.ndarray,
    group: np.ndarray,
    thresholds: np.ndarray,
    n_dt: int,
    n_gt: int,
    position: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A greedy matching by confidence, for every group (image and class) at once: the
    rule of Ultralytics' ``match_predictions`` and of tidecv's ``TIDEExample``.

    Each detection, in ``position`` order inside its group, takes among the objects still
    unclaimed at a threshold the one it overlaps most, the first object on a tie (as
    ``argmax``), if that overlap reaches the threshold.

    Args:
        pair_dt, pair_gt: every (detection, object) pair of one group with IoU of at
            least ``thresholds.min()``, objects numbered in their image's order.
        iou: (P,) IoU of each pair (float32 for Ultralytics, float64 for tidecv).
        group: (D,) the group key of each detection.
        thresholds: (T,) IoU thresholds, each matched on its own.
        n_dt, n_gt: the number of detections and objects.
        position: (D,) the confidence order inside a group (None: the detection's
            index, when detections are numbered best first).

    Returns:
        (true positives (D, T) bool, the object each took (D, T), -1 for none).

    A detection only competes with the detections of its group (another class's overlap
    is zeroed before ``argmax`` in both tools), so step ``r`` matches the ``r``-th
    candidate of every group at once.
    """
    tp = np.zeros((n_dt, len(thresholds)), bool)
    took = np.full((n_dt, len(thresholds)), -1, np.int64)
    if not len(pair_dt):
        return tp, took
    within = np.arange(n_dt) if position is None else position
    order, bounds = greedy_order(pair_dt, pair_gt, group, within)
    pair_dt, pair_gt, iou = pair_dt[order], pair_gt[order], iou[order]
    above = iou[:, None] >= thresholds[None, :]  # (P, T)
    taken = np.zeros((n_gt, len(thresholds)), bool)
    for s, seg in greedy_steps(bounds, pair_dt):
        pd_, pg = pair_dt[s], pair_gt[s]
        seg_of = np.repeat(np.arange(len(seg)), np.diff(np.r_[seg, len(pd_)]))
        valid = above[s] & ~taken[pg]  # (P, T)
        v = np.where(valid, iou[s][:, None], iou.dtype.type(-1))
        best = np.maximum.reduceat(v, seg, axis=0)
        pos = np.where(valid & (v == best[seg_of]), np.arange(len(pd_))[:, None], len(pd_))
        chosen = np.minimum.reduceat(pos, seg, axis=0)  # (S, T): the first object
        si, ti = np.nonzero(chosen < len(pd_))
        taken[pg[chosen[si, ti]], ti] = True
        tp[pd_[seg[si]], ti] = True
        took[pd_[seg[si]], ti] = pg[chosen[si, ti]]
    return tp, took


def ultralytics_inputs(
    dataset: Dataset, aligned: Mapping[int, Detections], max_det: int = 300
) -> UltralyticsInputs:
    """The validator's ``stats`` for our predictions: at most ``max_det`` boxes per image
    (its NMS cap), best first; matched as ``DetectionValidator.match_predictions`` (see
    ``greedy_match``) with IoU in float32 as ``box_iou``."""
    iouv = np.linspace(0.5, 0.95, 10, dtype=np.float32)  # torch.linspace in float32
    d_img, d_cls, d_box, d_conf, g_img, g_cls, g_box = [], [], [], [], [], [], []
    for n, sample in enumerate(dataset.samples):
        gt = sample.gt
        keep = (gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)
        g_img.append(np.full(int(keep.sum()), n))
        g_cls.append(gt.class_ids[keep])
        g_box.append(gt.xyxy[keep])
        det = aligned.get(sample.image_id)
        if det is None or not len(det):
            continue
        best = np.argsort(-det.scores, kind="stable")[:max_det]
        d_img.append(np.full(len(best), n))
        d_cls.append(det.class_ids[best])
        d_box.append(det.xyxy[best])
        d_conf.append(det.scores[best])

    def cat(parts, dtype, width=None):
        if parts:
            return np.concatenate(parts).astype(dtype, copy=False)
        return np.zeros((0, width) if width else 0, dtype)

    d_img, d_cls, g_img, g_cls = (cat(p, np.int64) for p in (d_img, d_cls, g_img, g_cls))
    d_box, g_box = cat(d_box, np.float32, 4), cat(g_box, np.float32, 4)
    conf = cat(d_conf, np.float32)
    k = len(dataset.class_names)
    group = d_img * k + d_cls
    pd_, pg = group_pairs(group, g_img * k + g_cls)
    a, b = d_box[pd_], g_box[pg]
    wh = np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None)
    inter = wh[:, 0] * wh[:, 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / (area_a + area_b - inter + np.float32(1e-7))
    near = iou >= iouv[0]
    tp, _ = greedy_match(
        pd_[near], pg[near], iou[near], group, iouv, len(conf), len(g_cls)
    )
    return UltralyticsInputs(tp, conf, d_cls, g_cls)


def ultralytics_ap(inputs: UltralyticsInputs) -> tuple[np.ndarray, np.ndarray]:
    """AP per class and threshold as ``ultralytics.utils.metrics.ap_per_class``: rank every
    detection at once by ``np.argsort(-conf)`` (numpy's default sort: the order of tied
    scores is numpy's, across classes), recall and precision per class, precision
    envelope starting at 1 and dropping to 0 after the last recall reached, then
    ``np.interp`` at 101 recall points and trapezoidal integration (its ``compute_ap``).

    Returns:
        (ap (C, 10), classes (C,)) over the classes with objects.
    """
    i = np.argsort(-inputs.conf)
    tp, pred_cls = inputs.tp[i], inputs.pred_cls[i]
    classes, counts = np.unique(inputs.target_cls, return_counts=True)
    ap = np.zeros((len(classes), tp.shape[1]))
    x = np.linspace(0, 1, 101)
    eps = 1e-16
    for ci, c in enumerate(classes):
        mask = pred_cls == c
        if not mask.any():
            continue
        tpc = tp[mask].cumsum(0)
        fpc = (1 - tp[mask]).cumsum(0)
        recall = tpc / (counts[ci] + eps)
        precision = tpc / (tpc + fpc)
        for j in range(tp.shape[1]):
            r = recall[:, j]
            mrec = np.concatenate(([0.0], r, [r[-1] if len(r) else 1.0], [1.0]))
            mpre = np.concatenate(([1.0], precision[:, j], [0.0], [0.0]))
            mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
            ap[ci, j] = np.trapezoid(np.interp(x, mrec, mpre), x)
    return ap, classes
