"""Error analysis at scale: what each new Evaluate view computes, on the realistic case.

5,000 images x 100 boxes at confidence 0.001, 80 classes (``tests.helpers.realistic_coco_case``,
COCO val2017's size). The report is built first (not timed here; see
``benchmarks/evaluation_speed.py``); then each view's data and figure are timed, median of
``--repeat`` runs (the TIDE analysis once: the page computes it once per report). With
``--tidecv N`` it also times tidecv 1.0.1 and ours on the first N images (same inputs).

Usage: python -m benchmarks.error_analysis [--images 5000] [--repeat 3] [--tidecv 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.error_plots import (  # noqa: E402
    error_types_figure,
    per_image_histogram_figure,
    pr_by_size_figure,
)
from core.metrics.breakdown import best_operating_points, pr_by_size  # noqa: E402
from core.metrics.error_types import analyse_errors  # noqa: E402
from tests.helpers import realistic_coco_case  # noqa: E402
from visioncompare.report import evaluate_predictions  # noqa: E402


def median_ms(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tidecv", type=int, default=0)
    args = parser.parse_args()
    dataset, predictions = realistic_coco_case(0, images=args.images)
    start = time.perf_counter()
    report = evaluate_predictions(dataset, predictions, "synthetic")
    build = time.perf_counter() - start
    rows = []
    ms, analysis = median_ms(lambda: analyse_errors(report.evaluation,
                                                    dataset.class_names), 1)  # fmt: skip
    counts = analysis.counts()
    rows.append((f"TIDE error types + six dAP re-scorings (once per report; "
                 f"{sum(counts.values())} errors)", ms))  # fmt: skip
    object.__setattr__(report, "__dict__", {**report.__dict__, "errors": analysis})
    ms, _ = median_ms(lambda: error_types_figure(analysis.table()), args.repeat)
    rows.append(("Error types: table + bar chart", ms))
    ms, _ = median_ms(lambda: analysis.images_per_type, 1)
    rows.append(("Error types: image lists of the six types (first view, then cached)", ms))
    ms, images = median_ms(lambda: analysis.images("background", 0.25), args.repeat)
    rows.append((f"Error types: images of one type above conf 0.25 ({len(images)})", ms))
    first = int(images["image_id"].iloc[0])
    ms, _ = median_ms(lambda: analysis.boxes(first, "background", 0.25), args.repeat)
    rows.append(("Error types: one image's highlighted boxes", ms))
    for label, kwargs in (
        ("Per image: AP and F1, all classes, all sizes", {}),
        ("Per image: one class", {"class_name": dataset.class_names[0]}),
        ("Per image: small objects", {"area": "small"}),
    ):
        def view(kwargs=kwargs):
            frame = report.per_image(0.25, 0.5, **kwargs)
            per_image_histogram_figure(frame["AP"].to_numpy(), "AP")
            return frame.dropna(subset=["AP"]).sort_values("AP")

        ms, _ = median_ms(view, args.repeat)
        rows.append((label + " (+ histogram, sorted)", ms))
    ms, _ = median_ms(lambda: pr_by_size_figure(pr_by_size(report.evaluation, 0.5), 0.5),
                      args.repeat)  # fmt: skip
    rows.append(("By size: PR curves small / medium / large", ms))
    ms, _ = median_ms(
        lambda: best_operating_points(report.evaluation, dataset.class_names, 0.5,
                                      0.05, 0.95), args.repeat)  # fmt: skip
    rows.append(("Best threshold: F1-max confidence overall + 80 classes", ms))

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU threads; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"realistic case: {args.images} images, {len(report.evaluation.flat.gt_class)} "
          f"gt, {len(report.evaluation.flat.dt_class)} dets; report built in "
          f"{build:.1f} s (not in the rows)\n")  # fmt: skip
    print("| view | ms |\n|---|---:|")
    for label, ms in rows:
        print(f"| {label} | {ms:.0f} |")
    if args.tidecv:
        tidecv_row(args.tidecv)


def tidecv_row(n: int) -> None:
    import tidecv

    dataset, predictions = realistic_coco_case(0, images=n)
    # crowd regions typed differently on purpose (see core/metrics/error_types.py):
    # the timing only
    start = time.perf_counter()
    report = evaluate_predictions(dataset, predictions, "synthetic")
    analyse_errors(report.evaluation, dataset.class_names)
    ours = time.perf_counter() - start
    gt, preds = tidecv.Data("gt"), tidecv.Data("preds")
    start = time.perf_counter()
    for s in dataset.samples:
        gt.add_image(s.image_id, s.name)
        for box, c in zip(s.gt.xyxy.tolist(), s.gt.class_ids.tolist()):
            gt.add_ground_truth(s.image_id, c, [box[0], box[1], box[2] - box[0],
                                               box[3] - box[1]])  # fmt: skip
        det = predictions[s.image_id]
        for box, c, sc in zip(det.xyxy.tolist(), det.class_ids.tolist(),
                              det.scores.tolist()):  # fmt: skip
            preds.add_detection(s.image_id, c, sc, [box[0], box[1], box[2] - box[0],
                                                    box[3] - box[1]])  # fmt: skip
    run = tidecv.TIDE().evaluate(gt, preds, mode=tidecv.TIDE.BOX)
    run.fix_main_errors()
    theirs = time.perf_counter() - start
    print(f"\n{n} images x 100 boxes: tidecv 1.0.1 (evaluate + six fixes) {theirs:.1f} s; "
          f"ours (the whole report, then the error types) {ours:.2f} s")


if __name__ == "__main__":
    main()
