"""PostgreSQL going away mid-run (issue #24): every store method raises the typed
``StoreUnavailable``, the page and the command line say "the predictions store is
unreachable", and the run goes on from its stored images once the server is back.

Each test stops and starts a throwaway server of its own (``.ci/postgres PORT pause`` /
``resume``); with ``CI`` set, a missing PostgreSQL fails these tests instead of skipping.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.store_backends import outage_server
from tests.test_evaluation_engine import CountingDetector
from visioncompare.datasets.registry import load_bundled
from visioncompare.evaluation.prediction_runs import predict_detections
from visioncompare.evaluation.store import PredictionStore, StoreUnavailable
from visioncompare.kernel.types import Detections


@pytest.fixture
def outage():
    with outage_server() as server:
        yield server


def test_a_run_stopped_by_an_outage_resumes_once_the_server_is_back(outage):
    import psycopg

    dataset = load_bundled("voc2012-sample100").subset(6)
    store = PredictionStore(outage.url)

    class StopsTheServer(CountingDetector):
        """Stops the server while it predicts the second batch."""

        def predict(self, images, **settings):
            if self.images == 2:
                outage.pause()
            return super().predict(images, **settings)

    first = StopsTheServer()
    with pytest.raises(StoreUnavailable) as caught:
        predict_detections(first, dataset, store, {"name": "x"}, batch_size=2)
    assert first.images == 4  # the second batch was predicted, never stored
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
    assert str(caught.value).startswith("the predictions store is unreachable: ")
    assert caught.value.cause and "127.0.0.1" not in caught.value.cause

    names = ("person", "dog")
    det = Detections([[1, 2, 3, 4]], [0.5], [0], names)
    while_down = {
        "begin": lambda: store.begin("k", "detect", {}, total=1),
        "meta": lambda: store.meta("k"),
        "update_meta": lambda: store.update_meta("k", a=1),
        "is_complete": lambda: store.is_complete("k"),
        "mark_complete": lambda: store.mark_complete("k"),
        "done_ids": lambda: store.done_ids("k"),
        "count": lambda: store.count("k"),
        "put_detections": lambda: store.put_detections("k", 1, det),
        "put_probabilities": lambda: store.put_probabilities("k", 1, np.ones(2)),
        "put_payloads": lambda: store.put_payloads("k", [(1, b"x")]),
        "get_detections": lambda: store.get_detections("k", names),
        "get_probabilities": lambda: store.get_probabilities("k"),
        "holding_run": lambda: store.holding_run("k", 0.01, lambda: None).__enter__(),
        "a new store": lambda: PredictionStore(outage.url),
    }
    for name, call in while_down.items():
        with pytest.raises(StoreUnavailable) as error:
            call()
        assert "Connection refused" in error.value.cause, (name, error.value.cause)

    outage.resume()
    second = CountingDetector()
    predictions, run = predict_detections(second, dataset, store, {"name": "x"},
                                          batch_size=2)  # fmt: skip
    assert second.images == 4  # only the images the outage kept from the store
    assert len(predictions) == 6 and store.count(run.key) == 6
    assert store.is_complete(run.key)
    store.close()


def test_the_evaluate_page_says_the_store_is_unreachable_and_recovers(
    outage, tmp_path, monkeypatch
):
    """The server stops while the page is open: a warning on the next rerun (is_stored),
    a message when Evaluate is pressed, never Streamlit's error; and no warning once the
    server is back (the dropped connection is replaced)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("VISIONCOMPARE_STORE_URL", outage.url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value("coco-val2017-first32").run()
    assert not at.exception and not at.error

    def unreachable(elements) -> list[str]:
        return [e.value for e in elements if "store is unreachable" in e.value]

    assert not unreachable(at.warning)
    outage.pause()
    at.run()
    assert not at.exception
    (warning,) = unreachable(at.warning)
    assert warning.startswith("The predictions store is unreachable: Connection refused.")
    assert "127.0.0.1" not in warning and outage.url not in warning
    at.button(key="evaluate_run").click().run()
    assert not at.exception
    (error,) = unreachable(at.error)
    assert "press Evaluate once it is back" in error and "127.0.0.1" not in error
    outage.resume()
    at.run()
    assert not at.exception and not unreachable(at.warning) and not at.error


def test_the_command_line_says_the_store_is_unreachable(
    outage, tmp_path, monkeypatch, capsys
):
    from visioncompare.services.cli import main as cli

    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("VISIONCOMPARE_STORE_URL", outage.url)
    outage.pause()
    code = cli(["evaluate", "--dataset", "coco-val2017-first32",
                "--detector", "yolov8n-int8"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: the predictions store is unreachable: postgresql://")
    assert "Connection refused" in err and "run the same command again" in err
    assert "Traceback" not in err


def test_a_sqlite_store_that_cannot_be_opened_is_unavailable_too(tmp_path):
    import sqlite3

    (tmp_path / "predictions.sqlite").mkdir()  # a folder where the file should be
    with pytest.raises(StoreUnavailable) as caught:
        PredictionStore(tmp_path / "predictions.sqlite")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert caught.value.cause == "unable to open database file"
