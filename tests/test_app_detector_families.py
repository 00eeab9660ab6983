"""AppTest: Compare and Learn run with detectors of every kind, built with random weights
(no file, no download): a torchvision two-stage detector and Ultralytics models from YAML.
The pages see them only through the model protocol."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.shared import cache
from model_zoo import get_spec, load_model
from tests.conftest import REPO

TIMEOUT = 300
RANDOM = (
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "ssdlite320_mobilenet_v3_large",
    "yolo11n",
    "yolo26n",
)


@pytest.fixture
def random_weights(monkeypatch):
    """The server-wide model cache loads these detectors with random weights; their
    cache entries (models and predictions) are dropped afterwards."""
    real = cache.load_model

    def load(name, device, **kwargs):
        if name in RANDOM:
            return load_model(name, device, random_weights=True)
        return real(name, device, **kwargs)

    monkeypatch.setattr(cache, "load_model", load)
    yield
    for name in RANDOM:
        cache.get_model.clear(name, "cpu")
    cache.detect_cached.clear()


def _compare_with(detector: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    picker = at.selectbox(key="app_detector")
    assert picker.label == "Detector"  # one picker for every family
    picker.set_value(detector).run()
    return at


@pytest.mark.parametrize("detector", RANDOM)
def test_compare_runs_a_random_weight_detector_of_each_family(random_weights, detector):
    at = _compare_with(detector)
    assert not at.exception and not at.error
    spec = get_spec(detector)
    headings = [md.value for md in at.markdown]
    assert sum(h.startswith("#### Detection") for h in headings) == 1
    assert any(spec.title in h for h in headings), headings
    assert len(at.image) == 1  # the annotated image
    assert cache.LOAD_COUNTS[(detector, "cpu")] >= 1
    # Class filter offers the COCO names, whatever the family's own label list is.
    options = at.multiselect(key="compare_classes").options
    assert len(options) == 80 and options[0] == "person" and "toothbrush" in options
    assert at.slider(key="compare_iou").proto.disabled is spec.nms_free
    at.slider(key="compare_conf").set_value(0.01).run()
    assert not at.exception and not at.error


@pytest.mark.parametrize(
    "detector", ["fasterrcnn_mobilenet_v3_large_320_fpn", "yolo26n"]
)
def test_learn_explains_what_it_cannot_show(random_weights, detector):
    at = _compare_with(detector)
    at.switch_page("pages/learn.py").run()
    assert not at.exception and not at.error
    infos = [i.value for i in at.info]
    assert any("no dense one-row-per-grid-point head" in i for i in infos), infos
    headers = [h.value for h in at.header]
    assert headers[-2:] == [
        "10 · Non-maximum suppression, step by step",
        "11 · Which breaks first: the label or the boxes?",
    ]
    if get_spec(detector).nms_free:
        assert any("is end-to-end" in i and "no NMS runs" in i for i in infos), infos
    else:  # untrained: no candidate reaches the confidence threshold
        assert any(
            "No candidate box above the confidence threshold" in i for i in infos
        )


def test_models_page_shows_the_published_figures():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/models.py").run()
    assert not at.exception
    frcnn_title, yolo26_title = "Faster R-CNN ResNet-50 FPN v2 (two-stage)", "YOLO26n (NMS-free)"
    table = at.dataframe[0].value.set_index("model")
    assert table.loc[frcnn_title, "published (%)"] == pytest.approx(46.7)
    assert table.loc[yolo26_title, "GFLOPs"] == pytest.approx(5.4)
    assert table.loc[yolo26_title, "on this machine"] == "not installed"  # no downloads
    cards = at.table[0].value  # each model's card, in the expander
    frcnn = cards.loc[frcnn_title]
    assert frcnn["published figure"].startswith("COCO box AP: ")
    assert "torchvision" in frcnn["published figure"]
    assert frcnn["library"] == "torchvision"
    yolo26 = cards.loc[yolo26_title]
    assert yolo26["library"].endswith("(NMS-free)")
    assert "Ultralytics" in yolo26["published figure"]
    assert cards.loc["ResNet-50", "published figure"].startswith("ImageNet top-1")
