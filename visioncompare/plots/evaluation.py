"""Pure plot functions: data in, Plotly figure out. No Streamlit, no I/O."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from visioncompare.evaluation.metrics.matching import ConfusionResult
from visioncompare.kernel.draw import class_hex
from visioncompare.kernel.types import Classification


def topk_bar_figure(classification: Classification, k: int = 5) -> go.Figure:
    """Horizontal bars of the k most probable classes, best on top.

    Args:
        classification: the classifier's probabilities.
        k: how many classes to show.
    """
    top = classification.topk(k)
    names = [name for name, _ in top][::-1]
    probs = [p for _, p in top][::-1]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=names,
            orientation="h",
            text=[f"{p:.1%}" for p in probs],
            # Inside a bar when it fits, else just after it: never turned on its side.
            textposition="auto",
            textangle=0,
            cliponaxis=False,
            marker_color=["#4C78A8"] * (len(names) - 1) + ["#F58518"] if names else [],
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={
            "title": "probability",
            "range": [0, 1],
            "tickformat": ".0%",
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
        },
        yaxis={"automargin": True},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=max(220, 45 * len(names) + 80),
        title={
            "text": f"Top-{len(names)} classes (softmax over {len(classification.scores)})"
        },
    )
    return fig


MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
PR_LAYOUT = {
    "xaxis": {"range": [0, 1.02], "title": "recall"},
    "yaxis": {"range": [0, 1.05], "title": "precision"},
    "height": 380,
    "margin": MARGIN,
    "legend": {"orientation": "h", "y": -0.2},
}
"""The axes every precision-recall figure shares."""


def per_class_ap_figure(per_class: pd.DataFrame, column: str = "AP50-95") -> go.Figure:
    """Horizontal bars of one AP column per class, best on top, each in its class's
    colour (classes without ground truth, AP -1 or NaN, are left out)."""
    rows = per_class[per_class[column] >= 0].sort_values(column)
    fig = go.Figure(
        go.Bar(
            x=rows[column],
            y=rows["class"],
            orientation="h",
            marker_color=[class_hex(c) for c in rows["class"].astype(str)],
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{column} per class",
        xaxis={"range": [0, 1], "title": column},
        yaxis={"automargin": True, "dtick": 1},
        height=max(260, 18 * len(rows) + 90),
        margin=MARGIN,
    )
    return fig


def thin_curve(
    x: np.ndarray, y: np.ndarray, max_points: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of a long curve for display, evenly spread along it and
    always keeping both ends (a ranked list of 10,000 detections needs no 10,000 points)."""
    if len(x) <= max_points:
        return np.asarray(x), np.asarray(y)
    keep = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
    return np.asarray(x)[keep], np.asarray(y)[keep]


def pr_figure(
    curves: list[tuple[str, np.ndarray, np.ndarray]],
    point: tuple[float, float] | None = None,
    point_label: str = "",
) -> go.Figure:
    """Precision-recall curves; the first is solid, the others dotted; the operating point
    of the current confidence threshold as a marker."""
    fig = go.Figure()
    for n, (name, recall, precision) in enumerate(curves):
        recall, precision = thin_curve(recall, precision)
        fig.add_trace(
            go.Scatter(
                x=recall, y=precision, mode="lines", name=name,
                line={"dash": "solid" if n == 0 else "dot", "shape": "hv" if n == 0 else "linear"},
            )
        )  # fmt: skip
    if point is not None:
        fig.add_trace(
            go.Scatter(
                x=[point[0]], y=[point[1]], mode="markers+text", name=point_label,
                text=[point_label], textposition="top right",
                marker={"size": 13, "color": "#E45756", "symbol": "x"},
            )
        )  # fmt: skip
    fig.update_layout(title="Precision-recall", **PR_LAYOUT)
    return fig


def f1_confidence_figure(curve: pd.DataFrame, conf: float) -> go.Figure:
    """Precision, recall and F1 against the confidence threshold, the current one marked."""
    fig = go.Figure()
    for column, color in (
        ("f1", "#4C78A8"),
        ("precision", "#54A24B"),
        ("recall", "#F58518"),
    ):
        fig.add_trace(
            go.Scatter(x=curve["confidence"], y=curve[column], name=column, mode="lines",
                       line={"color": color, "width": 3 if column == "f1" else 1.5})
        )  # fmt: skip
    fig.add_vline(x=conf, line_dash="dash", annotation_text=f"conf {conf:.2f}")
    fig.update_layout(
        title="F1, precision and recall vs confidence",
        xaxis={"range": [0, 1], "title": "confidence threshold"},
        yaxis={"range": [0, 1.05]},
        height=340,
        margin=MARGIN,
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def iou_histogram_figure(
    ious: np.ndarray, thresholds: tuple[float, ...] = (0.5, 0.75), bins: int = 20
) -> go.Figure:
    """Histogram of true-positive IoUs with the IoU thresholds drawn as lines."""
    counts, edges = np.histogram(
        np.asarray(ious, np.float64), bins=bins, range=(0.0, 1.0)
    )
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2, y=counts, width=1.0 / bins,
            marker_color="#72B7B2", hovertemplate="IoU %{x:.2f}: %{y}<extra></extra>",
        )
    )  # fmt: skip
    for t in thresholds:
        fig.add_vline(
            x=t, line_dash="dash", line_color="#E45756", annotation_text=f"IoU {t}"
        )
    fig.update_layout(
        title=f"IoU of the {int(counts.sum())} true positives",
        xaxis={"range": [0, 1], "title": "IoU with the matched ground truth"},
        yaxis={"title": "detections"},
        height=320,
        margin=MARGIN,
        bargap=0.05,
    )
    return fig


def confusion_figure(result: ConfusionResult, normalize: bool = False) -> go.Figure:
    """Heatmap of the detection confusion matrix (rows predicted, columns true), with the
    thresholds it was computed at in its title."""
    values = result.normalized() if normalize else result.matrix
    used = (result.matrix.sum(axis=0) + result.matrix.sum(axis=1)) > 0
    used[-1] = True
    labels = [label for label, keep in zip(result.labels, used) if keep]
    z = values[np.ix_(used, used)]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=labels, y=labels, colorscale="Blues",
            text=np.where(z > 0, np.round(z, 2) if normalize else z, ""),
            texttemplate="%{text}",
            hovertemplate="predicted %{y}<br>true %{x}<br>%{z}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=f"Confusion matrix at conf {result.conf:.2f}, IoU {result.iou:.2f}"
        + (" (each column sums to 1)" if normalize else ""),
        xaxis={"title": "true class", "tickangle": -45},
        yaxis={"title": "predicted class", "autorange": "reversed"},
        height=max(420, 22 * len(labels) + 160),
        margin=MARGIN,
    )
    return fig


def ap_difference_figure(
    a: pd.DataFrame, b: pd.DataFrame, name_a: str, name_b: str, column: str = "AP50-95"
) -> go.Figure:
    """Per-class AP of detector B minus detector A (classes with ground truth)."""
    merged = a[["class", column]].merge(
        b[["class", column]], on="class", suffixes=("_a", "_b")
    )
    merged = merged[(merged[f"{column}_a"] >= 0) & (merged[f"{column}_b"] >= 0)]
    merged = merged.assign(
        diff=merged[f"{column}_b"] - merged[f"{column}_a"]
    ).sort_values("diff")
    fig = go.Figure(
        go.Bar(
            x=merged["diff"], y=merged["class"], orientation="h",
            marker_color=np.where(merged["diff"] >= 0, "#54A24B", "#E45756"),
            hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=f"{column}: {name_b} minus {name_a}",
        xaxis={"title": f"{column} difference", "zeroline": True},
        yaxis={"automargin": True, "dtick": 1},
        height=max(260, 18 * len(merged) + 90),
        margin=MARGIN,
    )
    return fig


def tagging_figure(per_class: pd.DataFrame) -> go.Figure:
    """Image-level AP per class: the classifier (as a tagger) next to the detector."""
    rows = per_class.sort_values("classifier_AP")
    fig = go.Figure()
    series = [("classifier_AP", "classifier (ImageNet classes mapped)", "#F58518")]
    if "detector_AP" in rows:
        series.append(("detector_AP", "detector (best box per image)", "#4C78A8"))
    for column, name, color in series:
        fig.add_trace(
            go.Bar(x=rows[column], y=rows["class"], orientation="h", name=name,
                   marker_color=color)
        )  # fmt: skip
    fig.update_layout(
        title="Image-level AP: does the image contain the class?",
        barmode="group",
        xaxis={"range": [0, 1], "title": "AP over images"},
        yaxis={"automargin": True, "dtick": 1},
        height=max(280, 30 * len(rows) + 120),
        margin=MARGIN,
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
