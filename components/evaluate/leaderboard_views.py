"""The Evaluate page's leaderboard: every model of the run, accuracy here next to latency
here, and the publisher's figures."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.shared import cache
from components.shared.controls import shared_choice
from components.shared.views import CHART
from model_zoo import get_spec
from model_zoo.device import device_for
from visioncompare.evaluation.leaderboard import UNAVAILABLE
from visioncompare.plots.leaderboard import accuracy_latency_figure
from visioncompare.services.model_review import leaderboard, unavailable_detectors

TIMED = "evaluate_lb_timed"
"""Session state: the (dataset, device) pairs whose models this visitor asked to time."""
FORMATS = {
    **{c: "%.1f" for c in ("AP (%)", "AP50 (%)", "AP75 (%)", "AP small (%)",
                           "AP medium (%)", "AP large (%)", "AR100 (%)",
                           "tagging mAP (%)", "detector image-level mAP (%)",
                           "classes it can name (%)", "published (%)",
                           "latency p50 (ms)", "latency p95 (ms)",
                           "ms/image in the run", "params (M)", "GFLOPs",
                           "weights (MB)", "throughput (img/s)")},
}  # fmt: skip
DETECTOR_COLUMNS = [
    "model", "kind", "status", "AP (%)", "AP50 (%)", "AP75 (%)", "AP small (%)",
    "AP medium (%)", "AP large (%)", "AR100 (%)", "published (%)", "latency p50 (ms)",
    "latency p95 (ms)", "throughput (img/s)", "ms/image in the run", "params (M)",
    "GFLOPs", "weights (MB)", "timed on", "figures from",
]  # fmt: skip
CLASSIFIER_COLUMNS = [
    "model", "tagging mAP (%)", "detector image-level mAP (%)", "classes it can name (%)",
    "published (%)", "latency p50 (ms)", "latency p95 (ms)", "ms/image in the run",
    "params (M)", "GFLOPs", "weights (MB)", "timed on", "figures from",
]  # fmt: skip


def _table(frame: pd.DataFrame, columns: list[str]) -> None:
    shown = [c for c in columns if c in frame and (frame[c].notna() & (frame[c] != "")).any()]
    st.dataframe(
        frame[shown],
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format=f) for c, f in FORMATS.items()
        },
    )


def _latencies(results: list, dataset, dataset_id: str) -> dict:
    """The models' latencies measured here, once the visitor asks (a button): each
    model is loaded and timed once per server, dataset and device."""
    device = shared_choice().device
    models = [r.source for r in results if r.detector_run is not None]
    models += list(dict.fromkeys(r.classifier for r in results if r.tagging))
    asked = (dataset_id, device) in st.session_state.get(TIMED, set())
    if models and not asked:
        if st.button(
            "Measure latency here", key="evaluate_lb_time",
            help="Loads each model and times 30 calls at batch 1 on the dataset's first "
            "images (a few seconds per model); measured once per server.",
        ):  # fmt: skip
            st.session_state.setdefault(TIMED, set()).add((dataset_id, device))
            asked = True
    if not asked:
        return {}
    return {
        name: cache.dataset_latency(
            name, device_for(device, get_spec(name).devices)[0], dataset_id, dataset
        )
        for name in models
    }


def leaderboard_section(results: list, dataset, choice) -> None:
    """Every detector and predictions file of the run, and the classifier, in sortable
    tables; the accuracy-versus-latency chart with the Pareto front.

    Args:
        results: every report of the run.
        dataset: the dataset evaluated.
        choice: the page's ``EvaluateChoice`` (the detectors picked: those without
            weights here are listed as unavailable).
    """
    scored = {r.source for r in results}
    missing = [d for d in unavailable_detectors(choice.detectors) if d not in scored]
    latencies = _latencies(results, dataset, f"{choice.dataset}|{dataset.label}")
    frame = leaderboard(results, missing, latencies)
    detectors = frame[frame["kind"] != "classifier"]
    st.markdown(f"**Detectors on {dataset.label}** (click a column to sort)")
    _table(detectors, DETECTOR_COLUMNS)
    st.caption(
        "AP columns: COCO AP (IoU 0.50:0.95, 101-point) on this dataset, in percent. "
        "published: the publisher's COCO val2017 AP on its own hardware and all 5,000 "
        "images. Latency: the model's own time per call on one image (batch 1), "
        "median and 95th percentile, measured on this machine; ms/image in the run: "
        "while the stored predictions were made (batched, confidence 0.001). "
        f"{UNAVAILABLE.capitalize()}: listed, never scored with random weights."
    )
    _chart(detectors)
    classifiers = frame[frame["kind"] == "classifier"]
    if len(classifiers):
        st.markdown("**Classifiers as image taggers**")
        _table(classifiers, CLASSIFIER_COLUMNS)
        st.caption(
            "tagging mAP: the classifier's top classes as image-level tags (through "
            "the ImageNet→COCO mapping), against the detector's image-level mAP on the "
            "same images; published: ImageNet top-1."
        )


def _chart(detectors: pd.DataFrame) -> None:
    latency = "latency p50 (ms)"
    if detectors[latency].isna().all():
        latency = "ms/image in the run"
    if detectors.dropna(subset=["AP (%)", latency]).empty:
        st.info(
            "No model here has a time per image (predictions files carry none): the "
            "accuracy-versus-latency chart needs a detector of this machine."
        )
        return
    st.plotly_chart(
        accuracy_latency_figure(detectors, latency=latency),
        width="stretch",
        config=CHART,
        key="evaluate_lb_chart",
    )
    st.caption(
        "Orange: the Pareto front, the models no other is both more accurate and "
        "faster than. Grey diamonds: the published AP at the same latency."
        + (
            " The x-axis is the time per image while predicting, until you measure "
            "latency here."
            if latency == "ms/image in the run"
            else ""
        )
    )
