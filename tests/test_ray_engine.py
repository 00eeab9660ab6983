"""The Ray engine stores what a local run stores, survives a killed worker, and resumes
after an interrupted driver. Runs on a local two-CPU Ray cluster; Ray missing fails the
tests in CI (``CI`` set) and skips them, with the reason, elsewhere."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from tests.helpers import RAY_INSTALL, optional_module
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.prediction_runs import Interrupted, predict_detections
from visioncompare.evaluation.store import PredictionStore
from visioncompare.services.engines.ray import RayOptions, predict_detections_on_ray
from visioncompare.services.evaluation_run import model_identity, run_evaluation

OPTIONS = RayOptions(actors=2, cpus_per_actor=1)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = optional_module("ray", RAY_INSTALL)
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def voc4():
    return load_bundled("voc2012-sample100").subset(4)


def test_ray_and_local_runs_store_the_same_predictions_and_metrics(
    ray_cluster, tmp_path, voc4
):
    """yolov8n-int8 and the quantized MobileNetV2 on four VOC images, once per engine:
    the same store key, the same boxes (float tolerance), identical metrics."""
    models = {"detector": "yolov8n-int8", "classifier": "mobilenet_v2_quantized"}
    local_store = PredictionStore(tmp_path / "local.sqlite")
    ray_store = PredictionStore(tmp_path / "ray.sqlite")
    local = run_evaluation(voc4, store=local_store, device="cpu", **models)
    seen = []
    remote = run_evaluation(voc4, store=ray_store, engine="ray", ray_options=OPTIONS,
                            progress=lambda *a: seen.append(a), **models)  # fmt: skip
    assert remote.detector_run.key == local.detector_run.key
    assert remote.classifier_run.key == local.classifier_run.key
    assert remote.detector_run.meta["engine"] == "ray"
    assert ("yolov8n-int8", 4, 4) in seen and seen[-1] == ("mobilenet_v2_quantized", 4, 4)
    assert sorted(remote.detections) == sorted(local.detections) == sorted(
        s.image_id for s in voc4.samples
    )
    for image_id, mine in local.detections.items():
        theirs = remote.detections[image_id]
        assert len(mine) > 0 and len(theirs) == len(mine)
        np.testing.assert_allclose(theirs.xyxy, mine.xyxy, atol=1e-3)
        np.testing.assert_allclose(theirs.scores, mine.scores, atol=1e-5)
        np.testing.assert_array_equal(theirs.class_ids, mine.class_ids)
    assert remote.coco.stats == local.coco.stats
    assert (remote.voc.map_11pt, remote.voc.map_all) == (local.voc.map_11pt,
                                                         local.voc.map_all)  # fmt: skip
    assert remote.summary == local.summary
    assert remote.tagging.classifier_map == local.tagging.classifier_map
    for image_id, p in local_store.get_probabilities(local.classifier_run.key).items():
        q = ray_store.get_probabilities(remote.classifier_run.key)[image_id]
        np.testing.assert_allclose(q, p, atol=1e-6)
    # Either engine reads the other's run: the Ray store answers a local evaluation.
    again = run_evaluation(voc4, store=ray_store, device="cpu", get_model=_no_model,
                           **models)  # fmt: skip
    assert again.coco.stats == local.coco.stats


def _no_model(name):
    raise AssertionError(f"{name} should have been read from the store")


def test_the_ray_key_is_the_local_key():
    from model_zoo.identity import loaded_identity
    from visioncompare.services.engines.local import load_on_device

    assert model_identity("yolov8n-int8", OPTIONS.device) == loaded_identity(
        load_on_device("yolov8n-int8", "cpu")
    )


def test_a_worker_killed_mid_run_is_retried_and_nothing_is_lost_or_doubled(
    ray_cluster, tmp_path
):
    dataset = load_bundled("voc2012-sample100").subset(8)
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    from tests.ray_helpers import logging_detector

    store = PredictionStore(tmp_path / "p.sqlite")
    preds, run = predict_detections_on_ray(
        "logging", dataset, store, {"name": "logging"}, options=OPTIONS,
        load=partial(logging_detector, str(log_dir), die_after=3),
    )  # fmt: skip
    assert (log_dir / "killed").exists()  # an actor did die mid-run
    assert store.is_complete(run.key)
    assert sorted(preds) == sorted(s.image_id for s in dataset.samples)
    assert store.count(run.key) == len(dataset)
    for sample in dataset.samples:  # each image's own prediction, not a neighbour's
        np.testing.assert_array_equal(
            preds[sample.image_id].xyxy, [[0, 0, sample.width, sample.height]]
        )


def test_an_interrupted_driver_resumes_from_the_store(ray_cluster, tmp_path):
    """Stopped after the first results, the next run (Ray or local) predicts only the
    images the store lacks, and the store ends with one row per image."""
    dataset = load_bundled("voc2012-sample100").subset(10)
    # Each run logs to its own folder: the first pool may still be finishing an image
    # that never reached the store while the second run starts.
    first_log, second_log = tmp_path / "first", tmp_path / "second"
    first_log.mkdir()
    second_log.mkdir()
    from tests.ray_helpers import LoggingDetector, logging_detector

    store = PredictionStore(tmp_path / "p.sqlite")
    with pytest.raises(Interrupted):
        predict_detections_on_ray("logging", dataset, store, {"name": "logging"},
                                  options=OPTIONS, load=partial(logging_detector, str(first_log)),
                                  should_stop=lambda: True)  # fmt: skip
    key = next(iter(_keys(store)))
    kept = store.done_ids(key)
    assert 1 <= len(kept) < len(dataset)
    load = partial(logging_detector, str(second_log))
    preds, run = predict_detections_on_ray("logging", dataset, store, {"name": "logging"},
                                           options=OPTIONS, load=load)  # fmt: skip
    assert run.key == key
    assert len(list(second_log.glob("*.done"))) == len(dataset) - len(kept)
    assert store.count(key) == len(dataset) and len(preds) == len(dataset)
    # A local run of the same key reads it back without predicting.
    local_model = LoggingDetector(str(second_log))
    again, _ = predict_detections(local_model, dataset, store, {"name": "logging"})
    assert len(again) == len(dataset)
    assert len(list(second_log.glob("*.done"))) == len(dataset) - len(kept)


def _keys(store: PredictionStore) -> list[str]:
    with store._connect() as db:
        return [r[0] for r in db.execute("SELECT key FROM runs").fetchall()]


def test_ray_missing_is_a_clear_error(monkeypatch):
    import builtins

    from visioncompare.services.engines.ray import RayUnavailable, ensure_ray

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(RayUnavailable, match=r"requirements-ray\.txt"):
        ensure_ray()



def test_the_cli_passes_the_engine_and_pool_shape(monkeypatch):
    import visioncompare.services.evaluation_run as evaluation_run
    from visioncompare.services.cli import main

    seen = {}

    def fake_run(dataset, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(evaluation_run, "run_evaluation", fake_run)
    code = main(["evaluate", "--dataset", "voc2012-sample100", "--detector",
                 "yolov8n-int8", "--engine", "ray", "--address", "10.0.0.1:6379",
                 "--actors", "4", "--gpus-per-actor", "0.5"])  # fmt: skip
    assert code == 2 and seen["engine"] == "ray"
    assert seen["ray_options"] == RayOptions(address="10.0.0.1:6379", actors=4,
                                             gpus_per_actor=0.5)  # fmt: skip
    assert seen["ray_options"].device == "cuda"


def test_the_evaluate_page_offers_the_ray_cluster_when_ray_address_is_set(
    tmp_path, monkeypatch
):
    """Without RAY_ADDRESS the page has no engine choice; with it, the choice reaches
    run_evaluation (stubbed here: the Ray run itself is tested above)."""
    from streamlit.testing.v1 import AppTest

    import components.evaluate.run as evaluate_run
    from tests.conftest import REPO

    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception and not [r for r in at.radio if r.key == "evaluate_engine"]
    seen = []

    def fake_run(dataset, **kwargs):
        seen.append(kwargs["engine"])
        raise ValueError("stubbed")

    monkeypatch.setattr(evaluate_run, "run_evaluation", fake_run)
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    at.run()
    at.radio(key="evaluate_engine").set_value("ray").run()
    at.button(key="evaluate_run").click().run()
    assert seen == ["ray"]
    assert any("stubbed" in e.value for e in at.error)


def test_a_killed_driver_leaves_a_store_the_next_run_completes(ray_cluster, tmp_path):
    """A driver process killed (SIGKILL) mid-run: what it stored stays, the next run
    predicts only the rest, and every image ends stored once."""
    import subprocess
    import sys
    import time

    from tests.conftest import REPO
    from tests.ray_helpers import DRIVER, logging_detector

    n = 12
    address = ray_cluster.get_runtime_context().gcs_address
    db = tmp_path / "p.sqlite"
    first_log, second_log = tmp_path / "first", tmp_path / "second"
    first_log.mkdir()
    second_log.mkdir()
    store = PredictionStore(db)
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(REPO), address, str(db), str(first_log), str(n)],
        cwd=REPO,
    )
    key = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and driver.poll() is None:
        keys = _keys(store)
        if keys and store.count(keys[0]) >= 2:
            key = keys[0]
            break
        time.sleep(0.05)
    driver.kill()
    driver.wait(30)
    assert key is not None, "the driver stored nothing before the deadline"
    kept = store.done_ids(key)
    assert 2 <= len(kept) < n and not store.is_complete(key)
    dataset = load_bundled("voc2012-sample100").subset(n)
    preds, run = predict_detections_on_ray(
        "logging", dataset, store, {"name": "logging"}, options=OPTIONS,
        load=partial(logging_detector, str(second_log)),
    )  # fmt: skip
    assert run.key == key and store.is_complete(key)
    assert len(list(second_log.glob("*.done"))) == n - len(kept)
    assert store.count(key) == n and sorted(preds) == sorted(
        s.image_id for s in dataset.samples
    )
