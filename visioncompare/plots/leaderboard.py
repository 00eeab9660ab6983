"""The leaderboard's chart: accuracy against latency, the Pareto front marked, and each
model's published accuracy beside the one measured here."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from visioncompare.evaluation.leaderboard import pareto_front

MEASURED = "#4C78A8"
FRONT = "#F58518"
PUBLISHED = "#9D9D9D"


def accuracy_latency_figure(
    frame: pd.DataFrame,
    accuracy: str = "AP (%)",
    latency: str = "latency p50 (ms)",
    published: str = "published (%)",
) -> go.Figure:
    """Each model with both numbers as a point; the Pareto front (nothing is both more
    accurate and faster) as a line through its points; the publisher's figure as a
    hollow grey diamond at the same latency, joined to the measured point.

    Args:
        frame: ``leaderboard.leaderboard_frame`` rows (a ``model`` column and the three
            named below).
        accuracy: the measured accuracy column (percent).
        latency: the latency column (ms); rows without one are left out.
        published: the published accuracy column (percent; NaN: none).
    """
    rows = frame.dropna(subset=[accuracy, latency]).reset_index(drop=True)
    front = pareto_front(rows[accuracy], rows[latency])
    fig = go.Figure()
    for _, row in rows[rows[published].notna()].iterrows():
        fig.add_trace(
            go.Scatter(
                x=[row[latency], row[latency]], y=[row[accuracy], row[published]],
                mode="lines", line={"color": PUBLISHED, "dash": "dot", "width": 1},
                hoverinfo="skip", showlegend=False,
            )
        )  # fmt: skip
    with_published = rows[rows[published].notna()]
    fig.add_trace(
        go.Scatter(
            x=with_published[latency], y=with_published[published], mode="markers",
            name="published (publisher's data and hardware)",
            marker={"symbol": "diamond-open", "size": 11, "color": PUBLISHED},
            text=with_published["model"],
            hovertemplate="%{text}: published %{y:.1f}%<extra></extra>",
        )
    )  # fmt: skip
    ordered = rows[front].sort_values(latency)
    fig.add_trace(
        go.Scatter(
            x=ordered[latency], y=ordered[accuracy], mode="lines",
            name="Pareto front", line={"color": FRONT, "width": 2},
            hoverinfo="skip",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=rows[latency], y=rows[accuracy], mode="markers+text",
            name="measured here", text=rows["model"], textposition="top center",
            marker={"size": 12, "color": [FRONT if f else MEASURED for f in front],
                    "line": {"width": 1, "color": "white"}},
            customdata=["on the front" if f else "beaten" for f in front],
            hovertemplate="%{text}: %{y:.1f}% at %{x:.1f} ms (%{customdata})"
            "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title={"text": f"{accuracy.removesuffix(' (%)')} here against {latency}"},
        xaxis={"title": latency, "rangemode": "tozero"},
        yaxis={"title": accuracy, "rangemode": "tozero"},
        height=420,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
