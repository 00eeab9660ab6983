"""AppTest: a classifier without weights on this machine, on every page that uses both
models, leaves the detector's part of the page working (Compare's own test is in
tests/test_app_compare.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from components.live import webrtc
from tests.conftest import REPO

MISSING = "efficientnet_b0"  # torchvision downloads it when online; not bundled


@pytest.mark.parametrize(
    "page, detector_part",
    [
        ("live", lambda at: "through the detector only" in _text(at)),
        ("video", lambda at: at.radio(key="video_source").value is not None),
        ("learn", lambda at: "#### Detection · YOLOv8n (INT8, OpenVINO)" in _text(at)),
    ],
)
def test_a_classifier_without_weights_leaves_the_detector(
    page, detector_part, monkeypatch
):
    # The camera widget needs a browser; AppTest has none.
    idle = SimpleNamespace(state=SimpleNamespace(playing=False, signalling=False))
    monkeypatch.setattr(webrtc, "camera_streamer", lambda *args: idle)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180).run()
    at.switch_page(f"pages/{page}.py").run()
    at.selectbox(key="app_classifier").set_value(MISSING).run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "EfficientNet-B0" in error and MISSING in error
    assert "Classifiers that work on this machine: MobileNetV2" in _text(at)
    assert detector_part(at)
    (switch,) = [b for b in at.button if b.key.endswith("-use-mobilenet_v2_quantized")]
    if page == "video":  # the click itself once (Compare's test clicks too): cheap here
        switch.click().run()
        assert not at.exception and not at.error
        assert at.selectbox(key="app_classifier").value == "mobilenet_v2_quantized"


def _text(at: AppTest) -> str:
    return "\n".join(e.value for e in (*at.markdown, *at.caption))
