"""Evaluate: detectors (and the classifier), or uploaded predictions files, on held-out
COCO and VOC subsets or a visitor's own dataset, with IoU and mAP charts, a threshold
explorer and an error browser."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import streamlit as st

from components import cache
from components import evaluate_views as views
from components.controls import evaluate_inputs_ui, shared_choice, thresholds_ui
from components.router import require_router
from core.data_roots import require_inside
from core.datasets import DatasetError
from core.metrics.align import class_table
from core.session_files import images_present, report_key
from core.store import StoreError
from model_zoo import WeightsNotFoundError, get_spec
from model_zoo.device import DeviceError
from model_zoo.registry import weights_on_disk
from visioncompare.ray_engine import RayUnavailable
from visioncompare.report import is_stored, run_evaluation, runs_dir

require_router()

st.title("Evaluate on held-out data")
st.caption(
    "COCO-style AP/AR, VOC AP, per-class AP, precision-recall, IoU and confusion, computed "
    "once from stored predictions: moving a threshold never runs a model."
)


shared = shared_choice()
choice = evaluate_inputs_ui("evaluate", shared)
if choice is None:
    st.stop()
try:
    dataset = cache.load_dataset(choice.dataset)
    if choice.folder is not None:  # an upload or a server folder: no file outside it
        require_inside(dataset, choice.folder)
except (DatasetError, ValueError, TypeError, KeyError, OSError) as exc:
    # A dataset file's own mistakes are DatasetErrors naming the file and field; the
    # others still get a message (no traceback) without a server path.
    st.error(f"This dataset cannot be read: {choice.shown(exc)}")
    st.stop()
if not len(dataset):
    st.error(f"{dataset.name} holds no images.")
    st.stop()
detectors, classifier = choice.detectors, choice.classifier
pictures = images_present(dataset)
if pictures < len(dataset):
    views.missing_images_note(dataset, pictures, detectors, classifier)
    if not pictures:  # metrics need no pixels, models do
        detectors, classifier = (), None
predictions = choice.predictions
if not detectors and not predictions:
    st.info("Pick at least one detector, or upload a predictions file.")
    st.stop()
if len(detectors) + len(predictions) > 2:
    predictions = predictions[: max(0, 2 - len(detectors))]
    named = [*detectors, *(p.name for p in predictions)]
    st.warning(f"Two at a time: evaluating {' and '.join(named)}.")

# Uploaded files by their place (named by content): a new file of the same name is new.
sources = (*detectors, *(str(p.path) for p in predictions))
state_key = (choice.dataset, sources, classifier)
reports = st.session_state.setdefault("evaluate_reports", {})
# Predictions on a visitor's upload stay in the session's own store, removed with it.
store = (
    choice.files.store
    if choice.uploaded and choice.files is not None
    else cache.prediction_store(str(runs_dir()))
)
stored = all(
    is_stored(dataset, d, classifier if n == 0 else None, store, shared.device)
    for n, d in enumerate(detectors)
) and (  # with predictions files alone, the classifier is the only model to run
    bool(detectors)
    or classifier is None
    or is_stored(dataset, None, classifier, store, shared.device)
)
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
    # Any rerun interrupts this script: the Stop button (or any other widget) ends the run
    # after the image in progress, and everything already predicted stays in the store.
    # The button lives in a placeholder that is emptied when the run ends.
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

    try:
        results = []
        for n, detector in enumerate(detectors):
            results.append(
                run_evaluation(
                    dataset,
                    detector=detector,
                    classifier=classifier if n == 0 else None,
                    device=shared.device,
                    store=store,
                    progress=report_progress,
                    get_model=lambda name: cache.model_on(name, shared.device).model,
                    engine=engine,
                )
            )
        for upload in predictions:  # the CLI's --predictions, per upload
            report = run_evaluation(
                dataset,
                predictions=str(upload.path),
                classifier=classifier if not results else None,
                device=shared.device,
                store=store,
                progress=report_progress,
                get_model=lambda name: cache.model_on(name, shared.device).model,
            )
            results.append(replace(report, source=upload.name))
        reports[state_key] = results
        progress.empty()
        stop_slot.empty()
    except (WeightsNotFoundError, DeviceError, KeyError, ValueError, RayUnavailable,
            StoreError) as exc:  # fmt: skip
        progress.empty()
        stop_slot.empty()
        st.error(f"The evaluation could not run: {choice.shown(exc)}")
        st.stop()

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
            st.markdown(f"**{name}** on {dataset.name}:")
            views.class_table_section(class_table(detector.class_names, dataset))
    st.stop()

report = results[0]
# Server-wide caches read views of a report by this id: it names the dataset's path (a
# session's upload has its own) and the predictions' content, so no other session
# ever gets them.
report_id = report_key(
    report, choice.dataset, None if detectors else predictions[0].path
)
notes = []
if dataset.renamed:
    notes.append(
        "classes renamed: "
        + ", ".join(f"{a} → {b}" for a, b in dataset.renamed.items())
    )
if report.dropped:
    notes.append(
        f"{sum(report.dropped.values())} predicted boxes of classes this dataset does not "
        "annotate were left out"
    )
st.subheader(f"{report.source} on {dataset.name}")
if notes:
    st.caption("; ".join(notes) + ".")
views.class_table_section(report.class_table)
views.summary_cards(report)


@st.fragment
def explorer() -> None:
    """Everything that depends on the thresholds: a slider reruns only this part."""
    st.subheader("Threshold explorer")
    conf, iou = thresholds_ui("evaluate", report.params.conf, report.params.iou)
    explorer = report.explorer
    match = explorer.match(iou)
    records = match.at_confidence(conf)
    views.threshold_metrics(explorer.summary(conf, iou))

    tabs = st.tabs(
        [
            "Precision-recall",
            "Per class",
            "IoU",
            "Confusion matrix",
            "Error browser",
            "Error types",
            "Per image",
            "By size",
            "Best threshold",
            "COCO table",
            *(["Two detectors"] if len(results) > 1 else []),
            *(["Classification vs detection"] if report.tagging is not None else []),
            "Why mAP differs",
            "Downloads",
        ]
    )
    tab = iter(tabs)
    with next(tab):
        views.pr_section(report, match, conf, "evaluate")
    with next(tab):
        views.per_class_section(report, "evaluate")
    with next(tab):
        views.iou_section(records, iou, "evaluate")
    with next(tab):
        names = {s.image_id: s.name for s in dataset.samples}
        views.confusion_section(explorer.confusion(conf, iou), names, "evaluate")
    with next(tab):
        views.errors_section(records, dataset, "evaluate")
    with next(tab):
        views.error_types_section(report, records, conf, "evaluate")
    with next(tab):
        views.per_image_section(report, records, conf, iou, "evaluate", report_id)
    with next(tab):
        views.size_section(report, iou, "evaluate")
    with next(tab):
        views.best_point_section(report, iou, "evaluate", report_id)
    with next(tab):
        views.coco_table(report)
    if len(results) > 1:
        with next(tab):
            views.compare_section(results[0], results[1], "evaluate")
            views.two_models_images_section(
                results[0], results[1], records, conf, iou, "evaluate"
            )
    if report.tagging is not None:
        with next(tab):
            views.tagging_section(report)
            probabilities = (
                choice.files.probabilities(report.classifier_run.key)
                if choice.uploaded
                else cache.classifier_probabilities(
                    report.classifier_run.key, str(runs_dir())
                )
            )
            views.tagging_images_section(
                report, records, conf, "evaluate", report_id, probabilities
            )
    with next(tab):
        st.caption("The same stored predictions, scored the ways different tools do:")
        views.disagreement_section(cache.disagreement(report_id, report))
    with next(tab):
        views.downloads(report, records, "evaluate", report_id)


explorer()
