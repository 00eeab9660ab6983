"""What a person reads for a model, a predictions file or a dataset: its title, never its
id (ids name files, command-line arguments and tooltips)."""

from __future__ import annotations

from model_zoo import get_spec

BUNDLED_TITLES = {
    "coco-val2017-first32": "COCO val2017, first 32 images",
    "voc2012-sample100": "PASCAL VOC2012, 100 images (held out)",
}
"""The bundled subsets' titles, by their ids."""


def model_title(name: str) -> str:
    """A registered model's title (``"yolov8n-int8"`` -> ``"YOLOv8n (INT8, OpenVINO)"``);
    anything else (an uploaded predictions file's name) as it is."""
    try:
        return get_spec(name).title
    except KeyError:
        return name


def dataset_title(dataset) -> str:
    """A dataset's title: a bundled subset's, else its name, with the level scored
    (``Dataset.label``: "kitti (easy)")."""
    title = BUNDLED_TITLES.get(dataset.name, dataset.name)
    return f"{title} ({dataset.scored_as})" if dataset.scored_as else title
