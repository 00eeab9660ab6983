"""A sample clip made from a bundled image: a camera panning across bus.jpg.

It lets the Video page be tried offline, and the tests use the same frames.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from visioncompare.kernel.sample_images import SAMPLE_DIR
from visioncompare.video.io import H264Writer


def panned_frames(
    image: str = "bus.jpg", frames: int = 30, size: tuple[int, int] = (480, 360)
) -> list[np.ndarray]:
    """A camera panning left to right across a sample image.

    Returns:
        ``frames`` (H, W, 3) uint8 RGB arrays of ``size`` (width, height) in which every
        object moves steadily right to left.
    """
    picture = Image.open(SAMPLE_DIR / image).convert("RGB")
    width, height = size
    scaled = round(picture.width * height / picture.height)
    wide = np.asarray(picture.resize((max(width + frames * 4, scaled), height)))
    step = (wide.shape[1] - width) / max(1, frames - 1)
    return [
        np.ascontiguousarray(wide[:, round(i * step) : round(i * step) + width])
        for i in range(frames)
    ]


def encode_h264(frames: list[np.ndarray], fps: float) -> bytes:
    height, width = frames[0].shape[:2]
    with H264Writer(width, height, fps) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.getvalue()


@lru_cache(maxsize=1)
def sample_clip() -> bytes:
    """Three seconds at 10 fps of a pan across bus.jpg, as an H.264 MP4."""
    return encode_h264(panned_frames("bus.jpg", frames=30), fps=10.0)
