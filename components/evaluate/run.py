"""The Evaluate page's run: predictions made (or read back) with a progress bar and a Stop
button, one report per detector or uploaded predictions file; the predictions store it
reads and writes, whose outages are messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from components.shared import cache, sessions
from components.shared.store_status import show_unreachable
from model_zoo import WeightsNotFoundError
from model_zoo.device import DeviceError
from visioncompare.evaluation.session_files import report_key
from visioncompare.evaluation.store import PredictionStore, StoreError, StoreUnavailable
from visioncompare.services.engines.ray import RayUnavailable
from visioncompare.services.evaluation_run import is_stored, run_evaluation, runs_dir


def report_view_id(report, choice) -> str:
    """A report's id in ``cache.REPORT_VIEWS``: its session's, then one naming the
    dataset's path (a session's upload has its own) and, for an uploaded predictions
    file, the file's content (its place is named by it)."""
    uploads = {p.name: p.path for p in choice.predictions}
    file = None if report.detector_run is not None else uploads.get(report.source)
    return sessions.session_report_id(report_key(report, choice.dataset, file))


def page_store(choice) -> PredictionStore:
    """The store of the page's runs: the session's own for an upload (removed with the
    session), else the server's.

    Raises:
        StoreUnavailable: it cannot be opened now.
    """
    if choice.uploaded and choice.files is not None:
        return choice.files.store
    return cache.prediction_store(str(runs_dir()))


def all_stored(
    dataset, detectors: tuple[str, ...], classifier: str | None, choice, device: str
) -> bool:
    """True when every model run the page needs is stored (Evaluate then reads them back
    at once, without a click). An unreachable store is a warning, not a crash: nothing
    counts as stored, and Evaluate says what happened when pressed.
    """

    def check() -> bool:
        if not detectors and classifier is None:
            return True  # predictions files alone: no model runs
        store = page_store(choice)
        return all(
            is_stored(dataset, d, classifier if n == 0 else None, store, device)
            for n, d in enumerate(detectors)
        ) and (  # with predictions files alone, the classifier is the only model to run
            bool(detectors) or is_stored(dataset, None, classifier, store, device)
        )

    try:
        try:
            return check()
        except StoreUnavailable:
            # A connection that a server restart dropped fails once and is replaced on
            # the next call: ask again before telling the visitor.
            return check()
    except StoreUnavailable as exc:
        show_unreachable(
            exc,
            "Stored runs cannot be read or saved until it is back; then press Evaluate, "
            "and every run goes on from the images stored before.",
            warning=True,
        )
        return False


def run_reports(
    dataset,
    detectors: tuple[str, ...],
    predictions: tuple,
    classifier: str | None,
    open_store: Callable[[], PredictionStore],
    engine: str,
    device: str,
    shown: Callable[[Exception], str],
) -> list:
    """Evaluate each detector, then each uploaded predictions file (the command line's
    ``--predictions``); the classifier goes with the first. A failure is shown (through
    ``shown``, which keeps server paths from the visitor) and stops the script; so is an
    outage of the store (``open_store`` gives it): what was stored before it is kept, and
    the next Evaluate goes on from there.

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

    try:
        common = {
            "device": device,
            "store": open_store(),
            "progress": report_progress,
            "get_model": get_model,
        }
        results = []
        for detector in detectors:
            try:
                results.append(
                    run_evaluation(
                        dataset,
                        detector=detector,
                        engine=engine,
                        classifier=None if results else classifier,
                        **common,
                    )
                )
            except WeightsNotFoundError:
                # Among several, the leaderboard lists it as unavailable (never scored
                # with random weights); alone, or with nothing else to show, it is an error.
                if detector == detectors[-1] and not (results or predictions):
                    raise
        for upload in predictions:
            report = run_evaluation(
                dataset,
                predictions=str(upload.path),
                classifier=classifier if not results else None,
                **common,
            )
            results.append(replace(report, source=upload.name))
    except StoreUnavailable as exc:
        progress.empty()
        stop_slot.empty()
        show_unreachable(
            exc,
            "Every image predicted before it went is stored: press Evaluate once it is "
            "back, and the run goes on from there.",
        )
        st.stop()
    except (WeightsNotFoundError, DeviceError, KeyError, ValueError, RayUnavailable,
            StoreError) as exc:  # fmt: skip
        progress.empty()
        stop_slot.empty()
        st.error(f"The evaluation could not run: {shown(exc)}")
        st.stop()
    progress.empty()
    stop_slot.empty()
    return results
