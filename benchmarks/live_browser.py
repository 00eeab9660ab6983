"""The Live page in headless Chromium with a fake camera, read from the page's own readout.

``streamlit run app.py`` and Chromium (``--use-file-for-fake-video-capture``: a 640×480
Y4M clip of bus.jpg panning, played in a loop at ``--camera-fps``) run on this machine,
both models on (the bundled YOLOv8n INT8 and MobileNetV2 INT8). After START and the first
processed frame, once the readout says the frames reach the server at 640×480 (Chromium's
encoder starts lower and raises the size as its bandwidth estimate grows; at most
``--settle`` seconds), the readout is read once a second for ``--seconds``. Printed:

- processed frames per second: the mean of the readout's own figure (frames processed
  over its last 3 s) over the run, its range, and the count of frames processed during
  the run divided by its length (the same thing, counted another way);
- the frames reaching the server per second and their size, as the readout says;
- the detector's and the classifier's median times (the median of the readout's medians);
- whether the delay grows: the readout's "arrival to annotated copy" median and the
  browser's jitter-buffer delay of the returned video (WebRTC ``getStats``), first third
  of the run against the last third;
- what Chromium's encoder did to the camera (``qualityLimitationReason``: "cpu" when it
  lowered the resolution or the frame rate because the machine was busy);
- the CPU time the server process used, and the load average before and after.

``--baseline DIR`` runs the same measurement on another checkout first (for example
``git archive main | tar -x -C DIR``), in the same run, so the two are compared under the
same machine load; its older readout (``st.metric`` cards) is read too.

``--classify-every 1 2`` runs this checkout once with the classifier on every frame and
once on every 2nd (the sidebar's slider, moved by the keyboard).

``--loopback SECONDS`` measures without a browser instead: the Live page's frame callback
on streamlit-webrtc's own ``AsyncVideoProcessTrack`` fed 640×480 frames at 30 fps (no VP8),
the models one after the other against at once, classifier on every frame or every 2nd,
interleaved, two rounds.

Usage: python -m benchmarks.live_browser [--seconds 60] [--camera-fps 30] [--baseline DIR]
    [--classify-every 1 2] [--settle 120] [--loopback SECONDS]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cpu_seconds, load_average
from components.live.controls import CLASSIFY_EVERY, EVERY_LABELS
from tests.conftest import REPO
from tests.e2e_server import (
    browser_page,
    press_camera_start,
    streamlit_server,
    wait_until_idle,
)
from tests.media import panned_frames, write_y4m

RECORD_PEER_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""
"""Init script (every frame, the component's iframe too): keep each peer connection so
that its ``getStats`` can be read."""

WEBRTC_STATS = """
async () => {
  const out = {};
  for (const pc of window.__pcs || []) {
    (await pc.getStats()).forEach(s => {
      if (s.kind !== "video") return;
      if (s.type === "inbound-rtp") {
        out.jitter_delay_s = s.jitterBufferDelay;
        out.jitter_emitted = s.jitterBufferEmittedCount;
        out.frames_decoded = s.framesDecoded;
      } else if (s.type === "outbound-rtp") {
        out.sent_width = s.frameWidth;
        out.sent_height = s.frameHeight;
        out.sent_fps = s.framesPerSecond;
        out.limited_by = s.qualityLimitationReason;
        out.limited_s = s.qualityLimitationDurations;
      }
    });
  }
  return out;
}
"""


def parse_readout(text: str) -> dict:
    """The numbers in the readout's text (missing ones are absent)."""
    patterns = {  # this readout | the older one (st.metric cards: label, value)
        "fps": r"Processed frames per second:\s*([\d.]+)|Processed per second\s+([\d.]+)",
        "received_fps": r"camera frames arriving:\s*([\d.]+) per second",
        "width": r"per second at (\d+) × \d+ pixels",
        "height": r"per second at \d+ × (\d+) pixels",
        "processed": r"Frames:\s*([\d,]+) processed|Frames processed\s+([\d,]+)",
        "dropped": r"processed, ([\d,]+) dropped|Dropped frames\s+([\d,]+)",
        "received": r"([\d,]+) received|frames received ([\d,]+)",
        "detector_ms": r"detector (\d+) ms|Detector \(median\)\s+(\d+) ms",
        "classifier_ms": r"classifier (\d+) ms|Classifier \(median\)\s+(\d+) ms",
        "frame_ms": r"annotated copy \(median\):\s*(\d+) ms"
        r"|Arrival to annotated\s+(\d+) ms",
    }
    values = {}
    for key, pattern in patterns.items():
        if match := re.search(pattern, text):
            found = next(g for g in match.groups() if g is not None)
            values[key] = float(found.replace(",", ""))
    return values


def readout_text(page) -> str:
    """The readout's text (the older page: the whole main column's)."""
    readout = page.locator(".st-key-live_readout")
    if readout.count():
        return readout.first.inner_text()
    return page.locator("[data-testid='stMain']").first.inner_text()


def classify_every(page, every: int) -> None:
    """Move the sidebar's "Classifier runs on" slider to every ``every``-th frame."""
    steps = list(EVERY_LABELS).index(every) - list(EVERY_LABELS).index(CLASSIFY_EVERY)
    slider = page.locator("[data-testid='stSlider']").filter(
        has_text="Classifier runs on"
    )
    thumb = slider.first.locator("input[type='range']").first
    thumb.focus()
    for _ in range(abs(steps)):
        thumb.press("ArrowRight" if steps > 0 else "ArrowLeft")
    page.get_by_text(EVERY_LABELS[every]).first.wait_for(timeout=30_000)
    wait_until_idle(page)


def run(
    seconds: float,
    camera_fps: int,
    workdir: Path,
    app_dir: Path = REPO,
    every: int = CLASSIFY_EVERY,
    settle: float = 0.0,
) -> dict:
    camera = workdir / "camera.y4m"
    write_y4m(camera, panned_frames("bus.jpg", 90, (640, 480)), fps=camera_fps)
    flags = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    )
    log = workdir / "streamlit.log"
    with (
        streamlit_server(log, app_dir, VISIONCOMPARE_STUN_URLS="none") as (url, server),
        browser_page(flags) as page,
    ):
        page.context.add_init_script(RECORD_PEER_CONNECTIONS)
        page.goto(f"{url}/live")
        wait_until_idle(page)
        page.get_by_role("heading", name="Live camera").wait_for(timeout=120_000)
        if every != CLASSIFY_EVERY:
            classify_every(page, every)
        frame = page.frame_locator("iframe[title*='webrtc']").first
        press_camera_start(frame)
        deadline = time.monotonic() + 120
        while parse_readout(readout_text(page)).get("processed", 0) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no frame processed in 120 s:\n{log.read_text()}")
            time.sleep(0.5)
        component = next((f for f in page.frames if "webrtc" in (f.url or "")), None)
        # Chromium's encoder starts the camera below 640×480 and raises it as its
        # bandwidth estimate grows: the window starts once the server receives 640×480.
        settled = time.monotonic()
        while parse_readout(readout_text(page)).get("width") != 640:
            if time.monotonic() - settled > settle:
                break
            time.sleep(0.5)
        settled = time.monotonic() - settled
        time.sleep(3)  # the readout's 3 s window holds processed frames only
        load_before, cpu_before = load_average(), cpu_seconds(server.pid)
        samples, stats = [], []
        start = time.monotonic()
        first = parse_readout(readout_text(page))
        while (elapsed := time.monotonic() - start) < seconds:
            samples.append((elapsed, parse_readout(readout_text(page))))
            if component is not None:
                stats.append((elapsed, component.evaluate(WEBRTC_STATS)))
            time.sleep(max(0.0, len(samples) - (time.monotonic() - start)))
        elapsed = time.monotonic() - start
        last = parse_readout(readout_text(page))
        cpu = cpu_seconds(server.pid) - cpu_before
        page.screenshot(path=str(workdir / "live.png"), full_page=True)
    return {
        "samples": samples,
        "stats": stats,
        "first": first,
        "last": last,
        "elapsed": elapsed,
        "server_cpu": cpu,
        "load": (load_before, load_average()),
        "settled": settled,
    }


def thirds(values: list[float]) -> tuple[float, float]:
    third = max(1, len(values) // 3)
    return statistics.median(values[:third]), statistics.median(values[-third:])


def jitter_delays(stats: list[tuple[float, dict]]) -> list[float]:
    """Milliseconds each returned frame waited in the browser's jitter buffer, per
    interval between two readings."""
    out = []
    for (_, a), (_, b) in itertools.pairwise(stats):
        n = b.get("jitter_emitted", 0) - a.get("jitter_emitted", 0)
        if n > 0:
            out.append(1000 * (b["jitter_delay_s"] - a["jitter_delay_s"]) / n)
    return out


def report(result: dict, seconds: float, camera_fps: int) -> None:
    readings = [s for _, s in result["samples"] if "fps" in s]
    fps = [s["fps"] for s in readings]
    counted = (result["last"]["processed"] - result["first"]["processed"]) / result[
        "elapsed"
    ]
    det = [s["detector_ms"] for s in readings if "detector_ms" in s]
    cls = [s["classifier_ms"] for s in readings if "classifier_ms" in s]
    frame_ms = [s["frame_ms"] for s in readings if "frame_ms" in s]
    arriving = [s["received_fps"] for s in readings if "received_fps" in s] or [
        (result["last"]["received"] - result["first"]["received"]) / result["elapsed"]
    ]
    sizes = Counter(
        (int(s["width"]), int(s["height"])) for s in readings if "width" in s
    )
    jitter = jitter_delays(result["stats"])
    sent = result["stats"][-1][1] if result["stats"] else {}
    print(f"machine: {os.cpu_count()} cores; load average before {result['load'][0]}, "
          f"after {result['load'][1]}")  # fmt: skip
    print(f"camera: fake, 640×480 Y4M at {camera_fps} fps; both models; "
          f"{result['elapsed']:.0f} s from {result['settled']:.0f} s after the first "
          "processed frame (640×480 reaching the server, or --settle) + 3 s")  # fmt: skip
    print("| measure | value |")
    print("|---|---|")
    print(
        f"| processed frames/s, readout mean over the run ({len(fps)} readings) | "
        f"**{statistics.mean(fps):.1f}** (min {min(fps):.1f}, max {max(fps):.1f}) |"
    )
    print(
        f"| processed frames/s, frames processed during the run / its length | "
        f"{counted:.1f} |"
    )
    print(
        f"| camera frames reaching the server per second (readout, median) | "
        f"{statistics.median(arriving):.1f} at "
        + ", ".join(f"{w}×{h} in {n} readings" for (w, h), n in sizes.most_common())
        + " |"
    )
    print(
        f"| detector median (median of the readout's medians) | "
        f"{statistics.median(det):.0f} ms |"
    )
    print(
        f"| classifier median (median of the readout's medians) | "
        f"{statistics.median(cls):.0f} ms |"
    )
    a, b = thirds(frame_ms)
    print(
        f"| arrival to annotated copy (readout), first third → last third | "
        f"{a:.0f} → {b:.0f} ms |"
    )
    if jitter:
        a, b = thirds(jitter)
        print(
            f"| browser jitter-buffer delay of the returned video, first → last third"
            f" | {a:.0f} → {b:.0f} ms |"
        )
    if sent:
        print(
            f"| Chromium's camera encoder at the end: size, fps, limited by | "
            f"{sent.get('sent_width')}×{sent.get('sent_height')}, "
            f"{sent.get('sent_fps')}, {sent.get('limited_by')} |"
        )
    print(f"| server process CPU over the run | {result['server_cpu']:.0f} s in "
          f"{result['elapsed']:.0f} s ({result['server_cpu'] / result['elapsed']:.0%} "
          "of one core) |")  # fmt: skip


def loopback(seconds: float) -> None:
    import asyncio

    from components.live.webrtc import frames_callback, model_calls
    from model_zoo import load_model
    from tests.webrtc_loopback import run_loopback
    from visioncompare.live.processor import LiveProcessor, LiveSettings

    calls = model_calls(
        load_model("yolov8n-int8", "cpu"), load_model("mobilenet_v2_quantized", "cpu")
    )
    images = panned_frames("bus.jpg", 30, (640, 480))
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}")
    print("| models | classifier on | processed frames/s | detector, classifier median |"
          " load |\n|---|---|---:|---|---|")  # fmt: skip
    for _ in range(2):
        for concurrent in (False, True):
            for every in (1, 2):
                processor = LiveProcessor(*calls, concurrent=concurrent)
                processor.update_settings(LiveSettings(classify_every=every))
                asyncio.run(run_loopback(frames_callback(processor), images, seconds))
                r = processor.readout()
                print(f"| {'at once' if concurrent else 'one after the other'} | "
                      f"{EVERY_LABELS[every]} | {r.processed / seconds:.1f} | "
                      f"{r.detector_ms:.0f} ms, {r.classifier_ms:.0f} ms | "
                      f"{load_average().split()[0]} |", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--camera-fps", type=int, default=30)
    parser.add_argument("--baseline", type=Path, help="another checkout, run first")
    parser.add_argument(
        "--classify-every",
        type=int,
        nargs="+",
        default=[CLASSIFY_EVERY],
        choices=list(EVERY_LABELS),
        help="run this checkout once per value (the baseline: every frame)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=120.0,
        help="wait up to this long for 640×480 frames before the run (0: no wait)",
    )
    parser.add_argument("--loopback", type=float, metavar="SECONDS")
    args = parser.parse_args()
    if args.loopback:
        loopback(args.loopback)
        return
    apps = [("baseline: " + str(args.baseline), args.baseline)] if args.baseline else []
    ours = [
        (f"this checkout, classifier on {EVERY_LABELS[k]}", REPO, k)
        for k in args.classify_every
    ]
    for name, app_dir, every in [*[(n, d, CLASSIFY_EVERY) for n, d in apps], *ours]:
        with tempfile.TemporaryDirectory(prefix="live-browser-") as tmp:
            result = run(
                args.seconds, args.camera_fps, Path(tmp), app_dir, every, args.settle
            )
            print(f"\n### {name}", flush=True)
            report(result, args.seconds, args.camera_fps)


if __name__ == "__main__":
    main()
