"""The Evaluate page's summary views at the explorer's thresholds: precision-recall, per
class, IoU, confusion, by size, the best threshold and COCO's table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components.evaluate.header import _fmt
from components.shared import cache
from components.shared.tables import show_table
from components.shared.views import CHART
from visioncompare.evaluation.metrics.breakdown import pr_by_size
from visioncompare.evaluation.metrics.matching import (
    TP,
    ConfusionResult,
    operating_point,
)
from visioncompare.kernel.tables import per_class_table
from visioncompare.plots.errors import (
    pr_by_size_figure,
)
from visioncompare.plots.evaluation import (
    confusion_figure,
    f1_confidence_figure,
    iou_histogram_figure,
    per_class_ap_figure,
    pr_figure,
)

ALL = "All classes (pooled)"
"""The class choice that pools every class."""


def coco_table(report) -> None:
    s = report.coco.stats
    frame = pd.DataFrame(
        {
            "area": ["all", "small", "medium", "large"],
            "AP (IoU .50:.95)": [s["AP"], s["AP_small"], s["AP_medium"], s["AP_large"]],
            "AR (100 boxes)": [
                s["AR100"],
                s["AR_small"],
                s["AR_medium"],
                s["AR_large"],
            ],
        }
    ).replace(-1.0, np.nan)
    show_table(frame, key="evaluate_coco_table")
    st.caption(
        f"AP50 {_fmt(s['AP50'])} · AP75 {_fmt(s['AP75'])} · AR1 {_fmt(s['AR1'])} · "
        f"AR10 {_fmt(s['AR10'])}. Small < 32² px, medium < 96² px, large above, by annotated "
        "area. n/a: no ground truth of that size."
    )


def pr_section(report, conf: float, iou: float, key: str, report_id: str) -> None:
    classes = [
        c
        for c, n in zip(report.coco.per_class["class"], report.coco.per_class["gt"])
        if n
    ]
    picked = st.selectbox("Class", [ALL, *classes], key=f"{key}_pr_class")
    name = None if picked == ALL else picked
    # one curve per IoU and class, kept: a confidence change moves only the point
    iou = report.params.iou_thresholds[report.params.snap_iou(iou)]
    recall, precision, scores = cache.pr_curve(report_id, iou, name, report)
    point = operating_point(recall, precision, scores, conf)
    coco_r, coco_p = report.coco.pr_curve(name, iou=0.5)
    curves = [
        (f"{picked}, IoU {iou:.2f} (ranked detections)", recall, precision),
        ("COCO interpolated, IoU 0.50" + (" (mean of classes)" if name is None else ""),
         coco_r, coco_p),
    ]  # fmt: skip
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            pr_figure(curves, point, f"conf {conf:.2f}"), config=CHART, key=f"{key}_pr"
        )
    with right:
        st.plotly_chart(
            f1_confidence_figure(cache.f1_curve(report_id, iou, report), conf),
            config=CHART,
            key=f"{key}_f1",
        )


def per_class_section(report, key: str) -> None:
    frame = report.per_class_frame()
    column = st.radio(
        "Bar chart of", ["AP50-95", "AP50"], horizontal=True, key=f"{key}_apcol"
    )
    st.plotly_chart(
        per_class_ap_figure(frame, column), config=CHART, key=f"{key}_apbar"
    )
    # Full width below the chart, so every column (VOC AP included) fits on the screen.
    table = per_class_table(frame, by=column)
    show_table(table, key=f"{key}_per_class_table", max_rows=12,
               help={"objects": "Ground-truth boxes of the class in the dataset."})  # fmt: skip
    st.caption(
        f"Best {column} first; classes with no ground truth last. Click a column header "
        "to sort. n/a: no ground truth of that class."
    )


def iou_section(records: pd.DataFrame, iou: float, key: str) -> None:
    tps = records[records["kind"] == TP]
    classes = sorted(tps["class"].astype(str).unique())
    picked = st.selectbox("IoU of", [ALL, *classes], key=f"{key}_iou_class")
    if picked != ALL:
        tps = tps[tps["class"] == picked]
    thresholds = tuple(sorted({0.5, 0.75, round(iou, 2)}))
    st.plotly_chart(
        iou_histogram_figure(tps["iou"].to_numpy(), thresholds),
        config=CHART,
        key=f"{key}_ioufig",
    )
    if len(tps):
        st.caption(
            f"Median IoU {tps['iou'].median():.3f}; true positives need IoU ≥ {iou:.2f}."
        )


def confusion_section(cm: ConfusionResult, names: dict[int, str], key: str) -> None:
    normalize = st.toggle("Normalise each true class to 1", key=f"{key}_cm_norm")
    st.plotly_chart(confusion_figure(cm, normalize), config=CHART, key=f"{key}_cm")
    cells = cm.nonzero_cells()
    if not cells:
        return
    labels = cm.labels

    def describe(cell: tuple[int, int]) -> str:
        row, col = cell
        return f"predicted {labels[row]} / true {labels[col]} ({cm.matrix[row, col]})"

    cell = st.selectbox(
        "Images in the cell", cells, format_func=describe, key=f"{key}_cm_cell"
    )
    st.write(", ".join(names[i] for i in cm.images_in(cell)))


def size_section(report, iou: float, key: str) -> None:
    """COCO's precision-recall curves for small, medium and large objects."""
    curves = pr_by_size(report.evaluation, iou)
    st.plotly_chart(pr_by_size_figure(curves, iou), config=CHART, key=f"{key}_size_pr")
    st.caption(
        "COCO's interpolated precision at 101 recall points, mean over the classes with "
        "objects of that size; small < 32² px, medium < 96² px, large above, by annotated "
        "area. Objects of other sizes, and unmatched detections of other sizes, are left "
        "out of each curve. Sizes without objects are not drawn."
    )


def _move_confidence(slider_key: str, value: float) -> None:
    st.session_state[slider_key] = value


def best_point_section(report, iou: float, key: str, report_id: str) -> None:
    """The confidence with the best F1, overall and per class, and a button that moves
    the threshold explorer there."""
    best = cache.best_operating_points(report_id, iou, report)
    overall = best.iloc[0]
    if overall["conf"] != overall["conf"]:
        st.info("No detection scores in the slider's range.")
        return
    # the slider moves in steps of 0.05; F1 there is the explorer's
    step = float(np.clip(np.round(overall["conf"] / 0.05) * 0.05, 0.05, 0.95))
    step = round(step, 2)
    at_step = report.explorer.summary(step, iou)
    snapped = report.params.iou_thresholds[report.params.snap_iou(iou)]
    st.markdown(
        f"Best F1 for all classes at IoU {snapped:.2f}: "
        f"**{overall['F1']:.3f}** at confidence **{overall['conf']:.3f}** "
        f"(precision {overall['precision']:.3f}, recall {overall['recall']:.3f}). "
        f"On the slider's 0.05 steps: {step:.2f}, F1 {at_step.f1:.3f}."
    )
    st.button(
        f"Move the threshold explorer to confidence {step:.2f}",
        key=f"{key}_best_move",
        on_click=_move_confidence,
        args=(f"{key}_conf", step),
    )
    per_class = best.iloc[1:].sort_values("F1", ascending=False, kind="stable")
    show_table(per_class, key=f"{key}_best_table", max_rows=8)
    st.caption(
        "Per class: the confidence (searched over every detection score from 0.05 to "
        "0.95) where that class's F1 is highest. One threshold for all classes is what "
        "the explorer and most deployments use; per-class thresholds can do better."
    )
