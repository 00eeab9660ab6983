"""The live camera: streamlit-webrtc glue between browser frames and
``visioncompare.live.processor``.

Frames arrive as ``av.VideoFrame`` in streamlit-webrtc's worker thread; only the newest
of those queued since the last call is processed
(``visioncompare.live.processor.LiveProcessor``). Nothing here calls ``st.*`` from that
thread: the page reads the processor's counters.
"""

from __future__ import annotations

import os
import time

import av
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from visioncompare.kernel.display import DETECT_CONF_FLOOR, ms_text
from visioncompare.live.processor import FPS_WINDOW_S, LiveProcessor, LiveReadout
from visioncompare.live.rtc_config import ENV_HELP, has_turn, ice_servers_from_env


def frames_callback(processor: LiveProcessor):
    """streamlit-webrtc's queued-frames callback for one viewer's processor."""

    async def callback(frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        images = [frames[-1].to_ndarray(format="rgb24")]
        # Older frames are only counted: converting them would cost time for nothing.
        out = processor.process_newest([None] * (len(frames) - 1) + images)
        # streamlit-webrtc sends the last annotated frame again for every camera frame
        # until the next one is ready, and the VP8 encoder wants YUV: convert it once.
        return [
            av.VideoFrame.from_ndarray(out, format="rgb24").reformat(format="yuv420p")
        ]

    return callback


def model_calls(detector, classifier):
    """The processor's two callables over loaded models (each guards itself with its
    own lock, so sessions sharing a model stay safe)."""

    def detect(image, iou):
        return detector.predict([image], conf=DETECT_CONF_FLOOR, iou=iou)[0].detections

    def classify(image):
        return classifier.predict([image])[0].classification

    return detect, classify


def session_processor_for(detector, classifier) -> LiveProcessor:
    """A new processor over loaded models."""
    return LiveProcessor(*model_calls(detector, classifier))


def session_processor(detector, classifier) -> LiveProcessor:
    """This session's processor (one per browser session), pointed at the given models."""
    processor = st.session_state.get("live_processor")
    if processor is None:
        processor = session_processor_for(detector, classifier)
        st.session_state["live_processor"] = processor
    else:
        processor.set_models(*model_calls(detector, classifier))
    return processor


def ice_servers() -> tuple[list[dict], str | None]:
    """The operator's STUN/TURN servers, or none and a message when misconfigured."""
    try:
        return ice_servers_from_env(os.environ), None
    except ValueError as exc:
        return [], f"The STUN/TURN settings are not valid ({exc}); using none."


def camera_streamer(processor: LiveProcessor, servers: list[dict]):
    """The camera widget (START / STOP live in its frame); returns its context."""
    return webrtc_streamer(
        key="live_camera",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": servers},
        media_stream_constraints={
            "video": {"width": {"ideal": 640}, "height": {"ideal": 480}},
            "audio": False,
        },
        queued_video_frames_callback=frames_callback(processor),
        async_processing=True,
    )


def readout_lines(readout: LiveReadout, device: str) -> list[tuple[str, str]]:
    """The readout as (label, value with its unit) pairs, every word in full."""
    size = f" at {readout.size[0]} × {readout.size[1]} pixels" if readout.size else ""
    rows = [
        (
            "Processed frames per second",
            f"{readout.fps:.1f} (last {FPS_WINDOW_S:.0f} s; camera frames arriving: "
            f"{readout.received_fps:.1f} per second{size})",
        ),
        (
            "Frames",
            f"{readout.processed:,} processed, {readout.dropped:,} dropped (a newer one "
            f"had arrived), {readout.received:,} received",
        ),
        (
            "Model time per frame (median)",
            f"detector {ms_text(readout.detector_ms)}, classifier "
            f"{ms_text(readout.classifier_ms)} on {device}"
            + (
                " (both at once, in two threads)"
                if readout.detector_ms is not None and readout.classifier_ms is not None
                else ""
            ),
        ),
        (
            "From a frame's arrival to its annotated copy (median)",
            ms_text(readout.frame_ms),
        ),
    ]
    if readout.corruption_ms is not None:  # a corruption runs before both models
        rows.append(("Corrupting each frame (median)", ms_text(readout.corruption_ms)))
    if readout.frame is not None:
        found = (
            ", ".join(f"{name} × {n}" for name, n in readout.classes)
            if readout.classes
            else "nothing"
        )
        top1 = f"{readout.top1[0]} ({readout.top1[1]:.0%})" if readout.top1 else "–"
        if readout.classified not in (None, readout.frame):
            top1 += f", from frame {readout.classified}"
        rows.append(
            (
                f"Frame {readout.frame} (its number is in the band on the video)",
                f"the detector sees {found}; the classifier says {top1}",
            )
        )
    return rows


@st.fragment(run_every=1.0)
def live_readout(processor: LiveProcessor, device: str, servers: list[dict]) -> None:
    """Frames per second, dropped frames, each model's median latency: once a second."""
    readout: LiveReadout = processor.readout()
    with st.container(key="live_readout"):
        st.markdown(
            "\n".join(
                f"- **{label}:** {value}"
                for label, value in readout_lines(readout, device)
            )
        )
    st.caption(
        "Frames that arrive while one is processed are dropped, so the video never "
        "falls behind the camera. Each model's time is its own call. On every frame, "
        "the classifier runs beside the detector on the same frame; on every 2nd, 3rd "
        "or 5th, the detector goes on with the next frames while it runs, and the "
        "band and this readout name the frame its answer came from."
    )
    if readout.error:
        st.error(f"A frame could not be processed: {readout.error}")
    since = st.session_state.get("live_connecting_since")
    if since and readout.received == 0 and time.monotonic() - since > 15:
        st.warning(connection_hint(servers))


def connection_hint(servers: list[dict]) -> str:
    """Why a camera stream may not connect, in plain words."""
    turn = (
        "A TURN server is configured."
        if has_turn(servers)
        else "No TURN server is configured: when this app runs behind NAT or in the "
        "cloud, your browser and the server cannot reach each other directly, and the "
        f"operator must set one ({ENV_HELP})."
    )
    return (
        "The camera stream has not connected after 15 seconds. Browsers give a page "
        "the camera only over HTTPS or on localhost, and only after you allow it. "
        + turn
    )
