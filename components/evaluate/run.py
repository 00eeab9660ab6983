"""The Evaluate page's run: predictions made (or read back) with a progress bar and a Stop
button, one report per detector or uploaded predictions file."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from components.shared import cache
from model_zoo import WeightsNotFoundError
from model_zoo.device import DeviceError
from visioncompare.evaluation.store import StoreError
from visioncompare.services.engines.ray import RayUnavailable
from visioncompare.services.evaluation_run import run_evaluation


def run_reports(
    dataset,
    detectors: tuple[str, ...],
    predictions: tuple,
    classifier: str | None,
    store,
    engine: str,
    device: str,
    shown: Callable[[Exception], str],
) -> list:
    """Evaluate each detector, then each uploaded predictions file (the command line's
    ``--predictions``); the classifier goes with the first. A failure is shown (through
    ``shown``, which keeps server paths from the visitor) and stops the script.

    Any rerun interrupts this script: the Stop button (or any other widget) ends the run
    after the image in progress, and everything already predicted stays in the store.
    The button lives in a placeholder that is emptied when the run ends.
    """
    stop_slot = st.empty()
    stop_slot.button(
        "Stop evaluating",
        key="evaluate_stop",
        icon=":material/stop_circle:",
        help="Stops after the image in progress; every image predicted so far is stored "
        "and the next Evaluate continues from there. (Streamlit's own Stop, top right, "
        "does the same.)",
    )
    progress = st.progress(0.0, text="Starting…")
    started: dict[str, tuple[float, int]] = {}

    def report_progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        # The rate counts only this run's images (a resumed run starts part-way).
        first, first_done = started.setdefault(stage, (now, done))
        rate = (done - first_done) / (now - first) if now > first else 0.0
        left = (
            f", about {(total - done) / rate:.0f} s left"
            if rate and done < total
            else ""
        )
        progress.progress(
            done / max(total, 1), text=f"{stage}: {done} / {total} images{left}"
        )

    def get_model(name: str):
        return cache.model_on(name, device).model

    common = {
        "device": device,
        "store": store,
        "progress": report_progress,
        "get_model": get_model,
    }
    try:
        results = []
        for n, detector in enumerate(detectors):
            results.append(
                run_evaluation(
                    dataset,
                    detector=detector,
                    engine=engine,
                    classifier=classifier if n == 0 else None,
                    **common,
                )
            )
        for upload in predictions:
            report = run_evaluation(
                dataset,
                predictions=str(upload.path),
                classifier=classifier if not results else None,
                **common,
            )
            results.append(replace(report, source=upload.name))
    except (WeightsNotFoundError, DeviceError, KeyError, ValueError, RayUnavailable,
            StoreError) as exc:  # fmt: skip
        progress.empty()
        stop_slot.empty()
        st.error(f"The evaluation could not run: {shown(exc)}")
        st.stop()
    progress.empty()
    stop_slot.empty()
    return results
