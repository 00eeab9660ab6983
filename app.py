"""VisionCompare: image classification and object detection, side by side.

Router only: page config, the shared sidebar, and the page list.
Run with ``streamlit run app.py``.
"""

from __future__ import annotations

import logging

import streamlit as st

from components.shared import cache, sessions
from components.shared.controls import shared_sidebar_ui

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="VisionCompare", page_icon="🔍", layout="wide")
# Upload folders that servers before this one left behind go on its first run.
cache.remove_upload_leftovers()
# When this session ends, what it held goes (its uploads, media files, freed memory).
sessions.session_end()

navigation = st.navigation(
    [
        st.Page(
            "pages/compare.py", title="Compare", icon=":material/compare:", default=True
        ),
        st.Page("pages/live.py", title="Live", icon=":material/videocam:"),
        st.Page("pages/video.py", title="Video", icon=":material/movie:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
        st.Page("pages/models.py", title="Models", icon=":material/inventory_2:"),
    ]
)
shared_sidebar_ui()
navigation.run()
