"""Dataset -> a YOLO-format copy (``data.yaml``, ``images/<split>/``, ``labels/<split>/``)
that Ultralytics' validator and ``visioncompare.datasets.yolo.load_yolo`` both read.

Ultralytics' labels hold neither crowd regions nor difficult objects (its COCO and VOC
converters leave them out), so the copy leaves them out too: it is the dataset as
``yolo val`` sees it. Images are hard-linked where the file system allows it (else
copied), never symlinked: the YOLO reader refuses links that lead out of the dataset's
folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from visioncompare.datasets.types import Dataset, DatasetError, Sample


def _place_image(source: Path, target: Path) -> None:
    """``source`` at ``target``: a hard link, or a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _label_lines(sample: Sample, index: np.ndarray) -> list[str]:
    """The sample's objects (crowd and difficult ones left out) as ``class cx cy w h``
    normalised to the image, boxes clipped to it (Ultralytics drops an image whose
    labels fall outside [0, 1])."""
    gt = sample.gt
    keep = (gt.extra["iscrowd"] == 0) & (gt.extra["difficult"] == 0)
    size = np.array([sample.width, sample.height] * 2, np.float64)
    boxes = np.clip(gt.xyxy[keep].astype(np.float64), 0, size) / size
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    wh = boxes[:, 2:] - boxes[:, :2]
    return [
        f"{cls} {cx:.9g} {cy:.9g} {w:.9g} {h:.9g}"
        for cls, (cx, cy), (w, h) in zip(index[gt.class_ids[keep]], centre, wh)
    ]


def copy_names(dataset: Dataset) -> list[str]:
    """The file name of each sample's image in the YOLO copy, in the dataset's order: its
    own name, prefixed by its ``image_id`` when an earlier image has the same name (two
    folders can hold the same file name; one folder cannot)."""
    used: set[str] = set()
    names = []
    for sample in dataset.samples:
        name = Path(sample.path).name
        if name.lower() in used:
            name = f"{sample.image_id}_{name}"
        used.add(name.lower())
        names.append(name)
    return names


def write_yolo(
    dataset: Dataset,
    folder: str | Path,
    class_names: Sequence[str] | None = None,
    split: str = "val",
) -> Path:
    """Write ``dataset`` as a YOLO dataset under ``folder`` (created; left as it is when
    it already holds files of the same names).

    Args:
        dataset: the dataset; its images must be on disk.
        folder: where ``data.yaml``, ``images/<split>/`` and ``labels/<split>/`` go.
        class_names: the class list the labels index (default the dataset's own): a
            detector's names, so that ``yolo val`` pairs its class indices with the
            dataset's classes by name. Every dataset class must be in it.
        split: the split's folder name; ``data.yaml`` names it as both ``train`` and
            ``val`` (Ultralytics requires both keys).

    Returns:
        The ``data.yaml`` path.

    Raises:
        DatasetError: a dataset class is not in ``class_names``, or an image is not on
            disk (named by its file name).
    """
    names = tuple(dataset.class_names if class_names is None else class_names)
    position = {name: i for i, name in enumerate(names)}
    missing = [n for n in dataset.class_names if n not in position]
    if missing:
        shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        raise DatasetError(
            f"{dataset.name}: classes not among the {len(names)} the labels index: "
            f"{shown}"
        )
    index = np.array([position[n] for n in dataset.class_names], np.int64)
    root = Path(folder)
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    for sample, name in zip(dataset.samples, copy_names(dataset), strict=True):
        source = Path(sample.path)
        if not source.is_file():
            raise DatasetError(f"{dataset.name}: image {sample.name} is not on disk")
        target = images / name
        if not target.exists():
            _place_image(source, target)
        lines = _label_lines(sample, index)
        (labels / name).with_suffix(".txt").write_text(
            "".join(f"{line}\n" for line in lines), encoding="utf-8"
        )
    data_yaml = root / "data.yaml"
    # No ``path``: both readers then take data.yaml's folder (Ultralytics would put a
    # relative one under its own datasets folder).
    data = {
        "train": f"images/{split}",
        "val": f"images/{split}",
        "names": dict(enumerate(names)),
    }
    data_yaml.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return data_yaml
