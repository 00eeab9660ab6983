"""Compare: one image, a classifier's class scores and a detector's boxes, side by side."""

from __future__ import annotations

import streamlit as st

from components.shared import cache
from components.shared.controls import (
    compare_settings_ui,
    image_source_ui,
    shared_choice,
    vocabulary_ui,
)
from components.shared.router import require_router
from components.shared.views import (
    boxes_table,
    classification_panel,
    detection_panel,
)
from visioncompare.kernel.display import DETECT_CONF_FLOOR, filter_detections
from visioncompare.kernel.images import ImageError

require_router()

st.title("Classification vs detection")
st.caption(
    "A classifier names the image; a detector finds every object and says where it is. "
    "The two models run one after the other, so each panel's latency is that model's own."
)


cls, det = cache.shared_models(shared_choice())
cls_spec, cls_device, det_spec, det_device = cls.spec, cls.device, det.spec, det.device
detector = det.model
vocabulary = vocabulary_ui("compare") if det_spec.open_vocabulary else ()
if vocabulary:
    detector = cache.vocabulary_model(det, vocabulary)

settings = compare_settings_ui("compare", detector.class_names, det_spec.nms_free)
inputs = image_source_ui("compare")
if not inputs:
    st.info("Pick a sample, upload images or take a snapshot to start.")
    st.stop()

for n, item in enumerate(inputs):
    if n:
        st.divider()
    st.subheader(item.name)
    data_digest = cache.digest(item.data)
    try:
        loaded = cache.decode_cached(data_digest, item.name, item.data)
    except ImageError as exc:
        st.error(str(exc))
        continue
    width, height = loaded.original_size or (loaded.width, loaded.height)
    details = f"{width}×{height} px, {loaded.original_format} {loaded.original_mode}"
    if loaded.original_size:
        details += f" (analysed at {loaded.width}×{loaded.height})"
    if loaded.notes:
        details += " · " + "; ".join(loaded.notes)
    st.caption(details + (f" · {item.caption}" if item.caption else ""))
    try:
        # One model after the other, each cached on its own: a new NMS IoU re-runs
        # only the detector, and each latency is that model's own.
        cls_pred = cache.classify_cached(
            cls_spec.name, cls_device, data_digest, loaded.array
        )
        det_pred = cache.detect_cached(
            det_spec.name,
            det_device,
            data_digest,
            DETECT_CONF_FLOOR,
            settings.iou,
            loaded.array,
            vocabulary,
        )
    except Exception as exc:  # one failing image must not take the others with it
        st.error(f"{item.name}: the models could not process this image ({exc}).")
        continue
    shown = filter_detections(det_pred.detections, settings.conf, settings.classes)
    # Keys from the image's position: the same file uploaded twice gets two panels.
    key = f"compare-{n}"
    left, right = st.columns(2, gap="large")
    with left:
        classification_panel(cls_pred, settings.topk, cls_spec.title, cls.note, key)
    with right:
        detection_panel(
            loaded.array, det_pred, shown, det_spec.title, det.note, settings.classes
        )
    boxes_table(shown, det_spec.title, key=key, scale=loaded.scale)
