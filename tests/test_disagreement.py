""""Why mAP differs": every row read from the report's one evaluation equals the tool's
own computation on the same predictions (the COCO rows re-run, the Ultralytics rows
through ``ultralytics.utils.metrics.ap_per_class`` and its validator's matcher)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import random_coco_case, realistic_coco_case
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.coco import evaluate_coco
from visioncompare.evaluation.metrics.disagreement import (
    ultralytics_ap,
    ultralytics_inputs,
)
from visioncompare.evaluation.metrics.voc import evaluate_voc
from visioncompare.services.report import evaluate_predictions


@pytest.fixture(scope="module")
def case():
    dataset, predictions = random_coco_case(5, images=120, classes=6)
    return dataset, predictions, evaluate_predictions(dataset, predictions, "test")


def test_rows_equal_the_recipes_run_on_their_own(case):
    dataset, predictions, report = case
    values = dict(zip(report.disagreement["recipe"], report.disagreement["value"]))
    assert len(values) == 8 and report.disagreement["tools"].str.len().min() > 10
    coco = evaluate_coco(dataset, predictions)
    cut = {i: d[d.scores >= np.float32(0.25)] for i, d in predictions.items()}
    coco_cut = evaluate_coco(dataset, cut)
    coco_300 = evaluate_coco(dataset, predictions, max_dets=(1, 10, 300))
    voc = evaluate_voc(dataset, predictions)
    assert values["COCO AP50 (101-point)"] == pytest.approx(coco.stats["AP50"], abs=1e-12)
    assert values["COCO AP50-95, maxDets 100"] == pytest.approx(
        coco.stats["AP"], abs=1e-12
    )
    assert values["COCO AP50 with a 0.25 confidence cut"] == pytest.approx(
        coco_cut.stats["AP50"], abs=1e-12
    )
    assert values["COCO AP50 with a 0.25 confidence cut"] < coco.stats["AP50"]
    assert values["COCO AP50-95, maxDets 300"] == pytest.approx(
        coco_300.stats["AP"], abs=1e-12
    )
    assert values["VOC AP50 (11-point, VOC2007)"] == pytest.approx(voc.map_11pt)
    assert values["VOC AP50 (all-point, VOC2010+)"] == pytest.approx(voc.map_all)


def test_a_confidence_cut_read_from_the_matches_equals_a_new_evaluation():
    dataset, predictions = realistic_coco_case(2, images=300)
    report = evaluate_predictions(dataset, predictions, "test")
    row = report.disagreement.set_index("recipe")["value"]
    cut = {i: d[d.scores >= np.float32(0.25)] for i, d in predictions.items()}
    assert row["COCO AP50 with a 0.25 confidence cut"] == pytest.approx(
        evaluate_coco(dataset, cut).stats["AP50"], abs=1e-12
    )


def _ultralytics_reference(dataset, aligned, max_det=300):
    """Ultralytics' validator matcher and box_iou (torch), per image, then its
    ap_per_class: the tool's own code on the same predictions."""
    import torch
    from ultralytics.models.yolo.detect import DetectionValidator
    from ultralytics.utils.metrics import ap_per_class, box_iou

    validator = DetectionValidator()
    validator.iouv = torch.linspace(0.5, 0.95, 10)
    tps, confs, classes, targets = [], [], [], []
    for sample in dataset.samples:
        gt = sample.gt
        keep = (gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)
        gt_boxes = torch.from_numpy(gt.xyxy[keep])
        gt_cls = torch.from_numpy(gt.class_ids[keep])
        det = aligned[sample.image_id]
        det = det[np.argsort(-det.scores, kind="stable")[:max_det]]
        targets.append(gt.class_ids[keep])
        if not len(det):
            continue
        pred_cls = torch.from_numpy(det.class_ids)
        if len(gt_cls):
            iou = box_iou(gt_boxes, torch.from_numpy(det.xyxy))
            tp = validator.match_predictions(pred_cls, gt_cls, iou).cpu().numpy()
        else:
            tp = np.zeros((len(det), 10), bool)
        tps.append(tp)
        confs.append(det.scores)
        classes.append(det.class_ids)
    tp, conf = np.concatenate(tps), np.concatenate(confs)
    pred_cls, target_cls = np.concatenate(classes), np.concatenate(targets)
    result = ap_per_class(tp, conf, pred_cls, target_cls)
    return tp, result[5]  # ap (C, 10)


@pytest.mark.parametrize("seed", [0, 1])
def test_ultralytics_row_reproduces_ap_per_class(seed):
    dataset, predictions = realistic_coco_case(seed + 10, images=200, classes=20)
    aligned = align_predictions(predictions, dataset).predictions
    inputs = ultralytics_inputs(dataset, aligned)
    tp_ref, ap_ref = _ultralytics_reference(dataset, aligned)
    assert (inputs.tp == tp_ref).all()  # the same matching, detection by detection
    ours, _ = ultralytics_ap(inputs)
    assert ours.shape == ap_ref.shape
    assert np.abs(ours - ap_ref).max() <= 1e-6
    assert abs(ours.mean() - ap_ref.mean()) <= 1e-6
    assert abs(ours[:, 0].mean() - ap_ref[:, 0].mean()) <= 1e-6
    # the report's rows are these numbers, and differ from COCO's on the same predictions
    rows = evaluate_predictions(dataset, predictions, "model").disagreement
    values = dict(zip(rows["recipe"], rows["value"]))
    assert abs(values["Ultralytics mAP50-95"] - ap_ref.mean()) <= 1e-6
    assert abs(values["Ultralytics AP50"] - ap_ref[:, 0].mean()) <= 1e-6
    assert abs(values["Ultralytics mAP50-95"] - values["COCO AP50-95, maxDets 100"]) > 1e-4


def test_ultralytics_caps_boxes_per_image():
    dataset, predictions = realistic_coco_case(4, images=20, classes=10)
    aligned = align_predictions(predictions, dataset).predictions
    capped = ultralytics_inputs(dataset, aligned, max_det=30)
    assert len(capped.conf) == 20 * 30
    _, ap_ref = _ultralytics_reference(dataset, aligned, max_det=30)
    assert np.abs(ultralytics_ap(capped)[0] - ap_ref).max() <= 1e-6
