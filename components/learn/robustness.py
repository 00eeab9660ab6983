"""The Learn page's robustness section: the picked image under one corruption at every
severity, and which breaks first, the single label or the boxes, and why."""

from __future__ import annotations

import streamlit as st

from components.learn.sections import LearnInputs
from components.shared import cache
from components.shared.corruption import model_input
from components.shared.tables import show_table
from visioncompare.kernel.display import DETECT_CONF_FLOOR, filter_detections
from visioncompare.kernel.draw import annotate
from visioncompare.kernel.images import fit_for_display
from visioncompare.robustness.breaking import (
    SeverityStep,
    breaking_points,
    steps_frame,
)
from visioncompare.robustness.changes import classification_change, detection_change
from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    INSTALL_HINT,
    SEVERITIES,
    Corruption,
    available,
    corruption_title,
)

WHY = (
    "**Why they break differently.** A classifier looks at the whole image: its one "
    "answer is pooled from features over the entire frame, so it holds while enough "
    "of the picture still looks like its class, and it flips when a corruption moves "
    "the whole picture (noise over every pixel, a fog over everything) across the "
    "boundary to a neighbouring class. A detector needs each object's own edges: to "
    "place a box it must find where the object ends, and each box must clear the "
    "confidence threshold by itself. Blur, noise and low contrast wash out edges, so "
    "the small, distant or partly hidden objects go first while the large ones stay; "
    "and a lost box is lost even when the image as a whole still reads as a street."
)


def robustness_section(ctx: LearnInputs) -> None:
    """11: the image at the five severities of one corruption, both models' answers,
    and where each one breaks."""
    st.header("11 · Which breaks first: the label or the boxes?", divider="gray")
    st.markdown(
        "Make the picture worse, step by step, and watch both answers: the label is "
        "**broken** when the top-1 is no longer the clean image's; the boxes are "
        "**broken** when fewer than half of the clean image's boxes are still found "
        "(same class, IoU ≥ 0.5)."
    )
    if not available():
        st.warning(
            f"This section needs the imagecorruptions package: `{INSTALL_HINT}`."
        )
        return
    name = st.selectbox(
        "Corruption",
        CORRUPTIONS,
        index=CORRUPTIONS.index("gaussian_noise"),
        format_func=corruption_title,
        key="learn_rob_corruption",
    )
    if not st.toggle(
        "Corrupt this image at severities 1 to 5 and run both models on each",
        key="learn_rob_run",
        help="Five corrupted images and ten model runs, each kept for the next visit.",
    ):
        return
    steps, pictures = [], []
    for severity in SEVERITIES:
        seen = model_input(
            "this image", ctx.image, ctx.digest, Corruption(name, severity)
        )
        if seen.corrupted is None:  # the message is shown: nothing to compare
            return
        cls_pred = cache.classify_cached(
            ctx.cls.spec.name, ctx.cls.device, seen.digest, seen.array
        )
        det_pred = cache.detect_cached(
            ctx.det.spec.name, ctx.det.device, seen.digest, DETECT_CONF_FLOOR, 0.7,
            seen.array,
        )  # fmt: skip
        shown = filter_detections(det_pred.detections, ctx.conf)
        step = SeverityStep(
            severity,
            classification_change(ctx.classification, cls_pred.classification),
            detection_change(ctx.shown, shown),
        )
        steps.append(step)
        pictures.append((seen.array, shown, step))
    points = breaking_points(name, steps)
    st.markdown(points.sentence())
    for column, (image, shown, step) in zip(st.columns(len(pictures)), pictures):
        column.image(
            fit_for_display(annotate(image, shown), 480),
            caption=f"{step.severity}: “{step.classification.label}”, "
            f"{step.detection.kept}/{step.detection.clean} boxes kept",
            width="stretch",
        )
    frame = steps_frame(points)
    show_table(
        frame,
        key="learn_robustness_steps",
        kinds={c: "score" for c in frame.columns if "probability" in c or "clean top-1" in c}
        | {"kept share": "score"},
    )
    st.markdown(WHY)
