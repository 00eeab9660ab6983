"""AppTest: the error-analysis tabs of the Evaluate page (TIDE error types, per-image
scores, PR by size, best threshold) on the bundled VOC subset with the offline models."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.helpers import evaluate_twin_detectors, open_view


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> AppTest:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISIONCOMPARE_RUNS", str(tmp_path_factory.mktemp("runs")))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
        at.switch_page("pages/evaluate.py").run()
        at.selectbox(key="evaluate_dataset").set_value("voc2012-sample100").run()
        at.button(key="evaluate_run").click().run()
        assert not at.exception
        yield at


def _frame_with(at: AppTest, *columns: str):
    (frame,) = [
        df.value for df in at.dataframe if set(columns) <= set(df.value.columns)
    ]
    return frame.data if hasattr(frame, "data") else frame  # a Styler: its frame


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_error_types_table_chart_and_browser(evaluated):
    at = open_view(evaluated, "Errors", "Error types")
    assert not at.exception and not at.error
    table = _frame_with(at, "dAP50")
    assert table["error type"].tolist() == [
        "classification", "localisation", "both", "duplicate", "background", "missed",
    ]  # fmt: skip
    assert table["count"].sum() > 0 and (table["dAP50"] >= 0).all()
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("TIDE error types" in t for t in titles)
    # a type with errors above the confidence: its images are listed and one is drawn
    with_errors = table.loc[table["images"] > 0, "error type"].tolist()
    assert "missed" in with_errors  # missed objects always count
    at.radio(key="evaluate_tide_type").set_value("missed").run()
    assert not at.exception
    assert "Error browser: missed errors" in _markdown(at)
    listed = _frame_with(at, "errors")
    image = at.selectbox(key="evaluate_tide_image")
    assert image.value == int(at.session_state["evaluate_tide_first"])
    assert len(listed) >= 1 and listed["errors"].is_monotonic_decreasing
    assert any("Thick magenta" in c.value for c in at.caption)


def test_error_types_under_tidecvs_rules_are_picked_and_labelled(evaluated):
    from visioncompare.evaluation.metrics.error_types import RULES

    at = evaluated
    rules = at.radio(key="evaluate_tide_rules")
    assert rules.value == "coco" and list(rules.options) == [RULES[r] for r in RULES]
    coco = _frame_with(at, "dAP50")
    assert any(c.value.startswith(RULES["coco"]) for c in at.caption)
    rules.set_value("tidecv").run()
    assert not at.exception and not at.error
    tide = _frame_with(at, "dAP50")
    assert tide["error type"].tolist() == coco["error type"].tolist()
    assert (tide["dAP50"] >= 0).all() and tide["count"].sum() > 0
    assert any(
        c.value.startswith(RULES["tidecv"]) and "tidecv's AP50" in c.value
        for c in at.caption
    )
    rules.set_value("coco").run()  # back to the page's rules for the tests below
    assert not at.exception


def test_per_image_worst_first_with_filters_and_not_map(evaluated):
    at = open_view(evaluated, "Per image")
    at.radio(key="evaluate_pi_metric").set_value("AP").run()
    frame = _frame_with(at, "objects", "AP")
    assert frame["AP"].is_monotonic_increasing and len(frame) > 50
    assert any("is not mAP" in c.value for c in at.caption)
    at.selectbox(key="evaluate_pi_class").set_value("person").run()
    person = _frame_with(at, "objects", "AP")
    assert 0 < len(person) < len(frame)
    at.selectbox(key="evaluate_pi_area").set_value("small").run()
    assert not at.exception
    at.radio(key="evaluate_pi_metric").set_value("F1").run()
    f1 = _frame_with(at, "objects", "AP")
    assert f1["F1"].is_monotonic_increasing
    assert any("Per-image F1" in c.proto.spec for c in at.get("plotly_chart"))


def test_size_curves_and_best_threshold_moves_the_explorer(evaluated):
    at = open_view(evaluated, "Summary", "By size")
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Precision-recall by object size" in t for t in titles)
    open_view(at, "Summary", "Best threshold")
    (button,) = [b for b in at.button if b.key == "evaluate_best_move"]
    target = float(button.label.rsplit(" ", 1)[-1])
    button.click().run()
    assert not at.exception
    assert at.slider(key="evaluate_conf").value == pytest.approx(target)
    assert not [w for w in at.warning if "Session State" in w.value]
    assert "Best F1 for all classes" in _markdown(at)


def test_classifier_versus_detector_image_by_image(evaluated):
    at = open_view(evaluated, "Side by side", "Classification vs detection")
    radio = at.radio(key="evaluate_tagimg_case")
    counts = [int(o.rsplit("(", 1)[1].split()[0]) for o in radio.options]
    # the person class cannot be named by ImageNet; the detector finds plenty of others
    # the classifier's top-5 does not name
    assert len(counts) == 2 and counts[1] > 0
    radio.set_value(
        "the detector finds a class the classifier does not name"
    ).run()
    assert not at.exception
    listed = _frame_with(at, "classifier's top classes", "detector score")
    assert (listed["detector score"] >= 0.25).all() and "person" not in set(listed["class"])
    assert any("Classifier's top here" in c.value for c in at.caption)


def test_two_detectors_image_by_image(tmp_path, monkeypatch):
    """The bundled detector under a second name (same weights) on the COCO subset: the
    two agree everywhere, so only "both miss" lists images, and it shows both models."""
    at = evaluate_twin_detectors(tmp_path, monkeypatch)
    assert not at.exception and not at.error
    open_view(at, "Side by side", "Two detectors")
    radio = at.radio(key="evaluate_two_category")
    labels = dict(zip(radio.options, radio.options))
    assert any(o.startswith("B finds what A missed (0 images)") for o in labels)
    assert any(o.startswith("B adds false positives A did not have (0 images)")
               for o in labels)  # fmt: skip
    both = next(o for o in labels if o.startswith("both miss"))
    assert int(both.split("(")[1].split()[0]) > 0
    radio.set_value("both miss").run()
    assert not at.exception
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert "A: YOLOv8n (INT8, OpenVINO)" in captions  # titles, never ids
    assert "B: twin_openvino_model (your weights)" in captions
