"""The predictions store's write cost per batch, SQLite against PostgreSQL: what a Ray
driver (one transaction per arriving batch) or a replica pays per stored batch.

Each batch is one ``put_payloads`` transaction of ``--batch`` images, each image a typical
evaluation payload (``--boxes`` boxes at confidence 0.001: xyxy, scores, class ids). Then
four processes write overlapping images of one run at once (rows per second overall).

Usage: python -m benchmarks.store_writes [--postgres URL] [--batches 500] [--batch 1]
       [--boxes 300]   (URL default: $VISIONCOMPARE_TEST_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from visioncompare.evaluation.store import PredictionStore, pack_detections  # noqa: E402
from visioncompare.kernel.types import Detections  # noqa: E402


def _payload(boxes: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 600, (boxes, 2))
    xyxy = np.concatenate([xy, xy + rng.uniform(1, 100, (boxes, 2))], 1)
    det = Detections(xyxy.astype(np.float32), rng.uniform(0.001, 1, boxes),
                     rng.integers(0, 80, boxes), tuple(f"c{i}" for i in range(80)))  # fmt: skip
    return pack_detections(det)


def _write(
    url: str, key: str, ids: list[int], batch: int, payload: bytes
) -> tuple[float, float]:
    """Writes ``ids`` in batches; returns the (start, end) wall-clock times of the writes
    (the process's start-up and the connection left out)."""
    store = PredictionStore(url)
    store.begin(key, "detect", {}, total=len(ids))
    started = time.time()
    for start in range(0, len(ids), batch):
        store.put_payloads(key, [(i, payload) for i in ids[start : start + batch]])
    ended = time.time()
    store.close()
    return started, ended


def measure(url: str, batches: int, batch: int, payload: bytes) -> tuple[float, float]:
    """(ms per batch, one writer; rows/s, four concurrent writers)."""
    ids = list(range(batches * batch))
    started, ended = _write(url, "one", ids, batch, payload)
    one = 1000 * (ended - started) / batches
    # Four writers, each a quarter of the images plus half of its neighbour's (overlap).
    quarter = len(ids) // 4
    parts = [ids[max(0, w * quarter - quarter // 2) : (w + 1) * quarter] for w in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        spans = pool.starmap(_write, [(url, "four", p, batch, payload) for p in parts])
    rows = sum(len(p) for p in parts)
    four = max(e for _, e in spans) - min(s for s, _ in spans)
    store = PredictionStore(url)
    assert store.count("four") == len(ids) and store.count("one") == len(ids)
    return one, rows / four


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("VISIONCOMPARE_TEST_POSTGRES_URL"))
    parser.add_argument("--batches", type=int, default=500)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--boxes", type=int, default=300)
    args = parser.parse_args()
    payload = _payload(args.boxes, 0)
    urls = {"SQLite (WAL)": str(Path(tempfile.mkdtemp()) / "p.sqlite")}
    if args.postgres:
        import psycopg

        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS visioncompare_bench WITH (FORCE)")
            admin.execute("CREATE DATABASE visioncompare_bench")
        urls["PostgreSQL (127.0.0.1)"] = args.postgres.rsplit("/", 1)[0] + "/visioncompare_bench"
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs; {args.batches} batches of "
          f"{args.batch}, payload {len(payload) / 1024:.1f} KiB ({args.boxes} boxes)\n")
    print("| store | ms per batch, one writer | rows written/s, four writers at once |")
    print("|---|---:|---:|")
    for name, url in urls.items():
        one, four = measure(url, args.batches, args.batch, payload)
        print(f"| {name} | {one:.2f} | {four:.0f} |")


if __name__ == "__main__":
    main()
