"""VisionCompare: image classification and object detection, side by side.

Router only: page config, the page list, each page's heading, the shared sidebar.
Run with ``streamlit run app.py``.

The first minute of a server: ``streamlit run app.py`` serves the ``st.App`` below, whose
lifespan starts loading the default models in the background 3 s after the server starts,
or with the first visitor's first run if that comes sooner (``components.shared.warmup``).
Its middleware writes the page's heading and the server's status into the HTML itself, so
the browser paints them before Streamlit's JavaScript has loaded
(``components.shared.page_shell``). Then Streamlit draws the page list and the page's
heading (nothing above them imports torch), its status until the models are loaded, the
sidebar and the page itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

import streamlit as st

from components.shared import warmup

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

# script: (title in the sidebar, icon, heading, caption); the first page is the default.
PAGES = {
    "pages/compare.py": (
        "Compare", ":material/compare:", "Classification vs detection",
        "A classifier names the image; a detector finds every object and says where it "
        "is. The two models run one after the other, so each panel's latency is that "
        "model's own.",
    ),
    "pages/live.py": (
        "Live", ":material/videocam:", "Live camera",
        "Your own camera, from any machine that opens this page: every frame that the "
        "models can keep up with goes through the detector (boxes, labels, scores) and "
        "the classifier (its top-3 for the whole frame, in the band at the bottom). "
        "Press START and allow the camera.",
    ),
    "pages/video.py": (
        "Video", ":material/movie:", "Video",
        "A video through both models: the detector tracks every object (each keeps its "
        "id from frame to frame), the classifier gives each frame one label. The "
        "annotated video plays in the browser and can be downloaded.",
    ),
    "pages/evaluate.py": (
        "Evaluate", ":material/analytics:", "Evaluate on held-out data",
        "COCO-style AP/AR, VOC AP, per-class AP, precision-recall, IoU and confusion, "
        "computed once from stored predictions: moving a threshold never runs a model.",
    ),
    "pages/learn.py": (
        "Learn", ":material/school:", "Learn: classification vs detection",
        "Every number on this page is computed now, by the real models, on the image "
        "you pick.",
    ),
    "pages/models.py": (
        "Models", ":material/inventory_2:", "Model zoo", None,
    ),
}  # fmt: skip


def main() -> None:
    """One run of the router: the page list, the page's heading and status, the shared
    sidebar, then the page."""
    st.set_page_config(page_title="VisionCompare", page_icon="🔍", layout="wide")
    # .streamlit/config.toml hides Streamlit's file-name list of pages/ (the first session
    # of a new server would show it until this line); the router's own list is shown.
    st.set_option("client.showSidebarNavigation", True)
    navigation = st.navigation(
        [
            st.Page(script, title=title, icon=icon, default=n == 0)
            for n, (script, (title, icon, _, _)) in enumerate(PAGES.items())
        ]
    )
    _, _, heading, caption = next(p for p in PAGES.values() if p[0] == navigation.title)
    st.title(heading)
    if caption:
        st.caption(caption)
    warmup.wait_ui()

    # After the heading: these reach torch, which the warm-up imports first.
    from components.shared import cache, sessions
    from components.shared.controls import shared_sidebar_ui

    # Upload folders that servers before this one left behind go on its first run.
    cache.remove_upload_leftovers()
    # When this session ends, what it held goes (its uploads, media files, freed memory).
    sessions.session_end()
    shared_sidebar_ui()
    try:
        navigation.run()
    finally:
        # What Streamlit's runner.postScriptGC did after every run, now after a whole
        # page's only: not after each rerun of a fragment (.streamlit/config.toml).
        gc.collect()


# Seconds after the server starts that it starts loading the default models, unless a
# session has started them first. Importing the libraries holds the GIL for seconds: begun
# at once, it made a visitor who opened the page right away wait 1 s longer for
# Streamlit's front end and the page's heading (docs/benchmarks.md, "First minute"). (A
# comment, not a docstring: Streamlit would write a bare string in this script on the page.)
WARM_UP_AFTER_S = 3.0


@contextlib.asynccontextmanager
async def _warm_up_with_the_server(_app):
    """The server's start: the default models begin loading before anyone visits."""
    asyncio.get_running_loop().call_later(WARM_UP_AFTER_S, warmup.warm_up)
    yield


# `streamlit run app.py` finds this ``st.App`` (by reading the file) and imports the file
# as the module ``app`` to serve it: the server then starts the warm-up itself, instead of
# waiting for the first visitor's session. Each session runs the file as __main__.
if __name__ == "app":
    from pathlib import Path

    from starlette.middleware import Middleware

    from components.shared.page_shell import PageShell

    app = st.App(
        __file__,
        lifespan=_warm_up_with_the_server,
        middleware=[
            Middleware(
                PageShell,
                headings={Path(s).stem: page[2:] for s, page in PAGES.items()},
                default=next(iter(PAGES.values()))[2:],
                status=warmup.first_paint_status,
            )
        ],
    )

# Streamlit runs this file as __main__; a process that merely imports it (multiprocessing's
# spawn re-reads the parent's __main__, which AppTest leaves pointing here) draws nothing.
if __name__ == "__main__":
    main()
