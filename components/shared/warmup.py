"""The first minute of a server: the default models load in the background, once, and
every page says so until they are ready.

``streamlit run app.py`` serves app.py's ``st.App``, whose lifespan starts the warm-up
3 s after the server starts (``warm_up()``, once per process); the router calls it too,
so the first session starts it if that comes sooner (and on a server started some other
way, where Streamlit runs no app code before the first session). A thread imports torch,
torchvision and Ultralytics (``model_zoo.device``), then loads the sidebar's default
classifier and detector side by side into the server-wide model cache the pages read
(``cache.get_model``) and runs each once on a small grey picture (the first call sets up
kernels and OpenVINO compiles its graph), so the first panels show each model's own
latency. Later sessions, and every session after the first minute, find the models
loaded.

The router draws the page's heading before anything slow, then ``wait_ui`` shows
"Loading the models, about N s" until the warm-up is done. This module imports neither
torch nor anything that does, at import time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

log = logging.getLogger(__name__)

DEFAULT_CLASSIFIER = "mobilenet_v2_quantized"
DEFAULT_DETECTOR = "yolov8n-int8"

LIBRARIES_S = 4.0
MODELS_S = 2.5
"""Seconds the two steps take on a 2-core machine with nothing else running (importing
torch, torchvision and Ultralytics; loading and running both default models side by
side): the status's first estimate. Once the libraries are imported, the models' share
is scaled by how long that took, so a busy machine gets a longer estimate."""


@dataclass
class WarmUp:
    """The warm-up's progress, read by every session's status (safe across threads:
    each field is written by the warm-up thread alone)."""

    models: tuple[str, ...]
    started: float = field(default_factory=time.monotonic)
    libraries_s: float | None = None
    """How long the libraries took to import; None until they are imported."""
    done: threading.Event = field(default_factory=threading.Event)
    loaded: dict[str, float] = field(default_factory=dict)
    """Seconds each model took to load and run once (those that loaded)."""

    def seconds_left(self, now: float | None = None) -> int | None:
        """About how many seconds until the models are ready; None when the estimate
        has run out (a busy machine, still importing the libraries)."""
        elapsed = (now if now is not None else time.monotonic()) - self.started
        if self.libraries_s is None:
            expected = LIBRARIES_S + MODELS_S
        else:
            expected = self.libraries_s * (1 + MODELS_S / LIBRARIES_S)
        left = round(expected - elapsed)
        return left if left >= 1 else None

    def status_text(self, now: float | None = None) -> str:
        left = self.seconds_left(now)
        when = f"about {left} s" if left else "a few more seconds"
        return f"Loading the models, {when}. This happens once, when the server starts."

    def run(self) -> None:
        """Import the libraries, then load and run each model in its own thread; a model
        that cannot load is logged (its page says why when it asks for it)."""
        try:
            import model_zoo.device  # noqa: F401  (torch, torchvision, Ultralytics)

            self.libraries_s = time.monotonic() - self.started
            threads = [
                threading.Thread(
                    target=self._load, args=(name,), name=f"warm-up {name}", daemon=True
                )
                for name in self.models
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except Exception:
            log.exception("warm-up: the libraries could not be imported")
        finally:
            self.done.set()
            log.info(
                "warm-up done in %.1f s (libraries %s s; %s)",
                time.monotonic() - self.started,
                f"{self.libraries_s:.1f}" if self.libraries_s is not None else "—",
                ", ".join(f"{n} {s:.1f} s" for n, s in self.loaded.items()) or "none",
            )

    def _load(self, name: str) -> None:
        start = time.monotonic()
        try:
            import numpy as np

            from components.shared import cache
            from model_zoo import Task

            loaded = cache.model_on(name, "auto")
            picture = np.full((64, 64, 3), 114, np.uint8)
            if loaded.spec.task is Task.DETECT:
                loaded.model.predict([picture], conf=0.25, iou=0.7)
            else:
                loaded.model.predict([picture])
            self.loaded[name] = time.monotonic() - start
        except Exception as exc:  # its page loads it again and says why
            log.warning(
                "warm-up: %s did not load (%s: %s)", name, type(exc).__name__, exc
            )


class _QuietWarmUpThreads(logging.Filter):
    """Streamlit warns when a thread outside a session touches the page; the warm-up's
    threads do that only through the model cache's spinner, which they never show."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.args and record.args[0]).startswith("warm-up")


_started: WarmUp | None = None
"""The warm-up ``warm_up`` started, for ``first_paint_status``."""


@st.cache_resource(show_spinner=False)
def warm_up(models: tuple[str, ...] = (DEFAULT_CLASSIFIER, DEFAULT_DETECTOR)) -> WarmUp:
    """Start the warm-up once per server process (the router calls it on every run)."""
    global _started
    warm = _started = WarmUp(models)
    logging.getLogger(
        "streamlit.runtime.scriptrunner_utils.script_run_context"
    ).addFilter(_QuietWarmUpThreads())
    threading.Thread(target=warm.run, name="warm-up", daemon=True).start()
    return warm


def wait_ui() -> None:
    """Until the warm-up is done: "Loading the models, about N s" where this is called,
    counting down; nothing once it is done."""
    warm = warm_up()
    if warm.done.is_set():
        return
    status = st.empty()
    status.info(warm.status_text(), icon=":material/hourglass_top:")
    preload = _preload_front_end()
    while not warm.done.wait(0.25):
        status.info(warm.status_text(), icon=":material/hourglass_top:")
    status.empty()
    preload.empty()


def _preload_front_end() -> st.delta_generator.DeltaGenerator:
    """A bar chart, a picture, a table and italic and code text, all made up and drawn out
    of sight while the models load. Streamlit's front end fetches each kind of element's
    JavaScript (and each font) only when a page first draws one, from the same server
    process that is about to run the page: Plotly alone takes about 2 s to fetch, parse
    and run on a 2-core machine, and a picture's or a table's code waited 0.7 s behind
    the page's own work. Fetched now, while the browser would otherwise wait, the first
    panels draw as soon as they arrive. Returns its slot, to empty when the models are
    ready."""
    import numpy as np
    import pandas as pd

    from components.shared.tables import show_table
    from visioncompare.kernel.types import Classification
    from visioncompare.plots.evaluation import topk_bar_figure

    made_up = Classification(np.array([0.6, 0.3, 0.1]), ("a", "b", "c"))
    slot = st.empty()
    with slot.container(key="front_end_preload"):
        st.html(
            "<style>.st-key-front_end_preload {position: absolute; left: -10000px;"
            " width: 600px; visibility: hidden}</style>"
        )
        st.markdown("*a* `b`")
        st.plotly_chart(topk_bar_figure(made_up, 3), key="front_end_preload_chart")
        st.image(np.full((8, 8, 3), 255, np.uint8))
        show_table(pd.DataFrame({"a": [0.5]}), key="front_end_preload_table")
    return slot


def first_paint_status() -> str:
    """The status the page's HTML carries (``components.shared.page_shell``), read
    without starting the warm-up: the models' estimate until they are loaded (before
    the warm-up begins, its full length: the server begins it within seconds), then
    that the page itself is loading."""
    warm = _started
    if warm is not None and warm.done.is_set():
        return "Loading the page."
    return (warm or WarmUp(())).status_text()
