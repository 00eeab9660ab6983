"""The first minute of a fresh server: ``streamlit run app.py`` to the page's title,
its loading status and both Compare panels, seen in headless Chromium.

``tests.e2e_server.FIRST_PAINT``, installed before the page's first script, stamps the
wall-clock moment each of these first appears in the page, so nothing that shows for a
single frame is missed:

- ``nav``: the sidebar's page links; ``raw names``: any of Streamlit's own file-name
  labels (``app``, ``compare``, …) ever shown instead of the router's titles;
- ``title``: the page's heading; ``status``: "Loading the models, about N s";
  ``loaded``: the status gone (the models are loaded);
- ``pickers``: the sidebar's model pickers; ``panels``: both Compare panels (the
  classifier's Top-1 line and chart, the detector's picture).

Times are seconds from the moment the server process was started. The browser opens
the page as soon as the server answers its health check (polled every 0.5 s), as a
first visitor would. ``server CPU``: the CPU seconds (all threads) the server had used
when the panels showed, which depends much less than the times on what else the machine
is doing.

``--steps`` first times each step of a cold start alone, in a fresh process: importing
streamlit, torch, torchvision, Ultralytics and OpenVINO, loading each default model,
and each model's first and second call on bus.jpg.

``--floor`` times a one-line Streamlit app before each run the same way (its title only):
what Streamlit's own front end costs on this machine.

Usage: python -m benchmarks.cold_start [--runs 3] [--page video] [--steps] [--visit-after S]
[--floor] [--app-dir DIR]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import cpu_seconds, load_average  # noqa: E402
from benchmarks.app_server import chromium, machine, server_parser  # noqa: E402
from tests.e2e_server import (  # noqa: E402
    FIRST_PAINT,
    file_name_labels,
    streamlit_server,
)


def one_run(
    page_path: str,
    timeout_s: float,
    app_dir: Path = REPO,
    visit_after: float = 0.0,
    until: tuple[str, ...] | None = None,
) -> dict:
    """One fresh server and one first visitor, who opens the page ``visit_after`` seconds
    after the server answers, watched until it shows everything in ``until`` (default:
    the pickers and, on Compare, both panels); seconds from the server's start."""
    until = until or (("pickers",) if page_path else ("pickers", "panels"))
    log = Path(tempfile.mkstemp(prefix="cold-start-", suffix=".log")[1])
    runs = tempfile.mkdtemp(prefix="visioncompare-bench-")
    with chromium() as browser:
        started = time.time()
        with streamlit_server(log, app_dir, VISIONCOMPARE_RUNS=runs) as (url, proc):
            healthy = time.time()
            time.sleep(visit_after)
            opened = time.time()
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.add_init_script(FIRST_PAINT)
            page.goto(f"{url}/{page_path}")
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                seen = page.evaluate("window.__firstPaint.seen")
                if all(k in seen for k in until):
                    break
                time.sleep(0.2)
            state = page.evaluate("window.__firstPaint")
            cpu = cpu_seconds(proc.pid)
    seen = {k: v / 1000 - started for k, v in state["seen"].items()}
    row = {"health": healthy - started, **seen, "raw": file_name_labels(state["navs"])}
    row["server CPU"] = cpu
    if "title" in row:
        row["title after open"] = row["title"] - (opened - started)
    if "panels" in row:
        row["panels after open"] = row["panels"] - (opened - started)
    return row


STEPS_SCRIPT = """
import json, resource, sys, time
rows = []
def step(name, fn):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = usage.ru_utime + usage.ru_stime, time.perf_counter()
    out = fn()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rows.append((name, time.perf_counter() - wall, usage.ru_utime + usage.ru_stime - cpu))
    return out
step("import streamlit", lambda: __import__("streamlit"))
step("import torch", lambda: __import__("torch"))
step("import torchvision", lambda: __import__("torchvision.models.detection"))
step("import ultralytics", lambda: __import__("ultralytics"))
step("import openvino", lambda: __import__("openvino"))
import numpy as np
from PIL import Image
from model_zoo import load_model
image = np.asarray(Image.open("sample_images/bus.jpg").convert("RGB"))
cls = step("load MobileNetV2 (INT8)", lambda: load_model("mobilenet_v2_quantized", "cpu"))
det = step("load YOLOv8n (INT8, OpenVINO)", lambda: load_model("yolov8n-int8", "cpu"))
for n in ("first", "second"):
    step(f"classify bus.jpg, {n} call", lambda: cls.predict([image]))
    step(f"detect bus.jpg, {n} call", lambda: det.predict([image], conf=0.01, iou=0.7))
print(json.dumps(rows))
"""


def steps(app_dir: Path = REPO) -> list[tuple[str, float, float]]:
    """Where a cold start's seconds go, one step after the other in a fresh process
    running ``app_dir``'s code: (step, wall seconds, CPU seconds)."""
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", STEPS_SCRIPT], cwd=app_dir, capture_output=True,
        text=True, check=True, env={**os.environ, "YOLO_OFFLINE": "1"},
    ).stdout  # fmt: skip
    return [tuple(row) for row in json.loads(out.strip().splitlines()[-1])]


FLOOR_APP = 'import streamlit as st\n\nst.title("Hello")\n'
"""The framework's own floor: a one-line Streamlit app, whose title shows as soon as
Streamlit's front end has loaded in the browser and run the script once."""


def floor_run(timeout_s: float, visit_after: float) -> dict:
    """``one_run`` on ``FLOOR_APP`` in a temporary folder, until its title shows."""
    with tempfile.TemporaryDirectory(prefix="streamlit-floor-") as folder:
        (Path(folder) / "app.py").write_text(FLOOR_APP)
        return one_run("", timeout_s, Path(folder), visit_after, until=("title",))


def main() -> None:
    parser = server_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", default="", help="URL path: '' (Compare), 'video', …")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument(
        "--visit-after", type=float, default=0.0,
        help="seconds between the server's health check answering and the first visit",
    )  # fmt: skip
    parser.add_argument(
        "--steps", action="store_true", help="also time each step in a fresh process"
    )
    parser.add_argument(
        "--floor", action="store_true",
        help="before each run, the same for a one-line Streamlit app (its title only)",
    )  # fmt: skip
    args = parser.parse_args()
    print(f"machine: {machine()}; load average before: {load_average()}")
    if args.steps:
        print("| step | wall s | CPU s |\n|---|---:|---:|")
        for name, wall, cpu in steps(args.app_dir.resolve()):
            print(f"| {name} | {wall:.2f} | {cpu:.2f} |", flush=True)
        print()
    columns = (
        "health", "shell", "nav", "title", "title after open", "status", "loaded", "pickers",
        "top-1", "classification", "detection", "panels", "panels after open", "server CPU",
    )  # fmt: skip
    print("| run | " + " | ".join(f"{c} s" for c in columns) + " | raw names shown |")
    print("|---:|" + "---:|" * len(columns) + "---|")
    rows = []

    def cells(row: dict) -> str:
        return " | ".join(f"{row[c]:.1f}" if c in row else "—" for c in columns)

    for n in range(1, args.runs + 1):
        if args.floor:
            floor = floor_run(args.timeout, args.visit_after)
            print(f"| {n}, one-line app | {cells(floor)} | |", flush=True)
        row = one_run(args.page, args.timeout, args.app_dir.resolve(), args.visit_after)
        rows.append(row)
        print(f"| {n} | {cells(row)} | {', '.join(row['raw']) or 'none'} |", flush=True)
    if len(rows) > 1:
        medians = {
            c: statistics.median(r[c] for r in rows if c in r)
            for c in columns
            if any(c in r for r in rows)
        }
        print(f"| median | {cells(medians)} | |")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
