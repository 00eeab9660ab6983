"""Start the real app with ``streamlit run`` on a free loopback port, and a browser for it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO, require_file

CHROMIUM = Path(os.environ.get("VISIONCOMPARE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(
    log_path: Path, app_dir: Path = REPO, **env_vars: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` on a free 127.0.0.1 port; yields (URL, process) once it
    answers its health check, and stops it afterwards.

    Raises:
        RuntimeError: it exited early or did not answer within 120 s (the log names why).
    """
    port = free_port()
    env = {**os.environ, "YOLO_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env_vars}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"streamlit exited early:\n{log_path.read_text()}"
                    )
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(
                        f"{url}/_stcore/health", timeout=2
                    ) as r:
                        if r.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"streamlit did not start:\n{log_path.read_text()}"
                    )
                time.sleep(0.5)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def running_app(log_path: Path, **env_vars: str) -> Iterator[str]:
    """The app for a browser test; yields its URL."""
    with streamlit_server(log_path, **env_vars) as (url, _):
        yield url


@contextlib.contextmanager
def browser_page(extra_flags: tuple[str, ...] = ()) -> Iterator[object]:
    """A Playwright page in Debian's headless Chromium (Playwright cannot fetch its own)."""
    from playwright.sync_api import sync_playwright

    require_file(CHROMIUM)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_FLAGS, *extra_flags],
            headless=True,
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
        finally:
            browser.close()


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait for Streamlit to start and then finish a script run."""
    page.wait_for_selector(READY, timeout=timeout_ms)


def metric_value(page, label: str) -> str:
    """The value shown by the st.metric with this label."""
    card = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text()


def nudge_slider(page, index: int, changed, key: str = "ArrowRight") -> float:
    """Move the index-th slider one step with the keyboard and wait until ``changed()``
    is true with the app idle again; returns the seconds that took."""
    import time

    thumb = page.locator("[data-testid='stSlider'] input[type='range']").nth(index)
    thumb.focus()
    start = time.perf_counter()
    thumb.press(key)
    deadline = start + 60
    while time.perf_counter() < deadline:
        if page.locator(READY).count() and changed():
            return time.perf_counter() - start
        time.sleep(0.01)
    raise AssertionError("the page did not update after the slider moved")
