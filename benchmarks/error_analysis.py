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

from tests.helpers import realistic_coco_case  # noqa: E402
from visioncompare.evaluation.metrics.breakdown import best_operating_points, pr_by_size  # noqa: E402
from visioncompare.evaluation.metrics.error_types import analyse_errors  # noqa: E402
from visioncompare.plots.errors import (  # noqa: E402
    error_types_figure,
    per_image_histogram_figure,
    pr_by_size_figure,
)
from visioncompare.services.report import evaluate_predictions  # noqa: E402


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
    rows.append(("Error types: table (with each type's image list) + bar chart", ms))
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

    rows += other_views(report, dataset, predictions, args.repeat)

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


def other_views(report, dataset, predictions, repeat: int) -> list[tuple[str, float]]:
    """Two detectors (B: the same boxes with rescored confidences) and the classifier
    (random softmax, the dataset's classes renamed to COCO's nameable ones)."""
    from dataclasses import replace

    import numpy as np

    from visioncompare.evaluation.metrics.tagging_images import tagging_by_image
    from visioncompare.evaluation.metrics.two_models import B_FINDS, compare_models
    from visioncompare.kernel.taxonomy import IMAGENET_TO_COCO
    from visioncompare.kernel.types import Detections

    rng = np.random.default_rng(1)
    other = {
        i: Detections(d.xyxy, np.clip(d.scores * rng.uniform(0.6, 1.4, len(d)), 0.001, 1),
                      d.class_ids, d.class_names)
        for i, d in predictions.items()
    }  # fmt: skip
    b = evaluate_predictions(dataset, other, "rescored")
    rows = []
    records_a = report.explorer.match(0.5).at_confidence(0.25)
    records_b = b.explorer.match(0.5).at_confidence(0.25)

    def two():
        diff = compare_models(records_a, records_b)
        return diff, diff.images_of(B_FINDS)

    ms, (_, listed) = median_ms(two, repeat)
    rows.append((f"Two detectors: image by image at conf 0.25 ({len(records_a)} + "
                 f"{len(records_b)} records; {len(listed)} images where B finds more)",
                 ms))  # fmt: skip
    from torchvision.models import get_weight

    imagenet = tuple(get_weight("ResNet50_Weights.DEFAULT").meta["categories"])
    names = list(IMAGENET_TO_COCO)
    names += [f"other{i}" for i in range(len(dataset.class_names) - len(names))]
    renamed = replace(dataset, class_names=tuple(names))
    logits = rng.normal(0, 2, (len(dataset), len(imagenet)))
    soft = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probabilities = {s.image_id: soft[n] for n, s in enumerate(dataset.samples)}

    ms, frame = median_ms(lambda: tagging_by_image(
        renamed, probabilities, imagenet, report.aligned.predictions, conf=0.25), repeat)
    rows.append((f"Classifier vs detector: image by image ({len(frame)} disagreements)",
                 ms))  # fmt: skip
    return rows


def tidecv_row(n: int) -> None:
    import tidecv

    dataset, predictions = realistic_coco_case(0, images=n)
    # crowd regions typed differently on purpose (see
    # visioncompare/evaluation/metrics/error_types.py): the timing only
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
