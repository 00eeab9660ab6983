"""AppTest: the robustness lab as a user drives it: the Compare page's corruption control
and the Evaluate page's Robustness tab (offline models, real images)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from components.shared import cache
from components.shared.controls import SERVER_FOLDER
from tests.conftest import REPO
from tests.helpers import CORRUPTIONS_INSTALL, open_view, optional_module, tiny_coco

optional_module("imagecorruptions", CORRUPTIONS_INSTALL)
TIMEOUT = 300


@pytest.fixture(scope="module")
def compare() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    at.selectbox(key="compare_corruption").set_value("fog").run()
    return at


def _texts(at: AppTest) -> list[str]:
    return [md.value for md in at.markdown]


def test_a_corruption_shows_the_corrupted_image_and_what_changed(compare):
    at = compare
    assert not at.exception and not at.error
    assert at.slider(key="compare_severity").value == 3
    texts = _texts(at)
    assert any(
        t.startswith(("**Classifier**: Top-1 kept", "**Classifier**: Top-1 flipped"))
        for t in texts
    ), texts
    assert any(t.startswith("**Detector**: Against the clean image: **") for t in texts)
    assert len(at.image) == 1  # the boxes, drawn on the corrupted picture
    captions = [c.value for c in at.caption]
    assert any("corrupted by **Fog, severity 3** (" in c for c in captions), captions


def test_a_severity_change_runs_each_model_once_and_is_cached(compare):
    at = compare
    classifier = at.selectbox(key="app_classifier").value
    detector = at.selectbox(key="app_detector").value
    runs = dict(cache.RUN_COUNTS)
    at.slider(key="compare_severity").set_value(5).run()
    assert not at.exception
    assert cache.RUN_COUNTS[classifier] == runs[classifier] + 1
    assert cache.RUN_COUNTS[detector] == runs[detector] + 1
    at.slider(key="compare_severity").set_value(3).run()  # seen before: cached
    at.selectbox(key="compare_corruption").set_value("none").run()  # the clean image
    assert cache.RUN_COUNTS[classifier] == runs[classifier] + 1
    assert cache.RUN_COUNTS[detector] == runs[detector] + 1
    assert not any("Against the clean image" in t for t in _texts(at))
    assert len(at.image) == 1


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, "PNG")
    return buffer.getvalue()


def test_odd_uploads_give_a_result_or_a_message(compare):
    at = compare
    at.selectbox(key="compare_corruption").set_value("contrast").run()
    at.radio(key="compare_source").set_value("Upload").run()
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (48, 1))
    at.file_uploader(key="compare_upload").set_value(
        [
            ("dot.png", _png(np.zeros((1, 1, 3), np.uint8)), "image/png"),
            ("deep.png", _png(grey.astype(np.uint16) * 257), "image/png"),
            ("grey.png", _png(grey), "image/png"),
            ("huge.png", _png(np.full((4000, 5000), 90, np.uint8)), "image/png"),
        ]
    ).run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("dot.png: a 1×1 image is too small" in w for w in warnings), warnings
    texts = _texts(at)
    assert sum("Against the clean image" in t for t in texts) == 3, texts
    at.radio(key="compare_source").set_value("Samples").run()


def _evaluate_page(root: Path) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value(SERVER_FOLDER).run()
    at.text_input(key="evaluate_folder").set_value("tiny").run()
    return at


def _pick_cells(at: AppTest) -> None:
    open_view(at, "Robustness")
    at.multiselect(key="evaluate_rob_corruptions").set_value(["contrast"]).run()
    at.multiselect(key="evaluate_rob_severities").set_value([1, 5]).run()


def test_evaluate_robustness_tab_runs_the_grid_and_reads_it_back(tmp_path, monkeypatch):
    tiny_coco(tmp_path / "tiny")
    monkeypatch.setenv("VISIONCOMPARE_DATA_ROOTS", str(tmp_path))
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    at = _evaluate_page(tmp_path)
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error
    _pick_cells(at)
    assert at.button(key="evaluate_rob_run").label == "Run the robustness grid"
    at.button(key="evaluate_rob_run").click().run()
    assert not at.exception and not at.error
    metrics = {m.label: m for m in at.metric}
    mpc = metrics["yolov8n-int8: mPC (AP50-95)"]
    assert 0.0 <= float(mpc.value) <= 1.0 and mpc.delta.startswith("rPC ")
    assert "mobilenet_v2_quantized: mPC (tagging mAP)" in metrics
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "AP50-95 against severity" in titles and "loses per corruption" in titles
    (ranking,) = [df.value for df in at.dataframe if "loss" in df.value.columns]
    assert set(ranking["corruption"]) == {"Contrast"} and len(ranking) == 2
    # A new session on the same store: read back, no model loaded.
    loads = dict(cache.LOAD_COUNTS)
    again = _evaluate_page(tmp_path)
    _pick_cells(again)
    assert again.button(key="evaluate_rob_run").label == "Show (stored: instant)"
    assert not again.exception
    again_metrics = {m.label: m.value for m in again.metric}
    assert again_metrics["yolov8n-int8: mPC (AP50-95)"] == mpc.value
    assert dict(cache.LOAD_COUNTS) == loads


def test_learn_shows_which_breaks_first_on_the_picked_image(compare):
    at = compare
    at.switch_page("pages/learn.py").run()
    assert not at.exception
    at.selectbox(key="learn_rob_corruption").set_value("defocus_blur").run()
    images = len(at.image)
    at.toggle(key="learn_rob_run").set_value(True).run()
    assert not at.exception and not at.error
    text = " ".join(_texts(at))
    assert "under defocus blur, the label (" in text
    assert any(
        verdict in text
        for verdict in (
            "label broke first",
            "boxes broke first",
            "Both broke",
            "Neither",
        )
    )
    assert "A classifier looks at the whole image" in text
    assert len(at.image) == images + 5
    (steps,) = [df.value for df in at.dataframe if "boxes kept" in df.value.columns]
    assert steps["severity"].tolist() == [1, 2, 3, 4, 5]
