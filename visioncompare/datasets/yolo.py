"""YOLO txt labels with a ``data.yaml`` -> Dataset."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import yaml
from PIL import Image

from visioncompare.datasets.types import (
    Dataset,
    DatasetError,
    Sample,
    confine_to,
    inside,
    make_gt,
    read_text,
    shown,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def _names(data: dict, where: str) -> tuple[str, ...]:
    names = data.get("names")
    if isinstance(names, dict):
        by_index: dict[int, object] = {}
        for key, value in names.items():
            try:
                index = int(key)
            except (TypeError, ValueError) as exc:
                raise DatasetError(
                    f"{where}: 'names' keys should be class indices, got {_got(str(key))}"
                ) from exc
            if isinstance(key, (bool, float)) or index in by_index:
                raise DatasetError(
                    f"{where}: 'names' key {_got(str(key))} is not valid"
                )
            by_index[index] = value
        if sorted(by_index) != list(range(len(by_index))):
            raise DatasetError(
                f"{where}: 'names' should be indexed 0..{len(by_index) - 1}"
            )
        names = [by_index[i] for i in range(len(by_index))]
    if isinstance(names, list) and names:
        for i, value in enumerate(names):
            # a nested list could be a YAML alias bomb: only plain names are read
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise DatasetError(
                    f"{where}: 'names' entry {i} should be a class name, "
                    f"got {type(value).__name__}"
                )
        first: dict[str, int] = {}
        for i, name in enumerate(str(n) for n in names):
            if name in first:  # detectors are paired with classes by name
                raise DatasetError(
                    f"{where}: 'names' entry {i} {_got(name)} is already used by "
                    f"entry {first[name]}"
                )
            first[name] = i
        return tuple(first)
    raise DatasetError(
        f"{where}: missing field 'names' (a list or an index -> name map)"
    )


def _label_path(image: Path, root: Path) -> Path:
    # Ultralytics' rule: the last 'images' folder in the path becomes 'labels' (here only
    # within the dataset's folder); without one the label file sits beside the image.
    parts = list(image.relative_to(root).parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return root.joinpath(*parts).with_suffix(".txt")


def _folder_or_list(root: Path, base: Path, entry: str, where: str) -> Path:
    """The ``val``/``train`` entry under ``base``, confined to ``root``. Like Ultralytics,
    a leading ``../`` is dropped when the path leads nowhere (Roboflow exports write
    ``../valid/images`` beside ``data.yaml``); here, when it leads out of the dataset."""
    confine = confine_to(root, base)
    try:
        return confine(entry, where)
    except DatasetError:
        if entry.startswith("../"):
            try:
                shorter = confine(entry[3:], where)
            except DatasetError:
                shorter = None
            if shorter is not None and shorter.exists():
                return shorter
        raise


def _image_size(image: Path, root: Path) -> tuple[int, int]:
    try:
        with Image.open(image) as im:
            return im.size
    except FileNotFoundError as exc:
        raise DatasetError(f"{shown(image, root)}: image not found") from exc
    except Exception as exc:  # any decoder failure on a hostile file is this dataset's
        raise DatasetError(
            f"{shown(image, root)}: cannot read the image (not an image, or damaged)"
        ) from exc


def _boxes(
    label_file: Path,
    root: Path,
    confine: Callable[[str | Path, str], Path],
    size: tuple[int, int],
    classes: int,
) -> tuple[list[list[float]], list[int]]:
    """The label file's boxes (absolute xyxy) and class indices; no file, no boxes.
    ``confine`` keeps the file inside the dataset's folder ``root``."""
    if not label_file.is_file():
        return [], []
    where = label_file.relative_to(root).as_posix()
    confine(where, where)
    width, height = size
    boxes, ids = [], []
    for number, line in enumerate(read_text(label_file, root).splitlines(), start=1):
        if not line.strip():
            continue
        at = f"{where}: line {number}"
        fields = line.split()
        try:
            cls, cx, cy, w, h = int(fields[0]), *(float(v) for v in fields[1:5])
            if len(fields) != 5:
                raise ValueError
        except (ValueError, IndexError) as exc:
            raise DatasetError(
                f"{at}: expected 'class cx cy w h', got {_got(line)}"
            ) from exc
        if not 0 <= cls < classes:
            raise DatasetError(
                f"{at}: class {cls} is not in 'names' (0..{classes - 1})"
            )
        for field, text in zip(("cx", "cy", "w", "h"), fields[1:]):
            if not math.isfinite(float(text)):
                raise DatasetError(
                    f"{at}: '{field}' should be a finite number, got {_got(text)}"
                )
        if w < 0 or h < 0:
            raise DatasetError(f"{at}: width 'w' or height 'h' is negative")
        boxes.append(
            [(cx - w / 2) * width, (cy - h / 2) * height,
             (cx + w / 2) * width, (cy + h / 2) * height]
        )  # fmt: skip
        ids.append(cls)
    return boxes, ids


def _got(value: str) -> str:
    return repr(value if len(value) <= 40 else f"{value[:37]}...")


def load_yolo(
    data_yaml: str | Path, split: str = "val", name: str | None = None
) -> Dataset:
    """Read a YOLO dataset: ``data.yaml`` (``path``, ``val``/``train``, ``names``) and one
    ``labels/*.txt`` per image with ``class cx cy w h`` normalised to [0, 1].

    The dataset's folder is the one holding ``data.yaml``: ``path``, the split's folder or
    ``.txt`` list, every image and every label file must lie inside it.

    Raises:
        DatasetError: unreadable YAML, a missing field, a path leading outside the
            dataset's folder, an unreadable image, or a label line that is not five
            finite numbers, has a negative size or names an unknown class (with file and
            line number); files are named relative to the dataset's folder.
    """
    data_yaml = Path(data_yaml)
    root = data_yaml.parent.resolve()
    where = shown(data_yaml, root)
    try:
        data = yaml.safe_load(read_text(data_yaml, root))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DatasetError(f"{where}: malformed YAML{at}") from exc
    except RecursionError as exc:
        raise DatasetError(f"{where}: nested too deeply to read") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a mapping with 'names' and '{split}'")
    class_names = _names(data, where)
    path = data.get("path") or "."
    if not isinstance(path, str):
        raise DatasetError(
            f"{where}: field 'path' should be a folder, got {type(path).__name__}"
        )
    base = inside(root, path, f"{where}: field 'path'")
    entry = data.get(split)
    if entry is None:
        raise DatasetError(
            f"{where}: missing field '{split}' (a folder or a .txt list)"
        )
    if not isinstance(entry, str):
        raise DatasetError(
            f"{where}: field '{split}' should be a folder or a .txt list, "
            f"got {type(entry).__name__}"
        )
    target = _folder_or_list(root, base, entry, f"{where}: field '{split}'")
    confine = confine_to(root)
    if target.is_dir():
        images = sorted(
            p for p in target.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )
        for image in images:
            relative = image.relative_to(root).as_posix()
            confine(relative, relative)
    elif target.is_file():
        listed = shown(target, root)
        listed_image = confine_to(root, base)
        images = [
            listed_image(line.strip(), f"{listed}: line {number}")
            for number, line in enumerate(read_text(target, root).splitlines(), 1)
            if line.strip()
        ]
    else:
        raise DatasetError(f"{where}: '{split}: {entry}' does not exist in the dataset")

    samples = []
    for image_id, image in enumerate(images):
        size = _image_size(image, root)
        label_file = _label_path(image, root)
        boxes, ids = _boxes(label_file, root, confine, size, len(class_names))
        samples.append(Sample(image_id, image, *size, make_gt(boxes, ids, class_names)))
    return Dataset(
        name or data_yaml.parent.name, "yolo", base, class_names, tuple(samples)
    )
