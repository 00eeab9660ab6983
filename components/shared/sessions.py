"""What a browser session holds on the server beyond its widgets, released with it.

Streamlit releases a session's session-scoped resources (``st.cache_resource(scope=
"session")``, their ``on_release`` hooks) as soon as its tab disconnects, but keeps the
session itself for a reconnect (``server.disconnectedSessionTTL``, 120 s), after which
it is dropped from storage without being shut down, and only when the storage is next
written: its state (with a copy of every uploaded file), the bytes of its uploads and
the files of its media elements stay in memory until then, or for good. So:

- the Evaluate page's reports live in ``session_reports`` (session state only points at
  it), bounded by bytes and emptied at the disconnect, their views with them;
- ``session_end``, which the router opens on every run, gives the freed memory back to
  the system at the disconnect, and closes the session as Streamlit closes one (state,
  uploads, media files) when it has not come back just before the TTL ends.
"""

from __future__ import annotations

import asyncio
import gc
import logging

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.shared.cache import REPORT_VIEWS, budget_bytes
from visioncompare.kernel.bounded_cache import ByteBoundedDict, nbytes_of
from visioncompare.kernel.memory import release_free_memory

log = logging.getLogger(__name__)

EARLY_S = 5.0
"""A disconnected session that has not come back is closed this many seconds before its
reconnect TTL ends (Streamlit can no longer find it afterwards)."""


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


_DISCONNECTS: dict[str, object] = {}
"""Each disconnected session's latest disconnect (a reconnect and a new disconnect start
its wait again)."""


def _close_if_gone(session_id: str, disconnect: object) -> None:
    """Close a disconnected session that has not come back, as Streamlit closes one
    (``Runtime.close_session``: its state, uploads, media files and caches go), instead
    of leaving it to be dropped from storage later without that. On the event loop."""
    from streamlit import runtime

    if _DISCONNECTS.get(session_id) is not disconnect:  # disconnected again since
        return
    del _DISCONNECTS[session_id]
    if not runtime.exists():
        return
    server = runtime.get_instance()
    if server.is_active_session(session_id):  # it reconnected
        return
    server.close_session(session_id)
    gc.collect()  # the closed session's objects hold each other (cycles)
    release_free_memory()
    log.debug("closed session %s, disconnected and not back", session_id)


class SessionEnd:
    """Released when its session disconnects (``session_end``)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def release(self) -> None:
        from streamlit import config

        release_free_memory()
        try:  # Streamlit disconnects sessions on its event loop
            loop = asyncio.get_running_loop()
        except RuntimeError:  # elsewhere (AppTest): no server to close it on
            return
        ttl = float(config.get_option("server.disconnectedSessionTTL") or 0)
        # Just before Streamlit would drop it from storage (it is unreachable then).
        wait = ttl - EARLY_S if ttl > 2 * EARLY_S else ttl / 2
        disconnect = _DISCONNECTS[self.session_id] = object()
        loop.call_later(wait, _close_if_gone, self.session_id, disconnect)


@st.cache_resource(scope="session", on_release=SessionEnd.release, show_spinner=False)
def session_end() -> SessionEnd:
    """Opened by the router on every run: when the session disconnects, its freed memory
    goes back to the system, and once it has not come back for the reconnect TTL it is
    closed (its state, uploads and media files go)."""
    return SessionEnd(current_session_id())
