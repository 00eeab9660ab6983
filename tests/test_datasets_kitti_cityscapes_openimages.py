"""KITTI, Cityscapes and Open Images folders: read, recognised by ``load_folder``, scored
end to end through the CLI, their ignore regions scored exactly as pycocotools scores
crowd boxes, and every malformed field named with its file and line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.reference import pycocotools_eval
from visioncompare.datasets import DatasetError
from visioncompare.datasets.cityscapes import CITYSCAPES_TO_COCO
from visioncompare.datasets.kitti import (
    DIFFICULTIES,
    FIELDS,
    KITTI_TO_COCO,
    at_difficulty,
    difficulty_counts,
    load_kitti,
)
from visioncompare.datasets.openimages import OPENIMAGES_TO_COCO, load_openimages
from visioncompare.datasets.registry import load_bundled, load_folder
from visioncompare.evaluation.metrics.cocoeval import STAT_NAMES
from visioncompare.evaluation.prediction_runs import dataset_fingerprint
from visioncompare.services.cli import main as cli

# One scene per image, in pixels: (raw label, xyxy, ignore region?). The same objects are
# written in each format; ``expected_name`` is the class each reader should report.
SCENES = {
    "a": (200, 150, [
        ("car", [10, 20, 60, 70], False),
        ("person", [100, 30, 130, 110], False),
        ("car", [140, 10, 190, 60], True),
        ("other", [20, 90, 70, 140], False),
    ]),
    "b": (160, 120, [
        ("car", [5, 5, 55, 45], False),
        ("person", [70, 20, 90, 80], False),
        ("person", [100, 10, 150, 110], True),
    ]),
    "c": (180, 100, [
        ("car", [30, 30, 90, 80], False),
        ("person", [120, 10, 140, 90], False),
        ("rider", [150, 20, 170, 95], False),
    ]),
}  # fmt: skip

RAW = {  # the scene's generic labels as each format writes them
    "kitti": {"car": "Car", "person": "Pedestrian", "rider": "Person_sitting",
              "other": "Cyclist"},
    "cityscapes": {"car": "car", "person": "person", "rider": "rider",
                   "other": "bicycle"},
    "openimages": {"car": "Car", "person": "Person", "rider": "Man", "other": "Tree"},
}  # fmt: skip
EXPECTED_NAME = {  # what a COCO detector is scored on
    "kitti": {"car": "car", "person": "person", "rider": "person", "other": "Cyclist"},
    "cityscapes": {"car": "car", "person": "person", "rider": "person",
                   "other": "bicycle"},
    "openimages": {"car": "car", "person": "person", "rider": "person", "other": "Tree"},
}  # fmt: skip
MIDS = {"Car": "/m/0k4j", "Person": "/m/01g317", "Man": "/m/04yx4", "Tree": "/m/07j7r"}


def _image(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def kitti_line(label: str, box, truncated=0.0, occluded=0) -> str:
    left, top, right, bottom = box
    return (
        f"{label} {truncated:.2f} {occluded} -1.57 {left:.2f} {top:.2f} {right:.2f} "
        f"{bottom:.2f} 1.50 1.60 3.90 1.00 1.70 20.00 -1.50"
    )


def write_kitti(root: Path) -> None:
    for index, (width, height, objects) in enumerate(SCENES.values()):
        stem = f"{index:06d}"
        _image(root / "image_2" / f"{stem}.png", width, height)
        lines = [
            kitti_line("DontCare" if ignore else RAW["kitti"][label], box)
            for label, box, ignore in objects
        ]
        (root / "label_2").mkdir(parents=True, exist_ok=True)
        (root / "label_2" / f"{stem}.txt").write_text("\n".join(lines) + "\n")


def _rectangle(box) -> list[list[float]]:
    x1, y1, x2, y2 = box
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]


def write_cityscapes(root: Path) -> None:
    for key, (width, height, objects) in SCENES.items():
        stem = f"frankfurt_000000_00000{ord(key) - ord('a')}"
        _image(
            root / "leftImg8bit/val/frankfurt" / f"{stem}_leftImg8bit.png",
            width,
            height,
        )
        data = {
            "imgHeight": height,
            "imgWidth": width,
            "objects": [{"label": "road", "polygon": _rectangle([0, 0, width, height])}]
            + [
                {
                    "label": RAW["cityscapes"][label] + ("group" if ignore else ""),
                    "polygon": _rectangle(box),
                }
                for label, box, ignore in objects
            ],
        }
        path = root / "gtFine/val/frankfurt" / f"{stem}_gtFine_polygons.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))


OI_HEADER = (
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,"
    "IsGroupOf,IsDepiction,IsInside"
)


def write_openimages(root: Path) -> None:
    rows = [OI_HEADER]
    for key, (width, height, objects) in SCENES.items():
        image_key = f"00{key}f3c1d2e4b5a6"
        _image(root / "images" / f"{image_key}.jpg", width, height)
        for label, (x1, y1, x2, y2), ignore in objects:
            mid = MIDS[RAW["openimages"][label]]
            rows.append(
                f"{image_key},xclick,{mid},1,{x1 / width!r},{x2 / width!r},"
                f"{y1 / height!r},{y2 / height!r},0,0,{int(ignore)},0,0"
            )
    (root / "validation-annotations-bbox.csv").write_text("\n".join(rows) + "\n")
    (root / "class-descriptions-boxable.csv").write_text(
        "".join(f"{mid},{name}\n" for name, mid in MIDS.items())
    )


WRITERS = {
    "kitti": write_kitti,
    "cityscapes": write_cityscapes,
    "openimages": write_openimages,
}


def reference_coco(fmt: str, image_ids: list[int]) -> dict:
    """The scenes as a COCO instances dict written here, independently of the readers:
    ignore regions are ``iscrowd`` 1 of their class (KITTI's DontCare: of every class)."""
    names = EXPECTED_NAME[fmt]
    classes = sorted({names[label] for s in SCENES.values() for label, _, ig in s[2]
                      if not ig})  # fmt: skip
    category = {name: i + 1 for i, name in enumerate(classes)}
    images, annotations = [], []
    for image_id, (width, height, objects) in zip(image_ids, SCENES.values()):
        images.append({"id": image_id, "width": width, "height": height,
                       "file_name": f"{image_id}.png"})  # fmt: skip
        for label, (x1, y1, x2, y2), ignore in objects:
            cats = classes if ignore and fmt == "kitti" else [names[label]]
            for name in cats:
                annotations.append({
                    "id": len(annotations) + 1, "image_id": image_id,
                    "category_id": category[name], "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": float((x2 - x1) * (y2 - y1)), "iscrowd": int(ignore),
                })  # fmt: skip
    categories = [{"id": i, "name": n} for n, i in category.items()]
    return {"images": images, "annotations": annotations, "categories": categories}


def results_for(reference: dict, seed: int = 0) -> list[dict]:
    """Detections on the scenes: each object found a little off, a false positive in
    each ignore region (ignored there), and one elsewhere (counted)."""
    rng = np.random.default_rng(seed)
    results = []
    for ann in reference["annotations"]:
        x, y, w, h = ann["bbox"]
        count = 2 if ann["iscrowd"] else 1
        for _ in range(count):
            jitter = (
                rng.uniform(-3, 3, 4) if not ann["iscrowd"] else rng.uniform(0, 5, 4)
            )
            box = [x + jitter[0], y + jitter[1], w - abs(jitter[2]), h - abs(jitter[3])]
            results.append({"image_id": ann["image_id"], "category_id": ann["category_id"],
                            "bbox": box, "score": float(rng.uniform(0.3, 1))})  # fmt: skip
    for image in reference["images"]:
        for category in reference["categories"]:
            box = [float(v) for v in rng.uniform(0, 40, 2)] + [30.0, 25.0]
            results.append({"image_id": image["id"], "category_id": category["id"],
                            "bbox": box, "score": float(rng.uniform(0, 0.6))})  # fmt: skip
    return results


def by_name(reference: dict, results: list[dict]) -> list[dict]:
    """The results naming their class (``category_name``), as a file from a tool with
    its own category ids would, so the readers' renames are what matches them."""
    names = {c["id"]: c["name"] for c in reference["categories"]}
    return [
        {**{k: v for k, v in r.items() if k != "category_id"},
         "category_name": names[r["category_id"]]}
        for r in results
    ]  # fmt: skip


def _loaded(fmt: str, tmp_path: Path):
    root = tmp_path / fmt
    WRITERS[fmt](root)
    dataset = load_folder(root)
    assert dataset.format == fmt
    return root, dataset


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_layout_is_recognised_and_read(fmt, tmp_path):
    _, dataset = _loaded(fmt, tmp_path)
    names = EXPECTED_NAME[fmt]
    assert len(dataset) == 3
    for sample, (width, height, objects) in zip(dataset.samples, SCENES.values()):
        assert (sample.width, sample.height) == (width, height)
        assert sample.path.is_file()
        real = [(names[label], box) for label, box, ignore in objects if not ignore]
        crowd = sample.gt.extra["iscrowd"] == 1
        got = [(sample.gt.class_names[c], b) for c, b in
               zip(sample.gt.class_ids[~crowd], sample.gt.xyxy[~crowd].tolist())]  # fmt: skip
        assert [n for n, _ in got] == [n for n, _ in real]
        assert np.allclose([b for _, b in got], [b for _, b in real], atol=1e-4)
        regions = {tuple(b) for b in sample.gt.xyxy[crowd].tolist()}
        assert regions == {tuple(map(float, b)) for _, b, ig in objects if ig}


def test_class_names_map_to_coco_names_only_where_they_mean_the_same():
    coco = set(load_bundled("coco-val2017-first32").class_names)
    for table in (KITTI_TO_COCO, CITYSCAPES_TO_COCO, OPENIMAGES_TO_COCO):
        assert set(table.values()) <= coco
    # A cyclist box covers a person and a bicycle: no COCO class means it.
    assert "Cyclist" not in KITTI_TO_COCO and "Van" not in KITTI_TO_COCO


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_renames_and_classes_coco_cannot_name_are_shown(fmt, tmp_path):
    _, dataset = _loaded(fmt, tmp_path)
    renamed = {
        RAW[fmt][k]: v for k, v in EXPECTED_NAME[fmt].items() if RAW[fmt][k] != v
    }
    assert dataset.renamed == renamed
    unnamed = {"kitti": "Cyclist", "openimages": "Tree"}.get(fmt)
    if unnamed:
        assert any(f"COCO has no class for: {unnamed}" in n for n in dataset.notes)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_cli_scores_ignore_regions_as_pycocotools_scores_crowd(
    fmt, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    root, dataset = _loaded(fmt, tmp_path)
    reference = reference_coco(fmt, [s.image_id for s in dataset.samples])
    results = results_for(reference)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(by_name(reference, results)))
    code = cli(["evaluate", "--dataset", str(root), "--predictions", str(path),
                "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    ours = json.loads((tmp_path / "out" / "metrics.json").read_text())["coco"]
    expected, _ = pycocotools_eval(reference, results)
    assert [ours[name] for name in STAT_NAMES] == pytest.approx(expected, abs=1e-9)
    # The ignore regions matter: scored as ordinary boxes, the numbers change.
    plain = {**reference, "annotations": [
        {**a, "iscrowd": 0} for a in reference["annotations"]]}  # fmt: skip
    without, _ = pycocotools_eval(plain, results)
    assert not np.allclose(without, expected)


def test_kitti_difficulty_follows_the_devkit(tmp_path):
    root = tmp_path / "kitti"
    _image(root / "image_2" / "000000.png", 300, 200)
    lines = [
        kitti_line("Car", [0, 0, 50, 41]),  # easy: taller than 40, visible
        kitti_line("Car", [0, 0, 50, 40]),  # 40 px: the devkit's easy needs > 40
        kitti_line("Car", [0, 0, 50, 60], occluded=1),  # moderate
        kitti_line("Car", [0, 0, 50, 60], truncated=0.4),  # hard
        kitti_line("Car", [0, 0, 50, 25]),  # too small for any level
        kitti_line("Car", [0, 0, 50, 60], occluded=3),  # unknown occlusion
        kitti_line("DontCare", [100, 100, 150, 150]),
    ]
    (root / "label_2").mkdir()
    (root / "label_2" / "000000.txt").write_text("\n".join(lines))
    dataset = load_kitti(root, KITTI_TO_COCO)
    gt = dataset.samples[0].gt
    assert gt.extra["difficulty"].tolist() == [0, 1, 1, 2, -1, -1, -1]
    assert gt.extra["iscrowd"].tolist() == [0, 0, 0, 0, 0, 0, 1]
    for level, kept in zip(DIFFICULTIES, ([0], [0, 1, 2], [0, 1, 2, 3])):
        restricted = at_difficulty(dataset, level).samples[0].gt
        assert np.flatnonzero(restricted.extra["iscrowd"] == 0).tolist() == kept
    with pytest.raises(ValueError, match="easy, moderate, hard"):
        at_difficulty(dataset, "medium")
    counts = {"every": 6, "easy": 1, "moderate": 3, "hard": 4}
    assert difficulty_counts(dataset) == counts
    # The level keeps the images and boxes (stored predictions are reused) and says so.
    hard = at_difficulty(dataset, "hard")
    assert dataset_fingerprint(hard) == dataset_fingerprint(dataset)
    assert hard.notes[-1].startswith("Scored at KITTI difficulty hard: 2 boxes")


def test_kitti_difficulty_scores_as_pycocotools_with_the_rest_ignored(tmp_path):
    """At a level, the boxes outside it are crowd boxes, in our metrics as in pycocotools."""
    from visioncompare.evaluation.metrics.coco import coco_ground_truth
    from visioncompare.evaluation.results_file import load_coco_results
    from visioncompare.services.report import evaluate_predictions

    root, _ = _loaded("kitti", tmp_path)
    lines = (root / "label_2" / "000000.txt").read_text().splitlines()
    lines[0] = kitti_line("Car", [10, 20, 60, 70], occluded=2)  # hard now
    (root / "label_2" / "000000.txt").write_text("\n".join(lines))
    easy = at_difficulty(load_folder(root), "easy")
    reference = coco_ground_truth(easy)
    crowd = [a["bbox"] for a in reference["annotations"] if a["iscrowd"]]
    assert [10.0, 20.0, 50.0, 50.0] in crowd
    results = results_for(reference, seed=1)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    detections, _ = load_coco_results(str(path), easy)
    ours = evaluate_predictions(easy, detections, "file").coco.stats
    expected, _ = pycocotools_eval(reference, results)
    assert [ours[name] for name in STAT_NAMES] == pytest.approx(expected, abs=1e-9)


def kitti_easy_reference(image_ids: list[int]) -> dict:
    """The KITTI scenes at the easy level, written from the devkit's rule alone: with
    every fixture box visible and untruncated, a box 40 px tall or less is ignored."""
    reference = reference_coco("kitti", image_ids)
    annotations = [
        {**a, "iscrowd": 1} if a["bbox"][3] <= 40 else a
        for a in reference["annotations"]
    ]
    assert sum(a["iscrowd"] for a in annotations) > sum(
        a["iscrowd"] for a in reference["annotations"]
    )
    return {**reference, "annotations": annotations}


def test_cli_scores_one_kitti_difficulty_as_pycocotools(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "runs"
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(runs))
    root, dataset = _loaded("kitti", tmp_path)
    image_ids = [s.image_id for s in dataset.samples]
    every, easy = reference_coco("kitti", image_ids), kitti_easy_reference(image_ids)
    results = results_for(every)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(by_name(every, results)))
    code = cli(["evaluate", "--dataset", str(root), "--predictions", str(path),
                "--kitti-difficulty", "easy"])  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "note: Scored at KITTI difficulty easy: 1 boxes outside it" in printed.out
    (metrics,) = runs.glob("kitti-easy/results/metrics.json")
    written = json.loads(metrics.read_text())
    assert written["scored_as"] == "easy" and written["notes"][-1].startswith("Scored")
    ours = written["coco"]
    expected, _ = pycocotools_eval(easy, results)
    assert [ours[name] for name in STAT_NAMES] == pytest.approx(expected, abs=1e-9)
    everything, _ = pycocotools_eval(every, results)
    assert not np.allclose(everything, expected)


def test_cli_refuses_a_difficulty_for_a_dataset_without_one(capsys):
    code = cli(["evaluate", "--dataset", "coco-val2017-first32", "--predictions",
                "none.json", "--kitti-difficulty", "hard"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "coco-val2017-first32 is not a KITTI dataset" in err
    assert "Traceback" not in err


def test_kitti_training_folder_and_cityscapes_rider_group(tmp_path):
    write_kitti(tmp_path / "kitti" / "training")
    assert len(load_folder(tmp_path / "kitti")) == 3
    root = tmp_path / "cs"
    write_cityscapes(root)
    path = next((root / "gtFine/val/frankfurt").glob("*_000000_gtFine_polygons.json"))
    data = json.loads(path.read_text())
    data["objects"].append({"label": "ridergroup", "polygon": _rectangle([0, 0, 9, 9])})
    data["objects"].append({"label": "car", "polygon": [[0, 0], [10, 0], [0, 10]],
                            "deleted": 1})  # fmt: skip
    data["objects"].append({"label": "truck", "polygon": [[0, 0], [10, 0], [0, 10]]})
    path.write_text(json.dumps(data))
    gt = load_folder(root).samples[0].gt
    assert gt.labels[-2:] == ["person", "truck"]
    assert gt.extra["iscrowd"][-2:].tolist() == [1, 0]
    assert gt.extra["area"][-1] == pytest.approx(
        50.0
    )  # the polygon's area, not the box's


def test_cityscapes_caravans_and_trailers_are_set_aside_as_pycocotools_ignores_crowd(
    tmp_path,
):
    """A caravan or a trailer is an ignore region of every class: a car or a person
    detected on it counts neither way, exactly as pycocotools scores a crowd box of each
    class there; without those regions the same detections are false positives."""
    from visioncompare.evaluation.results_file import load_coco_results
    from visioncompare.services.report import evaluate_predictions

    root = tmp_path / "cs"
    _image(root / "leftImg8bit/val/bonn/bonn_000000_000000_leftImg8bit.png", 200, 100)
    objects = [
        ("car", [10, 10, 60, 50]), ("person", [70, 10, 90, 80]),
        ("caravan", [100, 10, 160, 70]), ("trailer", [165, 40, 195, 90]),
    ]  # fmt: skip
    data = {"imgWidth": 200, "imgHeight": 100, "objects": [
        {"label": label, "polygon": _rectangle(box)} for label, box in objects]}  # fmt: skip
    path = root / "gtFine/val/bonn/bonn_000000_000000_gtFine_polygons.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    dataset = load_folder(root)
    assert dataset.class_names == ("person", "car")
    assert any("of every class (2 here)" in note for note in dataset.notes)

    def xywh(box):
        return [box[0], box[1], box[2] - box[0], box[3] - box[1]]

    categories = [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}]
    annotations = [
        {"id": 1, "image_id": 0, "category_id": 2, "bbox": xywh(objects[0][1]),
         "area": 2000.0, "iscrowd": 0},
        {"id": 2, "image_id": 0, "category_id": 1, "bbox": xywh(objects[1][1]),
         "area": 1400.0, "iscrowd": 0},
    ] + [
        {"id": 3 + 2 * n + c, "image_id": 0, "category_id": c + 1, "bbox": xywh(box),
         "area": float((box[2] - box[0]) * (box[3] - box[1])), "iscrowd": 1}
        for n, (_, box) in enumerate(objects[2:]) for c in range(2)
    ]  # fmt: skip
    reference = {"images": [{"id": 0, "width": 200, "height": 100,
                             "file_name": "bonn_000000_000000_leftImg8bit.png"}],
                 "annotations": annotations, "categories": categories}  # fmt: skip
    results = [
        {"image_id": 0, "category_id": 2, "bbox": [11, 11, 48, 38], "score": 0.9},
        {"image_id": 0, "category_id": 1, "bbox": [71, 12, 19, 66], "score": 0.8},
        {"image_id": 0, "category_id": 2, "bbox": [102, 12, 55, 55], "score": 0.95},
        {"image_id": 0, "category_id": 1, "bbox": [120, 20, 20, 45], "score": 0.7},
        {"image_id": 0, "category_id": 2, "bbox": [166, 42, 28, 46], "score": 0.85},
    ]
    results_path = tmp_path / "results.json"
    results_path.write_text(json.dumps(by_name(reference, results)))
    detections, _ = load_coco_results(str(results_path), dataset)
    ours = evaluate_predictions(dataset, detections, "file").coco.stats
    expected, _ = pycocotools_eval(reference, results)
    assert [ours[name] for name in STAT_NAMES] == pytest.approx(expected, abs=1e-9)
    plain = {**reference, "annotations": annotations[:2]}
    without, _ = pycocotools_eval(plain, results)
    assert without[0] < expected[0]  # the detections on them would be false positives


def test_open_images_slice_and_header_variants(tmp_path):
    root = tmp_path / "oi"
    write_openimages(root)
    csv_path = root / "validation-annotations-bbox.csv"
    csv_path.write_text(
        csv_path.read_text()
        + "ffffffffffffffff,xclick,/m/0k4j,1,0.1,0.2,0.1,0.2,0,0,0,0,0\n"
    )
    descriptions = root / "class-descriptions-boxable.csv"
    descriptions.write_text("LabelName,DisplayName\n" + descriptions.read_text())
    dataset = load_openimages(root, OPENIMAGES_TO_COCO)
    assert len(dataset) == 3  # the image not in images/ is left out, and said
    assert any("1 boxes of images not in images/" in n for n in dataset.notes)


# --- malformed files: a message naming the file (relative) and the line or field --------


def _kitti_broken(root: Path, line: str) -> None:
    write_kitti(root)
    (root / "label_2" / "000001.txt").write_text(kitti_line("Car", [1, 2, 30, 40]) + "\n"
                                                 + line + "\n")  # fmt: skip


GOOD = kitti_line("Car", [1, 2, 30, 40]).split()


def _kitti_field(index: int, value: str) -> str:
    fields = list(GOOD)
    fields[index] = value
    return " ".join(fields)


KITTI_CASES = [
    (" ".join(GOOD[:10]), "expected 15 fields"),
    *(
        (_kitti_field(i, "?"), f"field '{name}' should be a number, got '?'")
        for i, name in enumerate(FIELDS[1:], start=1)
    ),
    (_kitti_field(2, "1.5"), "field 'occluded' should be an integer"),
    (_kitti_field(3, "nan"), "field 'alpha' is nan"),
    (_kitti_field(12, "inf"), "field 'y' is inf"),
    (" ".join([*GOOD, "s"]), "field 'score' should be a number"),
    (_kitti_field(6, "0.5"), "fields 'right'/'bottom'"),
    (_kitti_field(7, "1"), "fields 'right'/'bottom'"),
]


@pytest.mark.parametrize(("line", "message"), KITTI_CASES)
def test_kitti_malformed_line_names_file_line_and_field(line, message, tmp_path):
    root = tmp_path / "kitti"
    _kitti_broken(root, line)
    with pytest.raises(DatasetError) as info:
        load_folder(root)
    text = str(info.value)
    assert text.startswith("label_2/000001.txt: line 2: ") and message in text
    assert str(tmp_path) not in text


def test_kitti_missing_or_broken_image(tmp_path):
    # The app imports Ultralytics, whose patched Image.open tries an optional HEIF plugin
    # (not installed) on a file Pillow cannot identify: that too is an unreadable image.
    import ultralytics.utils.patches  # noqa: F401

    root = tmp_path / "kitti"
    write_kitti(root)
    (root / "image_2" / "000002.png").unlink()
    with pytest.raises(DatasetError, match=r"^label_2/000002.txt: no image 000002.png"):
        load_folder(root)
    (root / "image_2" / "000002.png").write_bytes(b"not an image")
    with pytest.raises(
        DatasetError, match=r"image_2/000002\.png is not a readable image"
    ):
        load_folder(root)


def _cityscapes_broken(root: Path, change) -> str:
    write_cityscapes(root)
    path = next((root / "gtFine/val/frankfurt").glob("*_000001_gtFine_polygons.json"))
    data = json.loads(path.read_text())
    text = change(data)
    path.write_text(text if isinstance(text, str) else json.dumps(data))
    return path.relative_to(root).as_posix()


def _set(key, value):
    def change(data):
        data[key] = value

    return change


def _set_object(key, value):
    def change(data):
        data["objects"][1][key] = value

    return change


CITYSCAPES_CASES = [
    (lambda data: '{"imgWidth": 10,\n "objects": [}', "not valid JSON at line 2"),
    (lambda data: data.pop("imgWidth") and None, "field 'imgWidth' should be a positive"),
    (_set("imgHeight", "1024"), "field 'imgHeight' should be a positive integer"),
    (_set("objects", {"a": 1}), "field 'objects' should be a list"),
    (lambda data: data["objects"].__setitem__(1, 3), "objects[1]: expected an object"),
    (_set_object("label", None), "objects[1]: field 'label' should be a string"),
    (lambda data: data["objects"][1].pop("polygon") and None,
     "objects[1]: missing field 'polygon'"),
    (_set_object("polygon", [[1, 2, 3]]), "objects[1]: field 'polygon' should be a list"),
    (_set_object("polygon", [[1, "a"]]), "objects[1]: field 'polygon' should be a list"),
    (_set_object("polygon", "0,0,1,1"), "objects[1]: field 'polygon' should be a list"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), CITYSCAPES_CASES)
def test_cityscapes_malformed_field_names_file_and_field(change, message, tmp_path):
    root = tmp_path / "cs"
    where = _cityscapes_broken(root, change)
    with pytest.raises(DatasetError) as info:
        load_folder(root)
    text = str(info.value)
    assert text.startswith(f"{where}: ") and message in text, text
    assert str(tmp_path) not in text


def test_cityscapes_missing_image(tmp_path):
    root = tmp_path / "cs"
    write_cityscapes(root)
    image = next((root / "leftImg8bit").rglob("*_000002_leftImg8bit.png"))
    image.unlink()
    with pytest.raises(DatasetError, match=r"frankfurt_000000_000002_leftImg8bit\.png"):
        load_folder(root)


def _oi_row(column: str, value: str) -> str:
    header = OI_HEADER.split(",")
    row = "00bf3c1d2e4b5a6,xclick,/m/0k4j,1,0.1,0.5,0.2,0.6,0,0,0,0,0".split(",")
    row[header.index(column)] = value
    return ",".join(row)


OPENIMAGES_CASES = [
    (_oi_row("ImageID", ""), "line 5: column 'ImageID' is empty"),
    (_oi_row("LabelName", "/m/999"), "line 5: column 'LabelName' '/m/999' is not in "
     "class-descriptions-boxable.csv"),
    (_oi_row("XMin", "left"), "line 5: column 'XMin' should be a number in [0, 1]"),
    (_oi_row("XMax", "1.5"), "line 5: column 'XMax' should be a number in [0, 1]"),
    (_oi_row("YMin", ""), "line 5: column 'YMin' should be a number in [0, 1]"),
    (_oi_row("YMax", "0.1"), "line 5: XMax/YMax smaller than XMin/YMin"),
    (_oi_row("IsGroupOf", "yes"), "line 5: column 'IsGroupOf' should be 0 or 1"),
    (_oi_row("ImageID", "../../secret"), "leads outside the dataset's folder"),
]  # fmt: skip


@pytest.mark.parametrize(("row", "message"), OPENIMAGES_CASES)
def test_open_images_malformed_row_names_file_line_and_column(row, message, tmp_path):
    root = tmp_path / "oi"
    write_openimages(root)
    csv_path = root / "validation-annotations-bbox.csv"
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([*lines[:4], row, *lines[4:]]) + "\n")
    with pytest.raises(DatasetError) as info:
        load_folder(root)
    text = str(info.value)
    assert text.startswith("validation-annotations-bbox.csv: ") and message in text, (
        text
    )
    assert str(tmp_path) not in text


def test_open_images_missing_column_and_bad_descriptions(tmp_path):
    root = tmp_path / "oi"
    write_openimages(root)
    csv_path = root / "validation-annotations-bbox.csv"
    good = csv_path.read_text()
    csv_path.write_text(good.replace("XMax,", "XMaximum,", 1))
    with pytest.raises(
        DatasetError, match=r"bbox.csv: line 1: missing column\(s\) XMax"
    ):
        load_folder(root)
    csv_path.write_text(good)
    descriptions = root / "class-descriptions-boxable.csv"
    descriptions.write_text(descriptions.read_text() + "/m/0abc\n")
    with pytest.raises(DatasetError, match=r"boxable.csv: line 5: expected 'MID,name'"):
        load_folder(root)


def test_kitti_image_link_leading_outside_is_refused(tmp_path):
    root = tmp_path / "kitti"
    write_kitti(root)
    outside = tmp_path / "elsewhere.png"
    (root / "image_2" / "000000.png").rename(outside)
    os.symlink(outside, root / "image_2" / "000000.png")
    with pytest.raises(DatasetError, match="leads outside the dataset's folder"):
        load_folder(root)


def test_cli_says_what_is_wrong_without_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    root = tmp_path / "kitti"
    _kitti_broken(root, _kitti_field(4, "l"))
    path = tmp_path / "results.json"
    path.write_text("[]")
    code = cli(["evaluate", "--dataset", str(root), "--predictions", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "label_2/000001.txt: line 2: field 'left' should be a number" in err


@pytest.mark.parametrize(
    ("fmt", "relative"),
    [
        ("kitti", "label_2/000001.txt"),
        (
            "cityscapes",
            "gtFine/val/frankfurt/frankfurt_000000_000001_gtFine_polygons.json",
        ),
        ("openimages", "validation-annotations-bbox.csv"),
        ("openimages", "class-descriptions-boxable.csv"),
    ],
)
def test_annotation_file_linked_from_outside_is_refused(fmt, relative, tmp_path):
    root = tmp_path / fmt
    WRITERS[fmt](root)
    outside = tmp_path / "secret.txt"
    (root / relative).rename(outside)
    os.symlink(outside, root / relative)
    with pytest.raises(
        DatasetError, match="leads outside the dataset's folder"
    ) as info:
        load_folder(root)
    assert str(tmp_path) not in str(info.value)


def test_class_table_names_every_class_merged_into_one(tmp_path):
    from visioncompare.evaluation.metrics.align import class_table

    _, dataset = _loaded("kitti", tmp_path)
    table = class_table(["person", "car", "bus"], dataset).set_index("detector class")
    assert "Pedestrian and Person_sitting -> person" in table.loc["person", "status"]
    assert table.loc["bus", "status"] == "unmatched: left out"
    never = table.loc[table["status"] == "never predicted: AP 0", "dataset class"]
    assert never.tolist() == ["Cyclist"]  # the class COCO cannot name


def test_cityscapes_from_a_relative_path(tmp_path, monkeypatch):
    """A folder typed relative to the working directory reads like an absolute one."""
    write_cityscapes(tmp_path / "cs")
    monkeypatch.chdir(tmp_path)
    assert len(load_folder("cs")) == 3


def test_open_images_says_when_one_object_is_boxed_under_two_classes(tmp_path):
    """Open Images can box one man as Man and as Person; renamed, both are COCO person
    ground truth. The dataset says how many such doubles it holds."""
    root = tmp_path / "oi"
    _image(root / "images" / "abc.jpg", 200, 100)
    rows = [OI_HEADER,
            f"abc,xclick,{MIDS['Man']},1,0.1,0.5,0.1,0.9,0,0,0,0,0",
            f"abc,xclick,{MIDS['Person']},1,0.1,0.5,0.1,0.88,0,0,0,0,0",
            f"abc,xclick,{MIDS['Person']},1,0.6,0.9,0.1,0.9,0,0,0,0,0"]  # fmt: skip
    (root / "validation-annotations-bbox.csv").write_text("\n".join(rows) + "\n")
    (root / "class-descriptions-boxable.csv").write_text(
        "".join(f"{mid},{name}\n" for name, mid in MIDS.items())
    )
    dataset = load_folder(root)
    assert dataset.num_boxes == 3  # every box stays ground truth, as in the file
    assert any(n.startswith("Boxes lying on a box") and "person): 1." in n
               for n in dataset.notes)  # fmt: skip
