"""Evaluate page: time from a threshold slider change to the updated page, and from
pressing Evaluate to the finished page against the command line on the same files.

Default: AppTest time (the server's whole rerun of the page, no browser) on the bundled
VOC subset (100 images), median of 5 confidence and 5 IoU changes, after the evaluation
has run once. The browser number comes from ``tests/test_e2e_evaluate.py``, which prints
it (``python -m pytest -s tests/test_e2e_evaluate.py``).

``--scale`` (issue #24): an uploaded annotations JSON without images and an uploaded
predictions file (``benchmarks.scale_files``, seeded): 1,500 and 5,000 images of 100
boxes each, and the bundled COCO subset with 10,000 boxes per image (24.5 MB). For each:
the command line's whole run (``python -m visioncompare evaluate --dataset GT.json
--predictions RESULTS.json``, wall time of the process) and the page's Evaluate (AppTest:
the button pressed until the page is finished), alternated ``--repeat`` times (medians),
then the median of 5 confidence and 5 IoU slider changes (each IoU a threshold not seen
before). The page reruns whole here: in the browser a slider reruns only the explorer's
fragment, so these are upper bounds. Targets: a slider <= 300 ms at 1,500 images and
<= 500 ms at 5,000; Evaluate <= 1.3x the command line.

``--views`` then times the sliders again with each of the other views open in turn
(``OTHER_VIEWS``; the explorer's own lookups are warm by then, each view's are not).

Usage: python -m benchmarks.evaluate_page [--scale [--cases 1500 5000 dense]
       [--repeat 2] [--views]]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import REPO

os.environ.setdefault(
    "VISIONCOMPARE_RUNS", tempfile.mkdtemp(prefix="visioncompare-bench-")
)
os.environ.setdefault(
    "VISIONCOMPARE_UPLOADS_DIR", tempfile.mkdtemp(prefix="visioncompare-bench-")
)
os.environ["VISIONCOMPARE_MAX_UPLOAD_MB"] = "200"  # the 5,000-image file is 51 MB

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.helpers import open_view

_init = PagesManager.__init__


def _init_without_pages_folder(self, *args, **kwargs):  # see tests/conftest.py
    _init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _init_without_pages_folder

CONF = [0.3, 0.35, 0.4, 0.45, 0.5]
IOU = [0.55, 0.6, 0.65, 0.7, 0.75]
OTHER_VIEWS = [("Summary", "IoU"), ("Errors", "Error types"),
               ("Errors", "Error browser"), ("Errors", "Confusion matrix"),
               ("Per image", None), ("Downloads", None)]  # fmt: skip
"""``--views``: the explorer's views (group, tab) timed after the default one."""


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def sliders(at: AppTest) -> dict[str, float]:
    """Median seconds of a confidence and of an IoU change (alternated)."""
    timings: dict[str, list[float]] = {"confidence": [], "IoU": []}
    for c, u in zip(CONF, IOU):
        start = time.perf_counter()
        at.slider(key="evaluate_conf").set_value(c).run()
        timings["confidence"].append(time.perf_counter() - start)
        start = time.perf_counter()
        at.slider(key="evaluate_iou").set_value(u).run()
        timings["IoU"].append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return {name: statistics.median(values) for name, values in timings.items()}


def voc_main() -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value("voc2012-sample100").run()
    at.button(key="evaluate_run").click().run()
    medians = sliders(at)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU threads; voc2012-sample100"
    )
    print("| slider | median ms (AppTest) | target |\n|---|---:|---|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.0f} | < 300 ms |")


def cli_seconds(dataset: str, predictions: Path, out: Path) -> float:
    """The command line's whole run, as a user starts it."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "visioncompare", "evaluate", "--dataset", dataset,
         "--predictions", str(predictions), "--out", str(out)],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - start


def page_for(
    dataset: str, annotations: Path | None, predictions: Path
) -> tuple[AppTest, float]:
    """The Evaluate page with the files uploaded and scored once (a predictions file
    alone is scored at once), and the seconds from the predictions file's upload to the
    scored page (placing the file in the session's folder included)."""
    from components.shared.controls import UPLOAD_DATASET

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=900).run()
    at.switch_page("pages/evaluate.py").run()
    if annotations is None:
        at.selectbox(key="evaluate_dataset").set_value(dataset).run()
    else:
        at.selectbox(key="evaluate_dataset").set_value(UPLOAD_DATASET).run()
        data = (annotations.name, annotations.read_bytes(), "application/json")
        at.file_uploader(key="evaluate_dataset_upload").set_value(data).run()
    at.multiselect(key="evaluate_detectors").set_value([]).run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    data = [(predictions.name, predictions.read_bytes(), "application/json")]
    start = time.perf_counter()
    at.file_uploader(key="evaluate_predictions_upload").set_value(data).run()
    seconds = time.perf_counter() - start
    assert not at.exception and not at.error, (at.exception, at.error)
    assert any(m.label == "mAP50-95" for m in at.metric), "the upload was not scored"
    return at, seconds


def press_evaluate(at: AppTest) -> float:
    start = time.perf_counter()
    at.button(key="evaluate_run").click().run()
    seconds = time.perf_counter() - start
    assert not at.exception and any(m.label == "mAP50-95" for m in at.metric)
    return seconds


def scale_main(cases: list[str], repeat: int, views: bool) -> None:
    from benchmarks.scale_files import dense_coco_predictions, realistic_files

    folder = Path(tempfile.mkdtemp(prefix="visioncompare-scale-"))
    rows, view_rows = [], []
    for case in cases:
        if case == "dense":
            label = "COCO subset, 32 images x 10,000 boxes (24.5 MB)"
            annotations, dataset = None, "coco-val2017-first32"
            predictions = dense_coco_predictions(folder / "dense.json")
        else:
            images = int(case)
            label = f"{images:,} images x 100 boxes (annotations JSON, no images)"
            annotations, predictions = realistic_files(folder, images)
            dataset = str(annotations)
        at, upload = page_for(dataset, annotations, predictions)
        cli, page = [], []
        for n in range(repeat):
            cli.append(cli_seconds(dataset, predictions, folder / f"out-{case}-{n}"))
            page.append(press_evaluate(at))
        medians = sliders(at)
        rows.append((label, statistics.median(cli), statistics.median(page), upload,
                     medians, load()))  # fmt: skip
        for group, view in OTHER_VIEWS if views else []:
            assert not open_view(at, group, view).exception, at.exception
            view_rows.append((label, view or group, sliders(at), load()))
        print(f"{label}: CLI {cli}, page {page}, upload {upload:.2f}, sliders {medians}, "
              f"load {load()}", file=sys.stderr, flush=True)  # fmt: skip
        del at
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU threads, Python "
          f"{platform.python_version()}; medians of {repeat} alternated runs")  # fmt: skip
    print(
        "\n| case | CLI, whole run (s) | page, Evaluate pressed (s) | page / CLI "
        "(<= 1.3) | page, upload to scored (s) | confidence slider (ms) | IoU slider "
        "(ms) | load |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for label, cli, page, upload, medians, at_load in rows:
        print(f"| {label} | {cli:.1f} | {page:.1f} | {page / cli:.2f} | {upload:.1f} | "
              f"{medians['confidence'] * 1000:.0f} | {medians['IoU'] * 1000:.0f} | "
              f"{at_load} |")  # fmt: skip
    if view_rows:
        print("\n| case | view open | confidence slider (ms) | IoU slider (ms) | load |"
              "\n|---|---|---:|---:|---:|")  # fmt: skip
    for label, view, medians, at_load in view_rows:
        print(f"| {label} | {view} | {medians['confidence'] * 1000:.0f} | "
              f"{medians['IoU'] * 1000:.0f} | {at_load} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--cases", nargs="+", default=["1500", "5000", "dense"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--views", action="store_true",
                        help="also time the sliders with each other view open")  # fmt: skip
    args = parser.parse_args()
    if args.scale:
        scale_main(args.cases, args.repeat, args.views)
    else:
        voc_main()


if __name__ == "__main__":
    main()
