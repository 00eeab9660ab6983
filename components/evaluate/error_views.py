"""The Evaluate page's error views: the error browser, the error types and the per-image
scores, each drawing the images it names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from components.evaluate.header import _fmt
from components.evaluate.summary_views import ALL
from components.shared import cache
from components.shared.cache import image_array
from components.shared.tables import show_table
from components.shared.views import CHART
from visioncompare.evaluation.error_browser import draw_errors, per_image_table
from visioncompare.evaluation.metrics.error_types import (
    ERROR_HELP,
    ERROR_TYPES,
    RULES,
    RULES_DIFFER,
)
from visioncompare.evaluation.metrics.matching import (
    FN,
    FP,
    TP,
)
from visioncompare.kernel.images import ImageError
from visioncompare.plots.errors import (
    error_types_figure,
    highlight_errors,
    per_image_histogram_figure,
)

CANVAS_SIDE = 4096
"""The largest side of a blank canvas drawn for a missing image (pixels): 48 MB at most,
and above the size of the images of every dataset format read."""


def _picture(sample) -> np.ndarray:
    """The sample's image; without one (an upload of annotations only, a file that does
    not decode), a blank canvas of its annotated size, said in a caption."""
    path = Path(sample.path)
    if path.is_file():
        try:
            return image_array(str(path))
        except (ImageError, OSError) as exc:
            reason = f"{sample.name} cannot be read ({exc.__class__.__name__})"
    else:
        reason = f"no image file for {sample.name}"
    width = min(max(int(sample.width), 1), CANVAS_SIDE)
    height = min(max(int(sample.height), 1), CANVAS_SIDE)
    st.caption(
        f"{reason[0].upper()}{reason[1:]}: the boxes are "
        f"drawn on a blank canvas of the annotated size ({width} × {height})."
    )
    return np.full((height, width, 3), 236, np.uint8)


ERROR_PAGE_SIZE = 50
"""Images per page of the error browser's list."""


def errors_section(records: pd.DataFrame, dataset, key: str) -> None:
    names = {s.image_id: s.name for s in dataset.samples}
    table = per_image_table(records, names)
    left, middle = st.columns(2)
    with left:
        order = st.radio(
            "Sort images by",
            ["false positives", "misses", "worst IoU"],
            horizontal=True,
            key=f"{key}_err_sort",
        )
    with middle:
        classes = sorted(records["class"].astype(str).unique())
        only = st.selectbox("Class", ["All classes", *classes], key=f"{key}_err_class")
    if only != "All classes":
        records = records[records["class"] == only]
        table = per_image_table(records, names)
        table = table[(table[[TP, FP, FN]].sum(axis=1)) > 0]
    if order == "false positives":
        table = table.sort_values([FP, FN], ascending=False, kind="stable")
    elif order == "misses":
        table = table.sort_values([FN, FP], ascending=False, kind="stable")
    else:
        table = table.sort_values("worst IoU", na_position="last", kind="stable")
    if table.empty:
        st.info("No image has a box of this class.")
        return
    # Pages of images: at 5,000 images the table and the picker stay small.
    pages = -(-len(table) // ERROR_PAGE_SIZE)
    page_key = f"{key}_err_page"
    if st.session_state.get(page_key, 1) > pages:
        st.session_state[page_key] = 1
    if pages > 1:
        page = st.number_input(
            f"Page (of {pages}; {ERROR_PAGE_SIZE} images each, {len(table)} in all)",
            min_value=1,
            max_value=pages,
            step=1,
            key=page_key,
        )
        table = table.iloc[(page - 1) * ERROR_PAGE_SIZE : page * ERROR_PAGE_SIZE]
    show_table(table.drop(columns="image_id"), key=f"{key}_err_table", max_rows=6)
    # A new order (another threshold, sort, class or page) selects its new top row;
    # otherwise the selectbox would keep showing the image picked under the old order.
    first = int(table["image_id"].iloc[0])
    if st.session_state.get(f"{key}_err_first") != first:
        st.session_state[f"{key}_err_first"] = first
        st.session_state[f"{key}_err_image"] = first
    image_id = st.selectbox(
        "Image",
        table["image_id"].tolist(),
        format_func=lambda i: names[i],
        key=f"{key}_err_image",
    )
    sample = dataset.sample(image_id)
    mine = records[records["image_id"] == image_id]
    st.image(
        draw_errors(_picture(sample), mine, dataset.class_names),
        width="stretch",
        alt=f"{sample.name} with its true positives, false positives and misses drawn",
    )
    st.caption(
        "Green: true positive · red: false positive · orange dashed: missed object. "
        "Ignored (in the table, not drawn): a detection matched to a crowd or difficult "
        "object, counted neither as a true nor as a false positive."
    )
    show_table(
        mine.drop(columns=["image_id", "gt_index"]).sort_values(
            "score", ascending=False
        ),
        key=f"{key}_err_boxes",
    )


def _browse_image(
    key: str, ids: list[int], names: dict[int, str], label: str = "Image"
) -> int:
    """An image picker over ``ids`` that jumps to the new first image when the list
    changes (as the error browser does)."""
    first = int(ids[0])
    if st.session_state.get(f"{key}_first") != first:
        st.session_state[f"{key}_first"] = first
        st.session_state[f"{key}_image"] = first
    return st.selectbox(label, ids, format_func=lambda i: names[i], key=f"{key}_image")


def error_types_section(report, records: pd.DataFrame, conf: float, key: str) -> None:
    """TIDE's six error types with their dAP50, under COCO's or tidecv's rules (picked,
    labelled), and an error browser per type."""
    rules = st.radio(
        "Rules",
        list(RULES),
        format_func=RULES.get,
        horizontal=True,
        key=f"{key}_tide_rules",
        help=RULES_DIFFER,
    )
    # Kept with the report (they read its evaluation): computed once per rules.
    with st.spinner("Typing the errors…"):
        analysis = report.errors_under(rules)
    table = analysis.table()
    st.plotly_chart(error_types_figure(table), config=CHART, key=f"{key}_tide_fig")
    show_table(table, key=f"{key}_tide_table")
    now = (
        f"now {_fmt(analysis.ap50)}, the mAP50 card"
        if analysis.rules == "coco"
        else f"tidecv's AP50, now {_fmt(analysis.ap50)}; the mAP50 card's is "
        f"{_fmt(report.coco.stats['AP50'])}"
    )
    st.caption(
        f"{analysis.rules_label}. Every false positive and missed object at IoU 0.5 gets "
        "one type, tested in this order: localisation, classification, duplicate, "
        "background, both; missed objects are those no error points at. dAP50 is how "
        f"much AP50 ({now}) would rise if that type alone were fixed and the rest "
        "re-scored, as in TIDE (Bolya et al., ECCV 2020); the types overlap, so the dAPs "
        "do not add up. Every stored detection counts, down to the lowest confidence, as "
        f"in AP. {RULES_DIFFER}"
    )
    dataset = report.dataset
    names = {s.image_id: s.name for s in dataset.samples}
    picked = st.radio(
        "Browse the images of one error type",
        ERROR_TYPES,
        horizontal=True,
        key=f"{key}_tide_type",
    )
    above = st.toggle(
        f"Only detections scoring ≥ {conf:.2f} (the explorer's confidence)",
        value=True,
        key=f"{key}_tide_above",
        help="The types and dAP count every stored detection; this only shortens the "
        "lists. Missed objects are listed either way (no detection at any score found "
        "them or came near).",
    )
    min_score = conf if above else 0.0
    images = analysis.images(picked, min_score)
    st.markdown(
        f"**Error browser: {picked} errors** ({ERROR_HELP[ERROR_TYPES.index(picked)]}) "
        f"in {len(images)} images, most first."
    )
    if images.empty:
        st.info(f"No {picked} errors" + (f" scoring ≥ {conf:.2f}." if above else "."))
        return
    listed = images.assign(image=[names[i] for i in images["image_id"]])
    show_table(listed[["image", "errors"]], key=f"{key}_tide_images", max_rows=5)
    image_id = _browse_image(f"{key}_tide", images["image_id"].tolist(), names)
    sample = dataset.sample(image_id)
    mine = records[records["image_id"] == image_id]
    boxes = analysis.boxes(image_id, picked, min_score)
    picture = highlight_errors(_picture(sample), boxes, dataset.class_names, mine)
    st.image(picture, width="stretch", alt=f"{sample.name} with its {picked} errors")
    st.caption(
        f"Thick magenta: the {picked} errors (IoU 0.5). Underneath, the error browser at "
        "the explorer's thresholds: green true positive, red false positive, orange dashed "
        "missed object."
    )
    show_table(boxes.drop(columns="image_id"), key=f"{key}_tide_boxes")


def per_image_section(
    report, records: pd.DataFrame, conf: float, iou: float, key: str, report_id: str
) -> None:
    """Per-image AP or F1, worst first, with a histogram and class / size filters."""
    dataset = report.dataset
    left, middle, right = st.columns(3)
    metric = left.radio(
        "Score", ["AP", "F1"], horizontal=True, key=f"{key}_pi_metric",
        help="AP: COCO AP of the image alone, mean over its classes. "
        "F1: 2·TP / (2·TP + FP + FN) at the explorer's confidence and IoU.",
    )  # fmt: skip
    with_gt = [
        c
        for c, n in zip(report.coco.per_class["class"], report.coco.per_class["gt"])
        if n
    ]
    picked = middle.selectbox("Class", [ALL, *with_gt], key=f"{key}_pi_class")
    area = right.selectbox(
        "Object size", ["all", "small", "medium", "large"], key=f"{key}_pi_area",
        help="COCO's area ranges: small < 32² px, medium < 96² px, large above.",
    )  # fmt: skip
    class_name = None if picked == ALL else picked
    frame = cache.per_image(report_id, conf, iou, class_name, area, report)
    scored = frame.dropna(subset=[metric]).sort_values(
        [metric, "FN", "FP"], ascending=[True, False, False], kind="stable"
    )
    st.plotly_chart(
        per_image_histogram_figure(frame[metric].to_numpy(), metric),
        config=CHART,
        key=f"{key}_pi_hist",
    )
    t = report.params.snap_iou(iou)
    class_ap = report.evaluation.class_ap(t)
    pooled = class_ap[class_ap > -1].mean() if (class_ap > -1).any() else float("nan")
    st.caption(
        f"{len(scored)} of {len(frame)} images have a {metric} "
        + "(AP needs an object; F1 an object or a detection). "
        + f"Their mean, {_fmt(scored[metric].mean()) if len(scored) else 'n/a'}, is not "
        f"mAP (all classes, all sizes: {_fmt(pooled)} at IoU "
        f"{report.params.iou_thresholds[t]:.2f}): mAP ranks every image's detections "
        "of a class together, so a confident false positive in one image lowers the "
        "precision of all the others."
    )
    if scored.empty:
        st.info("No image has a score with these filters.")
        return
    names = {s.image_id: s.name for s in dataset.samples}
    listed = scored.assign(image=[names[i] for i in scored["image_id"]])
    show_table(listed.drop(columns="image_id").set_index("image").reset_index(),
               key=f"{key}_pi_table", max_rows=6)  # fmt: skip
    image_id = _browse_image(
        f"{key}_pi", scored["image_id"].tolist(), names, "Image (worst first)"
    )
    mine = records[records["image_id"] == image_id]
    if class_name is not None:
        mine = mine[mine["class"] == class_name]
    st.image(
        draw_errors(_picture(dataset.sample(image_id)), mine, dataset.class_names),
        width="stretch",
        alt=f"{names[image_id]} with its true positives, false positives and misses",
    )
