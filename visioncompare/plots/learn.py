"""The Learn page's figures: pure functions, data in, Plotly figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from visioncompare.learn.lessons import APSteps, overlap_box
from visioncompare.plots.evaluation import MARGIN, PR_LAYOUT


def _corners(box: Sequence[float]) -> dict[str, float]:
    """An ``xyxy`` box as a Plotly shape's corners."""
    return {"x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3]}


def iou_demo_figure(
    a: Sequence[float],
    b: Sequence[float],
    iou: float,
    size: tuple[int, int] = (100, 100),
) -> go.Figure:
    """Two boxes on a canvas, their overlap shaded, the IoU in the title."""
    fig = go.Figure()
    for box, color, name in ((a, "#4C78A8", "A"), (b, "#F58518", "B")):
        fig.add_shape(
            type="rect", **_corners(box), line={"color": color, "width": 3}, name=name
        )
        fig.add_annotation(
            x=box[0],
            y=box[1],
            text=name,
            showarrow=False,
            yshift=10,
            font={"color": color, "size": 16},
        )
    inter = overlap_box(a, b)
    if inter is not None:
        fig.add_shape(
            type="rect",
            **_corners(inter),
            fillcolor="rgba(84,162,75,0.45)",
            line={"width": 0},
        )
    fig.update_layout(
        title=f"IoU = overlap / union = {iou:.3f}",
        xaxis={
            "range": [0, size[0]],
            "showgrid": False,
            "zeroline": False,
            "constrain": "domain",
        },
        yaxis={
            "range": [size[1], 0],
            "showgrid": False,
            "zeroline": False,
            "scaleanchor": "x",
        },
        height=360,
        margin=MARGIN,
        plot_bgcolor="#f4f4f4",
    )
    return fig


def ap_steps_figure(steps: APSteps, k: int) -> go.Figure:
    """The first k points of a ranked list on the precision-recall plane, each marked TP
    or FP, with the interpolated (area-under) curve so far."""
    k = max(0, min(k, len(steps.recall)))
    r, p, tp = steps.recall[:k], steps.precision[:k], steps.is_tp[:k]
    fig = go.Figure()
    if k:
        envelope = np.maximum.accumulate(p[::-1])[::-1]
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([[0], r]),
                y=np.concatenate([[envelope[0]], envelope]),
                mode="lines",
                line={"shape": "vh", "color": "#B279A2"},
                fill="tozeroy",
                name="interpolated precision (area = AP)",
            )
        )
    for flag, color, name in (
        (True, "#54A24B", "true positive"),
        (False, "#E45756", "false positive"),
    ):
        sel = tp == flag
        fig.add_trace(
            go.Scatter(
                x=r[sel],
                y=p[sel],
                mode="markers",
                name=name,
                marker={"size": 11, "color": color},
                text=[
                    f"#{i + 1}: {steps.labels[i]} {steps.scores[i]:.2f}"
                    for i in np.flatnonzero(sel)
                ],
                hovertemplate="%{text}<br>recall %{x:.2f}, precision %{y:.2f}<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"After {k} of {len(steps.recall)} detections: AP = {steps.ap_after(k):.3f}",
        **PR_LAYOUT,
    )
    return fig


def architecture_figure(
    classes: int,
    feature_dim: int,
    cls_size: int,
    det_size: int,
    det_classes: int,
    strides: Sequence[int] = (8, 16, 32),
) -> go.Figure:
    """One plain schematic: what a CNN classifier's head outputs vs a YOLOv8 head."""
    grids = [det_size // s for s in strides]
    points = sum(g * g for g in grids)
    rows = [
        (
            1.0,
            [
                f"image<br>{cls_size}×{cls_size}×3",
                "CNN backbone<br>(convolutions)",
                f"global average pool<br>{feature_dim} numbers",
                f"linear head<br>→ <b>{classes} class scores</b><br>for the whole image",
            ],
        ),
        (
            0.0,
            [
                f"image<br>{det_size}×{det_size}×3",
                "backbone + neck<br>(convolutions)",
                "3 grids: "
                + ", ".join(f"{g}×{g}" for g in grids)
                + f"<br>= {points:,} points",
                f"head, at every point<br>→ <b>4 box numbers + {det_classes} class scores</b>"
                f"<br>= {points * (4 + det_classes):,} numbers, then NMS",
            ],
        ),
    ]
    fig = go.Figure()
    for y, labels in rows:
        for x, text in enumerate(labels):
            fig.add_shape(
                type="rect",
                x0=x - 0.42,
                x1=x + 0.42,
                y0=y - 0.3,
                y1=y + 0.3,
                line={"color": "#4C78A8" if y else "#F58518", "width": 2},
                fillcolor="white",
            )
            fig.add_annotation(x=x, y=y, text=text, showarrow=False, font={"size": 12})
            if x:
                fig.add_annotation(
                    x=x - 0.42,
                    y=y,
                    ax=x - 0.58,
                    ay=y,
                    xref="x",
                    yref="y",
                    axref="x",
                    ayref="y",
                    showarrow=True,
                    arrowhead=2,
                    text="",
                )
    for y, title in (
        (1.42, "Classification (CNN)"),
        (0.42, "Detection (YOLOv8, anchor-free)"),
    ):
        fig.add_annotation(
            x=-0.45, y=y, text=f"<b>{title}</b>", showarrow=False, xanchor="left"
        )
    fig.update_layout(
        xaxis={"visible": False, "range": [-0.5, 3.5]},
        yaxis={"visible": False, "range": [-0.45, 1.55]},
        height=330,
        margin=MARGIN,
        plot_bgcolor="white",
        showlegend=False,
    )
    return fig


def complexity_figure(
    names: Sequence[str], values: Sequence[float], unit: str
) -> go.Figure:
    """One bar per model for one quantity (parameters, MACs or milliseconds)."""
    fig = go.Figure(
        go.Bar(
            x=list(names),
            y=list(values),
            text=[f"{v:,.1f}" for v in values],
            textposition="auto",
            textangle=0,  # level, inside or above a bar: never turned on its side
            cliponaxis=False,
            marker_color=["#F58518", "#4C78A8"],
        )
    )
    fig.update_layout(title=unit, height=260, margin=MARGIN, yaxis={"title": unit})
    return fig
