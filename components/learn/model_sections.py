"""The Learn page's sections on what happens inside the models: heads, where they look,
detect-then-classify and non-maximum suppression."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.learn.sections import LearnInputs
from components.learn.views import nms_step_by_step
from components.shared import cache
from components.shared.tables import show_table
from components.shared.views import CHART
from visioncompare.kernel.display import (
    DETECT_CONF_FLOOR,
    count_noun,
    filter_detections,
)
from visioncompare.kernel.draw import annotate
from visioncompare.kernel.images import fit_for_display
from visioncompare.learn.lessons import crop_boxes, heatmap_overlay, thumbnail
from visioncompare.learn.summaries import (
    crop_records,
    crop_summary,
    head_sentence,
    points_above,
)
from visioncompare.plots.learn import architecture_figure

NO_NMS_IOU = 1.0
"""An NMS IoU threshold no overlap exceeds: the detector's candidates, before NMS."""


def _no_head(title: str) -> str:
    return (
        f"{title} has no dense one-row-per-grid-point head to show here (a two-stage, "
        "anchor-based or end-to-end detector): pick YOLOv8 or YOLO11 in the sidebar to "
        "see what a YOLO head outputs before non-maximum suppression."
    )


def detector_head(ctx: LearnInputs):
    """The detector's dense head output on the image (None for heads without one row
    per grid point); cached, so sections 7 and 8 share one run."""
    return cache.detector_head(ctx.det.spec.name, ctx.det.device, ctx.digest, ctx.image)


def heads_section(ctx: LearnInputs) -> None:
    """7: what each head outputs: 1,000 class scores vs a row per grid point."""
    st.header("7 · Architectures: what the heads output", divider="gray")
    head = detector_head(ctx)
    if head is None:
        st.info(_no_head(ctx.det.spec.title))
        return
    st.plotly_chart(
        architecture_figure(
            len(ctx.classification.scores),
            ctx.cls.model.feature_dim,
            ctx.cls.spec.input_size,
            head.input_size,
            len(head.class_names),
        ),
        config=CHART,
        key="learn_arch",
    )
    st.markdown(
        head_sentence(
            len(head.points),
            len(head.class_names),
            points_above(head.scores, ctx.conf),
            ctx.conf,
            len(ctx.shown),
            len(ctx.classification.scores),
        )
    )


def saliency_section(ctx: LearnInputs) -> None:
    """8: CAM or Grad-CAM for the classifier, the head's class-score map for the
    detector."""
    st.header("8 · Where each model looks", divider="gray")
    cls = ctx.cls
    heat, class_index, method = cache.saliency(
        cls.spec.name, cls.device, ctx.digest, ctx.image
    )
    head = detector_head(ctx)
    left, right = st.columns(2)
    with left:
        st.image(
            fit_for_display(heatmap_overlay(ctx.image, heat)),
            width="stretch",
            alt="The image under the classifier's saliency map, red where it looks",
            caption=f"Classifier, {method} for "
            f"“{ctx.classification.class_names[class_index]}”",
        )
    with right:
        if head is None:
            st.info(_no_head(ctx.det.spec.title))
        else:
            st.image(
                fit_for_display(
                    heatmap_overlay(
                        ctx.image, head.heatmap / max(head.heatmap.max(), 1e-6)
                    )
                ),
                width="stretch",
                alt="The image under the detector's class-score map, red where it looks",
                caption="Detector: best class score of the head at every grid point, "
                "before NMS",
            )
    st.caption(
        f"{method}: the classifier's last feature maps weighted by how much they raise "
        "the top class (one map for the whole image). The detector's map lights up "
        "wherever an object of any class is, at three scales."
    )


def detect_then_classify_section(ctx: LearnInputs) -> None:
    """9: every detected box cropped and classified."""
    st.header("9 · Detect, then classify", divider="gray")
    crops = crop_boxes(ctx.image, ctx.shown)
    preds = cache.classify_crops(
        ctx.cls.spec.name,
        ctx.cls.device,
        f"{ctx.det.spec.name}:{ctx.digest}:{ctx.conf}",
        [c for _, c in crops],
    )
    records = crop_records(
        [box for box, _ in crops],
        [p.classification for p in preds],
        ctx.shown,
        ctx.to_coco,
    )
    if not records:
        st.info(
            "No box above the confidence threshold to crop: lower it or pick another "
            "image."
        )
        return
    st.markdown(crop_summary(records))
    show_table(
        pd.DataFrame(records), key="learn_crops_table",
        widths={"box": 50, "detector": 110, "agree (top-1)": 100, "in top-3": 80},
    )  # fmt: skip
    st.caption("n/a: ImageNet has no class of that kind, so no crop can agree.")
    cols = st.columns(6)
    for n, ((_box, crop), r) in enumerate(zip(crops, records)):
        with cols[n % 6]:
            first = r["classifier top-3"].split(",")[0]
            # Each crop fitted in one square: the row shares one height.
            st.image(
                thumbnail(crop),
                caption=f"#{r['box']} {r['detector']} → {first}",
                width="stretch",
                alt=f"Box {r['box']}, cropped",
            )


def nms_section(ctx: LearnInputs) -> None:
    """10: NMS replayed step by step (an end-to-end detector's direct output instead)."""
    st.header("10 · Non-maximum suppression, step by step", divider="gray")
    det = ctx.det
    if det.spec.nms_free:
        st.info(
            f"{det.spec.title} is end-to-end: its head is trained to output one box per "
            f"object (here {count_noun(len(ctx.shown), 'box', 'boxes')} above the "
            "confidence threshold), so no NMS runs. Pick YOLOv8, YOLO11 or a torchvision "
            "detector to see NMS at work."
        )
        st.image(
            fit_for_display(annotate(ctx.image, ctx.shown)),
            width="stretch",
            alt=f"The image with the boxes {det.spec.title} output",
            caption=f"{det.spec.title}: its direct output, no NMS",
        )
        return
    candidates = cache.detect_cached(
        det.spec.name, det.device, ctx.digest, DETECT_CONF_FLOOR, NO_NMS_IOU, ctx.image
    ).detections
    nms_step_by_step("learn", ctx.image, filter_detections(candidates, ctx.conf))
