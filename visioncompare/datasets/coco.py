"""COCO instances JSON -> Dataset (iscrowd and area kept, categories by name)."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from visioncompare.kernel.json_text import JSONTextError, parse_json

from .types import Dataset, DatasetError, Sample, confine_to, make_gt, read_text, shown


def _require(obj: dict, key: str, where: str, kind: type | tuple[type, ...]) -> object:
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: should be an object, got {type(obj).__name__}")
    if key not in obj:
        raise DatasetError(f"{where}: missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DatasetError(
            f"{where}: field '{key}' should be {getattr(kind, '__name__', kind)}, "
            f"got {type(value).__name__}"
        )
    return value


def _finite(value: object) -> float | None:
    """``value`` as a finite float, or None (a string, a bool, NaN, infinity, 1e400)."""
    kind = type(value)  # exact types: JSON gives int and float, and a bool is no number
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def _got(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _unique(items: list, where: str, kind: str, field: str, type_: type) -> list:
    """Each item's ``field`` (of ``type_``), refusing a value used twice: two images or
    categories of one id, or two categories of one name (detectors are paired with
    classes by name: two of one name would split one detector class's ground truth)."""
    values: list = []
    first: dict = {}
    for i, item in enumerate(items):
        value = _require(item, field, f"{where}: {kind}[{i}]", type_)
        if value in first:
            raise DatasetError(
                f"{where}: {kind}[{i}]: field '{field}' {_got(value)} is already used "
                f"by {kind}[{first[value]}]"
            )
        first[value] = i
        values.append(value)
    return values


def _positive_size(img: dict, key: str, at: str) -> int:
    value = _require(img, key, at, int)
    if value <= 0:
        raise DatasetError(f"{at}: field '{key}' should be positive, got {value}")
    return value


def _coco_root(annotation_file: Path, images_dir: Path) -> Path:
    """The dataset's folder: the one holding ``annotations/`` (or the JSON itself) when
    the images folder is inside it, else the images folder."""
    folder = annotation_file.parent
    if folder.name == "annotations":
        folder = folder.parent
    folder, images = folder.resolve(), images_dir.resolve()
    return folder if images == folder or folder in images.parents else images


def load_coco(
    annotation_file: str | Path,
    images_dir: str | Path,
    name: str | None = None,
    root: str | Path | None = None,
) -> Dataset:
    """Read a COCO instances file.

    Boxes ``[x, y, w, h]`` become xyxy, and the file's own float64 ``[x, y, w, h]`` are
    kept beside them (``FILE_BOX``: COCO metrics score those, as pycocotools does, not
    their float32 rounding); ``iscrowd`` and ``area`` are kept as annotated
    (COCO's area-range metrics use the annotated area, not the box area). Classes keep
    their official category ids; images keep their ids. Every ``file_name`` (relative to
    ``images_dir``) must lead to a file inside the dataset's folder ``root``.

    Args:
        annotation_file: the instances JSON.
        images_dir: the folder the images' ``file_name`` are relative to.
        name: the dataset name (default: the JSON's stem).
        root: the dataset's folder (default: the folder holding ``annotations/``, or the
            JSON's folder, when ``images_dir`` is inside it; else ``images_dir``).
            Messages name files relative to it.

    Raises:
        DatasetError: unreadable JSON (with line and column, or the nesting depth or
            number size that is too large), a missing or mistyped field
            (with the annotation's index), an unknown or duplicate image or category id,
            a ``file_name`` leading outside ``root``, or a bad value (a non-finite or
            negative box, ``iscrowd`` not 0/1, a negative ``area``, a size not positive).
    """
    annotation_file, images_dir = Path(annotation_file), Path(images_dir)
    root = Path(root) if root is not None else _coco_root(annotation_file, images_dir)
    where = shown(annotation_file, root)
    text = read_text(annotation_file, root)
    try:
        data = parse_json(text)
    except JSONTextError as exc:  # not JSON, nested too deeply, a number too long
        raise DatasetError(f"{where}: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a JSON object with images/annotations")
    images = _require(data, "images", where, list)
    annotations = _require(data, "annotations", where, list)
    categories = _require(data, "categories", where, list)

    cat_ids = _unique(categories, where, "categories", "id", int)
    names = _unique(categories, where, "categories", "name", str)
    order = sorted(range(len(cat_ids)), key=lambda i: cat_ids[i])
    cat_ids = [cat_ids[i] for i in order]
    class_names = tuple(names[i] for i in order)
    index_of = {cid: i for i, cid in enumerate(cat_ids)}

    per_image: dict[int, list[tuple]] = defaultdict(list)
    image_ids = set(_unique(images, where, "images", "id", int))
    for i, ann in enumerate(annotations):
        at = f"{where}: annotations[{i}]"
        image_id = _require(ann, "image_id", at, int)
        category = _require(ann, "category_id", at, int)
        bbox = _require(ann, "bbox", at, list)
        numbers = [_finite(v) for v in bbox]
        if len(bbox) != 4 or None in numbers:
            raise DatasetError(
                f"{at}: field 'bbox' should be 4 finite numbers [x, y, w, h], "
                f"got {_got(bbox)}"
            )
        x, y, w, h = numbers
        if w < 0 or h < 0:
            raise DatasetError(
                f"{at}: field 'bbox' has a negative width or height, got {_got(bbox)}"
            )
        if image_id not in image_ids:
            raise DatasetError(f"{at}: image_id {image_id} is not in 'images'")
        if category not in index_of:
            raise DatasetError(f"{at}: category_id {category} is not in 'categories'")
        area = _finite(ann.get("area", w * h))
        if area is None or area < 0:
            raise DatasetError(
                f"{at}: field 'area' should be a finite number >= 0, "
                f"got {_got(ann.get('area', w * h))}"
            )
        iscrowd = ann.get("iscrowd", 0)
        if not isinstance(iscrowd, (int, float)) or iscrowd not in (0, 1):
            raise DatasetError(
                f"{at}: field 'iscrowd' should be 0 or 1, got {_got(iscrowd)}"
            )
        per_image[image_id].append(
            (x, y, x + w, y + h, index_of[category], int(iscrowd), area, (x, y, w, h))
        )

    samples = []
    image_file = confine_to(root, images_dir)
    for i, img in enumerate(images):
        at = f"{where}: images[{i}]"
        file_name = _require(img, "file_name", at, str)
        image_file(file_name, f"{at}: field 'file_name'")
        width = _positive_size(img, "width", at)
        height = _positive_size(img, "height", at)
        rows = per_image.get(img["id"], [])
        gt = make_gt(
            [list(r[:4]) for r in rows],
            [r[4] for r in rows],
            class_names,
            iscrowd=[r[5] for r in rows],
            area=[float(r[6]) for r in rows],
            xywh=[r[7] for r in rows],
        )
        samples.append(Sample(img["id"], images_dir / file_name, width, height, gt))
    return Dataset(
        name or annotation_file.stem,
        "coco",
        root,
        class_names,
        tuple(samples),
        tuple(cat_ids),
    )
