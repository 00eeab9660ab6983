"""The predictions-store backends the tests run against: SQLite always, PostgreSQL from
``VISIONCOMPARE_TEST_POSTGRES_URL`` (``.ci/run`` starts one with ``.ci/postgres``), and
for the outage tests a server of their own that they stop and start again.

A backend that is not there fails the test in CI (``CI`` set) and skips it, with the
reason, only on a developer's machine."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.helpers import RAY_INSTALL, missing, optional_module

POSTGRES_ENV = "VISIONCOMPARE_TEST_POSTGRES_URL"
OUTAGE_PORT_ENV = "VISIONCOMPARE_TEST_POSTGRES_OUTAGE_PORT"
"""The port of the outage tests' own server (default: the port of ``POSTGRES_ENV``'s
server plus one)."""
CI_POSTGRES = Path(__file__).resolve().parent.parent / ".ci" / "postgres"


def _admin_connection():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        missing(
            f"no PostgreSQL server: set {POSTGRES_ENV} "
            "(`.ci/postgres` starts one and prints its URL)"
        )
    psycopg = optional_module("psycopg", RAY_INSTALL)
    try:
        return url, psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL at {url} is not reachable: {exc}")


@contextmanager
def fresh_postgres_url() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    from urllib.parse import urlsplit, urlunsplit

    url, admin = _admin_connection()
    name = f"visioncompare_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def store_url(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(folder / "predictions.sqlite")
    else:
        with fresh_postgres_url() as url:
            yield url


def write_overlapping(url: str, worker: int, ids: list[int]) -> None:
    """One replica writing its images in batches of five (a spawned process)."""
    from visioncompare.evaluation.store import PredictionStore

    store = PredictionStore(url)
    store.begin("shared", "detect", {"class_names": ["a"]}, total=60)
    names = ("a",)
    for start in range(0, len(ids), 5):
        rows = ids[start : start + 5]
        store.put_payloads("shared", [
            (i, _payload(i, names)) for i in rows
        ])  # fmt: skip
    store.update_meta("shared", **{f"writer_{worker}": len(ids)})
    store.close()


def _payload(image_id: int, names) -> bytes:
    from visioncompare.evaluation.store import pack_detections
    from visioncompare.kernel.types import Detections

    box = [[image_id, 0, image_id + 10, 10]]
    return pack_detections(Detections(box, [0.5], [0], names))


def predict_once_replica(url: str, start, counts, worker: int) -> None:
    """One replica evaluating a stand-in detector (0.1 s per image) on six images of the
    bundled VOC subset, released with the others by ``start`` (a spawned process); the
    images its model predicted go to ``counts[worker]``."""
    import time

    from tests.test_evaluation_engine import CountingDetector
    from visioncompare.datasets.registry import load_bundled
    from visioncompare.evaluation.prediction_runs import predict_detections
    from visioncompare.evaluation.store import PredictionStore

    class SlowDetector(CountingDetector):
        def predict(self, images, **settings):
            time.sleep(0.1 * len(images))
            return super().predict(images, **settings)

    dataset = load_bundled("voc2012-sample100").subset(6)
    model = SlowDetector()
    store = PredictionStore(url)
    start.wait(120)
    predictions, _ = predict_detections(model, dataset, store, {"name": "slow"},
                                        batch_size=1)  # fmt: skip
    assert len(predictions) == len(dataset)
    counts[worker] = model.images
    store.close()


@dataclass(frozen=True)
class OutageServer:
    """A throwaway PostgreSQL server that a test stops (``pause``) and starts again on
    the same data (``resume``), as an outage does."""

    url: str
    port: int

    def _control(self, command: str) -> None:
        subprocess.run([str(CI_POSTGRES), str(self.port), command], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control("resume")


@contextmanager
def outage_server() -> Iterator[OutageServer]:
    """A PostgreSQL server of the test's own, started with ``.ci/postgres`` on
    ``OUTAGE_PORT_ENV``'s port and removed afterwards (never the shared test server,
    which other tests use)."""
    url = os.environ.get(POSTGRES_ENV)
    port = os.environ.get(OUTAGE_PORT_ENV) or (
        str(urlsplit(url).port + 1) if url and urlsplit(url).port else ""
    )
    if not port:
        missing(
            f"no port for the outage tests' PostgreSQL server: set {OUTAGE_PORT_ENV}, "
            f"or {POSTGRES_ENV} (its port plus one is used)"
        )
    optional_module("psycopg", RAY_INSTALL)  # the store needs it
    started = subprocess.run([str(CI_POSTGRES), port], capture_output=True, text=True,
                             timeout=180)  # fmt: skip
    if started.returncode:
        missing(f"cannot start PostgreSQL on port {port}: {started.stderr.strip()}")
    try:
        yield OutageServer(started.stdout.strip(), int(port))
    finally:
        subprocess.run([str(CI_POSTGRES), port, "stop"], capture_output=True,
                       timeout=120)  # fmt: skip
