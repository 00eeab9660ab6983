"""The Evaluate page's possible label errors: images ranked by label quality, each drawn
with the suspected box and the model's box that suggests it."""

from __future__ import annotations

import streamlit as st

from components.evaluate.error_views import _picture
from components.evaluate.run import report_view_id
from components.shared import cache
from components.shared.tables import show_table
from visioncompare.evaluation import objectlab
from visioncompare.evaluation.label_issues import IssueKind, draw_label_issues
from visioncompare.kernel.tables import NOT_AVAILABLE

PAGE_ROWS = 50
"""Images listed at once (worst first)."""
CAVEAT = (
    "A flagged box is a candidate for a person to check, not a verdict. The model's own "
    "mistakes look the same as label errors, a model trained on these images agrees "
    "with their labels, and a box the model does not see cannot be judged at all."
)


def _confidences() -> tuple[float, float]:
    left, right = st.columns(2)
    high = left.slider(
        "Model score that can suggest a missing box or another class",
        0.3, 0.99, objectlab.HIGH_PROBABILITY_THRESHOLD, 0.01,
        key="evaluate_li_high",
        help="cleanlab's default is 0.95: only boxes the model is that sure of can say "
        "an object was not labelled, or labelled with the wrong class.",
    )  # fmt: skip
    low = right.slider(
        "Model score that can suggest a badly placed box",
        0.1, 0.95, objectlab.LOW_PROBABILITY_THRESHOLD, 0.05,
        key="evaluate_li_low",
        help="cleanlab's default is 0.5.",
    )  # fmt: skip
    return high, low


def label_issues_section(results: list, dataset, choice) -> None:
    """Possible label errors, from one run's stored predictions (no model runs).

    Args:
        results: every report of the run (pick which predictions to check with).
        dataset: the dataset evaluated.
        choice: the page's ``EvaluateChoice`` (the uploaded files name the reports).
    """
    st.info(CAVEAT, icon=":material/person_search:")
    sources = {r.source: r for r in results}
    source = st.selectbox(
        "Predictions to check the labels with", list(sources), key="evaluate_li_source"
    )
    report = sources[source]
    high, low = _confidences()
    issues = cache.label_issues(report_view_id(report, choice), high, low, report)
    confident = sum(
        int((p[:, 4] >= high).sum()) for image in report.label_issue_inputs.predictions
        for p in image
    )  # fmt: skip
    flagged = issues.images[issues.images["flagged"]]
    counts = issues.boxes["kind"].value_counts()
    st.markdown(
        f"**{len(flagged)} of {len(issues.images)} images** have a flagged box ("
        + ", ".join(f"{k.value}: {counts.get(k.value, 0)}" for k in IssueKind)
        + f"). {confident} of the model's boxes score {high:.2f} or more."
    )
    if confident == 0:
        st.info(
            f"No box of {source} scores {high:.2f} or more, so it cannot suggest a "
            "missing box or a swapped class: lower the first slider to see them."
        )
    left, right = st.columns(2)
    kinds = left.multiselect(
        "Kinds", [k.value for k in IssueKind], key="evaluate_li_kinds",
        placeholder="Every kind",
    )  # fmt: skip
    classes = right.multiselect(
        "Classes", list(dataset.class_names), key="evaluate_li_classes",
        placeholder="Every class",
    )  # fmt: skip
    table = issues.table(kinds or None, classes or None)
    st.download_button(
        "Possible label errors (CSV)",
        issues.to_frame().to_csv(index=False),
        file_name=f"{dataset.name}_{source}_label_issues.csv".replace("/", "_"),
        mime="text/csv",
        key="evaluate_dl_label_issues",
        on_click="ignore",
    )
    if table.empty:
        st.info("No flagged box of these kinds and classes.")
        return
    shown = table.drop(columns=["image_id", "flagged"])
    if not (kinds or classes):  # every issue matches: one count is enough
        shown = shown.drop(columns="matching issues")
    show_table(
        shown.head(PAGE_ROWS),
        key="evaluate_li_images_table",
        max_rows=6,
        kinds=dict.fromkeys(("label quality", "missing", "swapped", "badly placed"), "metric"),
    )
    st.caption(
        "Lowest label quality first (cleanlab's ObjectLab score, 0-1; the three kinds' "
        f"own scores beside it). {min(len(table), PAGE_ROWS)} of {len(table)} images "
        "listed; the CSV holds every flagged box."
    )
    names = dict(zip(table["image_id"], table["image"]))
    if st.session_state.get("evaluate_li_image") not in list(names)[:PAGE_ROWS]:
        st.session_state["evaluate_li_image"] = next(iter(names))  # the new worst
    image_id = st.selectbox(
        "Image", list(names)[:PAGE_ROWS], format_func=names.get, key="evaluate_li_image"
    )
    sample = dataset.sample(image_id)
    boxes = issues.boxes_of(image_id)
    st.image(
        draw_label_issues(_picture(sample), sample.gt, boxes),
        caption="Magenta: the label in question; dashed blue: the model's box that "
        "suggests it; grey: the image's other labels.",
        width="stretch",
        alt=f"{names[image_id]} with its {len(boxes)} possible label errors drawn",
    )
    show_table(
        _corners_joined(boxes.drop(columns=["image_id", "image"])),
        key="evaluate_li_boxes_table",
        kinds={"threshold": "score"},
        help={
            "box": "The label's corners x1, y1, x2, y2 in pixels.",
            "model box": "The corners of the model's box that suggests the issue.",
        },
    )


def _corners_joined(boxes):
    """Each box's four corner columns as one "x1, y1, x2, y2" column (whole pixels), so
    the table fits the page's width; n/a where a box has none (a missing label's)."""
    frame = boxes.copy()
    for prefix, column in (("", "box"), ("model ", "model box")):
        corners = [f"{prefix}{c}" for c in ("x1", "y1", "x2", "y2")]
        if not set(corners) <= set(frame.columns):
            continue
        values = frame[corners]
        frame.insert(
            frame.columns.get_loc(corners[0]),
            column,
            [
                NOT_AVAILABLE if row.isna().any() else ", ".join(f"{v:.0f}" for v in row)
                for _, row in values.iterrows()
            ],
        )
        frame = frame.drop(columns=corners)
    return frame
