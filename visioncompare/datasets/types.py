"""The dataset types every loader returns."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from visioncompare.kernel.types import Detections


class DatasetError(ValueError):
    """A dataset could not be read. The message names the file and the line or field."""


@dataclass(frozen=True, eq=False)
class Sample:
    """One image and its ground truth.

    Attributes:
        image_id: integer id, unique in the dataset (COCO's own id where there is one).
        path: the image file.
        width, height: image size in pixels, as annotated.
        gt: ground-truth boxes (absolute-pixel xyxy, score 1.0) with ``extra`` arrays
            ``iscrowd`` (0/1), ``difficult`` (0/1) and ``area`` (the annotated area);
            a COCO file's boxes also keep the file's own ``[x, y, w, h]`` (``FILE_BOX``).
    """

    image_id: int
    path: Path
    width: int
    height: int
    gt: Detections

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, eq=False)
class Dataset:
    """A held-out set of images with ground truth.

    Attributes:
        name: registry name or folder name.
        format: ``coco``, ``voc``, ``yolo``, ``kitti``, ``cityscapes`` or ``openimages``.
        root: the folder it was read from.
        class_names: names of every annotated class (the ``class_ids`` of the samples'
            ground truth index this tuple).
        samples: the images, in a fixed order.
        category_ids: the COCO category id of each class (1-based positions elsewhere).
        renamed: original class name -> the name used here (VOC -> COCO names), shown to
            users next to the results.
        notes: provenance and licence lines.
        scored_as: which boxes are scored when not all of them: a KITTI difficulty
            level (``visioncompare.datasets.kitti.at_difficulty``); empty for every box.
    """

    name: str
    format: str
    root: Path
    class_names: tuple[str, ...]
    samples: tuple[Sample, ...]
    category_ids: tuple[int, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    scored_as: str = ""

    def __post_init__(self) -> None:
        if not self.category_ids:
            object.__setattr__(
                self, "category_ids", tuple(range(1, len(self.class_names) + 1))
            )
        if len(self.category_ids) != len(self.class_names):
            raise DatasetError(
                f"{self.name}: {len(self.category_ids)} category ids for "
                f"{len(self.class_names)} classes"
            )
        ids = [s.image_id for s in self.samples]
        if len(set(ids)) != len(ids):
            raise DatasetError(f"{self.name}: image ids are not unique")

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def label(self) -> str:
        """The name, with the level scored when not every box is: ``kitti (easy)``."""
        return f"{self.name} ({self.scored_as})" if self.scored_as else self.name

    @property
    def num_boxes(self) -> int:
        return sum(len(s.gt) for s in self.samples)

    def sample(self, image_id: int) -> Sample:
        for s in self.samples:
            if s.image_id == image_id:
                return s
        raise KeyError(image_id)

    def subset(self, n: int) -> Dataset:
        """The first n images (for quick runs)."""
        name = self.name if n >= len(self) else f"{self.name}[:{n}]"
        return replace(self, name=name, samples=self.samples[:n])


FILE_BOX = ("bbox_x", "bbox_y", "bbox_w", "bbox_h")
"""``Detections.extra`` keys holding a file's own float64 ``[x, y, w, h]`` (a COCO
annotation or results file): COCO metrics compute IoU from them as pycocotools does, so a
box scores exactly as the file's numbers score, not as their float32 rounding in
``xyxy``."""


def make_gt(
    xyxy: list[list[float]],
    class_ids: list[int],
    class_names: tuple[str, ...],
    iscrowd: list[int] | None = None,
    difficult: list[int] | None = None,
    area: list[float] | None = None,
    xywh: list[list[float]] | None = None,
) -> Detections:
    """Ground-truth ``Detections`` with the three ``extra`` arrays every loader fills,
    and the file's own ``[x, y, w, h]`` (``FILE_BOX``) when ``xywh`` is given."""
    n = len(xyxy)
    own = (
        {}
        if xywh is None
        else dict(zip(FILE_BOX, np.asarray(xywh, np.float64).reshape(n, 4).T))
    )
    boxes = np.asarray(xyxy, dtype=np.float32).reshape(n, 4)
    if area is None:
        area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).tolist()
    return Detections(
        boxes,
        np.ones(n, np.float32),
        np.asarray(class_ids, dtype=np.int64),
        class_names,
        {
            "iscrowd": np.asarray(
                iscrowd if iscrowd is not None else [0] * n, np.int64
            ),
            "difficult": np.asarray(
                difficult if difficult is not None else [0] * n, np.int64
            ),
            "area": np.asarray(area, np.float64),
            **own,
        },
    )


def inside(root: Path, relative: str | Path, where: str) -> Path:
    """``relative`` (a path written in a dataset file) resolved under the dataset's ``root``.

    Every reader takes image and label paths through this, so a dataset file can never make
    the server read outside the dataset's folder: absolute paths, ``..`` and symlinks that
    lead out are refused before anything is opened.

    Args:
        root: the dataset's folder.
        relative: the path as written in the file.
        where: the file and field it came from, for the message (already visitor-safe).

    Raises:
        DatasetError: the path leads outside ``root``.
    """
    text = str(relative)
    if not text or "\x00" in text:
        raise DatasetError(f"{where}: empty or invalid path {text!r}")
    base = Path(root).resolve()
    target = (base / text).resolve()
    if target != base and base not in target.parents:
        raise DatasetError(
            f"{where}: the path {text!r} leads outside the dataset's folder; only files "
            "inside it are read"
        )
    return target


def shown(path: Path, root: Path) -> str:
    """``path`` as a visitor may see it: relative to the dataset's ``root`` (just its name
    when it is elsewhere), never a server path."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def confine_to(
    root: Path, folder: Path | None = None
) -> Callable[[str | Path, str], Path]:
    """``inside`` for the many paths of one dataset: a function ``(relative, where) ->
    path`` that resolves ``relative`` (written relative to ``folder``, default ``root``)
    and confines it to ``root``, like ``inside``. The two folders are resolved once.

    For paths a dataset file writes relative to one of its folders (a COCO ``file_name``
    under the images folder, a YOLO ``val`` under ``path``); the message quotes the path as
    written, not the folder it was joined to.

    Raises (the returned function):
        DatasetError: the path is empty or leads outside ``root``.
    """
    base = os.path.realpath(root)
    prefix = base.rstrip(os.sep) + os.sep
    real_folder = os.path.realpath(folder if folder is not None else root)

    def confine(relative: str | Path, where: str) -> Path:
        text = str(relative)
        if not text or "\x00" in text:
            raise DatasetError(f"{where}: empty or invalid path {text!r}")
        target = os.path.join(real_folder, text)
        # A plain file name in a real folder is its own real path unless it is a
        # symlink: one lstat instead of one per folder (COCO lists 100,000s of names).
        if os.sep in text or text in (".", "..") or os.path.islink(target):
            target = os.path.realpath(target)
        if target != base and not target.startswith(prefix):
            raise DatasetError(
                f"{where}: the path {text!r} leads outside the dataset's folder; only "
                "files inside it are read"
            )
        return Path(target)

    return confine


def read_text(path: Path, root: Path) -> str:
    """A dataset's text file (UTF-8, a BOM allowed).

    Raises:
        DatasetError: the file cannot be read or is not UTF-8 text, named relative to
            ``root``.
    """
    where = shown(path, root)
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{where}: not UTF-8 text (byte {exc.start} cannot be decoded)"
        ) from exc
    except OSError as exc:
        raise DatasetError(f"{where}: cannot read ({exc.strerror or 'error'})") from exc
