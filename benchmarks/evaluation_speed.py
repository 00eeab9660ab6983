"""Evaluation engine speed, four measurements in one run, each on the same inputs.

1. Batch inference: our evaluation loop
(``visioncompare.evaluation.prediction_runs.predict_detections``, images
   decoded one batch ahead) vs Ultralytics' own ``predict`` loop over the same image files,
   same detector, same settings (conf 0.001, iou 0.7, max_det 300), median of 3 passes.
2. COCO metrics on a synthetic 5,000-image COCO-sized set:
``visioncompare.evaluation.metrics.coco.evaluate_coco``
   (``visioncompare.evaluation.metrics.cocoeval``, numpy) vs pycocotools on the same
   ground truth and results; results compared.
3. Re-evaluation from stored predictions for 500 images: a new confidence threshold (counts,
   precision/recall/F1 and the confusion matrix) and a new IoU threshold.
4. The realistic case: 5,000 images x 100 boxes at confidence 0.001, 80 classes (COCO
   val2017's size, ``tests.helpers.realistic_coco_case``): the whole report vs
   faster-coco-eval's own evaluate + accumulate on the same inputs; a confidence or IoU
   change (explorer numbers and confusion matrix); "why mAP differs" vs one evaluation.

Usage: python -m benchmarks.evaluation_speed [--images N] [--synthetic 5000]
       [--realistic 5000] [--skip-inference]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.helpers import random_coco_case, realistic_coco_case
from tests.reference import pycocotools_eval
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.metrics.coco import (
    STAT_NAMES,
    coco_ground_truth,
    coco_results,
    evaluate_coco,
)
from visioncompare.evaluation.metrics.cocoeval import EvalParams
from visioncompare.evaluation.prediction_runs import DetectSettings, predict_detections
from visioncompare.evaluation.store import PredictionStore
from visioncompare.services.report import evaluate_predictions


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def inference(images: int) -> list[str]:
    from model_zoo import load_model

    detector = load_model("yolov8n-int8", "cpu")
    dataset = load_bundled("voc2012-sample100").subset(images)
    paths = [str(s.path) for s in dataset.samples]
    settings = DetectSettings()
    detector.predict([np.zeros((64, 64, 3), np.uint8)])  # warm-up for both

    def ultralytics_loop():
        for path in paths:
            detector.model.predict(
                path, conf=settings.conf, iou=settings.iou, max_det=settings.max_det,
                device="cpu", verbose=False,
            )  # fmt: skip

    def ours():
        with tempfile.TemporaryDirectory() as tmp:
            predict_detections(detector, dataset, PredictionStore(Path(tmp) / "p.sqlite"),
                               {"name": "bench"}, settings)  # fmt: skip

    theirs_s, _ = timed(ultralytics_loop)
    ours_s, _ = timed(ours)
    return [
        f"| inference, Ultralytics predict loop ({images} VOC images) | "
        f"{images / theirs_s:.1f} img/s | |",
        f"| inference, our evaluation loop (same images, stored) | {images / ours_s:.1f} img/s "
        f"| **{theirs_s / ours_s:.2f}x** (target >= 0.95x) |",
    ]


def metrics(images: int) -> list[str]:
    dataset, predictions = random_coco_case(0, images=images, classes=80)
    boxes = sum(len(p) for p in predictions.values())
    gt, results = coco_ground_truth(dataset), coco_results(predictions, dataset)
    ours_s, ours = timed(lambda: evaluate_coco(dataset, predictions), repeat=1)
    ref_s, (stats, _) = timed(lambda: pycocotools_eval(gt, results), repeat=1)
    diff = np.abs(np.array([ours.stats[n] for n in STAT_NAMES]) - stats).max()
    return [
        f"| COCO metrics, pycocotools ({images} images, {dataset.num_boxes} gt, {boxes} dets) "
        f"| {ref_s * 1000:.0f} ms | |",
        f"| COCO metrics, ours (numpy COCOeval keeping matches, inputs built from the "
        "dataset) | "
        f"{ours_s * 1000:.0f} ms | **{ref_s / ours_s:.1f}x faster** (target >= 3x); max "
        f"difference {diff:.1e} |",
    ]


def reevaluation(images: int) -> list[str]:
    dataset, predictions = random_coco_case(1, images=images, classes=20)
    explorer = evaluate_predictions(dataset, predictions, "bench").explorer
    rows = []
    for change, conf, iou in (("confidence", 0.4, 0.5), ("IoU", 0.4, 0.6)):
        seconds, _ = timed(
            lambda: (explorer.summary(conf, iou), explorer.confusion(conf, iou)),
            repeat=5,
        )
        rows.append(
            f"| re-evaluation, new {change} ({images} images: counts, P/R/F1, "
            f"confusion) | {seconds * 1000:.1f} ms | target < 200 ms |"
        )
    return rows


def realistic(images: int) -> list[str]:
    """The whole report, threshold changes and "why mAP differs" at COCO val2017's size."""
    import resource

    from faster_coco_eval import COCO, COCOeval_faster

    dataset, predictions = realistic_coco_case(0, images=images)
    boxes = sum(len(p) for p in predictions.values())

    def quiet(*args, **kwargs):
        return None

    gt = COCO(coco_ground_truth(dataset), print_function=quiet)
    dt = gt.loadRes(coco_results(predictions, dataset))

    def faster_coco_eval():
        evaluator = COCOeval_faster(gt, dt, "bbox", print_function=quiet)
        evaluator.evaluate()
        evaluator.accumulate()
        return evaluator

    # interleaved, so both see the same load on a shared machine
    theirs_times, ours_times = [], []
    for _ in range(3):
        t, theirs = timed(faster_coco_eval, repeat=1)
        theirs_times.append(t)
        t, report = timed(
            lambda: evaluate_predictions(dataset, predictions, "bench", EvalParams()),
            repeat=1,
        )
        ours_times.append(t)
    theirs_s = statistics.median(theirs_times)
    ours_s = statistics.median(ours_times)
    precision = np.asarray(theirs.eval["precision"])
    diff = np.abs(report.coco.precision[..., :3] - precision).max()
    explorer = report.explorer
    moves = [(0.3, 0.5), (0.35, 0.5), (0.35, 0.55), (0.4, 0.75), (0.2, 0.6), (0.25, 0.9)]
    conf_times, iou_times = [], []
    previous_iou = 0.5
    for conf, iou in moves:
        start = time.perf_counter()
        explorer.summary(conf, iou)
        explorer.confusion(conf, iou)
        elapsed = time.perf_counter() - start
        (iou_times if iou != previous_iou else conf_times).append(elapsed)
        previous_iou = iou
    start = time.perf_counter()
    records = explorer.match(0.7).at_confidence(0.3)
    records_s = time.perf_counter() - start

    def one_evaluation():
        from visioncompare.evaluation.metrics.align import align_predictions
        from visioncompare.evaluation.metrics.cocoeval import evaluate

        evaluate(dataset, align_predictions(predictions, dataset).predictions,
                 EvalParams())  # fmt: skip

    def why():
        report.__dict__.pop("disagreement", None)  # the report caches it
        return report.disagreement

    one_times, why_times = [], []
    for _ in range(3):
        one_times.append(timed(one_evaluation, repeat=1)[0])
        why_times.append(timed(why, repeat=1)[0])
    one_s, why_s = statistics.median(one_times), statistics.median(why_times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    label = f"{images} images, {dataset.num_boxes} gt, {boxes} dets"
    return [
        f"| realistic ({label}): faster-coco-eval evaluate + accumulate | "
        f"{theirs_s * 1000:.0f} ms | |",
        f"| realistic: our whole report (align, COCO 12 + per-class + PR, VOC, explorer "
        f"matches and pairs) | {ours_s * 1000:.0f} ms | **{ours_s / theirs_s:.2f}x** "
        f"(target <= 1.2x); precision arrays differ by {diff:.1e} |",
        f"| realistic: confidence change (P/R/F1, TP/FP/FN, confusion), median of "
        f"{len(conf_times)} | {statistics.median(conf_times) * 1000:.0f} ms | "
        "target < 200 ms |",
        f"| realistic: IoU change (same), median of {len(iou_times)} | "
        f"{statistics.median(iou_times) * 1000:.0f} ms | target < 200 ms |",
        f"| realistic: records for the error browser / IoU tab at a new IoU "
        f"({len(records)} rows) | {records_s * 1000:.0f} ms | |",
        f"| realistic: one COCO evaluation (ours) | {one_s * 1000:.0f} ms | |",
        f"| realistic: \"why mAP differs\" (8 rows) | {why_s * 1000:.0f} ms | "
        f"**{why_s / one_s:.2f}x** one evaluation (target <= 1.5x) |",
        f"| realistic: peak RSS of this benchmark process | {rss_mb:.0f} MB | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--synthetic", type=int, default=5000)
    parser.add_argument("--reeval", type=int, default=500)
    parser.add_argument("--realistic", type=int, default=5000)
    parser.add_argument("--skip-inference", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU threads, "
          f"Python {platform.python_version()}")  # fmt: skip
    print("| measurement | result | ratio |\n|---|---:|---|")
    steps = [
        *([] if args.skip_inference else [lambda: inference(args.images)]),
        lambda: metrics(args.synthetic),
        lambda: reevaluation(args.reeval),
        lambda: realistic(args.realistic),
    ]
    for step in steps:
        for line in step():
            print(line, flush=True)


if __name__ == "__main__":
    main()
