"""Renderers of the Evaluate page: each takes computed results and places them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components.cache import image_array, report_files
from core.compare import table_height
from core.errors import draw_errors, per_image_table
from core.metrics.matching import (
    FN,
    FP,
    TP,
    ConfusionResult,
    MatchResult,
    Summary,
    f1_curve,
    operating_point,
    pr_curve,
)
from core.plots import (
    ap_difference_figure,
    confusion_figure,
    f1_confidence_figure,
    iou_histogram_figure,
    per_class_ap_figure,
    pr_figure,
    tagging_figure,
)
from core.tables import per_class_table, with_missing_as_na

CHART = {"displayModeBar": False}
ALL = "All classes (pooled)"


def _fmt(value: float | None) -> str:
    if value is None or value != value or value < 0:
        return "n/a"
    return f"{value:.3f}"


def summary_cards(report) -> None:
    stats = report.coco.stats
    cards = [
        ("mAP50-95", _fmt(stats["AP"]), "COCO AP averaged over IoU 0.50:0.95"),
        ("mAP50", _fmt(stats["AP50"]), "COCO AP at IoU 0.5 (101-point)"),
        ("mAP75", _fmt(stats["AP75"]), "COCO AP at IoU 0.75"),
        ("AR100", _fmt(stats["AR100"]), "COCO recall with up to 100 boxes per image"),
        ("VOC AP (11-pt)", _fmt(report.voc.map_11pt),
         f"PASCAL VOC2007, IoU > 0.5, {report.voc.convention} pixels"),
        ("VOC AP (all-pt)", _fmt(report.voc.map_all),
         f"PASCAL VOC2010+, IoU > 0.5, {report.voc.convention} pixels"),
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
    st.dataframe(with_missing_as_na(frame), hide_index=True, width="stretch")
    st.caption(
        f"AP50 {_fmt(s['AP50'])} · AP75 {_fmt(s['AP75'])} · AR1 {_fmt(s['AR1'])} · "
        f"AR10 {_fmt(s['AR10'])}. Small < 32² px, medium < 96² px, large above, by annotated "
        "area. n/a: no ground truth of that size."
    )


def pr_section(report, match: MatchResult, conf: float, key: str) -> None:
    classes = [
        c
        for c, n in zip(report.coco.per_class["class"], report.coco.per_class["gt"])
        if n
    ]
    picked = st.selectbox("Class", [ALL, *classes], key=f"{key}_pr_class")
    name = None if picked == ALL else picked
    recall, precision, scores = pr_curve(match, name)
    point = operating_point(recall, precision, scores, conf)
    coco_r, coco_p = report.coco.pr_curve(name, iou=0.5)
    curves = [
        (f"{picked}, IoU {match.iou_threshold:.2f} (ranked detections)", recall, precision),
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
            f1_confidence_figure(f1_curve(match), conf), config=CHART, key=f"{key}_f1"
        )


def per_class_section(report, key: str) -> None:
    frame = report.per_class_frame()
    column = st.radio(
        "Bar chart of", ["AP50-95", "AP50"], horizontal=True, key=f"{key}_apcol"
    )
    st.plotly_chart(per_class_ap_figure(frame, column), config=CHART, key=f"{key}_apbar")
    # Full width below the chart, so every column (VOC AP included) fits on the screen.
    table = per_class_table(frame, by=column)
    st.dataframe(
        with_missing_as_na(table),
        hide_index=True,
        width="stretch",
        height=table_height(len(table), max_rows=12),
    )
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
    st.dataframe(
        table.drop(columns="image_id"), hide_index=True, width="stretch", height=220
    )
    # A new order (another threshold, sort or class) selects its new top row; otherwise
    # the selectbox would keep showing the image picked under the old order.
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
        draw_errors(image_array(str(sample.path)), mine, dataset.class_names),
        width="stretch",
    )
    st.caption(
        "Green: true positive · red: false positive · orange dashed: missed object. "
        "Ignored (in the table, not drawn): a detection matched to a crowd or difficult "
        "object, counted neither as a true nor as a false positive."
    )
    st.dataframe(
        mine.drop(columns=["image_id", "gt_index"]).sort_values(
            "score", ascending=False
        ),
        hide_index=True,
        width="stretch",
    )


def compare_section(a, b, key: str) -> None:
    rows = pd.DataFrame(
        {"metric": [*list(a.coco.stats), "VOC AP 11-pt", "VOC AP all-pt"],
         a.source: [*a.coco.stats.values(), a.voc.map_11pt, a.voc.map_all],
         b.source: [*b.coco.stats.values(), b.voc.map_11pt, b.voc.map_all]}
    ).replace(-1.0, np.nan)  # fmt: skip
    st.dataframe(rows, hide_index=True, width="stretch")
    st.plotly_chart(
        ap_difference_figure(a.coco.per_class, b.coco.per_class, a.source, b.source),
        config=CHART,
        key=f"{key}_diff",
    )


def tagging_section(report) -> None:
    t = report.tagging
    st.markdown(
        f"**{report.classifier}** names ImageNet classes; mapped to this dataset it can name "
        f"{len(t.per_class)} classes with images here, covering {t.coverage:.0%} of the "
        f"image labels. Image-level mAP: classifier **{_fmt(t.classifier_map)}**, detector "
        f"**{_fmt(t.detector_map)}** on the same classes and images."
    )
    st.markdown(
        "A classifier gives one distribution for the whole image, so it ranks images by "
        "their main subject and fades on small or secondary objects; the detector scores "
        "every object, so it finds a class wherever it appears. Where the classifier comes "
        "close, the class is usually the main subject of its images."
    )
    st.plotly_chart(tagging_figure(t.per_class), config=CHART, key="evaluate_tagging")
    st.dataframe(t.per_class, hide_index=True, width="stretch")
    st.caption(
        "Cannot be named by ImageNet at all: "
        + (", ".join(t.unnameable) or "none")
        + ". "
        "The mapping (which ImageNet classes count for each class) is in core/taxonomy.py."
    )
    with st.expander("The ImageNet → dataset class mapping"):
        st.dataframe(
            pd.DataFrame(
                {"class": list(t.mapping),
                 "ImageNet classes": [", ".join(v) or "—" for v in t.mapping.values()]}
            ),
            hide_index=True,
            width="stretch",
        )  # fmt: skip


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
        st.dataframe(table, hide_index=True, width="stretch")


def disagreement_section(frame: pd.DataFrame) -> None:
    # A static table wraps the one-sentence causes instead of cutting them off.
    st.table(with_missing_as_na(frame).hide(axis="index"))


def downloads(report, records: pd.DataFrame, key: str, report_id: str) -> None:
    """Three downloads. The files are built before the click (cached per report) and a
    click does not rerun the page, so every click delivers its file: a deferred file is
    dropped by the next rerun, and a second click within a second then got nothing."""
    stem = f"{report.dataset.name}_{report.source}".replace("/", "_").replace(":", "_")
    per_class_csv, coco_json = report_files(report_id, report)
    left, middle, right = st.columns(3)
    left.download_button(
        "Metrics (CSV)",
        per_class_csv,
        file_name=f"{stem}_per_class.csv",
        mime="text/csv",
        key=f"{key}_dl_metrics",
        on_click="ignore",
    )
    middle.download_button(
        "Per-image results (CSV)",
        records.to_csv(index=False),
        file_name=f"{stem}_per_image.csv",
        mime="text/csv",
        key=f"{key}_dl_records",
        on_click="ignore",
    )
    right.download_button(
        "COCO results (JSON)",
        coco_json,
        file_name=f"{stem}_coco_results.json",
        mime="application/json",
        key=f"{key}_dl_json",
        on_click="ignore",
    )
