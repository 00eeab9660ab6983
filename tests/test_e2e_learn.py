"""End to end: walk the Learn page in headless Chromium."""

from __future__ import annotations

import pytest

from tests.e2e_server import browser_page, running_app, wait_until_idle
from tests.test_app_learn import SECTIONS

pytestmark = pytest.mark.e2e


def test_walk_the_learn_page(tmp_path):
    with running_app(tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/learn")
        wait_until_idle(page)
        page.get_by_text(SECTIONS[-1]).wait_for(timeout=180_000)
        wait_until_idle(page)
        for title in SECTIONS:
            heading = page.get_by_role("heading", name=title)
            heading.scroll_into_view_if_needed()
            assert heading.is_visible(), title
        images = page.locator("[data-testid='stImage'] img")
        assert images.count() >= 7
        assert all(
            images.nth(i).evaluate("img => img.naturalWidth") > 0 for i in range(7)
        )
        assert page.locator(".js-plotly-plot").count() >= 5
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(tmp_path / "learn.png"), full_page=True)
