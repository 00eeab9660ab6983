"""VOC AP (hand-worked and against an independent integral), per-image matching,
threshold cuts and the confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import make_dataset, make_detections, random_coco_case
from visioncompare.evaluation.metrics.ap import (
    APMethod,
    average_precision,
    precision_recall,
)
from visioncompare.evaluation.metrics.matching import (
    FN,
    FP,
    IGNORED,
    TP,
    confusion_matrix,
    f1_curve,
    match_dataset,
    summarize,
)
from visioncompare.evaluation.metrics.voc import evaluate_voc

BOX = [10, 10, 110, 110]


def test_hand_worked_ranking():
    # ranks: TP, FP, TP, TP, FP with 4 ground truths
    recall, precision = precision_recall(
        np.array([1, 0, 1, 1, 0], bool), np.array([0.9, 0.8, 0.7, 0.6, 0.5]), num_gt=4
    )
    assert recall.tolist() == [0.25, 0.25, 0.5, 0.75, 0.75]
    assert precision.tolist() == pytest.approx([1, 0.5, 2 / 3, 0.75, 0.6])
    # all-point: 0.25 * 1 + 0.25 * 0.75 + 0.25 * 0.75
    assert average_precision(recall, precision, APMethod.VOC_ALL) == pytest.approx(
        0.625
    )
    # 11-point: recall >= 0, .1, .2 -> 1; .3 ... .7 -> 0.75; .8, .9, 1 -> 0
    assert average_precision(recall, precision, "voc07_11") == pytest.approx(6.75 / 11)
    # 101-point: 26 points at 1, 50 at 0.75, 25 at 0
    assert average_precision(recall, precision, APMethod.COCO_101) == pytest.approx(
        (26 + 37.5) / 101
    )


def test_perfect_and_empty_rankings():
    r, p = precision_recall(np.ones(3, bool), np.array([0.9, 0.8, 0.7]), 3)
    assert all(average_precision(r, p, m) == pytest.approx(1.0) for m in APMethod)
    r, p = precision_recall(np.zeros(0, bool), np.zeros(0), 3)
    assert all(average_precision(r, p, m) == 0.0 for m in APMethod)


def _envelope_area(
    recall: np.ndarray, precision: np.ndarray, steps: int = 1_000_000
) -> float:
    """An independent all-point AP: the mean of the interpolated precision
    p(r) = max{precision at recall >= r} over a fine grid of r in [0, 1]."""
    order = np.argsort(recall, kind="stable")
    r_sorted, p_sorted = recall[order], precision[order]
    suffix_max = np.append(np.maximum.accumulate(p_sorted[::-1])[::-1], 0.0)
    grid = (np.arange(steps) + 0.5) / steps
    return float(suffix_max[np.searchsorted(r_sorted, grid, side="left")].mean())


@pytest.mark.parametrize("seed", range(5))
def test_all_point_ap_is_the_area_under_the_interpolated_curve(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    is_tp = rng.uniform(size=n) < 0.6
    num_gt = int(is_tp.sum() + rng.integers(0, 5))
    recall, precision = precision_recall(is_tp, rng.uniform(size=n), num_gt)
    ap = average_precision(recall, precision, APMethod.VOC_ALL)
    assert ap == pytest.approx(_envelope_area(recall, precision), abs=1e-4)


def test_voc_ignores_difficult_and_follows_the_devkit():
    ds = make_dataset(
        [([BOX, [200, 200, 300, 300], [400, 50, 500, 150]], [0, 0, 0], None, [0, 0, 1])]
    )
    det = make_detections(
        [BOX, [405, 55, 500, 150], [200, 200, 300, 300], [205, 205, 300, 300]],
        [0.9, 0.8, 0.7, 0.6],
        [0, 0, 0, 0],
    )
    result = evaluate_voc(ds, {0: det})
    row = result.per_class.iloc[0]
    assert row["gt"] == 2  # the difficult object does not count
    # ranking after the ignored hit on the difficult box: TP, TP, FP (a duplicate)
    assert row["AP_all"] == pytest.approx(1.0) and row["AP_11pt"] == pytest.approx(1.0)
    recall, _precision = result.curves["a"]
    assert recall.tolist() == [0.5, 1.0, 1.0]
    assert np.isnan(result.per_class.iloc[1]["AP_all"])  # class b: no ground truth
    assert result.map_all == pytest.approx(1.0)


def test_voc_needs_iou_strictly_above_the_threshold():
    ds = make_dataset([([[0, 0, 100, 100]], [0])])
    det = make_detections([[0, 0, 100, 50]], [0.9], [0])  # IoU exactly 0.5
    assert evaluate_voc(ds, {0: det}).map_all == 0.0


def test_matching_kinds():
    crowd = [300, 300, 600, 460]
    ds = make_dataset([([BOX, [120, 10, 220, 110], crowd], [0, 1, 0], [0, 0, 1])])
    det = make_detections(
        [BOX, [12, 12, 110, 110], [350, 350, 400, 400], [500, 0, 600, 50]],
        [0.9, 0.8, 0.7, 0.6],
        [0, 0, 0, 1],
    )
    match = match_dataset(ds, {0: det}, iou_threshold=0.5)
    kinds = match.records.sort_values("score", ascending=False)["kind"].tolist()
    assert kinds[:4] == [TP, FP, IGNORED, FP] and kinds[4] == FN  # class b box missed
    tp = match.records[match.records["kind"] == TP].iloc[0]
    assert tp["iou"] == pytest.approx(1.0) and tp["gt_index"] == 0
    dup = match.records[np.isclose(match.records["score"], 0.8)].iloc[0]
    assert dup["iou"] == pytest.approx(0.9604, abs=1e-4)  # overlaps the taken box
    summary = summarize(match.records)
    assert (summary.tp, summary.fp, summary.fn) == (1, 2, 1)
    assert summary.precision == pytest.approx(
        1 / 3
    ) and summary.recall == pytest.approx(0.5)
    assert match.num_gt == 2


@pytest.mark.parametrize("conf", [0.1, 0.3, 0.55, 0.9])
def test_one_matching_serves_every_confidence(conf):
    dataset, predictions = random_coco_case(11, images=80)
    once = match_dataset(dataset, predictions, 0.5).at_confidence(conf)
    direct = match_dataset(dataset, predictions, 0.5, min_score=conf).records
    key = ["image_id", "kind", "x1", "y1", "x2", "y2"]
    a = once.sort_values(key).reset_index(drop=True)[[*key, "iou"]]
    b = direct.sort_values(key).reset_index(drop=True)[[*key, "iou"]]
    assert a[key].equals(b[key])
    assert np.allclose(a["iou"].fillna(-1), b["iou"].fillna(-1))
    assert summarize(once) == summarize(direct)


def test_f1_curve_agrees_with_summaries():
    dataset, predictions = random_coco_case(12, images=60)
    match = match_dataset(dataset, predictions, 0.5)
    curve = f1_curve(match, np.array([0.2, 0.5, 0.8]))
    for _, row in curve.iterrows():
        s = summarize(match.at_confidence(row["confidence"]))
        assert row["precision"] == pytest.approx(s.precision)
        assert row["recall"] == pytest.approx(s.recall)
        assert row["f1"] == pytest.approx(s.f1)


def test_confusion_matrix_counts_and_cells():
    ds = make_dataset(
        [([BOX, [200, 200, 300, 300]], [0, 1]), ([[50, 50, 150, 150]], [2])]
    )
    preds = {
        0: make_detections(
            [BOX, [205, 205, 300, 300], [400, 10, 450, 60]], [0.9, 0.8, 0.7], [0, 2, 1]
        ),
        1: make_detections([], [], []),
    }
    cm = confusion_matrix(ds, preds, conf=0.25, iou=0.45)
    bg = 3
    assert cm.labels == ("a", "b", "c", "background")
    assert cm.matrix[0, 0] == 1  # a seen as a
    assert cm.matrix[2, 1] == 1  # b seen as c
    assert cm.matrix[1, bg] == 1  # a false b in the background
    assert cm.matrix[bg, 2] == 1  # the missed c
    assert cm.matrix.sum() == 4 and cm.cells[(bg, 2)] == [1]
    assert cm.normalized()[:, 2].sum() == pytest.approx(1.0)
    assert cm.conf == 0.25 and cm.iou == 0.45
