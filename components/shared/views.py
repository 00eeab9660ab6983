"""Renderers: take computed data, place it on the page."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from components.shared.tables import show_table
from visioncompare.kernel.display import (
    class_counts,
    count_noun,
    detections_frame,
    no_boxes_text,
    timing_text,
)
from visioncompare.kernel.draw import annotate
from visioncompare.kernel.images import fit_for_display
from visioncompare.kernel.types import Detections, Prediction
from visioncompare.plots.evaluation import topk_bar_figure

CHART = {"displayModeBar": False}
"""Plotly's config for every chart: no mode bar over the figure."""


def classification_panel(
    prediction: Prediction, k: int, title: str, note: str | None, key: str | None = None
) -> None:
    """The classifier's answer: top-1 in words, top-k bar chart, latency.

    ``key``: unique on the page (e.g. the image's position), so two identical images
    (the same file uploaded twice) each get their own chart.
    """
    classification = prediction.classification
    assert classification is not None
    name, prob = classification.top1
    st.markdown(f"#### Classification · {title}")
    st.caption("One label for the whole image: what is this picture *of*?")
    st.markdown(f"Top-1: **{name}** ({prob:.1%})")
    st.plotly_chart(
        topk_bar_figure(classification, k),
        width="stretch",
        config=CHART,
        key=None if key is None else f"{key}-topk",
    )
    st.caption(timing_text(prediction.timing, prediction.device))
    if note:
        st.caption(f"Note: {title} {note}.")


def detection_panel(
    image: np.ndarray,
    prediction: Prediction,
    shown: Detections,
    title: str,
    note: str | None,
    class_filter: tuple[str, ...] | None = None,
) -> None:
    """The detector's answer: boxes drawn, counts per class, latency (the table of boxes
    is ``boxes_table``, across the page below both panels).

    ``class_filter``: the classes the user chose to show (None: all), named when empty.
    """
    st.markdown(f"#### Detection · {title}")
    st.caption("A label and a box for every object found: what is where?")
    counts = ", ".join(f"{name} × {n}" for name, n in class_counts(shown))
    st.image(
        fit_for_display(annotate(image, shown)),
        width="stretch",
        alt=f"The image with the boxes {title} found: {counts or 'none'}.",
    )
    if len(shown):
        counts = ", ".join(f"{name} × {n}" for name, n in class_counts(shown))
        st.markdown(f"**{count_noun(len(shown), 'object')}**: {counts}")
    else:
        st.info(no_boxes_text(class_filter))
    st.caption(timing_text(prediction.timing, prediction.device))
    if note:
        st.caption(f"Note: {title} {note}.")


def boxes_table(
    shown: Detections, title: str, key: str | None = None, scale: float = 1.0
) -> None:
    """The detector's boxes as a table across the page (every column visible): class,
    score, corners, size and area, in the file's pixels.

    ``key``: unique on the page. ``scale``: the file's pixels per pixel of the analysed
    image (a downscaled copy).
    """
    if not len(shown):
        return
    if scale != 1.0:
        shown = replace(shown, xyxy=shown.xyxy * np.float32(scale))
    st.markdown(f"**Boxes found by {title}**")
    show_table(
        detections_frame(shown),
        key=None if key is None else f"{key}-boxes",
        max_rows=6,
        help=BOX_HELP,
    )


BOX_HELP = {
    "score": "The detector's confidence, 0 to 1.",
    "x1": "Left edge, in the file's pixels.",
    "y1": "Top edge, in the file's pixels.",
    "x2": "Right edge, in the file's pixels.",
    "y2": "Bottom edge, in the file's pixels.",
}
"""Tooltips of the box tables' columns."""
