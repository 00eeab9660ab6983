"""AppTest: the Evaluate page end to end on the bundled VOC subset with the offline models."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.shared import cache
from components.shared.controls import SERVER_FOLDER
from tests.conftest import REPO
from tests.helpers import evaluate_twin_detectors, open_view
from visioncompare.datasets.roots import REFUSED


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> AppTest:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISIONCOMPARE_RUNS", str(tmp_path_factory.mktemp("runs")))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
        at.switch_page("pages/evaluate.py").run()
        at.selectbox(key="evaluate_dataset").set_value("voc2012-sample100").run()
        assert not at.exception
        at.button(key="evaluate_run").click().run()
        yield at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_evaluation_shows_cards_table_and_charts(evaluated):
    at = evaluated
    assert not at.exception and not at.error
    cards = _metrics(at)
    for label in (
        "mAP50-95",
        "mAP50",
        "mAP75",
        "AR100",
        "VOC AP (11-pt)",
        "VOC AP (all-pt)",
    ):
        assert 0.0 < float(cards[label]) <= 1.0, label
    assert cards["Images / boxes"] == "100 / 273"
    assert cards["Device, time/image"].startswith("cpu")
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    # Only the open view runs: gather the charts of the three views that hold them.
    for group, view in (("Summary", "IoU"), ("Errors", "Confusion matrix")):
        titles += [c.proto.spec for c in open_view(at, group, view).get("plotly_chart")]
    open_view(at, "Summary", "Per class")
    titles += [c.proto.spec for c in at.get("plotly_chart")]
    for needle in (
        "Precision-recall",
        "F1, precision and recall",
        "IoU of the",
        "Confusion matrix",
    ):
        assert any(needle in t for t in titles), needle
    assert any("per class" in t for t in titles)
    (per_class,) = [df.value for df in at.dataframe if "VOC AP 11-pt" in df.value.columns]
    assert list(per_class.columns) == [
        "class", "objects", "AP50", "AP50-95", "VOC AP 11-pt", "VOC AP all-pt"
    ]  # fmt: skip
    assert len(per_class) == 20 and per_class["AP50-95"].is_monotonic_decreasing
    assert any("aeroplane → airplane" in c.value for c in at.caption)


def test_sliders_change_counts_without_loading_a_model(evaluated):
    at = evaluated
    before = _metrics(at)
    loads = dict(cache.LOAD_COUNTS)
    at.slider(key="evaluate_conf").set_value(0.6).run()
    after = _metrics(at)
    assert not at.exception
    assert int(after["FP"]) < int(before["FP"]) and int(after["TP"]) < int(before["TP"])
    at.slider(key="evaluate_iou").set_value(0.75).run()
    stricter = _metrics(at)
    assert int(stricter["TP"]) < int(after["TP"])
    open_view(at, "Errors", "Confusion matrix")
    assert any("conf 0.60, IoU 0.75" in c.proto.spec for c in at.get("plotly_chart"))
    assert dict(cache.LOAD_COUNTS) == loads


def test_classifier_comparison_and_mAP_recipes(evaluated):
    at = open_view(evaluated, "Side by side", "Classification vs detection")
    text = " ".join(md.value for md in at.markdown)
    assert "Image-level mAP: classifier" in text
    captions = " ".join(c.value for c in at.caption)
    assert "Cannot be named by ImageNet at all: person" in captions
    open_view(at, "Why numbers differ")
    # A static table: the one-sentence causes wrap instead of being cut.
    recipes = [t.value for t in at.table if "recipe" in t.value.columns]
    assert recipes and len(recipes[0]) == 8 and "cause" in recipes[0].columns
    assert "Ultralytics mAP50-95" in recipes[0]["recipe"].tolist()
    assert "tools" in recipes[0].columns
    assert len(open_view(at, "Downloads").get("download_button")) == 3


def test_error_browser_and_confusion_cell_list_images(evaluated):
    at = open_view(evaluated, "Errors", "Error browser")
    at.radio(key="evaluate_err_sort").set_value("misses").run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "worst IoU" in df.value.columns)
    assert table["FN"].is_monotonic_decreasing
    assert len(at.image) >= 1
    open_view(at, "Errors", "Confusion matrix")
    assert at.selectbox(key="evaluate_cm_cell").value is not None


def test_second_visit_reads_stored_predictions(evaluated):
    """A new session on the same store shows the results at once, with no model run."""
    loads = dict(cache.LOAD_COUNTS)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value("voc2012-sample100").run()
    assert not at.exception
    assert at.button(key="evaluate_run").label == "Evaluate (stored: instant)"
    assert _metrics(at)["mAP50"] == _metrics(evaluated)["mAP50"]  # without a click
    assert dict(cache.LOAD_COUNTS) == loads


def test_malformed_dataset_folder_gives_a_message(tmp_path, monkeypatch):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "a.xml").write_text("<annotation><size>")
    monkeypatch.setenv("VISIONCOMPARE_DATA_ROOTS", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value(SERVER_FOLDER).run()
    at.text_input(key="evaluate_folder").input(".").run()  # the root itself
    assert not at.exception
    assert any("malformed XML at line 1" in e.value for e in at.error)
    assert not any(str(tmp_path) in e.value for e in at.error)  # relative to the root
    at.text_input(key="evaluate_folder").input("missing").run()
    assert any("no such file or folder" in e.value for e in at.error)
    at.text_input(key="evaluate_folder").input("/no/such/folder").run()
    assert [e.value for e in at.error] == [f"This path cannot be opened: {REFUSED}."]


def test_two_detectors_side_by_side(tmp_path, monkeypatch):
    """A second detector (the bundled weights under another name, from a weights folder)
    on the COCO subset: metrics side by side and a per-class AP difference chart."""
    at = evaluate_twin_detectors(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    open_view(at, "Side by side", "Two detectors")
    # Titles for people, never ids (a custom weights file has its own title).
    a, b = "YOLOv8n (INT8, OpenVINO)", "twin_openvino_model (your weights)"
    side = next(df.value for df in at.dataframe if b in df.value.columns)
    assert side[a].equals(side[b])  # same weights
    assert any(f"minus {a}" in c.proto.spec for c in at.get("plotly_chart"))


def test_the_stop_button_is_gone_once_the_run_has_finished(evaluated):
    at = evaluated
    assert [b.key for b in at.button if b.key == "evaluate_stop"] == []
    assert not any("Stopped" in i.value for i in at.info)


def test_the_report_files_are_ready_before_the_click_and_no_download_reruns(evaluated):
    buttons = open_view(evaluated, "Downloads").get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Metrics (CSV)", "Per-image results (CSV)", "COCO results (JSON)"
    ]
    metrics, per_image, coco = buttons
    for button in (metrics, coco):  # built once per report: ready at once
        assert button.proto.deferred_file_id == "" and button.proto.url
    # Written on the click (it changes with every threshold); tests/test_e2e_evaluate.py
    # downloads it twice in a row in a browser.
    assert per_image.proto.deferred_file_id and not per_image.proto.url
    assert all(button.proto.ignore_rerun for button in buttons)


def test_detectors_needing_a_download_are_marked_and_warned_before_the_run(monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_ALLOW_DOWNLOADS", "1")  # the operator allows it
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("pages/evaluate.py").run()
    picker = at.multiselect(key="evaluate_detectors")
    assert "YOLOv8s (download)" in picker.proto.options  # titles, never ids
    assert "YOLOv8n (INT8, OpenVINO)" in picker.proto.options  # bundled: no mark
    assert not picker.proto.select_all  # most have no weights here: no "Select all"
    assert not picker.proto.max_selections  # any number: a leaderboard
    assert not at.warning
    picker.set_value(["yolov8n-int8", "yolov8s"]).run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning]
    assert "YOLOv8s (yolov8s.pt)" in warning and "needs the internet" in warning
    assert "yolov8n-int8" not in warning


def test_error_browser_follows_the_new_top_row_and_explains_ignored(evaluated):
    at = open_view(evaluated, "Errors", "Error browser")
    at.radio(key="evaluate_err_sort").set_value("false positives").run()
    picker = at.selectbox(key="evaluate_err_image")
    top = picker.options[0]
    picker.select_index(3).run()
    assert at.selectbox(key="evaluate_err_image").index == 3
    at.slider(key="evaluate_conf").set_value(0.05).run()  # many more false positives
    assert not at.exception
    table = next(df.value for df in at.dataframe if "worst IoU" in df.value.columns)
    picker = at.selectbox(key="evaluate_err_image")
    assert table["image"].iloc[0] != top  # the order changed...
    assert picker.index == 0 and picker.options[0] == table["image"].iloc[0]  # ...followed
    assert any("Ignored (in the table, not drawn)" in c.value for c in at.caption)


def test_class_table_says_how_the_detector_classes_line_up(evaluated):
    """yolov8n (COCO names) on the VOC subset (VOC names renamed to COCO names): 14 classes
    match, 6 are renamed, the other 60 COCO classes are not in the dataset."""
    at = evaluated
    labels = [e.label for e in at.expander if e.label.startswith("Classes:")]
    assert labels == [
        "Classes: 14 matched, 6 renamed, 60 detector classes not in the dataset, "
        "0 never predicted"
    ]
    table = next(df.value for df in at.dataframe if "status" in df.value.columns)
    renamed = table[table["status"].str.startswith("renamed")]
    assert set(renamed["dataset class"]) == {
        "airplane", "dining table", "motorcycle", "potted plant", "couch", "tv",
    }  # fmt: skip


def test_class_table_is_shown_before_any_model_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="evaluate_dataset").set_value("voc2012-sample100").run()
    assert not at.exception
    assert not at.metric  # nothing evaluated yet
    labels = [e.label for e in at.expander if e.label.startswith("Classes:")]
    assert labels == [
        "Classes: 14 matched, 6 renamed, 60 detector classes not in the dataset, "
        "0 never predicted"
    ]


def test_error_browser_pages_its_image_list(evaluated):
    at = open_view(evaluated, "Errors", "Error browser")
    page = at.number_input(key="evaluate_err_page")
    assert page.value == 1 and page.max == 2  # 100 images, 50 a page
    first_page = next(df.value for df in at.dataframe if "worst IoU" in df.value.columns)
    assert len(first_page) == 50
    page.set_value(2).run()
    assert not at.exception
    second = next(df.value for df in at.dataframe if "worst IoU" in df.value.columns)
    assert 0 < len(second) <= 50
    assert not set(second["image"]) & set(first_page["image"])
    picker = at.selectbox(key="evaluate_err_image")
    assert picker.options[0] == second["image"].iloc[0] and picker.index == 0


def _detector_cost(at: AppTest):
    """The leaderboard's second detector table: cost on this machine, by model."""
    return next(
        df.value
        for df in at.dataframe
        if "ms/image in the run" in df.value.columns
        and "tagging mAP (%)" not in df.value.columns
    ).set_index("model")


def test_leaderboard_times_the_models_here_only_when_asked(evaluated):
    """The detector's row holds the report's own AP; the chart uses the time per image
    of the stored run until the visitor asks for latency measured here."""
    at = open_view(evaluated, "Model review", "Leaderboard")
    loads = dict(cache.LOAD_COUNTS)
    board = next(df.value for df in at.dataframe if "AP (%)" in df.value.columns)
    row = board.set_index("model").loc["yolov8n-int8"]
    assert row["AP (%)"] / 100 == pytest.approx(float(_metrics(at)["mAP50-95"]), abs=5e-4)
    cost = _detector_cost(at).loc["yolov8n-int8"]
    assert row["published (%)"] == 37.3 and cost["ms/image in the run"] > 0
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Pareto front" in c and "image in the run" in c for c in charts)
    at.button(key="evaluate_lb_time").click().run()
    assert not at.exception
    timed = _detector_cost(at).loc["yolov8n-int8"]
    assert 0 < timed["latency p50 (ms)"] <= timed["latency p95 (ms)"]
    assert any("Timed on cpu, 30 calls at batch 1" in c.value for c in at.caption)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Pareto front" in c and "latency p50 (ms)" in c for c in charts)
    tagging = next(df.value for df in at.dataframe if "tagging mAP (%)" in df.value.columns)
    assert tagging["model"].tolist() == ["mobilenet_v2_quantized"]
    assert tagging["latency p50 (ms)"].iloc[0] > 0
    assert dict(cache.LOAD_COUNTS) == loads  # the page's cached models were timed
