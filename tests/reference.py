"""pycocotools, the reference implementation, run on the same inputs as our metrics."""

from __future__ import annotations

import contextlib
import io

import numpy as np


def pycocotools_eval(gt_dict: dict, results: list[dict], max_dets=(1, 10, 100)):
    """(stats (12,), precision (T, R, K, A, M)) from pycocotools' COCOeval."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {k: list(v) for k, v in gt_dict.items()}
        gt.createIndex()
        dt = gt.loadRes(results) if results else COCO()
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.params.maxDets = list(max_dets)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats), np.asarray(evaluator.eval["precision"])
