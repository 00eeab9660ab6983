"""The CLI writes the error-type table and the per-image scores as CSV, and they hold the
report's numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.metrics.coco import coco_results
from visioncompare.kernel.types import Detections
from visioncompare.services.cli import main as cli
from visioncompare.services.report import evaluate_predictions


def _jittered_predictions(dataset, seed: int = 0) -> dict[int, Detections]:
    """The ground truth moved a little, some classes swapped, a few boxes added."""
    rng = np.random.default_rng(seed)
    out = {}
    k = len(dataset.class_names)
    for s in dataset.samples:
        gt = s.gt
        boxes = gt.xyxy + rng.normal(0, 6, gt.xyxy.shape)
        ids = np.where(rng.uniform(size=len(gt)) < 0.15, rng.integers(0, k, len(gt)),
                       gt.class_ids)  # fmt: skip
        xy = rng.uniform(0, 300, (3, 2))
        noise = np.concatenate([xy, xy + rng.uniform(10, 100, (3, 2))], axis=1)
        all_boxes = np.concatenate([boxes, noise])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], all_boxes[:, :2] + 1)
        out[s.image_id] = Detections(
            all_boxes, rng.uniform(0.05, 1, len(all_boxes)),
            np.concatenate([ids, rng.integers(0, k, 3)]), dataset.class_names,
        )  # fmt: skip
    return out


def test_cli_writes_error_types_and_per_image_csv(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    dataset = load_bundled("coco-val2017-first32")
    predictions = _jittered_predictions(dataset)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(coco_results(predictions, dataset)))
    code = cli(["evaluate", "--dataset", "coco-val2017-first32", "--predictions",
                str(path), "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "TIDE error types" in printed and "error_types.csv" in printed
    errors = pd.read_csv(tmp_path / "out" / "error_types.csv")
    per_image = pd.read_csv(tmp_path / "out" / "per_image.csv")
    report = evaluate_predictions(dataset, predictions, "jittered")
    expected = report.errors.table()
    assert errors["error type"].tolist() == expected["error type"].tolist()
    assert errors["count"].tolist() == expected["count"].tolist()
    assert errors["dAP50"].to_numpy() == pytest.approx(expected["dAP50"].to_numpy())
    assert errors["count"].sum() > 0
    assert list(per_image.columns) == [
        "image_id", "image", "objects", "TP", "FP", "FN", "F1", "AP"
    ]
    assert len(per_image) == 32
    summary = report.summary
    assert (per_image["TP"].sum(), per_image["FP"].sum()) == (summary.tp, summary.fp)


def test_cli_writes_why_map_differs_as_csv_and_in_metrics_json(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    dataset = load_bundled("coco-val2017-first32")
    predictions = _jittered_predictions(dataset, seed=1)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(coco_results(predictions, dataset)))
    code = cli(["evaluate", "--dataset", "coco-val2017-first32", "--predictions",
                str(path), "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "why mAP differs" in printed and "why_differs.csv" in printed
    written = pd.read_csv(tmp_path / "out" / "why_differs.csv")
    in_json = json.loads((tmp_path / "out" / "metrics.json").read_text())
    expected = evaluate_predictions(dataset, predictions, "jittered").disagreement
    assert list(written.columns) == ["recipe", "value", "tools", "cause"]
    assert len(expected) == 8
    for frame in (written, pd.DataFrame(in_json["why_map_differs"])):
        assert frame["recipe"].tolist() == expected["recipe"].tolist()
        assert frame["tools"].tolist() == expected["tools"].tolist()
        assert frame["cause"].tolist() == expected["cause"].tolist()
        assert frame["value"].to_numpy() == pytest.approx(
            expected["value"].to_numpy(), abs=1e-12
        )
    row = written.set_index("recipe")["value"]
    assert row["COCO AP50-95, maxDets 100"] == pytest.approx(
        in_json["coco"]["AP"], abs=1e-12
    )
