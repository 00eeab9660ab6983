"""The numpy COCOeval (every match kept) against pycocotools and faster-coco-eval on
realistic predictions: about 100 boxes per image at confidence 0.001, 80 classes."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from tests.helpers import realistic_coco_case
from tests.reference import pycocotools_eval
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.coco import coco_ground_truth, coco_results
from visioncompare.evaluation.metrics.cocoeval import STAT_NAMES, EvalParams, evaluate

MAX_DETS = (1, 10, 100, 300)


def _ours(dataset, predictions):
    aligned = align_predictions(predictions, dataset).predictions
    return evaluate(dataset, aligned, EvalParams(max_dets=MAX_DETS))


def test_identical_to_pycocotools_on_realistic_predictions():
    # pycocotools itself needs about 5 s for these 50,000 boxes
    dataset, predictions = realistic_coco_case(3, images=500)
    ours = _ours(dataset, predictions)
    stats, precision = pycocotools_eval(
        coco_ground_truth(dataset), coco_results(predictions, dataset), MAX_DETS
    )
    assert sum(len(p) for p in predictions.values()) == 50_000
    assert np.abs(np.array([ours.stats[n] for n in STAT_NAMES]) - stats).max() <= 1e-9
    assert np.abs(ours.precision - precision).max() <= 1e-9
    assert 0.2 < ours.stats["AP"] < 0.8  # a case with real matches, not a degenerate one


@pytest.fixture(scope="module")
def case_5000():
    dataset, predictions = realistic_coco_case(0, images=5000)
    return dataset, predictions, _ours(dataset, predictions)


def test_identical_to_pycocotools_on_the_5000_image_case(case_5000):
    """COCO val2017's size: 5,000 images, 500,000 boxes. pycocotools needs about a
    minute for all 80 classes, so it scores three (params.catIds: the most common class,
    with 30 % of the objects, and two others) over all 5,000 images; per-class numbers do
    not depend on the other classes, so ours are read from the full evaluation."""
    from visioncompare.evaluation.metrics.cocoeval import summarize

    dataset, predictions, ours = case_5000
    counts = np.bincount(ours.flat.gt_class, minlength=len(dataset.class_names))
    picked = sorted({int(np.argmax(counts)), 7, 41})
    cat_ids = [dataset.category_ids[k] for k in picked]
    gt = coco_ground_truth(dataset)
    results = [r for r in coco_results(predictions, dataset) if r["category_id"] in cat_ids]
    stats, precision = pycocotools_eval(gt, results, MAX_DETS, cat_ids=cat_ids)
    mine = summarize(ours.precision[:, :, picked], ours.recall[:, picked], ours.params)
    assert np.abs(np.array([mine[n] for n in STAT_NAMES]) - stats).max() <= 1e-9
    assert np.abs(ours.precision[:, :, picked] - precision).max() <= 1e-9
    assert len(results) > 40_000 and counts[picked].sum() > 10_000


def test_identical_to_faster_coco_eval_on_the_5000_image_case(case_5000):
    """COCO val2017's size: 5,000 images, 500,000 boxes. faster-coco-eval is tested equal
    to pycocotools by its authors and by us above; pycocotools would need a minute here."""
    from faster_coco_eval import COCO, COCOeval_faster

    dataset, predictions, ours = case_5000

    def quiet(*args, **kwargs):
        return None

    gt = COCO(coco_ground_truth(dataset), print_function=quiet)
    dt = gt.loadRes(coco_results(predictions, dataset))
    ref = COCOeval_faster(gt, dt, "bbox", print_function=quiet)
    ref.params.maxDets = list(MAX_DETS)
    with contextlib.redirect_stdout(io.StringIO()):
        ref.evaluate()
        ref.accumulate()
        ref.summarize()
    # with four maxDets faster-coco-eval's summarize() inserts AR@300 after AR100, so
    # the AP and AR1..AR100 are compared by position and the area ARs through the arrays
    assert np.abs(
        np.array([ours.stats[n] for n in STAT_NAMES[:9]]) - ref.stats[:9]
    ).max() <= 1e-9
    assert np.abs(ours.precision - np.asarray(ref.eval["precision"])).max() <= 1e-9
    assert np.abs(ours.recall - np.asarray(ref.eval["recall"])).max() <= 1e-9


@pytest.mark.parametrize("images", [0, 1])
def test_tiny_and_empty_datasets(images):
    dataset, predictions = realistic_coco_case(5, images=max(images, 1))
    if images == 0:
        predictions = {}
    ours = _ours(dataset, predictions)
    stats, _ = pycocotools_eval(
        coco_ground_truth(dataset), coco_results(predictions, dataset), MAX_DETS
    )
    assert np.abs(np.array([ours.stats[n] for n in STAT_NAMES]) - stats).max() <= 1e-9
