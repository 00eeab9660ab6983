"""Locate model weights: an explicit path, then the weights folders, then a download.

Weights are data: they are located, hashed and named in results. Nothing here ever loads a
file a user uploaded through the page.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from model_zoo.operator_settings import (
    ALLOW_DOWNLOADS,
    downloads_allowed,
    show_server_paths,
)

log = logging.getLogger(__name__)

PROJECT_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ENV_VAR = "VISIONCOMPARE_WEIGHTS"
"""Extra weights folders, separated like PATH; searched before the project folder."""


class WeightsNotFoundError(FileNotFoundError):
    """The weights are not on disk and could not be downloaded. The message says where to
    put the file."""


def weights_dirs() -> list[Path]:
    """The folders searched for weights, in order."""
    extra = [
        Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p
    ]
    return [*extra, PROJECT_WEIGHTS_DIR]


def locate(filename: str, explicit: str | Path | None = None) -> Path | None:
    """Find a weights file or folder on disk without any download.

    Args:
        filename: the file (``yolov8n.pt``) or folder (``yolov8n_openvino_model``) name.
        explicit: a path that wins when it exists.

    Returns:
        The path, or None when it is in none of the weights folders.
    """
    if explicit is not None and Path(explicit).exists():
        return Path(explicit)
    for folder in weights_dirs():
        candidate = folder / filename
        if candidate.exists():
            return candidate
    return None


def require(
    filename: str,
    download: Callable[[Path], Path | str | None] | None = None,
    explicit: str | Path | None = None,
) -> Path:
    """Find weights on disk or download them into the project weights folder.

    Args:
        filename: the weights file or folder name.
        download: called with the target path when the weights are not on disk; it returns
            the path it wrote (the library's own downloader).
        explicit: a path that wins when it exists.

    Raises:
        WeightsNotFoundError: not on disk and the download failed or is not possible.
    """
    found = locate(filename, explicit)
    if found is not None:
        return found
    reason = "no download source is known for it"
    if download is not None and not downloads_allowed():
        reason = (
            "this server does not download weights (its operator allows it with "
            f"{ALLOW_DOWNLOADS}=1)"
        )
    elif download is not None:
        target = PROJECT_WEIGHTS_DIR / filename
        try:
            written = download(target)
            if written is not None and Path(written).exists():
                return Path(written)
            if target.exists():
                return target
            reason = "the download produced no file"
        except Exception as exc:  # any network or library failure means: not available
            # The library's own text may name server paths: the operator's only.
            detail = f": {exc}" if show_server_paths() else ""
            reason = f"the download failed ({type(exc).__name__}{detail})"
            log.info("download of %s failed: %s", filename, exc)
    raise WeightsNotFoundError(missing_message(filename, reason))


def missing_message(filename: str, reason: str) -> str:
    """Why a weights file is missing and where it goes: the folders by their server paths
    for the operator's setting (``VISIONCOMPARE_SHOW_SERVER_PATHS``), else by name only,
    with the advice to ask the operator."""
    if show_server_paths():
        folders = ", ".join(str(d) for d in weights_dirs())
        where = (
            f"Put '{filename}' in {PROJECT_WEIGHTS_DIR} (or a folder named by "
            f"${ENV_VAR}); searched: {folders}."
        )
    else:
        where = (
            f"Ask the server's operator to put '{filename}' in its weights folder "
            "(model_zoo/weights/ or a folder named by "
            f"${ENV_VAR})."
        )
    return f"Weights '{filename}' are not on this machine and {reason}. {where}"


def _weight_files(path: Path) -> list[Path]:
    return (
        sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    )


@lru_cache(maxsize=64)
def _sha256_cached(path: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    target = Path(path)
    digest = hashlib.sha256()
    for file in _weight_files(target):
        if target.is_dir():
            digest.update(str(file.relative_to(target)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def weights_sha256(path: str | Path) -> str:
    """SHA-256 of a weights file, or of every file in a weights folder (names included).

    Cached on the files' modification times and sizes, so a page can call it freely.
    """
    path = Path(path)
    stamp = tuple(
        (str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in _weight_files(path)
    )
    return _sha256_cached(str(path), stamp)
