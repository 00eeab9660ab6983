"""Folders on the server that visitors may open: only under the operator's roots.

``VISIONCOMPARE_DATA_ROOTS`` lists them (separated like ``PATH``), each as ``NAME=PATH``
or a bare ``PATH`` (then named by its last folder): visitors see the names, never the
paths, and type paths relative to a named root (``confine_in``). Without the variable,
visitors cannot open server folders at all and the choice is not offered. A typed path is
resolved (``..`` and symbolic links followed) before it is compared with the roots, and
every path outside them, an absolute one included, gets the same message, so a visitor
cannot learn whether a file exists, nor where the roots are.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from visioncompare.datasets.types import Dataset, DatasetError

ROOTS_VARIABLE = "VISIONCOMPARE_DATA_ROOTS"
REFUSED = (
    "this path is not inside the folders this server shares; only datasets under them "
    "can be opened"
)


class PathRefused(ValueError):
    """A typed path outside the data roots (the message never says whether it exists)."""


_NAMED = re.compile(r"([A-Za-z0-9][\w .-]*)=(.+)")
"""``NAME=PATH``: a name of letters, digits, ``_``, ``.``, ``-`` and spaces (no ``/``,
so a path holding ``=`` is never read as one)."""


@dataclass(frozen=True)
class DataRoot:
    """A server folder visitors may open, shown by its ``name`` only."""

    name: str
    path: Path
    """Resolved; never shown to visitors."""


def named_roots(value: str | None = None) -> tuple[DataRoot, ...]:
    """The roots from ``value`` (default ``$VISIONCOMPARE_DATA_ROOTS``), in order, each
    with its name: the operator's (``NAME=PATH``), else the folder's last part; a name
    used twice gets ``-2``, ``-3``. Empty when none is set."""
    text = os.environ.get(ROOTS_VARIABLE, "") if value is None else value
    roots: list[DataRoot] = []
    for part in text.split(os.pathsep):
        part = part.strip()
        if not part:
            continue
        named = _NAMED.fullmatch(part)
        name, written = (named[1].strip(), named[2].strip()) if named else ("", part)
        path = Path(written).expanduser().resolve()
        name = name or Path(written).expanduser().name or path.name or "data"
        taken = {r.name for r in roots}
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}-{n}"
        roots.append(DataRoot(unique, path))
    return tuple(roots)


def data_roots(value: str | None = None) -> tuple[Path, ...]:
    """The resolved roots' paths from ``value`` (default ``$VISIONCOMPARE_DATA_ROOTS``);
    empty when none is set (``named_roots`` with their names)."""
    return tuple(root.path for root in named_roots(value))


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


def confine_in(typed: str, root: DataRoot, roots: tuple[DataRoot, ...]) -> Path:
    """The resolved path of ``typed``, a path relative to the named ``root``, when it lies
    under one of ``roots`` (``.`` is the root itself).

    Raises:
        PathRefused: an absolute path (visitors name roots, never server paths), or as
            ``confine``. One message for all of them.
    """
    text = typed.strip()
    if not text or Path(text).is_absolute() or text.startswith(("/", "\\")):
        raise PathRefused(REFUSED)
    # Joined first, so a leading "~" is a folder's name here, never a home folder.
    return confine(str(root.path / text), tuple(r.path for r in roots))


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
