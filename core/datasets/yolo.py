"""YOLO txt labels with a ``data.yaml`` -> Dataset."""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image

from core.datasets.types import Dataset, DatasetError, Sample, make_gt

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def _names(data: dict, where: str) -> tuple[str, ...]:
    names = data.get("names")
    if isinstance(names, dict):
        try:
            keys = sorted(int(k) for k in names)
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"{where}: 'names' keys should be class indices"
            ) from exc
        if keys != list(range(len(keys))):
            raise DatasetError(f"{where}: 'names' should be indexed 0..{len(keys) - 1}")
        return tuple(str(names[k] if k in names else names[str(k)]) for k in keys)
    if isinstance(names, list) and names:
        return tuple(str(n) for n in names)
    raise DatasetError(
        f"{where}: missing field 'names' (a list or an index -> name map)"
    )


def _label_path(image: Path) -> Path:
    # Ultralytics' rule: the last 'images' folder in the path becomes 'labels'.
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def load_yolo(
    data_yaml: str | Path, split: str = "val", name: str | None = None
) -> Dataset:
    """Read a YOLO dataset: ``data.yaml`` (``path``, ``val``/``train``, ``names``) and one
    ``labels/*.txt`` per image with ``class cx cy w h`` normalised to [0, 1].

    Raises:
        DatasetError: unreadable YAML, a missing field, or a label line that is not five
            numbers or names an unknown class (with file and line number).
    """
    data_yaml = Path(data_yaml)
    where = str(data_yaml)
    try:
        data = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{where}: cannot read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DatasetError(f"{where}: malformed YAML{at}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a mapping with 'names' and '{split}'")
    class_names = _names(data, where)
    base = Path(data.get("path") or data_yaml.parent)
    if not base.is_absolute():
        base = (data_yaml.parent / base).resolve()
    entry = data.get(split)
    if not isinstance(entry, str):
        raise DatasetError(
            f"{where}: missing field '{split}' (a folder or a .txt list)"
        )
    target = base / entry
    if target.is_dir():
        images = sorted(
            p for p in target.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )
    elif target.is_file():
        images = [
            (base / line.strip()).resolve()
            for line in target.read_text().splitlines()
            if line.strip()
        ]
    else:
        raise DatasetError(f"{where}: '{split}: {entry}' does not exist under {base}")

    samples = []
    for image_id, image in enumerate(images):
        try:
            with Image.open(image) as im:
                width, height = im.size
        except OSError as exc:
            raise DatasetError(f"{image}: cannot read the image ({exc})") from exc
        label_file = _label_path(image)
        boxes, ids = [], []
        lines = label_file.read_text().splitlines() if label_file.is_file() else []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fields = line.split()
            try:
                cls, cx, cy, w, h = int(fields[0]), *(float(v) for v in fields[1:5])
                if len(fields) != 5:
                    raise ValueError
            except (ValueError, IndexError) as exc:
                raise DatasetError(
                    f"{label_file}: line {number}: expected 'class cx cy w h', got {line!r}"
                ) from exc
            if not 0 <= cls < len(class_names):
                raise DatasetError(
                    f"{label_file}: line {number}: class {cls} is not in 'names' "
                    f"(0..{len(class_names) - 1})"
                )
            boxes.append(
                [(cx - w / 2) * width, (cy - h / 2) * height,
                 (cx + w / 2) * width, (cy + h / 2) * height]
            )  # fmt: skip
            ids.append(cls)
        samples.append(
            Sample(image_id, image, width, height, make_gt(boxes, ids, class_names))
        )
    return Dataset(
        name or data_yaml.parent.name, "yolo", base, class_names, tuple(samples)
    )
