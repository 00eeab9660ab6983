from __future__ import annotations

import numpy as np
import pytest

from core.compare import class_counts, detections_frame, filter_detections, timing_text
from core.demo_images import list_demo_images
from core.draw import BoxStyle, annotate, class_color
from core.plots import topk_bar_figure
from core.types import Classification, Timing
from tests.helpers import make_detections


def test_annotate_draws_in_the_class_colour_and_leaves_the_input_alone():
    image = np.zeros((100, 120, 3), np.uint8)
    det = make_detections([[20, 30, 80, 90]], [0.9], [1])
    out = annotate(image, det, labels=[""])
    assert image.sum() == 0 and out.shape == image.shape and out.dtype == np.uint8
    color = class_color("b")
    assert out[60, 20].tolist() == list(color)  # left edge of the box
    assert out[60, 50].tolist() == [0, 0, 0]  # inside stays untouched
    assert out[5, 5].tolist() == [0, 0, 0]


def test_annotate_writes_a_label_and_supports_fixed_dashed_style():
    image = np.zeros((200, 200, 3), np.uint8)
    det = make_detections([[50, 60, 150, 160]], [0.5], [0])
    labelled = annotate(image, det)
    assert labelled[30:60, 50:150].any()  # label drawn above the box
    dashed = annotate(
        image, det, labels=[""], style=BoxStyle(color=(0, 255, 0), dashed=True)
    )
    edge = dashed[60, 50:150, 1]
    assert (edge == 255).any() and (edge == 0).any()  # gaps in the dashed line


def test_annotate_validates_inputs():
    det = make_detections([[0, 0, 5, 5]])
    with pytest.raises(ValueError, match=r"expected \(H, W, 3\) uint8"):
        annotate(np.zeros((10, 10), np.uint8), det)
    with pytest.raises(ValueError, match="labels: expected 1, got 2"):
        annotate(np.zeros((10, 10, 3), np.uint8), det, labels=["a", "b"])
    out = annotate(np.zeros((10, 10, 3), np.uint8), make_detections([]))
    assert out.sum() == 0


def test_class_colours_are_stable_and_distinct():
    assert class_color("person") == class_color("person")
    assert len({class_color(n) for n in ("person", "bus", "car", "dog", "cat")}) == 5


def test_filter_by_score_and_class():
    det = make_detections(
        [[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]], [0.9, 0.3, 0.6], [0, 1, 2]
    )
    assert filter_detections(det, 0.5).labels == ["a", "c"]
    assert filter_detections(det, 0.0, classes={"b", "c"}).labels == ["b", "c"]
    assert len(filter_detections(det, 0.95)) == 0
    assert len(filter_detections(make_detections([]), 0.1, classes=["a"])) == 0


def test_detections_table_and_counts():
    det = make_detections(
        [[0, 0, 10, 20], [5, 5, 6, 6], [1, 1, 2, 2]], [0.4, 0.8, 0.6], [0, 1, 0]
    )
    frame = detections_frame(det)
    assert frame["class"].tolist() == ["b", "a", "a"]  # best score first
    assert frame.loc[2, ["width", "height", "area"]].tolist() == [10, 20, 200]
    assert class_counts(det) == [("a", 2), ("b", 1)]
    tie = make_detections([[0, 0, 1, 1]] * 2, class_ids=[1, 0])
    assert class_counts(tie) == [("a", 1), ("b", 1)]
    assert class_counts(make_detections([])) == []


def test_timing_text():
    text = timing_text(Timing(1.0, 20.0, 2.5), "cpu")
    assert "inference 20.0 ms" in text and "total 23.5 ms" in text and "`cpu`" in text


def test_topk_figure_puts_the_best_class_on_top():
    cls = Classification(np.array([0.05, 0.7, 0.25]), ("x", "y", "z"))
    fig = topk_bar_figure(cls, k=2)
    bar = fig.data[0]
    assert list(bar.y) == ["z", "y"] and list(bar.x) == pytest.approx([0.25, 0.7])
    assert "Top-2" in fig.layout.title.text


def test_bundled_demo_images_have_provenance():
    demos = list_demo_images()
    assert len(demos) >= 5 and demos[0].name == "bus.jpg"
    assert all(d.source and d.licence and d.path.is_file() for d in demos)
