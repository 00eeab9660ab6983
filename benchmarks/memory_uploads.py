"""Server memory under large uploads: solid-colour PNGs just under the pixel limit.

Such a PNG is about 130 KB on the wire and 40 megapixels decoded. The real server
(``streamlit run``) is driven by headless Chromium: sessions one after another, each
uploading its images one at a time on Compare (every image a new colour, so nothing is a
cache hit), then closing. The server's resident memory (RSS, from ``/proc``) is read when
idle (after one warm-up visit that loads the models, its session closed), at its peak
during the uploads, and after the sessions end (Streamlit keeps a closed session for
``server.disconnectedSessionTTL``, 120 s, so the figure is read 135 s after closing).

Target: peak under 2.5 GB and, after the sessions end, within 300 MB of idle.

Usage: python -m benchmarks.memory_uploads [--uploads 20] [--per-session 5]
       [--app-dir DIR]  (another checkout of the app, e.g. to measure an older version)
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.app_server import (
    READY,
    REPO,
    SESSION_TTL_S,
    RssSampler,
    app_server,
    chromium,
    machine,
    open_upload,
    rss_mb,
    upload_and_wait,
)

SIZE = (7900, 5050)
"""39.9 megapixels: just under the default 40-megapixel limit."""


def solid_png(n: int) -> dict:
    """The n-th upload: a solid PNG of its own colour."""
    colour = (37 * n % 256, 91 * n % 256, 173 * n % 256)
    buffer = io.BytesIO()
    Image.new("RGB", SIZE, colour).save(buffer, "PNG", optimize=False)
    return {"name": f"solid-{n:02d}.png", "mimeType": "image/png",
            "buffer": buffer.getvalue()}  # fmt: skip


def settle(pid: int, seconds: float = 15.0) -> float:
    """RSS after a pause."""
    time.sleep(seconds)
    return rss_mb(pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--per-session", type=int, default=5)
    parser.add_argument("--app-dir", type=Path, default=REPO)
    args = parser.parse_args()
    files = [solid_png(n) for n in range(args.uploads)]
    rows = []
    started = time.perf_counter()
    with app_server(args.app_dir) as (url, pid), chromium() as browser:
        start_rss = rss_mb(pid)
        warm = open_upload(browser, url)  # loads both models on the default sample
        warm.context.close()
        idle = settle(pid)
        sampler = RssSampler(pid)
        for first in range(0, args.uploads, args.per_session):
            page = open_upload(browser, url)
            batch = files[first : first + args.per_session]
            for n, item in enumerate(batch, 1):
                upload_and_wait(page, [item], shown=n)
                rows.append((item["name"], rss_mb(pid), sampler.peak))
            page.context.close()
        peak = sampler.peak
        sampler.stop()
        soon = settle(pid)
        after = settle(pid, SESSION_TTL_S)
        page = open_upload(browser, url)  # the app still works afterwards
        page.wait_for_selector(READY)
        page.context.close()
    print(f"machine: {machine()}, Python {platform.python_version()}")
    print(f"app: {args.app_dir}; {len(files)} uploads of {SIZE[0]}x{SIZE[1]} solid PNGs "
          f"({len(files[0]['buffer']) / 1024:.0f} KB each), {args.per_session} per session; "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    print()
    print("| upload | RSS after it (MB) | peak so far (MB) |")
    print("|---|---:|---:|")
    for name, rss, top in rows:
        print(f"| {name} | {rss:.0f} | {top:.0f} |")
    print()
    print("| server RSS | MB |")
    print("|---|---:|")
    print(f"| at start (no session) | {start_rss:.0f} |")
    print(f"| idle (models loaded, warm-up session closed) | {idle:.0f} |")
    print(f"| peak during the uploads | {peak:.0f} (target < 2560) |")
    print(
        f"| 15 s after the sessions closed | {soon:.0f} ({soon - idle:+.0f} vs idle) |"
    )
    print(f"| {SESSION_TTL_S + 15} s after: the sessions ended | {after:.0f} "
          f"({after - idle:+.0f} vs idle; target within 300) |")  # fmt: skip


if __name__ == "__main__":
    main()
