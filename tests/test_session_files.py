"""Per-session upload folders: made on first use, removed at the session's end, and the
leftovers of servers no longer running removed at start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from visioncompare.evaluation.session_files import (
    UploadError,
    max_upload_bytes,
    remove_folder,
    remove_leftovers,
    server_folder,
    session_folder,
    store_predictions_upload,
    uploads_root,
    visitor_text,
)


def test_root_is_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv("VISIONCOMPARE_UPLOADS_DIR", str(tmp_path / "up"))
    assert uploads_root() == tmp_path / "up"
    monkeypatch.delenv("VISIONCOMPARE_UPLOADS_DIR")
    assert uploads_root().name == "visioncompare-uploads"


def test_folders_are_per_session_and_removed(tmp_path):
    a = session_folder("aaa-1", tmp_path)
    b = session_folder("bbb-2", tmp_path)
    assert a != b and a.is_dir() and b.is_dir()
    assert a.parent == server_folder(tmp_path)
    assert oct(a.stat().st_mode & 0o777) == oct(0o700)
    assert session_folder("aaa-1", tmp_path) == a  # made once, found again
    (a / "x.json").write_text("[]")
    remove_folder(a)
    assert not a.exists() and b.is_dir()


@pytest.mark.parametrize("odd", ["", "../x", "a/b", "test session id", "x" * 500])
def test_any_session_id_makes_a_plain_folder(tmp_path, odd):
    folder = session_folder(odd, tmp_path)
    assert folder.parent == server_folder(tmp_path) and folder.is_dir()
    assert len(folder.name) == 32 and (not odd or odd not in folder.name)


def test_leftovers_of_stopped_servers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = server_folder(tmp_path, int(dead.stdout)) / "old-session"
    stale.mkdir(parents=True)
    mine = session_folder("s1", tmp_path)  # this process: left from an earlier one
    alive = server_folder(tmp_path, os.getppid()) / "live-session"
    alive.mkdir(parents=True)
    other = tmp_path / "not-ours"
    other.mkdir()
    # A replica on another machine sharing the folder, with the same process id as a
    # stopped server here (containers often all run as process 1).
    replica = tmp_path / f"server-another-host-{int(dead.stdout)}" / "its-session"
    replica.mkdir(parents=True)
    assert remove_leftovers(tmp_path) == 2
    assert not stale.exists() and not mine.exists()
    assert alive.is_dir() and other.is_dir() and replica.is_dir()


def test_upload_size_is_bounded_by_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_MAX_UPLOAD_MB", "0.001")
    assert max_upload_bytes() == int(0.001 * 2**20)
    with pytest.raises(UploadError, match=r"^preds\.json: 0\.0 MB, more than"):
        store_predictions_upload(tmp_path, "preds.json", b"[" + b" " * 2000 + b"]")
    with pytest.raises(UploadError, match="empty"):
        store_predictions_upload(tmp_path, "preds.json", b"")
    with pytest.raises(UploadError, match=r"results \.json"):
        store_predictions_upload(tmp_path, "preds.pkl", b"x")
    assert list(tmp_path.iterdir()) == []


def test_visitor_text_hides_server_paths(tmp_path):
    folder = session_folder("s2", tmp_path)
    path = store_predictions_upload(folder, "mine.json", b"[]")
    text = f"{path}: entry 3: missing field 'score'; see {folder}/datasets/x/a.json"
    shown = visitor_text(text, folder, {path: "mine.json"})
    assert shown == "mine.json: entry 3: missing field 'score'; see datasets/x/a.json"
    assert str(tmp_path) not in shown


def test_the_same_archive_under_another_name_and_a_new_upload_replacing_the_last(tmp_path):
    """The same bytes under a second name unpack again (under that name); a session keeps
    one dataset upload on disk, the last one that was accepted."""
    from tests.test_archives import make_zip
    from tests.upload_builders import coco_archive
    from visioncompare.datasets.archives import ArchiveError
    from visioncompare.evaluation.session_files import store_dataset_upload

    folder = tmp_path / "session"
    folder.mkdir()
    data = coco_archive(2, with_images=False)
    first = store_dataset_upload(folder, "a.zip", data)
    second = store_dataset_upload(folder, "b.zip", data)
    assert second.path.exists() and not first.folder.exists()
    assert [p.name for p in (folder / "datasets").iterdir()] == [second.folder.parent.name]
    with pytest.raises(ArchiveError):
        store_dataset_upload(folder, "slip.zip", make_zip({"../x": b""}))
    assert second.path.exists()  # a refused upload leaves the last good one
