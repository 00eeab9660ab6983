"""COCO detection metrics: COCO's JSON formats and the COCO view of an evaluation.

The evaluation itself is ``visioncompare.evaluation.metrics.cocoeval`` (pycocotools'
rules in numpy, keeping the matches); pycocotools is the reference it is tested against
and faster-coco-eval the speed it is measured against.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

try:
    import orjson
except ImportError:  # optional: json writes the same text, slower
    orjson = None

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
    return _as_dicts(*_result_columns(predictions, dataset))


def coco_results_json(predictions: Mapping[int, Detections], dataset: Dataset) -> bytes:
    """``json.dumps(coco_results(predictions, dataset))`` as UTF-8, byte for byte, made
    by orjson where that gives the same text: its separators are spaced as ``json``'s
    (the text holds no string but the four keys), and its floats are written as
    ``repr`` writes them between 1e-4 and 1e16 (outside, ``json.dumps`` writes it)."""
    columns = _result_columns(predictions, dataset)
    _, _, xywh, scores = columns
    if orjson is None or not (_repr_range(xywh) and _repr_range(scores)):
        return json.dumps(_as_dicts(*columns)).encode()
    compact = orjson.dumps(_as_dicts(*columns))  # the dicts are freed here
    return compact.replace(b",", b", ").replace(b":", b": ")


def _as_dicts(
    ids: np.ndarray, categories: np.ndarray, xywh: np.ndarray, scores: np.ndarray
) -> list[dict]:
    return [
        {"image_id": i, "category_id": c, "bbox": b, "score": s}
        for i, c, b, s in zip(
            ids.tolist(), categories.tolist(), xywh.tolist(), scores.tolist()
        )
    ]


def _repr_range(values: np.ndarray) -> bool:
    """True when every value is 0 or of a magnitude in [1e-4, 1e16): where orjson's text
    of a float is ``repr``'s (outside, one writes ``1e-05``, the other ``0.00001``)."""
    size = np.abs(values)
    return bool(((size == 0) | ((size >= 1e-4) & (size < 1e16))).all())


def _result_columns(
    predictions: Mapping[int, Detections], dataset: Dataset
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``coco_results``' image ids, category ids, ``[x, y, w, h]`` and scores, in its
    order."""
    aligned = align_predictions(predictions, dataset).predictions
    image_ids = sorted(aligned)
    dets = [aligned[i] for i in image_ids]
    if not dets:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros((0, 4)), np.zeros(0)
    ids = np.repeat(np.array(image_ids, np.int64), [len(d) for d in dets])
    # float64 from the float32 boxes (or the file's own numbers): exactly what the
    # evaluation used, so the file re-scores to the numbers shown
    xyxy = np.concatenate([d.xyxy for d in dets]).astype(np.float64)
    made = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    own = np.concatenate([_file_xywh(d) for d in dets])
    xywh = np.where(np.isnan(own), made, own)
    classes = np.concatenate([d.class_ids for d in dets])
    categories = np.array(dataset.category_ids, np.int64)[classes]
    scores = np.concatenate([_file_score(d) for d in dets])
    positions = np.concatenate(
        [d.extra.get(FILE_ORDER, np.full(len(d), -1)) for d in dets]
    )
    if len(positions) and (positions >= 0).all():
        order = np.argsort(positions, kind="stable")
        ids, categories, xywh, scores = ids[order], categories[order], xywh[order], (
            scores[order]
        )
    return ids, categories, xywh, scores


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
