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


EVERY_LABELS = {1: "every frame", 2: "every 2nd frame", 3: "every 3rd frame",
                5: "every 5th frame"}  # fmt: skip
CLASSIFY_EVERY = 2
"""The default: the classifier runs on every 2nd processed frame, beside the detector,
which does not wait for it; that leaves the detector and the codecs more of two shared
CPU cores (docs/benchmarks.md). Its answer is then a frame or two old, and the band and
the readout name the frame it came from."""


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
    mode = mode or LiveMode.BOTH
    with st.sidebar:
        st.subheader("Live settings")
        conf, iou, classes = detector_thresholds_ui(prefix, detector_classes)
        every = 1
        if mode.classifies:
            every = st.select_slider(
                "Classifier runs on",
                list(EVERY_LABELS),
                value=CLASSIFY_EVERY,
                format_func=EVERY_LABELS.get,
                key=f"{prefix}_classify_every",
                help="Between two runs the band on the video shows the classifier's "
                "last answer and names the frame it came from. Fewer runs leave the "
                "detector more of the CPU.",
            )
    return LiveSettings(
        mode,
        conf,
        iou,
        classes,
        topk=3,
        corruption=corruption,
        classify_every=every,
    )
