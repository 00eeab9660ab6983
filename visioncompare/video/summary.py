"""What a video analysis says, as tables and text: timeline, distinct objects, CSVs."""

from __future__ import annotations

import io
from collections import defaultdict

import numpy as np
import pandas as pd

from visioncompare.kernel.display import detections_frame
from visioncompare.video.analysis import FrameResult

_IRREGULAR = {
    "person": "people",
    "mouse": "mice",
    "knife": "knives",
    "sheep": "sheep",
    "skis": "skis",
    "scissors": "scissors",
}


def plural(name: str, count: int) -> str:
    """``"1 car"``, ``"7 cars"``, ``"3 people"``, ``"2 wine glasses"`` (English plural
    of the last word of a class name)."""
    if count == 1:
        return f"1 {name}"
    head, _, last = name.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{count} {head + ' ' if head else ''}{word}"


def distinct_objects(frames: list[FrameResult]) -> list[tuple[str, int]]:
    """(class, distinct track ids) pairs, most first (ties by name).

    A track id counts once however many frames it is seen in. A track whose class
    changes between frames counts under each class it was shown as.
    """
    ids: dict[str, set[int]] = defaultdict(set)
    for frame in frames:
        det = frame.detections
        track_ids = det.extra.get("track_id", np.zeros(0, np.int64))
        for name, track_id in zip(det.labels, track_ids):
            ids[name].add(int(track_id))
    return sorted(
        ((name, len(v)) for name, v in ids.items()), key=lambda kv: (-kv[1], kv[0])
    )


def distinct_objects_text(frames: list[FrameResult]) -> str:
    """``"7 cars, 3 people"``, or ``"no objects"``."""
    pairs = distinct_objects(frames)
    return ", ".join(plural(n, c) for n, c in pairs) if pairs else "no objects"


def objects_per_frame(frames: list[FrameResult]) -> pd.DataFrame:
    """Long table: one row per (frame, class) with the boxes of that class in the frame.

    Columns: frame, seconds, class, objects. Classes absent from a frame have a 0 row
    once they have appeared anywhere, so lines in a chart drop to zero instead of
    jumping across the gap.
    """
    classes = sorted({name for f in frames for name in f.detections.labels})
    rows = []
    for frame in frames:
        counts = dict.fromkeys(classes, 0)
        for name in frame.detections.labels:
            counts[name] += 1
        rows.extend((frame.index, frame.seconds, name, n) for name, n in counts.items())
    return pd.DataFrame(rows, columns=["frame", "seconds", "class", "objects"])


def classifier_top1(frames: list[FrameResult]) -> pd.DataFrame:
    """One row per classified frame: frame, seconds, class (top-1), probability."""
    rows = [(f.index, f.seconds, f.topk[0][0], f.topk[0][1]) for f in frames if f.topk]
    return pd.DataFrame(rows, columns=["frame", "seconds", "class", "probability"])


def detections_csv(frames: list[FrameResult]) -> str:
    """Every shown box of every frame: frame, seconds, track_id, class, score, x1..y2."""
    rows = []
    for frame in frames:
        det = frame.detections
        track_ids = det.extra.get("track_id", np.full(len(det), -1))
        for i, name in enumerate(det.labels):
            x1, y1, x2, y2 = (round(float(v), 1) for v in det.xyxy[i])
            rows.append(
                (
                    frame.index,
                    round(frame.seconds, 3),
                    int(track_ids[i]),
                    name,
                    round(float(det.scores[i]), 4),
                    x1,
                    y1,
                    x2,
                    y2,
                )
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "frame",
            "seconds",
            "track_id",
            "class",
            "score",
            "x1",
            "y1",
            "x2",
            "y2",
        ],
    )
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


def classifier_csv(frames: list[FrameResult]) -> str:
    """The classifier's top-k of every classified frame: frame, seconds, rank, class,
    probability."""
    rows = [
        (f.index, round(f.seconds, 3), rank, name, round(p, 5))
        for f in frames
        if f.topk
        for rank, (name, p) in enumerate(f.topk, start=1)
    ]
    table = pd.DataFrame(
        rows, columns=["frame", "seconds", "rank", "class", "probability"]
    )
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


def latency_summary(frames: list[FrameResult]) -> dict[str, float | None]:
    """Median milliseconds per frame of the detector (with tracking) and the classifier."""
    det = [f.detect_ms for f in frames]
    cls = [f.classify_ms for f in frames if f.classify_ms is not None]
    return {
        "detector_ms": float(np.median(det)) if det else None,
        "classifier_ms": float(np.median(cls)) if cls else None,
    }


def frame_table(frame: FrameResult) -> pd.DataFrame:
    """The boxes of one frame, best score first: track id, then the columns of every box
    table (``visioncompare.kernel.display.detections_frame``)."""
    det = frame.detections
    return detections_frame(det, det.extra.get("track_id", np.full(len(det), -1)))


def last_topk(
    frames: list[FrameResult], index: int
) -> tuple[int, tuple[tuple[str, float], ...]] | None:
    """(frame, top-k) of the classified frame at or before ``index``; None if none."""
    for frame in reversed(frames[: index + 1]):
        if frame.topk is not None:
            return frame.index, frame.topk
    return None
