"""The Learn page's sections on tasks, labels, metrics and cost: one renderer each.

Every renderer draws its header and content from a ``LearnInputs`` (the models, the
image and their predictions, read once at the top of the page).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from components.shared import cache, models
from components.shared.controls import image_source_ui, shared_choice
from components.shared.tables import show_table
from components.shared.views import (
    CHART,
    classification_panel,
    detection_panel,
)
from visioncompare.datasets import DatasetError
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.kernel.display import (
    DETECT_CONF_FLOOR,
    count_noun,
    filter_detections,
)
from visioncompare.kernel.draw import annotate
from visioncompare.kernel.images import ImageError, fit_for_display
from visioncompare.kernel.types import Classification, Detections
from visioncompare.learn.lessons import (
    ModelCost,
    ap_steps,
    detector_label_set,
    imagenet_to_coco,
    iou_of,
    latency_note,
    multilabel,
)
from visioncompare.learn.summaries import cost_row, goal_sentence
from visioncompare.plots.learn import (
    ap_steps_figure,
    complexity_figure,
    iou_demo_figure,
)


@dataclass(frozen=True)
class LearnInputs:
    """What every section reads: the sidebar's models, the picked image and both models'
    outputs on it.

    Attributes:
        cls, det: the classifier and detector (``components.shared.cache.LoadedModel``).
        image: (H, W, 3) uint8 RGB.
        digest: the image's SHA-256 (the cache key).
        conf: the detector confidence threshold.
        classification: the classifier's output.
        shown: the detector's boxes at ``conf`` or above.
        to_coco: ImageNet class -> the COCO class it is a kind of.
    """

    cls: cache.LoadedModel
    det: cache.LoadedModel
    image: np.ndarray
    digest: str
    conf: float
    classification: Classification
    shown: Detections
    to_coco: dict[str, str]


def learn_inputs_ui() -> LearnInputs:
    """Load the models, read the picked image and run both models (or say why not and
    stop the page)."""
    cls, det = models.shared_models(shared_choice())
    inputs = image_source_ui("learn")
    if not inputs:
        st.info("Pick a sample, upload an image or take a snapshot.")
        st.stop()
    item = inputs[0]
    digest = cache.digest(item.data)
    try:
        image = cache.decode_cached(digest, item.name, item.data).array
    except ImageError as exc:
        st.error(str(exc))
        st.stop()
    if len(inputs) > 1:
        st.caption(
            f"Showing {item.name}, the first of the {len(inputs)} images picked."
        )
    conf = st.slider(
        "Detector confidence threshold", 0.05, 0.95, 0.25, 0.05, key="learn_conf"
    )
    if cls.model is None or det.model is None:
        _one_model_ui(cls, det, image, digest, conf)
        st.stop()
    cls_pred = cache.classify_cached(cls.spec.name, cls.device, digest, image)
    det_pred = cache.detect_cached(
        det.spec.name, det.device, digest, DETECT_CONF_FLOOR, 0.7, image
    )
    classification = cls_pred.classification
    return LearnInputs(
        cls, det, image, digest, conf, classification,
        filter_detections(det_pred.detections, conf),
        imagenet_to_coco(classification.class_names),
    )  # fmt: skip


def _one_model_ui(cls, det, image: np.ndarray, digest: str, conf: float) -> None:
    """One of the two models cannot load here: the other's panel, the message for the
    missing one, and why the lessons wait for both."""
    left, right = st.columns(2, gap="large")
    with left:
        if cls.model is None:
            models.unavailable_ui(cls, "learn")
        else:
            pred = cache.classify_cached(cls.spec.name, cls.device, digest, image)
            classification_panel(pred, 5, cls.spec.title, cls.note, "learn")
    with right:
        if det.model is None:
            models.unavailable_ui(det, "learn")
        else:
            pred = cache.detect_cached(
                det.spec.name, det.device, digest, DETECT_CONF_FLOOR, 0.7, image
            )
            shown = filter_detections(pred.detections, conf)
            detection_panel(image, pred, shown, det.spec.title, det.note)
    st.info(
        "Every lesson below compares the two models on this image: they appear once "
        "both models run here."
    )


def task_and_output_section(ctx: LearnInputs) -> None:
    """1: one label for the image vs a box per object."""
    st.header("1 · Task and output", divider="gray")
    top_name, top_p = ctx.classification.top1
    shown = ctx.shown
    left, right = st.columns(2)
    with left:
        st.image(
            fit_for_display(ctx.image),
            caption=f"Classifier: “{top_name}” ({top_p:.0%})",
            width="stretch",
            alt="The picked image, as the classifier sees it",
        )
    with right:
        st.image(
            fit_for_display(annotate(ctx.image, shown)),
            caption=f"Detector: {count_noun(len(shown), 'box', 'boxes')}",
            width="stretch",
            alt="The picked image with the detector's boxes: "
            + (", ".join(shown.labels) or "none"),
        )
    boxes = count_noun(len(shown), "box", "boxes")
    st.markdown(
        f"The **classifier** ({ctx.cls.spec.title}) returns "
        f"{len(ctx.classification.scores):,} probabilities that sum to 1, one per "
        f"ImageNet class: the answer is **one label for the whole image**, here "
        f"“{top_name}”. The **detector** ({ctx.det.spec.title}) returns a list of "
        f"**{boxes}**, each with 4 coordinates, a class and a score "
        f"({len(shown) * 6} numbers at confidence ≥ {ctx.conf:.2f}): **what is where**."
    )


def goal_section(ctx: LearnInputs) -> None:
    """2: the main subject vs every object."""
    st.header("2 · Goal: the main subject vs every object", divider="gray")
    top_name = ctx.classification.top1[0]
    st.markdown(
        goal_sentence(
            top_name, ctx.to_coco.get(top_name), detector_label_set(ctx.shown)
        )
    )


def single_vs_multi_label_section(ctx: LearnInputs) -> None:
    """3: softmax top-1 vs a threshold per class vs the detector's set of classes."""
    st.header("3 · Single-label vs multi-label", divider="gray")
    threshold = st.slider(
        "Multi-label threshold (every class with at least this probability)",
        0.01,
        0.5,
        0.05,
        0.01,
        key="learn_multilabel",
    )
    top_name, top_p = ctx.classification.top1
    several = multilabel(ctx.classification, threshold)
    found = detector_label_set(ctx.shown)
    a, b, c = st.columns(3)
    with a:
        st.markdown("**Single-label (softmax top-1)**")
        st.write(f"{top_name} — {top_p:.1%}")
    with b:
        st.markdown(f"**Multi-label (p ≥ {threshold:.2f})**")
        st.write(
            "\n".join(f"- {n} — {p:.1%}" for n, p in several) or "no class reaches it"
        )
    with c:
        st.markdown("**The detector's classes, as an image-level answer**")
        st.write(
            "\n".join(f"- {n} × {k} (best {s:.2f})" for n, k, s in found) or "none"
        )
    st.caption(
        "A softmax spreads one unit of probability over all classes, so several present "
        "objects compete for it; a multi-label answer needs a threshold per class. A "
        "detector's set of classes is a multi-label answer for free."
    )


def bundled_coco_ui():
    """The bundled COCO subset the labels and metrics sections use (or a message and a
    stopped page)."""
    try:
        return cache.load_dataset("coco-val2017-first32")
    except DatasetError as exc:
        st.error(f"The bundled COCO subset cannot be read: {exc}")
        st.stop()


def evaluation_section(ctx: LearnInputs, coco, sample) -> None:
    """5: accuracy vs IoU and AP: an IoU demo, and AP built one detection at a time on
    the training-labels section's image."""
    st.header("5 · Evaluation metrics", divider="gray")
    st.markdown(
        "**Classification** is right or wrong per image: *accuracy* = correct / all "
        "images; per class, *precision* = correct / predicted as that class, *recall* = "
        "correct / truly that class. **Detection** must also say *where*: a box counts "
        "only if its class is right and it overlaps a true box enough, measured by "
        "**IoU** (intersection over union). Ranking all boxes by score gives a "
        "precision-recall curve; **AP** is the area under it, **mAP** its mean over "
        "classes (COCO also averages IoU thresholds 0.50 to 0.95)."
    )
    _iou_by_hand()
    _ap_one_detection_at_a_time(ctx, coco, sample)


def _iou_by_hand() -> None:
    st.subheader("IoU, by hand")
    cols = st.columns(4)
    defaults = {"A": (10, 15, 50, 45), "B": (35, 30, 50, 50)}
    boxes = {}
    for n, (name, (x, y, w, h)) in enumerate(defaults.items()):
        with cols[2 * n]:
            bx = st.slider(f"{name}: x", 0, 90, x, key=f"learn_{name}_x")
            by = st.slider(f"{name}: y", 0, 90, y, key=f"learn_{name}_y")
        with cols[2 * n + 1]:
            bw = st.slider(f"{name}: width", 5, 100, w, key=f"learn_{name}_w")
            bh = st.slider(f"{name}: height", 5, 100, h, key=f"learn_{name}_h")
        boxes[name] = (bx, by, min(100, bx + bw), min(100, by + bh))
    iou = iou_of(boxes["A"], boxes["B"])
    st.plotly_chart(
        iou_demo_figure(boxes["A"], boxes["B"], iou), config=CHART, key="learn_iou"
    )


def _ap_one_detection_at_a_time(ctx: LearnInputs, coco, sample) -> None:
    st.subheader("AP, one detection at a time")
    det = ctx.det
    gt_image = cache.image_array(str(sample.path))
    gt_det = cache.detect_cached(
        det.spec.name, det.device, f"gt:{sample.path}", DETECT_CONF_FLOOR, 0.7, gt_image
    ).detections
    ranked = align_predictions({sample.image_id: gt_det}, coco).predictions[
        sample.image_id
    ]
    ranked = ranked[ranked.scores >= 0.05]
    steps = ap_steps(ranked, sample.gt, 0.5)
    if len(steps.recall) == 0:
        st.info(
            f"{det.spec.title} found no box scoring at least 0.05 on {sample.name}: "
            "there is nothing to rank."
        )
    else:
        k = st.slider(
            "Detections taken, best score first",
            0,
            len(steps.recall),
            min(5, len(steps.recall)),
            key="learn_ap_k",
        )
        left, right = st.columns(2)
        with left:
            st.plotly_chart(ap_steps_figure(steps, k), config=CHART, key="learn_ap")
        with right:
            show_table(
                pd.DataFrame(
                    {
                        "rank": np.arange(1, k + 1),
                        "class": steps.labels[:k],
                        "score": steps.scores[:k].astype(np.float64),
                        "IoU": steps.ious[:k].astype(np.float64),
                        "result": np.where(steps.is_tp[:k], "TP", "FP"),
                        "precision": steps.precision[:k].astype(np.float64),
                        "recall": steps.recall[:k].astype(np.float64),
                    }
                ),
                key="learn_ap_table",
                max_rows=8,
            )
    st.caption(
        f"{sample.name}: {steps.num_gt} true objects; the detector's boxes (score ≥ "
        "0.05) ranked by score. A true positive raises recall; a false positive lowers "
        "precision."
    )


def complexity_section(ctx: LearnInputs) -> None:
    """6: parameters, multiply-accumulates and latency measured here."""
    st.header("6 · Complexity and speed", divider="gray")
    models = (ctx.cls, ctx.det)
    rows = [
        cost_row(
            m.spec.title,
            m.spec.task.value,
            m.device,
            cache.complexity(m.spec.name),
            m.spec.input_size,
            cache.latency(m.spec.name, m.device, ctx.digest, ctx.image),
        )
        for m in models
    ]
    table = pd.DataFrame([r.as_record() for r in rows])
    show_table(table, key="learn_cost_table")
    names = [r.title for r in rows]
    for column, (title, key) in zip(
        st.columns(3),
        (
            ("parameters (M)", "params"),
            ("MACs per image (G)", "macs"),
            ("latency here (ms)", "ms"),
        ),
    ):
        with column:
            st.plotly_chart(
                complexity_figure(names, table[title].tolist(), title),
                config=CHART,
                key=f"learn_cost_{key}",
            )
    st.caption(
        "Parameters and multiply-accumulates are counted by thop on the fp32 "
        "architectures at each model's input size (quantized or exported weights run "
        "the same operations). Latency: median of 5 runs of the whole predict call on "
        "this image, on this machine, each model timed alone."
    )
    note = latency_note(
        *(
            ModelCost(
                r.title, r.gmacs, r.latency_ms, cache.runtime(m.spec.name, m.device)
            )
            for r, m in zip(rows, models)
        )
    )
    if note:
        st.info(note)
