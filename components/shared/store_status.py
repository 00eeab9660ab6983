"""The predictions store's outages as a visitor reads them: one sentence with the
driver's reason in a few words (never the server's address), the full message in the
server's log, no traceback."""

from __future__ import annotations

import logging

import streamlit as st

from visioncompare.evaluation.store import StoreUnavailable

log = logging.getLogger(__name__)


def unreachable_text(error: StoreUnavailable) -> str:
    """``The predictions store is unreachable: <cause>.``"""
    return f"The predictions store is unreachable: {error.cause}."


def show_unreachable(error: StoreUnavailable, then: str, warning: bool = False) -> None:
    """Tell the visitor the store is down (an error, or a ``warning`` when the page goes
    on without it), followed by ``then``: what still works, or what to do."""
    log.warning("%s", error)
    (st.warning if warning else st.error)(f"{unreachable_text(error)} {then}")
