"""Two sessions evaluating the same model on the same dataset share one prediction pass,
and the stored time per image is the model's own."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.prediction_runs import (
    CLAIMS,
    DetectSettings,
    Interrupted,
    claim_key,
    detection_key,
    predict_detections,
)
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.types import Detections, Prediction, Timing
from visioncompare.services.evaluation_run import run_evaluation

MODEL_MS = 30.0


class SlowDetector:
    """A stand-in detector that holds its lock for a while per image, reports
    ``MODEL_MS`` as its own time per image, and counts the images it sees."""

    class_names = ("person", "dog")

    def __init__(self):
        self.images = 0
        self.lock = threading.Lock()

    def predict(self, images, **settings):
        with self.lock:
            self.images += len(images)
            time.sleep(0.02 * len(images))
            return [
                Prediction("slow", "cpu", Timing(inference_ms=MODEL_MS),
                           detections=Detections([[1, 2, 30, 40]], [0.5], [1],
                                                 self.class_names))
                for _ in images
            ]  # fmt: skip


@pytest.fixture
def voc6():
    return load_bundled("voc2012-sample100").subset(6)


def _together(n: int, work) -> list:
    """Run ``work()`` on n threads released at the same moment; their results."""
    start = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def one(i):
        start.wait()
        try:
            results[i] = work()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_two_sessions_share_one_prediction_pass(tmp_path, voc6):
    store = PredictionStore(tmp_path / "p.sqlite")
    model = SlowDetector()
    model_id = {"name": "slow", "weights_sha256": "abc"}
    results = _together(
        2, lambda: predict_detections(model, voc6, store, model_id, batch_size=1)
    )
    assert model.images == len(voc6)  # one pass, not two
    (first, run1), (second, run2) = results
    assert run1.key == run2.key and min(run1.seconds, run2.seconds) == 0.0
    assert first.keys() == second.keys()
    for image_id in first:
        assert np.array_equal(first[image_id].xyxy, second[image_id].xyxy)
    meta = store.meta(run1.key)
    # The model's own time per image, not the wall time of a contended run.
    assert meta["timed_images"] == len(voc6) - 1
    assert 1000 * meta["model_seconds"] / meta["timed_images"] == pytest.approx(
        MODEL_MS
    )
    assert claim_key(store, run1.key) not in CLAIMS  # gone with its last caller


def test_a_waiting_session_can_stop(tmp_path, voc6):
    store = PredictionStore(tmp_path / "p.sqlite")
    model = SlowDetector()
    model_id = {"name": "slow"}
    claim = claim_key(store, detection_key(model_id, voc6, DetectSettings()))
    held, done = threading.Event(), threading.Event()

    def another_session():
        with CLAIMS.holding(claim):
            held.set()
            done.wait(60)

    holder = threading.Thread(target=another_session)
    holder.start()
    held.wait(60)
    try:
        seen = []
        with pytest.raises(Interrupted, match="while another session"):
            predict_detections(model, voc6, store, model_id,
                               progress=lambda d, t: seen.append((d, t)),
                               should_stop=lambda: bool(seen))  # fmt: skip
        assert seen and seen[0] == (0, len(voc6)) and model.images == 0
    finally:
        done.set()
        holder.join()
    assert claim not in CLAIMS  # no lock kept once no one holds or waits for the run


def test_two_concurrent_evaluations_of_a_real_detector_predict_once(tmp_path):
    from visioncompare.services.engines.local import load_on_device

    dataset = load_bundled("voc2012-sample100").subset(4)
    model = load_on_device("yolov8n-int8", "cpu")
    real = model.predict
    seen: list[Prediction] = []

    def counting(images, **settings):
        predictions = real(images, **settings)
        seen.extend(predictions)
        return predictions

    model.predict = counting
    store = PredictionStore(tmp_path / "p.sqlite")
    reports = _together(
        2,
        lambda: run_evaluation(
            dataset,
            detector="yolov8n-int8",
            device="cpu",
            store=store,
            get_model=lambda name: model,
        ),
    )
    assert len(seen) == len(dataset)
    assert reports[0].summary == reports[1].summary
    # Stored: the mean of the model's own timings after the warm-up image.
    own = np.mean([p.timing.total_ms for p in seen[1:]])
    assert reports[0].ms_per_image == pytest.approx(own)
    assert reports[1].ms_per_image == pytest.approx(own)
