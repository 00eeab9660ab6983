"""The Learn page's core computations and figures, on data."""

from __future__ import annotations

import numpy as np
import pytest
from torchvision.models import get_weight

from tests.helpers import make_detections
from visioncompare.evaluation.metrics.ap import APMethod
from visioncompare.kernel.types import Classification
from visioncompare.learn.lessons import (
    NOT_IN_IMAGENET,
    ModelCost,
    ap_steps,
    crop_agreement,
    crop_boxes,
    detector_label_set,
    heatmap_overlay,
    image_level_label,
    imagenet_to_coco,
    iou_of,
    latency_note,
    multilabel,
    overlap_box,
)
from visioncompare.plots.learn import (
    ap_steps_figure,
    architecture_figure,
    complexity_figure,
    iou_demo_figure,
)

IMAGENET = tuple(get_weight("ResNet50_Weights.DEFAULT").meta["categories"])


def test_multilabel_and_detector_set():
    cls = Classification(np.array([0.5, 0.3, 0.15, 0.05]), ("a", "b", "c", "d"))
    assert [n for n, _ in multilabel(cls, 0.15)] == ["a", "b", "c"]
    assert multilabel(cls, 0.9) == []
    det = make_detections([[0, 0, 1, 1]] * 3, [0.9, 0.5, 0.7], [1, 1, 0])
    assert detector_label_set(det) == [
        ("b", 2, pytest.approx(0.9)),
        ("a", 1, pytest.approx(0.7)),
    ]


def test_imagenet_to_coco_inverts_the_taxonomy():
    mapping = imagenet_to_coco(IMAGENET)
    assert mapping["tabby"] == "cat" and mapping["Chihuahua"] == "dog"
    assert mapping["police van"] == "car" and mapping["minibus"] == "bus"
    assert (
        "scuba diver" not in mapping
    )  # ImageNet's people are activities, not "person"


def test_image_level_label_is_the_largest_class_by_area():
    gt = make_detections(
        [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 15, 15]], class_ids=[0, 0, 1]
    )
    assert image_level_label(gt) == "b"  # 225 > 2 * 100
    assert image_level_label(make_detections([])) is None


def test_overlap_and_iou():
    assert overlap_box([0, 0, 10, 10], [5, 5, 20, 20]) == (5, 5, 10, 10)
    assert overlap_box([0, 0, 10, 10], [10, 0, 20, 10]) is None
    assert iou_of([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)


def test_ap_steps_hand_worked():
    gt = make_detections([[0, 0, 10, 10], [20, 20, 30, 30]], class_ids=[0, 0])
    det = make_detections(
        [[0, 0, 10, 10], [50, 50, 60, 60], [21, 21, 30, 30], [0, 0, 10, 10]],
        [0.9, 0.8, 0.7, 0.6],
        [0, 0, 0, 0],
    )
    steps = ap_steps(det, gt)
    assert steps.is_tp.tolist() == [True, False, True, False]  # the last is a duplicate
    assert steps.recall.tolist() == [0.5, 0.5, 1.0, 1.0]
    assert steps.precision.tolist() == pytest.approx([1, 0.5, 2 / 3, 0.5])
    assert steps.ap_after(1) == pytest.approx(0.5)
    assert steps.ap_after(4) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert steps.ap_after(4, APMethod.VOC07_11) == pytest.approx((6 + 5 * 2 / 3) / 11)
    assert steps.ious[1] == 0.0 and steps.ious[2] == pytest.approx(0.81)


def test_crop_boxes_margin_clipping_and_minimum():
    image = np.arange(100 * 80 * 3, dtype=np.uint8).reshape(100, 80, 3)
    det = make_detections([[10, 20, 30, 60], [70, 90, 80, 100], [5, 5, 8, 8]])
    crops = crop_boxes(image, det, margin=0.1)
    assert [i for i, _ in crops] == [0, 1]  # the 3x3 box is skipped
    assert crops[0][1].shape == (48, 24, 3)  # 40x20 box + 10 % on each side
    assert np.array_equal(crops[0][1], image[16:64, 8:32])
    assert crops[1][1].shape == (11, 11, 3)  # clipped at the image's edge


def test_heatmap_overlay_is_redder_where_hot():
    image = np.full((10, 10, 3), 128, np.uint8)
    heat = np.zeros((10, 10))
    heat[:, 5:] = 1.0
    out = heatmap_overlay(image, heat)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert out[0, 9, 0] > out[0, 0, 0] and out[0, 9, 2] < out[0, 0, 2]


def test_learn_figures():
    fig = iou_demo_figure((10, 10, 50, 50), (30, 30, 70, 70), 0.1429)
    assert len(fig.layout.shapes) == 3 and "0.143" in fig.layout.title.text
    assert len(iou_demo_figure((0, 0, 5, 5), (50, 50, 60, 60), 0.0).layout.shapes) == 2
    gt = make_detections([[0, 0, 10, 10]])
    steps = ap_steps(
        make_detections([[0, 0, 10, 10], [40, 40, 50, 50]], [0.9, 0.5]), gt
    )
    fig = ap_steps_figure(steps, 1)
    assert "After 1 of 2 detections: AP = 1.000" in fig.layout.title.text
    assert sum(len(t.x) for t in fig.data if t.mode == "markers") == 1
    arch = architecture_figure(1000, 1280, 224, 640, 80)
    text = " ".join(a.text for a in arch.layout.annotations)
    assert "8,400 points" in text and "1000 class scores" in text and "705,600" in text
    bars = complexity_figure(["cls", "det"], [3.5, 3.2], "parameters (M)").data[0]
    assert list(bars.y) == [3.5, 3.2]


def test_latency_note_explains_a_ratio_the_macs_do_not_predict():
    small = ModelCost(
        "MobileNetV2", 0.3, 45.0, "PyTorch INT8 QNNPACK kernels, 1 torch thread"
    )
    big = ModelCost("YOLOv8n", 4.4, 40.0, "OpenVINO INT8 kernels")
    note = latency_note(small, big)
    assert note is not None and note == latency_note(big, small)
    assert note.startswith(
        "MobileNetV2 does 15× fewer multiply-accumulates than YOLOv8n"
    )
    assert "is 1.1× slower here" in note and "QNNPACK" in note and "OpenVINO" in note
    # Faster roughly in proportion to the MACs: nothing to explain.
    assert latency_note(small, ModelCost("YOLOv8n", 4.4, 300.0, "x")) is None
    # Similar sizes, or a missing number: no note.
    assert latency_note(small, ModelCost("twin", 0.4, 200.0, "x")) is None
    assert latency_note(small, ModelCost("?", float("nan"), 40.0, "x")) is None
    only = latency_note(small, ModelCost("YOLOv8n", 4.4, 90.0, "x"))
    assert only is not None and "is only 2.0× faster here" in only


def test_crop_agreement_is_top1_with_top3_apart():
    names = ("malamute", "Tibetan mastiff", "mountain bike", "tabby")
    to_coco = {"malamute": "dog", "Tibetan mastiff": "dog", "mountain bike": "bicycle"}
    to_coco["tabby"] = "cat"
    crop = Classification(np.array([0.43, 0.23, 0.08, 0.26]), names)
    assert crop_agreement(crop, "bicycle", to_coco) == ("no", "no")  # not in the top 3
    # The case: "malamute 43%, Tibetan mastiff 23%, mountain bike 8%" for a
    # bicycle: the top-1 is a dog, so no agreement; the bicycle is only in the top 3.
    bike_crop = Classification(np.array([0.43, 0.23, 0.08, 0.06]), names)
    assert crop_agreement(bike_crop, "bicycle", to_coco) == ("no", "yes")
    assert crop_agreement(bike_crop, "dog", to_coco) == ("yes", "yes")
    assert crop_agreement(bike_crop, "cat", to_coco) == ("no", "no")
    assert crop_agreement(bike_crop, "person", to_coco) == (NOT_IN_IMAGENET,) * 2
