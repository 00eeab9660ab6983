"""The predictions store: one SQLite file, one row per (run, image).

A run is keyed by what determines its predictions: model name, weights SHA-256, dataset
and inference settings. Each image is committed as soon as it is predicted, so an
interrupted run loses nothing and the next run resumes where it stopped; a finished run is
read back instead of re-running the model.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from core.types import Detections

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    meta TEXT NOT NULL,
    total INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    key TEXT NOT NULL REFERENCES runs(key),
    image_id INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (key, image_id)
);
"""


def run_key(**parts: Any) -> str:
    """A stable key from JSON-serialisable parts (order of keywords does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _pack(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # plain arrays only: read back with allow_pickle=False
    return buffer.getvalue()


def _unpack(payload: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


class PredictionStore:
    """Stored detector boxes and classifier probabilities, per run and image.

    One connection per store, shared by threads under a lock (the page and its worker).
    WAL with ``synchronous=NORMAL``: a commit survives the process being killed; only an
    operating-system crash may lose the last few images, which a resumed run re-predicts.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The shared connection, locked, inside a transaction."""
        with self._lock, self._db:
            yield self._db

    def begin(self, key: str, kind: str, meta: dict[str, Any], total: int) -> None:
        """Register a run (idempotent: an existing run keeps its stored images)."""
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO runs (key, kind, meta, total, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    kind,
                    json.dumps(meta, sort_keys=True, default=str),
                    total,
                    time.time(),
                ),
            )

    def meta(self, key: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT meta FROM runs WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def update_meta(self, key: str, **fields: Any) -> None:
        """Merge fields into a run's recorded metadata."""
        meta = self.meta(key) or {}
        meta.update(fields)
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET meta = ? WHERE key = ?",
                (json.dumps(meta, sort_keys=True, default=str), key),
            )

    def is_complete(self, key: str) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT complete FROM runs WHERE key = ?", (key,)
            ).fetchone()
        return bool(row and row[0])

    def mark_complete(self, key: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET complete = 1 WHERE key = ?", (key,))

    def done_ids(self, key: str) -> set[int]:
        with self._connect() as db:
            return {
                r[0]
                for r in db.execute("SELECT image_id FROM items WHERE key = ?", (key,))
            }

    def put_detections(self, key: str, image_id: int, det: Detections) -> None:
        payload = _pack(xyxy=det.xyxy, scores=det.scores, class_ids=det.class_ids)
        self._put(key, [(image_id, payload)])

    def put_probabilities(self, key: str, image_id: int, probs: np.ndarray) -> None:
        self._put(key, [(image_id, _pack(probs=np.asarray(probs, np.float32)))])

    def _put(self, key: str, rows: Iterable[tuple[int, bytes]]) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO items (key, image_id, payload) VALUES (?, ?, ?)",
                [(key, image_id, payload) for image_id, payload in rows],
            )

    def _items(self, key: str) -> Iterable[tuple[int, dict[str, np.ndarray]]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT image_id, payload FROM items WHERE key = ? ORDER BY image_id",
                (key,),
            ).fetchall()
        return [(image_id, _unpack(payload)) for image_id, payload in rows]

    def get_detections(
        self, key: str, class_names: tuple[str, ...]
    ) -> dict[int, Detections]:
        return {
            image_id: Detections(a["xyxy"], a["scores"], a["class_ids"], class_names)
            for image_id, a in self._items(key)
        }

    def get_probabilities(self, key: str) -> dict[int, np.ndarray]:
        return {image_id: a["probs"] for image_id, a in self._items(key)}
