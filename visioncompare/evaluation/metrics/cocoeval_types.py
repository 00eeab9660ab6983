"""The parameters and flat inputs of COCOeval's evaluate -> accumulate
(``visioncompare.evaluation.metrics.cocoeval``, which re-exports them): every threshold
in one ``EvalParams``, the ground truth and detections as flat ``Flat`` arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

AREA_NAMES = ("all", "small", "medium", "large")


def _iou_thresholds() -> np.ndarray:
    # the same expression as pycocotools' Params, so the values are bit-identical
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def _recall_thresholds() -> np.ndarray:
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


@dataclass(frozen=True)
class EvalParams:
    """Every threshold of an evaluation; nothing else in the metrics carries a default.

    Attributes:
        iou_thresholds: (T,) COCO's 0.50:0.05:0.95; the explorer snaps to these.
        recall_thresholds: (R,) COCO's 101 recall points.
        max_dets: COCOeval's maxDets. The 12 COCO numbers use 1, 10 and 100; the last
            value (300) is what matching keeps and what the "maxDets 300" row reads.
        area_ranges: (A, 2) COCO's all / small / medium / large, in pixels squared.
        conf: the explorer's confidence (TP / FP / FN, precision, recall, confusion).
        iou: the explorer's IoU, one of ``iou_thresholds`` (also the confusion matrix's).
        min_conf: the lowest confidence the explorer offers; the confusion matrix keeps
            candidate pairs for detections at or above it (lower ones are paired on
            demand).
        voc_iou: the VOC devkit's IoU (a match needs IoU strictly above it).
        cut: the confidence cut of the "why mAP differs" row.
    """

    iou_thresholds: tuple[float, ...] = field(
        default_factory=lambda: tuple(_iou_thresholds().tolist())
    )
    recall_thresholds: tuple[float, ...] = field(
        default_factory=lambda: tuple(_recall_thresholds().tolist())
    )
    max_dets: tuple[int, ...] = (1, 10, 100, 300)
    area_ranges: tuple[tuple[float, float], ...] = (
        (0.0, 1e5**2), (0.0, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2),
    )  # fmt: skip
    conf: float = 0.25
    iou: float = 0.5
    min_conf: float = 0.05
    voc_iou: float = 0.5
    cut: float = 0.25

    def snap_iou(self, iou: float) -> int:
        """Index of the IoU threshold nearest ``iou``."""
        return int(np.argmin(np.abs(np.asarray(self.iou_thresholds) - iou)))

    def with_thresholds(self, conf: float, iou: float) -> EvalParams:
        """The same evaluation at another operating point (IoU snapped)."""
        from dataclasses import replace

        return replace(self, conf=conf, iou=self.iou_thresholds[self.snap_iou(iou)])


@dataclass(frozen=True, eq=False)
class Flat:
    """A dataset's ground truth and aligned predictions as flat arrays.

    Ground truth (G,) and detections (D,), image index = position in ascending image id
    (COCOeval's ``imgIds`` order). Boxes are ``[x, y, w, h]`` float64.
    """

    image_ids: np.ndarray
    gt_image: np.ndarray
    gt_class: np.ndarray
    gt_xywh: np.ndarray
    gt_area: np.ndarray
    gt_crowd: np.ndarray
    gt_index: np.ndarray
    """(G,) the ground truth's index in its sample's ``gt``."""
    dt_image: np.ndarray
    dt_class: np.ndarray
    dt_xywh: np.ndarray
    dt_score: np.ndarray
    dt_index: np.ndarray
    """(D,) the detection's index in its image's aligned ``Detections``."""
    num_classes: int
