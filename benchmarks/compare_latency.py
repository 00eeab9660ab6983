"""Compare page latency: raw library calls vs the page's own code path, same image.

Prints a table. "raw" is what a script using the libraries directly does for one image file:
Ultralytics ``YOLO.predict(path)`` and a torchvision ``transforms -> forward -> softmax`` on
``PIL.Image.open(path)``. "page" is the code path of pages/compare.py without Streamlit's
caches: decode the uploaded bytes, classify, detect, filter, annotate, and build the table and
the chart. Both run on the same models and the same image, interleaved, median of N after a
warm-up.

Usage: python -m benchmarks.compare_latency [--image PATH] [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks import REPO
from model_zoo import load_model
from model_zoo.pipeline import predict_pair
from visioncompare.kernel.display import (
    DETECT_CONF_FLOOR,
    class_counts,
    detections_frame,
    filter_detections,
)
from visioncompare.kernel.draw import annotate
from visioncompare.kernel.images import decode_image
from visioncompare.plots.evaluation import topk_bar_figure


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=str(REPO / "sample_images" / "bus.jpg"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--classifier", default="mobilenet_v2_quantized")
    parser.add_argument("--detector", default="yolov8n-int8")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    classifier = load_model(args.classifier, args.device if args.classifier else "auto")
    detector = load_model(args.detector, args.device)
    path, data = args.image, Path(args.image).read_bytes()
    iou, conf, topk = 0.7, 0.25, 5

    def raw_classifier() -> None:
        image = Image.open(path).convert("RGB")
        with torch.inference_mode():
            batch = classifier.transforms(image).unsqueeze(0).to(classifier.device)
            classifier.model(batch).softmax(dim=1).cpu()

    def raw_detector() -> None:
        detector.model.predict(
            path, conf=DETECT_CONF_FLOOR, iou=iou, device=detector.device, verbose=False
        )

    def sequential_pair(classifier, detector, image, *, conf, iou):
        return classifier.predict([image])[0], detector.predict(
            [image], conf=conf, iou=iou
        )[0]

    def page_with(pair):
        def page() -> None:
            loaded = decode_image(data, Path(path).name)
            cls, det = pair(
                classifier, detector, loaded.array, conf=DETECT_CONF_FLOOR, iou=iou
            )
            shown = filter_detections(det.detections, conf)
            annotate(loaded.array, shown)
            detections_frame(shown)
            class_counts(shown)
            topk_bar_figure(cls.classification, topk)

        return page

    steps = {
        "raw classifier": raw_classifier,
        "raw detector": raw_detector,
        "page, models one after the other (what the app does)": page_with(
            sequential_pair
        ),
        "page, models concurrently": page_with(predict_pair),
    }
    for fn in steps.values():  # warm-up: first calls build predictors and caches
        for _ in range(3):
            fn()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.runs):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)

    raw = _median_ms(times["raw classifier"]) + _median_ms(times["raw detector"])
    image = np.asarray(Image.open(path))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU threads, torch "
        f"{torch.__version__}, device {detector.device}; image {Path(path).name} "
        f"{image.shape[1]}x{image.shape[0]}; median of {args.runs} after 3 warm-up runs"
    )
    print("| step | median ms | / raw total |\n|---|---:|---:|")
    for name in steps:
        ms = _median_ms(times[name])
        ratio = f"{ms / raw:.3f}" if name.startswith("page") else ""
        print(f"| {name} | {ms:.1f} | {ratio} |")
    print(f"| raw total (classifier + detector) | {raw:.1f} | 1.000 |")
    print("target: page / raw <= 1.10")


if __name__ == "__main__":
    main()
