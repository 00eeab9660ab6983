"""Widgets of the Live and Video pages; each ``*_ui()`` returns plain values."""

from __future__ import annotations

import streamlit as st

from model_zoo.tracking import TRACKERS
from visioncompare.live.processor import LiveMode, LiveSettings
from visioncompare.video.analysis import VideoSettings
from visioncompare.video.io import VIDEO_EXTENSIONS, VideoLimits

MODE_LABELS = {
    LiveMode.BOTH: "Both",
    LiveMode.DETECT: "Detector",
    LiveMode.CLASSIFY: "Classifier",
}


def _thresholds(prefix: str, detector_classes: tuple[str, ...]):
    conf = st.slider(
        "Detector confidence threshold", 0.05, 1.0, 0.25, 0.05, key=f"{prefix}_conf"
    )
    iou = st.slider("NMS IoU threshold", 0.10, 0.95, 0.70, 0.05, key=f"{prefix}_iou")
    classes = st.multiselect(
        "Show only these detector classes",
        list(detector_classes),
        key=f"{prefix}_classes",
        placeholder="All classes",
    )
    return conf, iou, tuple(classes) or None


def live_settings_ui(prefix: str, detector_classes: tuple[str, ...]) -> LiveSettings:
    """Which models run and their thresholds; applied to a running stream at once."""
    mode = st.segmented_control(
        "Run on each frame",
        list(MODE_LABELS),
        default=LiveMode.BOTH,
        format_func=lambda m: MODE_LABELS[m],
        key=f"{prefix}_mode",
    )
    with st.sidebar:
        st.subheader("Live settings")
        conf, iou, classes = _thresholds(prefix, detector_classes)
    return LiveSettings(mode or LiveMode.BOTH, conf, iou, classes, topk=3)


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
        conf, iou, classes = _thresholds(prefix, detector_classes)
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
