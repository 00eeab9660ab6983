"""A leaderboard: every model measured here, its accuracy on the user's data next to its
latency on the user's machine, its size and the figures its publisher reports.

Rows are built from plain data (metrics read from each evaluation, latencies measured by
the services layer, model facts from the model zoo), so this module needs no model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DETECTOR_METRICS = {
    "AP": "AP (%)",
    "AP50": "AP50 (%)",
    "AP75": "AP75 (%)",
    "AP_small": "AP small (%)",
    "AP_medium": "AP medium (%)",
    "AP_large": "AP large (%)",
    "AR100": "AR100 (%)",
}
"""COCO's names (``EvaluationReport.coco.stats``) -> the leaderboard's columns."""

AVAILABLE = "scored"
UNAVAILABLE = "unavailable: no weights on this machine"


@dataclass(frozen=True)
class Latency:
    """Latency measured on this machine.

    Attributes:
        median_ms: median wall time of one ``predict`` call on one image (batch 1).
        p95_ms: its 95th percentile.
        runs: timed calls (after the warm-up ones).
        images: distinct dataset images the calls cycled over.
        device: where the model ran.
        images_per_s: batched throughput (a GPU only; None elsewhere).
        batch: the batch size of that throughput.
    """

    median_ms: float
    p95_ms: float
    runs: int
    images: int
    device: str
    images_per_s: float | None = None
    batch: int | None = None

    @classmethod
    def from_times(
        cls,
        times_ms: Sequence[float],
        images: int,
        device: str,
        images_per_s: float | None = None,
        batch: int | None = None,
    ) -> Latency:
        """Median and 95th percentile (numpy's linear interpolation) of ``times_ms``.

        Raises:
            ValueError: no times.
        """
        if not len(times_ms):
            raise ValueError("times_ms: expected at least one timed call, got none")
        values = np.asarray(times_ms, np.float64)
        return cls(float(np.median(values)), float(np.percentile(values, 95)),
                   len(values), images, device, images_per_s, batch)  # fmt: skip


@dataclass(frozen=True)
class ModelFacts:
    """What the model zoo knows about a model (None: not known).

    Attributes:
        params_m: parameters, in millions.
        gflops: GFLOPs of one forward pass at the model's input size.
        weights_mb: the size of its weights on disk, in MB (10^6 bytes).
        published: the publisher's accuracy, in percent (COCO box AP for detectors,
            ImageNet top-1 for classifiers).
        source: where ``params_m``, ``gflops`` and ``published`` come from.
    """

    params_m: float | None = None
    gflops: float | None = None
    weights_mb: float | None = None
    published: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Entry:
    """One leaderboard row's inputs.

    Attributes:
        name: the model's registry name, or the predictions file's name.
        kind: ``detector``, ``predictions file`` or ``classifier``.
        metrics: column -> value in percent (``detector_metrics``, ``tagging_metrics``);
            empty for a model that could not be scored.
        status: ``AVAILABLE``, ``UNAVAILABLE`` or another reason it was not scored.
        latency: measured here (None: not measured).
        run_ms: the model's time per image while the stored predictions were made
            (its run's batch size; None: a predictions file, or not recorded).
        facts: the model zoo's facts.
    """

    name: str
    kind: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    status: str = AVAILABLE
    latency: Latency | None = None
    run_ms: float | None = None
    facts: ModelFacts = ModelFacts()


def _percent(value: float | None) -> float:
    """COCO's -1 (no ground truth) and None become NaN; 0-1 becomes percent."""
    if value is None or value != value or value < 0:
        return math.nan
    return 100.0 * float(value)


def detector_metrics(stats: Mapping[str, float]) -> dict[str, float]:
    """The leaderboard's accuracy columns from COCO's 12 numbers (0-1, -1: none)."""
    return {
        column: _percent(stats.get(name)) for name, column in DETECTOR_METRICS.items()
    }


def tagging_metrics(classifier_map: float, detector_map: float, coverage: float):
    """The classifier leaderboard's accuracy columns from an image-tagging result."""
    return {
        "tagging mAP (%)": _percent(classifier_map),
        "detector image-level mAP (%)": _percent(detector_map),
        "classes it can name (%)": _percent(coverage),
    }


def leaderboard_frame(entries: Sequence[Entry]) -> pd.DataFrame:
    """One row per entry: its metrics, latency, size and published figures.

    Columns: ``model``, ``kind``, ``status``, the metric columns (in the order first
    met), ``published (%)``, ``latency p50 (ms)``, ``latency p95 (ms)``,
    ``throughput (img/s)``, ``ms/image in the run``, ``params (M)``, ``GFLOPs``,
    ``weights (MB)``, ``timed on`` and ``figures from``. Detectors and predictions
    files first, then classifiers; within each, scored rows first, best first by the
    row's own first metric (AP; tagging mAP); NaN where a value is unknown.
    """
    metric_columns: list[str] = []
    for entry in entries:
        metric_columns += [c for c in entry.metrics if c not in metric_columns]
    rows = []
    for entry in entries:
        latency, facts = entry.latency, entry.facts
        rows.append(
            {
                "model": entry.name,
                "kind": entry.kind,
                "status": entry.status,
                **{c: entry.metrics.get(c, math.nan) for c in metric_columns},
                "published (%)": _or_nan(facts.published),
                "latency p50 (ms)": latency.median_ms if latency else math.nan,
                "latency p95 (ms)": latency.p95_ms if latency else math.nan,
                "throughput (img/s)": _or_nan(latency and latency.images_per_s),
                "ms/image in the run": _or_nan(entry.run_ms),
                "params (M)": _or_nan(facts.params_m),
                "GFLOPs": _or_nan(facts.gflops),
                "weights (MB)": _or_nan(facts.weights_mb),
                "timed on": _timed_on(latency),
                "figures from": facts.source,
            }
        )
    frame = pd.DataFrame(rows, columns=_columns(metric_columns))
    order = pd.DataFrame(
        {
            "classifier": [e.kind == "classifier" for e in entries],
            "score": [next(iter(e.metrics.values()), math.nan) for e in entries],
        }
    ).sort_values(
        ["classifier", "score"], ascending=[True, False], na_position="last",
        kind="stable",
    )  # fmt: skip
    return frame.iloc[order.index].reset_index(drop=True)


def _columns(metric_columns: list[str]) -> list[str]:
    return ["model", "kind", "status", *metric_columns, "published (%)",
            "latency p50 (ms)", "latency p95 (ms)", "throughput (img/s)",
            "ms/image in the run", "params (M)", "GFLOPs", "weights (MB)", "timed on",
            "figures from"]  # fmt: skip


def _or_nan(value) -> float:
    return math.nan if value is None else float(value)


def _timed_on(latency: Latency | None) -> str:
    if latency is None:
        return ""
    text = (
        f"{latency.device}, {latency.runs} calls at batch 1 on {latency.images} images"
    )
    if latency.images_per_s is not None:
        text += f"; throughput at batch {latency.batch}"
    return text


def pareto_front(accuracy: Sequence[float], cost: Sequence[float]) -> np.ndarray:
    """(N,) bool: the points no other point beats, higher accuracy and lower cost.

    A point is on the front unless another has accuracy >= and cost <= with at least
    one of them strictly better; equal points are all on it. Points with a NaN are
    never on it and beat nothing.

    Args:
        accuracy: (N,) higher is better (an AP).
        cost: (N,) lower is better (a latency).
    """
    acc = np.asarray(accuracy, np.float64)
    cst = np.asarray(cost, np.float64)
    valid = ~(np.isnan(acc) | np.isnan(cst))
    a, c = acc[:, None], cst[:, None]
    beaten_by = (
        (acc[None, :] >= a)
        & (cst[None, :] <= c)
        & ((acc[None, :] > a) | (cst[None, :] < c))
    ) & valid[None, :]
    return valid & ~beaten_by.any(axis=1)
