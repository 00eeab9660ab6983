"""Hostile and ordinary archives: each refusal has its message and writes nothing outside
the session's folder (nothing at all where the headers already tell)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from visioncompare.datasets import DatasetError
from visioncompare.datasets.archives import (
    ArchiveError,
    ArchiveLimits,
    archive_kind,
    extract_archive,
)
from visioncompare.datasets.registry import load_folder
from visioncompare.datasets.roots import require_inside
from visioncompare.evaluation.session_files import UploadError, store_dataset_upload

SMALL = ArchiveLimits(max_bytes=50 * 2**20, max_files=1000, max_ratio=100)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def make_zip(entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_tar(members: list[tarfile.TarInfo | tuple[str, bytes]], gz=False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def link(name: str, kind: bytes, target: str = "/etc/hostname") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.fixture
def session(tmp_path) -> Path:
    """A session's folder inside a parent whose listing must not change."""
    folder = tmp_path / "sessions" / "abc"
    folder.mkdir(parents=True)
    return folder


def refused(session: Path, name: str, data: bytes, limits=SMALL) -> str:
    parent = session.parent.parent
    before = listing(parent)
    with pytest.raises(ArchiveError) as info:
        store_dataset_upload(session, name, data, limits)
    assert listing(parent) == before  # nothing written, inside or outside the session
    return str(info.value)


def test_kinds():
    assert archive_kind("a.ZIP") == "zip"
    assert archive_kind("a.tar.gz") == archive_kind("b.tgz") == "tar.gz"
    assert archive_kind("a.tar") == "tar"
    assert archive_kind("a.json") is None


@pytest.mark.parametrize("gz", [False, True])
def test_ordinary_tar_unpacks(tmp_path, gz):
    data = make_tar([("set/a.txt", b"hello"), ("set/sub/b.txt", b"x" * 10)], gz=gz)
    path = tmp_path / ("in.tar.gz" if gz else "in.tar")
    path.write_bytes(data)
    result = extract_archive(path, tmp_path / "out", limits=SMALL)
    assert (result.files, result.bytes) == (2, 15)
    assert (tmp_path / "out" / "set" / "sub" / "b.txt").read_bytes() == b"x" * 10


def test_zip_slip(session):
    message = refused(session, "evil.zip", make_zip({"ok.txt": b"1", "../x": b"2"}))
    assert message.startswith("../x:") and "'..'" in message
    assert not (session.parent / "x").exists()


def test_absolute_path(session):
    message = refused(session, "evil.zip", make_zip({"/tmp/owned": b"1"}))
    assert message.startswith("/tmp/owned:") and "absolute" in message


def test_backslash_slip(session):
    message = refused(session, "evil.zip", make_zip({"..\\..\\x": b"1"}))
    assert "'..'" in message


def test_zip_symlink(session):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("images/link.jpg")
        info.create_system = 3
        info.external_attr = (0o120777) << 16
        archive.writestr(info, "/etc/hostname")
    message = refused(session, "evil.zip", buffer.getvalue())
    assert message.startswith("images/link.jpg:") and "symbolic link" in message


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (tarfile.SYMTYPE, "symbolic link"),
        (tarfile.LNKTYPE, "hard link"),
        (tarfile.CHRTYPE, "device"),
        (tarfile.FIFOTYPE, "FIFO"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_tar_links_and_devices(session, kind, words, gz):
    data = make_tar([("set/ok.txt", b"1"), link("set/bad", kind)], gz=gz)
    message = refused(session, "evil.tar.gz" if gz else "evil.tar", data)
    assert message.startswith("set/bad:") and words in message


def test_tar_slip_and_absolute(session):
    assert "'..'" in refused(session, "e.tar", make_tar([("../../x", b"1")]))
    assert "absolute" in refused(session, "e.tar", make_tar([("/x", b"1")]))


def test_bomb_by_ratio(session):
    message = refused(session, "bomb.zip", make_zip({"zeros.bin": bytes(20 * 2**20)}))
    assert message.startswith("zeros.bin:") and "zip bomb" in message


def test_bomb_by_ratio_tar_gz(session):
    message = refused(
        session, "bomb.tgz", make_tar([("z", bytes(20 * 2**20))], gz=True)
    )
    assert message.startswith("bomb.tgz:") and "zip bomb" in message


def test_total_size(session):
    limits = ArchiveLimits(max_bytes=2**20, max_files=1000, max_ratio=1000)
    data = make_zip({"a.bin": bytes(700_000), "b.bin": bytes(700_000)})
    message = refused(session, "big.zip", data, limits)
    assert message.startswith("b.bin:") and "more than 1 MB" in message


def test_gz_stream_bounded(session):
    """A .tgz whose stream decompresses far beyond the limit stops reading early."""
    limits = ArchiveLimits(max_bytes=2**20, max_files=10, max_ratio=10**9)
    data = make_tar([("z", bytes(8 * 2**20))], gz=True)
    message = refused(session, "bomb.tgz", data, limits)
    assert "more than 1 MB" in message


def test_fifty_thousand_tiny_files(session):
    data = make_zip({f"f/{i}.txt": b"" for i in range(50_000)}, zipfile.ZIP_STORED)
    message = refused(session, "many.zip", data, ArchiveLimits.from_env())
    assert message.startswith("many.zip: 50,000 members") and "20,000" in message


def test_header_that_lies(session):
    """A member whose data is longer than its header says is refused while writing."""
    data = bytearray(make_zip({"a.txt": b"x" * 1000}, zipfile.ZIP_STORED))
    # Shrink the declared size in both headers (local and central) to 10 bytes.
    for offset in range(len(data) - 4):
        if data[offset : offset + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
            at = offset + (22 if data[offset + 2] == 3 else 24)
            data[at : at + 4] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveError, match=r"^lie\.zip: not a readable zip"):
        store_dataset_upload(session, "lie.zip", bytes(data), SMALL)
    assert not [p for p in session.rglob("*") if p.is_file()]


def test_not_an_archive(session):
    message = refused(session, "junk.zip", b"this is not a zip file")
    assert message.startswith("junk.zip: not a readable zip archive")
    with pytest.raises(UploadError, match=r"junk.exe: upload a \.zip"):
        store_dataset_upload(session, "junk.exe", b"MZ")


def test_duplicate_member(session):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "1")
        with pytest.warns(UserWarning):
            archive.writestr("a.txt", "2")
    assert "twice" in refused(session, "dup.zip", buffer.getvalue())


def test_nested_archive_is_not_unpacked(session):
    inner = make_zip({"annotations/instances.json": b"{}"})
    upload = store_dataset_upload(session, "outer.zip", make_zip({"inner.zip": inner}))
    assert upload.nested == ("inner.zip",)
    assert listing(upload.folder) == ["inner.zip"]
    with pytest.raises(DatasetError, match="not a COCO"):
        load_folder(upload.path)


def test_wrong_layout(session):
    upload = store_dataset_upload(
        session, "notes.zip", make_zip({"notes/readme.txt": b"hello"})
    )
    with pytest.raises(DatasetError, match=r"not a COCO .* VOC .* YOLO"):
        load_folder(upload.path)


def coco(file_name: str) -> bytes:
    return json.dumps(
        {
            "images": [{"id": 1, "file_name": file_name, "width": 64, "height": 48}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 10]}
            ],
            "categories": [{"id": 1, "name": "cat"}],
        }
    ).encode()


@pytest.mark.parametrize("file_name", ["../../../../etc/hostname", "/etc/hostname"])
def test_coco_json_pointing_outside(session, file_name):
    data = make_zip({"set/annotations/instances.json": coco(file_name)})
    upload = store_dataset_upload(session, "set.zip", data)
    before = listing(session.parent.parent)
    with pytest.raises(DatasetError, match="outside the dataset's folder") as info:
        require_inside(load_folder(upload.path), upload.folder)
    assert "/etc" not in str(info.value).replace(file_name, "")
    assert listing(session.parent.parent) == before


def test_coco_json_alone(session):
    upload = store_dataset_upload(session, "instances.json", coco("a.jpg"))
    dataset = load_folder(upload.path)
    require_inside(dataset, upload.folder)
    assert len(dataset) == 1 and dataset.num_boxes == 1
    assert not dataset.samples[0].path.exists()  # images are optional


def test_bytes_are_counted_while_writing(tmp_path):
    """Headers can lie: a member that streams more bytes than its header declared is
    refused while it is written, whatever the archive library lets through."""
    from visioncompare.datasets.archives import _Member, _write

    member = _Member("a.bin", ("a.bin",), False, size=10, packed=None)
    with pytest.raises(
        ArchiveError, match=r"^a\.bin: holds more bytes than its header"
    ):
        _write(member, io.BytesIO(bytes(100)), tmp_path, [0], SMALL, "x.zip")
    limits = ArchiveLimits(max_bytes=50, max_files=10, max_ratio=100)
    member = _Member("b.bin", ("b.bin",), False, size=100, packed=None)
    with pytest.raises(ArchiveError, match=r"^b\.bin: the archive unpacks to more"):
        _write(member, io.BytesIO(bytes(100)), tmp_path, [0], limits, "x.zip")


@pytest.mark.parametrize("gz", [False, True])
def test_an_annotation_file_over_its_own_limit_is_refused(session, gz, monkeypatch):
    """An annotation file is parsed whole: within the archive's size and ratio limits it
    could still take gigabytes once parsed, so each has a limit of its own (the operator's
    setting), checked from the headers; images of the same size are fine."""
    monkeypatch.setenv("VISIONCOMPARE_MAX_ANNOTATION_MB", "1")
    limits = ArchiveLimits.from_env()
    assert limits.max_annotation_bytes == 2**20
    big = b"[" + b",".join(b'{"id": %d}' % i for i in range(150_000)) + b"]"
    assert len(big) > 2**20
    members = [("set/annotations/instances.json", big)]
    message = refused(session, "set.tgz" if gz else "set.tar", make_tar(members, gz=gz),
                      limits)  # fmt: skip
    assert message.startswith("set/annotations/instances.json: 2 MB")
    assert "VISIONCOMPARE_MAX_ANNOTATION_MB" in message
    image = make_tar([("set/images/big.jpg", big)], gz=gz)
    name = "images.tgz" if gz else "images.tar"
    assert store_dataset_upload(session, name, image, limits).folder.is_dir()


def test_a_file_named_like_a_folder_is_refused(session):
    """A regular tar member whose name ends in '/' would be written under its cleaned
    name: refused, so no rule can be checked against one name and applied to another."""
    info = tarfile.TarInfo("set/annotations/big.json/")
    data = b"[]"
    info.size = len(data)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(info, io.BytesIO(data))
    message = refused(session, "set.tar", buffer.getvalue())
    assert message.startswith("set/annotations/big.json/: a file named like a folder")
