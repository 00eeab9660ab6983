"""AppTest: every section of the Learn page with the offline models."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.shared import cache
from tests.conftest import REPO

SECTIONS = [
    "1 · Task and output",
    "2 · Goal: the main subject vs every object",
    "3 · Single-label vs multi-label",
    "4 · Training labels",
    "5 · Evaluation metrics",
    "6 · Complexity and speed",
    "7 · Architectures: what the heads output",
    "8 · Where each model looks",
    "9 · Detect, then classify",
    "10 · Non-maximum suppression, step by step",
    "11 · Which breaks first: the label or the boxes?",
]


@pytest.fixture
def learn() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception
    return at


def _titles(at: AppTest) -> str:
    """The titles of every Plotly chart on the page."""
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec)["layout"].get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return " | ".join(titles)


def _text(at: AppTest) -> str:
    return " ".join(md.value for md in at.markdown)


def test_every_section_renders_from_the_real_models(learn):
    at = learn
    assert [h.value for h in at.header] == SECTIONS
    text = _text(at)
    assert "returns 1,000 probabilities" in text
    assert "The single label leaves out" in text and "person" in text  # bus.jpg
    assert "8,400 points × 84 numbers" in text
    assert "crops are of classes ImageNet cannot name" in text  # the people
    assert len(at.image) >= 2 + 2 + 2 + 1  # task, training labels, saliency, crops
    titles = _titles(at)
    for needle in (
        "IoU = overlap / union",
        "AP =",
        "parameters (M)",
        "latency here (ms)",
    ):
        assert needle in titles, needle
    architecture = next(
        c.proto.spec for c in at.get("plotly_chart") if "8,400 points" in c.proto.spec
    )
    assert "1000 class scores" in architecture
    table = next(
        df.value for df in at.dataframe if "latency here (ms)" in df.value.columns
    )
    assert (table["latency here (ms)"] > 0).all() and table["parameters (M)"].between(
        1, 100
    ).all()
    captions = " ".join(c for image in at.image for c in image.captions)
    assert "CAM for “police van”" in captions and "Classification label:" in captions


def test_interactive_parts_move_without_loading_models(learn):
    at = learn
    loads = dict(cache.LOAD_COUNTS)
    at.slider(key="learn_multilabel").set_value(0.4).run()
    assert "minibus" not in _text(at).split("Multi-label")[1].split("The detector's")[0]
    at.slider(key="learn_B_x").set_value(90).run()
    at.slider(key="learn_B_y").set_value(90).run()
    assert "IoU = overlap / union = 0.000" in _titles(at)
    at.slider(key="learn_ap_k").set_value(1).run()
    assert "After 1 of" in _titles(at)
    assert not at.exception
    assert dict(cache.LOAD_COUNTS) == loads


def test_a_single_subject_image_agrees(learn):
    at = learn
    at.multiselect(key="learn_samples").set_value(["chelsea.png"]).run()
    assert not at.exception
    text = _text(at)
    assert "a kind of **cat**" in text and "Here the two agree" in text
    assert "agrees with the detector on **1 of 1**" in text
    (crops,) = [df.value for df in at.dataframe if "in top-3" in df.value.columns]
    assert crops["agree (top-1)"].tolist() == ["yes"] and crops[
        "in top-3"
    ].tolist() == ["yes"]


def test_a_bad_upload_gets_a_message(learn):
    at = learn
    at.radio(key="learn_source").set_value("Upload").run()
    at.file_uploader(key="learn_upload").set_value(
        ("x.png", b"not an image", "image/png")
    ).run()
    assert not at.exception
    assert any("x.png is not an image" in e.value for e in at.error)


def _nms_counts(at: AppTest) -> tuple[int, int]:
    import re

    for md in at.markdown:
        found = re.search(r"\*\*(\d+) kept, (\d+) suppressed\*\*", md.value)
        if found:
            return int(found.group(1)), int(found.group(2))
    raise AssertionError("no NMS summary on the page")


def test_nms_step_by_step_on_the_real_detector(learn):
    kept, suppressed = _nms_counts(learn)
    assert kept >= 4 and suppressed > 0  # bus.jpg: a bus and people, many candidates
    shown = next(
        md.value
        for md in learn.markdown
        if "non-maximum suppression merged" in md.value
    )
    assert f"into **{kept} boxes**" in shown  # the replay keeps what the model kept
    learn.slider(key="learn_nms_iou").set_value(0.95).run()
    assert not learn.exception
    kept_loose, suppressed_loose = _nms_counts(learn)
    assert kept_loose > kept and suppressed_loose < suppressed
    assert kept_loose + suppressed_loose == kept + suppressed  # the same candidates
    learn.slider(key="learn_nms_step").set_value(2).run()
    assert not learn.exception
    captions = [img.caption for i in learn.image for img in i.proto.imgs]
    assert any(c.startswith("Step 2: kept") for c in captions), captions
    steps = next(df.value for df in learn.dataframe if "suppressed" in df.value.columns)
    assert len(steps) == kept_loose and steps["suppressed"].sum() == suppressed_loose


def test_two_stage_vs_one_stage_on_the_picked_image(learn):
    at = learn
    assert "Two stages vs one: proposals, default boxes, grid points" in [
        s.value for s in at.subheader
    ]
    text = _text(at)
    assert "region proposal network scored" in text and "default boxes**" in text
    # No Faster R-CNN or SSD weights are bundled: the page says the model is untrained.
    assert any("random weights" in w.value for w in at.warning)
    captions = [img.caption for i in at.image for img in i.proto.imgs]
    assert "Stage 1: the top 20 region proposals" in captions
    assert any(c.startswith("Stage 2: the final boxes") for c in captions)
    at.slider(key="learn_top_n").set_value(5).run()
    at.slider(key="learn_ssd_level").set_value(6).run()
    assert not at.exception
    captions = [img.caption for i in at.image for img in i.proto.imgs]
    assert "Stage 1: the top 5 region proposals" in captions
    assert any("feature map 6 (1×1 cells)" in c for c in captions), captions
