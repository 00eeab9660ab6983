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
def chromium(extra_flags: tuple[str, ...] = ()) -> Iterator[object]:
    """A Playwright browser: Debian's headless Chromium (Playwright cannot fetch its own
    here), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_FLAGS, *extra_flags],
            headless=True,
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def browser_page(extra_flags: tuple[str, ...] = ()) -> Iterator[object]:
    """A Playwright page in ``chromium``; a missing Chromium fails the test."""
    require_file(CHROMIUM)
    with chromium(extra_flags) as browser:
        yield browser.new_page(viewport={"width": 1400, "height": 1000})


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait for Streamlit to start and then finish a script run."""
    page.wait_for_selector(READY, timeout=timeout_ms)


def press_camera_start(frame, attempts: int = 3) -> int:
    """Press streamlit-webrtc's START (in its iframe ``frame``) until it answers with
    STOP; returns the presses it took. A press in the first second or two after the
    frame draws can be lost while the component is still receiving its first arguments
    (it stays at START, nothing is sent); a viewer presses again, and so does this.

    Raises:
        AssertionError: still at START after ``attempts`` presses.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, attempts + 1):
        frame.get_by_role("button", name="START").click(timeout=60_000)
        try:
            frame.get_by_role("button", name="STOP").wait_for(timeout=10_000)
            return attempt
        except PlaywrightTimeout:
            continue
    raise AssertionError("the camera component never left START")


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


FILE_NAMES = ("app", "compare", "evaluate", "learn", "live", "models", "video")
"""The labels Streamlit's own file-name navigation gives app.py and the page scripts."""

FIRST_PAINT = """
(() => {
  const seen = {};
  const state = {seen, navs: [], titles: []};
  window.__firstPaint = state;
  const stamp = (name) => { if (!(name in seen)) seen[name] = Date.now(); };
  const check = () => {
    if (document.querySelector("[data-testid='stApp']")) stamp("shell");
    const links = [...document.querySelectorAll("[data-testid='stSidebarNav'] a")];
    if (links.length) {
      stamp("nav");
      // A link's last line is its label (a material icon's name comes first).
      const labels = links.map(a => a.innerText.trim().split("\\n").pop().trim());
      if (!state.navs.some(n => n.join("|") === labels.join("|"))) state.navs.push(labels);
    }
    const h1 = document.querySelector("h1");
    if (h1) {
      stamp("title");
      if (!state.titles.includes(h1.textContent)) state.titles.push(h1.textContent);
    }
    const body = document.body ? document.body.textContent : "";
    if (body.includes("Loading the models")) stamp("status");
    else if ("status" in seen) stamp("loaded");
    const sidebar = document.querySelector("[data-testid='stSidebar']");
    if (sidebar && sidebar.textContent.includes("Classifier (torchvision)")) stamp("pickers");
    if (body.includes("Top-1:")) stamp("top-1");
    // What the page draws out of sight while the models load does not count.
    const shown = (selector) => [...document.querySelectorAll(selector)].some(
      (e) => !e.closest(".st-key-front_end_preload"));
    if (body.includes("Top-1:") && shown(".js-plotly-plot")) stamp("classification");
    if (shown("[data-testid='stImage'] img")) stamp("detection");
    if ("classification" in seen && "detection" in seen) stamp("panels");
  };
  // One check per animation frame at most: textContent needs no layout, and checking on
  // every mutation would itself slow the page it times.
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; check(); });
  };
  new MutationObserver(schedule).observe(document, {
    subtree: true, childList: true, characterData: true,
  });
  document.addEventListener("DOMContentLoaded", check);
})();
"""
"""JavaScript for ``page.add_init_script``: from the first paint on, the page is checked
before each frame in which the DOM changed, and the wall-clock moment (``Date.now()``, ms)
each of these is first seen is kept in ``window.__firstPaint.seen``: ``shell``
(Streamlit's app frame), ``nav`` (the sidebar's page links), ``title`` (an ``h1``),
``status`` ("Loading the models"), ``loaded`` (the status gone), ``pickers`` (the
sidebar's model pickers), ``top-1`` (the classifier's Top-1 line), ``classification``
(that line and its chart), ``detection`` (the detector's picture), ``panels`` (both).
What the loading status draws out of sight (``.st-key-front_end_preload``) does not
count. ``navs``: every distinct list of link labels shown; ``titles``: every ``h1``
text shown."""


def file_name_labels(navs: list[list[str]]) -> list[str]:
    """The labels of Streamlit's file-name navigation among those ever shown."""
    return sorted({label for labels in navs for label in labels if label in FILE_NAMES})
