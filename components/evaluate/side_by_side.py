"""The Evaluate page's side-by-side views: two detectors, and the classifier scored as an
image-level tagger next to the detector."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components.evaluate.error_views import _browse_image, _picture
from components.evaluate.header import _fmt
from components.shared import cache
from components.shared.tables import show_table
from components.shared.titles import model_title
from components.shared.views import CHART
from visioncompare.evaluation.error_browser import draw_errors
from visioncompare.evaluation.metrics.tagging_images import (
    CLASSIFIER_ONLY,
    DETECTOR_ONLY,
)
from visioncompare.evaluation.metrics.two_models import CATEGORIES, compare_models
from visioncompare.plots.errors import (
    highlight_errors,
)
from visioncompare.plots.evaluation import (
    ap_difference_figure,
    tagging_figure,
)


def compare_section(a, b, key: str) -> None:
    title_a, title_b = model_title(a.source), model_title(b.source)
    if title_a == title_b:  # the same title twice (two files of one name): tell apart
        title_a, title_b = f"A: {title_a}", f"B: {title_b}"
    rows = pd.DataFrame(
        {"metric": [*list(a.coco.stats), "VOC AP 11-pt", "VOC AP all-pt"],
         title_a: [*a.coco.stats.values(), a.voc.map_11pt, a.voc.map_all],
         title_b: [*b.coco.stats.values(), b.voc.map_11pt, b.voc.map_all]}
    ).replace(-1.0, np.nan)  # fmt: skip
    show_table(rows, key=f"{key}_two_table", max_rows=14,
               kinds={title_a: "metric", title_b: "metric"})  # fmt: skip
    st.plotly_chart(
        ap_difference_figure(a.coco.per_class, b.coco.per_class, title_a, title_b),
        config=CHART,
        key=f"{key}_diff",
    )


def tagging_section(report) -> None:
    t = report.tagging
    st.markdown(
        f"**{model_title(report.classifier)}** names ImageNet classes; mapped to this "
        f"dataset it can name {len(t.per_class)} classes with images here, covering "
        f"{t.coverage:.0%} of the image labels. Image-level mAP: classifier "
        f"**{_fmt(t.classifier_map)}**, detector **{_fmt(t.detector_map)}** on the same "
        "classes and images."
    )
    st.markdown(
        "A classifier gives one distribution for the whole image, so it ranks images by "
        "their main subject and fades on small or secondary objects; the detector scores "
        "every object, so it finds a class wherever it appears. Where the classifier comes "
        "close, the class is usually the main subject of its images."
    )
    st.plotly_chart(tagging_figure(t.per_class), config=CHART, key="evaluate_tagging")
    show_table(t.per_class, key="evaluate_tagging_table")
    st.caption(
        "Cannot be named by ImageNet at all: "
        + (", ".join(t.unnameable) or "none")
        + ". "
        "The mapping (which ImageNet classes count for each class) is in "
        "visioncompare/kernel/taxonomy.py."
    )
    with st.expander("The ImageNet → dataset class mapping"):
        show_table(
            pd.DataFrame(
                {"class": list(t.mapping),
                 "ImageNet classes": [", ".join(v) or "—" for v in t.mapping.values()]}
            ),
            key="evaluate_tagging_mapping",
        )  # fmt: skip


def two_models_images_section(
    a, b, records_a: pd.DataFrame, conf: float, iou: float, key: str
) -> None:
    """Two detectors image by image: where B finds what A missed, where B adds false
    positives, where both miss; each list opens both models' boxes side by side."""
    records_b = b.explorer.match(iou).at_confidence(conf)
    diff = compare_models(records_a, records_b)
    st.markdown(
        f"**Image by image** at confidence {conf:.2f}, IoU {iou:.2f}: "
        f"A = {model_title(a.source)}, B = {model_title(b.source)}."
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
        marked = rows.assign(type=rows["kind"], score=rows["score"])
        column.image(
            highlight_errors(picture, marked, dataset.class_names, mine),
            caption=f"{'A' if model is a else 'B'}: {model_title(model.source)}",
            width="stretch",
            alt=f"{names[image_id]} as {model_title(model.source)} found it",
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
    show_table(
        shown[["image", "class", "classifier_top", "classifier_mass", "detector_score"]],
        key=f"{key}_tagimg_table", max_rows=5,
    )  # fmt: skip
    ids = list(dict.fromkeys(rows["image_id"].tolist()))
    image_id = _browse_image(f"{key}_tagimg", ids, names)
    mine = records[records["image_id"] == image_id]
    st.image(
        draw_errors(_picture(dataset.sample(image_id)), mine, dataset.class_names),
        width="stretch",
        alt=f"{names[image_id]} with the detector's boxes",
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
