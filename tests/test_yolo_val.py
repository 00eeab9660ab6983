"""``yolo val`` parity: the walk's first row is what Ultralytics' own ``model.val`` returns on
the same data.yaml, its last the report's pycocotools numbers; and it says plainly when it
cannot run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import make_dataset
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.metrics.yolo_val_walk import (
    WALK_COLUMNS,
    Scores,
    val_results,
    walk_as_recipes,
    yolo_val_walk,
)
from visioncompare.evaluation.store import PredictionStore
from visioncompare.services.cli import main
from visioncompare.services.evaluation_run import run_evaluation
from visioncompare.services.report import evaluate_predictions
from visioncompare.services.yolo_val import run_yolo_val, unavailable

SETTINGS = {"imgsz": [640, 640], "batch": 1, "rect": False, "conf": 0.001, "iou": 0.7,
            "max_det": 300}  # fmt: skip


def _walk() -> pd.DataFrame:
    return yolo_val_walk(
        Scores(0.55, 0.40), Scores(0.56, 0.41), Scores(0.52, 0.38), Scores(0.53, 0.39),
        SETTINGS, "8.4.190", {"conf": 0.001, "iou": 0.7, "max_det": 300},
    )  # fmt: skip


def test_the_walk_names_one_change_per_step():
    walk = _walk()
    assert list(walk.columns) == list(WALK_COLUMNS)
    assert walk["step"].str[:2].tolist() == ["1.", "2.", "3.", "4."]
    assert walk[["mAP50", "mAP50-95"]].to_numpy().tolist() == [
        [0.55, 0.40], [0.56, 0.41], [0.52, 0.38], [0.53, 0.39]
    ]  # fmt: skip
    changed = walk["what changed"].tolist()
    assert changed[1].startswith("From 1, the metric recipe only")
    assert changed[2].startswith("From 1, the predictions only")
    assert changed[3].startswith("From 3, the metric recipe only")
    assert "multi-label NMS at conf 0.001 and IoU 0.7" in walk["predictions"][0]
    rows = walk_as_recipes(walk)
    assert list(rows.columns) == ["recipe", "value", "tools", "cause"]
    assert rows["recipe"][0] == "yolo val walk 1. yolo val as printed: mAP50"
    assert rows["value"].tolist() == [0.55, 0.40, 0.56, 0.41, 0.52, 0.38, 0.53, 0.39]


def test_val_predictions_become_the_datasets_images_and_categories():
    dataset = make_dataset([([[0, 0, 5, 5]], [0]), ([[1, 1, 4, 4]], [1])],
                           class_names=("cat", "dog"))  # fmt: skip
    names = ("dog", "bird", "cat")  # the model's order
    entries = [
        {"file_name": "1.jpg", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
        {"file_name": "0.jpg", "category_id": 3, "bbox": [0, 0, 5, 5], "score": 0.9},
        {"file_name": "0.jpg", "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.8},
        {"file_name": "other.jpg", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.1},
    ]
    results, left_out = val_results(entries, names, dataset)
    assert left_out == 2  # a bird (not annotated) and an image not in the copy
    assert results == [
        {"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5},
        {"image_id": 0, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.9},
    ]


def test_it_says_why_it_cannot_run():
    dataset = load_bundled("coco-val2017-first32")
    assert unavailable(dataset, "yolov8n-int8") is None
    assert "predictions file" in unavailable(dataset, None)
    assert "not an Ultralytics detector" in unavailable(dataset, "ssd300_vgg16")
    assert "open-vocabulary" in unavailable(dataset, "yoloe-11s")
    assert "not in the model zoo" in unavailable(dataset, "no-such-model")
    no_images = make_dataset([([[0, 0, 5, 5]], [0])])
    assert "1 of 1 are not on disk" in unavailable(no_images, "yolov8n-int8")


def test_the_cli_refuses_yolo_val_for_a_predictions_file(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text("[]")
    code = main(["evaluate", "--dataset", "coco-val2017-first32", "--predictions",
                 str(results), "--yolo-val", "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    assert "--yolo-val cannot run: yolo val makes its own predictions" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_the_report_files_carry_the_walk(tmp_path):
    dataset = make_dataset([([[0, 0, 5, 5]], [0])])
    report = evaluate_predictions(dataset, {}, "none").with_yolo_val(_walk())
    paths = report.write(tmp_path)
    why = pd.read_csv(paths["why_differs"])
    assert len(why) == len(report.disagreement) + 8
    assert why["recipe"].iloc[-1] == "yolo val walk 4. this app's predictions, " \
        "pycocotools: mAP50-95"  # fmt: skip
    metrics = json.loads(paths["metrics"].read_text())
    assert [row["mAP50"] for row in metrics["yolo_val_walk"]] == [0.55, 0.56, 0.52, 0.53]


def test_the_walk_goes_from_yolo_val_to_the_report_on_the_bundled_subset(tmp_path):
    """Offline: the bundled YOLOv8n INT8 export on a YOLO copy of the bundled COCO subset.
    Nothing is shared with other tests: a new store, a new copy, Ultralytics' label
    cache removed before the reference run."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    from ultralytics import YOLO

    from model_zoo import get_spec
    from model_zoo.identity import weights_path

    dataset = load_bundled("coco-val2017-first32")
    store = PredictionStore(tmp_path / "predictions.sqlite")
    report = run_evaluation(dataset, detector="yolov8n-int8", device="cpu", store=store)
    walk = run_yolo_val(report, "cpu", workdir=tmp_path / "walk")

    data_yaml = tmp_path / "walk" / "dataset" / "data.yaml"
    for cache in data_yaml.parent.rglob("*.cache"):
        cache.unlink()
    model = YOLO(str(weights_path(get_spec("yolov8n-int8"))), task="detect")
    reference = model.val(data=str(data_yaml), device="cpu", plots=False,
                          verbose=False, project=str(tmp_path / "ultralytics"))  # fmt: skip
    printed, last = walk.iloc[0], walk.iloc[-1]
    assert abs(printed["mAP50"] - reference.box.map50) <= 5e-4
    assert abs(printed["mAP50-95"] - reference.box.map) <= 5e-4

    # 2: yolo val's predictions, scored by pycocotools itself
    gt = COCO(str(dataset.root / "annotations" / "instances_val2017_first32.json"))
    val = COCOeval(gt, gt.loadRes(str(tmp_path / "walk" / "yolo_val_results.json")),
                   "bbox")  # fmt: skip
    val.evaluate()
    val.accumulate()
    val.summarize()
    np.testing.assert_allclose(
        walk.iloc[1][["mAP50", "mAP50-95"]].astype(float), val.stats[[1, 0]], atol=1e-9
    )
    # 3: the "why mAP differs" table's Ultralytics rows
    why = report.disagreement.set_index("recipe")["value"]
    assert walk.iloc[2]["mAP50"] == pytest.approx(why["Ultralytics AP50"], abs=1e-12)
    assert walk.iloc[2]["mAP50-95"] == pytest.approx(
        why["Ultralytics mAP50-95"], abs=1e-12
    )
    # 4: the report's pycocotools numbers
    assert last["mAP50"] == report.coco.stats["AP50"]
    assert last["mAP50-95"] == report.coco.stats["AP"]


def _why_view(source: str | None) -> None:
    """The section alone, for a report of ``source`` (None: a predictions file); the run
    itself is replaced by a made-up walk (the real one is tested above)."""
    from components.evaluate import yolo_val as section
    from tests.test_yolo_val import _walk
    from visioncompare.datasets.registry import load_bundled
    from visioncompare.evaluation.prediction_runs import StoredRun
    from visioncompare.services.report import evaluate_predictions

    dataset = load_bundled("coco-val2017-first32")
    run = StoredRun("key", {"class_names": list(dataset.class_names)}, 0.0)
    report = evaluate_predictions(dataset, {}, source or "results.json",
                                  detector_run=run if source else None)  # fmt: skip
    real, section.run_yolo_val = section.run_yolo_val, lambda report, device: _walk()
    try:
        section.yolo_val_section(report, "report-id", "evaluate")
    finally:
        section.run_yolo_val = real


def test_the_why_view_runs_yolo_val_on_a_click_or_says_why_not():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_why_view, args=("yolov8n-int8",), default_timeout=60)
    at.run()
    assert not at.exception and not at.table
    at.button(key="evaluate_yolo_val").click().run()
    assert not at.exception and not at.error
    (walk,) = [t.value for t in at.table]
    assert list(walk.columns) == list(WALK_COLUMNS) and len(walk) == 4
    assert at.get("download_button")
    at = AppTest.from_function(_why_view, args=(None,), default_timeout=60).run()
    assert not at.exception and not at.button
    assert "yolo val cannot run for this evaluation" in at.info[0].value
