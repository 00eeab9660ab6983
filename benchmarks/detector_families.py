"""Detector families on this machine: the publisher's figures next to measured latency.

Every detector family is built with random weights (no download; the arithmetic of a forward
pass does not depend on the weights' values) and timed through its adapter's ``predict`` on
one image, median of N after a warm-up, one image per call. With random weights the
post-processing (score threshold, NMS) sees untrained scores, so the predict-time split is
printed too: inference is what the table compares. The bundled YOLOv8n INT8 model (real
weights) is the reference row.

Usage: python -m benchmarks.detector_families [--image PATH] [--runs 5] [--device auto]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from benchmarks import REPO
from model_zoo import get_spec, load_model
from model_zoo.figures import published_figures
from visioncompare.kernel.images import load_image_file

MODELS = (
    "yolov8n-int8",
    "yolo11n",
    "yolo26n",
    "yolov10n",
    "rtdetr-l",
    "ssdlite320_mobilenet_v3_large",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "ssd300_vgg16",
    "fcos_resnet50_fpn",
    "retinanet_resnet50_fpn_v2",
    "fasterrcnn_resnet50_fpn_v2",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=str(REPO / "sample_images" / "bus.jpg"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    image = load_image_file(args.image).array
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; image "
        f"{image.shape[1]}x{image.shape[0]}; median of {args.runs} after a warm-up\n"
    )
    print(
        "| model | weights | device | input | published AP | params (M) | GFLOPs "
        "| predict (ms) | inference (ms) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.models:
        spec = get_spec(name)
        bundled = name == "yolov8n-int8"
        torch.manual_seed(0)
        model = load_model(name, args.device, random_weights=not bundled)
        model.predict([image])  # warm-up
        totals, inference = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            pred = model.predict([image])[0]
            totals.append((time.perf_counter() - start) * 1000.0)
            inference.append(pred.timing.inference_ms)
        figures = published_figures(spec)

        def shown(value, fmt="{:.1f}"):
            return fmt.format(value) if value is not None else "n/a"

        print(
            f"| {name} | {'bundled INT8' if bundled else 'random'} | {model.device} "
            f"| {spec.input_size} | {shown(figures and figures.accuracy)} "
            f"| {shown(figures and figures.params_m)} | {shown(figures and figures.gflops)} "
            f"| {statistics.median(totals):.0f} | {statistics.median(inference):.0f} |"
        )


if __name__ == "__main__":
    main()
