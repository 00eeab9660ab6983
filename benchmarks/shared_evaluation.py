"""Two sessions, or two processes, evaluating the same detector on the same dataset at
once.

Each case starts from an empty predictions store. "alone": one evaluation. "two at once":
two threads call ``run_evaluation`` at the same moment, as two browser sessions do; one
predicts, the other waits and reads the stored predictions. "two processes at once": the
same from two processes on one SQLite store (two replicas, or a replica and a command
line), which share the run through its claim on the store. Reported: images the models
predicted, wall time, and the stored time per image (the model's own, measured under its
lock), which should match the single session's.

Usage: python -m benchmarks.shared_evaluation [--images 100] [--detector yolov8n-int8]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("YOLO_OFFLINE", "1")

from benchmarks.app_server import machine
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.store import PredictionStore
from visioncompare.services.engines.local import load_on_device
from visioncompare.services.evaluation_run import run_evaluation


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


def _process(name: str, images: int, url: str, start, counts, i: int) -> None:
    """One process: load the model, wait for the other, evaluate, count its images."""
    dataset = load_bundled("voc2012-sample100").subset(images)
    model = load_on_device(name, "cpu")
    model.predict([_first_image(dataset)])
    real = model.predict

    def counting(batch, **settings):
        counts[i] += len(batch)
        return real(batch, **settings)

    model.predict = counting
    start.wait()
    run_evaluation(dataset, detector=name, device="cpu", store=PredictionStore(url),
                   get_model=lambda n: model)  # fmt: skip


def evaluate_in_processes(
    processes: int, images: int, name: str
) -> tuple[int, float, list[float]]:
    """(images predicted, wall seconds, the stored ms per image) of ``processes``
    processes evaluating at once on one store."""
    url = str(Path(tempfile.mkdtemp(prefix="shared-eval-")) / "p.sqlite")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)  # and this one, to time from the release
    counts = context.Array("i", [0] * processes)
    workers = [
        context.Process(target=_process, args=(name, images, url, start, counts, i))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - began
    if any(worker.exitcode for worker in workers):
        raise SystemExit("a process failed")
    meta = PredictionStore(url).meta(_only_run(url))
    return sum(counts), wall, [1000 * meta["model_seconds"] / meta["timed_images"]]


def _only_run(url: str) -> str:
    store = PredictionStore(url)
    with store._connect() as db:
        (key,) = [r[0] for r in db.execute("SELECT key FROM runs").fetchall()]
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--detector", default="yolov8n-int8")
    args = parser.parse_args()
    dataset = load_bundled("voc2012-sample100").subset(args.images)
    model = load_on_device(args.detector, "cpu")
    model.predict([_first_image(dataset)])  # warm up once, outside the cases
    print(f"machine: {machine()}; {args.detector} on {len(dataset)} VOC images, CPU")
    print()
    print("| case | images predicted | wall s | stored ms per image |")
    print("|---|---:|---:|---|")
    for label, sessions in (("alone", 1), ("two at once", 2)):
        predicted, wall, stored = evaluate(sessions, dataset, model, args.detector)
        shown = ", ".join(f"{ms:.1f}" for ms in stored)
        print(f"| {label} | {predicted} | {wall:.1f} | {shown} |")
    predicted, wall, stored = evaluate_in_processes(2, args.images, args.detector)
    print(f"| two processes at once | {predicted} | {wall:.1f} | {stored[0]:.1f} |")


def _first_image(dataset):
    from visioncompare.evaluation.prediction_runs import read_images

    return read_images([dataset.samples[0].path])[0]


if __name__ == "__main__":
    main()
