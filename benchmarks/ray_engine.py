"""The Ray engine against a local evaluation, on one machine, in one run.

1. Local: ``visioncompare.evaluation.prediction_runs.predict_detections`` (this process,
images decoded one
   batch ahead) over the bundled VOC subset with the offline detector, a fresh store.
2. Ray: ``visioncompare.services.engines.ray`` on a local cluster (``ray.init(num_cpus=2)``) with 1
   and then 2 actors of 1 CPU each, a fresh store each: the wall time with the pool's
   start (actors load the model), the time to the first stored result, and each actor's
   busy time per image (reading, decoding, predicting; its first, warm-up batch left out,
   as a local run leaves out its first).
3. Ray's own cost per batch: the same ``from_items -> map_batches(actor pool) ->
   iter_batches`` pipeline with a model that returns nothing and a one-pixel image, so
   only Ray Data's scheduling, serialisation and the driver's store writes remain.

Every run's stored detections are compared with the local run's (count and max box
difference), so the speed is of the same work.

Usage: python -m benchmarks.ray_engine [--dataset voc2012-sample100] [--images N]
       [--detector yolov8n-int8] [--batch 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.prediction_runs import DetectSettings, predict_detections
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.types import Detections, Prediction, Timing
from visioncompare.services.engines import ray as ray_engine
from visioncompare.services.engines.local import load_on_device
from visioncompare.services.evaluation_run import model_identity


class NullDetector:
    """Returns no boxes at once: what is left of a Ray run is Ray's own cost."""

    class_names = ("thing",)
    device = "cpu"

    def predict(self, images, **settings):
        empty = Detections.empty(self.class_names)
        return [Prediction("null", "cpu", Timing(), detections=empty) for _ in images]


def null_detector() -> NullDetector:
    return NullDetector()


def _compare(a: dict, b: dict) -> str:
    worst = 0.0
    for image_id, det in a.items():
        other = b[image_id]
        if len(other) != len(det):
            return f"box counts differ on image {image_id}"
        if len(det):
            worst = max(worst, float(np.abs(other.xyxy - det.xyxy).max()))
    return f"same boxes (max diff {worst:.1e} px)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="voc2012-sample100")
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--detector", default="yolov8n-int8")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--null-images", type=int, default=400)
    args = parser.parse_args()

    dataset = load_bundled(args.dataset)
    if args.images:
        dataset = dataset.subset(args.images)
    n = len(dataset)
    settings = DetectSettings()
    identity = model_identity(args.detector, "cpu")
    folder = Path(tempfile.mkdtemp(prefix="vc-ray-bench-"))
    rows = []

    started = time.perf_counter()
    model = load_on_device(args.detector, "cpu")
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    local, run = predict_detections(model, dataset, PredictionStore(folder / "local.db"),
                                    identity, settings, batch_size=args.batch)  # fmt: skip
    local_s = time.perf_counter() - started
    ms = 1000 * run.meta["model_seconds"] / run.meta["timed_images"]
    rows.append(("local (this process, model loaded before: "
                 f"{load_s:.1f} s)", f"{local_s:.1f}", f"{n / local_s:.2f}", "",
                 f"{ms:.0f}", f"{1000 / ms:.2f}", "reference"))  # fmt: skip

    ray = ray_engine.ensure_ray(None, num_cpus=2)
    for actors in (1, 2):
        options = ray_engine.RayOptions(actors=actors, cpus_per_actor=1,
                                        batch_size=args.batch)  # fmt: skip
        store = PredictionStore(folder / f"ray{actors}.db")
        first: list[tuple[float, int]] = []

        def progress(done, total, first=first):
            if done and not first:
                first.append((time.perf_counter(), done))

        started = time.perf_counter()
        preds, run = ray_engine.predict_detections_on_ray(
            args.detector, dataset, store, identity, settings, options, progress=progress
        )
        wall = time.perf_counter() - started
        t0, _ = first[0]
        ms = 1000 * run.meta["model_seconds"] / run.meta["timed_images"]
        rows.append((f"Ray, {actors} actor{'s' * (actors > 1)} x 1 CPU",
                     f"{wall:.1f}", f"{n / wall:.2f}", f"{t0 - started:.1f}",
                     f"{ms:.0f}", f"{1000 / ms:.2f}",
                     _compare(local, preds)))  # fmt: skip

    # Ray's cost per batch: a model that does nothing, a tiny image.
    from PIL import Image

    tiny = folder / "tiny.png"
    Image.new("RGB", (1, 1)).save(tiny)
    template = dataset.samples[0]
    null = replace(
        dataset, name="null",
        samples=tuple(replace(template, image_id=i, path=tiny)
                      for i in range(args.null_images)),
    )  # fmt: skip
    overhead = []
    for actors in (1, 2):
        options = ray_engine.RayOptions(actors=actors, cpus_per_actor=1, batch_size=1)
        store = PredictionStore(folder / f"null{actors}.db")
        first = []

        def progress(done, total, first=first):
            if done and not first:
                first.append((time.perf_counter(), done))

        started = time.perf_counter()
        ray_engine.predict_detections_on_ray(
            "null", null, store, {"name": "null"}, settings, options, progress=progress,
            load=null_detector,
        )  # fmt: skip
        end = time.perf_counter()
        t0, done0 = first[0]
        per_batch = (end - t0) / (args.null_images - done0)
        overhead.append((actors, t0 - started, per_batch))
    ray.shutdown()

    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, Ray {ray.__version__}")  # fmt: skip
    print(f"dataset {dataset.name}: {n} images; detector {args.detector}; "
          f"batch {args.batch}\n")  # fmt: skip
    print("| engine | wall (s) | images/s | first result stored after (s) | busy ms per "
          "image, per actor | images/s per actor | predictions |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nRay's own cost per batch (a model that returns nothing, 1x1 image, batch 1, "
          f"{args.null_images} batches):\n")  # fmt: skip
    print("| actors | pool start (s) | ms per batch, steady |")
    print("|---:|---:|---:|")
    for actors, start, per_batch in overhead:
        print(f"| {actors} | {start:.1f} | {1000 * per_batch:.1f} |")


if __name__ == "__main__":
    main()
