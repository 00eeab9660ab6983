"""COCO results files (any tool's detections: Ultralytics, Detectron2, MMDetection) read
the way pycocotools' ``loadRes`` reads them.

Every way a file can fail is one ``ResultsFileError`` that names the file and what is
wrong: not UTF-8, not JSON, nested too deeply, a number too long
(``visioncompare.kernel.json_text``), or an entry whose field is missing, of the wrong
type or out of range (with the entry's index). Types are checked where pycocotools would
fail on them, never coerced: a string image id matches no image there, a string score
cannot be ranked and a box of strings has no area, so each is refused here, named.
"""

from __future__ import annotations

import math
import reprlib
from itertools import chain
from operator import itemgetter
from pathlib import Path

import numpy as np

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.cocoeval import FILE_BOX, FILE_ORDER, FILE_SCORE
from visioncompare.kernel.gc_pause import collection_paused
from visioncompare.kernel.json_text import JSONTextError, parse_json
from visioncompare.kernel.types import Detections

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 2, 6, 4, 40
_SHORT.maxother = 40
_FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Boxes are drawn and matched in float32: a coordinate must fit in one."""


class ResultsFileError(ValueError):
    """A predictions file that cannot be evaluated. The message names the file and, for
    an entry, its index and field."""


def _got(value: object) -> str:
    """``value`` as a message quotes it: its JSON kind, and a short ``repr``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {_SHORT.repr(value)}"
    return _SHORT.repr(value)


def _is_number(value: object) -> bool:
    """A JSON number: an int or a float (a bool is no number, though Python says so)."""
    return type(value) in (int, float)


def _integer_id(entry: dict, name: str, at: str) -> int:
    """The entry's ``image_id`` or ``category_id``: an integer, or a float with no
    fraction (pycocotools finds ``397133.0`` as ``397133``).

    Raises:
        ResultsFileError: any other value; a string of digits is named as the problem.
    """
    value = entry[name]
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    hint = ""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        hint = " (a number in quotes: ids match as numbers, write it without them)"
    raise ResultsFileError(
        f"{at}: field '{name}' should be an integer id, got {_got(value)}{hint}"
    )


def _finite(value: object) -> float | None:
    """A JSON number as a finite float (None: anything else)."""
    if not _is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _box(entry: dict, at: str) -> tuple[float, float, float, float]:
    """The entry's ``bbox`` ``[x, y, w, h]`` as four finite numbers.

    Raises:
        ResultsFileError: not a list of four, a value that is not a number (a string,
            null, a list), or a number that is not finite or too large for a box.
    """
    bbox = entry["bbox"]
    if not (isinstance(bbox, list) and len(bbox) == 4):
        raise ResultsFileError(
            f"{at}: field 'bbox' should be [x, y, w, h], got {_got(bbox)}"
        )
    odd = [v for v in bbox if not _is_number(v)]
    if odd:
        raise ResultsFileError(
            f"{at}: 'bbox' should be four numbers, got {_got(odd[0])} in {_got(bbox)}"
        )
    numbers = [_finite(v) for v in bbox]
    if None in numbers:
        raise ResultsFileError(f"{at}: 'bbox' needs finite numbers, got {_got(bbox)}")
    x, y, w, h = numbers
    if max(abs(x), abs(y), abs(x + w), abs(y + h)) > _FLOAT32_MAX:
        raise ResultsFileError(
            f"{at}: 'bbox' {_got(bbox)} reaches beyond any image (numbers too large)"
        )
    return x, y, w, h


def _score(entry: dict, at: str) -> float:
    """The entry's ``score``: a finite number.

    Raises:
        ResultsFileError: a string, null, a bool or a list; NaN, infinite, or beyond a
            float32.
    """
    value = entry["score"]
    if not _is_number(value):
        raise ResultsFileError(f"{at}: 'score' should be a number, got {_got(value)}")
    score = _finite(value)
    if score is None:
        shown = value if isinstance(value, float) else "too large"
        raise ResultsFileError(
            f"{at}: 'score' is {shown}; every detection needs a finite confidence to "
            "be ranked"
        )
    if abs(score) > _FLOAT32_MAX:
        raise ResultsFileError(
            f"{at}: 'score' {score:g} is too large for a confidence (a 32-bit float)"
        )
    return score


def _read_entries(path: str) -> list:
    """The file's list of entries.

    Raises:
        ResultsFileError: unreadable, not UTF-8 or not JSON, or not a list.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        entries = parse_json(data)
    except JSONTextError as exc:
        raise ResultsFileError(f"{path}: {exc}") from exc
    if not isinstance(entries, list):
        raise ResultsFileError(
            f"{path}: expected a list of detections (a COCO results file), got a JSON "
            f"{'object' if isinstance(entries, dict) else type(entries).__name__}"
        )
    return entries


@collection_paused()  # every entry is a dict: no cycles to look for
def load_coco_results(
    path: str, dataset: Dataset
) -> tuple[dict[int, Detections], dict[str, int]]:
    """A COCO results file made by any tool -> detections per image, read the way
    pycocotools' ``loadRes`` reads it.

    Each entry needs ``image_id``, ``bbox`` ``[x, y, w, h]``, ``score`` and either
    ``category_id`` (the dataset's ids) or ``category_name``. Ids are integers (a float
    without a fraction is taken, as pycocotools takes it), the box and score numbers;
    other fields are ignored. Entries of a category the dataset does not annotate are
    left out and counted (pycocotools never evaluates them). The file's own float64
    ``[x, y, w, h]`` travel with the boxes
    (``visioncompare.evaluation.metrics.cocoeval.FILE_BOX``), so COCO metrics see
    exactly the file's numbers; a box with a negative width or height is kept as
    pycocotools keeps it (it overlaps nothing; its area ``w * h`` decides its area
    range) and drawn as a point. Each entry's position in the file travels too
    (``FILE_ORDER``: the VOC devkit ranks tied scores in results-file order).

    A file whose every entry is plainly valid (integer ids, four numbers, a score) is
    checked and read column by column in numpy; any other is read entry by entry, which
    finds and names the first entry that does not fit. Both give the same detections.

    Returns:
        (detections per image, left-out entries counted by reason).

    Raises:
        ResultsFileError (a ``ValueError``): the file cannot be read, is not UTF-8, not
            JSON, nested too deeply or holds a number too long, is not a list, or an
            entry does not fit the dataset (an unknown image, a field missing or of the
            wrong type, a NaN or infinite score or box), naming the entry's index and
            field.
    """
    entries = _read_entries(path)
    columns = _columns(entries)
    read = None if columns is None else _read_columns(*columns, dataset)
    return read if read is not None else _read_each(entries, path, dataset)


def _read_each(
    entries: list, path: str, dataset: Dataset
) -> tuple[dict[int, Detections], dict[str, int]]:
    """``load_coco_results``, checking one entry after another: the first that does not
    fit raises, named."""
    by_id = {cid: i for i, cid in enumerate(dataset.category_ids)}
    by_name = {n: i for i, n in enumerate(dataset.class_names)}
    image_ids = {s.image_id for s in dataset.samples}
    rows: dict[int, list[tuple[float, float, float, float, float, int, int]]] = {
        i: [] for i in image_ids
    }
    skipped: dict[str, int] = {}
    for n, entry in enumerate(entries):
        at = f"{path}: entry {n}"
        if not isinstance(entry, dict):
            raise ResultsFileError(f"{at}: expected an object, got {_got(entry)}")
        for name in ("image_id", "bbox", "score"):
            if name not in entry:
                raise ResultsFileError(f"{at}: missing field '{name}'")
        for name in ("image_id", "category_id", "category_name"):
            if isinstance(entry.get(name), (list, dict)):
                raise ResultsFileError(
                    f"{at}: field '{name}' should be a number or a name, got "
                    f"{_got(entry[name])}"
                )
        image_id = _integer_id(entry, "image_id", at)
        if image_id not in image_ids:
            raise ResultsFileError(
                f"{at}: image_id {image_id} is not in {dataset.name}"
            )
        # Every entry's box and score, kept or not: pycocotools computes every box's area.
        box, score = _box(entry, at), _score(entry, at)
        if "category_id" in entry:
            category = _integer_id(entry, "category_id", at)
            if category not in by_id:
                reason = f"category_id {category} (not in {dataset.name})"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            cls = by_id[category]
        elif "category_name" in entry:
            name = entry["category_name"]
            if not isinstance(name, str):
                raise ResultsFileError(
                    f"{at}: field 'category_name' should be a class name, got "
                    f"{_got(name)}"
                )
            if name not in by_name:
                reason = f"{name} (not in {dataset.name})"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            cls = by_name[name]
        else:
            raise ResultsFileError(f"{at}: needs a 'category_id' or 'category_name'")
        rows[image_id].append((*box, score, cls, n))
    return {
        image_id: _detections(items, dataset.class_names)
        for image_id, items in rows.items()
    }, skipped


_KEYS = ("image_id", "category_id", "bbox", "score")
_NUMBER = {int, float}


def _columns(
    entries: list,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The entries' image ids, category ids, ``[x, y, w, h]`` and scores as arrays when
    every entry is plainly valid: an object with integer ids, four finite numbers within
    a float32's range, a finite score, and no ``category_name``. None: some entry is
    not (or the file is empty), and ``_read_each`` checks them one by one, raising what
    it raises; where this returns arrays, that loop would have read the same numbers."""
    if not entries or set(map(type, entries)) != {dict}:
        return None
    try:
        image_ids, category_ids, boxes, scores = (
            list(map(itemgetter(key), entries)) for key in _KEYS
        )
    except KeyError:
        return None
    if sum(map(len, entries)) != 4 * len(entries) and any(
        "category_name" in entry for entry in entries
    ):
        return None
    if not (
        set(map(type, image_ids)) == set(map(type, category_ids)) == {int}
        and set(map(type, boxes)) == {list}
        and set(map(len, boxes)) == {4}
        and set(map(type, chain.from_iterable(boxes))) <= _NUMBER
        and set(map(type, scores)) <= _NUMBER
    ):
        return None
    n = len(entries)
    try:
        ids = np.fromiter(image_ids, np.int64, n)
        categories = np.fromiter(category_ids, np.int64, n)
        numbers = np.fromiter(chain.from_iterable(boxes), np.float64, 4 * n)
        score = np.fromiter(scores, np.float64, n)
    except OverflowError:  # an id beyond 64 bits, a number beyond a float64
        return None
    xywh = numbers.reshape(n, 4)
    x, y, w, h = xywh.T
    with np.errstate(over="ignore", invalid="ignore"):
        reach = np.abs(np.stack([x, y, x + w, y + h]))
    if not (
        np.isfinite(xywh).all()
        and np.isfinite(score).all()
        and (reach <= _FLOAT32_MAX).all()
        and (np.abs(score) <= _FLOAT32_MAX).all()
    ):
        return None
    return ids, categories, xywh, score


def _read_columns(
    ids: np.ndarray,
    categories: np.ndarray,
    xywh: np.ndarray,
    score: np.ndarray,
    dataset: Dataset,
) -> tuple[dict[int, Detections], dict[str, int]] | None:
    """``_read_each``'s result from ``_columns``' arrays, at numpy speed (None: an image
    id is not in the dataset, for ``_read_each`` to name)."""
    image_ids = {s.image_id for s in dataset.samples}
    known = np.array(sorted(image_ids), np.int64)
    at = np.searchsorted(known, ids).clip(max=max(len(known) - 1, 0))
    if not len(known) or not (known[at] == ids).all():
        return None
    dataset_ids = np.array(dataset.category_ids, np.int64)
    if not len(dataset_ids) or len(set(dataset.category_ids)) != len(dataset_ids):
        return None  # ids of two classes: the entry loop's mapping decides
    by_id = np.argsort(dataset_ids, kind="stable")
    found = np.searchsorted(dataset_ids[by_id], categories).clip(max=len(by_id) - 1)
    kept = dataset_ids[by_id][found] == categories
    skipped: dict[str, int] = {}
    unknown, first, counts = np.unique(
        categories[~kept], return_index=True, return_counts=True
    )
    for k in np.argsort(first):  # counted in the order the file first names them
        reason = f"category_id {int(unknown[k])} (not in {dataset.name})"
        skipped[reason] = int(counts[k])
    entries = np.flatnonzero(kept)
    order = entries[np.argsort(at[entries], kind="stable")]  # by image, file order
    starts = np.searchsorted(at[order], np.arange(len(known) + 1))
    x, y, w, h = (np.ascontiguousarray(v) for v in xywh[order].T)
    flipped = (w < 0) | (h < 0)
    xyxy = np.stack(
        [x, y, np.where(flipped, x, x + w), np.where(flipped, y, y + h)], axis=1
    ).astype(np.float32)
    score, classes = score[order], by_id[found[order]].astype(np.int64)
    score32, names = score.astype(np.float32), dataset.class_names
    position = {int(image_id): k for k, image_id in enumerate(known)}
    starts = starts.tolist()
    detections = {}
    for image_id in image_ids:  # the entry loop's order
        k = position[image_id]
        part = slice(starts[k], starts[k + 1])
        detections[image_id] = Detections(
            xyxy[part], score32[part], classes[part], names,
            {
                **dict(zip(FILE_BOX, (x[part], y[part], w[part], h[part]))),
                FILE_SCORE: score[part],
                FILE_ORDER: order[part],
            },
        )  # fmt: skip
    return detections, skipped


def _detections(
    items: list[tuple[float, float, float, float, float, int, int]],
    class_names: tuple[str, ...],
) -> Detections:
    """One image's entries as ``Detections``, the file's float64 numbers and each
    entry's position in the file kept beside."""
    a = np.array(items, np.float64).reshape(-1, 7)
    x, y, w, h = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    flipped = (w < 0) | (h < 0)
    x2 = np.where(flipped, x, x + w)
    y2 = np.where(flipped, y, y + h)
    return Detections(
        np.stack([x, y, x2, y2], axis=1).astype(np.float32),
        a[:, 4].astype(np.float32),
        a[:, 5].astype(np.int64),
        class_names,
        {
            **dict(zip(FILE_BOX, (x, y, w, h))),
            FILE_SCORE: a[:, 4],
            FILE_ORDER: a[:, 6].astype(np.int64),
        },
    )
