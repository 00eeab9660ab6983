"""The Evaluate page's leaderboard: every model of the run, accuracy here next to latency
here, and the publisher's figures."""

from __future__ import annotations

import weakref

import pandas as pd
import streamlit as st

from components.evaluate.run import all_stored, page_store
from components.shared import cache
from components.shared.controls import shared_choice
from components.shared.store_status import show_unreachable
from components.shared.titles import model_title
from components.shared.views import CHART
from model_zoo import Task, WeightsNotFoundError, get_spec, list_models
from model_zoo.device import DeviceError, device_for
from visioncompare.evaluation.leaderboard import AVAILABLE, UNAVAILABLE
from visioncompare.evaluation.store import StoreError, StoreUnavailable
from visioncompare.plots.leaderboard import accuracy_latency_figure
from visioncompare.services.model_review import (
    leaderboard,
    models_to_time,
    score_classifiers,
    unavailable_models,
)

PICKED = "evaluate_lb_classifiers"
"""The classifiers multiselect (Streamlit drops its state while the tab is closed)."""
KEPT = "evaluate_lb_classifiers_kept"
"""Session state: the classifiers picked last, the multiselect's value when reopened."""
SCORES = "evaluate_lb_scores"
"""Session state: (report id, classifier, device) -> (a weak reference to the report,
its ``ClassifierScore``)."""
MEMO_SIZE = 16
TIMED = "evaluate_lb_timed"
"""Session state: the (dataset, device) pairs whose models this visitor asked to time."""
DETECTOR_ACCURACY = {
    # column -> (label on screen, help); two tables of at most eight numbers each, so
    # every column is in view at 1280 px.
    "AP (%)": ("AP", "COCO AP, IoU 0.50:0.95, on this dataset (%)"),
    "published (%)": ("published", "the publisher's COCO val2017 AP (%)"),
    "AP50 (%)": ("AP50", "COCO AP at IoU 0.5 (%)"),
    "AP75 (%)": ("AP75", "COCO AP at IoU 0.75 (%)"),
    "AP small (%)": ("AP S", "COCO AP of small objects (%)"),
    "AP medium (%)": ("AP M", "COCO AP of medium objects (%)"),
    "AP large (%)": ("AP L", "COCO AP of large objects (%)"),
    "AR100 (%)": ("AR100", "COCO recall with up to 100 boxes per image (%)"),
}
COST = {
    "latency p50 (ms)": ("p50 ms", "median time per call at batch 1, measured here"),
    "latency p95 (ms)": ("p95 ms", "95th percentile of the same calls"),
    "throughput (img/s)": ("img/s", "batched throughput on the GPU"),
    "ms/image in the run": ("run ms", "time per image while the predictions were made"),
    "params (M)": ("params M", "parameters, millions (published)"),
    "GFLOPs": ("GFLOPs", "one forward pass at the model's input size (published)"),
    "weights (MB)": ("MB", "size of the weights on this machine"),
}
"""The cost columns: the detectors' second table, and the classifiers' after accuracy."""
CLASSIFIER_COLUMNS = {
    "tagging mAP (%)": ("tagging mAP", "its probabilities as image tags, AP over images (%)"),
    "detector image-level mAP (%)": ("detector mAP", "the detector as a tagger (%)"),
    "classes it can name (%)": ("nameable", "image labels ImageNet can name (%)"),
    "published (%)": ("published", "the publisher's ImageNet top-1 (%)"),
    **COST,
}
SHORT_STATUS = {UNAVAILABLE: "no weights here"}


def _table(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, str]],
    width: str | None = "small",
) -> None:
    """The rows with the columns that hold a value, model name pinned; the status
    column only when a row was not scored."""
    shown = [c for c in columns if frame[c].notna().any()]
    view = frame[["model", *shown]].copy()
    if (frame["status"] != AVAILABLE).any():
        view.insert(1, "status", frame["status"].map(lambda s: SHORT_STATUS.get(s, s)))
    config = {
        c: st.column_config.NumberColumn(label, help=text, format="%.1f", width=width)
        for c, (label, text) in columns.items()
    }
    config["model"] = st.column_config.TextColumn("model", pinned=True, width="medium")
    st.dataframe(view, hide_index=True, width="stretch", column_config=config)


def _sources(frame: pd.DataFrame) -> str:
    timed = sorted(set(frame["timed on"]) - {""})
    figures = sorted(set(frame["figures from"]) - {""})
    return " ".join(
        [*(f"Timed on {t}." for t in timed[:1]),
         *([f"Published figures: {'; '.join(figures)}."] if figures else [])]
    )  # fmt: skip


def _latencies(results: list, dataset, dataset_id: str, classifiers: list) -> dict:
    """The models' latencies measured here, once the visitor asks (a button): each
    model is loaded and timed once per server, dataset and device."""
    device = shared_choice().device
    models = models_to_time(results, classifiers)
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
    try:
        return {
            name: cache.dataset_latency(
                name, device_for(device, get_spec(name).devices)[0], dataset_id, dataset
            )
            for name in models
        }
    except ValueError as exc:  # no picture of the dataset can be read
        st.warning(f"Latency not measured: {exc}.")
        return {}


def leaderboard_section(results: list, dataset, choice) -> None:
    """Every detector and predictions file of the run, and the classifiers picked here,
    in sortable tables; the accuracy-versus-latency chart with the Pareto front.

    Args:
        results: every report of the run.
        dataset: the dataset evaluated.
        choice: the page's ``EvaluateChoice`` (the detectors picked: those without
            weights here are listed as unavailable).
    """
    scored = {r.source for r in results}
    missing = [d for d in unavailable_models(choice.detectors) if d not in scored]
    dataset_id = f"{choice.dataset}|{dataset.label}"
    classifiers, no_weights = _classifier_scores(results, dataset, choice)
    latencies = _latencies(results, dataset, dataset_id, classifiers)
    frame = leaderboard(results, missing, latencies, classifiers, no_weights)
    detectors = frame[frame["kind"] != "classifier"]
    st.markdown(f"**Detectors on {dataset.label}: accuracy** (click a column to sort)")
    _table(detectors, DETECTOR_ACCURACY)
    st.markdown("**Detectors: cost on this machine**")
    _table(detectors, COST)
    st.caption(
        "AP columns: COCO AP on this dataset, in percent (hover a header for its "
        "meaning); published AP: the publisher's, on COCO val2017's 5,000 images. p50 "
        "and p95: the model's own time per call on one image (batch 1), measured on "
        "this machine; run ms: per image while the stored predictions were made "
        "(batched, confidence 0.001). No weights here: listed, never scored with random "
        f"weights. {_sources(detectors)}"
    )
    _chart(detectors)
    taggers = frame[frame["kind"] == "classifier"]
    if len(taggers):
        st.markdown("**Classifiers as image taggers** (click a column to sort)")
        _table(taggers, CLASSIFIER_COLUMNS, width=None)  # few: room for names
        st.caption(
            "tagging mAP: each classifier's ImageNet probabilities as image-level tags "
            "(through the ImageNet→COCO mapping), against the image-level mAP of "
            f"{results[0].source} on the same images; published: ImageNet top-1. "
            f"{_sources(taggers)}"
        )


def _classifier_scores(results: list, dataset, choice):
    """The classifiers the visitor picks, each scored as an image tagger against the
    run's first detector (``model_review.score_classifiers``): read back at once when
    every run is stored, else made once (a button) and stored like the run's own.

    Returns:
        The ``ClassifierScore`` of each picked classifier with weights here, and the
        names of those without (listed as unavailable, never scored).
    """
    names = [spec.name for spec in list_models(Task.CLASSIFY)]
    own = list(dict.fromkeys(r.classifier for r in results if r.tagging is not None))
    if PICKED not in st.session_state:  # the tab was closed: the last picks, kept
        st.session_state[PICKED] = st.session_state.get(KEPT, own)
    picked = st.multiselect(
        "Classifiers to score as image taggers", names, key=PICKED,
        format_func=model_title,
        help="Each one's predictions are made once on this dataset and stored; without "
        "weights on this machine it is listed, never scored with random weights. The "
        "classifier evaluated with the run is always listed.",
    )  # fmt: skip
    st.session_state[KEPT] = picked
    no_weights = unavailable_models(picked)
    wanted = [n for n in picked if n not in own and n not in no_weights]
    device = shared_choice().device
    memo = st.session_state.setdefault(SCORES, {})
    report = results[0]  # its detections give the detector's image-level mAP

    def done() -> list:
        kept = [memo.get((id(report), n, device), (None, None)) for n in wanted]
        return [score for ref, score in kept if ref is not None and ref() is report]

    todo = [n for n in wanted if n not in {s.name for s in done()}]
    if todo and not all(all_stored(dataset, (), n, choice, device) for n in todo):
        if not st.button(
            f"Score {len(todo)} classifier{'s' * (len(todo) > 1)} on the dataset",
            key="evaluate_lb_score", help="Runs each on every image once (stored).",
        ):  # fmt: skip
            return done(), no_weights
    if todo:
        _score(todo, report, dataset, choice, device, memo)
    return done(), no_weights


def _score(names, report, dataset, choice, device, memo: dict) -> None:
    """Score ``names`` against ``report`` into ``memo`` (the session's last
    ``MEMO_SIZE``; each held with a weak reference to the report, so a later run's
    report never reads another's), with a progress bar; a failure is a message."""
    bar = st.progress(0.0, text="Starting…")

    def progress(name: str, done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"{name}: {done} / {total} images")

    try:
        scores, _ = score_classifiers(
            dataset, names, report.aligned.predictions, device=device,
            store=page_store(choice), progress=progress,
            get_model=lambda name: cache.model_on(name, device).model,
            conf=report.params.conf,
        )  # fmt: skip
    except StoreUnavailable as exc:
        show_unreachable(exc, "Scoring goes on from the stored images once it is back.")
        return
    except (WeightsNotFoundError, DeviceError, KeyError, ValueError, StoreError,
            OSError) as exc:  # fmt: skip
        st.error(f"The classifiers could not be scored: {choice.shown(exc)}")
        return
    finally:
        bar.empty()
    for score in scores:
        memo[(id(report), score.name, device)] = (weakref.ref(report), score)
    while len(memo) > MEMO_SIZE:
        memo.pop(next(iter(memo)))


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
