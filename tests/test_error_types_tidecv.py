"""The error types under tidecv's rules equal the ``tidecv`` package (1.0.1) run on the
same ground truth and results files: every error, AP50 and each dAP."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import TIDECV_INSTALL, optional_module, realistic_coco_case
from visioncompare.datasets.coco import load_coco
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.metrics.coco import coco_ground_truth, coco_results
from visioncompare.evaluation.metrics.cocoeval import FILE_ORDER
from visioncompare.evaluation.metrics.error_types import (
    ERROR_TYPES,
    RULES,
    RULES_DIFFER,
    analyse_errors,
)
from visioncompare.evaluation.results_file import load_coco_results
from visioncompare.kernel.types import Detections
from visioncompare.services.report import evaluate_predictions

BUNDLED = Path(__file__).resolve().parent.parent / "data" / "coco-val2017-first32"
BUNDLED_GT = BUNDLED / "annotations" / "instances_val2017_first32.json"


def _tidecv_on_files(gt_path: Path, results_path: Path):
    """tidecv's own loaders and run on the two files."""
    tidecv = optional_module("tidecv", TIDECV_INSTALL)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = tidecv.datasets.COCO(str(gt_path))
        preds = tidecv.datasets.COCOResult(str(results_path))
        run = tidecv.TIDE().evaluate(gt, preds, mode=tidecv.TIDE.BOX)
    theirs = {
        tidecv.ClassError: "classification", tidecv.BoxError: "localisation",
        tidecv.OtherError: "both", tidecv.DuplicateError: "duplicate",
        tidecv.BackgroundError: "background", tidecv.MissedError: "missed",
    }  # fmt: skip
    dap = {theirs[c]: v for c, v in run.fix_main_errors().items()}
    ids = {theirs[c]: {e.get_id() for e in run.error_dict[c]} for c in theirs}
    return run.ap, dap, ids


def _ours_on_files(gt_path: Path, results_path: Path):
    """The app's way: load both files, evaluate, analyse under each rule set."""
    dataset = load_coco(gt_path, gt_path.parent)
    detections, skipped = load_coco_results(str(results_path), dataset)
    assert not skipped
    report = evaluate_predictions(dataset, detections, "file")
    order = [s.image_id for s in dataset.samples]
    tide = analyse_errors(
        report.evaluation, dataset.class_names, rules="tidecv", image_order=order
    )
    return dataset, report, tide


def _ids(dataset, report, analysis, gt_path: Path) -> dict[str, set[int]]:
    """Our errors numbered as tidecv numbers them: a detection by its entry in the
    results file, an object by its annotation in the ground-truth file."""
    flat = report.evaluation.flat
    aligned = report.aligned.predictions
    position = np.array([
        aligned[int(flat.image_ids[i])].extra[FILE_ORDER][j]
        for i, j in zip(flat.dt_image, flat.dt_index)
    ], np.int64)  # fmt: skip
    annotation_of = {}
    seen: dict[int, int] = {}
    for n, a in enumerate(json.loads(gt_path.read_text())["annotations"]):
        j = seen.get(a["image_id"], 0)
        seen[a["image_id"]] = j + 1
        annotation_of[(a["image_id"], j)] = n
    ids = {name: set() for name in ERROR_TYPES}
    for d, t in zip(analysis.det, analysis.det_type):
        ids[ERROR_TYPES[t]].add(int(position[d]))
    ids["missed"] = {
        annotation_of[(int(flat.image_ids[flat.gt_image[g]]), int(flat.gt_index[g]))]
        for g in analysis.missed
    }
    return ids


def _assert_equal_to_tidecv(gt_path: Path, results_path: Path) -> dict:
    dataset, report, ours = _ours_on_files(gt_path, results_path)
    ap, dap, ids = _tidecv_on_files(gt_path, results_path)
    assert ours.rules == "tidecv" and ours.rules_label == RULES["tidecv"]
    assert ours.ap50 * 100 == pytest.approx(ap, abs=1e-6)
    for name in ERROR_TYPES:
        assert ours.dap[name] * 100 == pytest.approx(dap[name], abs=1e-6), name
    assert _ids(dataset, report, ours, gt_path) == ids
    coco = report.errors  # COCO's rules, for the record of how far they are
    return {
        "dap": dap,
        "coco_gap": max(abs(coco.dap[n] * 100 - dap[n]) for n in ERROR_TYPES),
    }


def _jittered(dataset, seed: int, per_image: int = 0) -> dict[int, Detections]:
    """Predictions near the objects (some of another class, some duplicates), noise
    boxes up to ``per_image`` in all, and scores rounded to two decimals (ties)."""
    rng = np.random.default_rng(seed)
    k = len(dataset.class_names)
    out = {}
    for s in dataset.samples:
        gt = s.gt
        copies = rng.integers(1, 3, len(gt))
        src = np.repeat(np.arange(len(gt)), copies)
        wh = (gt.xyxy[:, 2:] - gt.xyxy[:, :2])[src]
        boxes = gt.xyxy[src] + rng.normal(0, 0.12, (len(src), 4)) * np.tile(wh, 2)
        ids = np.where(rng.uniform(size=len(src)) < 0.15, rng.integers(0, k, len(src)),
                       gt.class_ids[src])  # fmt: skip
        m = max(per_image - len(src), 4)
        xy = rng.uniform(0, 500, (m, 2))
        noise = np.concatenate([xy, xy + rng.uniform(4, 200, (m, 2))], axis=1)
        all_boxes = np.concatenate([boxes, noise])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], all_boxes[:, :2] + 1)
        scores = np.concatenate(
            [rng.beta(4, 2, len(src)), 0.001 + rng.exponential(0.05, m)]
        )
        out[s.image_id] = Detections(
            all_boxes, np.round(scores.clip(0.01, 1), 2),
            np.concatenate([ids, rng.integers(0, k, m)]), dataset.class_names,
        )  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_to_tidecv_on_the_bundled_coco_subset(tmp_path, seed):
    """The bundled annotation file (crowd regions included) and a results file."""
    dataset = load_bundled("coco-val2017-first32")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(coco_results(_jittered(dataset, seed), dataset)))
    found = _assert_equal_to_tidecv(BUNDLED_GT, results)
    assert sum(found["dap"].values()) > 5  # the case exercises the fixes


def test_equal_to_tidecv_on_a_shuffled_results_file_with_ties(tmp_path):
    """tidecv ranks tied scores in the order of the files: entries shuffled, every score
    on a 0.05 grid."""
    dataset = load_bundled("coco-val2017-first32")
    entries = coco_results(_jittered(dataset, 7), dataset)
    for e in entries:
        e["score"] = round(round(e["score"] * 20) / 20, 2) or 0.05
    order = np.random.default_rng(7).permutation(len(entries))
    results = tmp_path / "results.json"
    results.write_text(json.dumps([entries[i] for i in order]))
    _assert_equal_to_tidecv(BUNDLED_GT, results)


def _with_segmentation(gt: dict) -> dict:
    """tidecv's COCO loader reads every annotation's polygon: the box's own."""
    for a in gt["annotations"]:
        x, y, w, h = a["bbox"]
        a["segmentation"] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return gt


def test_equal_to_tidecv_on_a_realistic_case_of_100_boxes_per_image(tmp_path):
    """COCO-like: about 7 objects and 100 boxes per image, crowd regions, tied scores."""
    dataset, predictions = realistic_coco_case(3, images=80, classes=12)
    gt_path, results = tmp_path / "instances.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(_with_segmentation(coco_ground_truth(dataset))))
    results.write_text(json.dumps(coco_results(predictions, dataset)))
    found = _assert_equal_to_tidecv(gt_path, results)
    assert found["coco_gap"] > 1e-3  # the two rule sets really differ here


def test_the_rules_are_labelled_and_unknown_rules_refused():
    dataset = load_bundled("coco-val2017-first32")
    report = evaluate_predictions(dataset, _jittered(dataset, 0), "jittered")
    assert report.errors.rules == "coco" and "COCO" in report.errors.rules_label
    assert "tidecv" in RULES["tidecv"] and RULES_DIFFER.count(". ") == 0  # one sentence
    with pytest.raises(ValueError, match="rules"):
        analyse_errors(report.evaluation, dataset.class_names, rules="tide")
