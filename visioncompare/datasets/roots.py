"""Folders on the server that visitors may open: only under the operator's roots.

``VISIONCOMPARE_DATA_ROOTS`` names them (separated like ``PATH``). Without it, visitors
cannot open server folders at all and the choice is not offered. A typed path is resolved
(``..`` and symbolic links followed) before it is compared with the roots, and every path
outside them gets the same message, so a visitor cannot learn whether a file exists.
"""

from __future__ import annotations

import os
from pathlib import Path

from visioncompare.datasets.types import Dataset, DatasetError

ROOTS_VARIABLE = "VISIONCOMPARE_DATA_ROOTS"
REFUSED = (
    "this path is not inside the folders this server shares; only datasets under them "
    "can be opened"
)


class PathRefused(ValueError):
    """A typed path outside the data roots (the message never says whether it exists)."""


def data_roots(value: str | None = None) -> tuple[Path, ...]:
    """The resolved roots from ``value`` (default ``$VISIONCOMPARE_DATA_ROOTS``); empty
    when none is set."""
    text = os.environ.get(ROOTS_VARIABLE, "") if value is None else value
    roots = []
    for part in text.split(os.pathsep):
        if part.strip():
            roots.append(Path(part.strip()).expanduser().resolve())
    return tuple(roots)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def confine(typed: str, roots: tuple[Path, ...]) -> Path:
    """The resolved path of ``typed`` when it lies under one of ``roots``.

    A relative path is taken relative to the first root.

    Raises:
        PathRefused: no roots, an invalid path, or a path (after resolving ``..`` and
            symbolic links) outside every root. One message for all of them.
    """
    text = typed.strip()
    if not roots or not text or "\x00" in text:
        raise PathRefused(REFUSED)
    try:
        path = Path(text).expanduser()  # RuntimeError: "~nosuchuser"
        if not path.is_absolute():
            path = roots[0] / path
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # also a symlink loop
        raise PathRefused(REFUSED) from exc
    if not any(_under(resolved, root) for root in roots):
        raise PathRefused(REFUSED)
    return resolved


def require_inside(dataset: Dataset, folder: Path) -> None:
    """Refuse a dataset that names an image outside ``folder`` (its upload or root).

    Raises:
        DatasetError: naming the first such image as the dataset file wrote it.
    """
    base = Path(folder).resolve()
    for sample in dataset.samples:
        if not _under(Path(sample.path).resolve(), base):
            raise DatasetError(
                f"image {sample.image_id} ({sample.path.name}): its path leads outside "
                "the dataset's folder; only files inside it are read"
            )
