"""Dataset readers under hostile files: every path a dataset file names stays inside the
dataset's folder, and every malformed field gets a message naming the file and field,
never a server path or the content of a file outside the dataset."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from visioncompare.datasets import DatasetError
from visioncompare.datasets.coco import load_coco
from visioncompare.datasets.registry import DATA_DIR, load_folder
from visioncompare.datasets.types import confine_to
from visioncompare.datasets.voc import load_voc

SECRET = "SECRET-LINE-never-shown"


def _refused(tmp_path: Path, load, *patterns: str, written: str = "") -> str:
    """The DatasetError message of ``load()``: it names the patterns, holds no server path
    (beyond the path ``written`` in the dataset file, quoted back) and none of the
    secret's content."""
    with pytest.raises(DatasetError) as caught:
        load()
    message = str(caught.value)
    for pattern in patterns:
        assert pattern in message, (pattern, message)
    message = message.replace(repr(written), "") if written else message
    assert str(tmp_path) not in message and str(tmp_path.resolve()) not in message
    assert SECRET not in message
    return message


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file outside every dataset folder."""
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(f"{SECRET}\n")
    return path


def test_confine_to_keeps_paths_in_the_folder_and_not_in_a_sibling(tmp_path):
    root, sibling = tmp_path / "ds", tmp_path / "ds2"
    (root / "images").mkdir(parents=True)
    sibling.mkdir()
    (sibling / "x.jpg").write_bytes(b"x")
    (root / "images" / "alias.jpg").symlink_to(sibling / "x.jpg")
    (root / "images" / "inner.jpg").symlink_to(root / "a.jpg")
    confine = confine_to(root, root / "images")
    assert confine("a.jpg", "w") == (root / "images" / "a.jpg").resolve()
    assert confine("../a.jpg", "w") == (root / "a.jpg").resolve()
    assert confine("inner.jpg", "w") == (root / "a.jpg").resolve()
    assert confine("..", "w") == root.resolve()
    for outside in ("../../ds2/x.jpg", "alias.jpg", "../..", str(sibling), "/"):
        with pytest.raises(DatasetError, match=r"w: the path .* leads outside"):
            confine(outside, "w")
    for bad in ("", "a\x00b"):
        with pytest.raises(DatasetError, match="empty or invalid path"):
            confine(bad, "w")


# --- COCO ---------------------------------------------------------------------------


def _coco(root: Path, mutate=None) -> Path:
    """A COCO dataset folder (annotations/instances.json, images/a.jpg, images/b.jpg)."""
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (100, 80)).save(root / "images" / name)
    data = {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 100, "height": 80},
            {"id": 2, "file_name": "b.jpg", "width": 100, "height": 80},
        ],
        "annotations": [
            {"id": i, "image_id": 1 + i % 2, "category_id": 1 + i % 2, "iscrowd": 0,
             "bbox": [10, 10, 20, 30], "area": 600}
            for i in range(4)
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }  # fmt: skip
    if mutate:
        mutate(data)
    path = root / "annotations" / "instances.json"
    path.write_text(json.dumps(data))
    return path


def test_valid_coco_folder_loads(tmp_path):
    _coco(tmp_path / "ds")
    ds = load_folder(tmp_path / "ds")
    assert ds.format == "coco" and len(ds) == 2 and ds.num_boxes == 4
    assert ds.root == (tmp_path / "ds").resolve()
    assert [s.path for s in ds.samples] == [
        tmp_path / "ds" / "images" / n for n in ("a.jpg", "b.jpg")
    ]


@pytest.mark.parametrize(
    "file_name",
    ["../../../../etc/hostname", "/etc/hostname", "../../outside/secret.txt", "SECRET"],
)
def test_coco_file_name_outside_the_dataset_is_refused(tmp_path, secret, file_name):
    if file_name == "SECRET":
        file_name = str(secret)  # an absolute path to an existing file outside
    root = tmp_path / "ds"
    _coco(root, lambda d: d["images"][1].update(file_name=file_name))
    _refused(
        tmp_path,
        lambda: load_folder(root),
        "annotations/instances.json: images[1]: field 'file_name'",
        "leads outside the dataset's folder",
        written=file_name,
    )


def test_coco_symlink_out_of_the_dataset_is_refused(tmp_path, secret):
    root = tmp_path / "ds"
    _coco(root, lambda d: d["images"][0].update(file_name="link.jpg"))
    (root / "images" / "link.jpg").symlink_to(secret)
    _refused(
        tmp_path,
        lambda: load_folder(root),
        "images[0]: field 'file_name'",
        "'link.jpg' leads outside",
    )
    # a symlinked images folder leads out as well
    (root / "images" / "link.jpg").unlink()
    os.symlink(secret.parent, root / "images" / "sub")
    _coco(root, lambda d: d["images"][0].update(file_name="sub/secret.txt"))
    _refused(tmp_path, lambda: load_folder(root), "'sub/secret.txt' leads outside")


def test_coco_annotations_symlinked_from_outside_are_refused(tmp_path):
    real = _coco(tmp_path / "elsewhere")
    root = tmp_path / "ds"
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "instances.json").symlink_to(real)
    _refused(
        tmp_path,
        lambda: load_folder(root),
        "annotations/instances.json",
        "leads outside",
    )


def test_coco_file_names_may_use_folders_inside_the_dataset(tmp_path):
    root = tmp_path / "ds"
    _coco(root, lambda d: d["images"][0].update(file_name="../images/a.jpg"))
    ds = load_folder(root)
    assert ds.samples[0].path == root / "images" / "../images/a.jpg"


@pytest.mark.parametrize(
    ("mutate", "field", "detail"),
    [
        (
            lambda d: d["annotations"][3].update(iscrowd="yes"),
            "annotations[3]: field 'iscrowd'",
            "should be 0 or 1, got 'yes'",
        ),
        (
            lambda d: d["annotations"][3].update(iscrowd=2),
            "annotations[3]: field 'iscrowd'",
            "should be 0 or 1, got 2",
        ),
        (
            lambda d: d["annotations"][1].update(area="big"),
            "annotations[1]: field 'area'",
            "got 'big'",
        ),
        (
            lambda d: d["annotations"][1].update(area=-5),
            "annotations[1]: field 'area'",
            ">= 0, got -5",
        ),
        (
            lambda d: d["annotations"][2].update(area=float("inf")),
            "annotations[2]: field 'area'",
            "got inf",
        ),
        (
            lambda d: d["annotations"][0].update(bbox=[float("nan"), 1, 2, 3]),
            "annotations[0]: field 'bbox'",
            "4 finite numbers",
        ),
        (
            lambda d: d["annotations"][0].update(bbox=[1, 1, float("inf"), 3]),
            "annotations[0]: field 'bbox'",
            "4 finite numbers",
        ),
        (
            lambda d: d["annotations"][0].update(bbox=[1, 1, 10**400, 3]),
            "annotations[0]: field 'bbox'",
            "4 finite numbers",
        ),
        (
            lambda d: d["annotations"][0].update(bbox=[1, 1, "2", 3]),
            "annotations[0]: field 'bbox'",
            "4 finite numbers",
        ),
        (
            lambda d: d["annotations"][2].update(bbox=[1, 1, -2, 3]),
            "annotations[2]: field 'bbox'",
            "negative width or height",
        ),
        (
            lambda d: d["annotations"][2].update(bbox=[1, 1, 2, -3]),
            "annotations[2]: field 'bbox'",
            "negative width or height",
        ),
        (
            lambda d: d["categories"].append({"id": 1, "name": "bird"}),
            "categories[2]: field 'id'",
            "1 is already used by categories[0]",
        ),
        (
            lambda d: d["categories"].append({"id": 3, "name": "cat"}),
            "categories[2]: field 'name'",
            "'cat' is already used by categories[0]",
        ),
        (
            lambda d: d["images"][1].update(id=1),
            "images[1]: field 'id'",
            "1 is already used by images[0]",
        ),
        (
            lambda d: d["images"][0].update(width=0),
            "images[0]: field 'width'",
            "should be positive, got 0",
        ),
        (
            lambda d: d["images"][1].update(height=-80),
            "images[1]: field 'height'",
            "should be positive, got -80",
        ),
        (
            lambda d: d["images"][1].update(file_name=""),
            "images[1]: field 'file_name'",
            "empty or invalid path",
        ),
        (
            lambda d: d["annotations"].__setitem__(0, "not an object"),
            "annotations[0]",
            "should be an object, got str",
        ),
    ],
)
def test_malformed_coco_fields_name_the_file_and_field(tmp_path, mutate, field, detail):
    root = tmp_path / "ds"
    _coco(root, mutate)
    _refused(
        tmp_path,
        lambda: load_folder(root),
        f"annotations/instances.json: {field}",
        detail,
    )


def test_coco_iscrowd_accepts_json_booleans_and_area_defaults_to_the_box(tmp_path):
    def mutate(d):
        d["annotations"][0].update(iscrowd=True)
        del d["annotations"][1]["area"]

    ds = load_folder(_coco(tmp_path / "ds", mutate).parent.parent)
    by_id = {s.image_id: s for s in ds.samples}
    assert by_id[1].gt.extra["iscrowd"].tolist() == [1, 0]
    assert by_id[2].gt.extra["area"].tolist() == [600.0, 600.0]


def test_coco_not_utf8_or_deeply_nested_is_a_message(tmp_path):
    path = _coco(tmp_path / "ds")
    path.write_bytes(b'{"images": [\xff\xfe]}')
    _refused(tmp_path, lambda: load_folder(path), "instances.json: not UTF-8 text")
    path.write_text("[" * 100_000 + "]" * 100_000)
    _refused(tmp_path, lambda: load_folder(path), "instances.json")


def test_coco_with_images_outside_the_annotations_folder(tmp_path):
    """An explicit images folder elsewhere confines file names to that folder."""
    path = _coco(tmp_path / "ds", lambda d: d["images"][0].update(file_name="../x.jpg"))
    images = tmp_path / "pictures" / "val"
    images.mkdir(parents=True)
    _refused(
        tmp_path,
        lambda: load_coco(path, images),
        "instances.json: images[0]: field 'file_name'",
        "'../x.jpg' leads outside",
    )


def test_bundled_coco_subset_reads_as_pycocotools_reads_it():
    """The checks leave a valid dataset as it was: every image, box, iscrowd and area of
    the bundled subset equals what pycocotools reads from the same file."""
    root = DATA_DIR / "coco-val2017-first32"
    with contextlib.redirect_stdout(io.StringIO()):
        reference = COCO(str(root / "annotations" / "instances_val2017_first32.json"))
    ds = load_folder(root, voc_to_coco=False)
    assert ds.root == root.resolve()
    assert list(ds.category_ids) == sorted(reference.getCatIds())
    assert ds.class_names == tuple(
        c["name"] for c in reference.loadCats(sorted(reference.getCatIds()))
    )
    assert sorted(s.image_id for s in ds.samples) == sorted(reference.getImgIds())
    for sample in ds.samples:
        image = reference.imgs[sample.image_id]
        assert sample.path == root / "val2017" / image["file_name"]
        assert (sample.width, sample.height) == (image["width"], image["height"])
        anns = reference.loadAnns(reference.getAnnIds(imgIds=[sample.image_id]))
        xywh = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
        xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        np.testing.assert_array_equal(sample.gt.xyxy, xyxy.astype(np.float32))
        assert sample.gt.extra["iscrowd"].tolist() == [a["iscrowd"] for a in anns]
        assert sample.gt.extra["area"].tolist() == [a["area"] for a in anns]
        assert [ds.category_ids[c] for c in sample.gt.class_ids] == [
            a["category_id"] for a in anns
        ]


# --- VOC ----------------------------------------------------------------------------

BOX = "<xmin>11</xmin><ymin>11</ymin><xmax>30</xmax><ymax>40</ymax>"


def _voc(root: Path, box: str = BOX, difficult: str = "0", filename: str = "a.jpg",
         size: str = "<width>100</width><height>80</height>") -> Path:  # fmt: skip
    """A VOC folder with one image ``a`` listed in ImageSets/Main/val.txt."""
    for folder in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (100, 80)).save(root / "JPEGImages" / "a.jpg")
    (root / "ImageSets" / "Main" / "val.txt").write_text("a\n")
    (root / "Annotations" / "a.xml").write_text(
        f"<annotation><filename>{filename}</filename><size>{size}<depth>3</depth>"
        f"</size><object><name>dog</name><difficult>{difficult}</difficult>"
        f"<bndbox>{box}</bndbox></object></annotation>"
    )
    return root


def test_valid_voc_folder_loads(tmp_path):
    ds = load_folder(_voc(tmp_path / "voc"))
    assert ds.format == "voc" and len(ds) == 1
    assert ds.samples[0].path == tmp_path / "voc" / "JPEGImages" / "a.jpg"
    assert ds.samples[0].gt.xyxy.tolist() == [[10, 10, 30, 40]]


@pytest.mark.parametrize(
    "filename", ["../../outside/secret.txt", "/etc/hostname", "SECRET"]
)
def test_voc_filename_outside_the_dataset_is_refused(tmp_path, secret, filename):
    filename = str(secret) if filename == "SECRET" else filename
    root = _voc(tmp_path / "voc", filename=filename)
    _refused(
        tmp_path,
        lambda: load_folder(root),
        "Annotations/a.xml: <filename>",
        "leads outside the dataset's folder",
        written=filename,
    )


def test_voc_image_set_naming_files_outside_is_refused(tmp_path, secret):
    root = _voc(tmp_path / "voc")
    (secret.parent / "x.xml").write_text(f"<annotation>{SECRET}</annotation>")
    (root / "ImageSets" / "Main" / "val.txt").write_text("a\n../../outside/x\n")
    _refused(
        tmp_path,
        lambda: load_folder(root),
        "ImageSets/Main/val.txt: line 2",
        "'Annotations/../../outside/x.xml' leads outside",
    )


def test_voc_symlinks_out_of_the_dataset_are_refused(tmp_path, secret):
    root = _voc(tmp_path / "voc")
    outside_xml = secret.parent / "b.xml"
    outside_xml.write_text("<annotation><size><width>w</width></size></annotation>")
    (root / "Annotations" / "b.xml").symlink_to(outside_xml)
    (root / "ImageSets" / "Main" / "val.txt").write_text("a\nb\n")
    _refused(tmp_path, lambda: load_folder(root), "line 2", "leads outside")
    # without an image set every XML file is read, and the symlink is still refused
    (root / "ImageSets" / "Main" / "val.txt").unlink()
    _refused(tmp_path, lambda: load_folder(root), "Annotations/b.xml", "leads outside")
    # an image set symlinked from outside
    (root / "Annotations" / "b.xml").unlink()
    (root / "ImageSets" / "Main" / "val.txt").symlink_to(secret)
    _refused(tmp_path, lambda: load_folder(root), "ImageSets/Main/val.txt", "outside")
    # and an image symlinked from outside
    (root / "ImageSets" / "Main" / "val.txt").unlink()
    (root / "JPEGImages" / "a.jpg").unlink()
    (root / "JPEGImages" / "a.jpg").symlink_to(secret)
    _refused(tmp_path, lambda: load_folder(root), "<filename>", "'a.jpg' leads outside")


@pytest.mark.parametrize(
    ("kwargs", "field", "detail"),
    [
        (
            {"difficult": "yes"},
            "object 0: <difficult>",
            "should be a number, got 'yes'",
        ),
        ({"difficult": "2"}, "object 0: <difficult>", "should be 0 or 1, got 2"),
        ({"difficult": "nan"}, "object 0: <difficult>", "finite number, got 'nan'"),
        (
            {"box": BOX.replace("<xmin>11", "<xmin>nan")},
            "object 0: <bndbox/xmin>",
            "should be a finite number, got 'nan'",
        ),
        (
            {"box": BOX.replace("<ymax>40", "<ymax>inf")},
            "object 0: <bndbox/ymax>",
            "should be a finite number, got 'inf'",
        ),
        (
            {"box": BOX.replace("<xmax>30", "<xmax>5")},
            "object 0",
            "xmax/ymax smaller than xmin/ymin",
        ),
        (
            {"size": "<width>0</width><height>80</height>"},
            "<size/width>",
            "should be a positive size, got 0",
        ),
        (
            {"size": "<width>100</width><height>-8</height>"},
            "<size/height>",
            "should be a positive size, got -8",
        ),
        (
            {"size": "<width>nan</width><height>80</height>"},
            "<size/width>",
            "finite number, got 'nan'",
        ),
    ],
)
def test_malformed_voc_fields_name_the_file_and_field(tmp_path, kwargs, field, detail):
    root = _voc(tmp_path / "voc", **kwargs)
    _refused(tmp_path, lambda: load_folder(root), f"Annotations/a.xml: {field}", detail)


def test_voc_unreadable_files_are_messages(tmp_path):
    root = _voc(tmp_path / "voc")
    (root / "ImageSets" / "Main" / "val.txt").write_bytes(b"a\n\xff\n")
    _refused(tmp_path, lambda: load_folder(root), "ImageSets/Main/val.txt: not UTF-8")
    (root / "ImageSets" / "Main" / "val.txt").write_text("a\nmissing\n")
    _refused(
        tmp_path, lambda: load_folder(root), "Annotations/missing.xml: listed in the"
    )
    # entity expansion (a "billion laughs" file) is refused by the XML parser
    laughs = "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10)
    )
    (root / "ImageSets" / "Main" / "val.txt").write_text("a\n")
    (root / "Annotations" / "a.xml").write_text(
        f"<!DOCTYPE a [{laughs}]><annotation><filename>&l9;</filename></annotation>"
    )
    _refused(tmp_path, lambda: load_folder(root), "Annotations/a.xml: malformed XML")


def test_voc_not_a_folder_message_names_only_the_folder(tmp_path):
    (tmp_path / "plain").mkdir()
    message = _refused(tmp_path, lambda: load_voc(tmp_path / "plain"), "not a VOC")
    assert message.startswith("plain: ")


# --- YOLO ---------------------------------------------------------------------------


def _yolo(root: Path, labels: str = "1 0.5 0.5 0.2 0.4\n", yaml: str = "") -> Path:
    """A YOLO folder: data.yaml, images/val/x.jpg (200x100), labels/val/x.txt."""
    (root / "images" / "val").mkdir(parents=True, exist_ok=True)
    (root / "labels" / "val").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (200, 100)).save(root / "images" / "val" / "x.jpg")
    (root / "labels" / "val" / "x.txt").write_text(labels)
    (root / "data.yaml").write_text(
        yaml or "path: .\nval: images/val\nnames: [cat, dog]\n"
    )
    return root


def test_valid_yolo_folder_loads(tmp_path):
    ds = load_folder(_yolo(tmp_path / "yolo"))
    assert ds.format == "yolo" and ds.root == (tmp_path / "yolo").resolve()
    assert ds.samples[0].gt.xyxy.tolist() == [[80, 30, 120, 70]]


def _hostname() -> str:
    try:
        return Path("/etc/hostname").read_text().strip()
    except OSError:
        return ""


@pytest.mark.parametrize("val", ["etc", "etc/hostname", "etc/passwd"])
def test_yolo_path_at_the_file_system_root_is_refused(tmp_path, val):
    root = _yolo(tmp_path / "yolo", yaml=f"path: /\nval: {val}\nnames: [a]\n")
    message = _refused(
        tmp_path,
        lambda: load_folder(root),
        "data.yaml: field 'path'",
        "'/' leads outside the dataset's folder",
    )
    hostname = _hostname()
    assert not hostname or hostname not in message
    assert "root:" not in message  # no line of /etc/passwd


@pytest.mark.parametrize(
    ("yaml", "field", "written"),
    [
        ("path: ..\nval: outside/secret.txt\n", "field 'path'", "'..'"),
        ("path: SECRET_DIR\nval: secret.txt\n", "field 'path'", ""),
        (
            "val: ../outside/secret.txt\n",
            "field 'val'",
            "'../outside/secret.txt' leads",
        ),
        ("val: ../../../../../etc\n", "field 'val'", "leads outside"),
        ("val: /etc\n", "field 'val'", "'/etc' leads outside"),
        ("path: .\ntrain: images/val\nval: [images/val]\n", "field 'val'", "a folder"),
    ],
)
def test_yolo_val_or_path_outside_the_dataset_is_refused(
    tmp_path, secret, yaml, field, written
):
    yaml = yaml.replace("SECRET_DIR", str(secret.parent))
    root = _yolo(tmp_path / "yolo", yaml=f"{yaml}names: [a, b]\n")
    _refused(
        tmp_path,
        lambda: load_folder(root),
        f"data.yaml: {field}",
        written,
        written=str(secret.parent),
    )


def test_yolo_roboflow_parent_paths_stay_inside(tmp_path):
    """Roboflow writes ``val: ../valid/images`` beside data.yaml; like Ultralytics, the
    leading ``../`` is dropped when it leads out of the dataset."""
    root = tmp_path / "yolo"
    (root / "valid" / "images").mkdir(parents=True)
    (root / "valid" / "labels").mkdir()
    Image.new("RGB", (200, 100)).save(root / "valid" / "images" / "x.jpg")
    (root / "valid" / "labels" / "x.txt").write_text("0 0.5 0.5 0.2 0.4\n")
    (root / "data.yaml").write_text("val: ../valid/images\nnames: [a]\n")
    ds = load_folder(root)
    assert len(ds) == 1 and ds.samples[0].gt.xyxy.tolist() == [[80, 30, 120, 70]]


def test_yolo_image_list_lines_outside_the_dataset_are_refused(tmp_path, secret):
    root = _yolo(tmp_path / "yolo", yaml="path: .\nval: val.txt\nnames: [a, b]\n")
    (root / "val.txt").write_text(
        f"images/val/x.jpg\n../outside/secret.txt\n{secret}\n"
    )
    _refused(
        tmp_path,
        lambda: load_folder(root),
        "val.txt: line 2",
        "'../outside/secret.txt' leads outside",
    )
    (root / "val.txt").write_text(f"images/val/x.jpg\n{secret}\n")
    _refused(
        tmp_path, lambda: load_folder(root), "val.txt: line 2", written=str(secret)
    )
    (root / "val.txt").write_text("images/val/x.jpg\n")
    assert len(load_folder(root)) == 1


def test_yolo_symlinks_out_of_the_dataset_are_refused(tmp_path, secret):
    root = _yolo(tmp_path / "yolo", yaml="path: .\nval: val.txt\nnames: [a, b]\n")
    (root / "val.txt").symlink_to(secret)  # the leak: its lines would be shown
    _refused(tmp_path, lambda: load_folder(root), "data.yaml: field 'val'", "outside")
    (root / "val.txt").unlink()
    (root / "data.yaml").write_text("path: .\nval: images/val\nnames: [a, b]\n")
    # a label file from outside, whose line would be quoted back
    (root / "labels" / "val" / "x.txt").unlink()
    (root / "labels" / "val" / "x.txt").symlink_to(secret)
    _refused(tmp_path, lambda: load_folder(root), "labels/val/x.txt", "outside")
    (root / "labels" / "val" / "x.txt").unlink()
    # an image from outside
    (root / "images" / "val" / "y.jpg").symlink_to(secret)
    _refused(tmp_path, lambda: load_folder(root), "images/val/y.jpg", "outside")
    (root / "images" / "val" / "y.jpg").unlink()
    # a data.yaml from outside
    (secret.parent / "data.yaml").write_text(f"val: {SECRET}\nnames: [a]\n")
    (root / "data.yaml").unlink()
    (root / "data.yaml").symlink_to(secret.parent / "data.yaml")
    _refused(tmp_path, lambda: load_folder(root), "data.yaml", "outside")


def test_yolo_labels_beside_a_folder_called_images_stay_inside(tmp_path, secret):
    """The images -> labels rule applies inside the dataset's folder only."""
    root = tmp_path / "images" / "ds"
    (root / "val").mkdir(parents=True)
    Image.new("RGB", (200, 100)).save(root / "val" / "x.jpg")
    (tmp_path / "labels" / "ds" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "ds" / "val" / "x.txt").write_text(SECRET)
    (root / "val" / "x.txt").write_text("0 0.5 0.5 0.2 0.4\n")
    (root / "data.yaml").write_text("val: val\nnames: [a]\n")
    assert load_folder(root).samples[0].gt.xyxy.tolist() == [[80, 30, 120, 70]]


@pytest.mark.parametrize(
    ("labels", "detail"),
    [
        ("0 nan 0.5 0.2 0.2\n", "line 1: 'cx' should be a finite number, got 'nan'"),
        ("0 0.5 0.5 0.2 0.2\n1 0.5 inf 0.2 0.2\n", "line 2: 'cy' should be a finite"),
        ("0 0.5 0.5 -0.2 0.2\n", "line 1: width 'w' or height 'h' is negative"),
        ("0 0.5 0.5 0.2 -0.2\n", "line 1: width 'w' or height 'h' is negative"),
        ("2 0.5 0.5 0.2 0.2\n", "line 1: class 2 is not in 'names' (0..1)"),
        ("-1 0.5 0.5 0.2 0.2\n", "line 1: class -1 is not in 'names'"),
        ("1.0 0.5 0.5 0.2 0.2\n", "line 1: expected 'class cx cy w h'"),
        ("0 0.5 0.5 0.2 0.2 7\n", "line 1: expected 'class cx cy w h'"),
    ],
)
def test_malformed_yolo_labels_name_the_file_line_and_field(tmp_path, labels, detail):
    root = _yolo(tmp_path / "yolo", labels=labels)
    _refused(tmp_path, lambda: load_folder(root), f"labels/val/x.txt: {detail}")


def test_yolo_unreadable_files_are_messages(tmp_path):
    root = _yolo(tmp_path / "yolo")
    (root / "images" / "val" / "bad.jpg").write_bytes(b"not an image at all")
    _refused(tmp_path, lambda: load_folder(root), "images/val/bad.jpg: cannot read")
    (root / "images" / "val" / "bad.jpg").unlink()
    (root / "labels" / "val" / "x.txt").write_bytes(b"0 0.5 0.5 0.2 \xff\n")
    _refused(tmp_path, lambda: load_folder(root), "labels/val/x.txt: not UTF-8")
    (root / "data.yaml").write_bytes(b"names: [a]\nval: \xff\n")
    _refused(tmp_path, lambda: load_folder(root), "data.yaml: not UTF-8")
    (root / "data.yaml").write_text("path: [1, 2]\nval: images/val\nnames: [a]\n")
    _refused(tmp_path, lambda: load_folder(root), "data.yaml: field 'path'")
    (root / "data.yaml").write_text("val: nowhere\nnames: [a]\n")
    _refused(tmp_path, lambda: load_folder(root), "'val: nowhere' does not exist")


def test_load_folder_messages_name_only_what_was_given(tmp_path):
    message = _refused(
        tmp_path, lambda: load_folder("no/such/folder"), "no/such/folder: no such"
    )
    assert message.startswith("no/such/folder: ")
    message = _refused(
        tmp_path, lambda: load_folder("~/no-such-dataset"), "~/no-such-dataset"
    )
    assert str(Path.home()) not in message


def test_yolo_yaml_bombs_and_odd_names_are_messages(tmp_path):
    root = _yolo(tmp_path / "yolo")
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]" for i in range(1, 12)]
    bomb = "\n".join(levels)
    for names, detail in [
        ("[*a11]", "'names' entry 0 should be a class name, got list"),
        ("{0: cat, 1: *a11}", "'names' entry 1 should be a class name"),
        ("{0: cat, 2: dog}", "'names' should be indexed 0..1"),
        ("{0: cat, '0': dog}", "'names' key '0' is not valid"),
        ("{x: cat}", "'names' keys should be class indices, got 'x'"),
        ("[a]\npath: *a11", "field 'path' should be a folder, got list"),
        ("[cat, dog, cat]", "'names' entry 2 'cat' is already used by entry 0"),
        ("{0: cat, 1: 7, 2: '7'}", "'names' entry 2 '7' is already used by entry 1"),
    ]:
        (root / "data.yaml").write_text(f"{bomb}\nval: images/val\nnames: {names}\n")
        _refused(tmp_path, lambda: load_folder(root), f"data.yaml: {detail}")
    (root / "data.yaml").write_text("names: " + "[" * 50_000 + "]" * 50_000 + "\n")
    _refused(tmp_path, lambda: load_folder(root), "data.yaml")


def test_coco_number_too_long_is_a_message(tmp_path):
    path = _coco(tmp_path / "ds")
    path.write_text('{"images": [' + "1" * 5000 + "]}")
    _refused(tmp_path, lambda: load_folder(path), "instances.json: a number too long")


def test_a_folder_that_is_no_dataset_is_named_by_its_name(tmp_path):
    (tmp_path / "upload").mkdir()
    message = _refused(tmp_path, lambda: load_folder(tmp_path / "upload"), "not a COCO")
    assert message.startswith("upload: ")
