"""What training labels look like: for one real object of a COCO image, the text each
dataset format stores for it, next to the single label an image-classification dataset
stores for the whole image, and how many numbers each costs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from visioncompare.datasets.cityscapes import CITYSCAPES_CLASSES
from visioncompare.datasets.kitti import KITTI_TO_COCO
from visioncompare.datasets.openimages import OPENIMAGES_MIDS, OPENIMAGES_TO_COCO
from visioncompare.datasets.types import Dataset, Sample
from visioncompare.datasets.voc import VOC_CLASSES, VOC_TO_COCO
from visioncompare.learn.lessons import image_level_label

OPENIMAGES_HEADER = (
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
    "IsGroupOf,IsDepiction,IsInside"
)


@dataclass(frozen=True)
class StoredLabel:
    """What one format stores for one object.

    Attributes:
        format: the format's name (``COCO JSON``, ``YOLO txt``, ...).
        datasets: the datasets published in it.
        language: the text's syntax (``json``, ``xml``, ``text``, ``csv``) for display.
        text: the file's content for this object (a complete file where the format's
            file is short, so it parses back).
        numbers: the numbers and names an annotator gives per object in this format.
        note: what the format adds, or cannot say, about this object.
    """

    format: str
    datasets: str
    language: str
    text: str
    numbers: int
    note: str = ""


@dataclass(frozen=True)
class TrainingLabels:
    """One image's training labels, for classification and for detection.

    Attributes:
        image_name: the image's file name.
        image_label: the image-level class (the class covering the most box area).
        image_label_index: its 0-based index in the dataset's class list.
        object_index: the object shown in every format (an index into the image's boxes).
        class_name: that object's class.
        box: its (x1, y1, x2, y2) box, absolute pixels.
        objects: the image's annotated objects (crowd regions left out).
        formats: the image-level label first, then one ``StoredLabel`` per box format.
    """

    image_name: str
    image_label: str | None
    image_label_index: int | None
    object_index: int
    class_name: str
    box: tuple[float, float, float, float]
    objects: int
    formats: tuple[StoredLabel, ...]

    @property
    def box_numbers(self) -> int:
        """Numbers a detection label holds for the whole image: 4 coordinates and a class
        per object."""
        return 5 * self.objects


def coco_annotation_file(dataset: Dataset) -> Path | None:
    """A COCO dataset's instances file: the only ``annotations/*.json`` in its folder."""
    files = sorted((Path(dataset.root) / "annotations").glob("*.json"))
    return files[0] if dataset.format == "coco" and len(files) == 1 else None


@lru_cache(maxsize=4)
def _annotations_by_image(path: str) -> dict[int, list[dict]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    by_image: dict[int, list[dict]] = {}
    for ann in data.get("annotations", []):
        by_image.setdefault(ann.get("image_id"), []).append(ann)
    return by_image


def coco_annotation(annotation_file: Path, image_id: int, box) -> dict | None:
    """The COCO file's own annotation of the object with ``box`` (xyxy) in ``image_id``:
    the record of that image whose ``bbox`` is nearest (None when none is within a
    pixel). A copy: the caller may change it."""
    x1, y1, x2, y2 = (float(v) for v in box)
    best, distance = None, float("inf")
    for ann in _annotations_by_image(str(annotation_file)).get(image_id, []):
        bx, by, bw, bh = ann["bbox"]
        d = abs(bx - x1) + abs(by - y1) + abs(bx + bw - x2) + abs(by + bh - y2)
        if d < distance:
            best, distance = ann, d
    return json.loads(json.dumps(best)) if best is not None and distance < 1.0 else None


def _json_lines(data: dict, indent: str = " ") -> str:
    """A JSON object with one key per line and each value on its line (numbers in a list
    stay on one line, as the files are usually read)."""
    lines = [f"{indent}{json.dumps(k)}: {json.dumps(v)}" for k, v in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def _polygon(annotation: dict | None) -> list[list[float]] | None:
    """The first polygon of a COCO segmentation as [x, y] points (None for RLE)."""
    segmentation = (annotation or {}).get("segmentation")
    if not isinstance(segmentation, list) or not segmentation:
        return None
    flat = segmentation[0]
    return [[float(flat[i]), float(flat[i + 1])] for i in range(0, len(flat) - 1, 2)]


def _largest(sample: Sample) -> int:
    gt = sample.gt
    areas = np.where(gt.extra["iscrowd"] == 0, gt.area, -1.0)
    return int(np.argmax(areas))


def image_level(
    sample: Sample, class_names: tuple[str, ...]
) -> tuple[str | None, int | None, StoredLabel]:
    """The single label an image-classification dataset stores for the image."""
    label = image_level_label(sample.gt)
    index = class_names.index(label) if label is not None else None
    text = (
        f"{sample.name},{index}\n"
        f"# or, as a folder per class (ImageNet, Caltech-256): train/{label}/{sample.name}"
    )
    note = (
        f"One class for the whole image: index {index} ({label!r}) of {len(class_names)} "
        "classes. CIFAR-10 and MNIST store exactly this, one number per image (a byte "
        "next to the pixels); ImageNet and Caltech-256 keep one folder per class. Where "
        "the objects are, and how many there are, is not stored."
    )
    stored = StoredLabel(
        "Image-level label",
        "CIFAR-10, ImageNet, MNIST, Caltech-256",
        "csv",
        text,
        1,
        note,
    )
    return label, index, stored


def coco_json(annotation: dict) -> StoredLabel:
    text = _json_lines(annotation)
    points = len(_polygon(annotation) or [])
    return StoredLabel(
        "COCO JSON", "COCO", "json", text, 5,
        "bbox is [x, y, width, height] in pixels from the top-left corner; category_id "
        "indexes the file's categories; iscrowd 1 marks a crowd region (ignored when "
        f"scoring). COCO also stores the outline: {points} polygon points here, and "
        "area is the outline's area, not the box's.",
    )  # fmt: skip


def voc_xml(sample: Sample, class_name: str, box) -> StoredLabel:
    to_voc = {coco: voc for voc, coco in VOC_TO_COCO.items()}
    name = to_voc.get(class_name, class_name)
    x1, y1, x2, y2 = box
    xmin, ymin = round(x1) + 1, round(y1) + 1
    xmax, ymax = max(round(x2), xmin), max(round(y2), ymin)
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = sample.name
    size = ET.SubElement(root, "size")
    for tag, value in (
        ("width", sample.width),
        ("height", sample.height),
        ("depth", 3),
    ):
        ET.SubElement(size, tag).text = str(value)
    obj = ET.SubElement(root, "object")
    for tag, value in (("name", name), ("pose", "Unspecified"), ("truncated", 0),
                       ("difficult", 0)):  # fmt: skip
        ET.SubElement(obj, tag).text = str(value)
    bndbox = ET.SubElement(obj, "bndbox")
    for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
        ET.SubElement(bndbox, tag).text = str(value)
    ET.indent(root)
    known = name in VOC_CLASSES
    return StoredLabel(
        "PASCAL VOC XML", "PASCAL VOC 2007/2012", "xml", ET.tostring(root, "unicode"), 5,
        "Corners as 1-based whole pixels (xmin 1 is the first pixel column), one XML "
        "file per image; difficult 1 marks an object left out of scoring."
        + ("" if known else f" '{class_name}' is not one of VOC's 20 classes."),
    )  # fmt: skip


def yolo_txt(
    sample: Sample, class_names: tuple[str, ...], class_name: str, box
) -> StoredLabel:
    x1, y1, x2, y2 = box
    w, h = sample.width, sample.height
    line = (
        f"{class_names.index(class_name)} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
        f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
    )
    return StoredLabel(
        "YOLO txt", "Ultralytics' datasets (COCO, VOC, ... converted)", "text", line, 5,
        "One line per object: class index, then the box's centre x, centre y, width and "
        "height as fractions of the image's size; the class names are in data.yaml.",
    )  # fmt: skip


def kitti_txt(class_name: str, box) -> StoredLabel:
    to_kitti = {coco: kind for kind, coco in reversed(KITTI_TO_COCO.items())}
    kind = to_kitti.get(class_name, "Misc")
    x1, y1, x2, y2 = box
    line = (
        f"{kind} 0.00 3 -10 {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} "
        "-1 -1 -1 -1000 -1000 -1000 -10"
    )
    note = (
        "type, truncated (0..1), occluded (0..3; 3 is unknown), the observation angle "
        "alpha, the 2D box's left top right bottom, then the 3D box: height width length "
        "(m), x y z in the camera's frame (m) and the rotation ry. A photo without depth "
        "gives no 3D box: those fields hold KITTI's placeholders (-1, -1000, -10)."
    )
    if kind == "Misc":
        note += f" KITTI labels road users only: '{class_name}' would be Misc at best."
    return StoredLabel("KITTI txt", "KITTI object detection", "text", line, 15, note)


def cityscapes_json(sample: Sample, class_name: str, box, polygon) -> StoredLabel:
    label = class_name  # the seven Cityscapes classes COCO has share its names
    x1, y1, x2, y2 = box
    outline = polygon or [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]
    points = [[round(x), round(y)] for x, y in outline]
    obj = json.dumps({"label": label, "polygon": points})
    text = (
        f'{{\n "imgHeight": {sample.height},\n "imgWidth": {sample.width},\n'
        f' "objects": [\n  {obj}\n ]\n}}'
    )
    note = (
        f"No box at all: the object's outline as {len(points)} whole-pixel points (its "
        "box is the outline's extremes), one JSON file per image with every region "
        "of the street scene (road, sky, ...); a '<class>group' label marks a crowd."
    )
    if polygon is None:
        note += " (This object has no COCO outline: its box's corners are shown.)"
    if label not in CITYSCAPES_CLASSES:
        note += f" '{class_name}' is not one of Cityscapes' eight object classes."
    return StoredLabel(
        "Cityscapes polygons JSON", "Cityscapes (gtFine)", "json", text,
        2 * len(points) + 1, note,
    )  # fmt: skip


def openimages_csv(sample: Sample, class_name: str, box, crowd: int) -> StoredLabel:
    display = next((k for k, v in OPENIMAGES_TO_COCO.items() if v == class_name), None)
    x1, y1, x2, y2 = box
    w, h = sample.width, sample.height
    mid = OPENIMAGES_MIDS.get(display, "") if display else ""
    row = (
        f"{sample.path.stem},xclick,{mid},1,{x1 / w:.6f},{x2 / w:.6f},{y1 / h:.6f},"
        f"{y2 / h:.6f},0,0,{crowd},0,0"
    )
    described = f"{mid},{display}" if display else "(no Open Images class of this kind)"
    text = f"{OPENIMAGES_HEADER}\n{row}\n# class-descriptions-boxable.csv: {described}"
    note = (
        "One CSV row per box for the whole split: the class as a MID (a Knowledge Graph "
        "id named in class-descriptions-boxable.csv), the box as fractions XMin XMax "
        "YMin YMax, and yes/no flags (occluded, truncated, group of objects, a depiction, "
        "inside the object; 0 here)."
    )
    if display is None:
        note += f" No Open Images class means '{class_name}' exactly."
    return StoredLabel("Open Images CSV", "Open Images V4–V7", "csv", text, 10, note)


def training_labels(
    sample: Sample,
    class_names: tuple[str, ...],
    annotation: dict | None = None,
    object_index: int | None = None,
) -> TrainingLabels:
    """For one object of a COCO image, what each format stores.

    Args:
        sample: the image and its ground truth (absolute-pixel xyxy).
        class_names: the dataset's classes (the image-level label and YOLO index them).
        annotation: the COCO file's own record of the object (``coco_annotation``), for
            its outline and ids; without it the COCO record is rebuilt from the box.
        object_index: which of the image's boxes (default: the largest non-crowd box).

    Raises:
        ValueError: the image has no boxes but crowd regions.
    """
    gt = sample.gt
    if not (gt.extra["iscrowd"] == 0).any():
        raise ValueError(f"{sample.name}: no annotated objects (crowd regions aside)")
    index = _largest(sample) if object_index is None else object_index
    box = tuple(float(v) for v in gt.xyxy[index].astype(np.float64))
    class_name = gt.labels[index]
    crowd = int(gt.extra["iscrowd"][index])
    if annotation is None:
        x1, y1, x2, y2 = box
        annotation = {
            "image_id": sample.image_id, "category_id": class_names.index(class_name) + 1,
            "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
            "area": float(gt.extra["area"][index]), "iscrowd": crowd,
        }  # fmt: skip
    label, label_index, image_label = image_level(sample, class_names)
    formats = (
        image_label,
        coco_json(annotation),
        voc_xml(sample, class_name, box),
        yolo_txt(sample, class_names, class_name, box),
        kitti_txt(class_name, box),
        cityscapes_json(sample, class_name, box, _polygon(annotation)),
        openimages_csv(sample, class_name, box, crowd),
    )
    return TrainingLabels(
        sample.name, label, label_index, index, class_name, box,
        int((gt.extra["iscrowd"] == 0).sum()), formats,
    )  # fmt: skip


def cost_rows(labels: TrainingLabels) -> list[dict]:
    """One row per format: what an annotator gives for this object and for the whole
    image (None where it varies from object to object: outlines)."""
    rows = []
    for stored in labels.formats:
        per_image = stored.format == "Image-level label"
        outline = stored.format.startswith("Cityscapes")
        rows.append(
            {
                "format": stored.format,
                "datasets": stored.datasets,
                "numbers for this object": None if per_image else stored.numbers,
                "numbers for this image": 1
                if per_image
                else (None if outline else stored.numbers * labels.objects),
            }
        )
    return rows
