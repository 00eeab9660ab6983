"""End to end: the Video page in headless Chromium; the annotated H.264 video plays."""

from __future__ import annotations

import csv
import time

import pytest

from tests.e2e_server import browser_page, running_app, wait_until_idle

pytestmark = pytest.mark.e2e


def test_sample_clip_is_analysed_and_its_annotated_video_plays(tmp_path):
    with running_app(tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/video")
        wait_until_idle(page)
        page.get_by_text("Sample clip", exact=True).click()
        wait_until_idle(page)
        page.get_by_role("button", name="Analyse video").click()
        video = page.locator("[data-testid='stVideo']").first
        video.wait_for(timeout=180_000)
        wait_until_idle(page)
        assert video.evaluate(
            "v => v.canPlayType('video/mp4; codecs=\"avc1.640028\"')"
        ) in ("probably", "maybe")
        video.evaluate("v => { v.muted = true; return v.play(); }")
        deadline = time.monotonic() + 30
        state = {}
        while time.monotonic() < deadline:
            state = video.evaluate(
                "v => ({w: v.videoWidth, h: v.videoHeight, t: v.currentTime, "
                "ready: v.readyState, error: v.error && v.error.code})"
            )
            if state["t"] > 0.5:
                break
            time.sleep(0.5)
        assert state["error"] is None, state
        assert (state["w"], state["h"]) == (480, 360), state
        assert state["t"] > 0.5, state
        assert page.get_by_text("1 bus").count() >= 1
        # The CSV is written when its button is pressed (not on every rerun).
        button = page.get_by_role(
            "button", name="Detections per frame (CSV, with track ids)"
        )
        with page.expect_download(timeout=60_000) as download:
            button.click()
        rows = list(csv.DictReader(open(download.value.path())))
        assert rows and {"frame", "track_id", "class", "score"} <= set(rows[0])
        assert "bus" in {row["class"] for row in rows}
        page.screenshot(path=str(tmp_path / "video.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
