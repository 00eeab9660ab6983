"""components.shared.warmup: the estimate the loading status shows, a warm-up that meets
a model it cannot load, and the server starting the warm-up by itself."""

from __future__ import annotations

import time

from components.shared import cache
from components.shared.warmup import (
    DEFAULT_CLASSIFIER,
    DEFAULT_DETECTOR,
    LIBRARIES_S,
    MODELS_S,
    WarmUp,
)
from tests.e2e_server import streamlit_server


def test_the_estimate_counts_down_and_scales_with_the_libraries_import():
    warm = WarmUp(("a",))
    assert warm.seconds_left(warm.started) == round(LIBRARIES_S + MODELS_S)
    assert warm.seconds_left(warm.started + 2) == round(LIBRARIES_S + MODELS_S - 2)
    assert warm.seconds_left(warm.started + 60) is None  # overdue: no number
    assert "a few more seconds" in warm.status_text(warm.started + 60)
    assert "about 3 s" in warm.status_text(warm.started + LIBRARIES_S + MODELS_S - 3)
    warm.libraries_s = 2 * LIBRARIES_S  # a machine twice as slow as expected
    left = warm.seconds_left(warm.started + warm.libraries_s)
    assert left == round(2 * MODELS_S)


def test_a_model_that_cannot_load_does_not_stop_the_warm_up():
    warm = WarmUp(("rtdetr-l", "mobilenet_v2_quantized"))  # no weights for the first
    warm.run()
    assert warm.done.is_set()
    assert list(warm.loaded) == ["mobilenet_v2_quantized"]
    assert warm.libraries_s is not None
    assert cache.LOAD_COUNTS[("mobilenet_v2_quantized", "cpu")] >= 1


def test_the_server_loads_the_default_models_before_anyone_visits(tmp_path):
    """``streamlit run app.py`` serves app.py's ``st.App``, whose lifespan starts the
    warm-up: the models load with no browser session at all."""
    log = tmp_path / "streamlit.log"
    with streamlit_server(log):
        deadline = time.monotonic() + 180
        while "warm-up done" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
    text = log.read_text()
    assert "warm-up done" in text, text
    done = next(line for line in text.splitlines() if "warm-up done" in line)
    assert f"{DEFAULT_CLASSIFIER} " in done and f"{DEFAULT_DETECTOR} " in done, done
    assert "Traceback" not in text, text


def test_the_status_the_pages_html_carries_follows_the_warm_up(monkeypatch):
    from components.shared import warmup

    monkeypatch.setattr(warmup, "_started", None)  # the server has not begun it yet
    expected = round(LIBRARIES_S + MODELS_S)
    assert warmup.first_paint_status().startswith(
        f"Loading the models, about {expected} s"
    )
    warm = WarmUp(("a",))
    monkeypatch.setattr(warmup, "_started", warm)
    assert warmup.first_paint_status() == warm.status_text()
    warm.done.set()
    assert warmup.first_paint_status() == "Loading the page."
