"""The command line's leaderboard (``evaluate`` with several sources or classifiers):
every model timed here, all rows written to ``leaderboard.csv`` and printed as two
tables, the detectors and predictions files, then the classifiers as image taggers."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from visioncompare.kernel.paths import file_stem

DETECTOR_COLUMNS = (
    "AP (%)", "AP50 (%)", "AP75 (%)", "AR100 (%)", "published (%)",
    "latency p50 (ms)", "latency p95 (ms)", "params (M)", "GFLOPs", "weights (MB)",
)  # fmt: skip
"""The detectors' columns printed; leaderboard.csv holds every one."""
CLASSIFIER_COLUMNS = (
    "tagging mAP (%)", "detector image-level mAP (%)", "classes it can name (%)",
    "published (%)", "latency p50 (ms)", "latency p95 (ms)", "params (M)", "GFLOPs",
    "weights (MB)",
)  # fmt: skip
"""The classifiers' columns printed (published: ImageNet top-1)."""


def print_leaderboard(
    reports,
    unavailable: Sequence[str],
    dataset,
    device: str,
    root: Path,
    classifiers: Sequence = (),
    unavailable_classifiers: Sequence[str] = (),
) -> int:
    """Time each model here, write ``leaderboard.csv`` into ``root`` and print it.

    Args:
        reports: one ``EvaluationReport`` per detector or predictions file.
        unavailable: detectors without weights here.
        classifiers: ``model_review.ClassifierScore`` of each classifier scored apart
            from the reports (its per-class table goes to ``root/<name>/``).
        unavailable_classifiers: classifiers without weights here.
    """
    from visioncompare.services.model_review import (
        leaderboard,
        measure_models,
        models_to_time,
    )

    models = models_to_time(reports, classifiers)
    try:
        latencies = measure_models(models, dataset, device)
    except ValueError as exc:  # no image to time on: the table has no latency
        print(f"latency not measured: {exc}", file=sys.stderr)
        latencies = {}
    frame = leaderboard(
        reports, unavailable, latencies, classifiers, unavailable_classifiers
    )
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "leaderboard.csv", index=False)
    written = [root / "leaderboard.csv"]
    for score in classifiers:  # each one's per-class table, as a report writes it
        folder = root / file_stem(score.name)
        folder.mkdir(exist_ok=True)
        written.append(folder / "classifier_tagging.csv")
        score.tagging.per_class.to_csv(written[-1], index=False)
    is_classifier = frame["kind"] == "classifier"
    taggers = "classifiers as image taggers (published: ImageNet top-1)"
    lines = [
        f"leaderboard on {dataset.label} ({len(dataset)} images); latency: the model's "
        "own time per call at batch 1, measured here",
        *_table(frame[~is_classifier], DETECTOR_COLUMNS, "detectors"),
        *_table(frame[is_classifier], CLASSIFIER_COLUMNS, taggers),
        "",
        *(f"wrote {path}" for path in written),
    ]
    print("\n".join(lines))
    return 0


def _table(frame: pd.DataFrame, columns: Sequence[str], title: str) -> list[str]:
    """A markdown table of the rows, with the columns that hold a value (none: no
    lines)."""
    if frame.empty:
        return []
    shown = [c for c in columns if c in frame and frame[c].notna().any()]
    return [
        "",
        f"{title}:",
        "| model | kind | " + " | ".join(shown) + " |",
        "|---|---|" + "---:|" * len(shown),
        *(
            f"| {row['model']} | "
            f"{row['kind'] if row['status'] == 'scored' else row['status']} | "
            + " | ".join("n/a" if v != v else f"{v:.1f}" for v in row[shown])
            + " |"
            for _, row in frame.iterrows()
        ),
    ]
