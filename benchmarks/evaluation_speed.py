"""Evaluation engine speed, three measurements in one run, each on the same inputs.

1. Batch inference: our evaluation loop (``core.prediction_runs.predict_detections``, images
   decoded one batch ahead) vs Ultralytics' own ``predict`` loop over the same image files,
   same detector, same settings (conf 0.001, iou 0.7, max_det 300), median of 3 passes.
2. COCO metrics on a synthetic 5,000-image COCO-sized set: ``core.metrics.coco.evaluate_coco``
   (faster-coco-eval) vs pycocotools on the same ground truth and results; results compared.
3. Re-evaluation from stored predictions for 500 images: a new confidence threshold (counts,
   precision/recall/F1 and the confusion matrix) and a new IoU threshold (a new matching).

Usage: python -m benchmarks.evaluation_speed [--images N] [--synthetic 5000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

import numpy as np  # noqa: E402

from core.datasets.registry import load_bundled  # noqa: E402
from core.metrics.coco import STAT_NAMES, coco_ground_truth, coco_results, evaluate_coco  # noqa: E402
from core.metrics.matching import confusion_matrix, match_dataset, summarize  # noqa: E402
from core.prediction_runs import DetectSettings, predict_detections  # noqa: E402
from core.store import PredictionStore  # noqa: E402
from tests.helpers import random_coco_case  # noqa: E402
from tests.reference import pycocotools_eval  # noqa: E402


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
        f"| COCO metrics, ours (faster-coco-eval, inputs built from the dataset) | "
        f"{ours_s * 1000:.0f} ms | **{ref_s / ours_s:.1f}x faster** (target >= 3x); max "
        f"difference {diff:.1e} |",
    ]


def reevaluation(images: int) -> list[str]:
    dataset, predictions = random_coco_case(1, images=images, classes=20)
    match = match_dataset(dataset, predictions, 0.5)

    def new_conf():
        summarize(match.at_confidence(0.4))
        confusion_matrix(dataset, predictions, conf=0.4, iou=0.5)

    conf_s, _ = timed(new_conf, repeat=5)
    iou_s, _ = timed(
        lambda: summarize(match_dataset(dataset, predictions, 0.6).at_confidence(0.4)),
        repeat=5,
    )
    return [
        f"| re-evaluation, new confidence ({images} images: counts, P/R/F1, confusion) | "
        f"{conf_s * 1000:.0f} ms | target < 200 ms |",
        f"| re-evaluation, new IoU ({images} images: new matching, counts) | "
        f"{iou_s * 1000:.0f} ms | target < 200 ms |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--synthetic", type=int, default=5000)
    parser.add_argument("--reeval", type=int, default=500)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU threads, "
          f"Python {platform.python_version()}")  # fmt: skip
    print("| measurement | result | ratio |\n|---|---:|---|")
    for line in [
        *inference(args.images),
        *metrics(args.synthetic),
        *reevaluation(args.reeval),
    ]:
        print(line, flush=True)


if __name__ == "__main__":
    main()
