"""PASCAL VOC XML folders -> Dataset (``difficult`` kept, 1-based pixels handled on purpose)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from core.datasets.types import Dataset, DatasetError, Sample, make_gt

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
        return float(value)
    except ValueError as exc:
        raise DatasetError(
            f"{where}: <{path}> should be a number, got {value!r}"
        ) from exc


def _image_ids(root: Path, image_set: str | None) -> list[str]:
    sets = root / "ImageSets" / "Main"
    if image_set is not None:
        listing = sets / f"{image_set}.txt"
        if not listing.is_file():
            raise DatasetError(f"{listing}: image set file not found")
    else:
        candidates = sorted(sets.glob("*.txt")) if sets.is_dir() else []
        listing = candidates[0] if len(candidates) == 1 else None
    if listing is None:
        return sorted(p.stem for p in (root / "Annotations").glob("*.xml"))
    return [
        line.split()[0] for line in listing.read_text().splitlines() if line.strip()
    ]


def load_voc(
    root: str | Path,
    image_set: str | None = None,
    rename: dict[str, str] | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a VOC folder (``Annotations/``, ``JPEGImages/``, ``ImageSets/Main/*.txt``).

    VOC boxes are 1-based inclusive pixel indices; they become continuous 0-based
    coordinates with ``x1 = xmin - 1, y1 = ymin - 1, x2 = xmax, y2 = ymax`` (a box over
    pixels 1..10 spans 10 pixels), the convention of detectron2's VOC loader.

    Args:
        root: the VOC folder.
        image_set: the ``ImageSets/Main/<image_set>.txt`` list (None: the only list there,
            or every XML file).
        rename: class renaming (``VOC_TO_COCO`` to score COCO models by COCO names).
        name: the dataset name (default: the folder's name).

    Raises:
        DatasetError: a missing folder or file, unreadable XML (with line and column), or a
            missing or non-numeric field (with the object's index).
    """
    root = Path(root)
    if not (root / "Annotations").is_dir():
        raise DatasetError(f"{root}: not a VOC folder (no Annotations/ inside)")
    rename = dict(rename or {})
    parsed = []
    for image_key in _image_ids(root, image_set):
        xml_path = root / "Annotations" / f"{image_key}.xml"
        where = str(xml_path)
        try:
            tree = ET.parse(xml_path)
        except FileNotFoundError as exc:
            raise DatasetError(
                f"{where}: listed in the image set but not found"
            ) from exc
        except ET.ParseError as exc:
            line, column = exc.position
            raise DatasetError(
                f"{where}: malformed XML at line {line}, column {column}"
            ) from exc
        node = tree.getroot()
        width = int(_number(node, "size/width", where))
        height = int(_number(node, "size/height", where))
        file_name = node.findtext("filename") or f"{image_key}.jpg"
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
            difficult = (
                int(_number(obj, "difficult", at))
                if obj.find("difficult") is not None
                else 0
            )
            objects.append(
                (rename.get(label, label), [xmin - 1, ymin - 1, xmax, ymax], difficult)
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

    changes = {old: new for old, new in VOC_TO_COCO.items() if old in dataset.class_names}
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
