"""Operator settings: server paths shown only when the operator says so, and weights
downloaded only when the operator allows it (the command line allows both)."""

from __future__ import annotations

import os

import pytest

from model_zoo import WeightsNotFoundError, get_spec, load_model
from model_zoo import weights as weights_module
from model_zoo.adapters import ultralytics_detectors as detectors_module
from model_zoo.operator_settings import (
    ALLOW_DOWNLOADS,
    SHOW_SERVER_PATHS,
    Availability,
    availability,
    downloads_allowed,
    show_server_paths,
    shown_path,
)
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def visitor_defaults(monkeypatch):
    monkeypatch.delenv(SHOW_SERVER_PATHS, raising=False)
    monkeypatch.delenv(ALLOW_DOWNLOADS, raising=False)


def _never(target):
    raise AssertionError("a download was attempted")


def test_missing_weights_name_the_file_but_no_server_path_by_default():
    with pytest.raises(WeightsNotFoundError) as info:
        weights_module.require("yolov8s.pt", download=_never)
    message = str(info.value)
    assert "'yolov8s.pt'" in message and "ask the server's operator" in message.lower()
    assert "does not download weights" in message
    assert str(weights_module.PROJECT_WEIGHTS_DIR) not in message
    assert str(REPO) not in message


def test_the_operator_setting_shows_the_folders(monkeypatch, tmp_path):
    monkeypatch.setenv(SHOW_SERVER_PATHS, "1")
    monkeypatch.setenv(weights_module.ENV_VAR, str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as info:
        weights_module.require("yolov8s.pt", download=_never)
    message = str(info.value)
    assert (
        str(weights_module.PROJECT_WEIGHTS_DIR) in message and str(tmp_path) in message
    )
    assert shown_path(tmp_path / "a.pt") == str(tmp_path / "a.pt")
    monkeypatch.setenv(SHOW_SERVER_PATHS, "0")
    assert shown_path(tmp_path / "a.pt") == "a.pt"


def test_downloads_only_when_the_operator_allows_them(monkeypatch):
    calls = []

    def offline(target):
        calls.append(target)
        raise ConnectionError("no network")

    monkeypatch.setattr(detectors_module, "_download_ultralytics", offline)
    with pytest.raises(WeightsNotFoundError, match="does not download weights"):
        load_model("yolov8s", "cpu")
    assert calls == []
    monkeypatch.setenv(ALLOW_DOWNLOADS, "1")
    monkeypatch.delenv(SHOW_SERVER_PATHS, raising=False)
    # The library's own text may hold server paths: a visitor sees the failure's kind.
    with pytest.raises(
        WeightsNotFoundError, match=r"download failed \(ConnectionError\)"
    ):
        load_model("yolov8s", "cpu")
    monkeypatch.setenv(SHOW_SERVER_PATHS, "1")
    with pytest.raises(WeightsNotFoundError, match="ConnectionError: no network"):
        load_model("yolov8s", "cpu")
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("on_disk", "downloadable", "allowed", "expected"),
    [
        (True, True, False, Availability.INSTALLED),
        (False, False, True, Availability.MISSING),
        (False, True, True, Availability.DOWNLOADABLE),
        (False, True, False, Availability.NOT_INSTALLED),
    ],
)
def test_availability(monkeypatch, on_disk, downloadable, allowed, expected):
    if allowed:
        monkeypatch.setenv(ALLOW_DOWNLOADS, "true")
    assert availability(on_disk, downloadable) is expected


def test_user_weights_notes_name_the_folder_only_for_the_operator(
    monkeypatch, tmp_path
):
    (tmp_path / "mine.onnx").write_bytes(b"not really onnx")
    monkeypatch.setenv(weights_module.ENV_VAR, str(tmp_path))
    assert get_spec("custom:mine.onnx").note == f"Found in {tmp_path.name}."
    monkeypatch.setenv(SHOW_SERVER_PATHS, "1")
    assert get_spec("custom:mine.onnx").note == f"Found in {tmp_path}."


def test_the_command_line_is_the_operator_while_it_runs(monkeypatch):
    from visioncompare.services.cli import operator_defaults

    monkeypatch.delenv(ALLOW_DOWNLOADS, raising=False)
    monkeypatch.setenv(SHOW_SERVER_PATHS, "0")  # the environment says otherwise
    with operator_defaults():
        assert downloads_allowed() and not show_server_paths()
    # A process that ran a command (a test, a notebook) keeps its own settings.
    assert ALLOW_DOWNLOADS not in os.environ and not downloads_allowed()
    assert os.environ[SHOW_SERVER_PATHS] == "0"
