"""Shared test setup: offline mode, the repository on sys.path, and the bundled assets.

Tests read only what the repository holds (plus what pip installs): the bundled weights,
``data/``, ``sample_images/`` and their checksums in ``SHA256SUMS``."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
# Stored predictions and reports of the tests go to a temporary folder, not runs/.
os.environ.setdefault(
    "VISIONCOMPARE_RUNS", tempfile.mkdtemp(prefix="visioncompare-runs-")
)
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CHECKSUMS = REPO / "SHA256SUMS"


def bundled_checksums() -> dict[str, str]:
    """The repository's ``SHA256SUMS``: repository-relative path -> SHA-256 hex digest."""
    sums = {}
    for line in require_file(CHECKSUMS).read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        sums[path] = digest
    return sums


def require_file(path: Path) -> Path:
    """A test asset that must exist: a missing one fails the test loudly, never skips it."""
    if not path.exists():
        pytest.fail(f"required test asset is missing: {path}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def bus_jpg() -> Path:
    from ultralytics.utils import ASSETS

    return require_file(Path(ASSETS) / "bus.jpg")


@pytest.fixture(scope="session")
def chelsea_png() -> Path:
    return require_file(REPO / "sample_images" / "chelsea.png")


@pytest.fixture(autouse=True, scope="session")
def _apptest_uses_st_navigation():
    """AppTest resets ``PagesManager.uses_pages_directory`` before every run
    (streamlit/streamlit#14217), and the manager then sets it back to True because our
    pages live in a ``pages/`` folder, so every run after the first executes the page file
    alone, skipping the router. The real server keeps the flag False once ``st.navigation``
    is called; this makes AppTest do the same."""
    from streamlit.runtime.pages_manager import PagesManager

    original_init = PagesManager.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PagesManager, "__init__", init)
        yield
