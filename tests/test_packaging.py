"""The installable package: its declared packages and data, and the command line run from a
folder outside the repository (as ``python -m visioncompare`` and as the installed
``visioncompare`` command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _env(pythonpath: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(pythonpath), YOLO_OFFLINE="1")
    return env


def _run(args: list[str], cwd: Path, pythonpath: Path) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=_env(pythonpath), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_package_folder_is_declared():
    declared = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("model_zoo", "visioncompare")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert on_disk <= declared, sorted(on_disk - declared)
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts == {"visioncompare": "visioncompare.services.cli:main"}


def test_module_command_works_from_another_folder(tmp_path):
    out = _run([sys.executable, "-m", "visioncompare", "models"], tmp_path, REPO)
    assert "yolov8n-int8" in out and "mobilenet_v2_quantized" in out
    out = _run([sys.executable, "-m", "visioncompare", "datasets"], tmp_path, REPO)
    assert "coco-val2017-first32" in out and "voc2012-sample100" in out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package built as a wheel and installed into a folder of its own."""
    root = tmp_path_factory.mktemp("install")
    build = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*build, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", root, REPO],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = root.glob("visioncompare-*.whl")
    site = root / "site"
    subprocess.run(
        [*build, "install", "-q", "--no-deps", "--target", site, wheel],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return site


def test_installed_package_finds_its_data_wherever_it_runs(installed, tmp_path):
    probe = (
        "from visioncompare.datasets.registry import DATA_DIR, load_bundled\n"
        "from visioncompare.kernel.sample_images import list_demo_images\n"
        "from model_zoo import get_spec\n"
        "from model_zoo.identity import weights_on_disk\n"
        "print(DATA_DIR)\n"
        "print(len(load_bundled('voc2012-sample100')), len(list_demo_images()))\n"
        "print(all(weights_on_disk(get_spec(n)) for n in "
        "('mobilenet_v2_quantized', 'yolov8n-int8')))\n"
    )
    out = _run([sys.executable, "-c", probe], tmp_path, installed).splitlines()
    assert Path(out[0]).is_relative_to(installed)
    assert out[1:] == ["100 8", "True"]


def test_installed_console_script_runs_from_any_folder(installed, tmp_path):
    script = installed / "bin" / "visioncompare"
    out = _run([sys.executable, str(script), "models"], tmp_path, installed)
    assert "yolov8n-int8" in out
    out = _run([sys.executable, str(script), "--help"], tmp_path, installed)
    assert out.startswith("usage: visioncompare ")
