"""TIDE error types and dAP: hand-worked cases per type, the priority when a box fits two,
and the tidecv package (the reference) on the same ground truth and predictions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import (
    TIDECV_INSTALL,
    make_dataset,
    make_detections,
    optional_module,
    random_coco_case,
)
from visioncompare.datasets.types import Dataset, Sample, make_gt
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.cocoeval import EvalParams, evaluate
from visioncompare.evaluation.metrics.error_types import (
    BKG,
    BOTH,
    CLS,
    DUPE,
    ERROR_TYPES,
    LOC,
    analyse_errors,
)
from visioncompare.kernel.types import Detections

NAMES = ("a", "b", "c")


def _analyse(dataset, predictions, params: EvalParams | None = None):
    aligned = align_predictions(predictions, dataset).predictions
    evaluation = evaluate(dataset, aligned, params or EvalParams())
    return analyse_errors(evaluation, dataset.class_names), evaluation


def _one_image(gt_boxes, gt_ids, det_boxes, det_ids, scores):
    dataset = make_dataset([(gt_boxes, gt_ids)], NAMES)
    return _analyse(dataset, {0: make_detections(det_boxes, scores, det_ids, NAMES)})


def _types(analysis) -> list[str]:
    # in the order the detections were given (flat index)
    order = np.argsort(analysis.det)
    return [ERROR_TYPES[t] for t in analysis.det_type[order]]


# A 100 x 100 object at the origin; IoU of [0, 0, 100, w] with it is w / 100.
OBJ = [0, 0, 100, 100]


@pytest.mark.parametrize(
    ("det_box", "det_class", "expected"),
    [
        ([0, 0, 100, 30], 0, "localisation"),  # IoU 0.3, its class
        ([0, 0, 100, 90], 1, "classification"),  # IoU 0.9, another class
        ([0, 0, 100, 30], 1, "both"),  # IoU 0.3, another class
        ([300, 300, 400, 400], 0, "background"),  # no overlap at all
        ([0, 0, 100, 5], 0, "background"),  # IoU 0.05 <= 0.1
    ],
)
def test_each_false_positive_type_by_hand(det_box, det_class, expected):
    analysis, _ = _one_image([OBJ], [0], [det_box], [det_class], [0.9])
    assert _types(analysis) == [expected]
    # the object was not taken: missed unless a classification / localisation error
    # points at it (then fixing that error would find it)
    missed = 0 if expected in ("localisation", "classification") else 1
    assert analysis.counts()["missed"] == missed


def test_duplicate_and_missed_by_hand():
    # two boxes on the first object (the lower score is the duplicate); nothing near the
    # second object (missed)
    analysis, _ = _one_image(
        [OBJ, [300, 300, 400, 400]], [0, 0],
        [[0, 0, 100, 100], [0, 0, 100, 95]], [0, 0], [0.9, 0.8],
    )  # fmt: skip
    assert _types(analysis) == ["duplicate"]
    assert analysis.counts()["missed"] == 1
    assert analysis.evaluation.flat.gt_index[analysis.missed].tolist() == [1]


def test_a_box_that_fits_localisation_and_classification_is_localisation():
    # IoU 0.3 with an "a" object (localisation) and 0.9 with a "b" object
    # (classification): TIDE tests localisation first
    analysis, _ = _one_image(
        [[0, 0, 100, 100], [0, 70, 100, 170]], [0, 1],
        [[0, 70, 100, 160]], [0], [0.9],
    )  # fmt: skip
    assert analysis.det_type.tolist() == [LOC]


def test_classification_comes_before_duplicate_and_background_last():
    # the second "a" box overlaps the taken "a" object (duplicate) and a "b" object at
    # IoU >= 0.5 (classification): classification wins
    analysis, _ = _one_image(
        [[0, 0, 100, 100], [0, 0, 100, 90]], [0, 1],
        [[0, 0, 100, 100], [0, 0, 100, 92]], [0, 0], [0.9, 0.8],
    )  # fmt: skip
    assert analysis.det_type.tolist() == [CLS]
    # an image without objects: everything is background
    analysis, _ = _one_image([], [], [[0, 0, 10, 10], [5, 5, 50, 50]], [0, 2], [0.5, 0.4])
    assert analysis.det_type.tolist() == [BKG, BKG]
    assert {DUPE, BOTH}.isdisjoint(analysis.det_type.tolist())


def test_dap_by_hand_fixing_a_localisation_error_finds_the_object():
    # "a": one object found (score 0.9), one only poorly localised (0.8). AP50 of "a" is
    # 0.5 (recall 1/2 at precision 1); fixing the localisation error gives recall 1 -> 1.0
    dataset = make_dataset([([OBJ, [200, 0, 300, 100]], [0, 0])], NAMES)
    det = make_detections([OBJ, [200, 0, 300, 30]], [0.9, 0.8], [0, 0], NAMES)
    analysis, evaluation = _analyse(dataset, {0: det})
    assert analysis.ap50 == pytest.approx(evaluation.stats["AP50"])
    assert analysis.ap50 == pytest.approx(51 / 101)  # recall points 0..0.50 at 1.0
    assert analysis.dap["localisation"] == pytest.approx(1 - 51 / 101)
    for other in ("classification", "both", "duplicate", "background", "missed"):
        assert analysis.dap[other] == 0.0, other


def test_dap_of_missed_removes_the_object_and_of_background_removes_the_box():
    # "a": object 1 found at 0.5 after a background box at 0.9; object 2 missed
    dataset = make_dataset([([OBJ, [300, 300, 400, 400]], [0, 0])], NAMES)
    det = make_detections([[600, 0, 640, 40], OBJ], [0.9, 0.5], [0, 0], NAMES)
    analysis, _ = _analyse(dataset, {0: det})
    # before: precision 1/2 up to recall 1/2 -> 51 points at 0.5
    assert analysis.ap50 == pytest.approx(51 * 0.5 / 101)
    # background fixed: precision 1 up to recall 1/2
    assert analysis.dap["background"] == pytest.approx(51 / 101 - 51 * 0.5 / 101)
    # missed fixed: one object, found at precision 1/2 -> recall 1
    assert analysis.dap["missed"] == pytest.approx(0.5 - 51 * 0.5 / 101)


def test_the_page_lists_images_and_boxes_of_a_type():
    dataset = make_dataset(
        [([OBJ], [0]), ([OBJ], [0]), ([OBJ], [0])], NAMES
    )
    preds = {
        0: make_detections([[0, 0, 100, 30]], [0.9], [0], NAMES),
        1: make_detections([[0, 0, 100, 30], [0, 0, 100, 40]], [0.9, 0.8], [0, 0], NAMES),
        2: make_detections([OBJ], [0.9], [0], NAMES),
    }
    analysis, _ = _analyse(dataset, preds)
    images = analysis.images_per_type["localisation"]
    assert images["image_id"].tolist() == [1, 0] and images["errors"].tolist() == [2, 1]
    boxes = analysis.boxes(1, "localisation")
    assert len(boxes) == 2 and set(boxes["class"]) == {"a"}
    assert boxes[["x1", "y1", "x2", "y2"]].iloc[0].tolist() == [0, 0, 100, 30]
    table = analysis.table()
    assert table.set_index("error type").loc["localisation", "images"] == 2


def test_unfixed_ap50_is_the_evaluations_on_random_data():
    dataset, predictions = random_coco_case(4, images=150)
    analysis, evaluation = _analyse(dataset, predictions)
    assert analysis.ap50 == pytest.approx(evaluation.stats["AP50"], abs=1e-12)
    total = sum(analysis.counts().values())
    assert total > 100 and all(v >= 0 for v in analysis.dap.values())


# ---- the reference: tidecv on the same inputs -----------------------------------------


def _tide_case(seed: int, images: int = 120, classes: int = 5):
    """Ground truth without crowd regions, at most 100 detections per image, continuous
    scores (no ties) and objects of every class (tidecv and we differ only there)."""
    rng = np.random.default_rng(seed)
    names = tuple(f"c{i}" for i in range(classes))
    samples, predictions = [], {}
    for image_id in range(images):
        n = int(rng.integers(0, 8)) if image_id % 13 else 0
        wh = rng.uniform(20, 200, (n, 2))
        xy = rng.uniform(0, 400, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        ids = rng.integers(0, classes, n)
        gt = make_gt(boxes.tolist(), ids.tolist(), names)
        samples.append(Sample(image_id, Path(f"/x/{image_id}.jpg"), 640, 640, gt))
        parts, part_ids = [], []
        for spread, swap in ((0.03, 0.1), (0.15, 0.2), (0.4, 0.3), (0.05, 0.0)):
            keep = rng.uniform(size=n) < 0.6
            jitter = rng.normal(0, spread, (n, 4)) * np.tile(wh, 2)
            parts.append((boxes + jitter)[keep])
            part_ids.append(
                np.where(rng.uniform(size=n) < swap, rng.integers(0, classes, n), ids)[keep]
            )
        m = int(rng.integers(0, 5))
        xy = rng.uniform(0, 500, (m, 2))
        parts.append(np.concatenate([xy, xy + rng.uniform(5, 150, (m, 2))], axis=1))
        part_ids.append(rng.integers(0, classes, m))
        det = np.concatenate(parts)
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        predictions[image_id] = Detections(
            det, rng.uniform(0.01, 1, len(det)), np.concatenate(part_ids), names
        )
    return Dataset(f"tide{seed}", "coco", Path("/x"), names, tuple(samples)), predictions


def _tidecv_run(dataset, predictions):
    """tidecv's TIDE run on the same boxes (float32 boxes as xywh, in our flat order)."""
    tidecv = optional_module("tidecv", TIDECV_INSTALL)
    gt, preds = tidecv.Data("gt"), tidecv.Data("preds")
    for sample in sorted(dataset.samples, key=lambda s: s.image_id):
        gt.add_image(sample.image_id, sample.name)
        for box, c in zip(sample.gt.xyxy.astype(np.float64), sample.gt.class_ids):
            gt.add_ground_truth(sample.image_id, int(c), [*box[:2], *(box[2:] - box[:2])])
        det = predictions[sample.image_id]
        for box, c, s in zip(det.xyxy.astype(np.float64), det.class_ids, det.scores):
            xywh = [*box[:2], *(box[2:] - box[:2])]
            preds.add_detection(sample.image_id, int(c), float(np.float64(s)), xywh)
    tide = tidecv.TIDE()
    run = tide.evaluate(gt, preds, mode=tidecv.TIDE.BOX)
    return tidecv, run


# tidecv samples precision at recall x / 100 for x in 0..100; COCO's grid is
# np.linspace(0, 1, 101), which differs in the last bit at some points (0.07, ...). A
# recall landing exactly on such a point (it does once a fix changes a class's object
# count) falls into a neighbouring bin. We keep COCO's grid on the page, so the unfixed
# AP50 is the page's mAP50; the comparison uses tidecv's grid to be exact.
TIDECV_GRID = tuple(x / 100 for x in range(101))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_types_and_dap_equal_tidecv(seed):
    dataset, predictions = _tide_case(seed)
    params = replace(EvalParams(), recall_thresholds=TIDECV_GRID)
    analysis, _ = _analyse(dataset, predictions, params)
    coco_grid, _ = _analyse(dataset, predictions)
    tidecv, run = _tidecv_run(dataset, predictions)
    theirs = {
        tidecv.ClassError: "classification", tidecv.BoxError: "localisation",
        tidecv.OtherError: "both", tidecv.DuplicateError: "duplicate",
        tidecv.BackgroundError: "background", tidecv.MissedError: "missed",
    }  # fmt: skip
    # tidecv numbers detections and objects in the order they were added: our flat order
    ours_by_type = {name: set() for name in ERROR_TYPES}
    for d, t in zip(analysis.det, analysis.det_type):
        ours_by_type[ERROR_TYPES[t]].add(int(d))
    ours_by_type["missed"] = set(analysis.missed.tolist())
    for cls, name in theirs.items():
        assert {e.get_id() for e in run.error_dict[cls]} == ours_by_type[name], name
    assert analysis.ap50 * 100 == pytest.approx(run.ap, abs=1e-9)
    dap = {theirs[c]: v for c, v in run.fix_main_errors().items()}
    for name in ERROR_TYPES:
        assert analysis.dap[name] * 100 == pytest.approx(dap[name], abs=1e-9), name
        # on COCO's grid: the same up to the binning of exact recall points
        assert coco_grid.dap[name] * 100 == pytest.approx(dap[name], abs=0.05), name
    assert sum(dap.values()) > 5  # the case exercises the fixes


def test_where_tidecv_differs_by_design_a_class_without_objects():
    # tidecv averages a class with detections but no objects as AP 0; COCO (and we)
    # leave it out, so our AP50 is the page's mAP50
    dataset = make_dataset([([OBJ], [0])], NAMES)
    det = make_detections([OBJ, [300, 300, 400, 400]], [0.9, 0.8], [0, 1], NAMES)
    analysis, _ = _analyse(dataset, {0: det})
    _, run = _tidecv_run(dataset, {0: det})
    assert analysis.ap50 == pytest.approx(1.0)
    assert run.ap == pytest.approx(50.0)
    assert analysis.det_type.tolist() == [BKG]
