"""Two detectors image by image: hand-built cases for each category."""

from __future__ import annotations

from tests.helpers import make_dataset, make_detections
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.cocoeval import EvalParams, evaluate
from visioncompare.evaluation.metrics.explorer import Explorer
from visioncompare.evaluation.metrics.two_models import (
    A_FINDS,
    A_NEW_FP,
    B_FINDS,
    B_NEW_FP,
    BOTH_MISS,
    compare_models,
)

NAMES = ("a", "b", "c")
O1, O2, O3 = [0, 0, 100, 100], [200, 0, 300, 100], [400, 0, 500, 100]
FAR = [0, 300, 50, 350]


def _records(dataset, predictions, conf=0.25, iou=0.5):
    aligned = align_predictions(predictions, dataset).predictions
    explorer = Explorer(evaluate(dataset, aligned, EvalParams()), dataset.class_names)
    return explorer.match(iou).at_confidence(conf)


def test_each_category_by_hand():
    # image 0: three objects. A finds O1; B finds O1 and O2; nobody finds O3.
    # image 1: one object; A finds it, B does not; B has a false positive A shares
    # (same class, same place) and one A does not have; A has one of its own.
    dataset = make_dataset(
        [([O1, O2, O3], [0, 0, 1]), ([O1], [2])], NAMES
    )
    a = {
        0: make_detections([O1], [0.9], [0], NAMES),
        1: make_detections([O1, FAR, [300, 300, 340, 340]], [0.9, 0.8, 0.7], [2, 1, 0],
                           NAMES),
    }  # fmt: skip
    b = {
        0: make_detections([O1, O2], [0.9, 0.8], [0, 0], NAMES),
        1: make_detections([[0, 302, 50, 352], [400, 400, 450, 450]], [0.8, 0.6], [1, 1],
                           NAMES),
    }  # fmt: skip
    diff = compare_models(_records(dataset, a), _records(dataset, b))
    images = diff.images.set_index("image_id")
    assert images.loc[0, B_FINDS] == 1 and images.loc[1, B_FINDS] == 0
    assert images.loc[1, A_FINDS] == 1 and images.loc[0, A_FINDS] == 0
    assert images.loc[0, BOTH_MISS] == 1  # O3
    assert images.loc[1, B_NEW_FP] == 1  # the shared one is not new
    assert images.loc[1, A_NEW_FP] == 1  # A's own box at (300, 300)
    a_rows, b_rows = diff.boxes(0, B_FINDS)
    assert a_rows["kind"].tolist() == ["FN"] and b_rows["kind"].tolist() == ["TP"]
    assert a_rows[["x1", "x2"]].iloc[0].tolist() == [200, 300]
    _, b_rows = diff.boxes(1, B_NEW_FP)
    assert b_rows[["x1", "y1"]].iloc[0].tolist() == [400, 400]
    assert diff.images_of(B_FINDS)["image_id"].tolist() == [0]


def test_a_model_against_itself_differs_nowhere_but_shared_misses():
    dataset = make_dataset([([O1, O2], [0, 1])], NAMES)
    preds = {0: make_detections([O1, FAR], [0.9, 0.8], [0, 0], NAMES)}
    records = _records(dataset, preds)
    diff = compare_models(records, records)
    totals = diff.images.drop(columns="image_id").sum()
    assert totals[BOTH_MISS] == 1
    assert totals.drop(BOTH_MISS).sum() == 0
