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

Prints a table of medians and the ratio ours / faster-coco-eval, of the wall time and
of the CPU time (user + system, which another process's load changes less), and the
load average before and after.

With ``--before DIR`` (a checkout of an earlier commit), that checkout's CLI is timed in
the same rounds.

Usage: python -m benchmarks.cli_speed [--images 5000 1500] [--repeat 3] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import load_average  # noqa: E402

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


def run(command: list[str], cwd: Path = REPO) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of ``command`` as a child process."""
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n{done.stderr[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def measure(images: int, repeat: int, before: Path | None) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gt, results, objects, detections = write_case(folder, images)
        theirs = [sys.executable, "-c", REFERENCE, str(gt), str(results)]
        runs = {"faster-coco-eval": (theirs, REPO)}
        for name, checkout in (("before", before), ("ours", REPO)):
            if checkout is not None:
                out = folder / f"out-{name}"
                command = [
                    sys.executable, "-m", "visioncompare", "evaluate", "--dataset",
                    str(gt), "--predictions", str(results), "--out", str(out),
                ]  # fmt: skip
                runs[name] = (command, checkout)
        for command, cwd in runs.values():
            run(command, cwd)  # warm the page cache and the .pyc files of each
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for i in range(repeat):  # interleaved, the order turning each round
            names = list(runs)
            names = names[i % len(names) :] + names[: i % len(names)]
            for name in names:
                times[name].append(run(*runs[name]))
        mb = (gt.stat().st_size + results.stat().st_size) / 1e6
    case = f"{images} images, {objects} objects, {detections} detections ({mb:.0f} MB)"
    lines = []
    for kind, k in (("wall", 0), ("CPU", 1)):
        median = {name: statistics.median(t[k] for t in times[name]) for name in runs}
        ref = times["faster-coco-eval"]
        cells = []
        for name in runs:
            if name == "faster-coco-eval":
                cells.append(f"{median[name]:.2f} s")
                continue
            each = ", ".join(f"{a[k] / b[k]:.2f}" for a, b in zip(times[name], ref))
            cells.append(
                f"{median[name]:.2f} s, **{median[name] / median['faster-coco-eval']:.2f}x**"
                f" ({each})"
            )
        lines.append(f"| {case}, {kind} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[5000, 1500])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--before", type=Path,
        help="a checkout of an earlier commit: its CLI is timed too, in the same rounds",
    )  # fmt: skip
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; load average before: {load_average()}")  # fmt: skip
    print()
    columns = ["faster-coco-eval (COCO + loadRes + evaluate/accumulate/summarize)"]
    if args.before is not None:
        columns.append("CLI before, / faster-coco-eval (each round)")
    columns.append("CLI now (every file written), / faster-coco-eval (each round)")
    print("| case | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for images in args.images:
        for line in measure(images, args.repeat, args.before):
            print(line, flush=True)
    print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
