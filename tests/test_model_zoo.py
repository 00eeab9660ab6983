"""Model zoo contract: every registered model loads and returns core types; the bundled
offline models give known answers on known images."""

from __future__ import annotations

import hashlib
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_zoo import (
    ADAPTERS,
    ModelFamily,
    Task,
    WeightsNotFoundError,
    get_spec,
    list_models,
    load_model,
)
from model_zoo import weights as weights_module
from model_zoo.adapters import ultralytics_detectors as detectors_module
from model_zoo.device import DeviceError, device_for, resolve_device
from model_zoo.identity import weights_on_disk
from tests.conftest import REPO, bundled_checksums
from tests.helpers import gradient_rgb
from visioncompare.kernel.images import load_image_file
from visioncompare.kernel.types import Classification, Detections, Prediction

OFFLINE = ("mobilenet_v2_quantized", "yolov8n-int8")


@pytest.fixture(scope="module")
def classifier():
    return load_model("mobilenet_v2_quantized", "cpu")


@pytest.fixture(scope="module")
def detector():
    return load_model("yolov8n-int8", "cpu")


def test_registry_schema():
    specs = list_models()
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert {"resnet50", "mobilenet_v3_large", "efficientnet_b0"} <= set(names)
    assert {f"yolov8{s}" for s in "nsmlx"} <= set(names)
    for spec in specs:
        assert re.fullmatch(r"[a-z0-9_.:-]+", spec.name), spec.name
        assert spec.task in (Task.CLASSIFY, Task.DETECT)
        assert isinstance(spec.family, ModelFamily)
        assert (spec.task, spec.family) in ADAPTERS, spec.name
        assert spec.title and spec.licence and spec.input_size > 0
        if spec.family.is_torchvision:
            assert spec.builder and spec.weights_enum
        else:
            assert spec.task is Task.DETECT and spec.weights_file
        assert get_spec(spec.name) is spec or get_spec(spec.name) == spec
    assert [s.task for s in list_models("detect")] == [Task.DETECT] * len(
        list_models(Task.DETECT)
    )
    with pytest.raises(KeyError, match="unknown model 'nope'; known models: "):
        get_spec("nope")


def test_bundled_weights_are_the_verified_assets():
    sums = bundled_checksums()
    weights = {p: d for p, d in sums.items() if p.startswith("model_zoo/weights/")}
    assert len(weights) == 4
    for path, digest in weights.items():
        assert hashlib.sha256((REPO / path).read_bytes()).hexdigest() == digest, path
    # The published checksums in PROVENANCE.md are the same ones.
    provenance = (REPO / "model_zoo" / "weights" / "PROVENANCE.md").read_text()
    for path, digest in weights.items():
        assert f"{digest}  {path.removeprefix('model_zoo/weights/')}" in provenance
    for name in OFFLINE:
        assert weights_on_disk(get_spec(name))


def test_offline_classifier_knows_chelsea_is_a_cat(classifier, chelsea_png):
    pred = classifier.predict([load_image_file(str(chelsea_png)).array])[0]
    assert isinstance(pred, Prediction) and isinstance(
        pred.classification, Classification
    )
    top3 = [name for name, _ in pred.classification.topk(3)]
    assert any(name.endswith("cat") or name == "tabby" for name in top3), top3
    assert pred.classification.top1[0] == "Egyptian cat"
    assert pred.classification.scores.sum() == pytest.approx(1.0, abs=1e-4)
    assert pred.device == "cpu" and pred.timing.inference_ms > 0


def test_quantized_classifier_equals_torchvisions_calibrated_build(classifier):
    """The INT8 classifier is built without torchvision's calibration pass (its scales are
    all in the state dict): on every sample image its logits are those of torchvision's
    own ``quantize=True`` build with the same weights, bit for bit."""
    import torch
    from torchvision.models import get_model_builder

    from model_zoo.adapters.classifiers import quantized_skeleton

    builder = get_model_builder(get_spec("mobilenet_v2_quantized").builder)
    theirs = builder(weights=None, quantize=True).eval()
    theirs.load_state_dict(torch.load(classifier.weights_path, weights_only=True))
    ours = classifier.model
    assert type(ours) is type(theirs)
    assert [type(m) for m in ours.modules()] == [type(m) for m in theirs.modules()]
    assert quantized_skeleton(builder).state_dict().keys() == theirs.state_dict().keys()
    paths = sorted((REPO / "sample_images").glob("*.[jp][pn]g"))
    assert len(paths) >= 8
    pictures = [Image.fromarray(load_image_file(str(p)).array) for p in paths]
    batch = torch.stack([classifier.transforms(picture) for picture in pictures])
    with torch.inference_mode():
        logits = ours(batch)
        assert torch.equal(logits, theirs(batch))
    assert len(set(logits.argmax(1).tolist())) >= 5  # varied pictures, varied answers


def test_offline_detector_finds_the_bus_and_people(detector, bus_jpg):
    image = load_image_file(str(bus_jpg)).array
    pred = detector.predict([image], conf=0.25)[0]
    det = pred.detections
    assert isinstance(det, Detections) and det.class_names[5] == "bus"
    labels = det.labels
    assert labels.count("bus") == 1 and labels.count("person") >= 3
    bus = det[np.array(labels) == "bus"]
    assert bus.scores[0] > 0.8
    # The bus spans the image width at full resolution (boxes are on the original image).
    assert bus.xyxy[0, 2] - bus.xyxy[0, 0] > 0.8 * image.shape[1]
    assert np.all(det.xyxy[:, 2] <= image.shape[1] + 1) and np.all(
        det.xyxy[:, 3] <= 1081
    )
    assert pred.timing.inference_ms > 0


def test_detector_reads_rgb_not_bgr(detector, bus_jpg):
    """Feeding channels in the wrong order changes the answer; our adapter must match
    Ultralytics reading the file itself."""
    image = load_image_file(str(bus_jpg)).array
    ours = detector.predict([image], conf=0.25)[0].detections
    theirs = detector.model.predict(str(bus_jpg), conf=0.25, verbose=False)[0]
    assert np.allclose(
        np.sort(ours.scores), np.sort(theirs.boxes.conf.numpy()), atol=1e-4
    )


def test_confidence_filter_after_nms_equals_nms_at_that_confidence(detector, bus_jpg):
    from visioncompare.kernel.display import DETECT_CONF_FLOOR, filter_detections

    image = load_image_file(str(bus_jpg)).array
    low = detector.predict([image], conf=DETECT_CONF_FLOOR)[0].detections
    for conf in (0.1, 0.25, 0.5):
        direct = detector.predict([image], conf=conf)[0].detections.sorted_by_score()
        filtered = filter_detections(low, conf).sorted_by_score()
        assert np.allclose(direct.xyxy, filtered.xyxy, atol=1e-3)
        assert direct.labels == filtered.labels


def test_predictions_of_several_images_keep_their_order(classifier, detector, bus_jpg):
    bus = load_image_file(str(bus_jpg)).array
    blank = np.full((240, 320, 3), 127, np.uint8)
    dets = detector.predict([bus, blank, bus], conf=0.25)
    assert [len(p.detections) > 0 for p in dets] == [True, False, True]
    assert len(classifier.predict([bus, blank])) == 2


@pytest.mark.parametrize(
    "name",
    [
        s.name
        for s in list_models()
        if s.name not in OFFLINE
        and s.downloadable
        # The newer detector families: tests/test_detector_families.py.
        and (s.task is Task.CLASSIFY or s.name.startswith("yolov8"))
    ],
)
def test_fp32_entries_build_with_random_weights_and_keep_the_contract(name):
    model = load_model(name, "cpu", random_weights=True)
    image = gradient_rgb(96, 80)
    pred = model.predict([image])[0]
    assert pred.model == name and pred.device == "cpu"
    if model.spec.task is Task.CLASSIFY:
        assert pred.classification.scores.shape == (1000,)
        assert pred.classification.class_names[0] == "tench"
        assert model.num_params > 1_000_000
    else:
        assert isinstance(pred.detections, Detections)
        assert len(model.class_names) == 80


def test_missing_weights_offline_name_the_file_and_folder(monkeypatch, tmp_path):
    # The operator's settings: downloads allowed, server paths shown.
    monkeypatch.setenv("VISIONCOMPARE_ALLOW_DOWNLOADS", "1")
    monkeypatch.setenv("VISIONCOMPARE_SHOW_SERVER_PATHS", "1")

    def offline(target):
        raise ConnectionError("no network")

    monkeypatch.setattr(detectors_module, "_download_ultralytics", offline)
    with pytest.raises(WeightsNotFoundError) as info:
        load_model("yolov8s", "cpu")
    message = str(info.value)
    assert (
        "'yolov8s.pt'" in message and str(weights_module.PROJECT_WEIGHTS_DIR) in message
    )
    assert "no network" in message
    with pytest.raises(WeightsNotFoundError, match="no download source"):
        weights_module.require("nothing-here.pt")


def test_user_weights_in_a_weights_folder_become_detectors(
    monkeypatch, tmp_path, bus_jpg
):
    src = REPO / "model_zoo" / "weights" / "yolov8n_int8_openvino_model"
    shutil.copytree(src, tmp_path / "mine_openvino_model")
    (tmp_path / "notes.txt").write_text("not weights")
    monkeypatch.setenv(weights_module.ENV_VAR, str(tmp_path))
    names = [s.name for s in list_models(Task.DETECT)]
    assert "custom:mine_openvino_model" in names and "custom:notes.txt" not in names
    model = load_model("custom:mine_openvino_model", "auto")
    assert model.weights_path == tmp_path / "mine_openvino_model"
    labels = model.predict([load_image_file(str(bus_jpg)).array])[0].detections.labels
    assert "bus" in labels


class _Evil:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/visioncompare-pwned"),))


def test_weights_are_never_unpickled(tmp_path):
    """A state dict is loaded with weights_only: a pickle that would run code is refused."""
    marker = Path("/tmp/visioncompare-pwned")
    marker.unlink(missing_ok=True)
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"weight": _Evil()}))
    with pytest.raises(pickle.UnpicklingError):
        load_model("mobilenet_v2_quantized", "cpu", weights_path=evil)
    assert not marker.exists()


def test_device_choice():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto", ("cpu",)) == "cpu"
    with pytest.raises(DeviceError, match="not available"):
        resolve_device("tpu")
    device, note = device_for("cpu", ("cpu",))
    assert (device, note) == ("cpu", None)
    if (
        resolve_device("auto") != "cpu"
    ):  # on a GPU machine the quantized model falls back
        assert device_for("cuda", ("cpu",))[1] == "runs on cpu only, so it ran on cpu"


def test_weights_hash_covers_folder_contents(tmp_path):
    folder = tmp_path / "m_openvino_model"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"1")
    first = weights_module.weights_sha256(folder)
    (folder / "a.bin").write_bytes(b"22")
    assert weights_module.weights_sha256(folder) != first
    single = tmp_path / "w.pt"
    single.write_bytes(b"abc")
    assert weights_module.weights_sha256(single) == hashlib.sha256(b"abc").hexdigest()


def test_detector_load_and_predict_use_no_deprecated_ultralytics_argument():
    """Ultralytics 8.4 replaced ``half`` by ``quantize``; its deprecation notice is a log
    warning on the ``ultralytics`` logger (quiet at ERROR with YOLO_VERBOSE=false, so the
    test lowers the level to see it, after the import that sets it)."""
    import logging

    import ultralytics  # noqa: F401  (its import sets the logger's level)

    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("ultralytics")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        model = load_model("yolov8n-int8", "cpu")
        model.predict([gradient_rgb(96, 128)], conf=0.25)
        model.predict([gradient_rgb(64, 64)], conf=0.5, iou=0.5)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    messages = [r.getMessage() for r in records]
    assert not [m for m in messages if "deprecated" in m], messages


def test_loading_a_detector_keeps_torchs_thread_count():
    """Ultralytics' device setup (run even by reading ``model.names``) sets torch's CPU
    threads to cores - 1; the classifier in the same process must keep all of them."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = load_model("yolov8n-int8", "cpu")
        assert torch.get_num_threads() == 2
        model.predict([gradient_rgb(64, 64)])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def _zoo_imports() -> dict[str, set[str]]:
    """Each model_zoo module -> the model_zoo modules it imports, function-level imports
    included (``from model_zoo import weights`` imports ``model_zoo.weights``)."""
    import ast

    files = {}
    for path in (REPO / "model_zoo").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    imports: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: from this package, level - 1 packages up
                    anchor = package.rsplit(".", node.level - 1)[0]
                    module = f"{anchor}.{module}".rstrip(".")
                found = [
                    f"{module}.{alias.name}"
                    if f"{module}.{alias.name}" in files
                    else module
                    for alias in node.names
                ]
            else:
                continue
            imports[name] |= {m for m in found if m in files and m != name}
    return imports


def test_no_import_circle_inside_the_model_zoo():
    """No model_zoo module reaches itself through its imports, lazy ones included."""
    imports = _zoo_imports()
    assert {"model_zoo.registry", "model_zoo.adapters.base"} <= set(imports)

    def reaches_itself(start: str) -> bool:
        seen, todo = set(), list(imports[start])
        while todo:
            module = todo.pop()
            if module == start:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(imports[module])
        return False

    circles = [name for name in sorted(imports) if reaches_itself(name)]
    assert not circles, {name: sorted(imports[name]) for name in circles}
