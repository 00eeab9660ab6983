"""The Learn page's "Training labels" section: one image label vs the official boxes."""

from __future__ import annotations

import streamlit as st

from components.learn.label_formats import label_formats_section
from components.shared import cache
from visioncompare.kernel.display import count_noun
from visioncompare.kernel.draw import annotate
from visioncompare.learn.lessons import image_level_label


def training_labels_section(coco):
    """Section 4: a COCO val2017 image with its official boxes and the one label a
    classification dataset would give it (derived here from the boxes: COCO has none).

    Args:
        coco: the bundled COCO subset (a ``Dataset``).

    Returns:
        The sample shown (a ``Sample``): the evaluation section ranks the detector's
        boxes on the same image.
    """
    st.header("4 · Training labels", divider="gray")
    by_name = {s.name: s for s in coco.samples}
    picked = st.selectbox(
        "A COCO val2017 image with its official boxes",
        list(by_name),
        key="learn_gt_image",
    )
    sample = by_name[picked]
    gt_image = cache.image_array(str(sample.path))
    label = image_level_label(sample.gt)
    left, right = st.columns(2)
    boxes = count_noun(len(sample.gt), "box", "boxes")
    with left:
        st.image(
            gt_image,
            caption=f"Classification label: “{label}”, derived here from the boxes "
            "(the class covering the largest area); COCO gives no image label",
            width="stretch",
            alt=f"COCO image {sample.name}",
        )
    with right:
        st.image(
            annotate(gt_image, sample.gt, labels=sample.gt.labels),
            caption=f"Detection labels: {boxes}, as COCO's annotators drew them",
            width="stretch",
            alt=f"COCO image {sample.name} with its {boxes}: "
            + ", ".join(sorted(set(sample.gt.labels))),
        )
    st.subheader("What each format stores for one object")
    label_formats_section(coco, sample)
    return sample
