"""Section 7, continued: two-stage vs one-stage, live on the picked image."""

from __future__ import annotations

import streamlit as st

from components.learn.sections import LearnInputs
from components.shared import cache
from model_zoo import get_spec
from model_zoo.stages import ONE_STAGE, TWO_STAGE
from visioncompare.kernel.draw import BoxStyle, annotate
from visioncompare.kernel.images import fit_for_display
from visioncompare.learn.stages import (
    cell_point,
    default_boxes_sentence,
    drawable,
    proposals_sentence,
)

PROPOSAL = BoxStyle(color=(255, 170, 0), width=2)
DEFAULT_BOX = BoxStyle(color=(0, 140, 255), width=2)


def _untrained(title: str, what: str) -> str:
    return (
        f"No weights for {title} on this machine: it runs here with **random weights**. "
        f"The mechanism is real ({what}); what an untrained model proposes is not. "
        "With its weights in the weights folder, the same view shows trained output."
    )


def stages_section(ctx: LearnInputs) -> None:
    """Faster R-CNN's proposals then final boxes; SSD's default boxes at one cell;
    YOLO's grid points (the head above)."""
    st.subheader("Two stages vs one: proposals, default boxes, grid points")
    sidebar = ctx.det.spec
    two = sidebar.name if sidebar.builder.startswith("fasterrcnn") else TWO_STAGE
    one = sidebar.name if sidebar.builder.startswith("ssd") else ONE_STAGE
    _two_stage(ctx, get_spec(two))
    _one_stage(ctx, get_spec(one))
    st.caption(
        "A YOLO is one-stage and anchor-free: every grid point of its three feature "
        "maps predicts a box and class scores directly (the points counted above), "
        "and non-maximum suppression (section 10) merges the duplicates."
    )


def _two_stage(ctx: LearnInputs, spec) -> None:
    h, w = ctx.image.shape[:2]
    top_n = st.slider(
        "Region proposals shown (best objectness first)", 1, 100, 20, key="learn_top_n"
    )
    found = cache.region_proposals(
        spec.name, ctx.det.device, ctx.digest, top_n, ctx.conf, ctx.image
    )
    st.markdown(proposals_sentence(found, spec.title))
    if not found.trained:
        st.warning(
            _untrained(
                spec.title,
                "its anchors, the proposal network and the second stage run as they "
                "would trained",
            )
        )
    left, right = st.columns(2)
    with left:
        proposals = drawable(found.boxes, found.objectness, "proposal", w, h)
        st.image(
            fit_for_display(
                annotate(ctx.image, proposals, [""] * len(proposals), PROPOSAL)
            ),
            width="stretch",
            alt=f"The image with {len(proposals)} region proposals in orange",
            caption=f"Stage 1: the top {len(proposals)} region proposals",
        )
    with right:
        st.image(
            fit_for_display(annotate(ctx.image, found.final)),
            width="stretch",
            alt="The image with the second stage's final boxes",
            caption=f"Stage 2: the final boxes (confidence ≥ {ctx.conf:.2f})",
        )


def _one_stage(ctx: LearnInputs, spec) -> None:
    h, w = ctx.image.shape[:2]
    point = cell_point(ctx.shown, w, h)
    first = cache.default_boxes(
        spec.name, ctx.det.device, ctx.digest, 0, point, ctx.image
    )
    level = (
        st.slider(
            "Feature map (1: the finest grid)",
            1,
            len(first.per_level),
            1,
            key="learn_ssd_level",
        )
        - 1
    )
    found = cache.default_boxes(
        spec.name, ctx.det.device, ctx.digest, level, point, ctx.image
    )
    st.markdown(default_boxes_sentence(found, spec.title))
    if not found.trained:
        st.info(
            f"No weights for {spec.title} on this machine: it runs with random "
            "weights. Default boxes are set by the design, not learned, so these are "
            "exactly the trained model's."
        )
    boxes = drawable(found.boxes, None, "default box", w, h)
    st.image(
        fit_for_display(annotate(ctx.image, boxes, [""] * len(boxes), DEFAULT_BOX)),
        width="stretch",
        alt=f"The image with {len(boxes)} default boxes of one cell in blue",
        caption=f"{spec.title}: the {len(boxes)} default boxes of one cell of feature "
        f"map {level + 1} ({found.grid[0]}×{found.grid[1]} cells), at "
        + ("the best detection's centre" if len(ctx.shown) else "the image centre"),
    )
