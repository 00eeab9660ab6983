"""Renderers of the Learn page's sections that need more than a few lines."""

from __future__ import annotations

import numpy as np
import streamlit as st

from components.shared.tables import show_table
from visioncompare.kernel.display import count_noun
from visioncompare.kernel.draw import BoxStyle, annotate, annotate_layers
from visioncompare.kernel.images import fit_for_display
from visioncompare.kernel.types import Detections
from visioncompare.learn.nms_replay import nms_steps_frame, nms_trace

CANDIDATE = BoxStyle(color=(150, 150, 150), width=1)
KEPT = BoxStyle(color=(40, 170, 60))
SUPPRESSED = BoxStyle(color=(220, 50, 50), dashed=True)


def nms_step_by_step(prefix: str, image: np.ndarray, candidates: Detections) -> None:
    """NMS replayed on the detector's candidate boxes: a step slider shows each kept box
    and the boxes of its class it suppressed, with their IoU.

    Args:
        prefix: widget key prefix.
        image: (H, W, 3) uint8 RGB.
        candidates: the detector's boxes above the confidence threshold, before NMS.
    """
    iou = st.slider("NMS IoU threshold", 0.1, 0.95, 0.7, 0.05, key=f"{prefix}_nms_iou")
    trace = nms_trace(candidates, iou)
    if not trace.steps:
        st.info("No candidate box above the confidence threshold: lower it.")
        return
    st.markdown(
        f"Before NMS the detector proposed **{count_noun(len(candidates), 'box', 'boxes')}** "
        f"above the confidence threshold. Best score first, each box left is kept and "
        f"every box of its class overlapping it by more than IoU {iou:.2f} is suppressed: "
        f"**{len(trace.steps)} kept, {trace.num_suppressed} suppressed**."
    )
    step = (
        st.slider(
            "Step (kept boxes, best score first)",
            1,
            len(trace.steps),
            1,
            key=f"{prefix}_nms_step",
        )
        if len(trace.steps) > 1
        else 1
    )
    current = trace.steps[step - 1]
    kept = candidates[[current.kept]]
    left, right = st.columns(2)
    with left:
        st.image(
            fit_for_display(
                annotate(image, candidates, [""] * len(candidates), CANDIDATE)
            ),
            width="stretch",
            alt=f"The image with the {len(candidates)} candidate boxes in grey",
            caption="Every candidate, before NMS",
        )
    with right:
        # One pass: the kept box's label first, the suppressed ones' around it.
        picture = annotate_layers(
            image,
            [
                (candidates[current.suppressed],
                 [f"IoU {v:.2f}" for v in current.ious], SUPPRESSED),
                (kept, [f"kept: {kept.labels[0]} {kept.scores[0]:.2f}"], KEPT),
            ],
        )  # fmt: skip
        st.image(
            fit_for_display(picture),
            width="stretch",
            alt=f"Step {step}: the kept {kept.labels[0]} box and the boxes it suppressed",
            caption=f"Step {step}: kept (solid) and the "
            f"{count_noun(len(current.suppressed), 'box', 'boxes')} it suppressed "
            "(dashed, with their IoU)",
        )
    show_table(nms_steps_frame(trace), key=f"{prefix}_nms_table", max_rows=8)
