"""Live camera frames through the classifier and the detector: newest frame only.

The browser sends frames faster than two CPU cores can run a detector. Frames that
arrive while one is being processed are dropped (counted, never queued), so the video
sent back never falls further behind the camera. With both models on, the classifier
runs in a helper thread while the detector runs in the frame thread (both runtimes
release the GIL). On every frame, both see the same frame and the frame waits for the
slower. On every k-th frame only, the frame thread does not wait: the classifier works
on frame N while the detector goes on with N, N+1, ...; its answer is shown from the
first frame drawn after it is ready, and names frame N (a pipeline: one model hidden
behind the other). Every processed frame gets a number, written in the band on the
video and in the readout, so the two can be matched. The page changes the settings
while the stream runs; the frame thread reads the newest settings for every frame.
Pure Python/numpy: the models come in as plain callables, the frames as RGB arrays.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from visioncompare.kernel.display import class_counts, filter_detections
from visioncompare.kernel.draw import annotate, caption_band
from visioncompare.kernel.types import Classification, Detections
from visioncompare.robustness.corruptions import Corruption, corrupt

_CLASSIFIER_POOL = ThreadPoolExecutor(
    max_workers=4, thread_name_prefix="live-classifier"
)
"""Where each stream's classifier runs beside its detector (one call per stream at a
time; the model's own lock serialises streams that share it)."""

FPS_WINDOW_S = 3.0
"""The processed and received rates are counted over the last this many seconds."""


class LiveMode(str, Enum):
    """Which models run on each live frame."""

    DETECT = "detector"
    CLASSIFY = "classifier"
    BOTH = "both"

    @property
    def detects(self) -> bool:
        return self in (LiveMode.DETECT, LiveMode.BOTH)

    @property
    def classifies(self) -> bool:
        return self in (LiveMode.CLASSIFY, LiveMode.BOTH)


@dataclass(frozen=True)
class LiveSettings:
    """What the page's widgets say now; read by the frame thread for every frame."""

    mode: LiveMode = LiveMode.BOTH
    conf: float = 0.25
    iou: float = 0.7
    classes: tuple[str, ...] | None = None
    topk: int = 3
    corruption: Corruption | None = None
    """Corrupt each frame before the models see it (None: the camera's frame)."""
    classify_every: int = 1
    """Run the classifier on every this-many-th processed frame (above 1: without the
    frames waiting for it); the frames between show its last answer, and the band and
    the readout say which frame that came from."""


@dataclass(frozen=True)
class LiveReadout:
    """A snapshot of the stream's counters for the page's once-a-second readout.

    Attributes:
        received: frames that reached the server.
        processed: frames that went through the models.
        dropped: frames skipped because a newer one had arrived.
        fps: processed frames per second over the last ``FPS_WINDOW_S`` seconds.
        received_fps: frames reaching the server per second over the same window.
        detector_ms, classifier_ms: median latency of each model over the last frames
            (None when that model has not run lately).
        frame_ms: median time from a frame's arrival to its annotated copy being ready
            (with both models on, they run at the same time: about the slower one).
        corruption_ms: median time corrupting a frame took (None: no corruption lately).
        frame: the number of the newest processed frame (1 for the stream's first),
            the number written in its band; ``classes`` and ``top1`` come from it.
        size: (width, height) of that frame in pixels.
        classes: the detector's classes on frame ``frame``, most boxes first.
        top1: the classifier's top-1 (name, probability) shown with frame ``frame``.
        classified: the frame ``top1`` was computed on: ``frame`` itself, or an earlier
            one when the classifier runs on every k-th frame only.
        error: the last processing error, in words, or None.
    """

    received: int = 0
    processed: int = 0
    dropped: int = 0
    fps: float = 0.0
    received_fps: float = 0.0
    detector_ms: float | None = None
    classifier_ms: float | None = None
    frame_ms: float | None = None
    corruption_ms: float | None = None
    frame: int | None = None
    size: tuple[int, int] | None = None
    classes: tuple[tuple[str, int], ...] = ()
    top1: tuple[str, float] | None = None
    classified: int | None = None
    error: str | None = None


Answer = tuple[int, int, tuple[tuple[str, float], ...]]
"""The classifier's last answer: (frame number, k asked for, its top-k)."""


@dataclass(frozen=True)
class _Pending:
    """A classifier run the frames do not wait for: frame ``number``, top-``topk``, and
    the helper thread's (Classification, milliseconds) to come."""

    number: int
    topk: int
    future: Future


def _median(values: deque[float]) -> float | None:
    return statistics.median(values) if values else None


def _rate(stamps: Sequence[float], now: float, counts: Sequence[int] = ()) -> float:
    """Events per second over the last ``FPS_WINDOW_S`` seconds (``counts``: how many
    events each stamp stands for; default one each)."""
    counts = counts or [1] * len(stamps)
    recent = [(t, n) for t, n in zip(stamps, counts) if now - t <= FPS_WINDOW_S]
    if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
        return 0.0
    # The first stamp opens the interval: its own events came before it.
    return sum(n for _, n in recent[1:]) / (recent[-1][0] - recent[0][0])


def band_text(frame: int, classes, answer: Answer | None) -> str:
    """The line written on an annotated frame: its number, then the classifier's top-k
    and, when that answer is older, the frame it came from (without the classifier, the
    detector's classes)."""
    if answer is not None:
        on, _, top = answer
        source = "" if on == frame else f" (from frame {on})"
        return f"Frame {frame} · Classifier{source}: " + " · ".join(
            f"{n} {p:.0%}" for n, p in top
        )
    found = ", ".join(f"{n} × {c}" for n, c in classes) if classes else "nothing"
    return f"Frame {frame} · Detector: {found}"


@dataclass
class LiveProcessor:
    """One viewer's stream: settings in, annotated frames and counters out.

    Args:
        detect: image -> Detections (run at the floor confidence; the settings filter).
        classify: image -> Classification.
        window: how many recent frames the latency medians cover.
        clock: seconds (monotonic); injectable for tests.
        concurrent: with both models on, run the classifier beside the detector (False:
            one after the other, for comparisons).
    """

    detect: Callable[[np.ndarray, float], Detections]
    classify: Callable[[np.ndarray], Classification]
    window: int = 30
    clock: Callable[[], float] = time.perf_counter
    concurrent: bool = True
    _settings: LiveSettings = field(default_factory=LiveSettings)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _received: int = 0
    _processed: int = 0
    _dropped: int = 0
    _error: str | None = None
    _classes: tuple[tuple[str, int], ...] = ()
    _answer: Answer | None = None
    _frame: int | None = None
    _size: tuple[int, int] | None = None
    _pending: _Pending | None = None

    def __post_init__(self) -> None:
        self._done_at: deque[float] = deque(maxlen=self.window)
        self._arrived_at: deque[float] = deque(maxlen=4 * self.window)
        self._arrived_n: deque[int] = deque(maxlen=4 * self.window)
        self._det_ms: deque[float] = deque(maxlen=self.window)
        self._cls_ms: deque[float] = deque(maxlen=self.window)
        self._frame_ms: deque[float] = deque(maxlen=self.window)
        self._corrupt_ms: deque[float] = deque(maxlen=self.window)

    @property
    def settings(self) -> LiveSettings:
        with self._lock:
            return self._settings

    def set_models(
        self,
        detect: Callable[[np.ndarray, float], Detections],
        classify: Callable[[np.ndarray], Classification],
    ) -> None:
        """Point the running stream at other models (the sidebar changed)."""
        with self._lock:
            self.detect, self.classify = detect, classify

    def update_settings(self, settings: LiveSettings) -> None:
        """Apply new settings to the running stream (takes effect on the next frame)."""
        with self._lock:
            self._settings = settings

    def process_newest(self, frames: Sequence[np.ndarray | None]) -> np.ndarray:
        """Process the newest of the frames that arrived since the last call.

        Args:
            frames: frames oldest first (at least one); only the newest is read and must
                be (H, W, 3) uint8 RGB, the others are counted as dropped.

        Returns:
            The newest frame annotated: boxes and labels from the detector, a band with
            the frame's number and the classifier's top-k. On a model error the frame
            comes back unannotated and the error is kept for the readout.
        """
        if not frames:
            raise ValueError("frames: expected at least one frame")
        arrived = self.clock()
        with self._lock:
            self._received += len(frames)
            self._dropped += len(frames) - 1
            self._arrived_at.append(arrived)
            self._arrived_n.append(len(frames))
            number = self._processed + 1
            answer, pending = self._answer, self._pending
            settings = self._settings
            detect, classify = self.detect, self.classify
        image = frames[-1]
        corrupt_ms = None
        try:
            if settings.corruption is not None:
                start = self.clock()
                image = corrupt(image, settings.corruption)
                corrupt_ms = (self.clock() - start) * 1000.0
            out, det_ms, cls_ms, classes, answer, pending = self._run(
                image, number, settings, detect, classify, answer, pending
            )
            error = None
        except Exception as exc:  # a failing model must not kill the stream
            out, det_ms, cls_ms, classes, answer = image, None, None, (), None
            pending, error = None, f"{type(exc).__name__}: {exc}"
        done = self.clock()
        with self._lock:
            self._processed += 1
            self._done_at.append(done)
            self._frame_ms.append((done - arrived) * 1000.0)
            if corrupt_ms is not None:
                self._corrupt_ms.append(corrupt_ms)
            if settings.corruption is None:
                self._corrupt_ms.clear()
            if det_ms is not None:
                self._det_ms.append(det_ms)
            if cls_ms is not None:
                self._cls_ms.append(cls_ms)
            if not settings.mode.detects:
                self._det_ms.clear()
            if not settings.mode.classifies:
                self._cls_ms.clear()
            if self._processed == number:  # not reset meanwhile
                self._pending = pending
            self._classes, self._answer, self._error = classes, answer, error
            self._frame, self._size = number, (image.shape[1], image.shape[0])
        return out

    def _timed(self, model: Callable, *args):
        """(the model's answer, its milliseconds), timed in the thread that runs it."""
        start = self.clock()
        answer = model(*args)
        return answer, (self.clock() - start) * 1000.0

    def _run(
        self,
        image: np.ndarray,
        number: int,
        settings: LiveSettings,
        detect,
        classify,
        answer: Answer | None,
        pending: _Pending | None,
    ):
        """Frame ``number`` through the models the settings ask for; the classifier's
        last ``answer`` is reused until it is ``classify_every`` frames old. ``pending``:
        a classifier run the frames do not wait for, still going or done; it becomes the
        answer once done (returned: the one still going, or None)."""
        det_ms = cls_ms = None
        classes: tuple[tuple[str, int], ...] = ()
        out = image
        concurrent = settings.mode.detects and self.concurrent
        if not settings.mode.classifies:
            answer = None
        if not settings.mode.classifies or not concurrent:
            pending = None  # a run still going is left to finish unread
        fresh = settings.mode.classifies and (
            answer is None
            or number - max(answer[0], pending.number if pending else 0)
            >= settings.classify_every
            or answer[1] != settings.topk
        )
        # A pipeline on every k-th frame (k > 1): the frame does not wait for the
        # classifier, except for the stream's first answer and a new top-k.
        waits = (
            settings.classify_every == 1 or answer is None or answer[1] != settings.topk
        )
        if fresh and pending is not None and waits:
            pending = None  # its answer is replaced by this frame's (new top-k)
        same_frame = None
        if fresh and concurrent and pending is None:
            started = _CLASSIFIER_POOL.submit(self._timed, classify, image)
            if waits:
                same_frame = started
            else:
                pending = _Pending(number, settings.topk, started)
        try:
            if settings.mode.detects:
                detections, det_ms = self._timed(detect, image, settings.iou)
                shown = filter_detections(detections, settings.conf, settings.classes)
                out = annotate(image, shown)
                classes = tuple(class_counts(shown))
        finally:  # the helper's frame is not reused before its classifier is done
            if same_frame is not None:
                classification, cls_ms = same_frame.result()
        if pending is not None and pending.future.done():
            classification, cls_ms = pending.future.result()
            answer = (
                pending.number,
                pending.topk,
                tuple(classification.topk(pending.topk)),
            )
            pending = None
        elif fresh and (same_frame is not None or not concurrent):
            if same_frame is None:
                classification, cls_ms = self._timed(classify, image)
            answer = (number, settings.topk, tuple(classification.topk(settings.topk)))
        out = caption_band(out, band_text(number, classes, answer))
        return out, det_ms, cls_ms, classes, answer, pending

    def readout(self) -> LiveReadout:
        """The counters now (safe to call from the page thread at any time)."""
        with self._lock:
            now = self.clock()
            return LiveReadout(
                received=self._received,
                processed=self._processed,
                dropped=self._dropped,
                fps=_rate(self._done_at, now),
                received_fps=_rate(self._arrived_at, now, self._arrived_n),
                detector_ms=_median(self._det_ms),
                classifier_ms=_median(self._cls_ms),
                frame_ms=_median(self._frame_ms),
                corruption_ms=_median(self._corrupt_ms),
                frame=self._frame,
                size=self._size,
                classes=self._classes,
                top1=self._answer[2][0] if self._answer else None,
                classified=self._answer[0] if self._answer else None,
                error=self._error,
            )

    def wait_for_classifier(self, timeout: float | None = None) -> None:
        """Wait (up to ``timeout`` seconds) for the classifier run the frames are not
        waiting for, if one is going; the next frame shows its answer."""
        with self._lock:
            pending = self._pending
        if pending is not None:
            wait([pending.future], timeout)

    def reset_counters(self) -> None:
        """Start the counters afresh (a new stream on the same page)."""
        with self._lock:
            self._received = self._processed = self._dropped = 0
            self._done_at.clear()
            self._arrived_at.clear()
            self._arrived_n.clear()
            self._det_ms.clear()
            self._cls_ms.clear()
            self._frame_ms.clear()
            self._corrupt_ms.clear()
            self._classes, self._answer, self._error = (), None, None
            self._frame = self._size = self._pending = None
