"""Figures of the error analysis: TIDE dAP bars, per-image score histogram, PR by size.
Pure functions: data in, Plotly figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from visioncompare.evaluation.error_browser import error_layers
from visioncompare.kernel.draw import BoxStyle, annotate_layers
from visioncompare.kernel.types import Detections

HIGHLIGHT = BoxStyle(color=(200, 0, 200), width=5)
"""The boxes of the chosen error type, drawn over the error browser's picture."""

_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def error_types_figure(table: pd.DataFrame) -> go.Figure:
    """Horizontal bars of dAP50 per TIDE error type (``ErrorAnalysis.table()``), in
    TIDE's order from the top, with the count of boxes in the label."""
    rows = table.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=rows["dAP50"],
            y=rows["error type"],
            orientation="h",
            text=[f"{v:.2f} ({n} boxes)" for v, n in zip(rows["dAP50"], rows["count"])],
            textposition="auto",
            marker_color="#B279A2",
            hovertemplate="%{y}: dAP50 %{x:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="TIDE error types: AP50 gained by fixing each type alone (dAP50, points)",
        xaxis={"title": "dAP50 (AP points)", "rangemode": "tozero"},
        yaxis={"automargin": True},
        margin=_MARGIN,
        height=320,
    )
    return fig


def per_image_histogram_figure(values: np.ndarray, metric: str) -> go.Figure:
    """Histogram of per-image scores in [0, 1] (NaN, undefined, left out)."""
    values = np.asarray(values, np.float64)
    values = values[~np.isnan(values)]
    fig = go.Figure(
        go.Histogram(
            x=values,
            xbins={"start": 0.0, "end": 1.0001, "size": 0.05},
            marker_color="#4C78A8",
            hovertemplate=f"{metric} %{{x}}: %{{y}} images<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Per-image {metric} ({len(values)} images)",
        xaxis={"title": metric, "range": [0, 1.0001]},
        yaxis={"title": "images"},
        margin=_MARGIN,
        height=300,
        bargap=0.05,
    )
    return fig


def pr_by_size_figure(
    curves: dict[str, tuple[np.ndarray, np.ndarray, float]], iou: float
) -> go.Figure:
    """COCO's interpolated PR curve per area range
    (``visioncompare.evaluation.metrics.breakdown.pr_by_size``)."""
    fig = go.Figure()
    dash = {"all": "solid", "small": "dot", "medium": "dash", "large": "dashdot"}
    for name, (recall, precision, ap) in curves.items():
        fig.add_trace(
            go.Scatter(
                x=recall, y=precision, mode="lines", name=f"{name} (AP {ap:.3f})",
                line={"dash": dash.get(name, "solid")},
            )
        )  # fmt: skip
    fig.update_layout(
        title=f"Precision-recall by object size, IoU {iou:.2f} (mean of classes)",
        xaxis={"title": "recall", "range": [0, 1]},
        yaxis={"title": "precision", "range": [0, 1.02]},
        margin=_MARGIN,
        height=380,
    )
    return fig


def highlight_errors(
    image: np.ndarray,
    boxes: pd.DataFrame,
    class_names: tuple[str, ...],
    under: pd.DataFrame | None = None,
) -> np.ndarray:
    """Draw error boxes (``ErrorAnalysis.boxes``: type, class, score, xyxy) thick and
    magenta over an image, labelled with type, class and score.

    Args:
        image: (H, W, 3) uint8 RGB: the picture itself when ``under`` is given, else a
            drawing to mark on (its labels are pixels then, and may be covered).
        boxes: the rows to highlight.
        class_names: the dataset's classes.
        under: the image's matching records, drawn underneath as the error browser
            draws them, in the same pass: no label covers another.
    """
    layers = [] if under is None else error_layers(under, class_names)
    if len(boxes):
        det = Detections(
            boxes[["x1", "y1", "x2", "y2"]].to_numpy(np.float32),
            boxes["score"].fillna(1.0).to_numpy(np.float32),
            np.array([class_names.index(c) for c in boxes["class"]], np.int64),
            class_names,
        )
        labels = [
            f"{t}: {c}" + (f" {s:.2f}" if s == s else "")
            for t, c, s in zip(boxes["type"], boxes["class"], boxes["score"])
        ]
        layers.append((det, labels, HIGHLIGHT))
    return annotate_layers(image, layers) if layers else image
