"""Cityscapes fine annotations (``gtFine/<split>/<city>/*_gtFine_polygons.json`` with
``leftImg8bit/``) -> Dataset: one box per instance polygon of the eight object classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visioncompare.kernel.json_text import JSONTextError, parse_json

from .types import Dataset, DatasetError, Sample, inside, make_gt, shown

CITYSCAPES_CLASSES = (
    "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
)  # fmt: skip
"""The instance classes Cityscapes evaluates; the other labels give no box, except the
two in ``SET_ASIDE``."""

SET_ASIDE = ("caravan", "trailer")
"""Objects Cityscapes labels with instances but does not evaluate (``ignoreInEval`` in its
``labels.py``): its evaluation sets aside a prediction lying mostly on them. Here each is
an ignore region of every class, so a detection on a caravan (which a COCO detector may
call a truck or a car) counts neither way. Cityscapes' other unevaluated regions (road,
static, ego vehicle, ...) are not: their boxes would cover much of an image, where
Cityscapes compares pixels."""

CITYSCAPES_TO_COCO = {
    "rider": "person",  # a person riding a bicycle or motorcycle: COCO boxes a person
}
"""Cityscapes classes whose COCO name differs; the other seven share their COCO name
(Cityscapes' ``train`` covers trams too, as COCO's does)."""

GROUP_SUFFIX = "group"
"""``persongroup``, ``cargroup``, ...: a crowd of one class in one polygon, kept as an
ignore region of that class (COCO's ``iscrowd``)."""

POLYGONS = "_gtFine_polygons.json"
IMAGE = "_leftImg8bit.png"


def _splits(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "gtFine").iterdir() if p.is_dir())


def _polygon(obj: dict, where: str) -> np.ndarray:
    points = obj.get("polygon")
    if points is None:
        raise DatasetError(f"{where}: missing field 'polygon'")
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.empty((0, 0))
    if array.ndim != 2 or array.shape[1:] != (2,) or len(array) < 1:
        raise DatasetError(
            f"{where}: field 'polygon' should be a list of [x, y] points"
        )
    if not np.isfinite(array).all():
        raise DatasetError(f"{where}: field 'polygon' has a non-finite coordinate")
    return array


def _area(points: np.ndarray) -> float:
    """The polygon's area (shoelace formula): the area COCO's size ranges use."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _number(data: dict, key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DatasetError(f"{where}: field '{key}' should be a positive integer")
    return value


def load_cityscapes(
    root: str | Path,
    split: str | None = None,
    rename: dict[str, str] | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a Cityscapes folder (``gtFine/`` and ``leftImg8bit/``).

    Each polygon of an evaluated class becomes its box (the polygon's extreme points,
    continuous pixel coordinates) with the polygon's area; ``<class>group`` polygons are
    ignore regions of their class, ``SET_ASIDE`` ones (caravan, trailer) of every class;
    objects marked ``deleted`` are skipped. Images are
    numbered 0, 1, ... in the order of their paths (city, then frame): the ``image_id``
    of a results file.

    Args:
        root: the folder holding ``gtFine/`` and ``leftImg8bit/``.
        split: ``val``, ``train``, ... (default: ``val`` when present, else the only or
            first split).
        rename: class renaming (``CITYSCAPES_TO_COCO`` to score COCO detectors).
        name: the dataset name (default: the folder's name, with the split).

    Raises:
        DatasetError: missing folders or images, unreadable JSON (line and column, or
            not UTF-8, nested too deeply, a number too long), or a
            missing or mistyped field (``imgWidth``, ``imgHeight``, ``objects``, an
            object's ``label`` or ``polygon``).
    """
    root = Path(
        root
    ).resolve()  # ``inside`` gives resolved paths: compare like with like
    if not (root / "gtFine").is_dir() or not (root / "leftImg8bit").is_dir():
        raise DatasetError(
            f"{root.name}: not a Cityscapes folder (no gtFine/ and leftImg8bit/ inside)"
        )
    splits = _splits(root)
    if split is None:
        split = "val" if "val" in splits else (splits[0] if splits else "val")
    files = sorted(inside(root, f"gtFine/{split}", "gtFine").rglob(f"*{POLYGONS}"))
    if not files:
        raise DatasetError(f"gtFine/{split}: no *{POLYGONS} files")
    rename = dict(rename or {})
    parsed, found = [], set()
    for json_path in files:
        # as the folder shows it, unresolved: a link's target is never named
        where = json_path.relative_to(root).as_posix()
        try:
            data = parse_json(
                inside(root, json_path.relative_to(root), where).read_bytes()
            )
        except JSONTextError as exc:  # not UTF-8, not JSON, nested too deeply, ...
            raise DatasetError(f"{where}: {exc}") from exc
        except OSError as exc:
            raise DatasetError(f"{where}: cannot be read as text") from exc
        if not isinstance(data, dict):
            raise DatasetError(f"{where}: expected a JSON object with 'objects'")
        width = _number(data, "imgWidth", where)
        height = _number(data, "imgHeight", where)
        objects = data.get("objects")
        if not isinstance(objects, list):
            raise DatasetError(f"{where}: field 'objects' should be a list")
        city = json_path.parent.name
        stem = json_path.name[: -len(POLYGONS)]
        image = inside(root, f"leftImg8bit/{split}/{city}/{stem}{IMAGE}", where)
        if not image.is_file():
            raise DatasetError(f"{where}: the image {shown(image, root)} is not there")
        boxes, aside = [], []
        for i, obj in enumerate(objects):
            at = f"{where}: objects[{i}]"
            if not isinstance(obj, dict):
                raise DatasetError(
                    f"{at}: expected an object with 'label' and 'polygon'"
                )
            label = obj.get("label")
            if not isinstance(label, str):
                raise DatasetError(f"{at}: field 'label' should be a string")
            if obj.get("deleted"):
                continue
            crowd = label.endswith(GROUP_SUFFIX)
            kind = label[: -len(GROUP_SUFFIX)] if crowd else label
            if kind not in CITYSCAPES_CLASSES and kind not in SET_ASIDE:
                continue
            points = _polygon(obj, at)
            box = [*points.min(axis=0).tolist(), *points.max(axis=0).tolist()]
            if kind in SET_ASIDE:
                aside.append((box, _area(points)))
                continue
            boxes.append((rename.get(kind, kind), box, int(crowd), _area(points)))
            found.add(kind)
        parsed.append((image, width, height, boxes, aside))

    order = [rename.get(c, c) for c in CITYSCAPES_CLASSES]
    used = {label for *_, boxes, _ in parsed for label, *_ in boxes}
    class_names = tuple(dict.fromkeys(c for c in order if c in used))
    index_of = {c: i for i, c in enumerate(class_names)}
    samples, set_aside = [], 0
    for image_id, (image, width, height, boxes, aside) in enumerate(parsed):
        boxes = boxes + [(c, box, 1, area) for box, area in aside for c in class_names]
        set_aside += len(aside)
        gt = make_gt(
            [box for _, box, _, _ in boxes],
            [index_of[label] for label, *_ in boxes],
            class_names,
            iscrowd=[crowd for *_, crowd, _ in boxes],
            area=[area for *_, area in boxes],
        )
        samples.append(Sample(image_id, image, width, height, gt))
    return Dataset(
        name or f"{root.name}-{split}",
        "cityscapes",
        root,
        class_names,
        tuple(samples),
        renamed={k: v for k, v in rename.items() if k in found},
        notes=(
            f"Cityscapes gtFine {split}: boxes from the instance polygons; "
            "<class>group polygons are ignore regions of their class; caravans and "
            "trailers, which Cityscapes does not evaluate, of every class "
            f"({set_aside} here).",
        ),
    )
