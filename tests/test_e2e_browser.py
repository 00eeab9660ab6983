"""End to end: the real app in headless Chromium, driven like a user would."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.e2e_server import (
    FIRST_PAINT,
    browser_page,
    chromium,
    file_name_labels,
    running_app,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("e2e") / "streamlit.log") as url:
        yield url


def test_the_first_visit_shows_the_title_and_a_status_before_the_panels(app_url):
    """First in this module: the fresh server's first visitor, sampled from the first
    paint on (timings: benchmarks/cold_start.py)."""
    with browser_page() as page:
        page.add_init_script(FIRST_PAINT)
        page.goto(app_url)
        page.get_by_text("Top-1:").first.wait_for(timeout=180_000)
        page.locator("[data-testid='stImage'] img").first.wait_for(timeout=60_000)
        page.wait_for_function(
            "['panels', 'pickers'].every(k => k in window.__firstPaint.seen)",
            timeout=60_000,
        )
        shown = page.evaluate("window.__firstPaint")
        # What the page drew out of sight while the models loaded is gone with the status.
        assert page.locator(".st-key-front_end_preload").count() == 0
        # The heading the HTML brought gave way to Streamlit's own: one heading left.
        assert page.locator("#page-shell").count() == 0
        assert page.locator("h1").count() == 1
    seen = shown["seen"]
    assert file_name_labels(shown["navs"]) == [], shown["navs"]
    assert shown["navs"][0][:2] == ["Compare", "Live"], shown["navs"]
    assert shown["titles"] == ["Classification vs detection"]
    # The heading and the status come first; the status is gone before the panels.
    assert seen["title"] <= seen["status"] <= seen["loaded"] <= seen["panels"], seen
    assert seen["title"] <= seen["pickers"], seen


def test_the_pages_heading_and_status_come_with_its_html(app_url):
    """Painted before Streamlit's JavaScript has run at all (here: never), on any page."""
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        for path, heading in (("", "Classification vs detection"),
                              ("evaluate", "Evaluate on held-out data")):  # fmt: skip
            page.goto(f"{app_url}/{path}")
            title = page.get_by_role("heading", level=1)
            assert title.inner_text() == heading and title.is_visible()
            status = page.get_by_role("status")
            assert status.is_visible()
            assert status.inner_text().startswith(
                ("Loading the models", "Loading the page")
            )
        context.close()


def test_upload_shows_the_detection_image_and_the_classification_chart(
    app_url, tmp_path
):
    with browser_page() as page:
        page.goto(app_url)
        wait_until_idle(page)
        # First load: a sample is already analysed.
        page.get_by_role("heading", name="bus.jpg").wait_for(timeout=120_000)
        page.locator("[data-testid='stImage'] img").first.wait_for(timeout=60_000)

        page.get_by_text("Upload", exact=True).click()
        page.locator("input[type='file']").wait_for(state="attached", timeout=60_000)
        page.locator("input[type='file']").set_input_files(
            str(REPO / "sample_images" / "horses.jpg")
        )
        page.get_by_role("heading", name="horses.jpg").wait_for(timeout=120_000)
        wait_until_idle(page)
        image = page.locator("[data-testid='stImage'] img").first
        image.wait_for(state="visible", timeout=120_000)
        chart = page.locator(".js-plotly-plot").first
        chart.wait_for(state="visible", timeout=120_000)
        assert image.evaluate("img => img.naturalWidth") > 100
        assert page.get_by_text("Top-1:").count() == 1
        assert page.get_by_text("horse ×").count() == 1
        page.screenshot(path=str(tmp_path / "compare-upload.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0


def test_first_results_are_above_the_fold_at_1440_by_900(app_url, tmp_path):
    with browser_page() as page:
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(app_url)
        wait_until_idle(page)
        image = page.locator("[data-testid='stImage'] img").first
        image.wait_for(state="visible", timeout=120_000)
        top1 = page.get_by_text("Top-1:").first
        top1.wait_for(timeout=60_000)
        wait_until_idle(page)
        page.screenshot(path=str(tmp_path / "compare-fold.png"))
        # Both panels start on the first screen: the classifier's answer and the top
        # half of the detector's image are visible without scrolling.
        assert top1.bounding_box()["y"] + 30 < 900
        box = image.bounding_box()
        assert box["y"] + box["height"] / 2 < 900, box
