"""Grow evaluation subsets from the official sources (for online users).

- COCO val2017: N images chosen at random (seeded) with their official annotations.
- PASCAL VOC2007 test: the whole official test set.

Downloads resume from a ``.part`` file (HTTP Range), are checked against the published MD5
where one exists, and every file written is listed with its SHA-256 in ``SHA256SUMS`` so a
later run can verify it. Nothing here runs in the app or in CI against the internet: the
tests serve small fixture files from 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from visioncompare.kernel.images import load_image_file

COCO_BASE = "http://images.cocodataset.org"
COCO_ANNOTATIONS = (
    "annotations/annotations_trainval2017.zip",
    "f4bbac642086de4f52a3fdda2de5fa2c",
)
VOC_BASE = "http://host.robots.ox.ac.uk/pascal/VOC/voc2007"
VOC2007_TEST = ("VOCtest_06-Nov-2007.tar", "b6e924de25625d8de591ea690078ad9f")

Progress = Callable[[str, int, int], None]
"""(what, done, total): bytes for one download, or images for a subset."""


class FetchError(RuntimeError):
    """A download failed or did not match its checksum."""


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download(
    url: str,
    dest: Path,
    md5: str | None = None,
    progress: Progress | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest``, resuming a previous partial download.

    Raises:
        FetchError: the server failed, or the file does not match ``md5``.
    """
    dest = Path(dest)
    if dest.exists() and (md5 is None or _md5(dest) == md5):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(
        url, headers={"Range": f"bytes={have}-"} if have else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = response.status == 206
            if not resumed:
                have = 0  # the server ignored the range: start again
            total = have + int(response.headers.get("Content-Length") or 0)
            with open(part, "ab" if resumed else "wb") as out:
                done = have
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(dest.name, done, total or done)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part is complete
            pass
        else:
            raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise FetchError(
            f"{url}: {getattr(exc, 'reason', exc)} (partial file kept)"
        ) from exc
    if md5 is not None and (actual := _md5(part)) != md5:
        part.unlink()
        raise FetchError(f"{url}: MD5 {actual} does not match the published {md5}")
    part.replace(dest)
    return dest


def _write_manifest(root: Path, files: list[Path]) -> None:
    lines = [f"{_sha256(f)}  ./{f.relative_to(root).as_posix()}" for f in sorted(files)]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def fetch_coco_subset(
    dest: str | Path,
    n: int,
    seed: int = 0,
    base_url: str = COCO_BASE,
    annotations_md5: str | None = COCO_ANNOTATIONS[1],
    progress: Progress | None = None,
) -> Path:
    """N random COCO val2017 images (seeded) with their official annotations.

    Writes ``dest/annotations/instances_val2017.json`` (only the chosen images and their
    annotations) and ``dest/val2017/*.jpg``. Already downloaded images are kept.

    Returns:
        The annotation file (open it with ``visioncompare.datasets.registry.load_folder``).
    """
    dest = Path(dest)
    archive = download(
        f"{base_url}/{COCO_ANNOTATIONS[0]}",
        dest / ".cache" / Path(COCO_ANNOTATIONS[0]).name,
        md5=annotations_md5,
        progress=progress,
    )
    with zipfile.ZipFile(archive) as bundle:
        full = json.loads(bundle.read("annotations/instances_val2017.json"))
    ids = sorted(img["id"] for img in full["images"])
    if n > len(ids):
        raise FetchError(f"asked for {n} images; COCO val2017 has {len(ids)}")
    chosen = set(random.Random(seed).sample(ids, n))
    subset = {
        **{k: v for k, v in full.items() if k not in ("images", "annotations")},
        "images": [img for img in full["images"] if img["id"] in chosen],
        "annotations": [a for a in full["annotations"] if a["image_id"] in chosen],
    }
    images_dir = dest / "val2017"
    images_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for done, image in enumerate(subset["images"], start=1):
        path = images_dir / image["file_name"]
        if not path.exists():
            download(f"{base_url}/val2017/{image['file_name']}", path)
            load_image_file(
                str(path)
            )  # a broken image fails here, not in an evaluation
        written.append(path)
        if progress:
            progress("images", done, n)
    annotation_file = dest / "annotations" / "instances_val2017.json"
    annotation_file.parent.mkdir(parents=True, exist_ok=True)
    annotation_file.write_text(json.dumps(subset))
    _write_manifest(dest, [*written, annotation_file])
    return annotation_file


def fetch_voc2007_test(
    dest: str | Path,
    base_url: str = VOC_BASE,
    md5: str | None = VOC2007_TEST[1],
    progress: Progress | None = None,
) -> Path:
    """The PASCAL VOC2007 test set (4,952 images), verified against its published MD5.

    Returns:
        The VOC folder (``.../VOCdevkit/VOC2007``); open it with image set ``test``.
    """
    dest = Path(dest)
    archive = download(
        f"{base_url}/{VOC2007_TEST[0]}", dest / ".cache" / VOC2007_TEST[0], md5=md5,
        progress=progress,
    )  # fmt: skip
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")  # no absolute paths, links or devices
    root = dest / "VOCdevkit" / "VOC2007"
    if not (root / "Annotations").is_dir():
        raise FetchError(f"{archive}: no VOCdevkit/VOC2007/Annotations inside")
    _write_manifest(dest, [p for p in root.rglob("*") if p.is_file()])
    shutil.rmtree(dest / ".cache", ignore_errors=True)
    return root
