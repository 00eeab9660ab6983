"""COCO detection metrics through faster-coco-eval (identical to pycocotools).

We do not rewrite COCOeval: we build its inputs from a Dataset and predictions, run
evaluate -> accumulate -> summarize, and read the results out of its arrays.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.datasets.types import Dataset
from core.metrics.align import align_predictions
from core.types import Detections

log = logging.getLogger(__name__)

STAT_NAMES = (
    "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
    "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
)  # fmt: skip
"""The 12 numbers of COCOeval.summarize(), in its order (AR100 is AR at the last maxDets)."""


def coco_ground_truth(dataset: Dataset, drop_difficult: bool = True) -> dict:
    """The dataset as a COCO instances dict.

    VOC ``difficult`` objects have no COCO equivalent; they are left out of COCO-style
    metrics (as Ultralytics does for VOC), while VOC AP ignores them as the devkit does.
    """
    images, annotations = [], []
    for sample in dataset.samples:
        images.append(
            {"id": sample.image_id, "width": sample.width, "height": sample.height,
             "file_name": sample.path.name}
        )  # fmt: skip
        gt = sample.gt
        xyxy = gt.xyxy.astype(np.float64)
        for j in range(len(gt)):
            if drop_difficult and gt.extra["difficult"][j]:
                continue
            x1, y1, x2, y2 = xyxy[j].tolist()
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": sample.image_id,
                    "category_id": dataset.category_ids[int(gt.class_ids[j])],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
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
    """Predictions as a COCO results list (``bbox`` in ``[x, y, w, h]``), classes by name."""
    aligned = align_predictions(predictions, dataset).predictions
    results = []
    for image_id, det in aligned.items():
        xyxy = det.xyxy.astype(np.float64)
        for j in range(len(det)):
            x1, y1, x2, y2 = xyxy[j].tolist()
            results.append(
                {
                    "image_id": image_id,
                    "category_id": dataset.category_ids[int(det.class_ids[j])],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(det.scores[j]),
                }
            )
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
    """

    stats: dict[str, float]
    per_class: pd.DataFrame
    precision: np.ndarray
    recall_thresholds: np.ndarray
    iou_thresholds: np.ndarray
    class_names: tuple[str, ...]
    max_dets: tuple[int, ...]

    def pr_curve(
        self, class_name: str | None = None, iou: float = 0.5
    ) -> tuple[np.ndarray, np.ndarray]:
        """(recall, precision) at one IoU threshold, area "all", the largest maxDets.

        ``class_name`` None gives the mean over classes with ground truth.
        """
        t = int(np.argmin(np.abs(self.iou_thresholds - iou)))
        curves = self.precision[t, :, :, 0, -1]  # (R, K)
        if class_name is None:
            valid = curves[:, (curves > -1).any(axis=0)]
            precision = valid.mean(axis=1) if valid.size else np.zeros(len(curves))
        else:
            precision = curves[:, self.class_names.index(class_name)]
        return self.recall_thresholds, np.where(precision < 0, 0.0, precision)


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else -1.0


def evaluate_coco(
    dataset: Dataset,
    predictions: Mapping[int, Detections],
    max_dets: tuple[int, int, int] = (1, 10, 100),
) -> CocoResult:
    """COCO bbox metrics with faster-coco-eval.

    Args:
        dataset: ground truth (iscrowd regions are ignored as in pycocotools).
        predictions: image id -> detections; classes are matched by name and classes the
            dataset does not annotate are left out.
        max_dets: COCOeval's maxDets (AR1, AR10, AR100 and the AP use the last).
    """
    from faster_coco_eval import COCO, COCOeval_faster

    quiet = lambda *args, **kwargs: None  # noqa: E731 - the library prints otherwise
    gt = COCO(coco_ground_truth(dataset), print_function=quiet)
    results = coco_results(predictions, dataset)
    detections = gt.loadRes(results if results else np.zeros((0, 7)))
    evaluator = COCOeval_faster(gt, detections, "bbox", print_function=quiet)
    evaluator.params.maxDets = list(max_dets)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = {name: float(v) for name, v in zip(STAT_NAMES, evaluator.stats[:12])}
    precision = np.asarray(evaluator.eval["precision"], dtype=np.float64)
    cat_order = list(evaluator.params.catIds)
    names = tuple(
        dataset.class_names[dataset.category_ids.index(cid)] for cid in cat_order
    )
    gt_counts = {name: 0 for name in dataset.class_names}
    for ann in gt.dataset["annotations"]:
        if not ann["iscrowd"]:
            gt_counts[
                dataset.class_names[dataset.category_ids.index(ann["category_id"])]
            ] += 1
    per_class = pd.DataFrame(
        {
            "class": names,
            "gt": [gt_counts[n] for n in names],
            "AP50": [_mean_valid(precision[0, :, k, 0, -1]) for k in range(len(names))],
            "AP50-95": [
                _mean_valid(precision[:, :, k, 0, -1]) for k in range(len(names))
            ],
        }
    )
    return CocoResult(
        stats,
        per_class,
        precision,
        np.asarray(evaluator.params.recThrs, dtype=np.float64),
        np.asarray(evaluator.params.iouThrs, dtype=np.float64),
        names,
        tuple(max_dets),
    )
