"""Where the bundled folders are, in a checkout and in an installed package.

In a checkout ``data/`` and ``sample_images/`` sit beside the ``visioncompare`` package;
``pip install`` puts them inside the ``visioncompare`` package
(``visioncompare/bundled/``, declared in ``pyproject.toml``). Both are found from this
file, never from the working directory.
"""

from __future__ import annotations

from pathlib import Path

# The folder holding the ``visioncompare`` package: the repository, or site-packages when
# installed.
ROOT = Path(__file__).resolve().parents[2]
INSTALLED_BUNDLE = ROOT / "visioncompare" / "bundled"


def bundled_dir(name: str) -> Path:
    """The bundled folder ``name`` (``"data"`` or ``"sample_images"``).

    The installed copy wins: in site-packages a folder called ``data`` beside ``visioncompare`` may
    belong to another package.
    """
    installed = INSTALLED_BUNDLE / name
    return installed if installed.is_dir() else ROOT / name


def is_checkout() -> bool:
    """True when running from the repository (the app's router is beside the packages)."""
    return (ROOT / "app.py").is_file() and not INSTALLED_BUNDLE.is_dir()


def default_runs_dir() -> Path:
    """Stored predictions and reports: ``runs/`` in a checkout, else ``./runs`` (the
    working directory, as an installed command never writes into site-packages)."""
    return ROOT / "runs" if is_checkout() else Path.cwd() / "runs"


def file_stem(name: str) -> str:
    """A model's, file's or run's name made safe as one folder or file name: the ``:`` of
    ``custom:`` names and any ``/`` of a path become ``_``."""
    return name.replace(":", "_").replace("/", "_")
