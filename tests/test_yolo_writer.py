"""The YOLO writer: a Dataset written as a YOLO copy reads back through our YOLO reader
with the same images and boxes (crowd and difficult objects left out, as Ultralytics'
labels leave them out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from visioncompare.datasets.registry import load_bundled
from visioncompare.datasets.types import Dataset, DatasetError, Sample, make_gt
from visioncompare.datasets.yolo import load_yolo
from visioncompare.datasets.yolo_writer import copy_names, write_yolo


def _kept(sample: Sample) -> tuple[np.ndarray, list[str]]:
    gt = sample.gt
    keep = (gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)
    return gt.xyxy[keep], [gt.class_names[c] for c in gt.class_ids[keep]]


def _by_name(dataset: Dataset) -> dict[str, Sample]:
    return {s.name: s for s in dataset.samples}


def test_the_bundled_coco_subset_round_trips_through_the_yolo_reader(tmp_path):
    dataset = load_bundled("coco-val2017-first32")
    data_yaml = write_yolo(dataset, tmp_path / "copy")
    back = load_yolo(data_yaml)
    assert back.class_names == dataset.class_names
    assert len(back) == len(dataset) == 32
    crowd = sum(int(s.gt.extra["iscrowd"].sum()) for s in dataset.samples)
    assert crowd == 4 and back.num_boxes == dataset.num_boxes - crowd
    written = _by_name(back)
    for sample in dataset.samples:
        copy = written[sample.name]
        assert (copy.width, copy.height) == (sample.width, sample.height)
        assert copy.path.read_bytes() == sample.path.read_bytes()
        assert not copy.path.is_symlink()
        boxes, names = _kept(sample)
        assert [back.class_names[c] for c in copy.gt.class_ids] == names
        np.testing.assert_allclose(copy.gt.xyxy, boxes, atol=1e-3)


def _image(path: Path, size=(40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 120, 150)).save(path)
    return path


def _small_dataset(tmp_path: Path) -> Dataset:
    names = ("cat", "dog")
    samples = (
        Sample(7, _image(tmp_path / "src" / "a" / "x.png"), 40, 30,
               make_gt([[0, 0, 20, 10], [5, 5, 45, 35], [1, 1, 2, 2]], [1, 0, 0], names,
                       iscrowd=[0, 0, 1], difficult=[0, 0, 0])),
        Sample(9, _image(tmp_path / "src" / "b" / "x.png"), 40, 30,
               make_gt([[2, 2, 12, 12], [3, 3, 9, 9]], [0, 1], names,
                       difficult=[1, 0])),
        Sample(11, _image(tmp_path / "src" / "b" / "y.png"), 40, 30,
               make_gt([], [], names)),
    )  # fmt: skip
    return Dataset("small", "coco", tmp_path / "src", names, samples)


def test_labels_index_the_given_class_list_and_boxes_are_clipped(tmp_path):
    dataset = _small_dataset(tmp_path)
    names = ("bird", "dog", "horse", "cat")
    back = load_yolo(write_yolo(dataset, tmp_path / "copy", class_names=names))
    assert back.class_names == names
    assert copy_names(dataset) == ["x.png", "9_x.png", "y.png"]
    written = _by_name(back)
    first = written["x.png"].gt  # the crowd box left out, the second box clipped
    assert [names[c] for c in first.class_ids] == ["dog", "cat"]
    np.testing.assert_allclose(first.xyxy, [[0, 0, 20, 10], [5, 5, 40, 30]], atol=1e-4)
    second = written["9_x.png"].gt  # the difficult box left out
    assert [names[c] for c in second.class_ids] == ["dog"]
    np.testing.assert_allclose(second.xyxy, [[3, 3, 9, 9]], atol=1e-4)
    assert len(written["y.png"].gt) == 0
    label = tmp_path / "copy" / "labels" / "val" / "y.txt"
    assert label.is_file() and label.read_text() == ""


def test_a_class_missing_from_the_list_or_an_image_missing_is_refused(tmp_path):
    dataset = _small_dataset(tmp_path)
    with pytest.raises(DatasetError, match=r"classes not among the 2 the labels index: dog$"):
        write_yolo(dataset, tmp_path / "copy", class_names=("cat", "bird"))
    dataset.samples[2].path.unlink()
    with pytest.raises(DatasetError, match=r"image y\.png is not on disk"):
        write_yolo(dataset, tmp_path / "other")
