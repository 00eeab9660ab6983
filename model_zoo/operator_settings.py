"""What the server's operator allows visitors: seeing server paths, downloading weights.

Both are environment variables read on every call (``1``, ``true``, ``yes`` or ``on``
switch them on), so a test or a restarted server sees the current value:

- ``VISIONCOMPARE_SHOW_SERVER_PATHS``: messages and the Models page name the weights
  folders and files with their full server paths; otherwise visitors see file names only.
- ``VISIONCOMPARE_ALLOW_DOWNLOADS``: loading a model whose weights are not on this machine
  may download them (the library's own download). Off, such a model is "not installed"
  and its message says to ask the operator. The command line switches it on for itself
  (its user is the operator).
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

SHOW_SERVER_PATHS = "VISIONCOMPARE_SHOW_SERVER_PATHS"
ALLOW_DOWNLOADS = "VISIONCOMPARE_ALLOW_DOWNLOADS"
_ON = {"1", "true", "yes", "on"}


def _switched_on(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in _ON


def show_server_paths() -> bool:
    """True when the operator lets visitors see server paths."""
    return _switched_on(SHOW_SERVER_PATHS)


def downloads_allowed() -> bool:
    """True when loading a model may download its missing weights."""
    return _switched_on(ALLOW_DOWNLOADS)


def shown_path(path: str | Path) -> str:
    """A server path as a visitor may see it: in full for the operator's setting, else
    its last part (the file or folder name)."""
    return str(path) if show_server_paths() else Path(path).name


class Availability(str, Enum):
    """Whether a model can run here, as the pickers and the Models page say it."""

    INSTALLED = "installed"
    DOWNLOADABLE = "downloads when online"
    NOT_INSTALLED = "not installed"
    """Its library could download it, but the operator does not allow downloads."""
    MISSING = "missing"
    """No download source: someone must put the file in a weights folder."""


def availability(on_disk: bool, downloadable: bool) -> Availability:
    """Whether a model's weights are here, may be downloaded, or neither."""
    if on_disk:
        return Availability.INSTALLED
    if not downloadable:
        return Availability.MISSING
    return (
        Availability.DOWNLOADABLE if downloads_allowed() else Availability.NOT_INSTALLED
    )
