"""End to end: the Live page in headless Chromium with a fake camera playing bus.jpg."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e_server import browser_page, running_app, wait_until_idle
from tests.media import write_y4m
from visioncompare.video.demo_clip import panned_frames

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text()


def test_fake_camera_frames_go_through_the_detector(tmp_path):
    camera = tmp_path / "camera.y4m"
    write_y4m(camera, panned_frames("bus.jpg", frames=45, size=(640, 480)), fps=15)
    flags = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    )
    # No STUN server offline: loopback host candidates connect browser and server.
    with (
        running_app(tmp_path / "streamlit.log", VISIONCOMPARE_STUN_URLS="none") as url,
        browser_page(flags) as page,
    ):
        page.goto(f"{url}/live")
        wait_until_idle(page)
        page.get_by_role("heading", name="Live camera").wait_for(timeout=120_000)
        frame = page.frame_locator("iframe[title*='webrtc']").first

        def stream(seconds: float) -> tuple[int, str]:
            deadline = time.monotonic() + seconds
            processed, seen = 0, ""
            while time.monotonic() < deadline:
                processed = int(_metric(page, "Frames processed").replace(",", "") or 0)
                seen = (
                    page.locator("[data-testid='stMarkdownContainer']")
                    .filter(has_text="Detector sees:")
                    .first.inner_text()
                )
                if processed >= 10 and re.search(r"\b(bus|person)\b", seen):
                    break
                time.sleep(1)
            return processed, seen

        def start() -> None:
            """Press START until the component answers with STOP. A press in the first
            second or two after the frame draws can be lost while streamlit-webrtc's
            frame is still receiving its first arguments (it stays at START, nothing is
            sent); a viewer presses again, and so does the test, up to three times."""
            for attempt in range(3):
                frame.get_by_role("button", name="START").click(timeout=60_000)
                try:
                    frame.get_by_role("button", name="STOP").wait_for(timeout=10_000)
                    return
                except PlaywrightTimeout:
                    print(f"\nlive: START press {attempt + 1} not taken; pressing again")
            raise AssertionError("the camera component never left START")

        start()
        processed, seen = stream(60)
        if processed == 0:
            # Seen once in about ten CI runs: ICE completes on the sandbox's IPv6 pair
            # and no frame arrives. A viewer presses STOP and START; so does the test,
            # once, and says so.
            print("\nlive: no frame after 60 s; STOP and START once")
            stop = frame.get_by_role("button", name="STOP")
            if stop.count():  # a failed connection has already gone back to START
                stop.click(timeout=30_000)
            start()
            processed, seen = stream(90)
        assert processed >= 10, (processed, (tmp_path / "streamlit.log").read_text())
        assert re.search(r"\b(bus|person)\b", seen), seen

        # The returned (annotated) video plays in the page.
        video = frame.locator("video").first
        video.wait_for(timeout=30_000)
        size = video.evaluate("v => [v.videoWidth, v.videoHeight, v.currentTime]")
        time.sleep(2)
        later = video.evaluate("v => v.currentTime")
        assert size[0] > 0 and size[1] > 0
        assert later > size[2]
        fps = float(_metric(page, "Processed per second"))
        assert fps > 0
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
        print(f"\nlive: {processed} frames processed, {fps:.1f} processed frames/s")
