"""The predictions store behaves the same on SQLite and PostgreSQL: keys, resume, and
concurrent writers that never lose or duplicate a row."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from tests.store_backends import predict_once_replica, store_url, write_overlapping
from tests.test_evaluation_engine import CountingDetector
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.prediction_runs import Interrupted, predict_detections
from visioncompare.evaluation.store import (
    PredictionStore,
    StoreError,
    StoreUnavailable,
    redact,
)
from visioncompare.kernel.types import Detections

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    with store_url(request.param, tmp_path) as url:
        yield url


def test_round_trip_of_detections_probabilities_and_meta(url):
    store = PredictionStore(url)
    names = ("person", "dog")
    det = Detections([[1.5, 2, 30, 40.25], [0, 0, 5, 5]], [0.9, 0.001], [1, 0], names)
    store.begin("k", "detect", {"class_names": list(names), "a": 1}, total=2)
    store.begin("k", "detect", {"ignored": True}, total=99)  # idempotent
    assert store.meta("k") == {"class_names": ["person", "dog"], "a": 1}
    store.put_detections("k", 7, det)
    store.put_detections("k", 7, det)  # the same image again: replaced, not added
    store.put_detections("k", 3, Detections.empty(names))
    assert store.done_ids("k") == {3, 7} and store.count("k") == 2
    back = store.get_detections("k", names)
    np.testing.assert_array_equal(back[7].xyxy, det.xyxy)
    np.testing.assert_array_equal(back[7].scores, det.scores)
    np.testing.assert_array_equal(back[7].class_ids, det.class_ids)
    assert len(back[3]) == 0
    assert not store.is_complete("k")
    store.mark_complete("k")
    assert store.is_complete("k") and not store.is_complete("other")
    store.update_meta("k", model_seconds=1.5)
    assert store.meta("k")["model_seconds"] == 1.5 and store.meta("k")["a"] == 1
    store.begin("c", "classify", {}, total=1)
    store.put_probabilities("c", 2**40, np.array([0.25, 0.75]))  # a 64-bit image id
    probs = store.get_probabilities("c")
    assert probs[2**40].dtype == np.float32
    np.testing.assert_array_equal(probs[2**40], [0.25, 0.75])
    store.close()


def test_a_run_resumes_from_another_connection(url):
    """An interrupted run (a killed replica) is finished by a new store on the same URL
    that predicts only the missing images."""
    dataset = load_bundled("voc2012-sample100").subset(6)
    first = CountingDetector()
    with pytest.raises(Interrupted):
        predict_detections(first, dataset, PredictionStore(url), {"name": "x"},
                           batch_size=2, should_stop=lambda: True)  # fmt: skip
    assert first.images == 2
    second = CountingDetector()
    store = PredictionStore(url)
    preds, run = predict_detections(second, dataset, store, {"name": "x"}, batch_size=2)
    assert second.images == 4 and len(preds) == 6 and store.count(run.key) == 6
    third = CountingDetector()
    predict_detections(third, dataset, PredictionStore(url), {"name": "x"})
    assert third.images == 0  # stored: read back, no model run


def test_concurrent_writers_never_lose_or_duplicate_a_row(url):
    """Four processes (replicas, a Ray driver) write overlapping images of one run at once
    and merge their own field into its metadata."""
    overlapping = [list(range(w * 10, w * 10 + 30)) for w in range(4)]  # ids 0..59
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=write_overlapping, args=(url, w, ids))
        for w, ids in enumerate(overlapping)
    ]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    store = PredictionStore(url)
    assert store.done_ids("shared") == set(range(60))
    assert store.count("shared") == 60
    meta = store.meta("shared")
    assert all(meta[f"writer_{w}"] == 30 for w in range(4))  # no merge lost
    detections = store.get_detections("shared", ("a",))
    assert all(d.xyxy[0, 0] == i for i, d in detections.items())


def test_replicas_evaluating_one_run_at_once_predict_it_once(url):
    """Three processes (app replicas, a command line) start the same run at the same
    moment: one predicts every image, the others wait for its claim on the store and
    read the run back."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    counts = context.Array("i", [-1, -1, -1])
    workers = [
        context.Process(target=predict_once_replica, args=(url, start, counts, w))
        for w in range(3)
    ]
    for p in workers:
        p.start()
    for p in workers:
        p.join(180)
    assert [p.exitcode for p in workers] == [0, 0, 0]
    assert sorted(counts) == [0, 0, 6]


def test_a_missing_postgres_driver_or_server_is_named(monkeypatch):
    url = "postgresql://user:secret@127.0.0.1:9/none"
    assert redact(url) == "postgresql://user:***@127.0.0.1:9/none"
    with pytest.raises(StoreError) as error:
        PredictionStore(url)
    assert "secret" not in str(error.value) and "127.0.0.1:9" in str(error.value)


def test_the_store_url_comes_from_the_environment(monkeypatch, tmp_path):
    from visioncompare.services.evaluation_run import default_store

    monkeypatch.delenv("VISIONCOMPARE_STORE_URL", raising=False)
    assert default_store(tmp_path).path == tmp_path / "predictions.sqlite"
    monkeypatch.setenv("VISIONCOMPARE_STORE_URL", f"sqlite:///{tmp_path}/shared.db")
    store = default_store(tmp_path)
    assert store.backend == "sqlite" and store.path == tmp_path / "shared.db"


def test_a_dropped_postgres_connection_is_reopened(tmp_path):
    """A server restart or an administrator ending the session: the failed operation
    raises, the next one reconnects (an app replica keeps its store for its lifetime)."""
    with store_url("postgresql", tmp_path) as url:  # skips or fails first when absent
        import psycopg

        store = PredictionStore(url)
        store.begin("k", "detect", {}, total=1)
        pid = store._db.info.backend_pid
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreUnavailable) as outage:
            store.done_ids("k")
        assert isinstance(outage.value.__cause__, psycopg.OperationalError)
        store.put_probabilities("k", 1, np.array([1.0]))
        assert store.done_ids("k") == {1} and store._db.info.backend_pid != pid
        store.close()
