"""AppTest: the Compare page as a user drives it (offline models, real images)."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from components.shared import cache
from tests.conftest import REPO

TIMEOUT = 180


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    return at.run()


def _box_count(at: AppTest) -> int:
    for md in at.markdown:
        match = re.match(r"\*\*(\d+) objects?\*\*", md.value)
        if match:
            return int(match.group(1))
    return 0


def _has_both_panels(at: AppTest, n_images: int = 1) -> bool:
    headings = [md.value for md in at.markdown]
    return (
        sum(h.startswith("#### Classification") for h in headings) == n_images
        and sum(h.startswith("#### Detection") for h in headings) == n_images
        and len(at.get("plotly_chart")) == n_images
        and len(at.image) == n_images
    )


def test_first_load_shows_both_panels_for_a_sample(app):
    assert not app.exception
    assert app.radio(key="compare_source").value == "Samples"
    assert app.multiselect(key="compare_samples").value == ["bus.jpg"]
    assert _has_both_panels(app)
    assert any(md.value.startswith("Top-1: **") for md in app.markdown)
    assert _box_count(app) >= 4  # a bus and people
    assert len(app.dataframe) == 1 and "bus" in app.dataframe[0].value["class"].tolist()
    assert any("inference" in c.value and "on `cpu`" in c.value for c in app.caption)


def test_upload_of_a_real_jpeg_shows_both_panels(app, bus_jpg):
    app.radio(key="compare_source").set_value("Upload").run()
    assert not app.exception
    app.file_uploader(key="compare_upload").set_value(
        ("street.jpg", bus_jpg.read_bytes(), "image/jpeg")
    ).run()
    assert not app.exception
    assert any(h.value == "street.jpg" for h in app.subheader)
    assert _has_both_panels(app)


def test_a_corrupt_upload_gets_a_message_and_the_others_still_show(app, bus_jpg):
    app.radio(key="compare_source").set_value("Upload").run()
    data = bus_jpg.read_bytes()
    app.file_uploader(key="compare_upload").set_value(
        [
            ("broken.jpg", data[: len(data) // 3], "image/jpeg"),
            ("empty.png", b"", "image/png"),
            ("fake.jpg", b"<html>not an image</html>", "image/jpeg"),
            ("good.jpg", data, "image/jpeg"),
        ]
    ).run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert any("broken.jpg is truncated" in e for e in errors), errors
    assert any("empty.png is empty" in e for e in errors), errors
    assert any("fake.jpg is not an image" in e for e in errors), errors
    assert _has_both_panels(app, n_images=1)


def test_confidence_slider_changes_boxes_without_loading_a_model(app):
    before = _box_count(app)
    loads = dict(cache.LOAD_COUNTS)
    assert sum(loads.values()) >= 2  # the classifier and the detector were loaded
    app.slider(key="compare_conf").set_value(0.05).run()
    assert not app.exception
    more = _box_count(app)
    app.slider(key="compare_conf").set_value(0.85).run()
    fewer = _box_count(app)
    assert more > before > fewer
    app.slider(key="compare_iou").set_value(0.5).run()  # NMS re-runs, the model stays
    app.slider(key="compare_topk").set_value(3).run()
    assert not app.exception
    assert len(app.get("plotly_chart")[0].proto.spec) > 0
    assert dict(cache.LOAD_COUNTS) == loads


def test_class_filter_keeps_only_the_chosen_classes(app):
    app.multiselect(key="compare_classes").set_value(["bus"]).run()
    assert not app.exception
    assert app.dataframe[0].value["class"].unique().tolist() == ["bus"]


def test_several_samples_are_shown_one_after_another(app):
    app.multiselect(key="compare_samples").set_value(["bus.jpg", "chelsea.png"]).run()
    assert not app.exception
    assert [h.value for h in app.main.subheader] == ["bus.jpg", "chelsea.png"]
    assert _has_both_panels(app, n_images=2)


def test_a_missing_model_gets_a_message_not_a_traceback(app, monkeypatch):
    from model_zoo.adapters import ultralytics_detectors as detectors

    def offline(target):
        raise ConnectionError("no network")

    monkeypatch.setattr(detectors, "_download_ultralytics", offline)
    app.selectbox(key="app_detector").set_value("yolov8x").run()
    assert not app.exception
    assert any("yolov8x.pt" in e.value and "model_zoo" in e.value for e in app.error)


def test_a_detector_without_weights_leaves_the_classifier_panel(app):
    app.selectbox(key="app_detector").set_value("rtdetr-l").run()  # no weights here
    assert not app.exception
    headings = [md.value for md in app.markdown]
    assert any(h.startswith("#### Classification") for h in headings)
    assert any(md.value.startswith("Top-1: **") for md in app.markdown)
    assert not any(h.startswith("#### Detection") for h in headings)
    (error,) = [e.value for e in app.error]
    assert "RT-DETR-L" in error and "'rtdetr-l.pt'" in error
    assert "Detectors that work on this machine: YOLOv8n (INT8, OpenVINO)." in headings
    (switch,) = [b for b in app.button if b.key == "compare-0-use-yolov8n-int8"]
    switch.click().run()
    assert not app.exception and not app.error
    assert app.selectbox(key="app_detector").value == "yolov8n-int8"
    assert _has_both_panels(app)


def test_models_page_lists_the_zoo(app):
    app.switch_page("pages/models.py").run()
    assert not app.exception
    table = app.dataframe[0].value  # titles for people, never ids
    titles = {"MobileNetV2 (INT8, quantized)", "YOLOv8n (INT8, OpenVINO)", "ResNet-50"}
    assert titles <= set(table["model"])
    assert table.set_index("model").loc["YOLOv8n (INT8, OpenVINO)", "on this machine"] == "yes"


def test_a_camera_snapshot_shows_both_panels(app, bus_jpg):
    app.radio(key="compare_source").set_value("Camera").run()
    assert not app.exception
    app.camera_input(key="compare_camera").set_value(
        ("camera.jpg", bus_jpg.read_bytes(), "image/jpeg")
    ).run()
    assert not app.exception
    assert [h.value for h in app.main.subheader] == ["camera.jpg"]
    assert _has_both_panels(app)


def test_an_animated_gif_upload_shows_its_first_frame(app):
    import io

    from PIL import Image

    frames = [Image.new("RGB", (64, 48), c) for c in ((200, 30, 30), (30, 30, 200))]
    frames += [Image.new("RGB", (64, 48), (30, 200, 30))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=80)
    app.radio(key="compare_source").set_value("Upload").run()
    uploader = app.file_uploader(key="compare_upload")
    assert ".gif" in uploader.proto.type
    uploader.set_value(("loop.gif", buffer.getvalue(), "image/gif")).run()
    assert not app.exception and not app.error
    assert any("GIF" in c.value and "first frame of 3" in c.value for c in app.caption)
    assert _has_both_panels(app)


def test_a_new_nms_iou_reruns_only_the_detector():
    cache.classify_cached.clear()
    cache.detect_cached.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    classifier = at.selectbox(key="app_classifier").value
    detector = at.selectbox(key="app_detector").value
    runs = dict(cache.RUN_COUNTS)
    at.slider(key="compare_iou").set_value(0.45).run()
    at.slider(key="compare_iou").set_value(0.55).run()
    assert not at.exception and _has_both_panels(at)
    assert cache.RUN_COUNTS[classifier] == runs[classifier]
    assert cache.RUN_COUNTS[detector] == runs[detector] + 2
    # Each panel's latency is that model's own: the page says what is measured.
    assert any("one after the other" in c.value for c in at.caption)


def test_counts_are_singular_and_the_empty_message_fits_the_filter(app):
    app.multiselect(key="compare_samples").set_value(["chelsea.png"]).run()
    assert not app.exception
    assert _box_count(app) == 1
    assert any(md.value.startswith("**1 object**:") for md in app.markdown)
    app.slider(key="compare_conf").set_value(1.0).run()
    assert [i.value for i in app.info] == ["No objects above the confidence threshold."]
    app.slider(key="compare_conf").set_value(0.25).run()
    app.multiselect(key="compare_classes").set_value(["bus"]).run()
    assert [i.value for i in app.info] == [
        "No objects of the chosen classes above the confidence threshold."
    ]
    assert not app.exception
