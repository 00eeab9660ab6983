"""Widgets of the Live page; each ``*_ui()`` returns plain values."""

from __future__ import annotations

import streamlit as st

from components.shared.controls import detector_thresholds_ui
from components.shared.corruption import corruption_ui
from visioncompare.live.processor import LiveMode, LiveSettings
from visioncompare.robustness.corruptions import slow_note

MODE_LABELS = {
    LiveMode.BOTH: "Both",
    LiveMode.DETECT: "Detector",
    LiveMode.CLASSIFY: "Classifier",
}


def only_mode(cls, det) -> LiveMode | None:
    """The one model that can run when the other cannot load here (None: both can)."""
    if cls.model is None:
        return LiveMode.DETECT
    if det.model is None:
        return LiveMode.CLASSIFY
    return None


def live_settings_ui(
    prefix: str, detector_classes: tuple[str, ...], only: LiveMode | None = None
) -> LiveSettings:
    """Which models run and their thresholds; applied to a running stream at once.
    ``only``: the one model that can run here (no choice is offered)."""
    if only is None:
        mode = st.segmented_control(
            "Run on each frame",
            list(MODE_LABELS),
            default=LiveMode.BOTH,
            format_func=lambda m: MODE_LABELS[m],
            key=f"{prefix}_mode",
        )
    else:
        mode = only
        st.caption(f"Each frame goes through the {only.value} only.")
    corruption = corruption_ui(prefix)
    if corruption is not None and (note := slow_note(corruption.name, 640, 480)):
        st.caption(f"{note} The stream waits for it on each frame.")
    with st.sidebar:
        st.subheader("Live settings")
        conf, iou, classes = detector_thresholds_ui(prefix, detector_classes)
    return LiveSettings(
        mode or LiveMode.BOTH, conf, iou, classes, topk=3, corruption=corruption
    )
