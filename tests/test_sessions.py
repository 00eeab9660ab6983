"""What a browser session holds goes when it ends (``components.shared.sessions``)."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field

import numpy as np
import pytest

from components.shared import sessions


@pytest.fixture
def server(monkeypatch):
    """A stand-in for Streamlit's runtime: which sessions are connected, which closed;
    the reconnect TTL is 0.2 s."""
    from streamlit import config, runtime

    class Server:
        def __init__(self) -> None:
            self.active: set[str] = set()
            self.closed: list[str] = []

        def is_active_session(self, session_id: str) -> bool:
            return session_id in self.active

        def close_session(self, session_id: str) -> None:
            self.closed.append(session_id)

    # Sessions of earlier tests (AppTest's) that are still waiting for the collector
    # release their resources now, not inside this test's event loop.
    gc.collect()
    fake = Server()
    get_option = config.get_option
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: fake)
    monkeypatch.setattr(
        config,
        "get_option",
        lambda name: 0.2 if name == "server.disconnectedSessionTTL" else get_option(name),
    )
    return fake


def test_a_session_that_does_not_come_back_is_closed(server):
    """Closed (as Streamlit closes one: state, uploads, media) before its reconnect TTL
    ends; not when it came back; after its latest disconnect only."""

    async def disconnects() -> None:
        sessions.SessionEnd("gone").release()
        sessions.SessionEnd("back").release()
        server.active.add("back")  # reconnected
        sessions.SessionEnd("twice").release()
        sessions.SessionEnd("twice").release()  # came back and left again
        await asyncio.sleep(0.5)

    asyncio.run(disconnects())
    assert server.closed == ["gone", "twice"]
    assert not sessions._DISCONNECTS


def test_outside_the_server_nothing_is_scheduled(server):
    sessions.SessionEnd("apptest").release()  # no event loop: AppTest, a script
    assert "apptest" not in sessions._DISCONNECTS and not server.closed


def test_a_sessions_reports_keep_the_newest_and_go_with_it():
    """The reports of a session are bounded by bytes (the newest run always kept), and
    released with their views."""
    from components.shared.cache import REPORT_VIEWS

    @dataclass(eq=False)
    class Report:  # what the size estimate reads: arrays, and a dataset left out
        boxes: np.ndarray
        dataset: np.ndarray = field(default_factory=lambda: np.zeros(1_000_000))

    reports = sessions.SessionReports("s-test")
    reports.max_bytes = 100_000
    reports.put("first", [Report(np.zeros(5000))])  # 40 KB
    reports.put("second", [Report(np.zeros(5000))])
    assert list(reports) == ["first", "second"]
    reports.put("third", [Report(np.zeros(20_000))])  # 160 KB: over the budget alone, kept
    assert list(reports) == ["third"]
    REPORT_VIEWS.put("s-test/r|view:()", np.zeros(10))
    REPORT_VIEWS.put("other/r|view:()", np.zeros(10))
    reports.release()
    assert not reports and REPORT_VIEWS.get("s-test/r|view:()") is None
    assert REPORT_VIEWS.get("other/r|view:()") is not None
    REPORT_VIEWS.clear("other/")
