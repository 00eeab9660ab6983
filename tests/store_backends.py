"""The predictions-store backends the tests run against: SQLite always, PostgreSQL from
``VISIONCOMPARE_TEST_POSTGRES_URL`` (``.ci/run`` starts one with ``.ci/postgres``).

A backend that is not there fails the test in CI (``CI`` set) and skips it, with the
reason, only on a developer's machine."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import missing

POSTGRES_ENV = "VISIONCOMPARE_TEST_POSTGRES_URL"


def _admin_connection():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        missing(
            f"no PostgreSQL server: set {POSTGRES_ENV} "
            "(`.ci/postgres` starts one and prints its URL)"
        )
    try:
        import psycopg
    except ImportError:
        missing("psycopg is not installed (pip install -r requirements-ray.txt)")
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
