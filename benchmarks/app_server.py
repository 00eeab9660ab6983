"""The real app for the browser benchmarks: ``streamlit run app.py`` on 127.0.0.1, its
resident memory sampled from ``/proc`` (Linux), and headless Chromium sessions."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e_server import (  # noqa: E402  (the browser tests' own server and browser)
    READY,
    streamlit_server,
)
from tests.e2e_server import chromium as chromium  # noqa: E402  (re-exported)


def server_parser(doc: str) -> argparse.ArgumentParser:
    """A browser benchmark's command line: its module docstring's first paragraph as the
    description, and ``--app-dir`` (the checkout whose app is served; another one, such as
    an older commit, gives a baseline measured the same way)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--app-dir", type=Path, default=REPO, help="another checkout (a baseline)"
    )
    return parser


SESSION_TTL_S = 120
"""Streamlit keeps a closed session (its state, uploads, media) this long for a reconnect
(``server.disconnectedSessionTTL``, default 120 s) before it may clean it up."""


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (``VmRSS`` in ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class RssSampler:
    """Samples a process's RSS every ``interval`` seconds in a thread; ``peak`` since
    the last ``reset``."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak = rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError, RuntimeError):
                self.peak = max(self.peak, rss_mb(self.pid))

    def reset(self) -> None:
        self.peak = rss_mb(self.pid)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def app_server(app_dir: Path = REPO, **env_vars: str) -> Iterator[tuple[str, int]]:
    """Start the app on a free loopback port with its own runs folder; yields
    (URL, server pid)."""
    runs = tempfile.mkdtemp(prefix="visioncompare-bench-")
    log = Path(tempfile.mkstemp(prefix="streamlit-", suffix=".log")[1])
    with streamlit_server(
        log, app_dir, **{"VISIONCOMPARE_RUNS": runs, **env_vars}
    ) as (url, proc):
        yield url, proc.pid


def open_upload(browser, url: str):
    """A new session on Compare with the upload source picked; returns its page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.wait_for_selector(READY, timeout=300_000)
    page.get_by_text("Upload", exact=True).click()
    page.locator("input[type='file']").wait_for(state="attached", timeout=120_000)
    return page


def upload_and_wait(
    page, files: list[dict], shown: int, timeout_ms: int = 300_000
) -> None:
    """Upload files (Playwright payloads: name, mimeType, buffer; the uploader adds them
    to those already there) and wait until ``shown`` images have their detection panel
    or their own error message."""
    page.locator("input[type='file']").set_input_files(files)
    for item in files:
        page.get_by_role("heading", name=item["name"]).wait_for(timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if page.locator(READY).count():
            done = page.locator("[data-testid='stImage']").count()
            errors = page.locator("[data-testid='stAlertContentError']").count()
            if done + errors >= shown:
                return
        time.sleep(0.1)
    raise TimeoutError("the uploads were not analysed in time")


def machine() -> str:
    """The machine in words: CPU model, cores, memory."""
    cpu = next(
        (line.split(":", 1)[1].strip()
         for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown CPU",
    )  # fmt: skip
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB"
