"""End to end: the Live page in headless Chromium with a fake camera playing bus.jpg."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e_server import (
    browser_page,
    press_camera_start,
    running_app,
    wait_until_idle,
)
from tests.media import write_y4m
from visioncompare.video.demo_clip import panned_frames

pytestmark = pytest.mark.e2e


READOUT = ".st-key-live_readout"
LABELS = (
    "Processed frames per second:",
    "Frames:",
    "Model time per frame (median):",
    "From a frame's arrival to its annotated copy (median):",
)
CUT = """el => [...el.querySelectorAll('*')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
    .filter(e => getComputedStyle(e).overflow !== 'visible')
    .map(e => e.innerText)"""
"""The readout's elements whose text is cut off (wider or taller than their clipped box)."""


def _readout(page) -> str:
    return page.locator(READOUT).first.inner_text()


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
        # The component's own page is served as it came: nothing covers its buttons.
        frame.get_by_role("button", name="START").wait_for(timeout=60_000)
        assert frame.locator("#page-shell").count() == 0

        def stream(seconds: float) -> tuple[int, str]:
            deadline = time.monotonic() + seconds
            processed, seen = 0, ""
            while time.monotonic() < deadline:
                seen = _readout(page)
                found = re.search(r"Frames: ([\d,]+) processed", seen)
                processed = int(found.group(1).replace(",", "")) if found else 0
                if processed >= 10 and re.search(r"\b(bus|person)\b", seen):
                    break
                time.sleep(1)
            return processed, seen

        def start() -> None:
            if (presses := press_camera_start(frame)) > 1:
                print(f"\nlive: START took {presses} presses")

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
        # The readout: every label and unit in full, and the frame its classes and
        # top-1 come from (the number written in that frame's band).
        text = _readout(page)
        for label in LABELS:
            assert label in text, (label, text)
        assert page.locator(READOUT).first.evaluate(CUT) == [], text
        fps = float(re.search(r"Processed frames per second: ([\d.]+) \(last", text)[1])
        assert fps > 0, text
        assert re.search(r"per second at \d+ × \d+ pixels\)", text), text
        assert re.search(r"detector \d+ ms, classifier \d+ ms on cpu", text), text
        frame_no = int(re.search(r"Frame (\d+) \(its number is in the band", text)[1])
        processed = int(
            re.search(r"Frames: ([\d,]+) processed", text)[1].replace(",", "")
        )
        assert 1 <= frame_no <= processed, text
        assert re.search(
            r"the detector sees .+; the classifier says [^(]+ \(\d+%\)", text
        ), text
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
        print(f"\nlive: {processed} frames processed, {fps:.1f} processed frames/s")
