"""Robustness figures: a metric against severity, one line per corruption, and the
corruptions ranked by what each model loses. Data in, Plotly figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from visioncompare.robustness.corruptions import FAMILIES, corruption_title

FAMILY_COLOURS = {
    "noise": ("#4C78A8", "#72B7B2", "#9ECAE9"),
    "blur": ("#E45756", "#F58518", "#FF9DA6", "#B279A2"),
    "weather": ("#54A24B", "#88D27A", "#B8E186", "#2F6B29"),
    "digital": ("#EECA3B", "#9D755D", "#BAB0AC", "#79706E"),
}
"""One hue family per corruption family, so blurs read as blurs."""
COLOUR = {
    name: FAMILY_COLOURS[family][i]
    for family, names in FAMILIES.items()
    for i, name in enumerate(names)
}
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def severity_figure(curves: pd.DataFrame, model: str, metric: str) -> go.Figure:
    """One model's metric against severity (0 = the clean images), a line per
    corruption.

    Args:
        curves: ``visioncompare.robustness.grid.severity_curves`` (columns ``model``,
            ``corruption``, ``severity``, ``value``).
        model: whose curves to draw.
        metric: the metric's name, for the axis.
    """
    rows = curves[curves["model"] == model]
    fig = go.Figure()
    for name, line in rows.groupby("corruption", sort=False):
        fig.add_trace(
            go.Scatter(
                x=line["severity"],
                y=line["value"],
                mode="lines+markers",
                name=corruption_title(name),
                line={"color": COLOUR.get(name)},
                hovertemplate=f"{corruption_title(name)}, severity %{{x}}: "
                "%{y:.3f}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": f"{model}<br><sup>{metric} against severity (0: clean)</sup>"},
        xaxis={"title": "severity", "tickmode": "linear", "dtick": 1},
        yaxis={"title": metric, "rangemode": "tozero"},
        height=420,
        margin={**MARGIN, "t": 60},
        legend={"font": {"size": 11}},
    )
    return fig


def loss_figure(ranking: pd.DataFrame) -> go.Figure:
    """Each model's loss (clean minus the mean over severities) per corruption, as
    grouped horizontal bars, the largest loss of the first model on top.

    Args:
        ranking: ``visioncompare.robustness.grid.corruption_ranking``.
    """
    fig = go.Figure()
    models = list(dict.fromkeys(ranking["model"]))
    order = (
        ranking[ranking["model"] == models[0]]
        .sort_values("loss")["corruption"]
        .tolist()
        if models
        else []
    )
    for model in models:
        rows = ranking[ranking["model"] == model].set_index("corruption").loc[order]
        fig.add_trace(
            go.Bar(
                x=rows["loss"],
                y=order,
                orientation="h",
                name=f"{model} ({rows['metric'].iloc[0]})",
                hovertemplate="%{y}: loses %{x:.3f}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": "What each model loses per corruption (clean − mean)"},
        barmode="group",
        xaxis={"title": "loss (absolute)"},
        yaxis={"automargin": True},
        height=max(260, 28 * len(order) * max(1, len(models)) + 130),
        margin={**MARGIN, "t": 70},
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
    )
    return fig
