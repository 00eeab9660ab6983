"""End to end: evaluate the COCO subset, open the Errors group's Error types tab, click an
error type and land in its error browser with the image drawn, in headless Chromium."""

from __future__ import annotations

import pytest

from tests.e2e_server import browser_page, running_app, wait_until_idle

pytestmark = pytest.mark.e2e


def test_click_an_error_type_and_land_in_the_error_browser(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    with running_app(tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/evaluate")
        wait_until_idle(page)
        page.get_by_role("button", name="Evaluate").click()
        page.get_by_text("mAP50-95").first.wait_for(timeout=300_000)
        wait_until_idle(page, 300_000)
        page.get_by_role("tab", name="Errors", exact=True).click()
        wait_until_idle(page)
        page.get_by_role("tab", name="Error types").click()
        chart = page.locator(".js-plotly-plot").filter(has_text="TIDE error types")
        chart.first.wait_for(state="visible", timeout=60_000)
        radio = page.locator("[data-testid='stRadio']").filter(
            has_text="Browse the images of one error type"
        )
        radio.get_by_text("missed", exact=True).click()
        wait_until_idle(page)
        page.get_by_text("Error browser: missed errors").wait_for(timeout=60_000)
        panel = page.get_by_role("tabpanel").filter(has_text="Error browser: missed")
        image = panel.locator("[data-testid='stImage'] img").first
        image.wait_for(state="visible", timeout=60_000)
        # drawn and delivered: the browser has decoded the picture
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=image.element_handle(),
            timeout=60_000,
        )
        assert panel.get_by_text("Thick magenta").count() == 1
        page.screenshot(path=str(tmp_path / "error_types.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
