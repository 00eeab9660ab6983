"""Pure chart functions, the error browser's data, and the mAP-recipes table, on data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers import make_dataset, make_detections, random_coco_case
from visioncompare.evaluation.error_browser import STYLES, draw_errors, per_image_table
from visioncompare.evaluation.metrics.matching import (
    FN,
    FP,
    TP,
    confusion_matrix,
    match_dataset,
    operating_point,
    pr_curve,
    summarize,
)
from visioncompare.plots.evaluation import (
    ap_difference_figure,
    confusion_figure,
    f1_confidence_figure,
    iou_histogram_figure,
    per_class_ap_figure,
    pr_figure,
    tagging_figure,
)


@pytest.fixture(scope="module")
def case():
    dataset, predictions = random_coco_case(5, images=60, classes=6)
    return dataset, predictions, match_dataset(dataset, predictions, 0.5)


def test_per_class_bars_skip_classes_without_ground_truth():
    frame = pd.DataFrame({"class": ["a", "b", "c"], "AP50-95": [0.2, -1.0, 0.7]})
    bar = per_class_ap_figure(frame).data[0]
    assert list(bar.y) == ["a", "c"] and list(bar.x) == [0.2, 0.7]  # best on top


def test_pr_curve_and_operating_point_agree_with_the_summary(case):
    dataset, _, match = case
    recall, precision, scores = pr_curve(match)
    assert np.all(np.diff(scores) <= 0) and np.all(np.diff(recall) >= 0)
    point = operating_point(recall, precision, scores, 0.4)
    summary = summarize(match.at_confidence(0.4))
    assert point == pytest.approx((summary.recall, summary.precision))
    assert operating_point(recall, precision, scores, 1.01) is None
    one = dataset.class_names[0]
    r1, _, _ = pr_curve(match, one)
    of_class = match.records[match.records["class"] == one]
    assert r1.max() <= 1.0 and len(r1) == of_class["kind"].isin([TP, FP]).sum()
    fig = pr_figure(
        [("x", recall, precision), ("y", recall, precision)], point, "conf 0.40"
    )
    assert len(fig.data) == 3 and fig.data[1].line.dash == "dot"
    assert list(fig.data[2].x) == [point[0]]


def test_iou_histogram_counts_and_threshold_lines():
    fig = iou_histogram_figure(np.array([0.55, 0.56, 0.85, 0.99]), (0.5, 0.75), bins=10)
    assert list(fig.data[0].y) == [0, 0, 0, 0, 0, 2, 0, 0, 1, 1]
    assert [s.x0 for s in fig.layout.shapes] == [0.5, 0.75]
    assert "4 true positives" in fig.layout.title.text


def test_f1_figure_marks_the_threshold():
    curve = pd.DataFrame({"confidence": [0, 0.5, 1], "precision": [0.1, 0.5, 1],
                          "recall": [1, 0.5, 0], "f1": [0.2, 0.5, 0]})  # fmt: skip
    fig = f1_confidence_figure(curve, 0.3)
    assert [t.name for t in fig.data] == ["f1", "precision", "recall"]
    assert fig.layout.shapes[0].x0 == 0.3


def test_confusion_figure_drops_unused_classes_and_names_thresholds():
    ds = make_dataset([([[0, 0, 50, 50]], [0])], class_names=("a", "b", "c"))
    cm = confusion_matrix(
        ds, {0: make_detections([[0, 0, 50, 50]], [0.9], [2])}, 0.3, 0.5
    )
    fig = confusion_figure(cm)
    assert list(fig.data[0].x) == ["a", "c", "background"]
    assert "conf 0.30, IoU 0.50" in fig.layout.title.text
    assert np.asarray(fig.data[0].z).sum() == 1
    assert "sums to 1" in confusion_figure(cm, normalize=True).layout.title.text


def test_ap_difference_and_tagging_figures():
    a = pd.DataFrame({"class": ["x", "y", "z"], "AP50-95": [0.5, 0.2, -1]})
    b = pd.DataFrame({"class": ["x", "y", "z"], "AP50-95": [0.4, 0.6, 0.3]})
    bar = ap_difference_figure(a, b, "A", "B").data[0]
    assert list(bar.y) == ["x", "y"] and list(bar.x) == pytest.approx([-0.1, 0.4])
    tags = pd.DataFrame({"class": ["dog", "cat"], "classifier_AP": [0.9, 0.4],
                         "detector_AP": [0.95, 0.8]})  # fmt: skip
    fig = tagging_figure(tags)
    assert len(fig.data) == 2 and list(fig.data[0].y) == ["cat", "dog"]


def test_per_image_table_counts_every_image(case):
    dataset, _, match = case
    records = match.at_confidence(0.3)
    table = per_image_table(records, {s.image_id: s.name for s in dataset.samples})
    assert len(table) == len(dataset)
    for kind in (TP, FP, FN):
        assert table[kind].sum() == (records["kind"] == kind).sum()
    row = table.iloc[1]
    tps = records[(records["image_id"] == row["image_id"]) & (records["kind"] == TP)]
    assert (
        row["worst IoU"] == pytest.approx(tps["iou"].min())
        if len(tps)
        else np.isnan(row["worst IoU"])
    )


def test_draw_errors_uses_one_colour_per_kind():
    ds = make_dataset([([[10, 10, 60, 60], [100, 10, 150, 60]], [0, 0])])
    det = make_detections([[10, 10, 60, 60], [10, 100, 60, 150]], [0.9, 0.8], [0, 0])
    records = match_dataset(ds, {0: det}, 0.5).records
    out = draw_errors(np.zeros((200, 200, 3), np.uint8), records, ds.class_names)
    assert tuple(out[35, 10]) == STYLES[TP].color  # left edge of the true positive
    assert tuple(out[125, 10]) == STYLES[FP].color
    missed = out[60, 100:150]  # the bottom edge of the missed box is dashed
    assert (missed == STYLES[FN].color).all(axis=1).any() and (missed == 0).all(
        axis=1
    ).any()


def test_figures_colour_each_class_as_the_annotator_does():
    import pandas as pd

    from visioncompare.kernel.draw import class_hex
    from visioncompare.plots.evaluation import per_class_ap_figure
    from visioncompare.plots.video import video_timeline_figure

    per_class = pd.DataFrame(
        {"class": ["bus", "car", "horse"], "gt": [3, 2, 1], "AP50-95": [0.5, 0.7, 0.1]}
    )
    bars = per_class_ap_figure(per_class).data[0]
    assert list(bars.marker.color) == [class_hex(c) for c in bars.y]
    objects = pd.DataFrame(
        [(0, 0.0, name, 1) for name in ("bicycle", "bowl", "bus", "car", "horse")],
        columns=["frame", "seconds", "class", "objects"],
    )
    fig = video_timeline_figure(objects, pd.DataFrame())
    colours = {t.name: t.line.color for t in fig.data}
    assert colours == {n: class_hex(n) for n in colours} and len(set(colours.values())) == 5


def test_a_thin_probability_bar_keeps_its_label_level():
    from visioncompare.kernel.types import Classification
    from visioncompare.plots.evaluation import topk_bar_figure

    cls = Classification(np.array([0.9, 0.083, 0.017]), ("a", "b", "c"))
    bar = topk_bar_figure(cls, k=3).data[0]
    assert bar.textangle == 0 and "8.3%" in bar.text
