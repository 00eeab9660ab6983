"""pycocotools, the reference implementation, run on the same inputs as our metrics."""

from __future__ import annotations

import contextlib
import io

import numpy as np


def pycocotools_eval(
    gt_dict: dict, results: list[dict], max_dets=(1, 10, 100), cat_ids=None
):
    """(stats (12,), precision (T, R, K, A, M)) from pycocotools' COCOeval (optionally
    over some categories only: ``params.catIds``)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {k: list(v) for k, v in gt_dict.items()}
        gt.createIndex()
        dt = gt.loadRes(results) if results else COCO()
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.params.maxDets = list(max_dets)
        if cat_ids is not None:
            evaluator.params.catIds = list(cat_ids)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats), np.asarray(evaluator.eval["precision"])


def voc_devkit_ap(
    gt: dict, detections: list, iou_threshold: float = 0.5, use_07_metric: bool = False
) -> float:
    """The VOC devkit's AP for one class, transcribed from its Python port
    (py-faster-rcnn ``voc_eval.py``, itself a port of the devkit's ``VOCevaldet.m``):
    boxes in inclusive 1-based pixel coordinates (width = x2 - x1 + 1), detections
    ranked by confidence, each taking its best-overlapping object if the overlap
    exceeds the threshold, difficult objects ignored.

    Args:
        gt: image -> (boxes (n, 4) x1 y1 x2 y2, difficult (n,) bool).
        detections: [(image, confidence, [x1, y1, x2, y2]), ...].
    """
    class_recs = {
        k: {"bbox": np.asarray(b, float), "difficult": np.asarray(d, bool),
            "det": [False] * len(b)}
        for k, (b, d) in gt.items()
    }  # fmt: skip
    npos = sum(int((~r["difficult"]).sum()) for r in class_recs.values())
    image_ids = [d[0] for d in detections]
    confidence = np.array([d[1] for d in detections], float)
    bb_all = np.array([d[2] for d in detections], float).reshape(-1, 4)
    sorted_ind = np.argsort(-confidence, kind="stable")
    bb_all = bb_all[sorted_ind]
    image_ids = [image_ids[x] for x in sorted_ind]
    nd = len(image_ids)
    tp, fp = np.zeros(nd), np.zeros(nd)
    for d in range(nd):
        r = class_recs[image_ids[d]]
        bb = bb_all[d]
        ovmax = -np.inf
        bbgt = r["bbox"]
        if bbgt.size > 0:
            ixmin = np.maximum(bbgt[:, 0], bb[0])
            iymin = np.maximum(bbgt[:, 1], bb[1])
            ixmax = np.minimum(bbgt[:, 2], bb[2])
            iymax = np.minimum(bbgt[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = (
                (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                + (bbgt[:, 2] - bbgt[:, 0] + 1.0) * (bbgt[:, 3] - bbgt[:, 1] + 1.0)
                - inters
            )
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > iou_threshold:
            if not r["difficult"][jmax]:
                if not r["det"][jmax]:
                    tp[d] = 1.0
                    r["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap += p / 11.0
        return float(ap)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
