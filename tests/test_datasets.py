"""Dataset loaders: the bundled subsets, each format, and malformed files."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, bundled_checksums
from visioncompare.datasets import DatasetError
from visioncompare.datasets.coco import load_coco
from visioncompare.datasets.registry import DATA_DIR, load_bundled, load_folder
from visioncompare.datasets.voc import load_voc
from visioncompare.datasets.yolo import load_yolo


def test_bundled_files_are_the_verified_assets():
    sums = {p: d for p, d in bundled_checksums().items() if p.startswith("data/")}
    for path, digest in sums.items():
        ours = DATA_DIR / path.removeprefix("data/")
        assert hashlib.sha256(ours.read_bytes()).hexdigest() == digest, ours
    assert len(sums) == 32 + 1 + 2 * 100 + 1
    # Every file of the subsets is checked (a new file needs its checksum).
    on_disk = {
        f"data/{p.relative_to(DATA_DIR).as_posix()}"
        for p in DATA_DIR.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert on_disk == set(sums)


def test_sample_images_are_the_verified_assets():
    sums = {
        p: d for p, d in bundled_checksums().items() if p.startswith("sample_images/")
    }
    listed = {
        f"sample_images/{line.split(',', 1)[0]}"
        for line in (REPO / "sample_images" / "index.csv").read_text().splitlines()[1:]
    }
    assert listed == set(sums) and len(sums) == 8
    for path, digest in sums.items():
        assert hashlib.sha256((REPO / path).read_bytes()).hexdigest() == digest, path


def test_bundled_coco_subset():
    ds = load_bundled("coco-val2017-first32")
    assert (len(ds), ds.num_boxes, len(ds.class_names)) == (32, 288, 80)
    assert ds.category_ids[:3] == (1, 2, 3) and ds.category_ids[-1] == 90
    assert sum(int(s.gt.extra["iscrowd"].sum()) for s in ds.samples) == 4
    first = ds.samples[0]
    assert first.image_id == 397133 and first.path.is_file()
    assert (first.width, first.height) == Image.open(first.path).size
    # COCO keeps the annotated (segmentation) area, not the box area
    assert not np.allclose(first.gt.extra["area"], first.gt.area)


def test_bundled_voc_subset_uses_coco_names():
    ds = load_bundled("voc2012-sample100")
    assert (len(ds), ds.num_boxes, len(ds.class_names)) == (100, 273, 20)
    assert sum(int(s.gt.extra["difficult"].sum()) for s in ds.samples) == 38
    assert "airplane" in ds.class_names and "aeroplane" not in ds.class_names
    assert ds.renamed["tvmonitor"] == "tv" and len(ds.renamed) == 6
    assert all(s.path.is_file() for s in ds.samples)


def test_voc_one_based_pixels_become_continuous_coordinates(tmp_path):
    _voc_folder(tmp_path, "<xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>20</ymax>")
    gt = load_voc(tmp_path).samples[0].gt
    assert gt.xyxy.tolist() == [[0, 0, 10, 20]]  # pixels 1..10 span 10 pixels
    assert gt.area.tolist() == [200]


def _voc_folder(root, bndbox, name="dog", extra=""):
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "JPEGImages").mkdir(exist_ok=True)
    Image.new("RGB", (50, 40)).save(root / "JPEGImages" / "img1.jpg")
    (root / "Annotations" / "img1.xml").write_text(
        f"<annotation><filename>img1.jpg</filename><size><width>50</width>"
        f"<height>40</height><depth>3</depth></size><object><name>{name}</name>"
        f"<difficult>0</difficult><bndbox>{bndbox}</bndbox></object>{extra}</annotation>"
    )


def test_malformed_voc_files_name_the_file_and_field(tmp_path):
    _voc_folder(tmp_path, "<xmin>1</xmin><ymin>1</ymin><xmax>ten</xmax><ymax>20</ymax>")
    with pytest.raises(
        DatasetError, match=r"img1\.xml: object 0: <bndbox/xmax> should be a number"
    ):
        load_voc(tmp_path)
    (tmp_path / "Annotations" / "img1.xml").write_text("<annotation><size>")
    with pytest.raises(DatasetError, match=r"img1\.xml: malformed XML at line 1"):
        load_voc(tmp_path)
    _voc_folder(tmp_path, "<xmin>1</xmin><ymin>1</ymin><ymax>20</ymax>")
    with pytest.raises(DatasetError, match=r"missing <bndbox/xmax>"):
        load_voc(tmp_path)
    with pytest.raises(DatasetError, match="not a VOC folder"):
        load_voc(tmp_path / "JPEGImages")


def _coco_file(tmp_path, data) -> object:
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


COCO_OK = {
    "images": [{"id": 7, "file_name": "a.jpg", "width": 100, "height": 80}],
    "annotations": [
        {
            "id": 1,
            "image_id": 7,
            "category_id": 18,
            "bbox": [10, 20, 30, 40],
            "area": 900,
            "iscrowd": 0,
        }
    ],
    "categories": [{"id": 18, "name": "dog"}, {"id": 1, "name": "person"}],
}


def test_coco_loader_keeps_ids_and_converts_boxes(tmp_path):
    ds = load_coco(_coco_file(tmp_path, COCO_OK), tmp_path)
    assert ds.class_names == ("person", "dog") and ds.category_ids == (1, 18)
    s = ds.samples[0]
    assert s.image_id == 7 and s.gt.labels == ["dog"]
    assert s.gt.xyxy.tolist() == [[10, 20, 40, 60]] and s.gt.extra["area"].tolist() == [
        900
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["annotations"][0].pop("bbox"),
            r"annotations\[0\]: missing field 'bbox'",
        ),
        (
            lambda d: d["annotations"][0].update(bbox=[1, 2, 3]),
            r"annotations\[0\]: field 'bbox'",
        ),
        (
            lambda d: d["annotations"][0].update(image_id=99),
            "image_id 99 is not in 'images'",
        ),
        (
            lambda d: d["annotations"][0].update(category_id=5),
            "category_id 5 is not in",
        ),
        (
            lambda d: d["images"][0].update(width="wide"),
            r"images\[0\]: field 'width' should be int",
        ),
        (lambda d: d.pop("categories"), "missing field 'categories'"),
    ],
)
def test_malformed_coco_files_name_the_field(tmp_path, mutate, message):
    data = json.loads(json.dumps(COCO_OK))
    mutate(data)
    with pytest.raises(DatasetError, match=message):
        load_coco(_coco_file(tmp_path, data), tmp_path)


def test_coco_json_syntax_error_gives_line_and_column(tmp_path):
    with pytest.raises(DatasetError, match="not valid JSON at line 2, column"):
        load_coco(
            _coco_file(tmp_path, '{"images": [],\n "annotations": [,]}'), tmp_path
        )


def _yolo_folder(root, label_text: str, names="[cat, dog]"):
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    Image.new("RGB", (200, 100)).save(root / "images" / "val" / "x.jpg")
    (root / "labels" / "val" / "x.txt").write_text(label_text)
    (root / "data.yaml").write_text(f"path: .\nval: images/val\nnames: {names}\n")
    return root / "data.yaml"


def test_yolo_loader_denormalises_boxes(tmp_path):
    ds = load_yolo(_yolo_folder(tmp_path, "1 0.5 0.5 0.2 0.4\n"))
    s = ds.samples[0]
    assert ds.class_names == ("cat", "dog") and s.gt.labels == ["dog"]
    assert s.gt.xyxy.tolist() == [[80, 30, 120, 70]]
    assert load_folder(tmp_path).format == "yolo"


def test_yolo_names_as_a_mapping(tmp_path):
    ds = load_yolo(_yolo_folder(tmp_path, "", names="{0: cat, 1: dog}"))
    assert ds.class_names == ("cat", "dog") and len(ds.samples[0].gt) == 0


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("0 0.5 0.5 0.2\n", r"x\.txt: line 1: expected 'class cx cy w h'"),
        (
            "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.1 0.1\n",
            r"x\.txt: line 2: class 7 is not in 'names'",
        ),
        ("a b c d e\n", "line 1: expected"),
    ],
)
def test_malformed_yolo_labels(tmp_path, labels, message):
    with pytest.raises(DatasetError, match=message):
        load_yolo(_yolo_folder(tmp_path, labels))


def test_malformed_yolo_yaml(tmp_path):
    path = _yolo_folder(tmp_path, "")
    path.write_text("names: [cat\nval: images/val\n")
    with pytest.raises(DatasetError, match=r"data\.yaml: malformed YAML at line"):
        load_yolo(path)
    path.write_text("val: images/val\n")
    with pytest.raises(DatasetError, match="missing field 'names'"):
        load_yolo(path)


def test_load_folder_recognises_formats(tmp_path):
    shutil.copytree(DATA_DIR / "voc2012-sample100", tmp_path / "voc")
    assert load_folder(tmp_path / "voc").format == "voc"
    coco = load_folder(DATA_DIR / "coco-val2017-first32")
    assert coco.format == "coco" and len(coco) == 32 and coco.samples[0].path.is_file()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="not a COCO"):
        load_folder(tmp_path / "empty")
