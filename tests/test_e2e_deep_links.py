"""End to end: on a fresh server, many first visits at once straight to a page's URL each
get the router (its sidebar pickers and page titles), never the file-name navigation."""

from __future__ import annotations

import time

import pytest

from tests.conftest import require_file
from tests.e2e_server import CHROMIUM, CHROMIUM_FLAGS, READY, running_app

pytestmark = pytest.mark.e2e

LINKS = ("evaluate", "learn", "models", "video", "evaluate", "learn", "models", "")
"""Eight first visits: six deep links and the front page, at the same moment."""


def test_concurrent_deep_links_on_a_fresh_server_all_get_the_router(tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    require_file(CHROMIUM)
    with (
        running_app(tmp_path / "streamlit.log") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            pages = [browser.new_context().new_page() for _ in LINKS]
            for page, link in zip(pages, LINKS):
                page.goto(f"{url}/{link}", wait_until="commit")
            results = []
            deadline = time.monotonic() + 240
            for page, link in zip(pages, LINKS):
                sidebar = page.locator("[data-testid='stSidebar']")
                picker = sidebar.get_by_text("Classifier (torchvision)")
                try:
                    picker.wait_for(
                        timeout=max(1.0, deadline - time.monotonic()) * 1000
                    )
                except PlaywrightTimeout:
                    pass
                page.wait_for_selector(READY, timeout=60_000)
                nav = sidebar.locator("[data-testid='stSidebarNav']").inner_text()
                results.append(
                    (link, picker.count() > 0, "Compare" in nav, "app" in nav.split())
                )
        finally:
            browser.close()
    broken = [r for r in results if not (r[1] and r[2]) or r[3]]
    assert not broken, f"(link, pickers, router titles, file names): {broken}"
