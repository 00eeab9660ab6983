"""Shared test setup: offline mode, the repository on sys.path, and the bundled assets.

Tests read only what the repository holds (plus what pip installs): the bundled weights,
``data/``, ``sample_images/`` and their checksums in ``SHA256SUMS``."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
import weakref
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


SESSION_IDS: dict[int, str] = {}
"""The session id of each live AppTest, by its session state's id."""


def apptest_session_id(at) -> str:
    """The Streamlit session id an AppTest runs as (``_each_apptest_is_a_session``)."""
    return SESSION_IDS[id(at._session_state._state)]


def _session_ended(key: int, session_id: str) -> None:
    from streamlit.runtime import caching

    SESSION_IDS.pop(key, None)
    caching.clear_session_resource_cache(session_id)


@pytest.fixture(autouse=True)
def _main_module_restored():
    """AppTest runs its script as ``__main__`` and leaves ``sys.modules["__main__"]``
    pointing at it (app.py, or the temporary file of ``AppTest.from_function``); a later
    test whose multiprocessing children start by spawn would make each child re-run that
    script. Each test gets back the ``__main__`` it started with."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True, scope="session")
def _each_apptest_is_a_session():
    """AppTest runs every instance as one session id; a server gives each browser tab its
    own and releases its session-scoped resources (``on_release``) when it ends. This gives
    each AppTest its own id, and ends that session when the AppTest is garbage collected,
    so session-scoped caches (uploads, reports) are never shared between tests."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    original_test_init = AppTest.__init__
    original_runner_init = script_runner.ScriptRunner.__init__

    def test_init(self, *args, **kwargs):
        original_test_init(self, *args, **kwargs)
        key, session_id = id(self._session_state._state), f"apptest-{uuid.uuid4()}"
        SESSION_IDS[key] = session_id
        weakref.finalize(self, _session_ended, key, session_id)

    def runner_init(self, *args, session_id, session_state, **kwargs):
        session_id = SESSION_IDS.get(id(session_state), session_id)
        original_runner_init(
            self, *args, session_id=session_id, session_state=session_state, **kwargs
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AppTest, "__init__", test_init)
        patch.setattr(script_runner.ScriptRunner, "__init__", runner_init)
        yield
