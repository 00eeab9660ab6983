"""The threshold explorer's lookups against the per-image reference matchers, the VOC
devkit's rules on hand-worked cases and against its transcription, and the class-name
alignment of the three dataset formats."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.helpers import make_dataset, make_detections, random_coco_case
from tests.reference import voc_devkit_ap
from visioncompare.datasets.registry import load_folder
from visioncompare.evaluation.metrics.align import align_predictions, class_table
from visioncompare.evaluation.metrics.cocoeval import EvalParams, evaluate
from visioncompare.evaluation.metrics.explorer import Explorer
from visioncompare.evaluation.metrics.matching import (
    confusion_matrix,
    f1_curve,
    match_dataset,
    pr_curve,
    summarize,
)
from visioncompare.evaluation.metrics.voc import evaluate_voc, pair_iou_voc


@pytest.mark.parametrize("seed", [0, 1])
def test_explorer_lookups_equal_a_new_matching_at_every_threshold(seed):
    dataset, predictions = random_coco_case(seed, images=150, classes=8)
    aligned = align_predictions(predictions, dataset).predictions
    explorer = Explorer(evaluate(dataset, aligned, EvalParams()), dataset.class_names)
    for iou in (0.5, 0.65, 0.95):
        reference = match_dataset(dataset, predictions, iou)
        for conf in (0.0, 0.3, 0.75):
            expected = summarize(reference.at_confidence(conf))
            assert explorer.summary(conf, iou) == expected
            assert summarize(explorer.match(iou).at_confidence(conf)) == expected
            cm = explorer.confusion(conf, iou)
            ref = confusion_matrix(dataset, predictions, conf, iou)
            assert np.array_equal(cm.matrix, ref.matrix)
            assert cm.cells == ref.cells


def test_explorer_curves_equal_those_of_its_matching():
    """The page's precision-recall and F1 curves come from the evaluation's arrays, with
    no records built: the same numbers as from the matching's records."""
    dataset, predictions = random_coco_case(3, images=120, classes=6)
    aligned = align_predictions(predictions, dataset).predictions
    explorer = Explorer(evaluate(dataset, aligned, EvalParams()), dataset.class_names)
    for iou in (0.5, 0.65, 0.95):
        match = explorer.match(iou)
        for name in (None, *dataset.class_names[:3]):
            for got, expected in zip(
                explorer.pr_curve(iou, name), pr_curve(match, name), strict=True
            ):
                np.testing.assert_array_equal(got, expected)
        pd.testing.assert_frame_equal(explorer.f1_curve(iou), f1_curve(match))


def test_explorer_snaps_iou_to_the_evaluated_thresholds():
    dataset, predictions = random_coco_case(2, images=40, classes=4)
    aligned = align_predictions(predictions, dataset).predictions
    explorer = Explorer(evaluate(dataset, aligned, EvalParams()), dataset.class_names)
    assert explorer.summary(0.3, 0.52) == explorer.summary(0.3, 0.5)
    assert explorer.confusion(0.3, 0.74).iou == pytest.approx(0.75)
    assert EvalParams().with_thresholds(0.3, 0.61).iou == pytest.approx(0.6)


# Hand-worked devkit cases, in the devkit's 1-based inclusive pixel coordinates.
GT = [1, 1, 10, 10]  # pixels 1..10: 10 x 10 = 100 pixels


def test_devkit_iou_counts_pixels_inclusively():
    a = np.array([GT], float)
    b = np.array([[1, 1, 10, 5]], float)  # 10 x 5 pixels
    assert pair_iou_voc(a, b, "devkit")[0] == pytest.approx(50 / 100)
    assert pair_iou_voc(a, b, "continuous")[0] == pytest.approx(36 / 81)
    # touching boxes share a column of pixels in the devkit, nothing continuously
    c = np.array([[10, 1, 19, 10]], float)
    assert pair_iou_voc(a, c, "devkit")[0] == pytest.approx(10 / 190)
    assert pair_iou_voc(a, c, "continuous")[0] == 0.0


def _raw_case():
    """Boxes given as the devkit reads them (format 'coco' here: no +1 shift)."""
    ds = make_dataset(
        [([GT, [20, 20, 29, 29]], [0, 0], None, [0, 1]), ([[5, 5, 14, 24]], [0])],
        class_names=("dog",),
    )
    preds = {
        0: make_detections([[1, 1, 10, 5], [20, 20, 29, 29], [2, 2, 9, 9]],
                           [0.9, 0.8, 0.7], [0, 0, 0], ("dog",)),
        1: make_detections([[5, 5, 14, 13], [30, 30, 40, 40]], [0.85, 0.6], [0, 0],
                           ("dog",)),
    }  # fmt: skip
    return ds, preds


@pytest.mark.parametrize("threshold", [0.1, 0.45, 0.5])
@pytest.mark.parametrize("use_07", [False, True])
def test_devkit_convention_equals_the_devkit(threshold, use_07):
    ds, preds = _raw_case()
    gt = {s.image_id: (s.gt.xyxy, s.gt.extra["difficult"] > 0) for s in ds.samples}
    dets = [(i, float(s), box) for i, d in preds.items()
            for s, box in zip(d.scores, d.xyxy.tolist())]  # fmt: skip
    expected = voc_devkit_ap(gt, dets, threshold, use_07)
    result = evaluate_voc(ds, preds, threshold, convention="devkit")
    assert result.convention == "devkit"
    assert (result.map_11pt if use_07 else result.map_all) == pytest.approx(
        expected, abs=1e-12
    )


def test_hand_worked_devkit_ap_differs_from_the_continuous_convention():
    ds, preds = _raw_case()
    # IoU 0.45, two objects count. Ranked: 0.9 [1,1,10,5] overlaps the first object
    # 50/100 = 0.5 in the devkit's pixels but 36/81 = 0.44 continuously; 0.85 overlaps
    # image 1's object 90/200 = 0.45 (not above) or 72/171; 0.8 is the difficult object
    # (ignored either way); 0.7 [2,2,9,9] overlaps the first object 64/100 or 49/81.
    devkit = evaluate_voc(ds, preds, 0.45, convention="devkit")
    continuous = evaluate_voc(ds, preds, 0.45, convention="continuous")
    # devkit: TP FP (ignored) FP FP -> precision 1 at recall 0.5: AP 0.5
    assert devkit.map_all == pytest.approx(0.5)
    # continuous: FP FP (ignored) TP FP -> precision 1/3 at recall 0.5: AP 1/6
    assert continuous.map_all == pytest.approx(1 / 6)


def test_voc_format_data_scores_as_the_devkit_scores_its_xml(tmp_path):
    """The devkit reads the XML's pixel indices and detections written as detectron2
    writes them (x1 + 1, y1 + 1); our VOC numbers on the loaded folder equal it."""
    from visioncompare.datasets.voc import load_voc

    rng = np.random.default_rng(3)
    (tmp_path / "Annotations").mkdir()
    gt, dets = {}, []
    preds = {}
    for n in range(12):
        corner = rng.integers(1, 200, (4, 2))
        boxes = np.concatenate([corner, corner + rng.integers(3, 60, (4, 2))], axis=1)
        difficult = rng.uniform(size=4) < 0.2
        objects = "".join(
            f"<object><name>dog</name><difficult>{int(d)}</difficult><bndbox>"
            f"<xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}"
            "</ymax></bndbox></object>"
            for b, d in zip(boxes, difficult)
        )
        (tmp_path / "Annotations" / f"{n}.xml").write_text(
            f"<annotation><filename>{n}.jpg</filename><size><width>300</width>"
            f"<height>300</height><depth>3</depth></size>{objects}</annotation>"
        )
        gt[f"{n}"] = (boxes.astype(float), difficult)
        pred = boxes - [1, 1, 0, 0] + rng.normal(0, 2.5, (4, 4))
        pred = np.concatenate([pred, rng.uniform(0, 250, (2, 4))])
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
        scores = rng.uniform(0, 1, len(pred)).round(2)
        preds[n] = (pred.astype(np.float32), scores.astype(np.float32))
    ds = load_voc(tmp_path, rename=None)
    assert ds.format == "voc"
    det_names = ds.class_names
    k = det_names.index("dog")
    by_key = {s.path.stem: s.image_id for s in ds.samples}
    predictions = {
        by_key[str(n)]: make_detections(p.tolist(), s.tolist(), [k] * len(p), det_names)
        for n, (p, s) in preds.items()
    }
    # the detections file lists images in the image set's (the dataset's) order
    dets = [
        (s.path.stem, float(sc), [float(b[0]) + 1, float(b[1]) + 1, float(b[2]),
                                  float(b[3])])
        for s in ds.samples
        for b, sc in zip(*preds[int(s.path.stem)])
    ]  # fmt: skip
    for threshold in (0.1, 0.5, 0.7):
        ours = evaluate_voc(ds, predictions, threshold)
        row = ours.per_class.set_index("class").loc["dog"]
        assert ours.convention == "devkit"
        assert row["AP_all"] == pytest.approx(voc_devkit_ap(gt, dets, threshold), abs=1e-9)
        assert row["AP_11pt"] == pytest.approx(
            voc_devkit_ap(gt, dets, threshold, use_07_metric=True), abs=1e-9
        )


def test_voc_format_data_uses_the_devkit_convention():
    from visioncompare.datasets.registry import load_bundled

    ds = load_bundled("voc2012-sample100")
    preds = {s.image_id: s.gt for s in ds.samples[:10]}
    assert evaluate_voc(ds.subset(10), preds).convention == "devkit"
    assert evaluate_voc(ds.subset(10), preds).map_all == pytest.approx(1.0)
    assert evaluate_voc(make_dataset([([GT], [0])]), {}).convention == "continuous"


VOC_NAMES = ["aeroplane", "dog", "tvmonitor"]


def _write(fmt: str, root):
    """A one-image dataset with VOC class names, in one of the three formats."""
    boxes = [[10, 10, 60, 50], [70, 20, 150, 90], [20, 60, 90, 95]]
    (root / "img").mkdir(parents=True)
    Image.new("RGB", (200, 100)).save(root / "img" / "a.jpg")
    if fmt == "voc":
        (root / "Annotations").mkdir()
        (root / "JPEGImages").mkdir()
        Image.new("RGB", (200, 100)).save(root / "JPEGImages" / "a.jpg")
        objects = "".join(
            f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{b[0] + 1}"
            f"</xmin><ymin>{b[1] + 1}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax>"
            "</bndbox></object>"
            for n, b in zip(VOC_NAMES, boxes)
        )
        (root / "Annotations" / "a.xml").write_text(
            "<annotation><filename>a.jpg</filename><size><width>200</width><height>100"
            f"</height><depth>3</depth></size>{objects}</annotation>"
        )
        return root
    if fmt == "yolo":
        (root / "images" / "val").mkdir(parents=True)
        (root / "labels" / "val").mkdir(parents=True)
        Image.new("RGB", (200, 100)).save(root / "images" / "val" / "a.jpg")
        lines = [
            f"{i} {(b[0] + b[2]) / 400} {(b[1] + b[3]) / 200} {(b[2] - b[0]) / 200} "
            f"{(b[3] - b[1]) / 100}"
            for i, b in enumerate(boxes)
        ]
        (root / "labels" / "val" / "a.txt").write_text("\n".join(lines) + "\n")
        (root / "data.yaml").write_text(
            f"path: .\nval: images/val\nnames: [{', '.join(VOC_NAMES)}]\n"
        )
        return root / "data.yaml"
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 100}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": i + 1, "iscrowd": 0,
             "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
             "area": (b[2] - b[0]) * (b[3] - b[1])}
            for i, b in enumerate(boxes)
        ],
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(VOC_NAMES)],
    }  # fmt: skip
    path = root / "img" / "instances.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("fmt", ["voc", "yolo", "coco"])
def test_voc_names_become_coco_names_in_every_format(tmp_path, fmt):
    from visioncompare.services.report import evaluate_predictions

    ds = load_folder(_write(fmt, tmp_path))
    assert ds.format == fmt
    assert {"airplane", "dog", "tv"} <= set(ds.class_names)  # VOC lists all 20
    assert not {"aeroplane", "tvmonitor"} & set(ds.class_names)
    assert ds.renamed == {"aeroplane": "airplane", "tvmonitor": "tv"}
    sample = ds.samples[0]
    for names in (("airplane", "dog", "tv", "cup"), ("aeroplane", "dog", "tvmonitor")):
        # a COCO-named detector and a VOC-named one both find every class
        det_names = tuple(names)
        ids = [det_names.index(n) if n in det_names else
               det_names.index({"airplane": "aeroplane", "tv": "tvmonitor"}[n])
               for n in sample.gt.labels]  # fmt: skip
        det = make_detections(sample.gt.xyxy.tolist(), [0.9, 0.8, 0.7], ids, det_names)
        report = evaluate_predictions(ds, {sample.image_id: det}, "model")
        assert report.coco.stats["AP"] == pytest.approx(1.0)
        table = class_table(det_names, ds).set_index("dataset class")
        assert table.loc[["airplane", "tv"], "status"].str.startswith("renamed").all()
        assert table.loc["dog", "status"] == "matched"
    # a dataset kept with its VOC names still pairs the COCO names, and says so
    plain = load_folder(_write(fmt, tmp_path / "again"), voc_to_coco=False)
    assert plain.renamed == {} and "aeroplane" in plain.class_names
    table = class_table(("airplane", "dog", "tv", "cup"), plain).set_index(
        "detector class"
    )
    assert table.loc["airplane", "dataset class"] == "aeroplane"
    assert table.loc["airplane", "status"] == "renamed (airplane -> aeroplane)"
    assert table.loc["cup", "status"] == "unmatched: left out"


# ---- tied scores: the devkit's stable sort of the results file -------------------------


def _tie_case(image_order):
    """Two images with one "dog" each; each image has one box at score 0.5: a hit on
    image 1, a miss (far away) on image 2. The rank of the tie decides AP."""
    spec = {1: ([[0, 0, 40, 40]], [0]), 2: ([[0, 0, 40, 40]], [0])}
    from pathlib import Path

    from visioncompare.datasets.types import Dataset, Sample, make_gt

    samples = tuple(
        Sample(i, Path(f"/x/{i}.jpg"), 640, 480, make_gt(*spec[i], ("dog",)))
        for i in image_order
    )
    dataset = Dataset("ties", "coco", Path("/x"), ("dog",), samples)
    preds = {
        1: make_detections([[0, 0, 40, 40]], [0.5], [0], ("dog",)),
        2: make_detections([[300, 300, 340, 340]], [0.5], [0], ("dog",)),
    }
    return dataset, preds


def _devkit(dataset, entries):
    """The devkit on results-file entries (image id, score, xyxy), in file order."""
    gt = {s.image_id: (s.gt.xyxy, s.gt.extra["difficult"] > 0) for s in dataset.samples}
    return voc_devkit_ap(gt, entries, 0.5), voc_devkit_ap(gt, entries, 0.5, True)


@pytest.mark.parametrize("image_order", [(1, 2), (2, 1)])
def test_tied_scores_of_a_models_run_rank_by_image_id_whatever_the_annotation_order(
    image_order,
):
    dataset, preds = _tie_case(image_order)
    result = evaluate_voc(dataset, preds)
    # the documented order: image ids ascending, then box order (as coco_results writes)
    entries = [(i, 0.5, preds[i].xyxy[0].tolist()) for i in sorted(preds)]
    all_point, eleven = _devkit(dataset, entries)
    assert result.map_all == pytest.approx(all_point, abs=1e-12)
    assert result.map_11pt == pytest.approx(eleven, abs=1e-12)
    reversed_entries = entries[::-1]
    assert _devkit(dataset, reversed_entries)[0] != pytest.approx(all_point)  # ties


@pytest.mark.parametrize("file_order", [(1, 2), (2, 1)])
@pytest.mark.parametrize("image_order", [(1, 2), (2, 1)])
def test_tied_scores_of_a_results_file_rank_in_file_order(
    tmp_path, file_order, image_order
):
    from visioncompare.evaluation.metrics.coco import coco_results
    from visioncompare.evaluation.results_file import load_coco_results

    dataset, preds = _tie_case(image_order)
    written = {r["image_id"]: r for r in coco_results(preds, dataset)}
    path = tmp_path / "results.json"
    path.write_text(json.dumps([written[i] for i in file_order]))
    loaded, _ = load_coco_results(str(path), dataset)
    result = evaluate_voc(dataset, loaded)
    entries = [(i, 0.5, preds[i].xyxy[0].tolist()) for i in file_order]
    all_point, eleven = _devkit(dataset, entries)
    assert result.map_all == pytest.approx(all_point, abs=1e-12)
    assert result.map_11pt == pytest.approx(eleven, abs=1e-12)
    # the file written back from it keeps that order, so it re-scores the same
    assert [r["image_id"] for r in coco_results(loaded, dataset)] == list(file_order)
