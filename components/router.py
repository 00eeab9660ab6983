"""Keep every page behind the router, also when a browser opens a page's URL first.

Streamlit reads a folder named ``pages/`` next to the main script as an old-style
multipage app until the first run of ``st.navigation`` switches that off for the server.
So after a restart, a first visit to ``/evaluate`` would run ``pages/evaluate.py`` alone:
no shared sidebar, no router. A page that finds itself started that way switches the old
mode off and reruns; the rerun goes through ``app.py`` and lands on the same URL.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_router() -> None:
    """Call first in every page script."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
