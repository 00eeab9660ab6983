"""The predictions store, the batch runner, classifier tagging, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from torchvision.models import get_weight

from tests.helpers import make_dataset, random_coco_case, realistic_coco_case
from tests.reference import pycocotools_eval
from visioncompare.datasets.registry import load_bundled
from visioncompare.datasets.types import make_gt
from visioncompare.evaluation.metrics.coco import (
    STAT_NAMES,
    coco_ground_truth,
    coco_results,
)
from visioncompare.evaluation.metrics.tagging import evaluate_tagging, image_labels
from visioncompare.evaluation.prediction_runs import (
    DetectSettings,
    Interrupted,
    predict_detections,
    predict_probabilities,
)
from visioncompare.evaluation.results_file import load_coco_results
from visioncompare.evaluation.store import PredictionStore, run_key
from visioncompare.kernel.taxonomy import IMAGENET_TO_COCO, resolve_mapping
from visioncompare.kernel.types import Classification, Detections, Prediction, Timing
from visioncompare.services.cli import main as cli
from visioncompare.services.evaluation_run import run_evaluation
from visioncompare.services.report import evaluate_predictions

IMAGENET = tuple(get_weight("ResNet50_Weights.DEFAULT").meta["categories"])


class CountingDetector:
    """A stand-in detector that returns a box per image and counts its calls."""

    class_names = ("person", "dog")

    def __init__(self):
        self.images = 0

    def predict(self, images, **settings):
        self.images += len(images)
        return [
            Prediction("fake", "cpu", Timing(),
                       detections=Detections([[1, 2, 30, 40]], [0.5], [1], self.class_names))
            for _ in images
        ]  # fmt: skip


@pytest.fixture
def voc_small():
    return load_bundled("voc2012-sample100").subset(6)


def test_store_hit_miss_and_resume(tmp_path, voc_small):
    store = PredictionStore(tmp_path / "p.sqlite")
    model = CountingDetector()
    model_id = {"name": "fake", "weights_sha256": "abc"}
    seen = []
    preds, run = predict_detections(model, voc_small, store, model_id, batch_size=2,
                                    progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert model.images == 6 and len(preds) == 6 and seen[-1] == (6, 6)
    assert preds[0].labels == ["dog"] and store.is_complete(run.key)
    assert run.meta["timed_images"] == 4  # the first batch warms up and is not timed
    _again, run2 = predict_detections(model, voc_small, store, model_id)
    assert model.images == 6 and run2.key == run.key and run2.seconds == 0.0  # a hit
    _other, _ = predict_detections(
        model, voc_small, store, model_id, DetectSettings(conf=0.1)
    )
    assert model.images == 12  # other settings: another key, a miss


def test_an_interrupted_run_keeps_what_it_computed(tmp_path, voc_small):
    store = PredictionStore(tmp_path / "p.sqlite")
    model = CountingDetector()
    calls = iter(range(100))
    with pytest.raises(Interrupted, match="stopped after 2 of 6"):
        predict_detections(model, voc_small, store, {"name": "x"}, batch_size=2,
                           should_stop=lambda: next(calls) >= 0)  # fmt: skip
    assert model.images == 2
    preds, _ = predict_detections(model, voc_small, store, {"name": "x"}, batch_size=2)
    assert model.images == 6 and len(preds) == 6  # resumed: only the 4 missing images


def test_probabilities_round_trip(tmp_path, voc_small):
    class Classifier:
        class_names = IMAGENET

        def predict(self, images):
            p = np.full(1000, 1e-3, np.float32)
            p[207] = 1 - 0.999
            return [Prediction("c", "cpu", Timing(), classification=Classification(p, IMAGENET))
                    for _ in images]  # fmt: skip

    store = PredictionStore(tmp_path / "p.sqlite")
    probs, _ = predict_probabilities(Classifier(), voc_small, store, {"name": "c"})
    assert set(probs) == {s.image_id for s in voc_small.samples}
    assert probs[0].shape == (1000,) and probs[0].dtype == np.float32


def test_run_key_is_order_independent():
    assert run_key(a=1, b={"x": 1, "y": 2}) == run_key(b={"y": 2, "x": 1}, a=1)
    assert run_key(a=1) != run_key(a=2)


def test_taxonomy_names_exist_and_person_cannot_be_named():
    mapping = resolve_mapping(IMAGENET, [*list(IMAGENET_TO_COCO), "person", "giraffe"])
    assert mapping["person"] == [] and mapping["giraffe"] == []
    assert len(mapping["dog"]) == 118 and IMAGENET[mapping["dog"][0]] == "Chihuahua"
    assert [IMAGENET[i] for i in mapping["cat"]] == [
        "tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"
    ]  # fmt: skip
    assert len(mapping["bird"]) == 18 + 21 + 20
    assert all(mapping[c] for c in IMAGENET_TO_COCO)


def test_tagging_scores_both_models_on_the_same_images():
    ds = make_dataset(
        [([[0, 0, 9, 9]], [0]), ([[0, 0, 9, 9]], [1]), ([[0, 0, 9, 9]], [2])],
        class_names=("dog", "cat", "person"),
    )
    dog = resolve_mapping(IMAGENET, ["dog"])["dog"][0]
    cat = resolve_mapping(IMAGENET, ["cat"])["cat"][0]

    def probs(index, top=0.9):
        p = np.full(1000, (1 - top) / 999)
        p[index] = top
        return p

    # image 2 holds a person, which the classifier calls a dog with more confidence
    probabilities = {0: probs(dog), 1: probs(cat), 2: probs(dog, 0.95)}
    detections = {
        0: Detections([[0, 0, 9, 9]], [0.8], [0], ("dog",)),
        1: Detections.empty(("dog",)),
        2: Detections.empty(("dog",)),
    }
    result = evaluate_tagging(ds, probabilities, IMAGENET, detections, k=1, conf=0.25)
    assert result.unnameable == ("person",)
    assert result.coverage == pytest.approx(2 / 3)
    rows = result.per_class.set_index("class")
    assert rows.loc["cat", "classifier_AP"] == pytest.approx(1.0)
    assert rows.loc["dog", "classifier_AP"] == pytest.approx(
        0.5
    )  # the dog image ranks 2nd
    assert rows.loc["dog", "classifier_top1"] == pytest.approx(1.0)
    assert rows.loc["dog", "detector_AP"] == pytest.approx(1.0)
    assert rows.loc["cat", "detector_hit"] == 0.0
    assert image_labels(ds).sum() == 3


def test_bring_your_own_predictions_validation(tmp_path):
    ds = load_bundled("coco-val2017-first32")
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"image_id": 397133, "category_id": 18,
                                 "bbox": [1, 2, 3, 4], "score": 0.5}]))  # fmt: skip
    preds, skipped = load_coco_results(str(path), ds)
    assert preds[397133].labels == ["dog"] and preds[397133].xyxy.tolist() == [
        [1, 2, 4, 6]
    ]
    assert skipped == {}
    for entry, message in [
        (
            {"image_id": 1, "category_id": 18, "bbox": [1, 2, 3, 4], "score": 1},
            "image_id 1",
        ),
        ({"image_id": 397133, "category_id": 18, "bbox": [1, 2], "score": 1}, "'bbox'"),
        (
            {"image_id": 397133, "category_id": 18, "bbox": [1, 2, 3, 4]},
            "missing field 'score'",
        ),
        (
            {"image_id": 397133, "category_id": 18, "bbox": [1, 2, 3, 4],
             "score": float("nan")},
            "'score' is nan; every detection needs a finite confidence",
        ),
        (
            {"image_id": [397133], "category_id": 18, "bbox": [1, 2, 3, 4], "score": 1},
            "field 'image_id' should be a number or a name",
        ),
        (
            {"image_id": 397133, "category_id": {"id": 18}, "bbox": [1, 2, 3, 4],
             "score": 1},
            "field 'category_id' should be a number or a name",
        ),
    ]:  # fmt: skip
        path.write_text(json.dumps([entry]))
        with pytest.raises(ValueError, match=f"entry 0: .*{message}"):
            load_coco_results(str(path), ds)
    path.write_text("[{")
    with pytest.raises(ValueError, match="not valid JSON at line 1"):
        load_coco_results(str(path), ds)


def _person_only(ds):
    """The bundled COCO subset annotated for persons only (as a person-only subset)."""
    from dataclasses import replace

    person = ds.class_names.index("person")
    samples = tuple(
        replace(s, gt=make_gt(
            s.gt.xyxy[s.gt.class_ids == person].tolist(),
            [0] * int((s.gt.class_ids == person).sum()), ("person",),
            iscrowd=s.gt.extra["iscrowd"][s.gt.class_ids == person].tolist(),
            area=s.gt.extra["area"][s.gt.class_ids == person].tolist(),
        ))
        for s in ds.samples
    )  # fmt: skip
    return replace(ds, class_names=("person",), category_ids=(1,), samples=samples)


def test_predictions_of_categories_the_dataset_lacks_are_left_out_and_counted(tmp_path):
    ds = _person_only(load_bundled("coco-val2017-first32"))
    image = ds.samples[0].image_id
    entries = [
        {"image_id": image, "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.9},
        {"image_id": image, "category_id": 18, "bbox": [1, 2, 3, 4], "score": 0.5},
        {"image_id": image, "category_id": 18, "bbox": [5, 2, 3, 4], "score": 0.4},
        {"image_id": image, "category_name": "cup", "bbox": [5, 2, 3, 4], "score": 0.4},
    ]
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(entries))
    preds, skipped = load_coco_results(str(path), ds)
    assert len(preds[image]) == 1
    assert skipped == {
        f"category_id 18 (not in {ds.name})": 2,
        f"cup (not in {ds.name})": 1,
    }
    report = run_evaluation(ds, predictions=str(path))
    assert report.dropped == skipped


def test_a_predictions_file_scores_as_pycocotools_scores_it(tmp_path):
    """float64 boxes and scores (no float32 rounding) and boxes with a negative width or
    height, which pycocotools keeps (they overlap nothing; w * h picks the area range)."""
    ds, predictions = random_coco_case(11, images=80, classes=5)
    entries = coco_results(predictions, ds)
    rng = np.random.default_rng(0)
    for entry in entries:
        entry["bbox"] = [v + float(rng.uniform(-1e-6, 1e-6)) for v in entry["bbox"]]
        entry["score"] = float(entry["score"]) + float(rng.uniform(0, 1e-9))
    for entry in entries[::13]:
        entry["bbox"][2] = -entry["bbox"][2]  # negative width: area < 0, ignored
    for entry in entries[5::17]:
        entry["bbox"][2:] = [-entry["bbox"][2], -entry["bbox"][3]]  # both: area > 0
    path = tmp_path / "results.json"
    path.write_text(json.dumps(entries))
    report = run_evaluation(ds, predictions=str(path))
    stats, _ = pycocotools_eval(coco_ground_truth(ds), entries)
    ours = np.array([report.coco.stats[n] for n in STAT_NAMES])
    assert np.abs(ours - stats).max() <= 1e-12
    # and the file the app writes back re-scores to the same numbers
    written = json.loads(report.write(tmp_path / "out")["results"].read_text())
    again, _ = pycocotools_eval(coco_ground_truth(ds), written)
    assert np.abs(ours - again).max() <= 1e-12


def test_the_written_results_rescore_exactly_to_the_numbers_shown(tmp_path):
    ds, predictions = realistic_coco_case(6, images=150, classes=10)
    report = evaluate_predictions(ds, predictions, "model")
    written = json.loads(report.write(tmp_path)["results"].read_text())
    stats, _ = pycocotools_eval(coco_ground_truth(ds), written)
    ours = np.array([report.coco.stats[n] for n in STAT_NAMES])
    assert np.array_equal(ours, stats)


@pytest.fixture(scope="module")
def coco_run(tmp_path_factory):
    """The CLI on the bundled COCO subset with the real offline detector and classifier."""
    out = tmp_path_factory.mktemp("cli")
    args = ["evaluate", "--dataset", "coco-val2017-first32", "--detector", "yolov8n-int8",
            "--classifier", "mobilenet_v2_quantized", "--out", str(out / "report")]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISIONCOMPARE_RUNS", str(out / "runs"))
        assert cli(args) == 0
    assert (out / "runs" / "predictions.sqlite").is_file()
    return out / "report"


def test_cli_real_detector_matches_pycocotools(coco_run, capsys):
    metrics = json.loads((coco_run / "metrics.json").read_text())
    results = json.loads((coco_run / "coco_results.json").read_text())
    ds = load_bundled("coco-val2017-first32")
    stats, _ = pycocotools_eval(coco_ground_truth(ds), results)
    ours = np.array([metrics["coco"][n] for n in STAT_NAMES])
    assert np.abs(ours - stats).max() <= 1e-9
    assert 0.3 < metrics["coco"]["AP"] < 0.5  # YOLOv8n INT8 on these 32 images: 0.389
    assert metrics["images"] == 32 and metrics["boxes"] == 288
    assert metrics["detector_run"]["model"]["weights_sha256"]
    assert {"torch", "ultralytics"} <= set(metrics["detector_run"]["versions"])
    assert metrics["classifier"]["unnameable_classes"][0] == "person"
    per_class = (coco_run / "per_class.csv").read_text().splitlines()
    assert (
        per_class[0] == "class,gt,AP50,AP50-95,VOC_AP_11pt,VOC_AP_all"
        and len(per_class) == 81
    )
    assert (coco_run / "classifier_tagging.csv").is_file()


def test_cli_bring_your_own_predictions_gives_the_same_numbers(
    coco_run, tmp_path, capsys
):
    code = cli(["evaluate", "--dataset", "coco-val2017-first32", "--predictions",
                str(coco_run / "coco_results.json"), "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    again = json.loads((tmp_path / "metrics.json").read_text())
    first = json.loads((coco_run / "metrics.json").read_text())
    assert again["coco"] == pytest.approx(first["coco"], abs=1e-6)
    out = capsys.readouterr().out
    assert "| AP50 |" in out and "wrote" in out


def test_cli_errors_are_clear(capsys):
    assert cli(["evaluate", "--dataset", "nope", "--detector", "yolov8n-int8"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert (
        cli(["evaluate", "--dataset", "voc2012-sample100", "--detector", "nope"]) == 2
    )
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert (
        cli(
            [
                "evaluate",
                "--dataset",
                "voc2012-sample100",
                "--predictions",
                "/no/file.json",
            ]
        )
        == 2
    )
    assert "/no/file.json: cannot read" in capsys.readouterr().err


def test_a_missing_dataset_image_is_named(tmp_path):
    from visioncompare.datasets import DatasetError

    dataset = make_dataset([([[0, 0, 9, 9]], [0])])  # its image path does not exist
    with pytest.raises(DatasetError, match=r"0\.jpg: cannot read this image"):
        predict_detections(CountingDetector(), dataset, PredictionStore(tmp_path / "p.sqlite"),
                           {"name": "x"})  # fmt: skip


@pytest.mark.parametrize("name", ["yolov8n-int8", "mobilenet_v2_quantized"])
def test_identity_without_loading_equals_the_loaded_models(name):
    """The page checks the store before loading a model: both must name the same key."""
    from model_zoo import load_model
    from model_zoo.identity import loaded_identity
    from visioncompare.services.evaluation_run import model_identity

    assert model_identity(name, "auto") == loaded_identity(load_model(name, "auto"))
    assert model_identity("yolov8x") is None  # weights not on this machine
