"""The open-vocabulary detector (YOLOE): the typed vocabulary, the copy that looks for it
(the shared model never changes), the per-vocabulary cache on Compare, and the message
when its text encoder cannot run here.

The text encoder (MobileCLIP and Ultralytics' CLIP tokenizer) is not on this machine and
tests never download, so the contract tests give the model random text embeddings in its
place: they check the plumbing, not what the words mean."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from components.shared import cache
from model_zoo import WeightsNotFoundError, load_model
from model_zoo.adapters import ultralytics_detectors as detectors_module
from tests.conftest import REPO
from tests.test_detector_families import _coco_names, _image
from visioncompare.kernel.display import parse_vocabulary

NAME = "yoloe-11s"


def test_parse_vocabulary():
    assert parse_vocabulary("traffic cone, red car,dog") == (
        "traffic cone",
        "red car",
        "dog",
    )
    assert parse_vocabulary("  a ;b\n\nc  ,, ") == ("a", "b", "c")
    assert parse_vocabulary("Dog, dog, DOG, cat") == ("Dog", "cat")
    assert parse_vocabulary("red   car") == ("red car",)
    assert parse_vocabulary("") == () and parse_vocabulary(" , ; ") == ()
    assert len(parse_vocabulary(",".join(f"c{i}" for i in range(100)))) == 80


class FakeTextEncoder:
    """Random (1, K, 512) embeddings in place of MobileCLIP; counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, model, classes):
        self.calls.append(tuple(classes))
        generator = torch.Generator().manual_seed(len(self.calls))
        return torch.randn(1, len(classes), 512, generator=generator)


@pytest.fixture(scope="module")
def yoloe():
    torch.manual_seed(0)
    return load_model(NAME, "cpu", random_weights=True)


def test_a_vocabulary_gives_a_new_detector_and_leaves_the_shared_one(
    yoloe, monkeypatch
):
    fake = FakeTextEncoder()
    monkeypatch.setattr(detectors_module, "_text_embeddings", fake)
    assert yoloe.spec.open_vocabulary and yoloe.class_names == _coco_names()
    before = yoloe.predict([_image(0)], conf=0.0, max_det=50)[0].detections
    custom = yoloe.with_vocabulary(["traffic cone", "red car"])
    assert fake.calls == [("traffic cone", "red car")]
    assert custom.class_names == ("traffic cone", "red car")
    assert (
        custom.vocabulary == ("traffic cone", "red car")
        and custom.lock is not yoloe.lock
    )
    det = custom.predict([_image(0)], conf=0.0, max_det=50)[0].detections
    assert 0 < len(det) <= 50 and det.class_names == ("traffic cone", "red car")
    assert set(det.class_ids.tolist()) <= {0, 1}
    # The shared model still looks for its own 80 classes, with the same answer.
    assert yoloe.class_names == _coco_names() and yoloe.vocabulary == ()
    after = yoloe.predict([_image(0)], conf=0.0, max_det=50)[0].detections
    assert np.array_equal(before.xyxy, after.xyxy)
    assert before.labels == after.labels


def test_only_open_vocabulary_models_take_a_vocabulary(yoloe):
    with pytest.raises(ValueError, match="at least one class"):
        yoloe.with_vocabulary([])
    fixed = load_model("yolo11n", "cpu", random_weights=True)
    with pytest.raises(ValueError, match="fixed set of classes"):
        fixed.with_vocabulary(["dog"])


def test_without_its_text_encoder_the_model_says_what_is_missing(yoloe, monkeypatch):
    def offline(target):
        raise ConnectionError("no network")

    monkeypatch.setattr(detectors_module, "_download_ultralytics", offline)
    with pytest.raises(WeightsNotFoundError) as info:
        yoloe.with_vocabulary(["dog"])
    message = str(info.value)
    # Offline, the encoder file is missing (and here the tokenizer package too): the
    # message names the file and says it needs the internet once.
    assert "'mobileclip_blt.ts'" in message and "internet once" in message
    assert "CLIP tokenizer" in message or "clip" not in _missing_modules()
    assert yoloe.class_names == _coco_names()


@pytest.fixture
def app_with_yoloe(monkeypatch):
    real = cache.load_model

    def load(name, device, **kwargs):
        if name == NAME:
            torch.manual_seed(0)
            return load_model(name, device, random_weights=True)
        return real(name, device, **kwargs)

    monkeypatch.setattr(cache, "load_model", load)
    cache.get_vocabulary_model.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.selectbox(key="app_detector").set_value(NAME)
    yield at
    cache.get_model.clear(NAME, "cpu")
    cache.get_vocabulary_model.clear()
    cache.detect_cached.clear()


def test_compare_looks_for_the_typed_classes_once_per_vocabulary(
    app_with_yoloe, monkeypatch
):
    fake = FakeTextEncoder()
    monkeypatch.setattr(detectors_module, "_text_embeddings", fake)
    at = app_with_yoloe.run()
    assert not at.exception and not at.error
    typed = at.text_input(key="compare_vocabulary")
    first = parse_vocabulary(typed.value)
    assert at.multiselect(key="compare_classes").options == list(first)
    typed.input("traffic cone, red car").run()
    assert not at.exception and not at.error
    assert at.multiselect(key="compare_classes").options == ["traffic cone", "red car"]
    assert any(md.value.startswith("#### Detection") for md in at.markdown)
    at.text_input(key="compare_vocabulary").input(", ".join(first)).run()
    assert not at.exception
    assert fake.calls == [first, ("traffic cone", "red car")]  # the first was cached


def test_compare_without_the_text_encoder_shows_a_message(app_with_yoloe):
    at = app_with_yoloe.run()
    assert not at.exception
    assert any("cannot read the classes you typed" in e.value for e in at.error)
    (error,) = [e.value for e in at.error]
    assert "'mobileclip_blt.ts'" in error and "internet once" in error
    assert "Traceback" not in error and str(REPO) not in error


def _missing_modules() -> set[str]:
    import importlib.util

    return {m for m in ("clip",) if importlib.util.find_spec(m) is None}
