"""Per-image AP and F1, PR curves by size, and the best operating point: hand-worked
cases and agreement with the evaluation and the explorer they are read from."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import make_dataset, make_detections, random_coco_case
from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.breakdown import (
    ALL_CLASSES,
    best_operating_points,
    pr_by_size,
)
from visioncompare.evaluation.metrics.cocoeval import EvalParams, evaluate
from visioncompare.evaluation.metrics.explorer import Explorer
from visioncompare.evaluation.metrics.per_image import per_image_scores

NAMES = ("a", "b", "c")
OBJ = [0, 0, 100, 100]


def _evaluate(dataset, predictions):
    aligned = align_predictions(predictions, dataset).predictions
    return evaluate(dataset, aligned, EvalParams())


def test_per_image_scores_by_hand():
    dataset = make_dataset(
        [
            ([OBJ, [200, 0, 300, 100]], [0, 0]),  # one found, a FP between, one missed
            ([], []),  # no objects, one false positive
            ([], []),  # nothing at all
        ],
        NAMES,
    )
    preds = {
        0: make_detections([OBJ, [400, 400, 450, 450]], [0.9, 0.8], [0, 0], NAMES),
        1: make_detections([[0, 0, 10, 10]], [0.7], [1], NAMES),
    }
    frame = per_image_scores(_evaluate(dataset, preds), conf=0.5, iou=0.5)
    first, lonely_fp, empty = frame.to_dict("records")
    assert (first["TP"], first["FP"], first["FN"]) == (1, 1, 1)
    assert first["F1"] == pytest.approx(2 / 4)
    assert first["AP"] == pytest.approx(51 / 101)  # precision 1 up to recall 0.5
    assert lonely_fp["F1"] == 0.0 and np.isnan(lonely_fp["AP"])
    assert np.isnan(empty["F1"]) and np.isnan(empty["AP"])
    # a higher confidence drops the false positive, not the AP
    strict = per_image_scores(_evaluate(dataset, preds), conf=0.85, iou=0.5)
    assert strict["FP"].tolist() == [0, 0, 0]
    assert strict["AP"].iloc[0] == pytest.approx(51 / 101)


def test_mean_of_per_image_ap_is_not_map():
    # image 0: a confident false positive above its true positive; image 1: clean.
    # Per image: AP 0.5 and 1.0 (mean 0.75); pooled, the false positive ranks above both
    # hits: precision 2/3 at recall 1 -> AP 2/3.
    dataset = make_dataset([([OBJ], [0]), ([OBJ], [0])], NAMES)
    preds = {
        0: make_detections([[300, 300, 400, 400], OBJ], [0.95, 0.5], [0, 0], NAMES),
        1: make_detections([OBJ], [0.6], [0], NAMES),
    }
    evaluation = _evaluate(dataset, preds)
    frame = per_image_scores(evaluation, 0.25, 0.5)
    assert frame["AP"].tolist() == pytest.approx([0.5, 1.0])
    assert evaluation.stats["AP50"] == pytest.approx(2 / 3)
    assert frame["AP"].mean() != pytest.approx(evaluation.stats["AP50"])


@pytest.mark.parametrize("area", ["all", "small", "large"])
def test_per_image_ap_is_the_evaluation_of_that_image_alone(area):
    dataset, predictions = random_coco_case(5, images=40, classes=4)
    aligned = align_predictions(predictions, dataset).predictions
    evaluation = evaluate(dataset, aligned, EvalParams())
    frame = per_image_scores(evaluation, 0.25, 0.5, area=area).set_index("image_id")
    a = ("all", "small", "medium", "large").index(area)
    checked = 0
    for sample in dataset.samples[:40]:
        alone = Dataset("one", "coco", dataset.root, dataset.class_names, (sample,))
        single = evaluate(
            alone, {sample.image_id: aligned[sample.image_id]}, EvalParams()
        )
        p = single.precision[0, :, :, a, 2]  # IoU 0.5, maxDets 100
        valid = p[:, (p > -1).any(axis=0)]
        expected = valid.mean() if valid.size else np.nan
        got = frame.loc[sample.image_id, "AP"]
        if np.isnan(expected):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-12)
            checked += 1
    assert checked > 10


def test_per_image_counts_add_up_to_the_explorers_and_filter_by_class():
    dataset, predictions = random_coco_case(6, images=120, classes=5)
    evaluation = _evaluate(dataset, predictions)
    explorer = Explorer(evaluation, dataset.class_names)
    for conf, iou in ((0.25, 0.5), (0.6, 0.75)):
        frame = per_image_scores(evaluation, conf, iou)
        summary = explorer.summary(conf, iou)
        assert (frame["TP"].sum(), frame["FP"].sum(), frame["FN"].sum()) == (
            summary.tp, summary.fp, summary.fn,
        )  # fmt: skip
    by_class = [per_image_scores(evaluation, 0.25, 0.5, class_id=c) for c in range(5)]
    assert sum(f["TP"].sum() for f in by_class) == explorer.summary(0.25, 0.5).tp
    records = explorer.match(0.5).at_confidence(0.25)
    mine = records[(records["class"] == "class2") & (records["kind"] == "FP")]
    assert by_class[2]["FP"].sum() == len(mine)


def test_pr_by_size_reads_the_evaluation():
    dataset, predictions = random_coco_case(2, images=150, classes=6)
    evaluation = _evaluate(dataset, predictions)
    curves = pr_by_size(evaluation, 0.5)
    assert set(curves) == {"all", "small", "medium", "large"}
    assert curves["all"][2] == pytest.approx(evaluation.stats["AP50"])
    r, p, _ = curves["small"]
    assert len(r) == len(p) == 101 and np.all(np.diff(p) <= 1e-12)  # an envelope
    assert curves["small"][2] != pytest.approx(curves["large"][2])


def test_best_operating_point_is_the_highest_f1_of_any_cut():
    dataset, predictions = random_coco_case(3, images=150, classes=4)
    evaluation = _evaluate(dataset, predictions)
    explorer = Explorer(evaluation, dataset.class_names)
    best = best_operating_points(evaluation, dataset.class_names, 0.5)
    overall = best.iloc[0]
    assert overall["class"] == ALL_CLASSES
    # the explorer at that confidence gives the same F1, and no cut on a fine grid beats it
    assert explorer.summary(overall["conf"], 0.5).f1 == pytest.approx(overall["F1"])
    grid = [explorer.summary(c, 0.5).f1 for c in np.linspace(0.0, 1.0, 401)]
    assert max(grid) <= overall["F1"] + 1e-12
    # per class: the same against the class's own counts
    row = best.set_index("class").loc["class1"]
    frame = per_image_scores(evaluation, row["conf"], 0.5, class_id=1)
    tp, fp, fn = frame["TP"].sum(), frame["FP"].sum(), frame["FN"].sum()
    assert 2 * tp / (2 * tp + fp + fn) == pytest.approx(row["F1"])
    for c in np.linspace(0.0, 1.0, 201):
        f = per_image_scores(evaluation, c, 0.5, class_id=1)
        tp, fp, fn = f["TP"].sum(), f["FP"].sum(), f["FN"].sum()
        assert 2 * tp / max(2 * tp + fp + fn, 1) <= row["F1"] + 1e-12
    assert len(best) == 1 + 4
