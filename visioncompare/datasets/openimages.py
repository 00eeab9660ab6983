"""Open Images boxes (the box CSV, the class-descriptions CSV, ``images/<ImageID>.jpg``)
-> Dataset."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from visioncompare.datasets.image_header import image_size
from visioncompare.datasets.types import Dataset, DatasetError, Sample, inside, make_gt
from visioncompare.kernel.boxes import box_iou

BOX_COLUMNS = ("ImageID", "LabelName", "XMin", "XMax", "YMin", "YMax")
"""The columns read from the box CSV (``IsGroupOf`` too when present; ``Source``,
``Confidence``, ``IsOccluded``, ``IsTruncated``, ``IsDepiction``, ``IsInside`` are not
used for scoring)."""

OPENIMAGES_TO_COCO = {
    "Person": "person", "Man": "person", "Woman": "person", "Boy": "person",
    "Girl": "person",  # Open Images' children of Person; COCO boxes each as a person
    "Bicycle": "bicycle", "Car": "car", "Motorcycle": "motorcycle",
    "Airplane": "airplane", "Bus": "bus", "Train": "train", "Truck": "truck",
    "Boat": "boat", "Traffic light": "traffic light", "Fire hydrant": "fire hydrant",
    "Stop sign": "stop sign", "Parking meter": "parking meter", "Bench": "bench",
    "Bird": "bird", "Cat": "cat", "Dog": "dog", "Horse": "horse", "Sheep": "sheep",
    "Elephant": "elephant", "Bear": "bear", "Zebra": "zebra", "Giraffe": "giraffe",
    "Backpack": "backpack", "Umbrella": "umbrella", "Handbag": "handbag", "Tie": "tie",
    "Suitcase": "suitcase", "Flying disc": "frisbee", "Ski": "skis",
    "Snowboard": "snowboard", "Kite": "kite", "Baseball bat": "baseball bat",
    "Baseball glove": "baseball glove", "Skateboard": "skateboard",
    "Surfboard": "surfboard", "Tennis racket": "tennis racket", "Bottle": "bottle",
    "Wine glass": "wine glass", "Fork": "fork", "Knife": "knife", "Spoon": "spoon",
    "Bowl": "bowl", "Banana": "banana", "Apple": "apple", "Sandwich": "sandwich",
    "Orange": "orange", "Broccoli": "broccoli", "Carrot": "carrot", "Hot dog": "hot dog",
    "Pizza": "pizza", "Doughnut": "donut", "Cake": "cake", "Chair": "chair",
    "Couch": "couch", "Houseplant": "potted plant", "Bed": "bed", "Toilet": "toilet",
    "Television": "tv", "Laptop": "laptop", "Computer mouse": "mouse",
    "Remote control": "remote", "Computer keyboard": "keyboard",
    "Mobile phone": "cell phone", "Microwave oven": "microwave", "Oven": "oven",
    "Toaster": "toaster", "Sink": "sink", "Refrigerator": "refrigerator", "Book": "book",
    "Clock": "clock", "Vase": "vase", "Scissors": "scissors", "Teddy bear": "teddy bear",
    "Hair dryer": "hair drier", "Toothbrush": "toothbrush",
}  # fmt: skip
"""Open Images class names (``DisplayName``) that mean a COCO class. Left out on purpose,
because they mean more or less than the COCO class: ``Table`` (COCO: dining table),
``Ball`` (sports ball), ``Mug`` / ``Coffee cup`` (cup), ``Cattle`` / ``Bull`` (cow),
``Vehicle``, ``Animal`` and Open Images' other parent classes."""


OPENIMAGES_MIDS = {
    "Person": "/m/01g317",
    "Man": "/m/04yx4",
    "Woman": "/m/03bt1vf",
    "Boy": "/m/01bl7v",
    "Girl": "/m/05r655",
    "Bicycle": "/m/0199g",
    "Car": "/m/0k4j",
    "Motorcycle": "/m/04_sv",
    "Airplane": "/m/0cmf2",
    "Bus": "/m/01bjv",
    "Train": "/m/07jdr",
    "Truck": "/m/07r04",
    "Boat": "/m/019jd",
    "Traffic light": "/m/015qff",
    "Fire hydrant": "/m/01pns0",
    "Stop sign": "/m/02pv19",
    "Parking meter": "/m/015qbp",
    "Bench": "/m/0cvnqh",
    "Bird": "/m/015p6",
    "Cat": "/m/01yrx",
    "Dog": "/m/0bt9lr",
    "Horse": "/m/03k3r",
    "Sheep": "/m/07bgp",
    "Elephant": "/m/0bwd_0j",
    "Bear": "/m/01dws",
    "Zebra": "/m/0898b",
    "Giraffe": "/m/03bk1",
    "Backpack": "/m/01940j",
    "Umbrella": "/m/0hnnb",
    "Handbag": "/m/080hkjn",
    "Tie": "/m/01rkbr",
    "Suitcase": "/m/01s55n",
    "Flying disc": "/m/02wmf",
    "Ski": "/m/071p9",
    "Snowboard": "/m/06__v",
    "Kite": "/m/02zt3",
    "Baseball bat": "/m/03g8mr",
    "Baseball glove": "/m/03grzl",
    "Skateboard": "/m/06_fw",
    "Surfboard": "/m/019w40",
    "Tennis racket": "/m/0h8my_4",
    "Bottle": "/m/04dr76w",
    "Wine glass": "/m/09tvcd",
    "Fork": "/m/0dt3t",
    "Knife": "/m/04ctx",
    "Spoon": "/m/0cmx8",
    "Bowl": "/m/04kkgm",
    "Banana": "/m/09qck",
    "Apple": "/m/014j1m",
    "Sandwich": "/m/0l515",
    "Orange": "/m/0cyhj_",
    "Broccoli": "/m/0hkxq",
    "Carrot": "/m/0fj52s",
    "Hot dog": "/m/01b9xk",
    "Pizza": "/m/0663v",
    "Doughnut": "/m/0jy4k",
    "Cake": "/m/0fszt",
    "Chair": "/m/01mzpv",
    "Couch": "/m/02crq1",
    "Houseplant": "/m/03fp41",
    "Bed": "/m/03ssj5",
    "Toilet": "/m/09g1w",
    "Television": "/m/07c52",
    "Laptop": "/m/01c648",
    "Computer mouse": "/m/020lf",
    "Remote control": "/m/0qjjc",
    "Computer keyboard": "/m/01m2v",
    "Mobile phone": "/m/050k8",
    "Microwave oven": "/m/0fx9l",
    "Oven": "/m/029bxz",
    "Toaster": "/m/01k6s3",
    "Sink": "/m/0130jx",
    "Refrigerator": "/m/040b_t",
    "Book": "/m/0bt_c3",
    "Clock": "/m/01x3z",
    "Vase": "/m/02s195",
    "Scissors": "/m/01lsmm",
    "Teddy bear": "/m/0kmg4",
    "Hair dryer": "/m/03wvsk",
    "Toothbrush": "/m/012xff",
}
"""The MID (``LabelName``) of each class in ``OPENIMAGES_TO_COCO``, as in Open Images'
``class-descriptions-boxable.csv``."""


def find_csvs(root: Path) -> tuple[Path, Path] | None:
    """(box CSV, class-descriptions CSV) in ``root``: exactly one ``*bbox*.csv`` and one
    ``*class-descriptions*.csv``; None when the folder does not hold both."""
    boxes = sorted(root.glob("*bbox*.csv"))
    classes = sorted(root.glob("*class-descriptions*.csv"))
    if len(boxes) == 1 and len(classes) == 1:
        return boxes[0], classes[0]
    return None


def _descriptions(path: Path, root: Path) -> dict[str, str]:
    """MID -> display name; with or without the ``LabelName,DisplayName`` header."""
    where = path.relative_to(root).as_posix()
    names: dict[str, str] = {}
    try:
        confined = inside(root, path.relative_to(root), where)
        with confined.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                line = f"{where}: line {number}"
                if not row or not any(cell.strip() for cell in row):
                    continue
                if not names and not row[0].startswith("/"):
                    continue  # a header row (v7: LabelName,DisplayName)
                if len(row) != 2 or not row[0].strip() or not row[1].strip():
                    raise DatasetError(f"{line}: expected 'MID,name', got {row!r}")
                names[row[0].strip()] = row[1].strip()
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{where}: not UTF-8 text") from exc
    except csv.Error as exc:
        raise DatasetError(f"{where}: malformed CSV ({exc})") from exc
    if not names:
        raise DatasetError(f"{where}: no classes listed")
    return names


def _coordinate(row: dict, column: str, where: str) -> float:
    text = row.get(column)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise DatasetError(
            f"{where}: column '{column}' should be a number in [0, 1], got {text!r}"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise DatasetError(
            f"{where}: column '{column}' should be a number in [0, 1] (normalised), "
            f"got {text!r}"
        )
    return value


DOUBLED_IOU = 0.9
"""Two boxes this close are one object boxed twice."""


def _doubled(rows: list) -> int:
    """Boxes of one image that, once renamed, repeat a box of another Open Images class
    (Open Images boxes a man as Man and, where Person was also labelled, as Person)."""
    boxes = np.array([box for _, box, _, _ in rows], dtype=np.float64).reshape(-1, 4)
    iou = box_iou(boxes, boxes)
    count = 0
    for i, (name, _, group, label) in enumerate(rows):
        count += any(
            name == rows[j][0] and label != rows[j][3] and not group
            and not rows[j][2] and iou[i, j] >= DOUBLED_IOU
            for j in range(i)
        )  # fmt: skip
    return count


def load_openimages(
    root: str | Path, rename: dict[str, str] | None = None, name: str | None = None
) -> Dataset:
    """Read an Open Images slice: a box CSV (``...-annotations-bbox.csv``), the class
    descriptions CSV (``MID,name``) and ``images/<ImageID>.jpg``.

    Coordinates are normalised to [0, 1]; they are multiplied by the image's size, read
    from its header. ``IsGroupOf`` boxes are ignore regions of their class (``iscrowd``).
    The images are the CSV's ``ImageID``s that are in ``images/`` (the official CSVs list
    a whole split, a slice holds some of its images), numbered 0, 1, ... in ``ImageID``
    order (the ``image_id`` of a results file); the rows of absent images are counted in
    the notes. Open Images' own evaluation (class hierarchy, verified negative
    labels) is not applied: a COCO detector is scored COCO's way.

    Args:
        root: the folder with both CSVs and ``images/``.
        rename: class renaming (``OPENIMAGES_TO_COCO`` to score COCO detectors by name;
            the other classes keep their Open Images name).
        name: the dataset name (default: the folder's name).

    Raises:
        DatasetError: a missing CSV or column, a MID not in the descriptions, a coordinate
            that is not a number in [0, 1], an inverted box (file and line), no image.
    """
    root = Path(root)
    found_csvs = find_csvs(root)
    if found_csvs is None or not (root / "images").is_dir():
        raise DatasetError(
            f"{root.name}: not an Open Images folder (one *bbox*.csv, one "
            "*class-descriptions*.csv and images/ inside)"
        )
    box_csv, classes_csv = found_csvs
    names = _descriptions(classes_csv, root)
    rename = dict(rename or {})
    where_csv = box_csv.relative_to(root).as_posix()
    rows_of: dict[str, list[tuple[str, list[float], int]]] = {}
    missing = 0
    labels_found: set[str] = set()
    sizes: dict[str, tuple[Path, int, int] | None] = {}
    try:
        confined = inside(root, box_csv.relative_to(root), where_csv)
        with confined.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            absent = [c for c in BOX_COLUMNS if c not in header]
            if absent:
                raise DatasetError(
                    f"{where_csv}: line 1: missing column(s) {', '.join(absent)}"
                )
            for row in reader:
                at = f"{where_csv}: line {reader.line_num}"
                image_key = (row["ImageID"] or "").strip()
                if not image_key:
                    raise DatasetError(f"{at}: column 'ImageID' is empty")
                mid = (row["LabelName"] or "").strip()
                if mid not in names:
                    raise DatasetError(
                        f"{at}: column 'LabelName' {mid!r} is not in {classes_csv.name}"
                    )
                x1, x2, y1, y2 = (
                    _coordinate(row, c, at) for c in ("XMin", "XMax", "YMin", "YMax")
                )
                if x2 < x1 or y2 < y1:
                    raise DatasetError(f"{at}: XMax/YMax smaller than XMin/YMin")
                group = (row.get("IsGroupOf") or "0").strip()
                if group not in ("0", "1", "-1"):
                    raise DatasetError(
                        f"{at}: column 'IsGroupOf' should be 0 or 1, got {group!r}"
                    )
                if image_key not in sizes:
                    image = inside(root, f"images/{image_key}.jpg", at)
                    sizes[image_key] = (
                        (image, *image_size(image, root, at))
                        if image.is_file()
                        else None
                    )
                if sizes[image_key] is None:
                    missing += 1
                    continue
                label = names[mid]
                labels_found.add(label)
                rows_of.setdefault(image_key, []).append(
                    (rename.get(label, label), [x1, y1, x2, y2], int(group == "1"),
                     label)
                )  # fmt: skip
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{where_csv}: not UTF-8 text") from exc
    except csv.Error as exc:
        raise DatasetError(f"{where_csv}: malformed CSV ({exc})") from exc
    if not rows_of:
        raise DatasetError(
            f"{where_csv}: none of its images is in images/ (as <ImageID>.jpg)"
        )

    used = {label for rows in rows_of.values() for label, *_ in rows}
    coco = [c for c in dict.fromkeys(rename.values()) if c in used]
    class_names = tuple(coco + sorted(used - set(coco)))
    index_of = {c: i for i, c in enumerate(class_names)}
    samples = []
    for image_id, (image_key, rows) in enumerate(sorted(rows_of.items())):
        image, width, height = sizes[image_key]
        gt = make_gt(
            [[x1 * width, y1 * height, x2 * width, y2 * height]
             for _, (x1, y1, x2, y2), *_ in rows],
            [index_of[label] for label, *_ in rows],
            class_names,
            iscrowd=[group for _, _, group, _ in rows],
        )  # fmt: skip
        samples.append(Sample(image_id, image, width, height, gt))
    notes = ["Open Images boxes; IsGroupOf boxes are ignore regions of their class."]
    doubled = sum(_doubled(rows) for rows in rows_of.values())
    if doubled:
        notes.append(
            "Boxes lying on a box of the same class from another Open Images class "
            f"(IoU ≥ {DOUBLED_IOU}, e.g. Man and Person on one person): {doubled}. Both "
            "are ground truth, so finding that object once leaves one missed."
        )
    if missing:
        notes.append(f"{missing} boxes of images not in images/ were left out.")
    unnamed = [c for c in class_names if c not in set(rename.values())]
    if rename and unnamed:
        notes.append(
            f"COCO has no class for: {', '.join(unnamed)} (see OPENIMAGES_TO_COCO)."
        )
    return Dataset(
        name or root.name,
        "openimages",
        root,
        class_names,
        tuple(samples),
        renamed={k: v for k, v in rename.items() if k in labels_found},
        notes=tuple(notes),
    )
