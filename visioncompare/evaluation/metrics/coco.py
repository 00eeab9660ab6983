"""COCO detection metrics: COCO's JSON formats and the COCO view of an evaluation.

The evaluation itself is ``visioncompare.evaluation.metrics.cocoeval`` (pycocotools'
rules in numpy, keeping the matches); pycocotools is the reference it is tested against
and faster-coco-eval the speed it is measured against.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.cocoeval import (
    FILE_ORDER,
    EvalParams,
    Evaluation,
    _file_score,
    _file_xywh,
    evaluate,
)
from visioncompare.evaluation.metrics.cocoeval import (
    STAT_NAMES as STAT_NAMES,  # re-exported
)
from visioncompare.kernel.types import Detections

log = logging.getLogger(__name__)



def coco_ground_truth(dataset: Dataset, drop_difficult: bool = True) -> dict:
    """The dataset as a COCO instances dict.

    VOC ``difficult`` objects have no COCO equivalent; they are left out of COCO-style
    metrics (as Ultralytics does for VOC), while VOC AP ignores them as the devkit does.
    Boxes are a COCO file's own ``[x, y, w, h]`` where the dataset came from one, else
    float64 from the float32 ``xyxy``: the boxes the evaluation scores.
    """
    images, annotations = [], []
    for sample in dataset.samples:
        images.append(
            {"id": sample.image_id, "width": sample.width, "height": sample.height,
             "file_name": sample.path.name}
        )  # fmt: skip
        gt = sample.gt
        xyxy = gt.xyxy.astype(np.float64)
        made = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        own = _file_xywh(gt)
        boxes = np.where(np.isnan(own), made, own).tolist()
        for j in range(len(gt)):
            if drop_difficult and gt.extra["difficult"][j]:
                continue
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": sample.image_id,
                    "category_id": dataset.category_ids[int(gt.class_ids[j])],
                    "bbox": boxes[j],
                    "area": float(gt.extra["area"][j]),
                    "iscrowd": int(gt.extra["iscrowd"][j]),
                }
            )
    categories = [
        {"id": cid, "name": name}
        for cid, name in zip(dataset.category_ids, dataset.class_names)
    ]
    return {"images": images, "annotations": annotations, "categories": categories}


def coco_results(predictions: Mapping[int, Detections], dataset: Dataset) -> list[dict]:
    """Predictions as a COCO results list (``bbox`` in ``[x, y, w, h]``), classes by name.

    In the order the VOC devkit's rule ranks tied scores (``voc``): the results file's
    own order when every detection was read from one (``FILE_ORDER``), else image ids
    ascending, then each image's boxes in their order.
    """
    aligned = align_predictions(predictions, dataset).predictions
    results, positions = [], []
    for image_id in sorted(aligned):
        det = aligned[image_id]
        # float64 from the float32 boxes (or the file's own numbers): exactly what the
        # evaluation used, so the file re-scores to the numbers shown
        xyxy = det.xyxy.astype(np.float64)
        xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        own = _file_xywh(det)
        xywh = np.where(np.isnan(own), xywh, own).tolist()
        categories = [dataset.category_ids[int(c)] for c in det.class_ids]
        scores = _file_score(det).tolist()
        results.extend(
            {"image_id": image_id, "category_id": c, "bbox": b, "score": s}
            for c, b, s in zip(categories, xywh, scores)
        )
        positions.append(det.extra.get(FILE_ORDER, np.full(len(det), -1)))
    positions = np.concatenate(positions) if positions else np.zeros(0, np.int64)
    if len(positions) and (positions >= 0).all():
        results = [results[i] for i in np.argsort(positions, kind="stable")]
    return results


@dataclass(frozen=True, eq=False)
class CocoResult:
    """COCO metrics of one set of predictions on one dataset.

    Attributes:
        stats: the 12 summary numbers by name (-1 where there is no ground truth).
        per_class: one row per class: ``class``, ``gt`` (boxes), ``AP50``, ``AP50-95``
            (-1 for classes without ground truth).
        precision: COCOeval's (T, R, K, A, M) precision array (-1: undefined).
        recall_thresholds: (R,) the 101 recall points.
        iou_thresholds: (T,) 0.50:0.05:0.95.
        class_names: the K classes, in array order.
        max_dets: the M maxDets values.
        evaluation: the evaluation it was read from (matches included).
    """

    stats: dict[str, float]
    per_class: pd.DataFrame
    precision: np.ndarray
    recall_thresholds: np.ndarray
    iou_thresholds: np.ndarray
    class_names: tuple[str, ...]
    max_dets: tuple[int, ...]
    evaluation: Evaluation | None = None

    @property
    def ap_max_dets(self) -> int:
        """Index into ``max_dets`` of the value COCO's AP uses (100 when present)."""
        return _ap_index(self.max_dets)

    def pr_curve(
        self, class_name: str | None = None, iou: float = 0.5
    ) -> tuple[np.ndarray, np.ndarray]:
        """(recall, precision) at one IoU threshold, area "all", the AP's maxDets.

        ``class_name`` None gives the mean over classes with ground truth.
        """
        t = int(np.argmin(np.abs(self.iou_thresholds - iou)))
        curves = self.precision[t, :, :, 0, self.ap_max_dets]  # (R, K)
        if class_name is None:
            valid = curves[:, (curves > -1).any(axis=0)]
            precision = valid.mean(axis=1) if valid.size else np.zeros(len(curves))
        else:
            precision = curves[:, self.class_names.index(class_name)]
        return self.recall_thresholds, np.where(precision < 0, 0.0, precision)


def _ap_index(max_dets: tuple[int, ...]) -> int:
    return max_dets.index(100) if 100 in max_dets else min(2, len(max_dets) - 1)


def coco_result(evaluation: Evaluation, dataset: Dataset) -> CocoResult:
    """The COCO view of an evaluation: 12 numbers, per-class AP, the precision array."""
    params = evaluation.params
    m = _ap_index(params.max_dets)
    precision = evaluation.precision
    flat = evaluation.flat
    counted = ~flat.gt_crowd
    gt_counts = np.bincount(flat.gt_class[counted], minlength=len(dataset.class_names))
    per_class = pd.DataFrame(
        {
            "class": dataset.class_names,
            "gt": gt_counts.astype(np.int64),
            "AP50": evaluation.class_ap(0, m),
            "AP50-95": evaluation.class_ap(slice(None), m),
        }
    )
    return CocoResult(
        dict(evaluation.stats),
        per_class,
        precision,
        np.asarray(params.recall_thresholds, np.float64),
        np.asarray(params.iou_thresholds, np.float64),
        tuple(dataset.class_names),
        tuple(params.max_dets),
        evaluation,
    )


def evaluate_coco(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    max_dets: tuple[int, ...] = (1, 10, 100),
) -> CocoResult:
    """COCO bbox metrics, identical to pycocotools (``visioncompare.evaluation.metrics.cocoeval``).

    Args:
        dataset: ground truth (iscrowd regions are ignored as in pycocotools).
        predictions: image id -> detections; classes are matched by name and classes the
            dataset does not annotate are left out.
        max_dets: COCOeval's maxDets (AR1, AR10, AR100 use the first three; AP uses 100,
            or the third value when 100 is not among them).
    """
    aligned = align_predictions(predictions, dataset).predictions
    evaluation = evaluate(dataset, aligned, EvalParams(max_dets=tuple(max_dets)))
    return coco_result(evaluation, dataset)
