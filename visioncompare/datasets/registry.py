"""The bundled held-out subsets, and opening any dataset folder (COCO, VOC, YOLO, KITTI,
Cityscapes or Open Images)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from visioncompare.datasets.coco import load_coco
from visioncompare.datasets.types import Dataset, DatasetError, inside
from visioncompare.datasets.voc import VOC_TO_COCO, load_voc, with_coco_names
from visioncompare.datasets.yolo import load_yolo
from visioncompare.kernel.paths import bundled_dir

DATA_DIR = bundled_dir("data")

BUNDLED: dict[str, str] = {
    "coco-val2017-first32": "32 COCO val2017 images, 288 official boxes, 80 classes",
    "voc2012-sample100": "100 PASCAL VOC2012 images, 273 official boxes (38 difficult), "
    "20 classes under their COCO names; never seen by COCO-trained models",
}


def list_datasets() -> list[str]:
    return list(BUNDLED)


@lru_cache(maxsize=8)
def load_bundled(name: str) -> Dataset:
    """One of the bundled subsets by name.

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    if name == "coco-val2017-first32":
        root = DATA_DIR / name
        return load_coco(
            root / "annotations" / "instances_val2017_first32.json",
            root / "val2017",
            name=name,
        )
    if name == "voc2012-sample100":
        return load_voc(DATA_DIR / name, "sample", rename=VOC_TO_COCO, name=name)
    raise KeyError(f"unknown dataset {name!r}; bundled datasets: {', '.join(BUNDLED)}")


def load_folder(
    path: str | Path, voc_to_coco: bool = True, within: str | Path | None = None
) -> Dataset:
    """Open a dataset folder (or file) in whichever of the three formats it is in.

    - COCO: a ``.json`` file (images next to it, or in ``images/`` or ``val2017/``), or a
      folder holding ``annotations/*.json``.
    - VOC: a folder with ``Annotations/``.
    - YOLO: a ``data.yaml`` file, or a folder holding one.

    In every format, VOC class names become COCO names when ``voc_to_coco`` (a YOLO or
    COCO copy of VOC data is scored by COCO detectors like the VOC original).

    With ``within`` (an upload's folder, or the data root a typed path lies under), a
    COCO file's images are looked for only in folders inside it.

    Messages name the dataset's files relative to its folder, and the folder by its name
    (a missing one as given), never another server path.

    Raises:
        DatasetError: the format cannot be recognised, or the files are malformed.
    """
    base = None if within is None else Path(within).resolve()
    dataset = _load_any(Path(path).expanduser(), voc_to_coco, str(path), base)
    return with_coco_names(dataset) if voc_to_coco else dataset


def _load_any(
    path: Path, voc_to_coco: bool, given: str, within: Path | None = None
) -> Dataset:
    if not path.exists():
        raise DatasetError(f"{given}: no such file or folder")
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        return load_yolo(path)
    if path.is_file() and path.suffix == ".json":
        for folder in (path.parent.parent / "images", path.parent.parent / "val2017",
                       path.parent / "images", path.parent):  # fmt: skip
            if within is not None and not folder.resolve().is_relative_to(within):
                continue  # never looked at, outside the upload or data root
            if folder.is_dir() and any(folder.glob("*.jp*g")):
                return load_coco(path, folder)
        return load_coco(path, path.parent)
    if (path / "Annotations").is_dir():
        return load_voc(path, rename=VOC_TO_COCO if voc_to_coco else None)
    other = _load_kitti_cityscapes_or_openimages(path, voc_to_coco)
    if other is not None:
        return other
    for yaml_name in ("data.yaml", "dataset.yaml"):
        if (path / yaml_name).is_file():
            inside(path, yaml_name, yaml_name)  # a symlink out is not followed
            return load_yolo(path / yaml_name)
    jsons = (
        sorted((path / "annotations").glob("*.json"))
        if (path / "annotations").is_dir()
        else []
    )
    if len(jsons) == 1:
        where = f"annotations/{jsons[0].name}"
        inside(path, where, where)
        return _load_any(jsons[0], voc_to_coco, where, within)
    raise DatasetError(
        f"{path.name or given}: not a COCO (annotations/*.json), VOC (Annotations/) or "
        "YOLO (data.yaml) dataset"
    )


def _load_kitti_cityscapes_or_openimages(
    path: Path, coco_names: bool
) -> Dataset | None:
    """A KITTI (``label_2/`` + ``image_2/``), Cityscapes (``gtFine/`` + ``leftImg8bit/``)
    or Open Images (``*bbox*.csv`` + ``*class-descriptions*.csv`` + ``images/``) folder,
    class names mapped to COCO's where they mean the same (the ``*_TO_COCO`` tables) when
    ``coco_names``; None when ``path`` is none of them."""
    from visioncompare.datasets import cityscapes, kitti, openimages

    if kitti.kitti_root(path) is not None:
        return kitti.load_kitti(path, kitti.KITTI_TO_COCO if coco_names else None)
    if (path / "gtFine").is_dir() and (path / "leftImg8bit").is_dir():
        rename = cityscapes.CITYSCAPES_TO_COCO if coco_names else None
        return cityscapes.load_cityscapes(path, rename=rename)
    if (path / "images").is_dir() and openimages.find_csvs(path) is not None:
        rename = openimages.OPENIMAGES_TO_COCO if coco_names else None
        return openimages.load_openimages(path, rename)
    return None
