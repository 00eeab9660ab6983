"""KITTI object detection labels (``label_2/*.txt`` with ``image_2/``) -> Dataset.

Each line of a label file is one object: ``type truncated occluded alpha left top right
bottom h w l x y z ry`` (a 16th number, ``score``, appears in result files and is
ignored). Only the 2D box (``left top right bottom``, 0-based pixels) is scored here; the
3D fields are checked to be numbers and otherwise left alone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from visioncompare.datasets.image_header import IMAGE_SUFFIXES, image_size

from .types import Dataset, DatasetError, Sample, inside, make_gt, shown

KITTI_CLASSES = (
    "Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Cyclist", "Tram", "Misc",
)  # fmt: skip
"""The object types of KITTI's label files, in the devkit's order (``DontCare`` aside)."""

KITTI_TO_COCO = {
    "Car": "car",
    "Pedestrian": "person",
    "Person_sitting": "person",
    "Truck": "truck",
    "Tram": "train",  # COCO's "train" includes trams and streetcars
}
"""KITTI types a COCO class means the same thing as. Left out on purpose:

- ``Cyclist``: the box covers the rider *and* the bicycle, one box COCO would draw as two
  (a person and a bicycle); no COCO class means it, so a COCO detector cannot score on it.
- ``Van``: COCO annotators label vans as car or as truck, case by case.
- ``Misc``: anything else (trailers, segways, ...).
"""

DIFFICULTIES = ("easy", "moderate", "hard")
"""KITTI's official difficulty levels; ``extra["difficulty"]`` holds an index into this
tuple, or -1 for a box in none of them (and for ``DontCare`` regions)."""

MIN_HEIGHT = (40.0, 25.0, 25.0)
MAX_OCCLUSION = (0, 1, 2)
MAX_TRUNCATION = (0.15, 0.30, 0.50)

FIELDS = (
    "type", "truncated", "occluded", "alpha", "left", "top", "right", "bottom",
    "h", "w", "l", "x", "y", "z", "ry",
)  # fmt: skip


def difficulty(height: float, occluded: int, truncated: float) -> int:
    """The easiest official level a box belongs to (0 easy, 1 moderate, 2 hard), or -1.

    A box is in a level when it is taller than ``MIN_HEIGHT`` pixels (the devkit ignores
    ``height <= 40`` for easy, ``<= 25`` otherwise), at most ``MAX_OCCLUSION`` occluded
    (0 fully visible, 1 partly, 2 largely, 3 unknown) and at most ``MAX_TRUNCATION``
    truncated. The levels nest: an easy box is also in moderate and hard.
    """
    for level in range(3):
        if (
            height > MIN_HEIGHT[level]
            and occluded <= MAX_OCCLUSION[level]
            and truncated <= MAX_TRUNCATION[level]
        ):
            return level
    return -1


def _parse_line(line: str, where: str) -> tuple[str, list[float], float, int]:
    """(type, xyxy box, truncated, occluded) of one label line."""
    fields = line.split()
    if len(fields) not in (15, 16):
        raise DatasetError(
            f"{where}: expected 15 fields ({' '.join(FIELDS)}) or 16 with a score, "
            f"got {len(fields)}"
        )
    numbers = []
    for name, text in zip((*FIELDS[1:], "score"), fields[1:]):
        try:
            value = float(text)
        except ValueError:
            raise DatasetError(
                f"{where}: field '{name}' should be a number, got {text!r}"
            ) from None
        if not np.isfinite(value):
            raise DatasetError(f"{where}: field '{name}' is {text}")
        numbers.append(value)
    truncated, occluded = numbers[0], numbers[1]
    if occluded != int(occluded):
        raise DatasetError(
            f"{where}: field 'occluded' should be an integer (0..3), got {fields[2]!r}"
        )
    left, top, right, bottom = numbers[3:7]
    if right < left or bottom < top:
        raise DatasetError(
            f"{where}: fields 'right'/'bottom' ({right:g}, {bottom:g}) are smaller than "
            f"'left'/'top' ({left:g}, {top:g})"
        )
    return fields[0], [left, top, right, bottom], truncated, int(occluded)


def kitti_root(path: Path) -> Path | None:
    """The folder holding ``label_2/`` and ``image_2/``: ``path`` itself, or its
    ``training/`` folder (the layout of KITTI's own archive); None when neither is."""
    for root in (path, path / "training"):
        if (root / "label_2").is_dir() and (root / "image_2").is_dir():
            return root
    return None


def load_kitti(
    root: str | Path, rename: dict[str, str] | None = None, name: str | None = None
) -> Dataset:
    """Read a KITTI object-detection folder.

    Every ``label_2/<id>.txt`` is one image, ``image_2/<id>.png`` (or another image
    suffix); a numeric ``<id>`` is the image id. ``DontCare`` regions are ignore regions
    (``iscrowd`` 1, copied once per class, since KITTI ignores detections of every class
    there while COCO's crowd regions are per class). Each box keeps its official
    difficulty in ``gt.extra["difficulty"]`` (see ``difficulty``); ``at_difficulty``
    evaluates one level.

    Args:
        root: the folder with ``label_2/`` and ``image_2/`` (or its parent holding
            ``training/``).
        rename: class renaming (``KITTI_TO_COCO`` to score COCO detectors by COCO names).
        name: the dataset name (default: the folder's name).

    Raises:
        DatasetError: a missing folder or image, or a label line with a wrong number of
            fields, a non-number in a named field, or an inverted box (file and line).
    """
    given = Path(root)
    base = kitti_root(given)
    if base is None:
        raise DatasetError(
            f"{given.name}: not a KITTI folder (no label_2/ and image_2/ inside)"
        )
    rename = dict(rename or {})
    labels = sorted((base / "label_2").glob("*.txt"))
    if not labels:
        raise DatasetError(f"{shown(base / 'label_2', given)}: no label files (*.txt)")
    images = {
        p.stem: p
        for p in sorted((base / "image_2").iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES
    }
    numeric = all(p.stem.isdigit() for p in labels)
    parsed, types = [], set()
    for index, label_file in enumerate(labels):
        # as the folder shows it, unresolved: a link's target is never named
        where = label_file.relative_to(given).as_posix()
        if label_file.stem not in images:
            raise DatasetError(
                f"{where}: no image {label_file.stem}.png (or .jpg) in "
                f"{shown(base / 'image_2', given)}"
            )
        image = inside(given, images[label_file.stem].relative_to(given), where)
        width, height = image_size(image, given, where)
        try:
            text = inside(given, label_file.relative_to(given), where).read_text(
                "utf-8"
            )
            lines = text.splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{where}: cannot be read as text") from exc
        objects, ignore = [], []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            kind, box, truncated, occluded = _parse_line(
                line, f"{where}: line {number}"
            )
            if kind == "DontCare":
                ignore.append(box)
                continue
            level = difficulty(box[3] - box[1], occluded, truncated)
            types.add(kind)
            objects.append((rename.get(kind, kind), box, level))
        image_id = int(label_file.stem) if numeric else index
        parsed.append((image_id, image, width, height, objects, ignore))

    found = {label for *_, objects, _ in parsed for label, _, _ in objects}
    order = [rename.get(c, c) for c in KITTI_CLASSES]
    order += sorted(found - set(order))
    class_names = tuple(dict.fromkeys(c for c in order if c in found))
    index_of = {c: i for i, c in enumerate(class_names)}
    samples = []
    for image_id, image, width, height, objects, ignore in parsed:
        regions = [(c, box) for box in ignore for c in range(len(class_names))]
        gt = make_gt(
            [box for _, box, _ in objects] + [box for _, box in regions],
            [index_of[label] for label, _, _ in objects] + [c for c, _ in regions],
            class_names,
            iscrowd=[0] * len(objects) + [1] * len(regions),
        )
        levels = [level for *_, level in objects] + [-1] * len(regions)
        gt = replace(gt, extra={**gt.extra, "difficulty": np.asarray(levels, np.int64)})
        samples.append(Sample(image_id, image, width, height, gt))
    unnamed = [c for c in class_names if c not in set(rename.values())]
    notes = (
        "KITTI object detection; DontCare regions are ignore regions for every class.",
    )
    if rename and unnamed:
        notes += (f"COCO has no class for: {', '.join(unnamed)} (see KITTI_TO_COCO).",)
    return Dataset(
        name or given.name,
        "kitti",
        given,
        class_names,
        tuple(samples),
        renamed={k: v for k, v in rename.items() if k in types},
        notes=notes,
    )


def has_difficulty(dataset: Dataset) -> bool:
    """Whether the dataset's boxes carry KITTI's difficulty (read by ``load_kitti``)."""
    return bool(dataset.samples) and all(
        "difficulty" in s.gt.extra for s in dataset.samples
    )


def difficulty_counts(dataset: Dataset) -> dict[str, int]:
    """How many boxes each official level scores (levels nest: ``hard`` counts the
    easy and moderate boxes too), and ``every``: all boxes but the ignore regions."""
    with_levels = [s.gt.extra for s in dataset.samples if "difficulty" in s.gt.extra]
    levels = np.concatenate([e["difficulty"] for e in with_levels] or [np.zeros(0)])
    scored = np.concatenate([e["iscrowd"] == 0 for e in with_levels] or [np.zeros(0)])
    counts = {"every": int(np.sum(scored))}
    for n, level in enumerate(DIFFICULTIES):
        counts[level] = int(np.sum((levels >= 0) & (levels <= n)))
    return counts


def at_difficulty(dataset: Dataset, level: str) -> Dataset:
    """The KITTI dataset evaluated at one official level, as the devkit does: the boxes
    outside ``level`` (harder, or in no level) become ignore regions of their class, so a
    detection on them is neither a true nor a false positive, and they are not counted
    as missed. Levels nest (``moderate`` keeps the easy boxes).

    The dataset keeps its name, images and boxes, so stored predictions are reused at
    every level; a note says which level is scored.

    Differences from the devkit, on purpose: matching is COCO's (an ignore region takes
    any number of detections, by intersection over the detection's area), and the
    devkit's neighbouring classes (a Van detected as a Car) and its minimum detection
    height are not applied.

    Raises:
        ValueError: ``level`` is not one of ``DIFFICULTIES``, or the dataset has no
            difficulty (not read by ``load_kitti``).
    """
    if level not in DIFFICULTIES:
        raise ValueError(
            f"difficulty {level!r}: expected one of {', '.join(DIFFICULTIES)}"
        )
    if not has_difficulty(dataset):
        raise ValueError(
            f"{dataset.name} is not a KITTI dataset: its boxes have no difficulty level"
        )
    limit = DIFFICULTIES.index(level)
    samples, ignored = [], 0
    for sample in dataset.samples:
        extra = sample.gt.extra
        outside = (extra["difficulty"] < 0) | (extra["difficulty"] > limit)
        ignored += int(np.sum(outside & (extra["iscrowd"] == 0)))
        crowd = np.where(outside, 1, extra["iscrowd"]).astype(np.int64)
        samples.append(
            replace(sample, gt=replace(sample.gt, extra={**extra, "iscrowd": crowd}))
        )
    note = (
        f"Scored at KITTI difficulty {level}: {ignored} boxes outside it (harder, or "
        f"too small, occluded or truncated for any level) are ignore regions, as in "
        f"KITTI's devkit."
    )
    return replace(dataset, samples=tuple(samples), notes=(*dataset.notes, note),
                   scored_as=level)  # fmt: skip
