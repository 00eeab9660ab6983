"""The NMS replay of the Learn page: hand-made cases and torchvision's batched_nms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import batched_nms

from tests.helpers import make_detections, random_boxes
from visioncompare.learn.nms_replay import nms_trace


def test_a_hand_made_case():
    det = make_detections(
        [[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]],
        [0.9, 0.8, 0.7, 0.6],
        [0, 0, 1, 0],
    )
    trace = nms_trace(det, 0.5)
    # Box 1 overlaps box 0 (IoU 9/11) and goes; box 2 is another class and stays.
    assert trace.kept.tolist() == [0, 2, 3] and trace.num_suppressed == 1
    first = trace.steps[0]
    assert first.suppressed.tolist() == [1]
    assert first.ious[0] == pytest.approx(90 / 110)
    assert nms_trace(det, 0.95).num_suppressed == 0
    empty = nms_trace(det[np.zeros(4, bool)], 0.5)
    assert empty.steps == () and empty.kept.tolist() == []


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_keeps_what_torchvision_batched_nms_keeps(seed, threshold):
    rng = np.random.default_rng(seed)
    n = 200
    xyxy = random_boxes(n, seed=seed, size=200.0)
    scores = rng.random(n).astype(np.float32)
    classes = rng.integers(0, 3, n)
    det = make_detections(xyxy, scores, classes)
    ours = nms_trace(det, threshold)
    theirs = batched_nms(
        torch.from_numpy(det.xyxy), torch.from_numpy(det.scores),
        torch.from_numpy(det.class_ids), threshold,
    )  # fmt: skip
    assert sorted(ours.kept.tolist()) == sorted(theirs.tolist())
    assert ours.num_suppressed == n - len(theirs)
    for step in ours.steps:
        assert (step.ious > threshold).all()
        assert (det.class_ids[step.suppressed] == det.class_ids[step.kept]).all()
