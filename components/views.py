"""Renderers: take computed data, place it on the page."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.compare import class_counts, detections_frame, timing_text
from core.draw import annotate
from core.images import fit_for_display
from core.plots import topk_bar_figure
from core.types import Detections, Prediction


def classification_panel(
    prediction: Prediction, k: int, title: str, note: str | None
) -> None:
    """The classifier's answer: top-1 in words, top-k bar chart, latency."""
    classification = prediction.classification
    assert classification is not None
    name, prob = classification.top1
    st.markdown(f"#### Classification · {title}")
    st.caption("One label for the whole image: what is this picture *of*?")
    st.markdown(f"Top-1: **{name}** ({prob:.1%})")
    st.plotly_chart(
        topk_bar_figure(classification, k),
        width="stretch",
        config={"displayModeBar": False},
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
) -> None:
    """The detector's answer: boxes drawn, a table of boxes, counts per class, latency."""
    st.markdown(f"#### Detection · {title}")
    st.caption("A label and a box for every object found: what is where?")
    st.image(fit_for_display(annotate(image, shown)), width="stretch")
    if len(shown):
        counts = ", ".join(f"{name} × {n}" for name, n in class_counts(shown))
        st.markdown(f"**{len(shown)} objects**: {counts}")
        st.dataframe(
            detections_frame(shown), hide_index=True, width="stretch", height=220
        )
    else:
        st.info("No objects above the confidence threshold for the chosen classes.")
    st.caption(timing_text(prediction.timing, prediction.device))
    if note:
        st.caption(f"Note: {title} {note}.")
