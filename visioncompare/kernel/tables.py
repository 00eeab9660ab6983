"""Tables as the pages show them: row order, column names in words, one number format per
kind of number, and missing values.

Pure pandas. A value that cannot be computed or was not measured (COCO's -1: no ground
truth; a latency not timed yet) is missing (NaN) in the data and reads "n/a" on screen;
its row sorts after the rows that have one. Every page formats numbers through
``number_kind`` and ``DECIMALS``, so a score reads 0.87 and an AP 0.412 everywhere.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

NOT_AVAILABLE = "n/a"

DECIMALS = {
    "score": 2,  # a model's confidence or probability, 0 to 1
    "metric": 3,  # AP, AR, precision, recall, F1, 0 to 1
    "iou": 2,  # intersection over union, 0 to 1
    "points": 2,  # AP in points, 0 to 100, as TIDE prints its dAP
    "percent": 1,  # a figure already in percent (published accuracy, mAP here (%))
    "ms": 1,  # milliseconds
    "amount": 2,  # millions of parameters, billions of operations
    "pixels": 0,  # coordinates, sizes and areas in pixels
    "count": 0,  # boxes, images, objects, steps
}
"""Decimals per kind of number: one format for each kind on every page."""

PER_CLASS_NAMES = {"VOC_AP_11pt": "VOC AP 11-pt", "VOC_AP_all": "VOC AP all-pt"}

HEADER_WORDS = {
    "gt": "objects",
    "iou": "IoU",
    "conf": "confidence",
    "kind": "result",
    "image_id": "image id",
    "gt_index": "object",
    "classifier_AP": "classifier AP",
    "detector_AP": "detector AP",
    "classifier_top": "classifier's top classes",
    "classifier_mass": "classifier probability",
    "detector_score": "detector score",
    "track_id": "track id",
    **PER_CLASS_NAMES,
}
"""Column names of the library's frames that a person reads differently."""

_SNAKE = re.compile(r"[A-Za-z0-9]+(_[A-Za-z0-9]+)+")
_PIXELS = {"x1", "y1", "x2", "y2", "width", "height", "area"}
_METRIC = re.compile(r"^(m?AP|AR|VOC AP|dAP)(\d|\b)|^(precision|recall|F1)\b|\bAP\b")


def header_words(name: str) -> str:
    """A column name as a person reads it: ``"image_id"`` -> ``"image id"``, ``"gt"`` ->
    ``"objects"``, ``"classifier_AP"`` -> ``"classifier AP"``."""
    name = str(name)
    if name in HEADER_WORDS:
        return HEADER_WORDS[name]
    # Only an identifier is snake_case: a title with spaces keeps its underscores.
    return name.replace("_", " ") if _SNAKE.fullmatch(name) else name


def number_kind(column: str) -> str | None:
    """The kind of number a column holds, read from its name (in words), or None.

    ``"(ms)"`` -> ms; ``"(%)"`` -> percent; ``dAP`` (TIDE's) -> points; AP, AR,
    precision, recall, F1 -> metric;
    other names with ``IoU`` -> iou; ``"(M)"``, ``"(G)"``, ``"GFLOPs"`` -> amount; ``x1``
    ... ``area`` and ``"(px"`` -> pixels; ``"score"``, ``"probability"`` -> score.
    """
    name = str(column)
    if "(ms)" in name:
        return "ms"
    if "(%)" in name:
        return "percent"
    if name.startswith("dAP"):
        return "points"
    if _METRIC.search(name):
        return "metric"
    if "IoU" in name:
        return "iou"
    if re.search(r"\((M|G)\)|GFLOPs", name):
        return "amount"
    if name.split(" (")[0] in _PIXELS or "(px" in name:
        return "pixels"
    if re.search(r"score|probability|confidence", name, re.I):
        return "score"
    return None


def format_number(value: float | None, kind: str | None = "metric") -> str:
    """One number as the pages print it: ``DECIMALS[kind]`` places with thousands
    separators for pixels and counts, and "n/a" for None, NaN or COCO's -1."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_AVAILABLE
    if kind in ("score", "metric", "iou") and value < 0:
        return NOT_AVAILABLE  # COCO's -1: no ground truth
    decimals = DECIMALS.get(kind or "", 3 if isinstance(value, float) else 0)
    return f"{value:,.{decimals}f}"


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its column names in words (``header_words``)."""
    return frame.rename(columns=header_words)


def styled(frame: pd.DataFrame, kinds: dict[str, str] | None = None) -> Styler:
    """The frame's numbers printed by kind and every missing value as "n/a"; the data
    stay numeric, so a click on a column header still sorts by value.

    Args:
        frame: the table (column names in words).
        kinds: a kind per column, where its name does not say it (``number_kind``).
    """
    formats = {
        column: (lambda v, k=kind: format_number(_plain(v), k))
        for column, kind in column_kinds(frame, kinds).items()
    }
    return frame.style.format(na_rep=NOT_AVAILABLE).format(formats, na_rep=NOT_AVAILABLE)


def column_kinds(frame: pd.DataFrame, kinds: dict[str, str] | None = None) -> dict[str, str]:
    """The number kind (``DECIMALS``) of each numeric, non-boolean column: ``kinds``
    where given, else the one its name says (``number_kind``), else a count for integers
    and a metric for other numbers."""
    found = {}
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            continue
        kind = (kinds or {}).get(column) or number_kind(column)
        if kind is None:
            kind = "count" if pd.api.types.is_integer_dtype(frame[column]) else "metric"
        found[column] = kind
    return found


def _plain(value):
    """A numpy or pandas scalar as a Python number (None when missing)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def per_class_table(per_class: pd.DataFrame, by: str = "AP50-95") -> pd.DataFrame:
    """The per-class metrics in reading order.

    Classes with ground truth first, best ``by`` first (ties by name); classes without
    ground truth last, by name. COCO's -1 becomes NaN; the VOC columns get short names.

    Args:
        per_class: one row per class with ``class``, ``gt`` and AP columns.
        by: the AP column that orders the rows.
    """
    frame = per_class.replace(-1.0, np.nan)
    has_gt = frame["gt"] > 0
    ordered = pd.concat(
        [
            frame[has_gt].sort_values([by, "class"], ascending=[False, True]),
            frame[~has_gt].sort_values("class"),
        ]
    )
    return ordered.rename(columns=PER_CLASS_NAMES).reset_index(drop=True)


def with_missing_as_na(frame: pd.DataFrame, decimals: int = 3) -> Styler:
    """Floats to ``decimals`` places and missing values as "n/a" (the data stay numeric,
    so a click on a column header still sorts by value)."""
    floats = frame.select_dtypes("float").columns
    return frame.style.format(
        f"{{:.{decimals}f}}", subset=list(floats), na_rep=NOT_AVAILABLE
    )
