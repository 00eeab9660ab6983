"""Each browser session's own temporary folder for what its visitor uploads.

All sessions' folders live under one uploads root (``$VISIONCOMPARE_UPLOADS_DIR``, else
``<temp dir>/visioncompare-uploads``), inside a folder of the server process
(``server-<host>-<pid>``), so replicas, on one machine or sharing the folder from
several, never remove each other's files. A
session's folder is made on first use, removed when the session ends, and the folders of
servers that are no longer running are removed when a server starts.

Uploads are unpacked here (``store_dataset_upload``, ``store_predictions_upload``);
messages shown to visitors name files relative to the upload (``visitor_text``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from visioncompare.datasets.archives import (
    ArchiveLimits,
    Unpacked,
    archive_kind,
    extract_archive,
)

log = logging.getLogger(__name__)

_MB = 2**20
_SERVER = re.compile(r"^server-(?P<host>[A-Za-z0-9._-]+)-(?P<pid>\d+)$")
_HOST = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"
"""This machine's name in server folders: replicas sharing one uploads folder (containers
often all run as process 1) never take each other's folders for their own."""
DEFAULT_MAX_UPLOAD_MB = 25
"""The default upload size, the same as the app's ``server.maxUploadSize``."""


class UploadError(ValueError):
    """An upload was refused; the message names the file as the visitor named it."""


def uploads_root() -> Path:
    """Where every session's uploads go (``$VISIONCOMPARE_UPLOADS_DIR`` or the system's
    temporary folder)."""
    configured = os.environ.get("VISIONCOMPARE_UPLOADS_DIR", "").strip()
    return (
        Path(configured)
        if configured
        else Path(tempfile.gettempdir()) / ("visioncompare-uploads")
    )


def max_upload_bytes() -> int:
    """The largest dataset or predictions upload (``$VISIONCOMPARE_MAX_UPLOAD_MB``)."""
    text = os.environ.get("VISIONCOMPARE_MAX_UPLOAD_MB", "").strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        mb = DEFAULT_MAX_UPLOAD_MB
    return int((mb if mb > 0 else DEFAULT_MAX_UPLOAD_MB) * _MB)


def server_folder(root: Path | None = None, pid: int | None = None) -> Path:
    """This server process's folder under the uploads root (not created)."""
    return (root or uploads_root()) / f"server-{_HOST}-{pid or os.getpid()}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def remove_leftovers(root: Path | None = None) -> int:
    """At server start: remove the folders of this machine's servers no longer running,
    and this process's own (left from an earlier process with the same id). Folders of
    other machines are left to them. Returns how many folders were removed."""
    root = root or uploads_root()
    removed = 0
    if not root.is_dir():
        return 0
    for folder in root.iterdir():
        match = _SERVER.match(folder.name)
        if not match or not folder.is_dir() or folder.is_symlink():
            continue
        if match["host"] != _HOST:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or not _running(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def session_folder(session_id: str, root: Path | None = None) -> Path:
    """The session's folder, created (owner-only) on first use. Its name is a digest of
    the session id: any id makes a plain name, and the id itself is not on disk."""
    name = hashlib.sha256(session_id.encode()).hexdigest()[:32]
    folder = server_folder(root) / name
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def remove_folder(folder: Path) -> None:
    """Remove a session's folder and everything in it (when the session ends)."""
    shutil.rmtree(folder, ignore_errors=True)


def visitor_text(text: str, folder: Path, names: dict[Path, str] | None = None) -> str:
    """``text`` (a message) with the server path of ``folder`` and its contents removed:
    files are named relative to the upload (the folder itself by its name), and the
    files in ``names`` by the names their visitor gave them."""
    for path, name in (names or {}).items():
        text = text.replace(str(path), name)
    for prefix in {str(folder), str(Path(folder).resolve())}:
        text = text.replace(prefix + os.sep, "").replace(prefix, Path(folder).name)
    return text


@dataclass(frozen=True)
class DatasetUpload:
    """An uploaded dataset, unpacked in the session's folder.

    Attributes:
        path: what ``visioncompare.datasets.registry.load_folder`` opens (the unpacked folder, or
            the annotations JSON).
        folder: the upload's own folder (everything it wrote is inside; messages are
            relative to it).
        name: the file name the visitor uploaded.
        nested: archives inside the archive (not unpacked).
    """

    path: Path
    folder: Path
    name: str
    nested: tuple[str, ...] = ()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def _check_size(name: str, data: bytes) -> None:
    limit = max_upload_bytes()
    if len(data) > limit:
        raise UploadError(
            f"{name}: {len(data) / _MB:.1f} MB, more than the {limit / _MB:.0f} MB "
            "allowed (VISIONCOMPARE_MAX_UPLOAD_MB)"
        )
    if not data:
        raise UploadError(f"{name}: the file is empty")


def safe_name(name: str, default: str = "upload") -> str:
    """A visitor's file name reduced to a plain name for this server's disk."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.replace("\\", "/")).name)
    base = base.strip("._")
    return base[:80] or default


def _stem(name: str) -> str:
    lower = name.lower()
    for suffix in (".tar.gz", ".tgz", ".tar", ".zip", ".json"):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _dataset_root(unpacked: Path) -> Path:
    """The folder to open: one level down when the archive holds a single folder."""
    entries = [
        p for p in unpacked.iterdir() if not p.name.startswith(("__MACOSX", "."))
    ]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return unpacked


def store_dataset_upload(
    folder: Path, name: str, data: bytes, limits: ArchiveLimits | None = None
) -> DatasetUpload:
    """Unpack an uploaded dataset archive (or place a COCO annotations JSON) in the
    session's ``folder``; the same file again is found where it was put. A session keeps
    one dataset upload on disk: once a new one is in place, the ones before it go (the
    page's uploader holds one file), so a visitor cannot fill the disk upload by upload.

    Raises:
        UploadError: too large, empty, or neither an archive nor a ``.json``.
        visioncompare.datasets.archives.ArchiveError: the archive was refused (nothing
        is left of it).
    """
    _check_size(name, data)
    kind = archive_kind(name)
    if kind is None and not name.lower().endswith(".json"):
        raise UploadError(
            f"{name}: upload a .zip, .tar, .tar.gz or .tgz archive (COCO, VOC, YOLO, "
            "KITTI, Cityscapes or Open Images layout), or a COCO annotations .json"
        )
    # Named by the file's name and bytes: the folder inside is named after the file.
    place = folder / "datasets" / _digest(name.encode() + b"\0" + data)
    done = place / "unpacked.ok"
    if kind is None:
        target = place / f"{safe_name(_stem(name), 'annotations')}.json"
        if not target.is_file():
            place.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _keep_only(place)
        return DatasetUpload(target, place, name)
    unpacked = place / safe_name(_stem(name), "dataset")
    nested: tuple[str, ...] = ()
    if done.is_file():
        nested = tuple(n for n in done.read_text().splitlines() if n)
    else:
        shutil.rmtree(place, ignore_errors=True)  # an earlier try that did not finish
        place.mkdir(parents=True)
        archive = place / f"upload.{kind}"
        archive.write_bytes(data)
        try:
            result: Unpacked = extract_archive(archive, unpacked, name, limits)
        except BaseException:
            shutil.rmtree(place, ignore_errors=True)  # nothing is left of a refusal
            with contextlib.suppress(OSError):
                place.parent.rmdir()  # "datasets", when it holds no other upload
            raise
        finally:
            archive.unlink(missing_ok=True)
        nested = result.nested
        done.write_text("\n".join(nested))
    _keep_only(place)
    return DatasetUpload(_dataset_root(unpacked), unpacked, name, nested)


def _keep_only(place: Path) -> None:
    """Remove the session's other dataset uploads (after the new one is in place: a
    refused upload leaves the last good one)."""
    for other in place.parent.iterdir():
        if other != place:
            shutil.rmtree(other, ignore_errors=True)


def store_predictions_upload(folder: Path, name: str, data: bytes) -> Path:
    """Place an uploaded predictions file (a COCO results JSON) in the session's
    ``folder`` and return its path; the same content again is the same file.

    Raises:
        UploadError: too large, empty, or not a ``.json``.
    """
    _check_size(name, data)
    if not name.lower().endswith(".json"):
        raise UploadError(f"{name}: upload a COCO results .json file")
    target = folder / "predictions" / f"{_digest(data)}.json"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return target


class SessionFiles:
    """One session's folder and its own predictions store.

    Predictions made on an uploaded dataset are stored here, never in the shared store:
    the shared store's keys name a dataset by its annotations, and another visitor's
    upload with the same annotations but other images must not read them.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._store = None
        self._lock = threading.Lock()

    @property
    def store(self):
        """The session's predictions store (SQLite in its folder), opened on first use."""
        from visioncompare.evaluation.store import PredictionStore

        with self._lock:
            if self._store is None:
                self._store = PredictionStore(self.folder / "predictions.sqlite")
            return self._store

    def probabilities(self, key: str):
        """A classification run's probabilities from the session's store (image id ->
        softmax), or None when it is not there."""
        from visioncompare.evaluation.prediction_runs import stored_probabilities

        hit = stored_probabilities(self.store, key)
        return None if hit is None else hit[0]

    def close(self) -> None:
        """Close the store and remove the folder (the session has ended)."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
        remove_folder(self.folder)


def images_present(dataset) -> int:
    """How many of a dataset's images are on disk (an upload may hold annotations only:
    metrics need no pixels)."""
    return sum(1 for s in dataset.samples if Path(s.path).is_file())


def report_key(report, dataset: str, predictions_file: Path | None = None) -> str:
    """The id under which server-wide caches keep views of ``report``.

    It names the dataset's path (a session's upload lies in that session's own folder),
    the boxes scored (a KITTI level) and what made the predictions (the stored run's
    key, or the uploaded file, whose name is its content's digest), so two sessions
    never share an entry unless they evaluate the same bundled data with the same model.
    """
    run = report.detector_run
    made_by = run.key if run is not None else str(predictions_file or report.source)
    tagged = report.classifier_run.key if report.classifier_run is not None else ""
    text = f"{made_by}|{dataset}|{report.dataset.scored_as}|{tagged}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
