"""Live camera frames through the classifier and the detector: newest frame only.

The browser sends frames faster than two CPU cores can run a detector. Frames that
arrive while one is being processed are dropped (counted, never queued), so the video
sent back never falls further behind the camera. The page changes the settings while
the stream runs; the frame thread reads the newest settings for every frame.
Pure Python/numpy: the models come in as plain callables, the frames as RGB arrays.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from visioncompare.kernel.display import class_counts, filter_detections
from visioncompare.kernel.draw import annotate, caption_band
from visioncompare.kernel.types import Classification, Detections
from visioncompare.robustness.corruptions import Corruption, corrupt


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


@dataclass(frozen=True)
class LiveReadout:
    """A snapshot of the stream's counters for the page's once-a-second readout.

    Attributes:
        received: frames that reached the server.
        processed: frames that went through the models.
        dropped: frames skipped because a newer one had arrived.
        fps: processed frames per second over the last few seconds.
        detector_ms, classifier_ms: median latency of each model over the last frames
            (None when that model has not run lately).
        frame_ms: median time from a frame's arrival to its annotated copy being ready.
        corruption_ms: median time corrupting a frame took (None: no corruption lately).
        classes: the detector's classes on the newest processed frame, most boxes first.
        top1: the classifier's top-1 (name, probability) on the newest frame.
        error: the last processing error, in words, or None.
    """

    received: int = 0
    processed: int = 0
    dropped: int = 0
    fps: float = 0.0
    detector_ms: float | None = None
    classifier_ms: float | None = None
    frame_ms: float | None = None
    corruption_ms: float | None = None
    classes: tuple[tuple[str, int], ...] = ()
    top1: tuple[str, float] | None = None
    error: str | None = None


def _median(values: deque[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class LiveProcessor:
    """One viewer's stream: settings in, annotated frames and counters out.

    Args:
        detect: image -> Detections (run at the floor confidence; the settings filter).
        classify: image -> Classification.
        window: how many recent frames the latency medians cover.
        clock: seconds (monotonic); injectable for tests.
    """

    detect: Callable[[np.ndarray, float], Detections]
    classify: Callable[[np.ndarray], Classification]
    window: int = 30
    clock: Callable[[], float] = time.perf_counter
    _settings: LiveSettings = field(default_factory=LiveSettings)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _received: int = 0
    _processed: int = 0
    _dropped: int = 0
    _error: str | None = None
    _classes: tuple[tuple[str, int], ...] = ()
    _top1: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        self._done_at: deque[float] = deque(maxlen=self.window)
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
            The newest frame annotated: boxes and labels from the detector, the
            classifier's top-k in a caption band. On a model error the frame comes back
            unannotated and the error is kept for the readout.
        """
        if not frames:
            raise ValueError("frames: expected at least one frame")
        arrived = self.clock()
        with self._lock:
            self._received += len(frames)
            self._dropped += len(frames) - 1
            settings = self._settings
            detect, classify = self.detect, self.classify
        image = frames[-1]
        corrupt_ms = None
        try:
            if settings.corruption is not None:
                start = self.clock()
                image = corrupt(image, settings.corruption)
                corrupt_ms = (self.clock() - start) * 1000.0
            out, det_ms, cls_ms, classes, top1 = self._run(
                image, settings, detect, classify
            )
            error = None
        except Exception as exc:  # a failing model must not kill the stream
            out, det_ms, cls_ms, classes, top1 = image, None, None, (), None
            error = f"{type(exc).__name__}: {exc}"
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
            self._classes, self._top1, self._error = classes, top1, error
        return out

    def _run(self, image: np.ndarray, settings: LiveSettings, detect, classify):
        det_ms = cls_ms = None
        classes: tuple[tuple[str, int], ...] = ()
        top1 = None
        out = image
        if settings.mode.detects:
            start = self.clock()
            detections = detect(image, settings.iou)
            det_ms = (self.clock() - start) * 1000.0
            shown = filter_detections(detections, settings.conf, settings.classes)
            out = annotate(image, shown)
            classes = tuple(class_counts(shown))
        if settings.mode.classifies:
            start = self.clock()
            classification = classify(image)
            cls_ms = (self.clock() - start) * 1000.0
            top = classification.topk(settings.topk)
            top1 = top[0]
            out = caption_band(
                out, "Classifier: " + " · ".join(f"{n} {p:.0%}" for n, p in top)
            )
        return out, det_ms, cls_ms, classes, top1

    def readout(self) -> LiveReadout:
        """The counters now (safe to call from the page thread at any time)."""
        with self._lock:
            done = list(self._done_at)
            now = self.clock()
            recent = [t for t in done if now - t <= 3.0]
            fps = 0.0
            if len(recent) >= 2 and recent[-1] > recent[0]:
                fps = (len(recent) - 1) / (recent[-1] - recent[0])
            return LiveReadout(
                received=self._received,
                processed=self._processed,
                dropped=self._dropped,
                fps=fps,
                detector_ms=_median(self._det_ms),
                classifier_ms=_median(self._cls_ms),
                frame_ms=_median(self._frame_ms),
                corruption_ms=_median(self._corrupt_ms),
                classes=self._classes,
                top1=self._top1,
                error=self._error,
            )

    def reset_counters(self) -> None:
        """Start the counters afresh (a new stream on the same page)."""
        with self._lock:
            self._received = self._processed = self._dropped = 0
            self._done_at.clear()
            self._det_ms.clear()
            self._cls_ms.clear()
            self._frame_ms.clear()
            self._corrupt_ms.clear()
            self._classes, self._top1, self._error = (), None, None
