"""What training labels look like: each format's text for a real COCO object parses back
(json, ElementTree, and our own readers) to the same box, and the costs add up."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from visioncompare.datasets.cityscapes import load_cityscapes
from visioncompare.datasets.kitti import KITTI_TO_COCO, load_kitti
from visioncompare.datasets.openimages import OPENIMAGES_TO_COCO, load_openimages
from visioncompare.datasets.registry import load_bundled
from visioncompare.datasets.voc import VOC_TO_COCO, load_voc
from visioncompare.datasets.yolo import load_yolo
from visioncompare.learn.lessons import image_level_label
from visioncompare.learn.training_labels import (
    coco_annotation,
    coco_annotation_file,
    cost_rows,
    training_labels,
)

COCO = load_bundled("coco-val2017-first32")


def _labels(sample, index=None):
    gt = sample.gt
    index = (
        int(np.argmax(np.where(gt.extra["iscrowd"] == 0, gt.area, -1)))
        if index is None
        else index
    )
    annotation = coco_annotation(
        coco_annotation_file(COCO), sample.image_id, gt.xyxy[index]
    )
    return training_labels(sample, COCO.class_names, annotation, index)


def _by_format(labels):
    return {stored.format: stored for stored in labels.formats}


# Every image's largest object, and the road users the street formats name.
CASES = [(i, None) for i, s in enumerate(COCO.samples) if len(s.gt)] + [
    (i, j)
    for i, s in enumerate(COCO.samples)
    for j in range(len(s.gt))
    if s.gt.labels[j] in ("car", "person", "truck") and not s.gt.extra["iscrowd"][j]
][:12]


@pytest.mark.parametrize(("image", "index"), CASES)
def test_every_format_parses_back_to_the_same_box(image, index, tmp_path):
    sample = COCO.samples[image]
    labels = _labels(sample, index)
    box = np.array(labels.box)
    stored = _by_format(labels)
    gt_index = labels.object_index

    # image level: one class, the one covering the most area
    assert labels.image_label == image_level_label(sample.gt)
    assert stored["Image-level label"].text.startswith(
        f"{sample.name},{COCO.class_names.index(labels.image_label)}\n"
    )

    # COCO: the file's own record
    record = json.loads(stored["COCO JSON"].text)
    x, y, w, h = record["bbox"]
    assert np.allclose([x, y, x + w, y + h], box, atol=1e-3)
    assert record["image_id"] == sample.image_id
    assert (
        COCO.category_ids.index(record["category_id"]) == sample.gt.class_ids[gt_index]
    )

    # VOC: ElementTree, then our VOC reader (1-based whole pixels: within half a pixel)
    node = ET.fromstring(stored["PASCAL VOC XML"].text)
    assert node.findtext("object/name") == {v: k for k, v in VOC_TO_COCO.items()}.get(
        labels.class_name, labels.class_name
    )
    voc = tmp_path / "voc"
    (voc / "Annotations").mkdir(parents=True)
    (voc / "Annotations" / f"{sample.path.stem}.xml").write_text(
        stored["PASCAL VOC XML"].text
    )
    got = load_voc(voc, rename=VOC_TO_COCO).samples[0].gt
    assert got.labels == [labels.class_name]
    assert np.abs(got.xyxy[0] - box).max() <= 0.5 + 1e-4

    # YOLO: our YOLO reader with the dataset's class list
    yolo = tmp_path / "yolo"
    (yolo / "images").mkdir(parents=True)
    (yolo / "labels").mkdir()
    shutil.copy(sample.path, yolo / "images" / sample.name)
    (yolo / "labels" / f"{sample.path.stem}.txt").write_text(stored["YOLO txt"].text)
    (yolo / "data.yaml").write_text(
        json.dumps({"path": ".", "val": "images", "names": list(COCO.class_names)})
    )
    got = load_yolo(yolo / "data.yaml").samples[0].gt
    assert got.labels == [labels.class_name]
    assert (
        np.abs(got.xyxy[0] - box).max()
        <= 1e-6 * max(sample.width, sample.height) + 1e-3
    )

    # KITTI: our KITTI reader (2 decimals)
    kitti = tmp_path / "kitti"
    (kitti / "label_2").mkdir(parents=True)
    (kitti / "image_2").mkdir()
    shutil.copy(sample.path, kitti / "image_2" / "000000.jpg")
    (kitti / "label_2" / "000000.txt").write_text(stored["KITTI txt"].text + "\n")
    got = load_kitti(kitti, KITTI_TO_COCO).samples[0].gt
    kind = stored["KITTI txt"].text.split()[0]
    assert got.labels == [KITTI_TO_COCO.get(kind, kind)]
    assert np.abs(got.xyxy[0] - box).max() <= 0.005 + 1e-4

    # Cityscapes: json, then our Cityscapes reader; the outline's extremes are the box
    # (whole pixels) when the object is one polygon
    text = stored["Cityscapes polygons JSON"].text
    data = json.loads(text)
    assert (data["imgWidth"], data["imgHeight"]) == (sample.width, sample.height)
    folder = tmp_path / "cs"
    stem = "city_000000_000000"
    (folder / "gtFine/val/city").mkdir(parents=True)
    (folder / "leftImg8bit/val/city").mkdir(parents=True)
    Image.open(sample.path).save(
        folder / f"leftImg8bit/val/city/{stem}_leftImg8bit.png"
    )
    (folder / f"gtFine/val/city/{stem}_gtFine_polygons.json").write_text(text)
    got = load_cityscapes(folder).samples[0].gt
    if labels.class_name in ("person", "car", "truck", "bus", "train", "motorcycle",
                             "bicycle"):  # fmt: skip
        assert got.labels == [labels.class_name]
        if len(record["segmentation"]) == 1:
            assert np.abs(got.xyxy[0] - box).max() <= 1.0
        assert (got.xyxy[0, :2] >= box[:2] - 0.5).all()
        assert (got.xyxy[0, 2:] <= box[2:] + 0.5).all()
    else:
        assert len(got) == 0  # not a Cityscapes class: the reader leaves it out

    # Open Images: the CSV row and its class line, through our reader (6 decimals)
    oi = tmp_path / "oi"
    (oi / "images").mkdir(parents=True)
    shutil.copy(sample.path, oi / "images" / f"{sample.path.stem}.jpg")
    header, row, description = stored["Open Images CSV"].text.splitlines()
    (oi / "test-annotations-bbox.csv").write_text(f"{header}\n{row}\n")
    mid = row.split(",")[2]
    if mid:
        (oi / "class-descriptions-boxable.csv").write_text(
            description.removeprefix("# class-descriptions-boxable.csv: ") + "\n"
        )
        got = load_openimages(oi, OPENIMAGES_TO_COCO).samples[0].gt
        assert got.labels == [labels.class_name]
        assert (
            np.abs(got.xyxy[0] - box).max()
            <= 0.5e-6 * max(sample.width, sample.height) + 1e-3
        )
    else:
        assert labels.class_name not in OPENIMAGES_TO_COCO.values()


def test_costs_one_label_against_five_numbers_per_object():
    sample = COCO.samples[0]
    labels = _labels(sample)
    objects = int((sample.gt.extra["iscrowd"] == 0).sum())
    assert labels.objects == objects and labels.box_numbers == 5 * objects
    rows = {r["format"]: r for r in cost_rows(labels)}
    assert rows["Image-level label"]["numbers for this image"] == 1
    assert rows["YOLO txt"]["numbers for this image"] == 5 * objects
    points = len(json.loads(_by_format(labels)["Cityscapes polygons JSON"].text)
                 ["objects"][0]["polygon"])  # fmt: skip
    assert rows["Cityscapes polygons JSON"]["numbers for this object"] == 2 * points + 1


def test_without_the_instances_file_the_coco_record_is_rebuilt():
    sample = COCO.samples[3]
    labels = training_labels(sample, COCO.class_names)
    record = json.loads(_by_format(labels)["COCO JSON"].text)
    x, y, w, h = record["bbox"]
    assert np.allclose([x, y, x + w, y + h], labels.box, atol=0.01)
    assert "outline" in _by_format(labels)["Cityscapes polygons JSON"].note
    with pytest.raises(ValueError, match="no annotated objects"):
        from dataclasses import replace

        training_labels(replace(sample, gt=sample.gt[np.zeros(len(sample.gt), bool)]),
                        COCO.class_names)  # fmt: skip


def test_the_section_renders_every_format():
    from streamlit.testing.v1 import AppTest

    def page():
        from components.learn.label_formats import label_formats_section
        from visioncompare.datasets.registry import load_bundled

        dataset = load_bundled("coco-val2017-first32")
        label_formats_section(dataset, dataset.samples[0])

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    assert len(at.tabs) == 7
    assert len(at.code) == 7
    assert at.metric[0].value == "1"
