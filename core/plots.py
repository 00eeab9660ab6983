"""Pure plot functions: data in, Plotly figure out. No Streamlit, no I/O."""

from __future__ import annotations

import plotly.graph_objects as go

from core.types import Classification


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
            textposition="auto",
            marker_color=["#4C78A8"] * (len(names) - 1) + ["#F58518"] if names else [],
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": "probability", "range": [0, 1], "tickformat": ".0%"},
        yaxis={"automargin": True},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=max(220, 45 * len(names) + 80),
        title={
            "text": f"Top-{len(names)} classes (softmax over {len(classification.scores)})"
        },
    )
    return fig
