"""The Evaluate page's threshold explorer: one confidence and IoU, and every view that
depends on them, in tabs."""

from __future__ import annotations

import streamlit as st

from components.evaluate.downloads import disagreement_section, downloads
from components.evaluate.error_views import (
    error_types_section,
    errors_section,
    per_image_section,
)
from components.evaluate.header import threshold_metrics
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
from components.shared import cache
from components.shared.controls import thresholds_ui
from components.shared.store_status import show_unreachable
from visioncompare.evaluation.store import StoreUnavailable
from visioncompare.services.report import runs_dir


def _classifier_probabilities(report, choice):
    """The classifier's stored probabilities for the tagging tab (from the session's own
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


def explorer_section(report, results: list, dataset, report_id: str, choice) -> None:
    """The threshold explorer and every tab that depends on its thresholds.

    Args:
        report: the first report (its detector or predictions file is the one explored).
        results: every report of the run (a second one opens the "Two detectors" tab).
        dataset: the dataset evaluated.
        report_id: the report's key in the server-wide caches.
        choice: the page's ``EvaluateChoice`` (an upload's classifier probabilities
            are in the session's own store).
    """
    st.subheader("Threshold explorer")
    conf, iou = thresholds_ui("evaluate", report.params.conf, report.params.iou)
    explorer = report.explorer
    match = explorer.match(iou)
    records = match.at_confidence(conf)
    threshold_metrics(explorer.summary(conf, iou))

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
        pr_section(report, match, conf, "evaluate")
    with next(tab):
        per_class_section(report, "evaluate")
    with next(tab):
        iou_section(records, iou, "evaluate")
    with next(tab):
        names = {s.image_id: s.name for s in dataset.samples}
        confusion_section(explorer.confusion(conf, iou), names, "evaluate")
    with next(tab):
        errors_section(records, dataset, "evaluate")
    with next(tab):
        error_types_section(report, records, conf, "evaluate")
    with next(tab):
        per_image_section(report, records, conf, iou, "evaluate", report_id)
    with next(tab):
        size_section(report, iou, "evaluate")
    with next(tab):
        best_point_section(report, iou, "evaluate", report_id)
    with next(tab):
        coco_table(report)
    if len(results) > 1:
        with next(tab):
            compare_section(results[0], results[1], "evaluate")
            two_models_images_section(
                results[0], results[1], records, conf, iou, "evaluate"
            )
    if report.tagging is not None:
        with next(tab):
            tagging_section(report)
            probabilities = _classifier_probabilities(report, choice)
            tagging_images_section(
                report, records, conf, "evaluate", report_id, probabilities
            )
    with next(tab):
        st.caption("The same stored predictions, scored the ways different tools do:")
        disagreement_section(cache.disagreement(report_id, report))
    with next(tab):
        downloads(report, records, "evaluate", report_id)
