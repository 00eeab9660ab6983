"""Two sessions evaluating the same detector on the same dataset at once.

Each case starts from an empty predictions store. "alone": one evaluation. "two at once":
two threads call ``run_evaluation`` at the same moment, as two browser sessions do; one
predicts, the other waits and reads the stored predictions. Reported: images the model
predicted, wall time, and the stored time per image (the model's own, measured under its
lock), which should match the single session's.

Usage: python -m benchmarks.shared_evaluation [--images 100] [--detector yolov8n-int8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("YOLO_OFFLINE", "1")

from benchmarks.app_server import machine
from core.datasets.registry import load_bundled
from core.store import PredictionStore
from visioncompare.report import _load, run_evaluation


def evaluate(
    sessions: int, dataset, model, name: str
) -> tuple[int, float, list[float]]:
    """(images predicted, wall seconds, stored ms per image of each session)."""
    predicted = [0]
    real = model.predict

    def counting(images, **settings):
        predicted[0] += len(images)
        return real(images, **settings)

    model.predict = counting
    store = PredictionStore(Path(tempfile.mkdtemp(prefix="shared-eval-")) / "p.sqlite")
    start = threading.Barrier(sessions)
    reports: list = [None] * sessions

    def one(i: int) -> None:
        start.wait()
        reports[i] = run_evaluation(
            dataset, detector=name, device="cpu", store=store, get_model=lambda n: model
        )

    began = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    model.predict = real
    return predicted[0], wall, [r.ms_per_image for r in reports]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--detector", default="yolov8n-int8")
    args = parser.parse_args()
    dataset = load_bundled("voc2012-sample100").subset(args.images)
    model = _load(args.detector, "cpu")
    model.predict([_first_image(dataset)])  # warm up once, outside the cases
    print(f"machine: {machine()}; {args.detector} on {len(dataset)} VOC images, CPU")
    print()
    print("| case | images predicted | wall s | stored ms per image |")
    print("|---|---:|---:|---|")
    for label, sessions in (("alone", 1), ("two at once", 2)):
        predicted, wall, stored = evaluate(sessions, dataset, model, args.detector)
        shown = ", ".join(f"{ms:.1f}" for ms in stored)
        print(f"| {label} | {predicted} | {wall:.1f} | {shown} |")


def _first_image(dataset):
    from core.prediction_runs import read_images

    return read_images([dataset.samples[0].path])[0]


if __name__ == "__main__":
    main()
