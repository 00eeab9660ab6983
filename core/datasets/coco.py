"""COCO instances JSON -> Dataset (iscrowd and area kept, categories by name)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from core.datasets.types import Dataset, DatasetError, Sample, make_gt


def _require(obj: dict, key: str, where: str, kind: type | tuple[type, ...]) -> object:
    if not isinstance(obj, dict) or key not in obj:
        raise DatasetError(f"{where}: missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DatasetError(
            f"{where}: field '{key}' should be {getattr(kind, '__name__', kind)}, "
            f"got {type(value).__name__}"
        )
    return value


def load_coco(
    annotation_file: str | Path, images_dir: str | Path, name: str | None = None
) -> Dataset:
    """Read a COCO instances file.

    Boxes ``[x, y, w, h]`` become xyxy; ``iscrowd`` and ``area`` are kept as annotated
    (COCO's area-range metrics use the annotated area, not the box area). Classes keep
    their official category ids; images keep their ids.

    Raises:
        DatasetError: unreadable JSON (with line and column), a missing or mistyped field
            (with the annotation's index), or an unknown image or category id.
    """
    annotation_file, images_dir = Path(annotation_file), Path(images_dir)
    where = str(annotation_file)
    try:
        text = annotation_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{where}: cannot read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{where}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a JSON object with images/annotations")
    images = _require(data, "images", where, list)
    annotations = _require(data, "annotations", where, list)
    categories = _require(data, "categories", where, list)

    cat_ids, names = [], []
    for i, cat in enumerate(categories):
        cat_ids.append(_require(cat, "id", f"{where}: categories[{i}]", int))
        names.append(_require(cat, "name", f"{where}: categories[{i}]", str))
    order = sorted(range(len(cat_ids)), key=lambda i: cat_ids[i])
    cat_ids = [cat_ids[i] for i in order]
    class_names = tuple(names[i] for i in order)
    index_of = {cid: i for i, cid in enumerate(cat_ids)}

    per_image: dict[int, list[tuple]] = defaultdict(list)
    image_ids = set()
    for i, img in enumerate(images):
        image_ids.add(_require(img, "id", f"{where}: images[{i}]", int))
    for i, ann in enumerate(annotations):
        at = f"{where}: annotations[{i}]"
        image_id = _require(ann, "image_id", at, int)
        category = _require(ann, "category_id", at, int)
        bbox = _require(ann, "bbox", at, list)
        if len(bbox) != 4 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox
        ):
            raise DatasetError(f"{at}: field 'bbox' should be 4 numbers [x, y, w, h]")
        x, y, w, h = (float(v) for v in bbox)
        if w < 0 or h < 0:
            raise DatasetError(f"{at}: bbox has a negative width or height")
        if image_id not in image_ids:
            raise DatasetError(f"{at}: image_id {image_id} is not in 'images'")
        if category not in index_of:
            raise DatasetError(f"{at}: category_id {category} is not in 'categories'")
        area = ann.get("area", w * h)
        iscrowd = int(ann.get("iscrowd", 0))
        per_image[image_id].append(
            (x, y, x + w, y + h, index_of[category], iscrowd, area)
        )

    samples = []
    for i, img in enumerate(images):
        at = f"{where}: images[{i}]"
        file_name = _require(img, "file_name", at, str)
        width = _require(img, "width", at, int)
        height = _require(img, "height", at, int)
        rows = per_image.get(img["id"], [])
        gt = make_gt(
            [list(r[:4]) for r in rows],
            [r[4] for r in rows],
            class_names,
            iscrowd=[r[5] for r in rows],
            area=[float(r[6]) for r in rows],
        )
        samples.append(Sample(img["id"], images_dir / file_name, width, height, gt))
    return Dataset(
        name or annotation_file.stem,
        "coco",
        images_dir.parent,
        class_names,
        tuple(samples),
        tuple(cat_ids),
    )
