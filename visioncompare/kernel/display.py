"""What the Compare page shows, as plain data: filtered boxes, tables, counts, latency text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection

import numpy as np
import pandas as pd

from visioncompare.kernel.types import Detections, Timing

DETECT_CONF_FLOOR = 0.01
"""The detector runs once at this confidence; the page's slider filters above it.

Filtering after NMS gives the same boxes as running NMS at the higher threshold: a box is
only suppressed by a box with a higher score, which passes any threshold the first passes.
"""


def filter_detections(
    detections: Detections,
    min_score: float,
    classes: Collection[str] | None = None,
) -> Detections:
    """Boxes with ``score >= min_score`` whose class is in ``classes`` (None: all)."""
    keep = detections.scores >= min_score
    if classes is not None:
        wanted = np.array(
            [name in set(classes) for name in detections.labels], dtype=bool
        )
        keep &= wanted.reshape(keep.shape)
    return detections[keep]


BOX_COLUMNS = (
    "class", "score", "x1", "y1", "x2", "y2", "width (px)", "height (px)", "area (px²)"
)  # fmt: skip
"""The columns of every table of boxes: corners in pixels (x1, y1 top left, x2, y2
bottom right), then the box's size and area."""


def detections_frame(
    detections: Detections, track_ids: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per box, best score first: class, score, corners, size and area (px).

    Args:
        detections: the boxes (absolute-pixel xyxy).
        track_ids: (N,) a tracker's id per box; given, a first "track id" column.
    """
    order = np.argsort(-detections.scores, kind="stable")
    xyxy = detections.xyxy[order].astype(np.float64)
    labels = detections.labels
    frame = pd.DataFrame(
        {
            "class": [labels[i] for i in order],
            "score": detections.scores[order].astype(np.float64),
            "x1": xyxy[:, 0],
            "y1": xyxy[:, 1],
            "x2": xyxy[:, 2],
            "y2": xyxy[:, 3],
            "width (px)": xyxy[:, 2] - xyxy[:, 0],
            "height (px)": xyxy[:, 3] - xyxy[:, 1],
            "area (px²)": detections.area[order].astype(np.float64),
        },
        columns=list(BOX_COLUMNS),
    )
    if track_ids is not None:
        frame.insert(0, "track id", np.asarray(track_ids, np.int64)[order])
    return frame


def class_counts(detections: Detections) -> list[tuple[str, int]]:
    """(class, boxes) pairs, most frequent first (ties by name)."""
    counts = Counter(detections.labels)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def count_noun(n: int, singular: str, plural: str | None = None) -> str:
    """``"1 object"``, ``"3 objects"``, ``"0 boxes"`` (plural defaults to singular + s)."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def no_boxes_text(class_filter: Collection[str] | None) -> str:
    """What an empty detection panel says: it names the class filter only when one is set."""
    if class_filter:
        return "No objects of the chosen classes above the confidence threshold."
    return "No objects above the confidence threshold."


def table_height(rows: int, max_rows: int = 6, row_px: int = 35) -> int:
    """Pixel height of a Streamlit table showing its header and up to ``max_rows`` rows
    (a fixed height pads a short table with empty rows)."""
    return (min(max(rows, 1), max_rows) + 1) * row_px + 3


def ms_text(value: float | None) -> str:
    """``"36 ms"``, or ``"–"`` for a latency not measured."""
    return f"{value:.0f} ms" if value is not None else "–"


def timing_text(timing: Timing, device: str) -> str:
    """``"pre 4.1 ms · inference 18.6 ms · post 1.9 ms · total 24.6 ms on cpu"``."""
    return (
        f"preprocess {timing.preprocess_ms:.1f} ms · inference {timing.inference_ms:.1f} ms"
        f" · postprocess {timing.postprocess_ms:.1f} ms · **total {timing.total_ms:.1f} ms**"
        f" on `{device}`"
    )


MAX_VOCABULARY = 80
"""Most classes an open-vocabulary detector is asked for at once."""


def parse_vocabulary(text: str, limit: int = MAX_VOCABULARY) -> tuple[str, ...]:
    """The classes a user typed for an open-vocabulary detector.

    Commas, semicolons and new lines separate classes; spaces inside a class stay ("red
    car"). Empty entries go; a repeat (ignoring case) keeps its first spelling.

    Args:
        text: what the user typed, e.g. "traffic cone, red car, dog".
        limit: the most classes kept (the first ones).

    Returns:
        The classes in the order typed; empty when nothing was typed.
    """
    seen: set[str] = set()
    classes: list[str] = []
    for part in re.split(r"[,;\n]", text):
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            classes.append(name)
    return tuple(classes[:limit])
