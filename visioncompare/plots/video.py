"""The video timeline: every tracked object per class over time, next to the one label
the classifier gives each frame. Data in, Plotly figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from visioncompare.kernel.draw import class_hex


def video_timeline_figure(
    objects: pd.DataFrame, top1: pd.DataFrame, marker: float | None = None
) -> go.Figure:
    """Two rows on one time axis.

    Args:
        objects: ``objects_per_frame`` (frame, seconds, class, objects).
        top1: ``classifier_top1`` (frame, seconds, class, probability); may be empty.
        marker: a time (s) to mark with a vertical line (the scrubber's frame).

    Returns:
        Top: objects per class per frame (the detector: many labels, with a count).
        Bottom: the classifier's top-1 class per frame (one label per frame).
    """
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        row_heights=[0.6, 0.4],
        subplot_titles=(
            "Detector: objects per class in each frame",
            "Classifier: its one label for each frame (top-1)",
        ),
    )
    for name, rows in objects.groupby("class", sort=True):
        fig.add_trace(
            go.Scatter(
                x=rows["seconds"],
                y=rows["objects"],
                mode="lines",
                line={"shape": "hv", "color": class_hex(str(name)), "width": 2.5},
                name=str(name),
                legendgroup="detector",
                legendgrouptitle_text="detector",
                hovertemplate=f"{name}: %{{y}} at %{{x:.2f}} s<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if len(top1):
        fig.add_trace(
            go.Scatter(
                x=top1["seconds"],
                y=top1["class"],
                mode="markers",
                marker={
                    "color": top1["probability"],
                    "colorscale": "Blues",
                    "cmin": 0,
                    "cmax": 1,
                    "size": 7,
                },
                name="classifier top-1",
                customdata=top1["probability"],
                hovertemplate="%{y} (%{customdata:.0%}) at %{x:.2f} s<extra></extra>",
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    if marker is not None:
        fig.add_vline(x=marker, line_dash="dot", line_color="#444")
    fig.update_yaxes(title_text="objects", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(automargin=True, row=2, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "v"},
    )
    return fig
