"""Two-stage vs one-stage, with random-weight torchvision detectors (no file, no
download): Faster R-CNN's proposals and final boxes, SSD's default boxes at one cell."""

from __future__ import annotations

import numpy as np
import pytest

from model_zoo import load_model
from model_zoo.stages import (
    ONE_STAGE,
    TWO_STAGE,
    default_boxes,
    has_default_boxes,
    is_two_stage,
    region_proposals,
)
from tests.helpers import make_detections
from visioncompare.kernel.types import Detections
from visioncompare.learn.stages import cell_point, drawable


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def faster_rcnn():
    return load_model(TWO_STAGE, "cpu", random_weights=True)


@pytest.fixture(scope="module")
def ssdlite():
    return load_model(ONE_STAGE, "cpu", random_weights=True)


@pytest.mark.parametrize("top_n", [1, 7, 40])
def test_proposals_are_the_top_n_inside_the_image(faster_rcnn, image, top_n):
    found = region_proposals(faster_rcnn, image, top_n=top_n, conf=0.0)
    h, w = image.shape[:2]
    rpn = faster_rcnn.model.rpn
    assert found.proposals_kept <= rpn.post_nms_top_n()
    assert found.boxes.shape == (min(top_n, found.proposals_kept), 4)
    assert found.boxes.dtype == np.float32 and found.objectness.shape == (
        len(found.boxes),
    )
    assert (np.diff(found.objectness) <= 0).all()  # best first
    assert (found.boxes[:, [0, 2]] >= 0).all() and (found.boxes[:, [0, 2]] <= w).all()
    assert (found.boxes[:, [1, 3]] >= 0).all() and (found.boxes[:, [1, 3]] <= h).all()
    assert (found.boxes[:, 2] >= found.boxes[:, 0]).all()
    anchors_per_cell = rpn.anchor_generator.num_anchors_per_location()
    assert (
        found.anchors > found.proposals_kept
        and found.anchors % min(anchors_per_cell) == 0
    )
    assert isinstance(found.final, Detections) and len(found.final.class_names) == 80
    assert not found.trained  # random weights: the page says so


def test_second_stage_boxes_follow_the_confidence(faster_rcnn, image):
    low = region_proposals(faster_rcnn, image, top_n=5, conf=0.0).final
    high = region_proposals(faster_rcnn, image, top_n=5, conf=0.9).final
    assert len(high) <= len(low)
    assert (high.scores >= 0.9).all()


@pytest.mark.parametrize("level", range(6))
def test_ssd_default_boxes_per_cell_equal_the_anchor_generator(ssdlite, image, level):
    found = default_boxes(ssdlite, image, level)
    generator = ssdlite.model.anchor_generator
    per_cell = generator.num_anchors_per_location()
    assert found.per_level == tuple(per_cell)
    assert found.boxes.shape == (per_cell[level], 4)
    rows, cols = found.grid
    assert found.cell == (rows // 2 if rows > 1 else 0, cols // 2 if cols > 1 else 0)
    centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2
    h, w = image.shape[:2]
    expected = ((found.cell[1] + 0.5) * w / cols, (found.cell[0] + 0.5) * h / rows)
    np.testing.assert_allclose(centres, np.tile(expected, (len(centres), 1)), atol=0.5)
    assert found.total == sum(
        r * c * a for (r, c), a in zip(_grids(ssdlite, image), per_cell)
    )


def test_ssd_default_boxes_follow_the_point(ssdlite, image):
    h, w = image.shape[:2]
    corner = default_boxes(ssdlite, image, 0, point=(1.0, 1.0))
    far = default_boxes(ssdlite, image, 0, point=(w - 1.0, h - 1.0))
    assert corner.cell == (0, 0)
    assert far.cell == (corner.grid[0] - 1, corner.grid[1] - 1)


def _grids(detector, image):
    import torch

    from model_zoo.stages import _input

    with torch.inference_mode():
        _, features = _input(detector, image)
    return [tuple(f.shape[-2:]) for f in features.values()]


def test_only_the_right_families_have_these_stages(faster_rcnn, ssdlite, image):
    assert is_two_stage(faster_rcnn) and not has_default_boxes(faster_rcnn)
    assert has_default_boxes(ssdlite) and not is_two_stage(ssdlite)
    with pytest.raises(ValueError, match="no region proposal network"):
        region_proposals(ssdlite, image)
    with pytest.raises(ValueError, match="no default-box generator"):
        default_boxes(faster_rcnn, image, 0)


def test_drawable_boxes_are_clipped_and_the_cell_follows_the_best_box():
    boxes = drawable(np.array([[-10, -5, 50, 500]]), None, "default box", 100, 80)
    assert boxes.xyxy.tolist() == [[0, 0, 50, 80]] and boxes.labels == ["default box"]
    assert cell_point(Detections.empty(("a",)), 100, 80) == (50, 40)
    shown = make_detections([[0, 0, 10, 10], [20, 20, 40, 60]], scores=[0.3, 0.9])
    assert cell_point(shown, 100, 80) == (30, 40)
