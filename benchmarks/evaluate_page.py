"""Evaluate page: time from a threshold slider change to the updated page.

AppTest time (the server's whole rerun of the threshold explorer, no browser) on the bundled
VOC subset (100 images), median of 10 alternating confidence and IoU changes, after the
evaluation has run once. The browser number comes from ``tests/test_e2e_evaluate.py``, which
prints it (``python -m pytest -s tests/test_e2e_evaluate.py``).

Usage: python -m benchmarks.evaluate_page
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time

from benchmarks import REPO

os.environ.setdefault(
    "VISIONCOMPARE_RUNS", tempfile.mkdtemp(prefix="visioncompare-bench-")
)

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

_init = PagesManager.__init__


def _init_without_pages_folder(self, *args, **kwargs):  # see tests/conftest.py
    _init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _init_without_pages_folder


def main() -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value("voc2012-sample100").run()
    at.button(key="evaluate_run").click().run()
    conf = [0.3, 0.35, 0.4, 0.45, 0.5]
    iou = [0.55, 0.6, 0.65, 0.7, 0.75]
    timings = {"confidence": [], "IoU": []}
    for c, u in zip(conf, iou):
        start = time.perf_counter()
        at.slider(key="evaluate_conf").set_value(c).run()
        timings["confidence"].append(time.perf_counter() - start)
        start = time.perf_counter()
        at.slider(key="evaluate_iou").set_value(u).run()
        timings["IoU"].append(time.perf_counter() - start)
    assert not at.exception
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU threads; voc2012-sample100"
    )
    print("| slider | median ms (AppTest) | target |\n|---|---:|---|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values) * 1000:.0f} | < 300 ms |")


if __name__ == "__main__":
    main()
