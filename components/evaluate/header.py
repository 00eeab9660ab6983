"""The top of the Evaluate page's results: the run's header, summary cards, missing
images, KITTI difficulty and the class table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.shared.tables import show_table
from components.shared.titles import dataset_title, model_title
from visioncompare.datasets.kitti import DIFFICULTIES, difficulty_counts, has_difficulty
from visioncompare.evaluation.metrics.matching import (
    Summary,
)
from visioncompare.kernel.tables import format_number


def missing_images_note(dataset, present: int, detectors, classifier) -> None:
    """Say what works without images: every metric; models need the pictures."""
    missing = len(dataset) - present
    if present == 0:
        text = (
            f"{dataset_title(dataset)} has annotations but no images: every metric is computed "
            "from uploaded predictions files, and the pictures are blank canvases of "
            "each image's annotated size."
        )
        if detectors or classifier:
            text += (
                " A detector or the classifier needs the images: upload an archive "
                "with them, or a predictions file."
            )
        st.info(text)
    else:
        st.warning(
            f"{missing} of {len(dataset)} images of {dataset_title(dataset)} are missing: their "
            "pictures are blank canvases, and a detector stops at the first of them."
        )


def _fmt(value: float | None) -> str:
    """A metric as every table prints it: 3 decimals, "n/a" when missing or -1."""
    return format_number(value, "metric")


def kitti_difficulty_choice(dataset, key: str) -> str | None:
    """For a KITTI dataset, the official difficulty level to score (None: every box)."""
    if not has_difficulty(dataset):
        return None
    counts = difficulty_counts(dataset)
    labels = {None: f"every box ({counts['every']} scored)"} | {
        level: f"{level} ({counts[level]} boxes scored)" for level in DIFFICULTIES
    }
    return st.selectbox(
        "KITTI difficulty",
        list(labels),
        format_func=labels.get,
        key=f"{key}_kitti_difficulty",
        help="KITTI's devkit scores one level at a time: easy boxes are taller than "
        "40 px, fully visible and at most 15% truncated; moderate: 25 px, partly "
        "occluded, 30%; hard: 25 px, largely occluded, 50%. Levels nest, and the "
        "boxes outside the level become ignore regions: a detection on them counts "
        "neither way.",
    )


def report_header(report, dataset) -> None:
    """What was evaluated on what, with the class renames, the boxes left out and the
    dataset's own notes."""
    notes = []
    if dataset.renamed:
        notes.append(
            "classes renamed: "
            + ", ".join(f"{a} → {b}" for a, b in dataset.renamed.items())
        )
    if report.dropped:
        notes.append(
            f"{sum(report.dropped.values())} predicted boxes of classes this dataset "
            "does not annotate were left out"
        )
    st.subheader(f"{model_title(report.source)} on {dataset_title(dataset)}")
    if notes:
        st.caption("; ".join(notes) + ".")
    for note in dataset.notes:  # the reader's: ignore regions, classes COCO cannot name
        st.caption(note)


def summary_cards(report) -> None:
    stats = report.coco.stats
    cards = [
        ("mAP50-95", _fmt(stats["AP"]), "COCO AP averaged over IoU 0.50:0.95"),
        ("mAP50", _fmt(stats["AP50"]), "COCO AP at IoU 0.5 (101-point)"),
        ("mAP75", _fmt(stats["AP75"]), "COCO AP at IoU 0.75"),
        ("AR100", _fmt(stats["AR100"]), "COCO recall with up to 100 boxes per image"),
        (
            "VOC AP (11-pt)",
            _fmt(report.voc.map_11pt),
            f"PASCAL VOC2007, IoU > 0.5, {report.voc.convention} pixels",
        ),
        (
            "VOC AP (all-pt)",
            _fmt(report.voc.map_all),
            f"PASCAL VOC2010+, IoU > 0.5, {report.voc.convention} pixels",
        ),
        ("Images / boxes", f"{len(report.dataset)} / {report.dataset.num_boxes}", None),
        (
            "Device, time/image",
            f"{report.device}, {report.ms_per_image:.0f} ms"
            if report.ms_per_image
            else report.device,
            "model time per image, measured when the predictions were made",
        ),
    ]
    for row in (cards[:4], cards[4:]):
        for column, (label, value, help_text) in zip(st.columns(4), row):
            column.metric(label, value, help=help_text)


def threshold_metrics(summary: Summary) -> None:
    values = [
        ("Precision", f"{summary.precision:.3f}"),
        ("Recall", f"{summary.recall:.3f}"),
        ("F1", f"{summary.f1:.3f}"),
        ("TP", str(summary.tp)),
        ("FP", str(summary.fp)),
        ("FN", str(summary.fn)),
    ]
    for column, (label, value) in zip(st.columns(6), values):
        column.metric(label, value)


def class_table_section(table: pd.DataFrame) -> None:
    """Say loudly when the detector's classes and the dataset's do not line up."""
    status = table["status"]
    renamed = int(status.str.startswith("renamed").sum())
    unmatched = int((status == "unmatched: left out").sum())
    never = int((status == "never predicted: AP 0").sum())
    if never:
        st.warning(
            f"{never} dataset classes have no detector class of that name and score AP 0 "
            "(see the class table)."
        )
    with st.expander(
        f"Classes: {int((status == 'matched').sum())} matched, {renamed} renamed, "
        f"{unmatched} detector classes not in the dataset, {never} never predicted",
        expanded=bool(never),
    ):
        show_table(table, key="evaluate_class_table", max_rows=8)
