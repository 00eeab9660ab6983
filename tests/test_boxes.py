from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import random_boxes
from visioncompare.kernel import boxes as B


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
        ([0, 0, 10, 10], [10, 10, 20, 20], 0.0),  # touching corners
        ([0, 0, 10, 10], [2, 2, 4, 4], 4 / 100),  # contained
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # degenerate: empty union
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
    ],
)
def test_box_iou_table(a, b, expected):
    assert B.box_iou(np.array([a]), np.array([b]))[0, 0] == pytest.approx(expected)


def test_box_iou_shapes_and_empty_cases():
    a, b = random_boxes(5, seed=1), random_boxes(3, seed=2)
    iou = B.box_iou(a, b)
    assert iou.shape == (5, 3) and np.all((iou >= 0) & (iou <= 1))
    assert np.allclose(iou, B.box_iou(b, a).T)
    assert B.box_iou(np.zeros((0, 4)), b).shape == (0, 3)
    assert B.box_iou(a, np.zeros((0, 4))).shape == (5, 0)
    assert B.box_iou([], []).shape == (0, 0)
    with pytest.raises(ValueError, match=r"expected shape \(N, 4\)"):
        B.box_iou(np.zeros((2, 3)), b)


def test_box_iou_matches_a_loop():
    a, b = random_boxes(20, seed=3), random_boxes(15, seed=4)
    expected = np.zeros((20, 15))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            ih = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = iw * ih
            union = (
                (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            )
            expected[i, j] = inter / union
    assert np.allclose(B.box_iou(a, b), expected, atol=1e-12)


def test_box_ioa_divides_by_the_detection_area():
    det = np.array([[0, 0, 10, 10]])
    crowd = np.array([[0, 0, 100, 100], [5, 0, 15, 10]])
    assert B.box_ioa(det, crowd).tolist() == [[1.0, 0.5]]


@pytest.mark.parametrize(
    ("fmt_to", "fmt_from", "box", "converted"),
    [
        (B.xyxy_to_xywh, B.xywh_to_xyxy, [10, 20, 30, 60], [10, 20, 20, 40]),
        (B.xyxy_to_cxcywh, B.cxcywh_to_xyxy, [10, 20, 30, 60], [20, 40, 20, 40]),
    ],
)
def test_box_format_round_trips(fmt_to, fmt_from, box, converted):
    out = fmt_to(np.array([box]))
    assert out.tolist() == [converted]
    assert fmt_from(out).tolist() == [box]
    assert fmt_to(np.zeros((0, 4))).shape == (0, 4)


def test_normalise_clip_and_area():
    box = np.array([[-5, 10, 120, 50]])
    clipped = B.clip_xyxy(box, width=100, height=40)
    assert clipped.tolist() == [[0, 10, 100, 40]]
    norm = B.normalize_xyxy(clipped, 100, 40)
    assert norm.tolist() == [[0, 0.25, 1, 1]]
    assert B.denormalize_xyxy(norm, 100, 40).tolist() == clipped.tolist()
    assert B.box_area(np.array([[0, 0, 2, 3], [5, 5, 4, 4]])).tolist() == [6, 0]
