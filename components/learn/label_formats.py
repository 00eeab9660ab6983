"""The Learn page's "what training labels look like": one image's label for
classification next to what each detection format stores for one of its objects."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.shared.tables import show_table
from visioncompare.datasets.types import Dataset, Sample
from visioncompare.kernel.display import count_noun
from visioncompare.learn.training_labels import (
    coco_annotation,
    coco_annotation_file,
    cost_rows,
    training_labels,
)


def label_formats_section(
    dataset: Dataset, sample: Sample, prefix: str = "learn_labels"
) -> None:
    """Render the formats for one object of ``sample`` (picked by the visitor, the
    largest at first) and what each costs.

    Args:
        dataset: the COCO dataset ``sample`` belongs to (its class list and, when it
            has one, its instances file for the object's own record and outline).
        sample: the image, with its ground-truth boxes.
        prefix: widget key prefix.
    """
    gt = sample.gt
    objects = [i for i in range(len(gt)) if not gt.extra["iscrowd"][i]]
    if not objects:
        st.info(f"{sample.name} has no annotated objects to show.")
        return
    largest = max(objects, key=lambda i: float(gt.area[i]))
    index = st.selectbox(
        "Object shown in every format",
        objects,
        index=objects.index(largest),
        format_func=lambda i: (
            f"#{i} {gt.labels[i]} ({gt.xyxy[i, 2] - gt.xyxy[i, 0]:.0f} × "
            f"{gt.xyxy[i, 3] - gt.xyxy[i, 1]:.0f} px)"
        ),
        key=f"{prefix}_object",
    )
    annotation_file = coco_annotation_file(dataset)
    annotation = (
        coco_annotation(annotation_file, sample.image_id, gt.xyxy[index])
        if annotation_file is not None
        else None
    )
    labels = training_labels(sample, dataset.class_names, annotation, index)

    left, middle, right = st.columns(3)
    left.metric("Classification: numbers per image", 1, help="One class index.")
    middle.metric(
        "Detection: numbers per image",
        labels.box_numbers,
        help=f"{count_noun(labels.objects, 'object', 'objects')} × (4 coordinates + 1 "
        "class).",
    )
    right.metric("Objects to find and box", labels.objects)
    st.markdown(
        f"An image-classification dataset stores **one label** for this image; COCO "
        f"has none, so here it is derived from the boxes: “{labels.image_label}”, the "
        "class covering the largest area. A detection dataset stores, for each of its "
        f"**{count_noun(labels.objects, 'object', 'objects')}**, a class and a box: "
        f"**{labels.box_numbers} numbers** that a person drew by hand. Below, the "
        f"{labels.class_name} (object #{labels.object_index}) as each format stores it."
    )
    tabs = st.tabs([stored.format for stored in labels.formats])
    for tab, stored in zip(tabs, labels.formats):
        with tab:
            st.caption(f"Used by: {stored.datasets}")
            st.code(stored.text, language=stored.language, wrap_lines=True)
            st.caption(stored.note)
    table = pd.DataFrame(
        [
            {
                "format": row["format"],
                "numbers per object": row["numbers for this object"],
                "numbers for this image": row["numbers for this image"],
            }
            for row in cost_rows(labels)
        ]
    ).astype({"numbers per object": "Int64", "numbers for this image": "Int64"})
    show_table(table, key=f"{prefix}_costs")
    st.caption(
        "Outlines (Cityscapes, COCO's segmentation) cost a pair of numbers per point: "
        "their count varies with the object's shape (n/a). An image-level label has "
        "no object (n/a)."
    )
