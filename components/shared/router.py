"""Keep every page behind the router, also when a browser opens a page's URL first.

Streamlit reads a folder named ``pages/`` next to the main script as an old-style
multipage app (``PagesManager.uses_pages_directory``, one flag for the whole server) until
the first ``st.navigation`` call switches that off. On a fresh server, each session whose
first run starts before that happens runs the page file alone, under Streamlit's own
file-name navigation: no shared sidebar, no router. The flag cannot tell such a run apart
(another session may clear it meanwhile), so a page looks at its own session's page list
instead: the old mode lists the main script (``app.py``) as a page, the router never does.
A page started that way switches the old mode off and reruns; the rerun goes through
``app.py`` and lands on the same URL.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


def started_without_router() -> bool:
    """True when this run executes a page file alone (old-style pages/ navigation)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return bool(PagesManager.uses_pages_directory)
    main = Path(ctx.main_script_path).resolve()
    return any(
        page.get("script_path") and Path(page["script_path"]).resolve() == main
        for page in ctx.pages_manager.get_pages().values()
    )


def require_router() -> None:
    """Call first in every page script."""
    if started_without_router():
        PagesManager.uses_pages_directory = False
        st.rerun()
