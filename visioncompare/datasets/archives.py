"""Unpacking an uploaded archive (.zip, .tar, .tar.gz / .tgz) without trusting it.

Every member is checked from the archive's headers before a single byte is written:
absolute paths, ``..``, symbolic and hard links, devices and FIFOs are refused, and so are
archives over the limits on total unpacked size, number of members and compression ratio
(zip bombs). While writing, the bytes are counted again, since headers can lie. An
archive inside the archive is written as a file and never unpacked.

Limits are operator settings (environment variables):

- ``VISIONCOMPARE_MAX_ARCHIVE_MB``: total unpacked size (default 500);
- ``VISIONCOMPARE_MAX_ARCHIVE_FILES``: members, folders included (default 20,000);
- ``VISIONCOMPARE_MAX_ARCHIVE_RATIO``: unpacked / packed size, of the whole archive
  and of each member over 1 MB (default 100);
- ``VISIONCOMPARE_MAX_ANNOTATION_MB``: each annotation file (``.json``, ``.xml``,
  ``.csv``, ``.txt``, ``.yaml``; default 32, above COCO val2017's 25 MB instances file).
  Annotations are parsed whole, into several times their size in memory: a file of a few
  hundred MB that packs within the ratio would be a memory bomb of its own.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
"""The archive kinds that are unpacked."""
NESTED_SUFFIXES = (*ARCHIVE_SUFFIXES, ".gz", ".bz2", ".xz", ".7z", ".rar", ".zst")
"""Members with these endings are archives themselves: written, never unpacked."""
ANNOTATION_SUFFIXES = (".json", ".xml", ".csv", ".txt", ".yaml", ".yml")
"""Members parsed whole when the dataset is read: their size is bounded on its own."""
RATIO_MIN_BYTES = 2**20
"""A member's own ratio is checked from this unpacked size up (tiny files compress
arbitrarily well and are harmless)."""
_CHUNK = 2**20
_MB = 2**20


class ArchiveError(ValueError):
    """An archive was refused or could not be read. One message per refusal, naming the
    member (as written in the archive) and the rule."""


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, text, default)
        return default
    if value <= 0:
        log.warning("%s=%r is not positive; using %s", name, text, default)
        return default
    return value


@dataclass(frozen=True)
class ArchiveLimits:
    """What an archive may unpack to.

    Attributes:
        max_bytes: total unpacked bytes.
        max_files: members (files and folders).
        max_ratio: unpacked / packed bytes, for the archive and each member over
            ``RATIO_MIN_BYTES``.
        max_annotation_bytes: each member with an ``ANNOTATION_SUFFIXES`` ending.
    """

    max_bytes: int = 500 * _MB
    max_files: int = 20_000
    max_ratio: float = 100.0
    max_annotation_bytes: int = 32 * _MB

    @classmethod
    def from_env(cls) -> ArchiveLimits:
        """The operator's limits (``VISIONCOMPARE_MAX_ARCHIVE_*``), defaults otherwise."""
        default = cls()
        return cls(
            max_bytes=int(
                _env_number("VISIONCOMPARE_MAX_ARCHIVE_MB", default.max_bytes / _MB)
                * _MB
            ),
            max_files=int(
                _env_number("VISIONCOMPARE_MAX_ARCHIVE_FILES", default.max_files)
            ),
            max_ratio=_env_number("VISIONCOMPARE_MAX_ARCHIVE_RATIO", default.max_ratio),
            max_annotation_bytes=int(
                _env_number(
                    "VISIONCOMPARE_MAX_ANNOTATION_MB",
                    default.max_annotation_bytes / _MB,
                )
                * _MB
            ),
        )


@dataclass(frozen=True)
class Unpacked:
    """What an archive unpacked to.

    Attributes:
        files: regular files written.
        bytes: bytes written.
        nested: members that are archives themselves (written, not unpacked).
    """

    files: int
    bytes: int
    nested: tuple[str, ...]


def archive_kind(name: str) -> str | None:
    """``zip``, ``tar`` or ``tar.gz`` from a file name's ending (None: not an archive)."""
    lower = name.lower()
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if lower.endswith(".tar"):
        return "tar"
    return None


@dataclass(frozen=True)
class _Member:
    name: str  # as written in the archive, for messages
    parts: tuple[str, ...]  # the safe relative path
    is_dir: bool
    size: int
    packed: int | None  # zip only


def _safe_parts(name: str) -> tuple[str, ...]:
    """The member's relative path, or an ArchiveError when it could leave the folder."""
    if not name or "\x00" in name:
        raise ArchiveError(
            f"{name!r}: an empty or invalid member name; nothing unpacked"
        )
    text = name.replace("\\", "/")  # Windows tools write backslashes
    if text.startswith("/") or (len(text) > 1 and text[0].isalpha() and text[1] == ":"):
        raise ArchiveError(
            f"{name}: an absolute path; only paths inside the archive are unpacked "
            "(nothing was unpacked)"
        )
    parts = tuple(p for p in PurePosixPath(text).parts if p not in ("", "."))
    if ".." in parts:
        raise ArchiveError(
            f"{name}: a path with '..' that leads outside the archive's folder "
            "(nothing was unpacked)"
        )
    return parts


def _zip_members(archive: zipfile.ZipFile) -> list[_Member]:
    members = []
    for info in archive.infolist():
        parts = _safe_parts(info.filename)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise ArchiveError(
                f"{info.filename}: a symbolic link; links are not unpacked "
                "(nothing was unpacked)"
            )
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise ArchiveError(
                f"{info.filename}: not a regular file or folder (a device, FIFO or "
                "socket); nothing was unpacked"
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"{info.filename}: encrypted; upload an archive without a password"
            )
        is_dir = info.is_dir() or kind == stat.S_IFDIR
        members.append(
            _Member(info.filename, parts, is_dir, info.file_size, info.compress_size)
        )
    return members


def _tar_member(info: tarfile.TarInfo) -> _Member:
    parts = _safe_parts(info.name)
    if info.issym():
        raise ArchiveError(
            f"{info.name}: a symbolic link; links are not unpacked (nothing was unpacked)"
        )
    if info.islnk():
        raise ArchiveError(
            f"{info.name}: a hard link; links are not unpacked (nothing was unpacked)"
        )
    if info.ischr() or info.isblk() or info.isfifo():
        raise ArchiveError(
            f"{info.name}: a device or FIFO entry; only files and folders are unpacked "
            "(nothing was unpacked)"
        )
    if not (info.isreg() or info.isdir()):
        raise ArchiveError(
            f"{info.name}: not a regular file or folder; nothing was unpacked"
        )
    if info.isreg() and info.name.endswith(("/", "\\")):
        raise ArchiveError(
            f"{info.name}: a file named like a folder; nothing was unpacked"
        )
    return _Member(
        info.name, parts, info.isdir(), 0 if info.isdir() else info.size, None
    )


class _Counted:
    """A read-only stream that refuses to give more than ``limit`` bytes (a compressed
    tar's stream is decompressed to read its headers: this bounds the work)."""

    def __init__(self, raw: BinaryIO, limit: int, name: str) -> None:
        self.raw, self.limit, self.name, self.count = raw, limit, name, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        if self.count > self.limit:
            raise ArchiveError(
                f"{self.name}: unpacks to more than {self.limit // _MB} MB "
                "(VISIONCOMPARE_MAX_ARCHIVE_MB); nothing was unpacked"
            )
        return data


def _tar_stream(path: Path, kind: str, limits: ArchiveLimits, name: str):
    """The tar's members as a stream (no seeking), its decompressed bytes bounded."""
    import gzip

    raw = open(path, "rb")  # closed with the tarfile by the caller
    try:
        source: BinaryIO = gzip.GzipFile(fileobj=raw) if kind == "tar.gz" else raw
        # Headers and padding: at most 1.5 KB a member on top of its data, plus the end.
        limit = limits.max_bytes + 1536 * (limits.max_files + 2) + 20 * 1024
        tar = tarfile.open(fileobj=_Counted(source, limit, name), mode="r|")
    except BaseException:
        raw.close()  # not a tar: nothing else will close it
        raise
    return tar, raw


def _check(members: list[_Member], packed: int, limits: ArchiveLimits, name: str):
    if len(members) > limits.max_files:
        raise ArchiveError(
            f"{name}: {len(members):,} members, more than the {limits.max_files:,} "
            "allowed (VISIONCOMPARE_MAX_ARCHIVE_FILES); nothing was unpacked"
        )
    total = 0
    for m in members:
        total += m.size
        if total > limits.max_bytes:
            raise ArchiveError(
                f"{m.name}: the archive unpacks to more than "
                f"{limits.max_bytes // _MB} MB (VISIONCOMPARE_MAX_ARCHIVE_MB); "
                "nothing was unpacked"
            )
        if (
            not m.is_dir
            and m.size > limits.max_annotation_bytes
            and m.parts
            and m.parts[-1].lower().endswith(ANNOTATION_SUFFIXES)
        ):
            raise ArchiveError(
                f"{m.name}: {m.size / _MB:,.0f} MB, more than the "
                f"{limits.max_annotation_bytes / _MB:g} MB an annotation file may be "
                "(VISIONCOMPARE_MAX_ANNOTATION_MB); nothing was unpacked"
            )
        if (
            m.packed is not None
            and m.size >= RATIO_MIN_BYTES
            and m.size > limits.max_ratio * max(m.packed, 1)
        ):
            raise ArchiveError(
                f"{m.name}: compressed {m.size / max(m.packed, 1):,.0f} to 1, more than "
                f"{limits.max_ratio:g} to 1 (VISIONCOMPARE_MAX_ARCHIVE_RATIO): a zip "
                "bomb is refused; nothing was unpacked"
            )
    if total >= RATIO_MIN_BYTES and total > limits.max_ratio * max(packed, 1):
        raise ArchiveError(
            f"{name}: compressed {total / max(packed, 1):,.0f} to 1 overall, more than "
            f"{limits.max_ratio:g} to 1 (VISIONCOMPARE_MAX_ARCHIVE_RATIO): a zip bomb "
            "is refused; nothing was unpacked"
        )
    seen: set[tuple[str, ...]] = set()
    for m in members:
        key = tuple(p.casefold() for p in m.parts)
        if key in seen and not m.is_dir:
            raise ArchiveError(f"{m.name}: appears twice in the archive")
        seen.add(key)


def _write(
    member: _Member, stream: BinaryIO, dest: Path, written: list[int], limits, name
) -> bool:
    """Write one member under ``dest`` counting its bytes; True when it is a file."""
    target = dest.joinpath(*member.parts) if member.parts else dest
    try:
        if member.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            size = 0
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                written[0] += len(chunk)
                if size > member.size:
                    raise ArchiveError(
                        f"{member.name}: holds more bytes than its header says; "
                        "the archive is refused"
                    )
                if written[0] > limits.max_bytes:
                    raise ArchiveError(
                        f"{member.name}: the archive unpacks to more than "
                        f"{limits.max_bytes // _MB} MB (VISIONCOMPARE_MAX_ARCHIVE_MB)"
                    )
                out.write(chunk)
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        raise ArchiveError(
            f"{member.name}: clashes with another member of the same name"
        ) from exc
    return True


def _zip_entries(
    path: Path, limits: ArchiveLimits, name: str
) -> Iterator[tuple[_Member, BinaryIO | None]]:
    with zipfile.ZipFile(path) as archive:
        members = _zip_members(archive)
        _check(members, path.stat().st_size, limits, name)
        for info, member in zip(archive.infolist(), members, strict=True):
            if member.is_dir:
                yield member, None
            else:
                with archive.open(info) as stream:
                    yield member, stream


def _tar_entries(
    path: Path, kind: str, limits: ArchiveLimits, name: str
) -> Iterator[tuple[_Member, BinaryIO | None]]:
    # Pass 1: every header, before anything is written.
    tar, raw = _tar_stream(path, kind, limits, name)
    with raw, tar:
        members = []
        for info in tar:
            members.append(_tar_member(info))
            if len(members) > limits.max_files:
                break  # _check names the limit
    _check(members, path.stat().st_size, limits, name)
    # Pass 2: the same stream again, now writing.
    tar, raw = _tar_stream(path, kind, limits, name)
    with raw, tar:
        for info, member in zip(tar, members, strict=False):
            if member.is_dir:
                yield member, None
            else:
                stream = tar.extractfile(info)
                yield member, stream


def extract_archive(
    path: str | Path,
    dest: str | Path,
    name: str | None = None,
    limits: ArchiveLimits | None = None,
) -> Unpacked:
    """Unpack ``path`` into the folder ``dest`` (created; it must not exist yet).

    Args:
        path: the archive file; its kind comes from ``name`` (or the path's) ending.
        dest: the folder to unpack into; nothing is ever written outside it, and on any
            refusal it is removed again.
        name: the archive's name as the visitor knows it, for messages.
        limits: default ``ArchiveLimits.from_env()``.

    Raises:
        ArchiveError: an unsafe member, a limit passed, an unreadable archive; the
            message names the member (as written in the archive) and the rule.
    """
    path, dest = Path(path), Path(dest)
    name = name or path.name
    limits = limits or ArchiveLimits.from_env()
    kind = archive_kind(name)
    if kind is None:
        raise ArchiveError(f"{name}: not a .zip, .tar, .tar.gz or .tgz archive")
    dest.mkdir(parents=True, exist_ok=False)
    written, files, nested = [0], 0, []
    entries = (
        _zip_entries(path, limits, name)
        if kind == "zip"
        else _tar_entries(path, kind, limits, name)
    )
    try:
        for member, stream in entries:
            if stream is None:
                _write(member, stream, dest, written, limits, name)
                continue
            files += _write(member, stream, dest, written, limits, name)
            if member.name.lower().endswith(NESTED_SUFFIXES):
                nested.append(member.name)
    except ArchiveError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        EOFError,
        zlib.error,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        kind_name = "zip" if kind == "zip" else "tar"
        raise ArchiveError(
            f"{name}: not a readable {kind_name} archive ({type(exc).__name__}); "
            "nothing was unpacked"
        ) from exc
    finally:
        entries.close()
    return Unpacked(files, written[0], tuple(nested))
