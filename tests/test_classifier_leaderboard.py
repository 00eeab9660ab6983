"""The classifiers' leaderboard: any number of classifiers scored as image taggers on a
dataset, each one's predictions made once and stored, its tagging mAP checked against an
independent computation (scikit-learn's precision-recall curve, the VOC all-point area,
averaged over the classes as ``metrics.tagging`` documents) from its stored
probabilities.

Real bundled weights where they exist (``mobilenet_v2_quantized``); random weights,
built here, only for a classifier with none on this machine; nothing downloads."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_zoo import get_spec
from model_zoo.figures import published_figures
from model_zoo.identity import identity_on_disk, weights_filename, weights_on_disk
from model_zoo.weights import ENV_VAR
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.leaderboard import (
    UNAVAILABLE,
    Entry,
    leaderboard_frame,
)
from visioncompare.evaluation.prediction_runs import (
    classification_key,
    stored_probabilities,
)
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.taxonomy import resolve_mapping
from visioncompare.services.cli import main as cli
from visioncompare.services.engines.local import load_on_device
from visioncompare.services.model_review import score_classifiers

COCO = "coco-val2017-first32"
BUNDLED = "mobilenet_v2_quantized"
RANDOM = "mobilenet_v3_large"
"""A classifier without weights here: the tests give it random ones of their own."""
NO_WEIGHTS = "resnet50"


def random_weights_folder(folder: Path) -> Path:
    """A weights folder holding seeded random weights under ``RANDOM``'s weights file
    name (for ``$VISIONCOMPARE_WEIGHTS``); it never stands in for real weights."""
    import torch
    from torchvision.models import get_model

    spec = get_spec(RANDOM)
    assert not weights_on_disk(spec), "real weights are here: test with those"
    assert not weights_on_disk(get_spec(NO_WEIGHTS))
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    model = get_model(RANDOM, weights=None)
    # Freshly initialised, its features vanish and every image gets the same uniform
    # softmax (every score ties); batch-norm statistics of one batch of noise make its
    # outputs differ between images.
    for layer in model.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.momentum = None  # the batch's own statistics
    with torch.no_grad():
        model.train()(torch.rand(8, 3, 224, 224) * 4 - 2)
    torch.save(model.state_dict(), folder / weights_filename(spec))
    return folder


def stored_run(name: str, dataset, runs: Path):
    """The classifier's stored probabilities on ``dataset`` and its class names."""
    store = PredictionStore(runs / "predictions.sqlite")
    hit = stored_probabilities(
        store, classification_key(identity_on_disk(name), dataset)
    )
    assert hit is not None, f"{name}: no stored run"
    probabilities, run = hit
    return probabilities, tuple(run.meta["class_names"])


def independent_tagging_map(dataset, probabilities, imagenet_names) -> float:
    """Mean over the dataset classes that ImageNet can name and that some image holds:
    a class's score on an image is the sum of its ImageNet classes' probabilities; AP
    is the area under scikit-learn's precision-recall curve made monotone (VOC
    all-point) over the images scored above 0."""
    from sklearn.metrics import precision_recall_curve

    mapping = resolve_mapping(imagenet_names, dataset.class_names)
    aps = []
    for c, name in enumerate(dataset.class_names):
        truth = np.array([np.isin(c, s.gt.class_ids) for s in dataset.samples])
        if not mapping[name] or not truth.any():
            continue
        scores = np.array(
            [probabilities[s.image_id][mapping[name]].sum() for s in dataset.samples]
        )
        kept = scores > 0
        if not truth[kept].any():
            aps.append(0.0)
            continue
        precision, recall, _ = precision_recall_curve(truth[kept], scores[kept])
        # Ascending recall, of every positive image (not only those scored above 0).
        recall = recall[::-1] * truth[kept].sum() / truth.sum()
        # The best precision at this recall or any higher one.
        best_after = np.maximum.accumulate(precision)[::-1]
        aps.append(float(np.sum(np.diff(recall) * best_after[1:])))
    return float(np.mean(aps))


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """The CLI on the bundled COCO subset with the bundled detector and three
    classifiers (bundled weights, random weights, none): its exit status, folder
    and printed text."""
    root = tmp_path_factory.mktemp("classifiers")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV_VAR, str(random_weights_folder(root / "weights")))
        env.setenv("VISIONCOMPARE_RUNS", str(root / "runs"))
        env.setenv("VISIONCOMPARE_ALLOW_DOWNLOADS", "0")  # listed, never fetched
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = cli(["evaluate", "--dataset", COCO, "--detector", "yolov8n-int8",
                        "--classifier", BUNDLED, "--classifier", RANDOM,
                        "--classifier", NO_WEIGHTS, "--out", str(root / "out")])  # fmt: skip
        yield code, root, printed.getvalue()


def test_cli_writes_each_classifiers_row_checked_independently(cli_run):
    code, root, printed = cli_run
    assert code == 0
    dataset = load_bundled(COCO)
    board = pd.read_csv(root / "out" / "leaderboard.csv")
    assert board["kind"].tolist() == ["detector", *["classifier"] * 3]
    rows = board[board["kind"] == "classifier"].set_index("model")
    assert rows.index[-1] == NO_WEIGHTS  # unavailable after the scored ones
    assert rows["tagging mAP (%)"].iloc[0] >= rows["tagging mAP (%)"].iloc[1]
    for name in (BUNDLED, RANDOM):
        probabilities, names = stored_run(name, dataset, root / "runs")
        expected = 100 * independent_tagging_map(dataset, probabilities, names)
        assert rows.loc[name, "tagging mAP (%)"] == pytest.approx(expected, abs=1e-9)
        per_class = pd.read_csv(root / "out" / name / "classifier_tagging.csv")
        assert 100 * per_class["classifier_AP"].mean() == pytest.approx(expected)
        assert rows.loc[name, "latency p50 (ms)"] > 0
        assert rows.loc[name, "latency p95 (ms)"] >= rows.loc[name, "latency p50 (ms)"]
        assert rows.loc[name, "weights (MB)"] > 1
        figures = published_figures(get_spec(name))
        assert rows.loc[name, "published (%)"] == pytest.approx(figures.accuracy)
        assert rows.loc[name, "params (M)"] == pytest.approx(figures.params_m)
        assert rows.loc[name, "GFLOPs"] == pytest.approx(figures.gflops)
        assert f"| {name} | classifier | " in printed
    # The same detector's image-level mAP beside each classifier.
    assert rows.loc[BUNDLED, "detector image-level mAP (%)"] == pytest.approx(
        rows.loc[RANDOM, "detector image-level mAP (%)"]
    )
    assert rows.loc[NO_WEIGHTS, "status"] == UNAVAILABLE
    assert rows.loc[NO_WEIGHTS, ["tagging mAP (%)", "latency p50 (ms)"]].isna().all()
    assert rows.loc[NO_WEIGHTS, "published (%)"] == pytest.approx(
        published_figures(get_spec(NO_WEIGHTS)).accuracy
    )
    assert f"| {NO_WEIGHTS} | {UNAVAILABLE} |" in printed
    assert "classifiers as image taggers" in printed


def test_classifiers_are_read_back_not_run_again(cli_run, monkeypatch):
    _, root, _ = cli_run
    monkeypatch.setenv(ENV_VAR, str(root / "weights"))

    loaded = []

    def load(name):
        loaded.append(name)
        return load_on_device(name, "cpu")

    scores, missing = score_classifiers(
        load_bundled(COCO), [RANDOM, BUNDLED, NO_WEIGHTS],
        store=PredictionStore(root / "runs" / "predictions.sqlite"), get_model=load,
    )  # fmt: skip
    assert [s.name for s in scores] == [RANDOM, BUNDLED] and missing == [NO_WEIGHTS]
    assert loaded == [
        NO_WEIGHTS
    ]  # tried (no weights: unavailable); the others read back
    board = pd.read_csv(root / "out" / "leaderboard.csv").set_index("model")
    for score in scores:
        assert 100 * score.tagging.classifier_map == pytest.approx(
            board.loc[score.name, "tagging mAP (%)"]
        )
        assert "detector_AP" not in score.tagging.per_class  # no detections given


def test_frame_puts_classifiers_after_detectors_best_tagging_first():
    frame = leaderboard_frame(
        [
            Entry("c1", "classifier", {"tagging mAP (%)": 40.0}),
            Entry("d1", "detector", {"AP (%)": 20.0}),
            Entry("c0", "classifier", status=UNAVAILABLE),
            Entry("c2", "classifier", {"tagging mAP (%)": 60.0}),
            Entry("d2", "detector", {"AP (%)": 30.0}),
        ]
    )
    assert frame["model"].tolist() == ["d2", "d1", "c2", "c1", "c0"]
    assert math.isnan(frame.set_index("model").loc["d1", "tagging mAP (%)"])


def test_cli_lists_a_lone_classifier_without_weights_beside_several_files(
    cli_run, tmp_path, monkeypatch, capsys
):
    _, root, _ = cli_run
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(root / "runs"))
    monkeypatch.setenv("VISIONCOMPARE_ALLOW_DOWNLOADS", "0")
    results = root / "out" / "yolov8n-int8" / "coco_results.json"
    copy = tmp_path / "copy.json"
    copy.write_bytes(results.read_bytes())
    code = cli(["evaluate", "--dataset", COCO, "--predictions", str(results),
                "--predictions", str(copy), "--classifier", NO_WEIGHTS,
                "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0  # the files are scored; the classifier is a row, not an error
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv").set_index("model")
    assert list(board.index) == ["coco_results.json", "copy.json", NO_WEIGHTS]
    assert board.loc["copy.json", "AP (%)"] == board.loc["coco_results.json", "AP (%)"]
    assert board.loc[NO_WEIGHTS, "status"] == UNAVAILABLE
    assert f"| {NO_WEIGHTS} | {UNAVAILABLE} |" in capsys.readouterr().out
