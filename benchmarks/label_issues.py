"""Possible label errors, measured on planted errors: how many does the checker find?

A copy of a bundled subset gets errors planted with a seed
(``visioncompare.evaluation.planted_errors``: 10% of the boxes removed, 10% given another
class, 10% shifted by 30-60% of their size); the bundled detector's stored predictions on
the same images (made once, as the Evaluate page makes them) are checked against the
changed labels, and the flagged images are compared with the planted ones, per kind. Mean
over the seeds, with the lowest and highest in brackets. With cleanlab installed, one seed
is also scored by cleanlab itself, and both are timed.

Usage: python -m benchmarks.label_issues [--dataset coco-val2017-first32]
       [--detector yolov8n-int8] [--seeds 5] [--high 0.95 0.6]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from visioncompare.evaluation.label_issues import (
    cleanlab_inputs,
    find_label_issues,
)
from visioncompare.evaluation.planted_errors import (
    plant_label_errors,
    recovery,
)
from visioncompare.services.evaluation_run import (
    open_dataset,
    run_evaluation,
)


def _span(values: pd.Series, digits: int = 2) -> str:
    values = values.dropna()
    if values.empty:
        return "n/a"
    return (f"{values.mean():.{digits}f} ({values.min():.{digits}f}-"
            f"{values.max():.{digits}f})")  # fmt: skip


def _cleanlab_check(inputs) -> str:
    try:
        from cleanlab.object_detection.filter import find_label_issues as cl_issues
        from cleanlab.object_detection.rank import get_label_quality_scores
    except ImportError:
        return "cleanlab is not installed: no cross-check"
    start = time.perf_counter()
    ours = find_label_issues(inputs)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = get_label_quality_scores(inputs.labels, inputs.predictions, verbose=False)
    flagged = cl_issues(inputs.labels, inputs.predictions)
    theirs_s = time.perf_counter() - start
    mine = ours.images.set_index("image_id").loc[list(inputs.image_ids)]
    gap = float(np.abs(mine["label quality"].to_numpy() - scores).max())
    same = bool((mine["flagged"].to_numpy() == flagged).all())
    return (f"cleanlab 2.9 on seed 0: largest score difference {gap:.1e}, same flagged "
            f"images: {same}; cleanlab {theirs_s:.2f} s, ours {ours_s:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="coco-val2017-first32")
    parser.add_argument("--detector", default="yolov8n-int8")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--high", type=float, nargs="+", default=[0.95, 0.6])
    args = parser.parse_args()
    dataset = open_dataset(args.dataset)
    report = run_evaluation(dataset, detector=args.detector)
    predictions = report.aligned.predictions
    rows = []
    for seed in range(args.seeds):
        planted, table = plant_label_errors(dataset, args.fraction, seed=seed)
        inputs = cleanlab_inputs(planted, predictions)
        if seed == 0:
            check = _cleanlab_check(inputs)
        for high in args.high:
            found = recovery(find_label_issues(inputs, high_confidence=high), table)
            found["high"] = high
            found["chance"] = found["planted images"] / len(dataset)
            rows.append(found)
    frame = pd.concat(rows)
    boxes = sum(len(s.gt) for s in dataset.samples)
    print(f"{args.detector} on {dataset.label} ({len(dataset)} images, {boxes} boxes), "
          f"{args.fraction:.0%} of the boxes per kind, seeds 0-{args.seeds - 1}; "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}")  # fmt: skip
    print(check)
    print()
    print("| model score for missing/swapped | kind | planted images | flagged images "
          "| precision | chance | recall | recall, any kind |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for (high, kind), group in frame.groupby(["high", "kind"], sort=False):
        print(f"| {high:.2f} | {kind} | {_span(group['planted images'], 1)} | "
              f"{_span(group['flagged images'], 1)} | {_span(group['precision'])} | "
              f"{_span(group['chance'])} | {_span(group['recall'])} | "
              f"{_span(group['recall, any kind'])} |")  # fmt: skip


if __name__ == "__main__":
    main()
