"""The Evaluate page's threshold explorer: one confidence and IoU, and every view that
depends on them, in seven groups of tabs (Summary, Errors, Per image, Side by side, Why
numbers differ, Model review, Downloads) that fit a 1280 px screen.

The tabs track their state, so only the open view runs on a rerun: moving a slider
recomputes what is on screen, not the twelve views behind the other tabs. A new view is
one ``View`` in ``VIEWS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import streamlit as st

from components.evaluate.downloads import disagreement_section, downloads
from components.evaluate.error_views import (
    error_types_section,
    errors_section,
    per_image_section,
)
from components.evaluate.header import threshold_metrics
from components.evaluate.label_issue_views import label_issues_section
from components.evaluate.leaderboard_views import leaderboard_section
from components.evaluate.robustness_views import robustness_section
from components.evaluate.side_by_side import (
    compare_section,
    tagging_images_section,
    tagging_section,
    two_models_images_section,
)
from components.evaluate.summary_views import (
    best_point_section,
    coco_table,
    confusion_section,
    iou_section,
    per_class_section,
    pr_section,
    size_section,
)
from components.evaluate.yolo_val import yolo_val_section
from components.shared import cache, sessions
from components.shared.controls import thresholds_ui
from components.shared.store_status import show_unreachable
from visioncompare.evaluation.store import StoreUnavailable
from visioncompare.services.evaluation_run import runs_dir

KEY = "evaluate"


@dataclass
class Explored:
    """What every view reads: the run's reports and the explorer's thresholds; the
    matches at those thresholds are computed once, and only when a view asks.

    Attributes:
        report: the first report (its detector or predictions file is the one explored).
        results: every report of the run (a second one opens "Two detectors").
        dataset: the dataset evaluated.
        report_id: the report's key in the server-wide caches.
        choice: the page's ``EvaluateChoice`` (an upload's classifier probabilities
            are in the session's own store).
        conf, iou: the explorer's thresholds.
    """

    report: object
    results: list
    dataset: object
    report_id: str
    choice: object
    conf: float
    iou: float

    @cached_property
    def match(self):
        return self.report.explorer.match(self.iou)

    @cached_property
    def records(self):
        return self.match.at_confidence(self.conf)


@dataclass(frozen=True)
class View:
    """One tab: its group, its label, what it draws, and when it has anything to show."""

    group: str
    label: str
    render: Callable[[Explored], None]
    shown: Callable[[Explored], bool] = lambda explored: True


def _confusion(e: Explored) -> None:
    names = {s.image_id: s.name for s in e.dataset.samples}
    confusion_section(e.report.explorer.confusion(e.conf, e.iou), names, KEY)


def _two_detectors(e: Explored) -> None:
    compare_section(e.results[0], e.results[1], KEY)
    two_models_images_section(e.results[0], e.results[1], e.records, e.conf, e.iou, KEY)


def _classifier(e: Explored) -> None:
    tagging_section(e.report)
    probabilities = _classifier_probabilities(e.report, e.choice)
    tagging_images_section(e.report, e.records, e.conf, KEY, e.report_id, probabilities)


def _classifier_probabilities(report, choice):
    """The classifier's stored probabilities for the tagging view (from the session's own
    store for an upload); None, with a warning, while the store is unreachable."""
    key = report.classifier_run.key
    try:
        if choice.uploaded:
            return choice.files.probabilities(key)
        return cache.classifier_probabilities(key, str(runs_dir()))
    except StoreUnavailable as exc:
        then = "The images where the tagger and detector disagree show once it is back."
        show_unreachable(exc, then, warning=True)
        return None


def _why(e: Explored) -> None:
    st.caption("The same stored predictions, scored the ways different tools do:")
    # Kept with the report (its one evaluation): computed on the first visit only.
    with st.spinner("Scoring the same predictions the ways other tools do…"):
        rows = e.report.disagreement
    disagreement_section(rows)
    yolo_val_section(e.report, e.report_id, KEY)


VIEWS: tuple[View, ...] = (
    View("Summary", "Precision-recall",
         lambda e: pr_section(e.report, e.conf, e.iou, KEY, e.report_id)),
    View("Summary", "Per class", lambda e: per_class_section(e.report, KEY)),
    View("Summary", "By size", lambda e: size_section(e.report, e.iou, KEY)),
    View("Summary", "IoU", lambda e: iou_section(e.records, e.iou, KEY)),
    View("Summary", "Best threshold",
         lambda e: best_point_section(e.report, e.iou, KEY, e.report_id)),
    View("Summary", "COCO table", lambda e: coco_table(e.report)),
    View("Errors", "Error types",
         lambda e: error_types_section(e.report, e.records, e.conf, KEY)),
    View("Errors", "Error browser", lambda e: errors_section(e.records, e.dataset, KEY)),
    View("Errors", "Confusion matrix", _confusion),
    View("Per image", "Per image", lambda e: per_image_section(
        e.report, e.records, e.conf, e.iou, KEY, e.report_id)),
    View("Side by side", "Two detectors", _two_detectors, lambda e: len(e.results) > 1),
    View("Side by side", "Classification vs detection", _classifier,
         lambda e: e.report.tagging is not None),
    View("Why numbers differ", "Why numbers differ", _why),
    View("Model review", "Leaderboard",
         lambda e: leaderboard_section(e.results, e.dataset, e.choice)),
    View("Model review", "Possible label errors",
         lambda e: label_issues_section(e.results, e.dataset, e.choice)),
    View("Robustness", "Robustness",
         lambda e: robustness_section(e.report, e.dataset, e.choice),
         lambda e: e.report.detector_run is not None),
    View("Downloads", "Downloads",
         lambda e: downloads(e.report, e.records, KEY, e.report_id)),
)  # fmt: skip
"""Every view of the explorer, in the order of its tabs."""

EMPTY_GROUP = {
    "Side by side": "Nothing to put side by side yet: pick a second detector (or upload a "
    "predictions file) or a classifier above, then press Evaluate.",
    "Robustness": "Robustness runs a detector from the model zoo on corrupted images: "
    "pick one above (a predictions file cannot be re-run).",
}
"""What a group says when none of its views has anything to show."""


@st.fragment
def explorer_fragment(state_key: tuple, report_id: str, choice) -> None:
    """The explorer as a fragment: a slider reruns only this. It finds the run's reports
    in the session (``sessions.session_reports``) by ``state_key``, so the fragment Streamlit
    keeps for the session holds no report once the session's reports are released."""
    results = sessions.session_reports().get(state_key)
    if results is None:  # released (a reconnect): the whole page says what to do
        st.rerun()
    explorer_section(results[0], results, results[0].dataset, report_id, choice)


def explorer_section(report, results: list, dataset, report_id: str, choice) -> None:
    """The threshold explorer and every view that depends on its thresholds.

    Args:
        report: the first report (its detector or predictions file is the one explored).
        results: every report of the run (a second one opens the "Two detectors" view).
        dataset: the dataset evaluated.
        report_id: the report's key in the server-wide caches.
        choice: the page's ``EvaluateChoice`` (an upload's classifier probabilities
            are in the session's own store).
    """
    st.subheader("Threshold explorer")
    conf, iou = thresholds_ui(KEY, report.params.conf, report.params.iou)
    explored = Explored(report, results, dataset, report_id, choice, conf, iou)
    threshold_metrics(report.explorer.summary(conf, iou))
    groups = list(dict.fromkeys(view.group for view in VIEWS))
    for group, tab in zip(
        groups, st.tabs(groups, key=f"{KEY}_group", on_change="rerun"), strict=True
    ):
        if not tab.open:
            continue
        with tab:
            views = [v for v in VIEWS if v.group == group and v.shown(explored)]
            _group(group, views, explored)


def _group(group: str, views: list[View], explored: Explored) -> None:
    """One group's views: the view itself when it is the group, else tabs of its views
    (only the open one runs)."""
    if not views:
        st.info(EMPTY_GROUP.get(group, "Nothing to show here for this run."))
        return
    if len(views) == 1 and views[0].label == group:
        views[0].render(explored)
        return
    labels = [v.label for v in views]
    key = f"{KEY}_view_{group.lower().replace(' ', '_')}"
    for view, tab in zip(views, st.tabs(labels, key=key, on_change="rerun"), strict=True):
        if tab.open:
            with tab:
                view.render(explored)
