"""Renderers of the Evaluate page: each takes computed results and places them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from components import cache
from components.cache import image_array, report_files
from components.controls import thresholds_ui
from visioncompare.datasets.kitti import DIFFICULTIES, difficulty_counts, has_difficulty
from visioncompare.evaluation.error_browser import draw_errors, per_image_table
from visioncompare.evaluation.metrics.breakdown import pr_by_size
from visioncompare.evaluation.metrics.error_types import ERROR_HELP, ERROR_TYPES
from visioncompare.evaluation.metrics.matching import (
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
from visioncompare.evaluation.metrics.tagging_images import (
    CLASSIFIER_ONLY,
    DETECTOR_ONLY,
)
from visioncompare.evaluation.metrics.two_models import CATEGORIES, compare_models
from visioncompare.kernel.display import table_height
from visioncompare.kernel.images import ImageError
from visioncompare.kernel.tables import per_class_table, with_missing_as_na
from visioncompare.plots.errors import (
    error_types_figure,
    highlight_errors,
    per_image_histogram_figure,
    pr_by_size_figure,
)
from visioncompare.plots.evaluation import (
    ap_difference_figure,
    confusion_figure,
    f1_confidence_figure,
    iou_histogram_figure,
    per_class_ap_figure,
    pr_figure,
    tagging_figure,
)
from visioncompare.services.report import runs_dir

CHART = {"displayModeBar": False}
ALL = "All classes (pooled)"
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


def missing_images_note(dataset, present: int, detectors, classifier) -> None:
    """Say what works without images: every metric; models need the pictures."""
    missing = len(dataset) - present
    if present == 0:
        text = (
            f"{dataset.name} has annotations but no images: every metric is computed "
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
            f"{missing} of {len(dataset)} images of {dataset.name} are missing: their "
            "pictures are blank canvases, and a detector stops at the first of them."
        )


def _fmt(value: float | None) -> str:
    if value is None or value != value or value < 0:
        return "n/a"
    return f"{value:.3f}"


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
    st.subheader(f"{report.source} on {dataset.label}")
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
    st.plotly_chart(
        per_class_ap_figure(frame, column), config=CHART, key=f"{key}_apbar"
    )
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
    st.dataframe(
        table.drop(columns="image_id"), hide_index=True, width="stretch", height=220
    )
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
        "The mapping (which ImageNet classes count for each class) is in "
        "visioncompare/kernel/taxonomy.py."
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
    stem = "_".join(filter(None, (report.dataset.name, report.dataset.scored_as,
                                  report.source)))  # fmt: skip
    stem = stem.replace("/", "_").replace(":", "_")
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
    """TIDE's six error types with their dAP50, and an error browser per type."""
    analysis = report.errors
    table = analysis.table()
    st.plotly_chart(error_types_figure(table), config=CHART, key=f"{key}_tide_fig")
    st.dataframe(
        table.style.format({"dAP50": "{:.2f}"}), hide_index=True, width="stretch"
    )
    st.caption(
        "Every false positive and missed object at IoU 0.5 gets one type, tested in this "
        "order: localisation, classification, duplicate, background, both; missed objects "
        "are those no error points at. dAP50 is how much AP50 "
        f"(now {_fmt(analysis.ap50)}, the mAP50 card) would rise if that type alone were "
        "fixed and the rest re-scored, as in TIDE (Bolya et al., ECCV 2020); the types "
        "overlap, so the dAPs do not add up. Every stored detection counts, down to the "
        "lowest confidence, as in AP."
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
    st.dataframe(
        listed[["image", "errors"]], hide_index=True, width="stretch", height=180
    )
    image_id = _browse_image(f"{key}_tide", images["image_id"].tolist(), names)
    sample = dataset.sample(image_id)
    mine = records[records["image_id"] == image_id]
    boxes = analysis.boxes(image_id, picked, min_score)
    picture = draw_errors(_picture(sample), mine, dataset.class_names)
    st.image(highlight_errors(picture, boxes, dataset.class_names), width="stretch")
    st.caption(
        f"Thick magenta: the {picked} errors (IoU 0.5). Underneath, the error browser at "
        "the explorer's thresholds: green true positive, red false positive, orange dashed "
        "missed object."
    )
    st.dataframe(boxes.drop(columns="image_id"), hide_index=True, width="stretch")


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
    st.dataframe(
        scored.drop(columns="image_id").style.format({"F1": "{:.3f}", "AP": "{:.3f}"}),
        hide_index=True, width="stretch", height=240,
    )  # fmt: skip
    names = {s.image_id: s.name for s in dataset.samples}
    image_id = _browse_image(
        f"{key}_pi", scored["image_id"].tolist(), names, "Image (worst first)"
    )
    mine = records[records["image_id"] == image_id]
    if class_name is not None:
        mine = mine[mine["class"] == class_name]
    st.image(
        draw_errors(_picture(dataset.sample(image_id)), mine, dataset.class_names),
        width="stretch",
    )


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
    st.dataframe(
        per_class.style.format(
            {"conf": "{:.3f}", "F1": "{:.3f}", "precision": "{:.3f}", "recall": "{:.3f}"}
        ),
        hide_index=True, width="stretch", height=260,
    )  # fmt: skip
    st.caption(
        "Per class: the confidence (searched over every detection score from 0.05 to "
        "0.95) where that class's F1 is highest. One threshold for all classes is what "
        "the explorer and most deployments use; per-class thresholds can do better."
    )


def two_models_images_section(
    a, b, records_a: pd.DataFrame, conf: float, iou: float, key: str
) -> None:
    """Two detectors image by image: where B finds what A missed, where B adds false
    positives, where both miss; each list opens both models' boxes side by side."""
    records_b = b.explorer.match(iou).at_confidence(conf)
    diff = compare_models(records_a, records_b)
    st.markdown(
        f"**Image by image** at confidence {conf:.2f}, IoU {iou:.2f}: "
        f"A = {a.source}, B = {b.source}."
    )
    totals = diff.images.drop(columns="image_id").astype(bool).sum()
    category = st.radio(
        "Images where",
        CATEGORIES,
        format_func=lambda c: f"{c} ({totals[c]} images)",
        key=f"{key}_two_category",
    )
    images = diff.images_of(category)
    if images.empty:
        st.info(f"No image: {category}.")
        return
    dataset = a.dataset
    names = {s.image_id: s.name for s in dataset.samples}
    image_id = _browse_image(f"{key}_two", images["image_id"].tolist(), names)
    picture = _picture(dataset.sample(image_id))
    rows_a, rows_b = diff.boxes(image_id, category)
    for column, model, records, rows in zip(
        st.columns(2), (a, b), (records_a, records_b), (rows_a, rows_b)
    ):
        mine = records[records["image_id"] == image_id]
        drawn = draw_errors(picture, mine, dataset.class_names)
        marked = rows.assign(type=rows["kind"], score=rows["score"])
        column.image(
            highlight_errors(drawn, marked, dataset.class_names),
            caption=f"{'A' if model is a else 'B'}: {model.source}",
            width="stretch",
        )
    st.caption(
        "Thick magenta: the boxes that put this image in the list (an object one model "
        "found and the other missed, a false positive the other model did not make, or an "
        "object both missed). Underneath: green true positive, red false positive, orange "
        "dashed missed. Two false positives are the same mistake when they have the same "
        "class and IoU ≥ 0.5."
    )


def tagging_images_section(
    report, records: pd.DataFrame, conf: float, key: str, report_id: str, probabilities
) -> None:
    """Classifier versus detector image by image: where one names a true class the other
    misses."""
    st.markdown(f"**Image by image**, detector at confidence {conf:.2f}:")
    if probabilities is None:
        st.info("The classifier's stored predictions are not available to this page.")
        return
    frame = cache.tagging_by_image(report_id, conf, report, probabilities)
    counts = {
        case: frame.loc[frame["case"] == case, "image_id"].nunique()
        for case in (CLASSIFIER_ONLY, DETECTOR_ONLY)
    }
    case = st.radio(
        "Images where",
        (CLASSIFIER_ONLY, DETECTOR_ONLY),
        format_func=lambda c: f"{c} ({counts[c]} images)",
        key=f"{key}_tagimg_case",
    )
    rows = frame[frame["case"] == case]
    if rows.empty:
        st.info("No image.")
        return
    dataset = report.dataset
    names = {s.image_id: s.name for s in dataset.samples}
    shown = rows.assign(image=[names[i] for i in rows["image_id"]])
    st.dataframe(
        shown[["image", "class", "classifier_top", "classifier_mass", "detector_score"]]
        .style.format({"classifier_mass": "{:.3f}", "detector_score": "{:.3f}"}),
        hide_index=True, width="stretch", height=200,
    )  # fmt: skip
    ids = list(dict.fromkeys(rows["image_id"].tolist()))
    image_id = _browse_image(f"{key}_tagimg", ids, names)
    mine = records[records["image_id"] == image_id]
    st.image(
        draw_errors(_picture(dataset.sample(image_id)), mine, dataset.class_names),
        width="stretch",
    )
    top = np.argsort(-np.asarray(probabilities[image_id]))[: report.tagging.k]
    categories = report.classifier_run.meta["class_names"]
    st.caption(
        f"Only the classes the image truly contains (it has a box of them) and ImageNet "
        f"can name. The classifier names a class when one of its top-{report.tagging.k} "
        "ImageNet classes maps to it; the detector finds it with a box at or above the "
        "confidence. Classifier's top here: "
        + ", ".join(
            f"{categories[i]} {float(probabilities[image_id][i]):.2f}" for i in top
        )
        + ". Boxes: the detector's, green true positive, red false positive, orange "
        "dashed missed."
    )


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
            probabilities = (
                choice.files.probabilities(report.classifier_run.key)
                if choice.uploaded
                else cache.classifier_probabilities(
                    report.classifier_run.key, str(runs_dir())
                )
            )
            tagging_images_section(
                report, records, conf, "evaluate", report_id, probabilities
            )
    with next(tab):
        st.caption("The same stored predictions, scored the ways different tools do:")
        disagreement_section(cache.disagreement(report_id, report))
    with next(tab):
        downloads(report, records, "evaluate", report_id)
