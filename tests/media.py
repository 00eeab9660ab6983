"""Test media made on the spot: other containers and codecs, audio-only files, Y4M."""

from __future__ import annotations

import av
import numpy as np

from visioncompare.video.demo_clip import encode_h264, panned_frames

__all__ = ["audio_only", "encode_h264", "encode_with", "panned_frames", "write_y4m"]


def encode_with(frames: list[np.ndarray], fmt: str, codec: str, fps: int = 10) -> bytes:
    """The frames in another container and codec (webm/vp8, avi/mpeg4, ...)."""
    import io

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, "rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def audio_only(seconds: float = 1.0) -> bytes:
    """An M4A-style MP4 holding only an AAC audio stream."""
    import io

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = int(16000 * seconds)
        tone = (np.sin(np.arange(samples) / 5) * 0.2).astype(np.float32)[None, :]
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(
                tone[:, start : start + 1024], format="fltp", layout="mono"
            )
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def write_y4m(path, frames: list[np.ndarray], fps: int = 15) -> None:
    """A YUV4MPEG2 (4:2:0) file Chromium's fake camera plays in a loop."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as handle:
        handle.write(
            f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode()
        )
        for frame in frames:
            yuv = av.VideoFrame.from_ndarray(frame, "rgb24").reformat(format="yuv420p")
            handle.write(b"FRAME\n")
            handle.write(yuv.to_ndarray().tobytes())
