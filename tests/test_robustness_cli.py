"""The robustness lab through the evaluation flow: corrupted runs in the store under keys
of their own (clean keys unchanged), ``evaluate --corruption`` re-scored by pycocotools,
and ``robustness`` writing robustness.csv with the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import CORRUPTIONS_INSTALL, make_dataset, optional_module, tiny_coco
from tests.reference import pycocotools_eval
from visioncompare.datasets.registry import load_folder
from visioncompare.evaluation.metrics.coco import STAT_NAMES, coco_ground_truth
from visioncompare.evaluation.prediction_runs import (
    DetectSettings,
    classification_key,
    detection_key,
    read_images,
)
from visioncompare.kernel.images import load_image_file
from visioncompare.kernel.types import Classification
from visioncompare.robustness.corruptions import Corruption, corrupt
from visioncompare.services.cli import main as cli

optional_module("imagecorruptions", CORRUPTIONS_INSTALL)
MODEL = {"name": "yolov8n-int8", "weights_sha256": "abc", "fp16": False}


def test_clean_keys_are_unchanged_and_corrupted_keys_are_their_own():
    dataset = make_dataset([([[0, 0, 10, 10]], [0])])
    # The keys stored runs were made under before corruptions existed.
    assert detection_key(MODEL, dataset, DetectSettings()) == (
        "45e0a2ca87e382f447001b712c33053b"
    )
    assert classification_key(MODEL, dataset) == "3fc10929de40ea88c024a232cadcf0e4"
    keys = {
        detection_key(MODEL, dataset, DetectSettings(), cell)
        for cell in (None, Corruption("fog", 1), Corruption("fog", 2),
                     Corruption("snow", 1), Corruption("fog", 1, seed=1))
    }  # fmt: skip
    assert len(keys) == 5


def test_the_engines_reader_corrupts_each_image_as_the_package_does(tmp_path):
    folder = tiny_coco(tmp_path / "tiny", n=2)
    paths = sorted((folder / "val2017").iterdir())
    cell = Corruption("gaussian_noise", 2)
    images = read_images(paths, cell)
    for path, image in zip(paths, images):
        np.testing.assert_array_equal(
            image, corrupt(load_image_file(str(path)).array, cell)
        )
    assert not np.array_equal(images[0], read_images(paths[:1])[0])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("robust-cli")
    folder = tiny_coco(root / "tiny", n=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISIONCOMPARE_RUNS", str(root / "runs"))
        evaluate = ["evaluate", "--dataset", str(folder), "--detector", "yolov8n-int8",
                    "--corruption", "contrast", "--severity", "4", "--out",
                    str(root / "cell")]  # fmt: skip
        assert cli(evaluate) == 0
        grid = ["robustness", "--dataset", str(folder), "--detector", "yolov8n-int8",
                "--classifier", "mobilenet_v2_quantized", "--corruptions", "contrast",
                "--severities", "2,4", "--out", str(root / "grid")]  # fmt: skip
        assert cli(grid) == 0
    return root


def test_evaluate_one_cell_rescores_with_pycocotools(runs, capsys):
    metrics = json.loads((runs / "cell" / "metrics.json").read_text())
    results = json.loads((runs / "cell" / "coco_results.json").read_text())
    dataset = load_folder(runs / "tiny")
    stats, _ = pycocotools_eval(coco_ground_truth(dataset), results)
    ours = np.array([metrics["coco"][name] for name in STAT_NAMES])
    assert np.abs(ours - stats).max() <= 1e-9
    corruption = metrics["detector_run"]["corruption"]
    assert (corruption["name"], corruption["severity"], corruption["seed"]) == (
        "contrast", 4, 0,
    )  # fmt: skip


def test_robustness_writes_the_grid_with_the_cells_numbers(runs):
    table = pd.read_csv(runs / "grid" / "robustness.csv")
    assert {"dataset", "model", "metric", "corruption", "severity", "value", "seed",
            "package"} <= set(table.columns)  # fmt: skip
    detector = table[table["metric"] == "AP50-95"].set_index(["corruption", "severity"])
    assert list(detector.index) == [("clean", 0), ("contrast", 2), ("contrast", 4)]
    cell = json.loads((runs / "cell" / "metrics.json").read_text())["coco"]["AP"]
    assert detector.loc[("contrast", 4), "value"] == pytest.approx(cell, abs=1e-12)
    tagging = table[table["metric"] == "tagging mAP"]
    assert len(tagging) == 3 and set(tagging["model"]) == {"mobilenet_v2_quantized"}


def test_robustness_prints_mpc_and_reads_back_without_a_model(
    runs, monkeypatch, capsys
):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(runs / "runs"))
    args = ["robustness", "--dataset", str(runs / "tiny"), "--detector", "yolov8n-int8",
            "--classifier", "mobilenet_v2_quantized", "--corruptions", "contrast",
            "--severities", "2,4", "--out", str(runs / "again")]  # fmt: skip
    assert cli(args) == 0
    out = capsys.readouterr().out
    assert "0 cells predicted" in out and "| yolov8n-int8 | AP50-95 |" in out
    assert "not the full 15 x 5 grid" in out
    assert (runs / "again" / "robustness.csv").read_text() == (
        runs / "grid" / "robustness.csv"
    ).read_text()


def test_cli_corruption_errors_are_clear(capsys):
    base = [
        "evaluate",
        "--dataset",
        "coco-val2017-first32",
        "--detector",
        "yolov8n-int8",
    ]
    assert cli([*base, "--corruption", "fog"]) == 2
    assert "--corruption and --severity go together" in capsys.readouterr().err
    assert cli([*base, "--corruption", "haze", "--severity", "2"]) == 2
    assert "unknown corruption 'haze'" in capsys.readouterr().err
    grid = ["robustness", "--dataset", "coco-val2017-first32", "--detector",
            "yolov8n-int8", "--severities", "0-3"]  # fmt: skip
    assert cli(grid) == 2
    assert "severities should be 1 to 5" in capsys.readouterr().err


def test_the_ray_actor_corrupts_its_batch_with_the_same_reader(tmp_path):
    from visioncompare.kernel.types import Prediction, Timing
    from visioncompare.services.engines.ray import BatchPredictor

    class Seeing:
        class_names = ("x",)

        def __init__(self):
            self.images = []

        def predict(self, images):
            self.images += images
            scores = np.ones(1, np.float32)
            return [
                Prediction("seeing", "cpu", Timing(),
                           classification=Classification(scores, ("x",)))
                for _ in images
            ]  # fmt: skip

    model = Seeing()
    folder = tiny_coco(tmp_path / "tiny", n=1)
    (path,) = sorted((folder / "val2017").iterdir())
    cell = Corruption("jpeg_compression", 5)
    actor = BatchPredictor(lambda: model, "classify", {}, cell)
    actor({"image_id": np.array([1]), "path": np.array([str(path)], dtype=object)})
    np.testing.assert_array_equal(model.images[0], read_images([path], cell)[0])
