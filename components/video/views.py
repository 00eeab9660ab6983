"""Renderers of the Video page: the annotated video, timeline, counts, scrubber, files."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from components.shared import cache
from components.shared.tables import show_table
from components.shared.views import BOX_HELP, CHART
from visioncompare.kernel.display import ms_text
from visioncompare.plots.video import video_timeline_figure
from visioncompare.video.analysis import VideoAnalysis
from visioncompare.video.summary import (
    classifier_csv,
    classifier_top1,
    detections_csv,
    distinct_objects,
    distinct_objects_text,
    frame_table,
    last_topk,
    latency_summary,
    objects_per_frame,
)


def video_summary_view(analysis: VideoAnalysis) -> None:
    """Counters, the annotated video and the distinct objects."""
    info = analysis.info
    if not analysis.complete:
        st.warning(
            f"Stopped after {len(analysis.frames)} of about {info.frames} frames: what "
            "was analysed is below. Press Analyse to run the whole video."
        )
    for message in analysis.warnings:
        st.warning(message)
    latency = latency_summary(analysis.frames)
    cols = st.columns(4)
    cols[0].metric("Frames analysed", len(analysis.frames))
    cols[1].metric("Frames per second", f"{analysis.fps_processed:.1f}")
    cols[2].metric("Detector + tracker (median)", ms_text(latency["detector_ms"]))
    cols[3].metric("Classifier (median)", ms_text(latency["classifier_ms"]))
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.video(analysis.video, format="video/mp4")
        st.download_button(
            "Download the annotated video (MP4, H.264)",
            analysis.video,
            file_name=analysis.name.rsplit(".", 1)[0] + "-annotated.mp4",
            mime="video/mp4",
            key="video_download_mp4",
            on_click="ignore",
        )
    with right:
        st.markdown("#### Distinct objects")
        st.markdown(f"**{distinct_objects_text(analysis.frames)}**")
        st.caption(
            "Each tracked object keeps one id from frame to frame, so it is counted "
            f"once ({analysis.settings.tracker}). The classifier has no such count: it "
            "gives each frame one label."
        )
        pairs = distinct_objects(analysis.frames)
        if pairs:
            show_table(
                pd.DataFrame(pairs, columns=["class", "distinct objects"]),
                key="video_distinct",
            )


def video_timeline_view(analysis: VideoAnalysis, marker: float | None = None) -> None:
    st.markdown("#### Timeline: every object vs one label per frame")
    st.plotly_chart(
        video_timeline_figure(
            objects_per_frame(analysis.frames), classifier_top1(analysis.frames), marker
        ),
        width="stretch",
        config=CHART,
    )


@st.fragment
def frame_scrubber_view(analysis: VideoAnalysis, key: str) -> None:
    """Pick any frame: its picture with boxes, its box table, the classifier's top-k."""
    st.markdown("#### Frame by frame")
    frames = analysis.frames
    index = st.slider(
        "Frame", 0, len(frames) - 1, 0, key="video_frame", help="Drag or use ← →"
    )
    frame = frames[index]
    left, right = st.columns([3, 2], gap="large")
    with left:
        image = cache.video_frame(key, index, analysis.video, analysis.info.fps)
        found = ", ".join(frame.detections.labels) or "no objects"
        st.image(
            image,
            caption=f"Frame {index} at {frame.seconds:.2f} s",
            width="stretch",
            alt=f"Frame {index} with its tracked boxes: {found}.",
        )
    with right:
        classified = last_topk(frames, index)
        if classified is None:
            st.markdown("**Classifier:** not run on this video.")
        else:
            at, topk = classified
            where = "this frame" if at == index else f"frame {at} (the last it ran on)"
            st.markdown(f"**Classifier**, on {where}:")
            show_table(
                pd.DataFrame(topk, columns=["class", "probability"]),
                key="video_topk",
            )
    # Across the page, so every column of the box table is visible.
    st.markdown(f"**Detector:** {len(frame.detections)} tracked boxes")
    if len(frame.detections):
        show_table(frame_table(frame), key="video_boxes", max_rows=8, help=BOX_HELP)


def video_downloads_view(analysis: VideoAnalysis) -> None:
    """The per-frame CSVs: the detector's tracked boxes, and the classifier's top-k when
    it ran. Each is written when its button is pressed, not on every rerun; pressing
    one does not rerun the page."""
    stem = analysis.name.rsplit(".", 1)[0]
    files = [("Detections per frame (CSV, with track ids)", detections_csv, "detections")]
    if analysis.classifier:
        files.append(("Classifier top-k per frame (CSV)", classifier_csv, "classifier"))
    for column, (label, to_csv, kind) in zip(st.columns(2), files):
        column.download_button(
            label,
            functools.partial(to_csv, analysis.frames),  # built on the click only
            file_name=f"{stem}-{kind}.csv",
            mime="text/csv",
            key=f"video_download_{kind}",
            on_click="ignore",
        )
