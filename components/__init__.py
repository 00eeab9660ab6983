"""The app's Streamlit code, grouped by page (``compare`` lives in ``shared``: its panels
serve every page), plus what pages share (``shared``: caches, controls, the router, views).

Only ``app.py``, ``pages/`` and this package import streamlit. Components may import the
services, the model zoo and the pure library; nothing below imports them.
"""
