"""A server app: OpenCV is the headless build, and neither importing the app's modules nor
running both models loads a desktop GUI toolkit."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from tests.conftest import REPO

GUI_MODULES = ("PyQt5", "PyQt6", "PySide2", "PySide6", "tkinter", "_tkinter", "gi", "wx")


def test_opencv_is_the_headless_build():
    import cv2

    info = cv2.getBuildInformation()
    gui = info[info.index("GUI:") :].splitlines()[0]
    assert gui.split(":", 1)[1].strip() == "NONE", gui
    assert metadata.version("opencv-python-headless")
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("opencv-python")


def test_requirements_name_the_headless_ultralytics():
    names = [
        line.split("#")[0].strip().split(">")[0].split("=")[0].split("<")[0]
        for line in (REPO / "requirements.txt").read_text().splitlines()
    ]
    assert "ultralytics-opencv-headless" in names and "ultralytics" not in names
    assert "opencv-python" not in names


def test_app_modules_and_models_load_no_gui_toolkit(tmp_path):
    code = (
        "import sys, numpy as np\n"
        "import visioncompare.kernel.draw, visioncompare.plots.evaluation, "
        "visioncompare.plots.learn, components.shared.cache, components.shared.views, "
        "components.evaluate.explorer, visioncompare.services.report\n"
        "from model_zoo import load_model\n"
        "image = np.zeros((64, 64, 3), np.uint8)\n"
        "load_model('mobilenet_v2_quantized', 'cpu').predict([image])\n"
        "load_model('yolov8n-int8', 'cpu').predict([image])\n"
        f"print(sorted(m for m in {GUI_MODULES!r} if m in sys.modules))\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend().lower())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"YOLO_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded, backend = done.stdout.strip().splitlines()[-2:]
    assert loaded == "[]"
    assert backend == "agg"
