"""What a browser session holds on the server beyond its widgets, released with it.

Streamlit releases a session's session-scoped resources (``st.cache_resource(scope=
"session")``, their ``on_release`` hooks) as soon as its tab disconnects, but keeps the
session itself for a reconnect (``server.disconnectedSessionTTL``, 120 s) and then drops
it without shutting it down: its state, the bytes of its uploads and the files of its
media elements (download buttons, images) would stay in memory. So:

- the Evaluate page's reports live in ``session_reports`` (session state only points at
  it), bounded by bytes and emptied at the disconnect, their views with them;
- ``session_end``, which the router opens on every run, gives the freed memory back to
  the system at the disconnect, and once the session has not come back within the TTL,
  removes Streamlit's copies of its uploads and media files.
"""

from __future__ import annotations

import logging
import threading

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.shared.cache import REPORT_VIEWS, budget_bytes
from visioncompare.kernel.bounded_cache import ByteBoundedDict, nbytes_of
from visioncompare.kernel.memory import release_free_memory

log = logging.getLogger(__name__)

LINGER_S = 5.0
"""Seconds past the reconnect TTL before a session's uploads and media files go."""


def current_session_id() -> str:
    """The browser session running this script (``local`` outside one)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "local"


def session_report_id(key: str) -> str:
    """A report's id in ``cache.REPORT_VIEWS``: this session's id, then the report's own
    key (``visioncompare.evaluation.session_files.report_key``): reports live in their
    session, and so do their views."""
    return f"{current_session_id()}/{key}"


class SessionReports(ByteBoundedDict):
    """One session's evaluated runs (evaluation state -> its reports), the oldest let go
    once they hold more than ``VISIONCOMPARE_SESSION_REPORTS_MB`` (default 256; the
    newest always stays; the dataset, which ``cache.load_dataset`` holds, is not
    counted)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            budget_bytes("VISIONCOMPARE_SESSION_REPORTS_MB", 256),
            lambda results: nbytes_of(results, skip=[r.dataset for r in results]),
        )
        self.session_id = session_id

    def release(self) -> None:
        """The session ended: forget its reports and their views, and give the memory
        they held back to the system."""
        self.clear()
        REPORT_VIEWS.clear(f"{self.session_id}/")
        release_free_memory()


@st.cache_resource(scope="session", on_release=SessionReports.release, show_spinner=False)
def session_reports() -> SessionReports:
    """This browser session's evaluation reports, released when it disconnects (never
    held for sessions that ended). The threshold explorer reads its report here."""
    return SessionReports(current_session_id())


def _remove_streamlit_copies(session_id: str) -> None:
    """Streamlit's copies of a session's uploads and media files, unless the session
    came back (a reconnect keeps them)."""
    from streamlit import runtime

    if not runtime.exists():
        return
    server = runtime.get_instance()
    if server.is_active_session(session_id):
        return
    server.uploaded_file_mgr.remove_session_files(session_id)
    server.media_file_mgr.clear_session_refs(session_id)
    server.media_file_mgr.remove_orphaned_files()
    sources = getattr(server, "dataframe_source_mgr", None)
    if sources is not None:
        sources.clear_all_for_session(session_id)
    release_free_memory()
    log.debug("removed the uploads and media files of ended session %s", session_id)


class SessionEnd:
    """Released when its session disconnects (``session_end``)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def release(self) -> None:
        from streamlit import config, runtime

        release_free_memory()
        if not runtime.exists():  # AppTest: no server, no copies
            return
        ttl = float(config.get_option("server.disconnectedSessionTTL") or 0)
        timer = threading.Timer(
            ttl + LINGER_S, _remove_streamlit_copies, (self.session_id,)
        )
        timer.daemon = True
        timer.start()


@st.cache_resource(scope="session", on_release=SessionEnd.release, show_spinner=False)
def session_end() -> SessionEnd:
    """Opened by the router on every run: when the session disconnects, its freed memory
    goes back to the system, and its uploads' and media files' bytes once it is gone."""
    return SessionEnd(current_session_id())
