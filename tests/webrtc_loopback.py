"""streamlit-webrtc's own asynchronous processing track, fed by a paced synthetic camera.

The Live page's frame callback runs exactly as in the server (same track class, same
worker thread, same newest-frame queue), without a browser. Used by a test and by
``benchmarks.video_live``.
"""

from __future__ import annotations

import time

import av
import numpy as np


async def run_loopback(
    callback, images: list[np.ndarray], seconds: float, on_tick=None
):
    """Stream ``images`` in a loop at 30 fps through ``callback`` for ``seconds``.

    Returns:
        [(seconds since start, capture-to-sent milliseconds)] for every processed frame
        sent back: the time from the capture of the frame it was computed from to the
        moment the track hands it on.
    """
    from aiortc.mediastreams import VideoStreamTrack
    from streamlit_webrtc.models import CallbackAttachableProcessor
    from streamlit_webrtc.process import AsyncVideoProcessTrack

    captured: dict[int, float] = {}
    origin: dict[int, float] = {}

    class Camera(VideoStreamTrack):
        index = 0

        async def recv(self):
            pts, time_base = await self.next_timestamp()  # paced at 30 fps
            frame = av.VideoFrame.from_ndarray(
                images[self.index % len(images)], format="rgb24"
            )
            frame.pts, frame.time_base = pts, time_base
            captured[pts] = time.perf_counter()
            self.index += 1
            return frame

    async def traced(frames):
        out = await callback(frames)
        origin[id(out[0])] = captured[frames[-1].pts]
        return out

    track = AsyncVideoProcessTrack(
        Camera(), CallbackAttachableProcessor(None, traced, None)
    )
    latencies: list[tuple[float, float]] = []
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            frame = await track.recv()
            sent_from = origin.pop(id(frame), None)
            if sent_from is not None:
                now = time.perf_counter()
                latencies.append((now - start, (now - sent_from) * 1000))
            if on_tick is not None:
                on_tick(time.perf_counter() - start)
    finally:
        track.stop()
    return latencies
