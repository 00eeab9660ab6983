"""End to end: a first visit straight to /evaluate, an evaluation of the COCO subset, and the
threshold explorer, in headless Chromium."""

from __future__ import annotations

import csv

import pytest

from tests.e2e_server import (
    browser_page,
    metric_value,
    nudge_slider,
    running_app,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e


def test_deep_link_evaluate_coco_subset_and_move_a_threshold(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    with running_app(tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/evaluate")  # the first visit to a fresh server is a deep link
        wait_until_idle(page)
        # The page runs behind the router: the shared sidebar is there.
        page.get_by_text("Classifier (torchvision)").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Evaluate").click()
        page.get_by_text("mAP50-95").first.wait_for(timeout=300_000)
        wait_until_idle(page, 300_000)
        pr = page.locator(".js-plotly-plot").filter(has_text="Precision-recall").first
        pr.wait_for(state="visible", timeout=60_000)
        assert float(metric_value(page, "mAP50-95")) == pytest.approx(0.389, abs=0.002)
        fp_before = int(metric_value(page, "FP"))
        # confidence 0.25 -> 0.30: fewer false positives once the rerun has finished
        seconds = nudge_slider(
            page, 0, lambda: int(metric_value(page, "FP")) < fp_before
        )
        assert int(metric_value(page, "FP")) < fp_before
        print(
            f"\nbrowser: confidence slider to updated page in {seconds * 1000:.0f} ms"
        )
        # Downloads: the per-image CSV is written on the click, at the new threshold:
        # its false positives are those of the metric card.
        wait_until_idle(page)
        page.get_by_role("tab", name="Downloads").click()
        button = page.get_by_role("button", name="Per-image results (CSV)")
        button.wait_for(timeout=60_000)
        with page.expect_download(timeout=60_000) as download:
            button.click()
        rows = list(csv.DictReader(open(download.value.path())))
        assert rows and {"image_id", "kind", "score"} <= set(rows[0])
        kinds = [row["kind"] for row in rows]
        assert kinds.count("FP") == int(metric_value(page, "FP"))
        with page.expect_download(timeout=60_000) as again:  # a second click at once
            button.click()
        assert list(csv.DictReader(open(again.value.path()))) == rows
        page.screenshot(path=str(tmp_path / "evaluate.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
