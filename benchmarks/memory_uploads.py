"""Server memory under large uploads: solid-colour PNGs just under the pixel limit.

Such a PNG is about 130 KB on the wire and 40 megapixels decoded. The real server
(``streamlit run``) is driven by headless Chromium: sessions one after another, each
uploading its images one at a time on Compare (every image a new colour, so nothing is a
cache hit), then closing. The server's resident memory (RSS, from ``/proc``) is read when
idle (after one warm-up visit that loads the models, its session closed), at its peak
during the uploads, and after the sessions end (Streamlit keeps a closed session for
``server.disconnectedSessionTTL``, 120 s, so the figure is read 135 s after closing).

Target: peak under 2.5 GB and, after the sessions end, within 300 MB of idle.

``--evaluate N`` measures the Evaluate page instead (issue #24): N sessions one after
another, each opening Evaluate on the bundled COCO subset, uploading the same seeded
24.5 MB predictions file (330,934 entries, 10,000 boxes per image:
``benchmarks.scale_files``), waiting for the scored page and closing. RSS is read
idle (after a warm-up session), 15 s after each session closed, and 135 s after the
last. Target: within 200 MB of idle at the end.

Usage: python -m benchmarks.memory_uploads [--uploads 20] [--per-session 5]
       [--evaluate 10] [--app-dir DIR]  (another checkout, e.g. to measure an older one)
"""

from __future__ import annotations

import io
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.app_server import (
    READY,
    SESSION_TTL_S,
    RssSampler,
    app_server,
    chromium,
    machine,
    open_upload,
    rss_mb,
    server_parser,
    upload_and_wait,
)

DETECTOR, DETECTOR_TITLE = "yolov8n-int8", "YOLOv8n (INT8, OpenVINO)"
"""The Evaluate page's default detector, removed so that only the upload is scored."""
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


def _settled(page) -> None:
    """Idle, and still idle a moment later (a click's rerun may not have started)."""
    from tests.e2e_server import wait_until_idle

    for _ in range(2):
        wait_until_idle(page, 600_000)
        time.sleep(1.0)
    wait_until_idle(page, 600_000)


def evaluate_session(browser, url: str, predictions: Path) -> float:
    """One visitor: Evaluate on the COCO subset with only the uploaded predictions file
    (no detector, no classifier), scored, then the tab closed. A predictions file alone
    is scored at once; should the upload land while a click's rerun replaces the
    uploader, it is uploaded again, and Evaluate pressed if the page still waits.
    Returns the seconds from the upload to the scored page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/evaluate")
    _settled(page)
    # the default detector's chip, named by its id or its title
    chip = re.compile(rf"^Remove ({re.escape(DETECTOR)}|{re.escape(DETECTOR_TITLE)})")
    page.get_by_role("button", name=chip).first.click()
    page.get_by_text("Pick at least one detector").wait_for(timeout=120_000)
    _settled(page)
    toggle = page.get_by_role("switch", name="Also score the classifier")
    while toggle.is_checked():
        page.get_by_text("Also score the classifier").first.click()
        _settled(page)
    started = time.perf_counter()
    uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    card = page.get_by_text("mAP50-95").first
    for _ in range(3):
        uploader.set_input_files(str(predictions))
        try:
            page.get_by_text(predictions.name).first.wait_for(timeout=60_000)
            card.wait_for(timeout=300_000)
            break
        except Exception:
            if page.get_by_text(predictions.name).count():  # uploaded, not scored
                page.get_by_role("button", name="Evaluate").click()
                card.wait_for(timeout=300_000)
                break
    if not card.count():
        shot = Path(tempfile.gettempdir()) / "memory_uploads_failed.png"
        page.screenshot(path=str(shot), full_page=True)
        raise RuntimeError(f"not scored (screenshot {shot}):\n{page.inner_text('body')}")
    _settled(page)
    seconds = time.perf_counter() - started
    if page.locator("[data-testid='stException']").count():
        raise RuntimeError(page.inner_text("[data-testid='stException']"))
    context.close()
    return seconds


def evaluate_main(args) -> None:
    """``--evaluate N``: N Evaluate sessions uploading the 24.5 MB predictions file."""
    from benchmarks.scale_files import dense_coco_predictions

    folder = Path(tempfile.mkdtemp(prefix="visioncompare-bench-"))
    predictions = dense_coco_predictions(folder / "predictions.json")
    size_mb = predictions.stat().st_size / 1e6
    rows = []
    started = time.perf_counter()
    with app_server(args.app_dir) as (url, pid), chromium() as browser:
        start_rss = rss_mb(pid)
        warm = open_upload(browser, url)  # loads both models, as a first visitor does
        warm.context.close()
        idle = settle(pid)
        sampler = RssSampler(pid)
        for n in range(1, args.evaluate + 1):
            seconds = evaluate_session(browser, url, predictions)
            rows.append((n, seconds, settle(pid), sampler.peak))
        peak = sampler.peak
        sampler.stop()
        after = settle(pid, SESSION_TTL_S)
        page = open_upload(browser, url)  # the app still works afterwards
        page.wait_for_selector(READY)
        page.context.close()
    print(
        f"machine: {machine()}, Python {platform.python_version()}, "
        f"load average at the end {Path('/proc/loadavg').read_text().split()[0]}"
    )
    print(f"app: {args.app_dir}; {args.evaluate} sessions, each uploading a "
          f"{size_mb:.1f} MB predictions file on Evaluate (COCO subset), scored, closed; "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    print()
    print("| session | upload to scored page (s) | RSS 15 s after it closed (MB) | "
          "peak so far (MB) |\n|---|---:|---:|---:|")  # fmt: skip
    for n, seconds, rss, top in rows:
        print(f"| {n} | {seconds:.1f} | {rss:.0f} ({rss - idle:+.0f}) | {top:.0f} |")
    print()
    print("| server RSS | MB |\n|---|---:|")
    print(f"| at start (no session) | {start_rss:.0f} |")
    print(f"| idle (models loaded, warm-up session closed) | {idle:.0f} |")
    print(f"| peak during the sessions | {peak:.0f} |")
    print(f"| {SESSION_TTL_S + 15} s after the last session closed | {after:.0f} "
          f"({after - idle:+.0f} vs idle; target within 200) |")  # fmt: skip


def main() -> None:
    parser = server_parser(__doc__)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--per-session", type=int, default=5)
    parser.add_argument("--evaluate", type=int, default=0, metavar="SESSIONS")
    args = parser.parse_args()
    if args.evaluate:
        evaluate_main(args)
        return
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
