"""The predictions store: one row per (run, image), in SQLite or PostgreSQL.

A run is keyed by what determines its predictions: model name, weights SHA-256, dataset
and inference settings. Each image is committed as soon as it is predicted, so an
interrupted run loses nothing and the next run resumes where it stopped; a finished run is
read back instead of re-running the model.

Where it lives is a URL: a file path or ``sqlite:///path`` (the default, one file), or
``postgresql://user:password@host/db`` for a store shared by several app replicas and a
Ray driver (needs ``psycopg``). Both backends have the same tables, keys and behaviour;
``(key, image_id)`` is the primary key, so concurrent writers of the same image never
store it twice, and every write is its own committed transaction.

An outage (the database server stopped, restarted or unreachable; a SQLite file that
cannot be opened or written) makes every method raise ``StoreUnavailable``, the driver's
error as its cause. Nothing committed is lost: the next call reconnects, and a run
stopped by the outage goes on from its stored images.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from visioncompare.kernel.types import Detections

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# The same two tables in both backends; only the column types differ in name.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    meta TEXT NOT NULL,
    total INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    created {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    key TEXT NOT NULL REFERENCES runs(key),
    image_id {bigint} NOT NULL,
    payload {blob} NOT NULL,
    PRIMARY KEY (key, image_id)
);
"""
SCHEMA = _SCHEMA.format(real="REAL", bigint="INTEGER", blob="BLOB")
POSTGRES_SCHEMA = _SCHEMA.format(real="DOUBLE PRECISION", bigint="BIGINT", blob="BYTEA")

_INSERT_RUN = (
    "INSERT INTO runs (key, kind, meta, total, created) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO NOTHING"
)
# A repeated image (a retried task, a second replica) replaces its row: one row per image.
_UPSERT_ITEM = (
    "INSERT INTO items (key, image_id, payload) VALUES (?, ?, ?) "
    "ON CONFLICT (key, image_id) DO UPDATE SET payload = excluded.payload"
)


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


def pack_detections(det: Detections) -> bytes:
    """A detector's output as the stored payload (made where it is predicted, e.g. a Ray
    actor, and written by ``PredictionStore.put_payloads``)."""
    return _pack(xyxy=det.xyxy, scores=det.scores, class_ids=det.class_ids)


def pack_probabilities(probs: np.ndarray) -> bytes:
    """A classifier's softmax as the stored payload."""
    return _pack(probs=np.asarray(probs, np.float32))


def is_postgres_url(url: str) -> bool:
    return str(url).startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if not is_postgres_url(url):
        return str(url)
    parts = urlsplit(str(url))
    if parts.password is None:
        return str(url)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class StoreError(RuntimeError):
    """The store cannot be opened (a missing driver, an unreachable server)."""


class StoreUnavailable(StoreError):
    """The store's database cannot be reached now: the server stopped, restarted or
    dropped the connection, or the SQLite file cannot be opened, locked or written.

    Raised by every store method (and the constructor) instead of the driver's error,
    which is its ``__cause__``. The operation did not happen (or its commit is unknown:
    every operation is idempotent, so doing it again is safe); what was committed before
    is kept, and the next call reconnects.

    Attributes:
        cause: the driver's reason in a few words ("Connection refused", "server closed
            the connection unexpectedly"), with no address: what a visitor is shown.
    """

    def __init__(self, where: str, error: BaseException) -> None:
        lines = str(error).strip().splitlines()
        first = lines[0].strip() if lines else type(error).__name__
        self.cause = first.rsplit(": ", 1)[-1].strip() or first
        super().__init__(f"the predictions store is unreachable: {where}: {first}")


class PredictionStore:
    """Stored detector boxes and classifier probabilities, per run and image.

    Args:
        url: a file path, ``sqlite:///path``, or ``postgresql://...``.

    One connection per store, shared by threads under a lock (the page and its worker).
    SQLite: WAL with ``synchronous=NORMAL``: a commit survives the process being killed;
    only an operating-system crash may lose the last few images, which a resumed run
    re-predicts. PostgreSQL: each write is a committed transaction.

    Raises:
        StoreError: PostgreSQL asked for and ``psycopg`` missing.
        StoreUnavailable: the server unreachable, or the SQLite file cannot be opened.
    """

    def __init__(self, url: str | Path) -> None:
        self.url = str(url)
        self._lock = threading.Lock()
        if is_postgres_url(self.url):
            self.backend = "postgresql"
            self._db = _connect_postgres(self.url)
            with self._connect() as db:
                # CREATE TABLE IF NOT EXISTS races with itself across processes: serialise.
                db.execute("SELECT pg_advisory_xact_lock(7213013)")
                for statement in POSTGRES_SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
        else:
            self.backend = "sqlite"
            path = self.url.removeprefix("sqlite:///")
            self.path = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = sqlite3.connect(
                    self.path, timeout=30, check_same_thread=False
                )
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(redact(self.url), exc) from exc
            with self._connect():
                self._db.executescript(SCHEMA)

    def __repr__(self) -> str:
        return f"PredictionStore({redact(self.url)!r})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _connect(self) -> Iterator[_Cursor]:
        """The shared connection, locked, inside one transaction.

        Raises:
            StoreUnavailable: the database failed (the server gone, the file locked or
                unwritable), caught from the driver wherever it happens in the block.
        """
        with self._lock:
            if self.backend == "sqlite":
                try:
                    with self._db:
                        yield _Cursor(self._db, postgres=False)
                except sqlite3.OperationalError as exc:
                    raise StoreUnavailable(redact(self.url), exc) from exc
                return
            if self._db.broken or self._db.closed:
                # The server restarted or dropped us: reconnect (each operation is its
                # own transaction, so nothing half-done is carried over).
                self._db = _connect_postgres(self.url)
            try:
                with self._db.transaction():
                    yield _Cursor(self._db, postgres=True)
            except _postgres_outage() as exc:
                raise StoreUnavailable(redact(self.url), exc) from exc

    def begin(self, key: str, kind: str, meta: dict[str, Any], total: int) -> None:
        """Register a run (idempotent: an existing run keeps its stored images)."""
        with self._connect() as db:
            db.execute(
                _INSERT_RUN,
                (key, kind, json.dumps(meta, sort_keys=True, default=str), total,
                 time.time()),
            )  # fmt: skip

    def meta(self, key: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT meta FROM runs WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def update_meta(self, key: str, **fields: Any) -> None:
        """Merge fields into a run's recorded metadata (read and written in one locked
        transaction, so two writers merging at once both keep their fields)."""
        with self._connect() as db:
            if db.postgres:
                select = "SELECT meta FROM runs WHERE key = ? FOR UPDATE"
            else:
                db.execute("BEGIN IMMEDIATE")  # the write lock before the read
                select = "SELECT meta FROM runs WHERE key = ?"
            row = db.execute(select, (key,)).fetchone()
            meta = json.loads(row[0]) if row else {}
            meta.update(fields)
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
                for r in db.execute(
                    "SELECT image_id FROM items WHERE key = ?", (key,)
                ).fetchall()
            }

    def count(self, key: str) -> int:
        """Rows stored for a run (equal to ``len(done_ids(key))``: one row per image)."""
        with self._connect() as db:
            row = db.execute("SELECT COUNT(*) FROM items WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def put_detections(self, key: str, image_id: int, det: Detections) -> None:
        self.put_payloads(key, [(image_id, pack_detections(det))])

    def put_probabilities(self, key: str, image_id: int, probs: np.ndarray) -> None:
        self.put_payloads(key, [(image_id, pack_probabilities(probs))])

    def put_payloads(self, key: str, rows: Iterable[tuple[int, bytes]]) -> None:
        """Store packed predictions (``pack_detections`` / ``pack_probabilities``) in one
        transaction; an image stored before is replaced, never duplicated."""
        rows = [(key, int(image_id), bytes(payload)) for image_id, payload in rows]
        if not rows:
            return
        with self._connect() as db:
            db.executemany(_UPSERT_ITEM, rows)

    def _items(self, key: str) -> Iterable[tuple[int, dict[str, np.ndarray]]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT image_id, payload FROM items WHERE key = ? ORDER BY image_id",
                (key,),
            ).fetchall()
        return [(image_id, _unpack(bytes(payload))) for image_id, payload in rows]

    def get_detections(
        self, key: str, class_names: tuple[str, ...]
    ) -> dict[int, Detections]:
        return {
            image_id: Detections(a["xyxy"], a["scores"], a["class_ids"], class_names)
            for image_id, a in self._items(key)
        }

    def get_probabilities(self, key: str) -> dict[int, np.ndarray]:
        return {image_id: a["probs"] for image_id, a in self._items(key)}

    @contextmanager
    def holding_run(
        self, key: str, poll: float, waiting: Callable[[], None]
    ) -> Iterator[None]:
        """Hold a run's claim across processes (app replicas, a Ray driver, the command
        line) while it is predicted: whoever holds it predicts; the others call
        ``waiting`` every ``poll`` seconds (it may raise to give up) until it is free,
        and then find the run complete, or go on from where a stopped holder left it.

        The claim goes with its holder: SQLite's is an ``flock`` on a file beside the
        store (released by the kernel when the process dies), PostgreSQL's a session
        advisory lock on a connection of its own (released when it closes or drops).
        Threads of one process take turns before this
        (``visioncompare.evaluation.prediction_runs``).
        """
        if self.backend == "postgresql":
            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big",
                                     signed=True)  # fmt: skip
            db = _connect_postgres(self.url)
            try:
                try_lock = "SELECT pg_try_advisory_lock(%s)"
                while not _locked(db, try_lock, lock_id, self.url):
                    waiting()
                    time.sleep(poll)
                yield  # unlocked by closing the connection
            finally:
                db.close()
            return
        if fcntl is None:  # no flock (Windows): the in-process claim only
            yield
            return
        folder = self.path.parent / f"{self.path.name}.claims"
        folder.mkdir(exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        # Never removed: deleting a lock file races with a process about to lock it.
        with open(folder / f"{name}.lock", "a") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waiting()
                    time.sleep(poll)
            yield  # unlocked by closing the file


class _Cursor:
    """One SQL text for both backends: ``?`` placeholders become psycopg's ``%s``."""

    def __init__(self, db, postgres: bool) -> None:
        self.db, self.postgres = db, postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: tuple = ()):
        return self.db.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        if self.postgres:
            with self.db.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)
        else:
            self.db.executemany(sql, rows)


def _postgres_outage() -> type[Exception]:
    """psycopg's error for a server that is gone: stopped, restarting, unreachable, or
    the connection dropped (``OperationalError``, ``AdminShutdown`` among its kinds)."""
    import psycopg

    return psycopg.OperationalError


def _locked(db, try_lock: str, lock_id: int, url: str) -> bool:
    """One try at a run's advisory lock on its own connection ``db``.

    Raises:
        StoreUnavailable: the connection failed.
    """
    try:
        return bool(db.execute(try_lock, (lock_id,)).fetchone()[0])
    except _postgres_outage() as exc:
        raise StoreUnavailable(redact(url), exc) from exc


def _connect_postgres(url: str):
    """A new autocommit connection.

    Raises:
        StoreError: psycopg is not installed.
        StoreUnavailable: the server cannot be reached (the address and the reason).
    """
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            f"{redact(url)}: a PostgreSQL store needs psycopg "
            "(pip install -r requirements-ray.txt, or pip install 'psycopg[binary]')"
        ) from exc
    try:
        # Autocommit, and every operation opens its own transaction block.
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(redact(url), exc) from exc
