"""A video file through the tracker-fed detector and the classifier, frame by frame.

Decode (PyAV) -> detect at the tracker's confidence -> track -> classify every k-th
frame -> draw -> encode H.264. What is done is kept: an interrupted run (the page's Stop,
any rerun) still closes its video and hands back the frames analysed so far.
The models and the tracker come in as plain objects, so this module stays pure.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from visioncompare.kernel.display import filter_detections
from visioncompare.kernel.draw import annotate, caption_band
from visioncompare.kernel.types import Detections
from visioncompare.video.io import (
    DecodedFrame,
    H264Writer,
    VideoInfo,
    VideoLimits,
    iter_frames,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoSettings:
    """Everything that changes a video's analysis (part of its cache key).

    Attributes:
        tracker: Ultralytics tracker name (``bytetrack`` or ``botsort``).
        conf: boxes (tracks) below this confidence are not shown or counted.
        iou: the detector's NMS IoU threshold.
        classify_every: run the classifier on every k-th frame (0: never).
        topk: the classifier's classes kept per frame.
        classes: detector classes to keep (None: all).
    """

    tracker: str = "bytetrack"
    conf: float = 0.25
    iou: float = 0.7
    classify_every: int = 1
    topk: int = 5
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True, eq=False)
class FrameResult:
    """One analysed frame.

    Attributes:
        index: frame number (0-based).
        seconds: its time in the video.
        detections: the tracked boxes shown (``extra["track_id"]``), xyxy pixels of the
            analysed frame size.
        topk: the classifier's (class, probability) pairs, or None on a frame the
            classifier skipped.
        detect_ms, classify_ms: each model's own time on this frame.
    """

    index: int
    seconds: float
    detections: Detections
    topk: tuple[tuple[str, float], ...] | None
    detect_ms: float
    classify_ms: float | None


@dataclass(eq=False)
class VideoAnalysis:
    """A video's analysis: per-frame results and the annotated H.264 MP4.

    ``complete`` is False when the run was interrupted; ``frames`` then holds what was
    done and ``video`` plays those frames.
    """

    name: str
    info: VideoInfo
    settings: VideoSettings
    detector: str
    classifier: str | None
    size: tuple[int, int]
    frames: list[FrameResult] = field(default_factory=list)
    video: bytes = b""
    complete: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def fps_processed(self) -> float:
        return len(self.frames) / self.seconds if self.seconds > 0 else 0.0

    @property
    def nbytes(self) -> int:
        """Approximate memory held (the MP4 and the boxes), for byte-bounded caches."""
        boxes = sum(len(f.detections) for f in self.frames)
        return len(self.video) + boxes * 64 + len(self.frames) * 256


def video_key(data_digest: str, detector: str, classifier: str | None, settings) -> str:
    """The cache key of an analysis: content, models and every setting."""
    text = repr((data_digest, detector, classifier, settings))
    return hashlib.sha256(text.encode()).hexdigest()


def frame_caption(topk: tuple[tuple[str, float], ...]) -> str:
    """The caption band: the classifier's top-3 for the whole frame."""
    return "Classifier (whole frame): " + " · ".join(
        f"{name} {p:.0%}" for name, p in topk[:3]
    )


def track_labels(detections: Detections) -> list[str]:
    """``"#3 car 0.87"`` for each box: the id is what stays the same across frames."""
    ids = detections.extra.get("track_id", np.full(len(detections), -1))
    return [
        f"#{int(t)} {name} {s:.2f}" if t >= 0 else f"{name} {s:.2f}"
        for t, name, s in zip(ids, detections.labels, detections.scores)
    ]


@contextlib.contextmanager
def read_ahead(frames: Iterator[DecodedFrame]) -> Iterator[Iterator[DecodedFrame]]:
    """The same frames, each next one decoded on a thread of its own while the caller
    works on the last (PyAV releases the GIL), one frame ahead at most: what
    Ultralytics' own ``model.track`` loop does for an OpenVINO model on the CPU.
    A decoding error reaches the caller at the frame where it happened; leaving the
    block waits for the frame in flight, then closes the decoder."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="video-reader") as pool:
        future = pool.submit(next, frames, None)

        def ahead() -> Iterator[DecodedFrame]:
            nonlocal future
            while (frame := future.result()) is not None:
                future = pool.submit(next, frames, None)
                yield frame

        try:
            yield ahead()
        finally:
            wait([future])  # a generator cannot be closed while another thread runs it
            frames.close()


def analyse_video(
    data: bytes,
    name: str,
    info: VideoInfo,
    limits: VideoLimits,
    settings: VideoSettings,
    *,
    detect: Callable[[np.ndarray], Detections],
    track: Callable[[Detections, np.ndarray], Detections],
    classify: Callable[[np.ndarray], tuple[tuple[str, float], ...]] | None,
    detector_name: str,
    classifier_name: str | None,
    progress: Callable[[int, int, float], None] | None = None,
    keep: Callable[[VideoAnalysis], None] | None = None,
) -> VideoAnalysis:
    """Analyse every frame and write the annotated video.

    Args:
        data: the video file's bytes (already accepted by ``probe_video``).
        name: the file name, for messages.
        info, limits: from ``probe_video``.
        settings: thresholds, tracker, classifier cadence.
        detect: RGB frame -> boxes at the tracker's confidence.
        track: (boxes, RGB frame) -> tracked boxes with ``extra["track_id"]`` (one
            tracker for this video).
        classify: RGB frame -> top-k pairs, or None to skip the classifier.
        detector_name, classifier_name: recorded in the result.
        progress: called after each frame with (frames done, frames expected, seconds).
            It may raise (a Streamlit rerun does) to stop the run.
        keep: receives the result when the run ends, complete or interrupted, before an
            interruption propagates.

    Returns:
        The complete analysis.

    Raises:
        visioncompare.video.io.VideoError: not one frame could be decoded.
    """
    width, height = info.process_size(limits)
    result = VideoAnalysis(
        name,
        info,
        settings,
        detector_name,
        classifier_name if classify and settings.classify_every else None,
        (width, height),
    )
    started = time.perf_counter()
    writer = H264Writer(width, height, info.fps)
    classify_every = settings.classify_every if classify else 0
    last_topk: tuple[tuple[str, float], ...] | None = None

    def draw_and_write(image, shown, topk) -> None:
        drawn = annotate(image, shown, track_labels(shown))
        if topk is not None:
            # Between classified frames the caption keeps the last answer.
            drawn = caption_band(drawn, frame_caption(topk))
        writer.write(drawn)

    # Drawing and H.264 encoding run one frame behind the models on a second thread
    # (PIL and libx264 release the GIL), in frame order; two frames in flight at most.
    # Decoding runs one frame ahead of them on a third.
    pending: deque[Future] = deque()
    decoded = iter_frames(data, name, info, limits, errors=result.warnings)
    with (
        read_ahead(decoded) as frames,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="video-writer") as pool,
    ):
        try:
            for frame in frames:
                image = frame.image
                t0 = time.perf_counter()
                tracked = track(detect(image), image)
                t1 = time.perf_counter()
                shown = filter_detections(tracked, settings.conf, settings.classes)
                topk = classify_ms = None
                if classify_every and frame.index % classify_every == 0:
                    topk = last_topk = tuple(classify(image))
                    classify_ms = (time.perf_counter() - t1) * 1000.0
                pending.append(pool.submit(draw_and_write, image, shown, last_topk))
                while len(pending) > 2:
                    pending.popleft().result()
                result.frames.append(
                    FrameResult(
                        frame.index,
                        frame.seconds,
                        shown,
                        topk,
                        (t1 - t0) * 1000.0,
                        classify_ms,
                    )
                )
                result.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(len(result.frames), info.frames, result.seconds)
            result.complete = True
        finally:
            for future in pending:  # wait, without hiding an exception in flight
                if future.exception() is not None:
                    result.warnings.append(
                        f"The annotated video may miss frames: {future.exception()}"
                    )
            result.seconds = time.perf_counter() - started
            try:
                result.video = writer.getvalue()
            except Exception as exc:  # a broken encoder must not hide the real error
                log.warning("could not finish the annotated video: %s", exc)
            if keep is not None:
                keep(result)
    return result
