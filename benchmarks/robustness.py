"""Robustness lab timings: each corruption on a 640x480 image, and the full grid.

Prints two tables. The first times every corruption at every severity on the bundled
``bus.jpg`` resized to 640x480 (the median of ``--repeat`` calls after one untimed call,
whose time is shown apart: glass blur compiles there). The second runs the robustness
grid (``visioncompare.services.robustness_run``) on the bundled COCO subset with the
bundled models into a fresh store, then again to read it back, and prints mPC and rPC.

A third table (``--compare``) times the Compare page (AppTest) when the severity changes.

Usage: python -m benchmarks.robustness [--repeat 3] [--grid] [--compare]
       [--corruptions all] [--severities 1-5] [--images 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks import REPO
from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    Corruption,
    corrupt_image,
    corruption_title,
    package_version,
)
from visioncompare.robustness.grid import (
    RobustnessGrid,
    parse_corruptions,
    parse_severities,
)


def corruption_table(repeat: int) -> None:
    image = np.asarray(
        Image.open(REPO / "sample_images" / "bus.jpg").convert("RGB").resize((640, 480))
    )
    print(
        f"imagecorruptions-imaug {package_version()}, 640x480 RGB, median of {repeat}"
    )
    print()
    heads = " | ".join(f"s{s} ms" for s in SEVERITIES)
    print(f"| corruption | first call ms | {heads} | mean ms |")
    print("|---|---:|" + "---:|" * (len(SEVERITIES) + 1))
    for name in CORRUPTIONS:
        first = corrupt_image(image, Corruption(name, 1)).seconds * 1000
        cells = []
        for severity in SEVERITIES:
            times = [
                corrupt_image(image, Corruption(name, severity, seed=n)).seconds
                for n in range(repeat)
            ]
            cells.append(statistics.median(times) * 1000)
        row = " | ".join(f"{ms:.0f}" for ms in cells)
        print(
            f"| {corruption_title(name)} | {first:.0f} | {row} | "
            f"{statistics.mean(cells):.0f} |"
        )


def grid_table(corruptions: str, severities: str, images: int) -> None:
    from visioncompare.datasets.registry import load_bundled
    from visioncompare.evaluation.store import PredictionStore
    from visioncompare.services.robustness_run import run_robustness

    dataset = load_bundled("coco-val2017-first32").subset(images)
    grid = RobustnessGrid(parse_corruptions(corruptions), parse_severities(severities))
    with tempfile.TemporaryDirectory() as folder:
        store = PredictionStore(Path(folder) / "predictions.sqlite")
        passes = [0]

        def progress(stage: str, done: int, total: int) -> None:
            passes[0] = done

        started = time.perf_counter()
        result = run_robustness(
            dataset, "yolov8n-int8", "mobilenet_v2_quantized", grid, "cpu", store,
            progress,
        )  # fmt: skip
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = run_robustness(
            dataset, "yolov8n-int8", "mobilenet_v2_quantized", grid, "cpu", store
        )
        second = time.perf_counter() - started
    cells = len(grid) + 1
    print()
    print(
        f"grid: {len(grid.corruptions)} corruptions x {len(grid.severities)} severities "
        f"+ clean = {cells} cells x {len(dataset)} images x 2 models "
        f"({cells * len(dataset) * 2} model passes)"
    )
    print()
    print("| run | seconds | per cell |")
    print("|---|---:|---:|")
    print(f"| predicted into a fresh store | {first:.0f} | {first / cells:.1f} |")
    print(f"| read back from the store | {second:.1f} | {second / cells:.2f} |")
    print()
    print("| model | metric | clean | mPC | rPC |")
    print("|---|---|---:|---:|---:|")
    for _, row in result.summary.iterrows():
        print(
            f"| {row['model']} | {row['metric']} | {row['clean']:.3f} | "
            f"{row['mPC']:.3f} | {row['rPC']:.3f} |"
        )
    assert again.table["value"].equals(result.table["value"])
    print()
    print("Largest losses:")
    for model, ranked in result.ranking.groupby("model", sort=False):
        worst = ", ".join(
            f"{r['corruption']} -{r['loss']:.3f}" for _, r in ranked.head(4).iterrows()
        )
        print(f"- {model}: {worst}")


def compare_table(names: tuple[str, ...]) -> None:
    """The Compare page in AppTest on bus.jpg (810x1080): a new severity (corruption +
    both models) against one seen before (cached)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    init = PagesManager.__init__

    def through_the_router(self, *args, **kwargs):
        # As tests/conftest.py: every AppTest run goes through app.py's st.navigation.
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = through_the_router
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    at.selectbox(key="compare_corruption").set_value("contrast").run()
    at.slider(key="compare_severity").set_value(1).run()
    print()
    print("Compare page, bus.jpg, one rerun after the control changes (AppTest):")
    print()
    print("| corruption (to severity 4) | new severity s | seen before s |")
    print("|---|---:|---:|")
    for name in names:
        # The slider is at 1 here, so severity 4 of this corruption is new.
        at.selectbox(key="compare_corruption").set_value(name).run()
        started = time.perf_counter()
        at.slider(key="compare_severity").set_value(4).run()
        new = time.perf_counter() - started
        at.slider(key="compare_severity").set_value(1).run()
        started = time.perf_counter()
        at.slider(key="compare_severity").set_value(4).run()
        cached = time.perf_counter() - started
        at.slider(key="compare_severity").set_value(1).run()
        assert not at.exception
        print(f"| {corruption_title(name)} | {new:.2f} | {cached:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--grid", action="store_true", help="also run the full grid")
    parser.add_argument("--corruptions", default="all")
    parser.add_argument("--severities", default="1-5")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument(
        "--compare", action="store_true", help="also time Compare's severity change"
    )
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    corruption_table(args.repeat)
    if args.compare:
        compare_table(("gaussian_noise", "fog", "zoom_blur", "glass_blur"))
    if args.grid:
        grid_table(args.corruptions, args.severities, args.images)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
