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


def _older_matching(inputs_tp_shape, dataset, aligned):
    """The matching the row used before (an older Ultralytics' idea): each detection's
    best object, then the most confident detection per object; here only to show the
    case below tells the two apart."""
    from visioncompare.kernel.boxes import box_iou

    tps = []
    iouv = np.linspace(0.5, 0.95, 10, dtype=np.float32)
    for sample in dataset.samples:
        det = aligned[sample.image_id]
        det = det[np.argsort(-det.scores, kind="stable")]
        iou = box_iou(det.xyxy, sample.gt.xyxy) * (
            det.class_ids[:, None] == sample.gt.class_ids[None, :]
        )
        tp = np.zeros((len(det), 10), bool)
        for t, threshold in enumerate(iouv):
            best = iou.argmax(axis=1) if iou.size else np.zeros(len(det), int)
            claimed = set()
            for d in range(len(det)):
                if iou.size and iou[d, best[d]] >= threshold and best[d] not in claimed:
                    claimed.add(best[d])
                    tp[d, t] = True
        tps.append(tp)
    tp = np.concatenate(tps)
    assert tp.shape == inputs_tp_shape
    return tp


def test_ultralytics_row_matches_most_confident_first_as_the_installed_ultralytics():
    """Two objects; the most confident box overlaps the first one most, the second box
    overlaps the first one more than the second (which it still overlaps by 0.64): the
    installed Ultralytics gives each box an object, the older matching gave the second
    box nothing."""
    from tests.helpers import make_dataset, make_detections

    dataset = make_dataset([([[0, 0, 100, 100], [40, 0, 140, 100]], [0, 0])])
    det = make_detections(
        [[0, 0, 100, 95], [18, 0, 118, 100]], [0.9, 0.8], [0, 0]
    )  # IoU 0.95 / 0.69 with the first object; the second box 0.64 with the second
    aligned = align_predictions({0: det}, dataset).predictions
    inputs = ultralytics_inputs(dataset, aligned)
    tp_ref, ap_ref = _ultralytics_reference(dataset, aligned)
    assert (inputs.tp == tp_ref).all()
    ours, _ = ultralytics_ap(inputs)
    assert np.abs(ours - ap_ref).max() <= 1e-6
    older = _older_matching(inputs.tp.shape, dataset, aligned)
    assert (older != tp_ref).any()  # the case tells the two matchings apart
    from visioncompare.evaluation.metrics.ultralytics_recipe import UltralyticsInputs

    older_ap, _ = ultralytics_ap(
        UltralyticsInputs(older, inputs.conf, inputs.pred_cls, inputs.target_cls)
    )
    assert abs(older_ap[0, 0] - ap_ref[0, 0]) > 0.4
    report = evaluate_predictions(dataset, {0: det}, "two boxes")
    values = dict(zip(report.disagreement["recipe"], report.disagreement["value"]))
    assert abs(values["Ultralytics AP50"] - ap_ref[:, 0].mean()) <= 1e-6


def _int8_case(seed: int):
    """Scores on a 1/64 grid, as an INT8 model gives them: many ties, across classes."""
    dataset, predictions = realistic_coco_case(seed, images=150, classes=8)
    quantised = {}
    for image_id, det in predictions.items():
        scores = np.round(det.scores * 64) / 64
        quantised[image_id] = type(det)(
            det.xyxy, np.maximum(scores, 1 / 64), det.class_ids, det.class_names
        )
    return dataset, quantised


@pytest.mark.parametrize("seed", [0, 1])
def test_ultralytics_row_ranks_tied_scores_as_ap_per_class(seed):
    dataset, predictions = _int8_case(seed)
    aligned = align_predictions(predictions, dataset).predictions
    inputs = ultralytics_inputs(dataset, aligned)
    _, counts = np.unique(inputs.conf, return_counts=True)
    assert counts.max() > 50  # many ties
    tp_ref, ap_ref = _ultralytics_reference(dataset, aligned)
    assert (inputs.tp == tp_ref).all()
    ours, _ = ultralytics_ap(inputs)
    assert np.abs(ours - ap_ref).max() <= 1e-6
    # the tie order matters here: a stable sort by score (as COCO's) gives another AP
    stable = np.argsort(-inputs.conf, kind="stable")
    from visioncompare.evaluation.metrics.ultralytics_recipe import UltralyticsInputs

    shuffled = np.random.default_rng(seed).permutation(len(stable))
    moved = UltralyticsInputs(
        inputs.tp[shuffled], inputs.conf[shuffled], inputs.pred_cls[shuffled],
        inputs.target_cls,
    )  # fmt: skip
    assert np.abs(ultralytics_ap(moved)[0] - ap_ref).max() > 1e-4


def test_the_ultralytics_row_names_the_version_it_follows():
    from importlib import metadata

    from visioncompare.evaluation.metrics.ultralytics_recipe import (
        TRANSCRIBED_FROM,
        installed_ultralytics,
        ultralytics_note,
    )

    installed = installed_ultralytics()
    for name in ("ultralytics", "ultralytics-opencv-headless"):
        try:
            assert installed == metadata.version(name)
            break
        except metadata.PackageNotFoundError:
            continue
    assert "8.3.40" in ultralytics_note("8.3.40")
    assert TRANSCRIBED_FROM in ultralytics_note("8.3.40")
    dataset, predictions = random_coco_case(1, images=10, classes=3)
    rows = evaluate_predictions(dataset, predictions, "test").disagreement
    tools = rows.set_index("recipe").loc["Ultralytics AP50", "tools"]
    assert (installed or TRANSCRIBED_FROM) in tools
    cause = rows.set_index("recipe").loc["Ultralytics AP50", "cause"]
    assert "rather than by score" not in cause and "most confident first" in cause
