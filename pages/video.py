"""Video: a file through the tracking detector and the classifier, frame by frame."""

from __future__ import annotations

import streamlit as st

from components.shared import cache, models
from components.shared.router import require_router
from components.video.controls import video_settings_ui, video_source_ui
from components.video.views import (
    frame_scrubber_view,
    video_downloads_view,
    video_summary_view,
    video_timeline_view,
)
from visioncompare.services.video_pipeline import run_video_analysis
from visioncompare.video.analysis import video_key
from visioncompare.video.io import VideoError, VideoLimits, probe_video

require_router()

# Each model on its own: without the classifier the detector still tracks; without the
# detector there is nothing to track (the message says which detectors work here).
cls, det = models.each_model_ui("video")
if det.model is None:
    st.stop()
limits = VideoLimits.from_env()
settings = video_settings_ui("video", det.model.class_names)
picked = video_source_ui("video", limits)
if picked is None:
    st.info(f"Upload a video ({limits.describe()}) or pick the sample clip.")
    st.stop()
name, data = picked
try:
    info = probe_video(data, name, limits)
except VideoError as exc:
    st.error(str(exc))
    st.stop()
width, height = info.process_size(limits)
scaled = (
    f", analysed at {width}×{height}"
    if (width, height) != (info.width, info.height)
    else ""
)
st.caption(f"{name}: {info.describe()}{scaled}.")

classifier = cls if settings.classify_every and cls.model is not None else None
key = video_key(
    cache.digest(data),
    f"{det.spec.name}@{det.device}",
    f"{cls.spec.name}@{cls.device}" if classifier else None,
    (settings, limits.process_side),
)
results = cache.video_results()
analysis = results.get(key)
last = st.session_state.get("video_last")
if analysis is None and last is not None and last[0] == key:
    analysis = last[1]

if analysis is None or not analysis.complete:
    pressed = st.button("Analyse video", type="primary", key="video_run")
    if pressed:
        st.caption(
            "Press **Stop analysing** to end the run: the frames done so far are kept."
        )
        st.button("Stop analysing", key="video_stop")
        progress = st.progress(0.0, text="Starting…")

        def report(done: int, total: int, seconds: float) -> None:
            total = max(total, done)
            left = (total - done) * seconds / done if done else 0.0
            progress.progress(
                done / total if total else 1.0,
                text=f"{done} / {total} frames · {done / seconds:.1f} frames/s · "
                f"about {left:.0f} s left",
            )

        def keep(result) -> None:
            # Runs also when a rerun (Stop, any widget) interrupts the analysis.
            st.session_state["video_last"] = (key, result)

        try:
            analysis = run_video_analysis(
                data,
                name,
                det.model,
                classifier.model if classifier else None,
                settings,
                limits,
                progress=report,
                keep=keep,
            )
        except VideoError as exc:
            progress.empty()
            st.error(str(exc))
            st.stop()
        results.put(key, analysis)
        st.rerun()  # show the results without the run's buttons and progress bar
    elif analysis is None:
        st.stop()

video_summary_view(analysis)
video_timeline_view(analysis)
frame_scrubber_view(analysis, key)
video_downloads_view(analysis)
