"""Widgets of the Video page; each ``*_ui()`` returns plain values."""

from __future__ import annotations

import streamlit as st

from components.shared.controls import detector_thresholds_ui
from model_zoo.tracking import TRACKERS
from visioncompare.video.analysis import VideoSettings
from visioncompare.video.io import VIDEO_EXTENSIONS, VideoLimits


def video_settings_ui(prefix: str, detector_classes: tuple[str, ...]) -> VideoSettings:
    """Tracker, thresholds and the classifier's cadence for a video."""
    with st.sidebar:
        st.subheader("Video settings")
        tracker = st.selectbox(
            "Tracker",
            list(TRACKERS),
            format_func=lambda t: TRACKERS[t],
            key=f"{prefix}_tracker",
        )
        conf, iou, classes = detector_thresholds_ui(prefix, detector_classes)
        every = st.number_input(
            "Classify every k-th frame (0: never)",
            min_value=0,
            max_value=300,
            value=1,
            step=1,
            key=f"{prefix}_every",
            help="The classifier labels the whole frame; on the frames it skips, the "
            "video's caption keeps its last answer.",
        )
    return VideoSettings(tracker, conf, iou, int(every), 5, classes)


def video_source_ui(prefix: str, limits: VideoLimits) -> tuple[str, bytes] | None:
    """An uploaded video file, or the built-in sample clip; None until one is chosen."""
    source = st.radio(
        "Video",
        ["Upload", "Sample clip"],
        horizontal=True,
        key=f"{prefix}_source",
        label_visibility="collapsed",
    )
    if source == "Sample clip":
        from visioncompare.video.demo_clip import sample_clip

        return "sample-pan-bus.mp4", sample_clip()
    upload = st.file_uploader(
        "Upload a video",
        type=list(VIDEO_EXTENSIONS),
        key=f"{prefix}_upload",
        max_upload_size=max(1, limits.max_bytes // 2**20),
        help=f"MP4, MOV, WebM, AVI or MKV; {limits.describe()}. Decoded with PyAV; "
        "nothing uploaded is ever executed.",
    )
    if upload is None:
        return None
    return upload.name, upload.getvalue()
