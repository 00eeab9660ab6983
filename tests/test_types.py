from __future__ import annotations

import pickle

import numpy as np
import pytest

from tests.helpers import make_detections
from visioncompare.kernel.types import Classification, Detections, Timing


def test_detections_validates_shapes_with_expected_vs_got():
    with pytest.raises(
        ValueError, match=r"xyxy: expected shape \(N, 4\), got \(2, 3\)"
    ):
        Detections(np.zeros((2, 3)), np.zeros(2), np.zeros(2, int))
    with pytest.raises(ValueError, match=r"scores: expected shape \(2,\)"):
        Detections(np.zeros((2, 4)), np.zeros(3), np.zeros(2, int))
    with pytest.raises(ValueError, match="class_ids: expected an integer dtype"):
        Detections(np.zeros((1, 4)), np.zeros(1), np.array([0.5]))
    with pytest.raises(ValueError, match="x1 <= x2"):
        Detections(np.array([[10, 0, 5, 5]]), np.ones(1), np.zeros(1, int))
    with pytest.raises(ValueError, match=r"class_ids: expected values in \[0, 1\)"):
        Detections(np.zeros((1, 4)), np.ones(1), np.array([3]), ("only",))
    with pytest.raises(ValueError, match="finite"):
        Detections(np.array([[0, 0, np.nan, 1]]), np.ones(1), np.zeros(1, int))


def test_empty_detections_have_consistent_shapes():
    empty = Detections.empty(("a",))
    assert len(empty) == 0
    assert empty.xyxy.shape == (0, 4) and empty.xyxy.dtype == np.float32
    assert empty.labels == [] and empty.area.shape == (0,)
    assert len(Detections([], [], [])) == 0


def test_mask_indexing_keeps_extras_aligned():
    det = make_detections(
        [[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]], [0.9, 0.2, 0.5], [0, 1, 2]
    )
    det = Detections(
        det.xyxy,
        det.scores,
        det.class_ids,
        det.class_names,
        {"iscrowd": np.array([0, 1, 0])},
    )
    kept = det[det.scores >= 0.5]
    assert kept.labels == ["a", "c"]
    assert kept.extra["iscrowd"].tolist() == [0, 0]
    assert kept.area.tolist() == [1.0, 9.0]
    assert det[1].labels == ["b"]
    assert det.sorted_by_score().scores.tolist() == pytest.approx([0.9, 0.5, 0.2])


def test_detections_survive_pickling_for_streamlit_cache():
    det = make_detections([[1, 2, 3, 4]], [0.5], [1])
    back = pickle.loads(pickle.dumps(det))
    assert back.labels == ["b"] and np.array_equal(back.xyxy, det.xyxy)


def test_classification_topk_and_validation():
    cls = Classification(np.array([0.1, 0.6, 0.3]), ("x", "y", "z"))
    assert cls.topk(2) == [("y", pytest.approx(0.6)), ("z", pytest.approx(0.3))]
    assert cls.top1[0] == "y"
    assert len(cls.topk(10)) == 3 and cls.topk(0) == []
    with pytest.raises(ValueError, match="to match class_names"):
        Classification(np.zeros(2), ("a", "b", "c"))


def test_timing_total():
    assert Timing(1.0, 2.5, 0.5).total_ms == pytest.approx(4.0)
