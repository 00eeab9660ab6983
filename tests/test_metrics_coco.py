"""COCO metrics: hand-computed scenarios, then differential tests against pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import make_dataset, make_detections, random_coco_case
from tests.reference import pycocotools_eval
from visioncompare.evaluation.metrics.coco import (
    STAT_NAMES,
    coco_ground_truth,
    coco_results,
    evaluate_coco,
)

BOX_A, BOX_B = [10, 10, 110, 110], [200, 200, 260, 260]  # large (100²) and medium (60²)


def test_perfect_predictions_score_one():
    ds = make_dataset([([BOX_A, BOX_B], [0, 1])])
    preds = {0: make_detections([BOX_A, BOX_B], [0.9, 0.8], [0, 1])}
    stats = evaluate_coco(ds, preds).stats
    for name in ("AP", "AP50", "AP75", "AP_medium", "AP_large", "AR1", "AR10", "AR100"):
        assert stats[name] == pytest.approx(1.0), name
    assert stats["AP_small"] == -1 and stats["AR_small"] == -1  # no small ground truth


def test_no_ground_truth_gives_minus_one():
    ds = make_dataset([([], [])])
    result = evaluate_coco(ds, {0: make_detections([BOX_A], [0.9], [0])})
    assert all(v == -1 for v in result.stats.values())
    assert (result.per_class["AP50"] == -1).all()


def test_a_missed_box_lowers_recall():
    ds = make_dataset([([BOX_A, BOX_B], [0, 0])])
    result = evaluate_coco(ds, {0: make_detections([BOX_A], [0.9], [0])})
    assert result.stats["AR100"] == pytest.approx(0.5)
    assert result.stats["AP"] < 1.0


def test_a_duplicate_is_a_false_positive():
    ds = make_dataset([([BOX_A], [0])])
    one = evaluate_coco(ds, {0: make_detections([BOX_A], [0.9], [0])}).stats["AP"]
    # The duplicate outscores the true match, so precision at full recall drops to 1/2.
    dup = evaluate_coco(
        ds, {0: make_detections([[12, 12, 108, 108], BOX_A], [0.95, 0.9], [0, 0])}
    ).stats["AP50"]
    assert one == pytest.approx(1.0) and dup == pytest.approx(
        1.0
    )  # first one is a TP too
    shifted = evaluate_coco(
        ds, {0: make_detections([[60, 60, 160, 160], BOX_A], [0.95, 0.9], [0, 0])}
    ).stats["AP50"]
    assert shifted == pytest.approx(0.5, abs=0.01)


def test_crowd_regions_ignore_their_matches():
    crowd = [0, 0, 300, 300]
    ds = make_dataset([([BOX_B, crowd], [0, 0], [0, 1])])
    inside_crowd = make_detections([BOX_B, [20, 20, 60, 60]], [0.8, 0.9], [0, 0])
    assert evaluate_coco(ds, {0: inside_crowd}).stats["AP"] == pytest.approx(1.0)
    plain = make_dataset([([BOX_B, crowd], [0, 0], [0, 0])])
    assert evaluate_coco(plain, {0: inside_crowd}).stats["AP"] < 1.0


def test_classes_are_matched_by_name_and_foreign_classes_left_out():
    ds = make_dataset([([BOX_A], [0])], class_names=("dog",))
    # the model's "dog" is class 1 of its own list; its "cup" is not in the dataset
    det = make_detections(
        [BOX_A, BOX_B], [0.9, 0.95], [1, 0], class_names=("cup", "dog")
    )
    assert evaluate_coco(ds, {0: det}).stats["AP"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identical_to_pycocotools_on_random_datasets(seed):
    dataset, predictions = random_coco_case(seed)
    ours = evaluate_coco(dataset, predictions)
    stats, precision = pycocotools_eval(
        coco_ground_truth(dataset), coco_results(predictions, dataset)
    )
    assert np.abs(np.array([ours.stats[n] for n in STAT_NAMES]) - stats).max() <= 1e-9
    assert ours.precision.shape == precision.shape
    assert np.abs(ours.precision - precision).max() <= 1e-9
    assert len(dataset) >= 300 and sum(len(p) for p in predictions.values()) > 1000


def test_identical_to_pycocotools_with_max_dets_300():
    dataset, predictions = random_coco_case(7, images=60)
    ours = evaluate_coco(dataset, predictions, max_dets=(1, 10, 300))
    stats, precision = pycocotools_eval(
        coco_ground_truth(dataset),
        coco_results(predictions, dataset),
        max_dets=(1, 10, 300),
    )
    assert np.abs(ours.precision - precision).max() <= 1e-9
    ours_stats = np.array([ours.stats[n] for n in STAT_NAMES])
    assert np.abs(ours_stats[1:] - stats[1:]).max() <= 1e-9
    # pycocotools' summarize() asks for AP at maxDets=100 by a hard-coded default and prints
    # -1 when 100 is not in maxDets; the AP at maxDets 300 is the mean of its own array.
    assert stats[0] == -1
    at_300 = precision[:, :, :, 0, -1]  # all areas, the last maxDets
    assert ours.stats["AP"] == pytest.approx(at_300[at_300 > -1].mean(), abs=1e-12)


def test_per_class_ap_and_pr_curve_read_the_same_arrays():
    dataset, predictions = random_coco_case(3, images=80, classes=5)
    result = evaluate_coco(dataset, predictions)
    valid = result.per_class[result.per_class["AP50-95"] > -1]
    assert result.stats["AP"] == pytest.approx(valid["AP50-95"].mean(), abs=1e-12)
    assert result.stats["AP50"] == pytest.approx(valid["AP50"].mean(), abs=1e-12)
    recall, precision = result.pr_curve(result.class_names[0])
    assert recall.shape == precision.shape == (101,)
    assert precision.mean() == pytest.approx(result.per_class.loc[0, "AP50"], abs=1e-12)
    assert np.all(np.diff(precision) <= 1e-12)  # interpolated precision never rises
