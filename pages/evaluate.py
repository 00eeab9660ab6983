"""Evaluate: detectors (and the classifier), or uploaded predictions files, on held-out
COCO and VOC subsets or a visitor's own dataset, with IoU and mAP charts, a threshold
explorer and an error browser."""

from __future__ import annotations

import os

import streamlit as st

from components.evaluate import header
from components.evaluate.explorer import explorer_fragment
from components.evaluate.run import all_stored, page_store, report_view_id, run_reports
from components.shared import cache, sessions
from components.shared.controls import evaluate_inputs_ui, shared_choice
from components.shared.router import require_router
from components.shared.titles import dataset_title, model_title
from model_zoo import get_spec
from model_zoo.identity import weights_on_disk
from visioncompare.datasets import DatasetError
from visioncompare.datasets.kitti import at_difficulty
from visioncompare.evaluation.metrics.align import class_table

require_router()

shared = shared_choice()
choice = evaluate_inputs_ui("evaluate", shared)
if choice is None:
    st.stop()
try:
    load = cache.load_uploaded_dataset if choice.uploaded else cache.load_dataset
    # An upload or a server folder: its images are checked to lie inside it, once.
    dataset = load(choice.dataset, None if choice.folder is None else str(choice.folder))
except (DatasetError, ValueError, TypeError, KeyError, OSError) as exc:
    # A dataset file's own mistakes are DatasetErrors naming the file and field; the
    # others still get a message (no traceback) without a server path.
    st.error(f"This dataset cannot be read: {choice.shown(exc)}")
    st.stop()
if not len(dataset):
    st.error(f"{dataset_title(dataset)} holds no images.")
    st.stop()
pictures = cache.images_on_disk(dataset)
level = header.kitti_difficulty_choice(dataset, "evaluate")
if level is not None:  # the same images and boxes: stored predictions are reused
    dataset = at_difficulty(dataset, level)
detectors, classifier = choice.detectors, choice.classifier
if pictures < len(dataset):
    header.missing_images_note(dataset, pictures, detectors, classifier)
    if not pictures:  # metrics need no pixels, models do
        detectors, classifier = (), None
predictions = choice.predictions
if not detectors and not predictions:
    st.info("Pick at least one detector, or upload a predictions file.")
    st.stop()

# Uploaded files by their place (named by content): a new file of the same name is new.
sources = (*detectors, *(str(p.path) for p in predictions))
state_key = (choice.dataset, level, sources, classifier)
# The session's reports live in a session-scoped resource, released (memory given back)
# when the session disconnects; session state only points at it.
reports = st.session_state["evaluate_reports"] = sessions.session_reports()
# Predictions on a visitor's upload stay in the session's own store, removed with it;
# an outage of the store is a warning here and a message when Evaluate is pressed.
stored = all_stored(dataset, detectors, classifier, choice, shared.device)
engine = "local"
# A Ray cluster is configured: offer it (not for an upload: it lives on this server only).
if os.environ.get("RAY_ADDRESS") and not choice.uploaded:
    engine = st.radio(
        "Predict on", ["local", "ray"], horizontal=True, key="evaluate_engine",
        format_func={"local": "this server",
                     "ray": f"the Ray cluster ({os.environ['RAY_ADDRESS']})"}.get,
    )  # fmt: skip
pressed = st.button(
    "Evaluate" if not stored else "Evaluate (stored: instant)",
    type="primary",
    key="evaluate_run",
)
if st.session_state.get("evaluate_stop"):
    st.info(
        "Stopped. Every image predicted so far is stored; press Evaluate to continue "
        "from there."
    )
if pressed or (state_key not in reports and stored):
    reports.put(state_key, run_reports(
        dataset, detectors, predictions, classifier, lambda: page_store(choice), engine,
        shared.device, choice.shown,
    ))  # fmt: skip

results = reports.get(state_key)
if results is None:
    st.info(
        f"{len(dataset)} images, {dataset.num_boxes} boxes, {len(dataset.class_names)} "
        "classes. Press Evaluate: predictions are made once and stored."
    )
    # Before any model runs: how each detector's classes line up with the dataset's.
    for name in detectors:
        if weights_on_disk(get_spec(name)):
            detector = cache.model_on(name, shared.device).model
            st.markdown(f"**{model_title(name)}** on {dataset_title(dataset)}:")
            header.class_table_section(class_table(detector.class_names, dataset))
    st.stop()

report = results[0]
report_id = report_view_id(report, choice)  # its views are cached under this id
header.report_header(report, dataset)
header.class_table_section(report.class_table)
header.summary_cards(report)
# Everything that depends on the thresholds: a slider reruns only this fragment, which
# reads its reports from the session (it holds no report itself).
explorer_fragment(state_key, report_id, choice)
