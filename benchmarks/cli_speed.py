"""The whole command line on a predictions file against faster-coco-eval's own run, each a
fresh Python process reading the same two files (startup, imports, JSON parsing and file
writing counted in both).

The case is ``tests.helpers.realistic_coco_case`` (seeded; about 7 objects and 100
detections per image at confidence 0.001, 80 classes) written to ``GT.json`` (a COCO
instances file) and ``RESULTS.json`` (a COCO results file) in a temporary folder. Then,
interleaved, ``--repeat`` times each:

- ours: ``python -m visioncompare evaluate --dataset GT.json --predictions RESULTS.json
  --out DIR`` (every file the CLI writes: coco_results.json, metrics.json with the "why
  mAP differs" rows, per_class.csv, error_types.csv, per_image.csv, why_differs.csv);
- faster-coco-eval: ``COCO(GT.json)``, ``loadRes(RESULTS.json)``, ``COCOeval_faster``
  evaluate, accumulate and summarize, in a ``python -c`` process.

Prints a table of medians and the ratio ours / faster-coco-eval, and the load average
before and after.

Usage: python -m benchmarks.cli_speed [--images 5000 1500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REFERENCE = """
import sys
from faster_coco_eval import COCO, COCOeval_faster

def quiet(*args, **kwargs):
    return None

gt = COCO(sys.argv[1], print_function=quiet)
dt = gt.loadRes(sys.argv[2])
evaluator = COCOeval_faster(gt, dt, "bbox", print_function=quiet)
evaluator.evaluate()
evaluator.accumulate()
evaluator.summarize()
print(evaluator.stats[0])
"""


def write_case(folder: Path, images: int, seed: int = 0) -> tuple[Path, Path, int, int]:
    """The realistic case as ``GT.json`` and ``RESULTS.json`` in ``folder``."""
    from tests.helpers import realistic_coco_case
    from visioncompare.evaluation.metrics.coco import coco_ground_truth, coco_results

    dataset, predictions = realistic_coco_case(seed, images=images)
    gt, results = folder / "GT.json", folder / "RESULTS.json"
    ground_truth = coco_ground_truth(dataset)
    gt.write_text(json.dumps(ground_truth))
    detections = coco_results(predictions, dataset)
    results.write_text(json.dumps(detections))
    return gt, results, len(ground_truth["annotations"]), len(detections)


def run(command: list[str]) -> float:
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n{done.stderr[-3000:]}")
    return seconds


def measure(images: int, repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gt, results, objects, detections = write_case(folder, images)
        ours = [
            sys.executable, "-m", "visioncompare", "evaluate", "--dataset", str(gt),
            "--predictions", str(results), "--out", str(folder / "out"),
        ]  # fmt: skip
        theirs = [sys.executable, "-c", REFERENCE, str(gt), str(results)]
        run(theirs)  # warm the page cache and the interpreter's .pyc files for both
        run(ours)
        ours_s, theirs_s = [], []
        for i in range(repeat):  # interleaved, the order alternating
            pair = [(ours, ours_s), (theirs, theirs_s)]
            for command, times in pair if i % 2 == 0 else pair[::-1]:
                times.append(run(command))
        mb = (gt.stat().st_size + results.stat().st_size) / 1e6
    ours_m, theirs_m = statistics.median(ours_s), statistics.median(theirs_s)
    each = ", ".join(f"{a / b:.2f}" for a, b in zip(ours_s, theirs_s))
    return [
        f"| {images} images, {objects} objects, {detections} detections ({mb:.0f} MB of "
        f"JSON) | {theirs_m:.2f} s | {ours_m:.2f} s | **{ours_m / theirs_m:.2f}x** "
        f"(each pair: {each}) |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[5000, 1500])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; load average before: {' '.join(load)}")  # fmt: skip
    print()
    print("| case | faster-coco-eval (COCO + loadRes + evaluate/accumulate/summarize) "
          "| ours (whole CLI, every file written) | ours / faster-coco-eval |")  # fmt: skip
    print("|---|---:|---:|---|")
    for images in args.images:
        for line in measure(images, args.repeat):
            print(line, flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average after: {' '.join(load)}")


if __name__ == "__main__":
    main()
