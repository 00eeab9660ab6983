"""``coco_results_json`` writes ``json.dumps(coco_results(...))`` byte for byte: through
orjson where its text is the same, through ``json`` where a float would be written
otherwise (below 1e-4, from 1e16), and with or without orjson installed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import make_dataset, make_detections, random_coco_case
from visioncompare.evaluation.metrics import coco
from visioncompare.evaluation.metrics.cocoeval import FILE_BOX, FILE_ORDER, FILE_SCORE
from visioncompare.kernel.types import Detections


def _expected(predictions, dataset) -> bytes:
    return json.dumps(coco.coco_results(predictions, dataset)).encode()


@pytest.mark.parametrize("seed", [0, 1])
def test_random_predictions_are_written_as_json_writes_them(seed, monkeypatch):
    dataset, predictions = random_coco_case(seed, images=120)
    expected = _expected(predictions, dataset)
    assert coco.coco_results_json(predictions, dataset) == expected
    monkeypatch.setattr(coco, "orjson", None)
    assert coco.coco_results_json(predictions, dataset) == expected


@pytest.mark.parametrize("odd", [1e-5, 2.5e-7, 1e16, 3.0e17, 0.0, 1e-4])
def test_floats_orjson_writes_otherwise_fall_back_to_json(odd):
    """A results file's own numbers travel as read; one of them outside [1e-4, 1e16)
    is written by ``json`` (``1e-05``, not orjson's ``0.00001``)."""
    dataset = make_dataset([([[0, 0, 10, 10]], [0]), ([], [])])
    det = make_detections([[0, 0, 5, 5], [1, 1, 4, 4]], [0.5, 0.25], [0, 1])
    det = Detections(
        det.xyxy, det.scores, det.class_ids, det.class_names,
        {**dict(zip(FILE_BOX, ([odd, 1.0], [0.0, 1.0], [5.0, 3.0], [5.0, 3.0]))),
         FILE_SCORE: [0.5, odd], FILE_ORDER: [1, 0]},
    )  # fmt: skip
    predictions = {0: det}
    written = coco.coco_results_json(predictions, dataset)
    assert written == _expected(predictions, dataset)
    assert json.loads(written)[0]["score"] == odd  # in the file's order


def test_no_predictions_write_an_empty_list():
    dataset = make_dataset([([[0, 0, 10, 10]], [0])])
    assert coco.coco_results_json({}, dataset) == b"[]"
    empty = {0: Detections.empty(dataset.class_names)}
    assert coco.coco_results_json(empty, dataset) == b"[]" == _expected(empty, dataset)
    assert np.asarray(coco.coco_results(empty, dataset)).size == 0
