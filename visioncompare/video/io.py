"""Video files in and out with PyAV: probe and limits, RGB frames out, H.264 MP4 in.

Uploaded bytes are read from memory (never written where another session could see them)
and the annotated video is encoded as H.264 / yuv420p in an MP4 with ``faststart``, which
every browser plays (OpenCV's ``mp4v`` is MPEG-4 Part 2, which browsers do not).
Every way a user's file can be wrong has its own message.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = ("mp4", "mov", "webm", "avi", "mkv", "m4v")


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value.strip() else default
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, value, default)
        return default


@dataclass(frozen=True)
class VideoLimits:
    """What one uploaded video may be; every bound is configurable by the operator.

    Attributes:
        max_bytes: largest file accepted.
        max_seconds: longest duration accepted.
        max_frames: most frames accepted.
        max_pixels: largest frame (width * height) accepted.
        process_side: frames are analysed and written with their longer side at most
            this many pixels (the models resize to 640 anyway; this bounds memory and
            encoding time for 4K phone videos).
    """

    max_bytes: int = 200 * 1024 * 1024
    max_seconds: float = 120.0
    max_frames: int = 3600
    max_pixels: int = 3840 * 2160
    process_side: int = 1280

    @classmethod
    def from_env(cls) -> VideoLimits:
        """Defaults, overridden by ``VISIONCOMPARE_VIDEO_MAX_MB``, ``..._MAX_SECONDS``,
        ``..._MAX_FRAMES``, ``..._MAX_PIXELS`` and ``..._PROCESS_SIDE``."""
        base = cls()
        return cls(
            max_bytes=int(
                _env_number("VISIONCOMPARE_VIDEO_MAX_MB", base.max_bytes / 2**20)
                * 2**20
            ),
            max_seconds=_env_number(
                "VISIONCOMPARE_VIDEO_MAX_SECONDS", base.max_seconds
            ),
            max_frames=int(
                _env_number("VISIONCOMPARE_VIDEO_MAX_FRAMES", base.max_frames)
            ),
            max_pixels=int(
                _env_number("VISIONCOMPARE_VIDEO_MAX_PIXELS", base.max_pixels)
            ),
            process_side=int(
                _env_number("VISIONCOMPARE_VIDEO_PROCESS_SIDE", base.process_side)
            ),
        )

    def describe(self) -> str:
        return (
            f"up to {self.max_bytes / 2**20:.0f} MB, {self.max_seconds:.0f} s, "
            f"{self.max_frames} frames and {self.max_pixels / 1e6:.1f} megapixels a frame"
        )


class VideoError(ValueError):
    """A video the app cannot use; the message is written for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream.

    Attributes:
        width, height: frame size in pixels.
        fps: average frame rate (frames per second).
        frames: frame count (estimated from duration x fps when the container has none).
        seconds: duration.
        codec: the video codec's name (``h264``, ``vp9``, ...).
        container: the container format's name.
    """

    width: int
    height: int
    fps: float
    frames: int
    seconds: float
    codec: str
    container: str

    def describe(self) -> str:
        return (
            f"{self.width}×{self.height} px, {self.fps:.1f} fps, {self.frames} frames, "
            f"{self.seconds:.1f} s, {self.codec} in {self.container}"
        )

    def process_size(self, limits: VideoLimits) -> tuple[int, int]:
        """(width, height) frames are analysed at: even numbers (yuv420p needs them),
        the longer side at most ``limits.process_side``."""
        scale = min(1.0, limits.process_side / max(self.width, self.height))
        width = max(2, round(self.width * scale) // 2 * 2)
        height = max(2, round(self.height * scale) // 2 * 2)
        return width, height


def _open(data: bytes, name: str):
    try:
        return av.open(io.BytesIO(data), mode="r")
    except av.error.InvalidDataError as exc:
        raise VideoError(
            f"{name}: this is not a video file PyAV can read, or it is damaged or "
            f"truncated ({exc.strerror or 'invalid data'})."
        ) from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(f"{name}: the file could not be opened as a video.") from exc


def probe_video(data: bytes, name: str, limits: VideoLimits) -> VideoInfo:
    """Read a video's header and check it against the limits, before any decoding.

    Raises:
        VideoError: empty, too large, not a video, no video stream, a codec this build
            cannot decode, no frame rate, or past a limit (each its own message).
    """
    if not data:
        raise VideoError(f"{name}: the file is empty.")
    if len(data) > limits.max_bytes:
        raise VideoError(
            f"{name}: {len(data) / 2**20:.1f} MB is over the limit of "
            f"{limits.max_bytes / 2**20:.0f} MB for a video."
        )
    with _open(data, name) as container:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["nothing"]
            raise VideoError(
                f"{name}: the file has no video stream (it holds {', '.join(kinds)})."
            )
        stream = container.streams.video[0]
        ctx = stream.codec_context
        codec = stream.codec_context.name if ctx is not None else "unknown"
        try:
            av.codec.Codec(codec, "r")
        except Exception as exc:
            raise VideoError(
                f"{name}: its video codec ({codec}) cannot be decoded here. Convert it "
                "to H.264, VP9 or AV1 first."
            ) from exc
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width <= 0 or height <= 0:
            raise VideoError(f"{name}: the video stream has no frame size.")
        if width * height > limits.max_pixels:
            raise VideoError(
                f"{name}: frames of {width}×{height} px "
                f"({width * height / 1e6:.1f} megapixels) are over the limit of "
                f"{limits.max_pixels / 1e6:.1f} megapixels."
            )
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / av.time_base
        else:
            seconds = 0.0
        frames = int(stream.frames or 0) or round(seconds * fps)
        if fps <= 0 or fps > 1000:
            fps = frames / seconds if seconds > 0 and frames else 25.0
        if seconds > limits.max_seconds:
            raise VideoError(
                f"{name}: {seconds:.0f} s is longer than the limit of "
                f"{limits.max_seconds:.0f} s. Trim it first."
            )
        if frames > limits.max_frames:
            raise VideoError(
                f"{name}: {frames} frames are more than the limit of "
                f"{limits.max_frames}. Trim it or lower its frame rate first."
            )
        return VideoInfo(
            width,
            height,
            fps,
            frames,
            seconds,
            codec,
            container.format.name.split(",")[0],
        )


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame: its index, its time in seconds and (H, W, 3) uint8 RGB."""

    index: int
    seconds: float
    image: np.ndarray


def iter_frames(
    data: bytes,
    name: str,
    info: VideoInfo,
    limits: VideoLimits,
    errors: list[str] | None = None,
) -> Iterator[DecodedFrame]:
    """Decode the first video stream as RGB frames at ``info.process_size(limits)``.

    A file damaged part-way yields the frames before the damage and appends a message
    to ``errors`` instead of raising: what could be decoded is kept.

    Raises:
        VideoError: not one frame could be decoded.
    """
    width, height = info.process_size(limits)
    index = 0
    with _open(data, name) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if index >= limits.max_frames:
                    break
                seconds = (
                    float(frame.pts * stream.time_base)
                    if frame.pts is not None and stream.time_base
                    else index / info.fps
                )
                image = frame.to_ndarray(width=width, height=height, format="rgb24")
                yield DecodedFrame(index, seconds, image)
                index += 1
        except av.error.FFmpegError as exc:
            if index == 0:
                raise VideoError(
                    f"{name}: no frame could be decoded ({exc.strerror or exc})."
                ) from exc
            message = (
                f"{name}: decoding stopped at frame {index} ({exc.strerror or exc}); "
                "the frames before it are analysed."
            )
            log.warning(message)
            if errors is not None:
                errors.append(message)
    if index == 0:
        raise VideoError(f"{name}: the video stream holds no decodable frame.")


X264_OPTIONS = {
    "preset": "veryfast",
    "threads": "1",
    "x264-params": "subme=1:me=dia:partitions=i8x8,i4x4",
}
"""libx264's settings besides quality and keyframes. One thread: the writer already runs
beside the detector, and on a 2-core machine x264's own frame threads (three by default)
took CPU from it and used about 0.8 ms more CPU a frame than one thread, for a file of the
same size (640x480; docs/benchmarks.md, "Live camera and video files"). Sub-pixel motion
refinement 1 instead of the preset's 2: about 25 % less encoding CPU for the same file
size and PSNR within 0.05 dB on the benchmark's clip. Diamond motion search and no 8x8
inter partitions (``superfast``'s two, without its other changes): 14-28 % less again on
a clip with sub-pixel motion, for a 4 % larger file and 0.05 dB lower PSNR
(``python -m benchmarks.x264_settings``; docs/benchmarks.md, "The video ratio: drawing
into the array, x264's diamond search")."""


_LIMITED = 224 / 255
"""BT.601's limited-range chroma scale (16-240 around 128) over its full-range one."""


def rgb_to_yuv420p(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 RGB image (H and W even) as yuv420p planes stacked in one
    (H * 3 / 2, W) array, BT.601 limited range, in about half the time libswscale takes
    for an rgb24 frame at 640x480. Luma is within one level of libswscale's; each
    chroma sample is the mean of its 2x2 pixels (libswscale's filter differs slightly:
    0.3 levels apart on average on a photograph).

    OpenCV's own I420 conversion, used here for luma only, takes the top-left pixel's
    chroma instead, which fringes thin coloured lines such as the boxes' (2 dB lower
    PSNR on annotated frames).
    """
    height, width = image.shape[:2]
    yuv = cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420)
    half = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    full_range = cv2.cvtColor(half, cv2.COLOR_RGB2YCrCb)
    chroma = cv2.convertScaleAbs(full_range, alpha=_LIMITED, beta=128 * (1 - _LIMITED))
    planes = yuv[height:].reshape(2, height // 2, width // 2)
    planes[0] = chroma[..., 2]  # Cb
    planes[1] = chroma[..., 1]  # Cr
    return yuv


class H264Writer:
    """Encode RGB frames as an H.264 (yuv420p) MP4 in memory, playable in browsers.

    Use as a context manager; ``getvalue()`` returns the MP4 bytes after closing.
    """

    def __init__(self, width: int, height: int, fps: float, crf: int = 23) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs even sizes, got {width}×{height}")
        # faststart moves the index to the front (playback starts before the whole file
        # arrives); it rewrites the file by name, so the MP4 goes through a private
        # temporary file rather than a memory buffer.
        self._folder = tempfile.TemporaryDirectory(prefix="visioncompare-video-")
        self._path = os.path.join(self._folder.name, "annotated.mp4")
        self._data: bytes | None = None
        self._container = av.open(
            self._path,
            mode="w",
            format="mp4",
            options={"movflags": "+faststart"},
        )
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._time_base = 1 / rate
        self._stream.width = width
        self._stream.height = height
        self._stream.pix_fmt = "yuv420p"
        # A keyframe every second keeps seeking to any frame cheap for the scrubber.
        self._stream.options = {
            **X264_OPTIONS,
            "crf": str(crf),
            "g": str(max(1, round(fps or 25))),
        }
        self.frames = 0
        self._closed = False

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame of the writer's size."""
        frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(image), format="yuv420p")
        frame.pts = self.frames
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for packet in self._stream.encode():
            self._container.mux(packet)
        try:
            self._container.close()
            if os.path.exists(self._path):
                with open(self._path, "rb") as handle:
                    self._data = handle.read()
            else:  # no frame was written: the muxer wrote no file
                self._data = b""
        finally:
            self._folder.cleanup()

    def getvalue(self) -> bytes:
        self.close()
        assert self._data is not None
        return self._data

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_frame(data: bytes, index: int, fps: float) -> np.ndarray:
    """Frame ``index`` of an MP4 written by ``H264Writer`` as (H, W, 3) uint8 RGB.

    Seeks to the keyframe before it and decodes forward (keyframes are one second apart).

    Raises:
        VideoError: the index is past the end.
    """
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        target = round(index / fps / stream.time_base) if fps > 0 else 0
        container.seek(max(0, target), stream=stream, backward=True, any_frame=False)
        last = None
        for frame in container.decode(stream):
            last = frame
            if frame.pts is not None and frame.pts >= target:
                return frame.to_ndarray(format="rgb24")
        if last is not None and index >= 0:
            raise VideoError(f"frame {index} is past the end of the video")
        raise VideoError("the video holds no frame")
