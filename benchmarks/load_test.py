"""Load test: concurrent browser sessions uploading new images on Compare, round after
round, with the server's memory recorded per round.

The real server (``streamlit run``, 127.0.0.1 only) and headless Chromium: ``--sessions``
sessions open Compare at once and switch to uploads; then, for ``--rounds`` rounds, every
session uploads a new photo-sized JPEG (each one different, so no cache hits) at the same
moment and the round ends when every session shows its new image's panels. Per round: the
wall time, the server's RSS after the round and its peak during it. Bounded: fixed numbers
of sessions, rounds and images, a time limit per round, loopback only.

Usage: python -m benchmarks.load_test [--sessions 8] [--rounds 5] [--side 3000]
"""

from __future__ import annotations

import io
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks import app_server as server
from benchmarks.app_server import server_parser

ROUND_LIMIT_S = 240


def photo(session: int, round_: int, side: int) -> dict:
    """A new JPEG for one session and round: a bundled photo, resized, tinted and noised
    differently each time."""
    rng = np.random.default_rng(1000 * round_ + session)
    source = Path(__file__).resolve().parent.parent / "sample_images" / "horses.jpg"
    image = Image.open(source).convert("RGB")
    image = image.resize((side, side * image.height // image.width))
    pixels = np.asarray(image, np.int16) + rng.integers(-12, 13, 3, dtype=np.int16)
    pixels = pixels + rng.integers(-4, 5, pixels.shape, dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
        buffer, "JPEG", quality=90
    )
    return {"name": f"s{session}-r{round_}.jpg", "mimeType": "image/jpeg",
            "buffer": buffer.getvalue()}  # fmt: skip


def shown(page, name: str, images: int) -> bool:
    """True when the page is idle, shows its newest upload and has ``images`` detection
    images (one per upload so far)."""
    if not page.locator(server.READY).count():
        return False
    headings = page.get_by_role("heading", name=name)
    return (
        headings.count() > 0
        and page.locator("[data-testid='stImage']").count() >= images
    )


def main() -> None:
    parser = server_parser(__doc__)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--side", type=int, default=3000, help="upload width in pixels")
    args = parser.parse_args()
    uploads = [
        [photo(s, r, args.side) for s in range(args.sessions)]
        for r in range(args.rounds)
    ]
    rows = []
    started = time.perf_counter()
    with server.app_server(args.app_dir) as (url, pid), server.chromium() as browser:
        idle = server.rss_mb(pid)
        sampler = server.RssSampler(pid)
        pages = [server.open_upload(browser, url) for _ in range(args.sessions)]
        rows.append(("sessions open (sample analysed)", time.perf_counter() - started,
                     server.rss_mb(pid), sampler.peak))  # fmt: skip
        for round_, files in enumerate(uploads, 1):
            sampler.reset()
            start = time.perf_counter()
            for page, item in zip(pages, files):
                page.locator("input[type='file']").set_input_files([item])
            waiting = list(zip(pages, files))
            while waiting:
                if time.perf_counter() - start > ROUND_LIMIT_S:
                    raise TimeoutError(f"round {round_} took over {ROUND_LIMIT_S} s")
                waiting = [
                    (p, f) for p, f in waiting if not shown(p, f["name"], round_)
                ]
                time.sleep(0.2)
            errors = sum(
                p.locator("[data-testid='stException']").count() for p in pages
            )
            if errors:
                raise AssertionError(
                    f"round {round_}: {errors} pages show an exception"
                )
            rows.append((f"round {round_}", time.perf_counter() - start, server.rss_mb(pid),
                         sampler.peak))  # fmt: skip
        sampler.stop()
        for page in pages:
            page.context.close()
        time.sleep(15)
        soon = server.rss_mb(pid)
        time.sleep(server.SESSION_TTL_S)
        after = server.rss_mb(pid)
    size = len(uploads[0][0]["buffer"]) / 1e6
    print(f"machine: {server.machine()}, Python {platform.python_version()}")
    print(f"app: {args.app_dir}")
    print(f"{args.sessions} sessions x {args.rounds} rounds, uploads {args.side} px wide "
          f"(~{size:.1f} MB JPEG); total {time.perf_counter() - started:.0f} s")  # fmt: skip
    print()
    print("| step | wall s | RSS after (MB) | peak during (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| server idle, no session | | {idle:.0f} | |")
    for name, seconds, rss, peak in rows:
        print(f"| {name} | {seconds:.1f} | {rss:.0f} | {peak:.0f} |")
    print(f"| 15 s after the sessions closed | | {soon:.0f} | |")
    print(
        f"| {server.SESSION_TTL_S + 15} s after: the sessions ended | | {after:.0f} | |"
    )


if __name__ == "__main__":
    main()
