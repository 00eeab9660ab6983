"""The Learn page's sentences and tables, from hand-made outputs."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from tests.helpers import make_detections
from visioncompare.kernel.types import Classification
from visioncompare.learn.lessons import NOT_IN_IMAGENET
from visioncompare.learn.summaries import (
    cost_row,
    crop_records,
    crop_summary,
    goal_sentence,
    head_sentence,
    points_above,
)


def test_goal_sentence_names_what_the_single_label_leaves_out():
    text = goal_sentence("minibus", "bus", [("person", 4, 0.9), ("bus", 1, 0.95)])
    assert "a kind of **bus**" in text and "person × 4, bus × 1" in text
    assert "leaves out **person**" in text
    agree = goal_sentence("tabby", "cat", [("cat", 1, 0.9)])
    assert "Here the two agree" in agree
    nothing = goal_sentence("web site", None, [])
    assert "not one of the detector's classes" in nothing and "found nothing" in nothing


def _classification(top: str) -> Classification:
    names = ("tabby", "minibus", "web site")
    scores = np.array([0.1, 0.1, 0.1], np.float32)
    scores[names.index(top)] = 0.7
    return Classification(scores, names)


def test_crop_records_and_summary_count_agreement_only_where_imagenet_can_name():
    shown = make_detections(
        [[0, 0, 5, 5]] * 3, [0.9, 0.8, 0.7], [0, 1, 2], ("cat", "bus", "person")
    )
    to_coco = {"tabby": "cat", "minibus": "bus"}
    records = crop_records(
        [0, 1, 2],
        [
            _classification("tabby"),
            _classification("web site"),
            _classification("tabby"),
        ],
        shown,
        to_coco,
    )
    assert [r["box"] for r in records] == [1, 2, 3]
    assert [r["agree (top-1)"] for r in records] == ["yes", "no", NOT_IN_IMAGENET]
    assert records[1]["in top-3"] == "yes"  # minibus is among the three
    text = crop_summary(records)
    assert "**1 of 2**" in text and "2 of 2 have it among the top 3" in text
    assert "1 crop is of classes ImageNet cannot name" in text


def test_cost_row_is_nan_where_a_count_is_unknown():
    known = cost_row(
        "m", "detect", "cpu", SimpleNamespace(params=2e6, macs=3e9), 640, 5
    )
    assert (known.params_m, known.gmacs) == (2.0, 3.0)
    assert known.as_record()["input (px)"] == "640×640"
    unknown = cost_row("m", "detect", "cpu", None, 640, 5.0)
    assert math.isnan(unknown.params_m) and math.isnan(unknown.gmacs)


def test_head_counts():
    scores = np.array([[0.1, 0.3], [0.5, 0.2], [0.0, 0.0]])
    assert points_above(scores, 0.3) == 2 and points_above(np.zeros((0, 2)), 0.1) == 0
    text = head_sentence(8400, 80, 12, 0.25, 3, 1000)
    assert "8,400 points × 84 numbers" in text and "**3 boxes**" in text
