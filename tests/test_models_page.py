"""AppTest: the Models page: published figures next to the latency measured here and the
AP the Evaluate page measured; server paths and downloads only as the operator allows."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from model_zoo.operator_settings import ALLOW_DOWNLOADS, SHOW_SERVER_PATHS
from model_zoo.weights import PROJECT_WEIGHTS_DIR
from tests.conftest import REPO

TIMEOUT = 300


@pytest.fixture(autouse=True)
def visitor_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv(SHOW_SERVER_PATHS, raising=False)
    monkeypatch.delenv(ALLOW_DOWNLOADS, raising=False)
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))


def _models_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/models.py").run()
    assert not at.exception
    return at


def _page_text(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "code")
        for e in at.get(kind)
    ]
    return " ".join(str(p) for p in parts)


def test_visitors_see_no_server_path_and_not_installed_models():
    at = _models_page()
    table = at.dataframe[0].value.set_index("model")  # titles, never ids
    assert table.loc["YOLOv8s", "on this machine"] == "not installed"
    assert table.loc["YOLOv8n (INT8, OpenVINO)", "on this machine"] == "yes"
    text = _page_text(at)
    assert str(PROJECT_WEIGHTS_DIR) not in text and str(REPO) not in text
    assert "ask its operator" in text
    assert not at.code  # the weights folders are the operator's business
    picker = at.selectbox(key="app_detector")
    assert any(o.endswith("(not installed)") for o in picker.options), picker.options


def test_the_operator_sees_the_folders_and_downloadable_models(monkeypatch):
    monkeypatch.setenv(SHOW_SERVER_PATHS, "1")
    monkeypatch.setenv(ALLOW_DOWNLOADS, "1")
    at = _models_page()
    assert str(PROJECT_WEIGHTS_DIR) in at.code[0].value
    table = at.dataframe[0].value.set_index("model")
    assert table.loc["YOLOv8s", "on this machine"] == "downloads when online"


def test_latency_is_measured_on_demand_next_to_the_published_figures():
    at = _models_page()
    table = at.dataframe[0].value.set_index("model")
    assert table["latency here (ms)"].isna().all()  # nothing timed before the click
    # The measured latency sits next to the published figure.
    columns = list(table.columns)
    assert columns.index("latency here (ms)") == columns.index("published (%)") + 1
    at.multiselect(key="models_time_pick").set_value(["mobilenet_v2_quantized"]).run()
    at.button(key="models_time").click().run()
    assert not at.exception
    title = "MobileNetV2 (INT8, quantized)"
    table = at.dataframe[0].value.set_index("model")
    assert table.loc[title, "latency here (ms)"] > 0
    assert table.loc[title, "timed on"] == "cpu"
    assert table.loc[title, "published (%)"] > 0
    assert table.drop(title)["latency here (ms)"].isna().all()


def test_the_ap_the_evaluate_page_measured_is_shown_per_subset(tmp_path):
    from visioncompare.services.evaluation_run import (
        default_store,
        open_dataset,
        run_evaluation,
    )

    at = _models_page()
    assert any("No evaluation is stored yet" in i.value for i in at.info)
    dataset = open_dataset("coco-val2017-first32")
    report = run_evaluation(
        dataset, detector="yolov8n-int8", store=default_store(tmp_path / "runs")
    )
    at = _models_page()
    (measured,) = [df.value for df in at.dataframe if "mAP50 here (%)" in df.value]
    row = measured.set_index(["subset", "model"]).loc[
        ("COCO val2017, first 32 images", "YOLOv8n (INT8, OpenVINO)")
    ]
    assert row["mAP50-95 here (%)"] == pytest.approx(100 * report.coco.stats["AP"])
    assert row["mAP50 here (%)"] == pytest.approx(100 * report.coco.stats["AP50"])
    assert row["images"] == len(dataset)
    assert len(measured) == 1  # nothing else was evaluated
