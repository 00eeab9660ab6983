"""Compare: one image, a classifier's class scores and a detector's boxes, side by side."""

from __future__ import annotations

import streamlit as st

from components.shared import cache, models
from components.shared.controls import (
    compare_settings_ui,
    image_source_ui,
    shared_choice,
    vocabulary_ui,
)
from components.shared.corruption import change_notes, corruption_ui, model_input
from components.shared.router import require_router
from components.shared.views import (
    boxes_table,
    classification_panel,
    detection_panel,
)
from visioncompare.kernel.display import DETECT_CONF_FLOOR, filter_detections
from visioncompare.kernel.images import ImageError

require_router()

# Each model on its own: one that cannot load here leaves the other's panel.
cls, det = models.shared_models(shared_choice())
cls_spec, cls_device, det_spec, det_device = cls.spec, cls.device, det.spec, det.device
detector = det.model
vocabulary = vocabulary_ui("compare") if det_spec.open_vocabulary else ()
if vocabulary and detector is not None:
    detector = models.vocabulary_model(det, vocabulary)
    if isinstance(detector, models.Unavailable):
        det, detector = detector, None

classes = detector.class_names if detector is not None else ()
settings = compare_settings_ui("compare", classes, det_spec.nms_free)
explained: set[str] = set()  # unavailable models whose message is on the page


def run_models(image_digest: str, image):
    """The models that can run here on one image, one after the other, each cached on
    its own: a new NMS IoU re-runs only the detector, and each latency is that model's
    own. A model that cannot run here gives None."""
    cls_pred = det_pred = None
    if cls.model is not None:
        cls_pred = cache.classify_cached(cls_spec.name, cls_device, image_digest, image)
    if detector is not None:
        det_pred = cache.detect_cached(
            det_spec.name, det_device, image_digest, DETECT_CONF_FLOOR, settings.iou,
            image, vocabulary,
        )  # fmt: skip
    return cls_pred, det_pred


inputs = image_source_ui("compare")
corruption = corruption_ui("compare")
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
    seen = model_input(item.name, loaded.array, data_digest, corruption)
    try:
        cls_pred, det_pred = run_models(seen.digest, seen.array)
        # Corrupted: the clean answers too (cached), to say what changed.
        clean_cls, clean_det = run_models(data_digest, loaded.array)
    except Exception as exc:  # one failing image must not take the others with it
        st.error(f"{item.name}: the models could not process this image ({exc}).")
        continue
    shown = clean_shown = None
    if det_pred is not None:
        shown = filter_detections(det_pred.detections, settings.conf, settings.classes)
        clean_shown = filter_detections(
            clean_det.detections, settings.conf, settings.classes
        )
    # Keys from the image's position: the same file uploaded twice gets two panels.
    key = f"compare-{n}"
    change_notes(seen, clean_cls, cls_pred, clean_shown, shown)
    left, right = st.columns(2, gap="large")
    for column, pred, failed in ((left, cls_pred, cls), (right, det_pred, det)):
        if pred is None:
            with column:
                models.unavailable_ui(failed, key, brief=failed.spec.name in explained)
            explained.add(failed.spec.name)
    if cls_pred is not None:
        with left:
            classification_panel(cls_pred, settings.topk, cls_spec.title, cls.note, key)
    if det_pred is not None:
        with right:
            detection_panel(
                seen.array, det_pred, shown, det_spec.title, det.note, settings.classes
            )
        boxes_table(shown, det_spec.title, key=key, scale=loaded.scale)
