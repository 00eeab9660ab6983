"""The "Why numbers differ" view's ``yolo val`` walk: on a click, Ultralytics' own
validator runs on a YOLO copy of the dataset, and a table walks from the number it
prints to this report's, one change at a time (``visioncompare.services.yolo_val``)."""

from __future__ import annotations

import streamlit as st

from model_zoo import WeightsNotFoundError
from model_zoo.device import DeviceError
from visioncompare.kernel.tables import with_missing_as_na
from visioncompare.services.yolo_val import (
    YoloValUnavailable,
    run_yolo_val,
    unavailable,
)

WALKS = "yolo_val_walks"
"""The session's walks, by report id (a walk runs a model: kept for the session)."""


def yolo_val_section(report, report_id: str, key: str) -> None:
    """A button that runs ``yolo val`` for the report's Ultralytics detector, then the
    walk; a plain sentence instead when it cannot run here.

    Args:
        report: the ``EvaluationReport`` explored.
        report_id: its key (a walk is kept per report for the session).
        key: the page's widget key prefix.
    """
    st.markdown("**From the number `yolo val` prints to this one**")
    detector = None if report.detector_run is None else report.source
    reason = unavailable(report.dataset, detector)
    if reason is not None:
        st.info(f"yolo val cannot run for this evaluation: {reason}")
        return
    walks = st.session_state.setdefault(WALKS, {})
    if report_id not in walks:
        st.caption(
            f"`yolo val` makes its own predictions: this runs {detector} through "
            f"Ultralytics' validator on all {len(report.dataset)} images (as long as "
            "the evaluation's first run took)."
        )
        if not st.button("Run yolo val", key=f"{key}_yolo_val"):
            return
        with st.spinner("yolo val: Ultralytics' validator on a YOLO copy of the data…"):
            try:
                walks[report_id] = run_yolo_val(report, report.device)
            except (YoloValUnavailable, WeightsNotFoundError, DeviceError) as exc:
                st.error(f"yolo val cannot run: {exc}")
                return
    walk = walks[report_id]
    st.caption(
        "Each step changes one thing from a named earlier step: the predictions "
        "(yolo val's or this app's) or the metric recipe (Ultralytics' or pycocotools')."
    )
    st.table(with_missing_as_na(walk).hide(axis="index"))
    st.download_button(
        "yolo val walk (CSV)",
        walk.to_csv(index=False),
        file_name=f"{report.dataset.name}_{detector}_yolo_val_walk.csv".replace(
            "/", "_"
        ),
        mime="text/csv",
        key=f"{key}_yolo_val_csv",
        on_click="ignore",
    )
