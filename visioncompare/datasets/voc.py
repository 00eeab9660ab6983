"""PASCAL VOC XML folders -> Dataset (``difficult`` kept, 1-based pixels handled on purpose)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from .types import Dataset, DatasetError, Sample, confine_to, make_gt, read_text, shown

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)  # fmt: skip
VOC_TO_COCO = {
    "aeroplane": "airplane",
    "diningtable": "dining table",
    "motorbike": "motorcycle",
    "pottedplant": "potted plant",
    "sofa": "couch",
    "tvmonitor": "tv",
}
"""VOC names whose COCO name differs; the other 14 VOC classes share their COCO name."""


def _text(node: ET.Element, path: str, where: str) -> str:
    found = node.find(path)
    if found is None or found.text is None or not found.text.strip():
        raise DatasetError(f"{where}: missing <{path}>")
    return found.text.strip()


def _number(node: ET.Element, path: str, where: str) -> float:
    value = _text(node, path, where)
    try:
        number = float(value)
    except ValueError as exc:
        raise DatasetError(
            f"{where}: <{path}> should be a number, got {_got(value)}"
        ) from exc
    if not math.isfinite(number):
        raise DatasetError(
            f"{where}: <{path}> should be a finite number, got {_got(value)}"
        )
    return number


def _got(value: str) -> str:
    return repr(value if len(value) <= 40 else f"{value[:37]}...")


def _positive_size(node: ET.Element, path: str, where: str) -> int:
    number = _number(node, path, where)
    if number < 1:
        raise DatasetError(
            f"{where}: <{path}> should be a positive size, got {number:g}"
        )
    return int(number)


def _image_keys(root: Path, image_set: str | None) -> list[tuple[str, Path]]:
    """(image key, its XML file) for every image of the set, each confined to ``root``."""
    sets = root / "ImageSets" / "Main"
    if image_set is not None:
        listing = sets / f"{image_set}.txt"
        if not listing.is_file():
            raise DatasetError(f"{shown(listing, root)}: image set file not found")
    else:
        candidates = sorted(sets.glob("*.txt")) if sets.is_dir() else []
        listing = candidates[0] if len(candidates) == 1 else None
    confine = confine_to(root)
    if listing is None:
        return [
            (p.stem, confine(p.relative_to(root), p.relative_to(root).as_posix()))
            for p in sorted((root / "Annotations").glob("*.xml"))
        ]
    where = listing.relative_to(root).as_posix()
    confine(where, where)
    keys = []
    for number, line in enumerate(read_text(listing, root).splitlines(), start=1):
        if line.strip():
            key = line.split()[0]
            at = f"{where}: line {number}"
            keys.append((key, confine(f"Annotations/{key}.xml", at)))
    return keys


def _difficult(obj: ET.Element, where: str) -> int:
    if obj.find("difficult") is None:
        return 0
    value = _number(obj, "difficult", where)
    if value not in (0, 1):
        raise DatasetError(f"{where}: <difficult> should be 0 or 1, got {value:g}")
    return int(value)


def load_voc(
    root: str | Path,
    image_set: str | None = None,
    rename: dict[str, str] | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a VOC folder (``Annotations/``, ``JPEGImages/``, ``ImageSets/Main/*.txt``).

    VOC boxes are 1-based inclusive pixel indices; they become continuous 0-based
    coordinates with ``x1 = xmin - 1, y1 = ymin - 1, x2 = xmax, y2 = ymax`` (a box over
    pixels 1..10 spans 10 pixels), the convention of detectron2's VOC loader. Every file
    the image set and the XML name must lie inside ``root``.

    Args:
        root: the VOC folder.
        image_set: the ``ImageSets/Main/<image_set>.txt`` list (None: the only list there,
            or every XML file).
        rename: class renaming (``VOC_TO_COCO`` to score COCO models by COCO names).
        name: the dataset name (default: the folder's name).

    Raises:
        DatasetError: a missing folder or file, unreadable XML (with line and column), a
            missing or non-numeric field (with the object's index), a non-finite or
            inverted box, ``difficult`` not 0/1, a size not positive, or a path leading
            outside ``root``; files are named relative to ``root``.
    """
    root = Path(root)
    if not (root / "Annotations").is_dir():
        raise DatasetError(
            f"{root.name or root}: not a VOC folder (no Annotations/ inside)"
        )
    rename = dict(rename or {})
    parsed = []
    image_file = confine_to(root, root / "JPEGImages")
    for image_key, xml_path in _image_keys(root, image_set):
        where = f"Annotations/{image_key}.xml"
        try:
            tree = ET.parse(xml_path)
        except FileNotFoundError as exc:
            raise DatasetError(
                f"{where}: listed in the image set but not found"
            ) from exc
        except OSError as exc:
            raise DatasetError(
                f"{where}: cannot read ({exc.strerror or 'error'})"
            ) from exc
        except ET.ParseError as exc:
            line, column = exc.position
            raise DatasetError(
                f"{where}: malformed XML at line {line}, column {column}"
            ) from exc
        node = tree.getroot()
        width = _positive_size(node, "size/width", where)
        height = _positive_size(node, "size/height", where)
        file_name = node.findtext("filename") or f"{image_key}.jpg"
        image_file(file_name, f"{where}: <filename>")
        objects = []
        for i, obj in enumerate(node.findall("object")):
            at = f"{where}: object {i}"
            label = _text(obj, "name", at)
            xmin, ymin = (
                _number(obj, "bndbox/xmin", at),
                _number(obj, "bndbox/ymin", at),
            )
            xmax, ymax = (
                _number(obj, "bndbox/xmax", at),
                _number(obj, "bndbox/ymax", at),
            )
            if xmax < xmin or ymax < ymin:
                raise DatasetError(f"{at}: xmax/ymax smaller than xmin/ymin")
            objects.append(
                (
                    rename.get(label, label),
                    [xmin - 1, ymin - 1, xmax, ymax],
                    _difficult(obj, at),
                )
            )
        parsed.append((image_key, file_name, width, height, objects))

    found = {label for *_, objects in parsed for label, _, _ in objects}
    voc_order = tuple(rename.get(c, c) for c in VOC_CLASSES)
    class_names = voc_order if found <= set(voc_order) else tuple(sorted(found))
    index_of = {c: i for i, c in enumerate(class_names)}
    samples = []
    for image_id, (image_key, file_name, width, height, objects) in enumerate(parsed):
        gt = make_gt(
            [box for _, box, _ in objects],
            [index_of[label] for label, _, _ in objects],
            class_names,
            difficult=[d for _, _, d in objects],
        )
        path = root / "JPEGImages" / file_name
        samples.append(Sample(image_id, path, width, height, gt))
    return Dataset(
        name or root.name,
        "voc",
        root,
        class_names,
        tuple(samples),
        renamed={k: v for k, v in rename.items() if k in found or v in found},
    )


def with_coco_names(dataset: Dataset) -> Dataset:
    """A dataset of any format whose classes carry VOC names, with the COCO names
    (``VOC_TO_COCO``) so that COCO-trained detectors are scored by name; ``renamed``
    records each change. A dataset without VOC-only names is returned unchanged.

    Raises:
        DatasetError: renaming would merge two classes (both the VOC and the COCO name).
    """
    from dataclasses import replace

    changes = {
        old: new for old, new in VOC_TO_COCO.items() if old in dataset.class_names
    }
    if not changes:
        return dataset
    names = tuple(changes.get(n, n) for n in dataset.class_names)
    if len(set(names)) != len(names):
        raise DatasetError(
            f"{dataset.name}: has both VOC and COCO names for one class "
            f"({', '.join(f'{a}/{b}' for a, b in changes.items() if b in dataset.class_names)})"
        )
    samples = tuple(
        replace(s, gt=replace(s.gt, class_names=names)) for s in dataset.samples
    )
    return replace(
        dataset, class_names=names, samples=samples,
        renamed={**dataset.renamed, **changes},
    )  # fmt: skip
