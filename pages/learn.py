"""Learn: what separates classification from detection, shown live with the real models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components import cache
from components.controls import image_source_ui, shared_choice
from components.learn_views import nms_step_by_step
from components.router import require_router
from core.compare import (
    DETECT_CONF_FLOOR,
    class_counts,
    count_noun,
    filter_detections,
)
from core.datasets import DatasetError
from core.draw import annotate
from core.images import ImageError, fit_for_display
from core.learn import (
    NOT_IN_IMAGENET,
    ModelCost,
    ap_steps,
    crop_agreement,
    crop_boxes,
    detector_label_set,
    heatmap_overlay,
    image_level_label,
    imagenet_to_coco,
    iou_of,
    latency_note,
    multilabel,
)
from core.learn_plots import (
    ap_steps_figure,
    architecture_figure,
    complexity_figure,
    iou_demo_figure,
)
from core.metrics.align import align_predictions

require_router()

CHART = {"displayModeBar": False}
# An NMS IoU threshold no overlap exceeds: the detector's candidates, before NMS.
NO_NMS_IOU = 1.0
st.title("Learn: classification vs detection")
st.caption(
    "Every number on this page is computed now, by the real models, on the image you pick."
)

cls, det = cache.shared_models(shared_choice())
cls_spec, cls_device, classifier = cls.spec, cls.device, cls.model
det_spec, det_device = det.spec, det.device

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
    st.caption(f"Showing {item.name}, the first of the {len(inputs)} images picked.")
conf = st.slider(
    "Detector confidence threshold", 0.05, 0.95, 0.25, 0.05, key="learn_conf"
)
cls_pred = cache.classify_cached(cls_spec.name, cls_device, digest, image)
det_pred = cache.detect_cached(
    det_spec.name, det_device, digest, DETECT_CONF_FLOOR, 0.7, image
)
classification = cls_pred.classification
shown = filter_detections(det_pred.detections, conf)
top_name, top_p = classification.top1
to_coco = imagenet_to_coco(classification.class_names)

# 1 -------------------------------------------------------------------------------------
st.header("1 · Task and output", divider="gray")
left, right = st.columns(2)
with left:
    st.image(
        fit_for_display(image),
        caption=f"Classifier: “{top_name}” ({top_p:.0%})",
        width="stretch",
    )
with right:
    st.image(
        fit_for_display(annotate(image, shown)),
        caption=f"Detector: {count_noun(len(shown), 'box', 'boxes')}",
        width="stretch",
    )
st.markdown(
    f"The **classifier** ({cls_spec.title}) returns {len(classification.scores):,} "
    f"probabilities that sum to 1, one per ImageNet class: the answer is **one label for the "
    f"whole image**, here “{top_name}”. The **detector** ({det_spec.title}) returns a list of "
    f"**{count_noun(len(shown), 'box', 'boxes')}**, each with 4 coordinates, a class and a score "
    f"({len(shown) * 6} numbers at confidence ≥ {conf:.2f}): **what is where**."
)

# 2 -------------------------------------------------------------------------------------
st.header("2 · Goal: the main subject vs every object", divider="gray")
found = detector_label_set(shown)
top_coco = to_coco.get(top_name)
named = f"a kind of **{top_coco}**" if top_coco else "not one of the detector's classes"
found_text = ", ".join(f"{name} × {n}" for name, n, _ in found) or "nothing"
missed = [name for name, _, _ in found if name != top_coco]
st.markdown(
    f"The classifier's “{top_name}” is {named}. The detector found {found_text}."
    + (
        f" The single label leaves out **{', '.join(missed)}**: a classifier names the main "
        "subject, a detector lists every object it knows."
        if missed
        else " Here the two agree: the image has one main subject."
        " Pick “Bus and people” to see them disagree."
    )
)

# 3 -------------------------------------------------------------------------------------
st.header("3 · Single-label vs multi-label", divider="gray")
threshold = st.slider(
    "Multi-label threshold (every class with at least this probability)",
    0.01,
    0.5,
    0.05,
    0.01,
    key="learn_multilabel",
)
several = multilabel(classification, threshold)
a, b, c = st.columns(3)
with a:
    st.markdown("**Single-label (softmax top-1)**")
    st.write(f"{top_name} — {top_p:.1%}")
with b:
    st.markdown(f"**Multi-label (p ≥ {threshold:.2f})**")
    st.write("\n".join(f"- {n} — {p:.1%}" for n, p in several) or "no class reaches it")
with c:
    st.markdown("**The detector's classes, as an image-level answer**")
    st.write("\n".join(f"- {n} × {k} (best {s:.2f})" for n, k, s in found) or "none")
st.caption(
    "A softmax spreads one unit of probability over all classes, so several present objects "
    "compete for it; a multi-label answer needs a threshold per class. A detector's set of "
    "classes is a multi-label answer for free."
)

# 4 -------------------------------------------------------------------------------------
st.header("4 · Training labels", divider="gray")
try:
    coco = cache.load_dataset("coco-val2017-first32")
except DatasetError as exc:
    st.error(f"The bundled COCO subset cannot be read: {exc}")
    st.stop()
by_name = {s.name: s for s in coco.samples}
picked = st.selectbox(
    "A COCO val2017 image with its official annotation",
    list(by_name),
    key="learn_gt_image",
)
sample = by_name[picked]
gt_image = cache.image_array(str(sample.path))
label = image_level_label(sample.gt)
left, right = st.columns(2)
with left:
    st.image(gt_image, caption=f"Classification label: “{label}”", width="stretch")
with right:
    st.image(
        annotate(gt_image, sample.gt, labels=sample.gt.labels),
        caption=f"Detection labels: {count_noun(len(sample.gt), 'box', 'boxes')}",
        width="stretch",
    )
st.markdown(
    f"To train a classifier, this image needs **one label** (“{label}”, the class covering "
    f"the most area). To train a detector it needs "
    f"**{count_noun(len(sample.gt), 'box', 'boxes')}** with a class "
    f"each ({len(sample.gt) * 5} numbers): "
    + ", ".join(f"{n} × {k}" for n, k in class_counts(sample.gt))
    + ". Box labels cost far more to make; that is why there are more classification images."
)

# 5 -------------------------------------------------------------------------------------
st.header("5 · Evaluation metrics", divider="gray")
st.markdown(
    "**Classification** is right or wrong per image: *accuracy* = correct / all images; per "
    "class, *precision* = correct / predicted as that class, *recall* = correct / truly that "
    "class. **Detection** must also say *where*: a box counts only if its class is right and "
    "it overlaps a true box enough, measured by **IoU** (intersection over union). Ranking "
    "all boxes by score gives a precision-recall curve; **AP** is the area under it, **mAP** "
    "its mean over classes (COCO also averages IoU thresholds 0.50 to 0.95)."
)
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
st.subheader("AP, one detection at a time")
gt_det = cache.detect_cached(
    det_spec.name, det_device, f"gt:{sample.path}", DETECT_CONF_FLOOR, 0.7, gt_image
).detections
ranked = align_predictions({sample.image_id: gt_det}, coco).predictions[sample.image_id]
ranked = ranked[ranked.scores >= 0.05]
steps = ap_steps(ranked, sample.gt, 0.5)
if len(steps.recall) == 0:
    st.info(
        f"{det_spec.title} found no box scoring at least 0.05 on {picked}: there is "
        "nothing to rank."
    )
else:
    k = st.slider(
        "Detections taken, best score first",
        0,
        len(steps.recall),
        min(5, len(steps.recall)),
        key="learn_ap_k",
    )
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(ap_steps_figure(steps, k), config=CHART, key="learn_ap")
    with right:
        st.dataframe(
            pd.DataFrame(
                {
                    "rank": np.arange(1, k + 1),
                    "class": steps.labels[:k],
                    "score": steps.scores[:k].round(3),
                    "IoU": steps.ious[:k].round(2),
                    "result": np.where(steps.is_tp[:k], "TP", "FP"),
                    "precision": steps.precision[:k].round(3),
                    "recall": steps.recall[:k].round(3),
                }
            ),
            hide_index=True,
            width="stretch",
            height=330,
        )
st.caption(
    f"{picked}: {steps.num_gt} true objects; the detector's boxes (score ≥ 0.05) ranked by "
    "score. A true positive raises recall; a false positive lowers precision."
)

# 6 -------------------------------------------------------------------------------------
st.header("6 · Complexity and speed", divider="gray")
cplx = {
    cls_spec.name: cache.complexity(cls_spec.name),
    det_spec.name: cache.complexity(det_spec.name),
}
lat = {
    cls_spec.name: cache.latency(cls_spec.name, cls_device, digest, image),
    det_spec.name: cache.latency(det_spec.name, det_device, digest, image),
}
rows = []
for spec, device in ((cls_spec, cls_device), (det_spec, det_device)):
    info = cplx[spec.name]
    rows.append(
        {
            "model": spec.title,
            "task": spec.task.value,
            "device": device,
            "parameters (M)": info.params / 1e6 if info else np.nan,
            "MACs per image (G)": info.macs / 1e9 if info else np.nan,
            "input (px)": f"{spec.input_size}×{spec.input_size}",
            "latency here (ms)": lat[spec.name],
        }
    )
table = pd.DataFrame(rows)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "parameters (M)": st.column_config.NumberColumn(format="%.2f"),
        "MACs per image (G)": st.column_config.NumberColumn(format="%.2f"),
        "latency here (ms)": st.column_config.NumberColumn(format="%.1f"),
    },
)
names = [r["model"] for r in rows]
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
    "Parameters and multiply-accumulates are counted by thop on the fp32 architectures at "
    "each model's input size (quantized or exported weights run the same operations). "
    "Latency: median of 5 runs of the whole predict call on this image, on this machine, "
    "each model timed alone."
)
costs = [
    ModelCost(
        r["model"],
        r["MACs per image (G)"],
        r["latency here (ms)"],
        cache.runtime(spec.name, device),
    )
    for r, (spec, device) in zip(rows, ((cls_spec, cls_device), (det_spec, det_device)))
]
note = latency_note(*costs)
if note:
    st.info(note)

# 7 -------------------------------------------------------------------------------------
st.header("7 · Architectures: what the heads output", divider="gray")
head = cache.detector_head(det_spec.name, det_device, digest, image)
NO_HEAD = (
    f"{det_spec.title} has no dense one-row-per-grid-point head to show here (a two-stage, "
    "anchor-based or end-to-end detector): pick YOLOv8 or YOLO11 in the sidebar to see "
    "what a YOLO head outputs before non-maximum suppression."
)
if head is None:
    st.info(NO_HEAD)
else:
    st.plotly_chart(
        architecture_figure(
            len(classification.scores),
            classifier.feature_dim,
            cls_spec.input_size,
            head.input_size,
            len(head.class_names),
        ),
        config=CHART,
        key="learn_arch",
    )
    above = int((head.scores.max(axis=1) >= conf).sum())
    st.markdown(
        f"On this image the detection head produced **{len(head.points):,} points × "
        f"{4 + len(head.class_names)} numbers**; **{above}** points had a class score ≥ "
        f"{conf:.2f}, and non-maximum suppression merged them into "
        f"**{count_noun(len(shown), 'box', 'boxes')}**. The "
        f"classifier's head produced **{len(classification.scores):,} numbers**."
    )

# 8 -------------------------------------------------------------------------------------
st.header("8 · Where each model looks", divider="gray")
heat, class_index, method = cache.saliency(cls_spec.name, cls_device, digest, image)
left, right = st.columns(2)
with left:
    st.image(
        fit_for_display(heatmap_overlay(image, heat)),
        width="stretch",
        caption=f"Classifier, {method} for “{classification.class_names[class_index]}”",
    )
with right:
    if head is None:
        st.info(NO_HEAD)
    else:
        st.image(
            fit_for_display(
                heatmap_overlay(image, head.heatmap / max(head.heatmap.max(), 1e-6))
            ),
            width="stretch",
            caption="Detector: best class score of the head at every grid point, "
            "before NMS",
        )
st.caption(
    f"{method}: the classifier's last feature maps weighted by how much they raise the top "
    "class (one map for the whole image). The detector's map lights up wherever an object "
    "of any class is, at three scales."
)

# 9 -------------------------------------------------------------------------------------
st.header("9 · Detect, then classify", divider="gray")
crops = crop_boxes(image, shown)
crop_preds = cache.classify_crops(
    cls_spec.name, cls_device, f"{det_spec.name}:{digest}:{conf}", [c for _, c in crops]
)
records = []
for (box, _crop), pred in zip(crops, crop_preds):
    top3 = pred.classification.topk(3)
    det_class = shown.labels[box]
    top1_agrees, top3_agrees = crop_agreement(pred.classification, det_class, to_coco)
    records.append(
        {
            "box": box + 1,
            "detector": f"{det_class} {shown.scores[box]:.2f}",
            "classifier top-3": ", ".join(f"{n} {p:.0%}" for n, p in top3),
            "agree (top-1)": top1_agrees,
            "in top-3": top3_agrees,
        }
    )
if records:
    comparable = [r for r in records if r["agree (top-1)"] != NOT_IN_IMAGENET]
    agree = sum(r["agree (top-1)"] == "yes" for r in comparable)
    in_top3 = sum(r["in top-3"] == "yes" for r in comparable)
    summary = (
        f"the classifier agrees with the detector on **{agree} of {len(comparable)}** crops "
        "whose class ImageNet can name (agreement: its top-1 ImageNet class is a kind of "
        f"the detector's class; {in_top3} of {len(comparable)} have it among the top 3)"
        if comparable
        else "none of the detected classes exists in ImageNet, so no crop can agree"
    )
    skipped = len(records) - len(comparable)
    st.markdown(
        f"Each detected box is cropped (10 % margin) and classified on its own: {summary}"
        + (
            f"; {count_noun(skipped, 'crop')} {'is' if skipped == 1 else 'are'} of "
            "classes ImageNet cannot name"
            if skipped
            else ""
        )
        + ". This is how the field sub-classifies detections, e.g. the breed of a detected dog."
    )
    st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch")
    cols = st.columns(6)
    for n, ((box, crop), r) in enumerate(zip(crops, records)):
        with cols[n % 6]:
            first = r["classifier top-3"].split(",")[0]
            st.image(crop, caption=f"#{r['box']} {r['detector']} → {first}", width=150)
else:
    st.info(
        "No box above the confidence threshold to crop: lower it or pick another image."
    )

# 10 ------------------------------------------------------------------------------------
st.header("10 · Non-maximum suppression, step by step", divider="gray")
if det_spec.nms_free:
    st.info(
        f"{det_spec.title} is end-to-end: its head is trained to output one box per object "
        f"(here {count_noun(len(shown), 'box', 'boxes')} above the confidence threshold), "
        "so no NMS runs. Pick YOLOv8, YOLO11 or a torchvision detector to see NMS at work."
    )
    st.image(
        fit_for_display(annotate(image, shown)),
        width="stretch",
        caption=f"{det_spec.title}: its direct output, no NMS",
    )
else:
    candidates = cache.detect_cached(
        det_spec.name, det_device, digest, DETECT_CONF_FLOOR, NO_NMS_IOU, image
    ).detections
    nms_step_by_step("learn", image, filter_detections(candidates, conf))
