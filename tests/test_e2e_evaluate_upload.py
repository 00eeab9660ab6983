"""End to end in headless Chromium: a visitor uploads a COCO dataset archive (8 images of
the bundled subset) and a predictions file, reaches the mAP card with pycocotools'
number, and the session's upload folder is gone once the tab closes."""

from __future__ import annotations

import json
import re
import time

import pytest

from model_zoo.registry import get_spec
from tests.e2e_server import browser_page, metric_value, running_app, wait_until_idle
from tests.upload_builders import (
    coco_archive,
    coco_subset,
    jittered_predictions,
    pycocotools_stats,
)

pytestmark = pytest.mark.e2e


def session_folders(uploads):
    return sorted(p.name for p in uploads.glob("server-*/*"))


def test_upload_dataset_and_predictions_reach_the_map_card(tmp_path, monkeypatch):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    subset = coco_subset(8)
    predictions = jittered_predictions(subset, seed=7)
    archive = tmp_path / "mini.zip"
    archive.write_bytes(coco_archive(8))
    results = tmp_path / "predictions.json"
    results.write_text(json.dumps(predictions))
    expected = pycocotools_stats(subset, predictions)
    uploads = tmp_path / "uploads"
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("VISIONCOMPARE_UPLOADS_DIR", str(uploads))
    with running_app(tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/evaluate")
        wait_until_idle(page)
        page.locator("[data-testid='stSelectbox']").filter(has_text="Dataset").click()
        page.get_by_role("option", name="Upload a dataset…").click()
        page.get_by_text("Upload a dataset archive").wait_for()
        wait_until_idle(page)
        uploaders = page.locator("[data-testid='stFileUploaderDropzoneInput']")
        uploaders.first.set_input_files(str(archive))
        boxes = len(subset["annotations"])
        page.get_by_text(f"8 images, {boxes} boxes").wait_for(timeout=120_000)
        wait_until_idle(page)
        # Only the uploaded predictions: clear the detector picker, leave the classifier.
        detector = get_spec("yolov8n-int8").title  # the chip shows the model's title
        page.get_by_role("button", name=f"Remove {detector}").click()
        page.get_by_text("Pick at least one detector").wait_for()
        wait_until_idle(page)
        page.get_by_text("Also score the classifier").first.click()
        wait_until_idle(page)
        uploaders.nth(1).set_input_files(str(results))
        card = page.get_by_text("mAP50-95").first
        try:  # predictions alone are scored at once
            card.wait_for(timeout=60_000)
        except PlaywrightTimeout:
            # The toggle's click can land while the page reruns: then the classifier
            # is still on, is a model to run, and waits for the button.
            page.get_by_role("button", name=re.compile(r"^Evaluate")).click()
            card.wait_for(timeout=300_000)
        wait_until_idle(page, 300_000)
        page.screenshot(path=str(tmp_path / "evaluate_upload.png"), full_page=True)
        assert page.get_by_text("predictions.json on instances_mini").count()
        assert metric_value(page, "mAP50-95") == f"{expected[0]:.3f}"
        assert metric_value(page, "mAP75") == f"{expected[2]:.3f}"
        assert page.locator("[data-testid='stException']").count() == 0
        assert str(tmp_path) not in page.inner_text("body")
        assert len(session_folders(uploads)) == 1
        page.close()
        # The tab is closed: Streamlit releases the session's resources, folder included.
        deadline = time.monotonic() + 60
        while session_folders(uploads) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert session_folders(uploads) == []
