"""Contract tests of every detector family, built with random weights (no file, no
download): torchvision Faster R-CNN / SSD / SSDlite / RetinaNet / FCOS, and Ultralytics
YOLO11 / YOLO26 / YOLOv10 / RT-DETR from their YAMLs. Output types, the class mapping onto
the 80 COCO names, the model's own thresholds, the end-to-end output of NMS-free models,
the fp16 choice, and the offline weights lookup."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

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
from model_zoo.adapters import torchvision_common
from model_zoo.adapters.torchvision_detectors import coco_mapping, thresholds
from model_zoo.device import fp16_for
from model_zoo.figures import published_figures
from model_zoo.identity import (
    identity_on_disk,
    loaded_identity,
    weights_filename,
    weights_on_disk,
)
from model_zoo.protocol import ClassifierModel, DetectorModel
from tests.conftest import REPO
from visioncompare.kernel.boxes import box_iou
from visioncompare.kernel.types import Detections, Prediction

TORCHVISION_DETECTORS = (
    "fasterrcnn_resnet50_fpn_v2",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "ssd300_vgg16",
    "ssdlite320_mobilenet_v3_large",
    "retinanet_resnet50_fpn_v2",
    "fcos_resnet50_fpn",
)
ULTRALYTICS_FAMILIES = ("yolo11n", "yolo26n", "yolov10n", "rtdetr-l")
"""The smallest member of each newer Ultralytics family (every size's YAML is checked)."""


def _coco_names() -> tuple[str, ...]:
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    names = YAML.load(check_yaml("coco.yaml"))["names"]
    return tuple(names[i] for i in sorted(names))


def _image(seed: int = 0, h: int = 240, w: int = 320) -> np.ndarray:
    """A noisy image with a few flat rectangles: random weights give many boxes."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    image[40:160, 60:200] = (200, 40, 40)
    image[100:220, 180:300] = (30, 160, 60)
    return image


def _max_same_class_iou(det: Detections) -> float:
    best = 0.0
    for cls in np.unique(det.class_ids):
        boxes = det.xyxy[det.class_ids == cls]
        if len(boxes) > 1:
            iou = box_iou(boxes, boxes)
            np.fill_diagonal(iou, 0.0)
            best = max(best, float(iou.max()))
    return best


@pytest.fixture(scope="module")
def torchvision_models():
    return {}


def _tv_model(name, cache):
    if name not in cache:
        torch.manual_seed(0)  # random weights, but the same ones on every run
        cache[name] = load_model(name, "cpu", random_weights=True)
    return cache[name]


def test_registry_has_every_family_behind_an_adapter():
    specs = {s.name: s for s in list_models()}
    assert set(TORCHVISION_DETECTORS) <= set(specs)
    for name in TORCHVISION_DETECTORS:
        spec = specs[name]
        assert spec.task is Task.DETECT and spec.family is ModelFamily.TORCHVISION
        assert spec.categories == "coco-80" and spec.downloadable
    for family in ("yolo11", "yolo26", "yolov10"):
        sizes = [n for n in specs if n.startswith(family)]
        assert len(sizes) >= 5, family
    assert {"rtdetr-l", "rtdetr-x"} <= set(specs)
    for spec in specs.values():
        assert (spec.task, spec.family) in ADAPTERS
        # The NMS-free flag is the family's, not a string compared elsewhere.
        assert spec.nms_free == spec.name.startswith(("yolo26", "yolov10", "rtdetr"))
    # A family is an enum that also accepts its string value (stored results use it).
    assert ModelFamily("torchvision-quantized") is ModelFamily.TORCHVISION_QUANTIZED
    assert specs["resnet50"].family == "torchvision"


def test_new_ultralytics_entries_are_download_only_and_their_yamls_exist():
    from ultralytics.nn.tasks import yaml_model_load

    for spec in list_models(Task.DETECT):
        if spec.family is not ModelFamily.ULTRALYTICS or not spec.architecture:
            continue
        cfg = yaml_model_load(spec.architecture)
        assert cfg["nc"] == 80, spec.name
        if spec.name.startswith("yolo26"):
            assert cfg.get("end2end") is True  # NMS-free by design
        if spec.name in ("yolov8n-int8",):
            continue
        assert spec.downloadable and spec.weights_file.startswith(spec.name)
        assert not weights_on_disk(spec)  # not bundled: the picker marks it


def test_torchvision_categories_map_onto_the_80_coco_names():
    from torchvision.models import get_weight

    categories = get_weight(get_spec("ssd300_vgg16").weights_enum).meta["categories"]
    assert len(categories) == 91
    names, lookup = coco_mapping(categories)
    assert names == _coco_names()  # the same names, in the same order, as Ultralytics
    assert lookup[0] == -1 and lookup[categories.index("N/A")] == -1
    assert names[lookup[1]] == "person" and names[lookup[90]] == "toothbrush"
    assert (lookup >= 0).sum() == 80


@pytest.mark.parametrize("name", TORCHVISION_DETECTORS)
def test_torchvision_detector_contract(name, torchvision_models):
    model = _tv_model(name, torchvision_models)
    assert isinstance(model, DetectorModel)
    assert model.half is False and next(model.model.parameters()).dtype == torch.float32
    assert model.class_names == _coco_names()
    # The thresholds the adapter sets are the ones the model's postprocessing reads.
    target = getattr(model.model, "roi_heads", model.model)
    for attribute in ("score_thresh", "nms_thresh", "detections_per_img"):
        assert hasattr(target, attribute)
    images = [_image(0), _image(1, 120, 200)]
    preds = model.predict(images, conf=0.0, iou=0.5, max_det=50)
    assert len(preds) == 2 and thresholds(model.model) == (0.0, 0.5, 50)
    for pred, image in zip(preds, images, strict=True):
        assert isinstance(pred, Prediction) and pred.model == name
        det = pred.detections
        assert isinstance(det, Detections) and det.class_names == model.class_names
        assert len(det) <= 50
        h, w = image.shape[:2]
        assert det.xyxy.dtype == np.float32
        assert (det.xyxy[:, [0, 2]] <= w + 1e-3).all()
        assert (det.xyxy[:, [1, 3]] <= h + 1e-3).all()
        assert pred.timing.inference_ms > 0
    assert len(preds[0].detections) > 0  # the busy image: random weights see boxes
    assert loaded_identity(model) == {
        "name": name,
        "weights_sha256": None,
        "fp16": False,
    }


@pytest.mark.parametrize(
    "name", ["fasterrcnn_mobilenet_v3_large_320_fpn", "ssd300_vgg16"]
)
def test_torchvision_detector_honours_conf_iou_and_max_det(name, torchvision_models):
    """Faster R-CNN keeps its thresholds on the ROI heads, SSD on the model: both paths."""
    model = _tv_model(name, torchvision_models)
    image = _image(2)
    loose = model.predict([image], conf=0.0, iou=0.95, max_det=300)[0].detections
    conf = float(np.median(loose.scores))
    above = model.predict([image], conf=conf, iou=0.95)[0].detections
    assert 0 < len(above) < len(loose) and (above.scores > conf).all()
    strict = model.predict([image], conf=0.0, iou=0.3, max_det=300)[0].detections
    assert _max_same_class_iou(strict) <= 0.3 + 1e-4
    assert _max_same_class_iou(loose) > 0.3  # so the strict NMS did remove boxes
    assert len(model.predict([image], conf=0.0, max_det=7)[0].detections) == 7


def test_fp16_is_chosen_on_cuda_only_and_never_for_int8():
    for family in (ModelFamily.TORCHVISION, ModelFamily.ULTRALYTICS, "torchvision"):
        assert fp16_for(family, "cuda") and fp16_for(family, "cuda:1")
        assert not fp16_for(family, "cpu") and not fp16_for(family, "mps")
    assert not fp16_for(ModelFamily.TORCHVISION_QUANTIZED, "cuda")
    assert not fp16_for("torchvision-quantized", "cuda:0")


@pytest.fixture(scope="module")
def ultralytics_models():
    torch.manual_seed(0)
    return {n: load_model(n, "cpu", random_weights=True) for n in ULTRALYTICS_FAMILIES}


@pytest.mark.parametrize("name", ULTRALYTICS_FAMILIES)
def test_ultralytics_family_contract(name, ultralytics_models):
    model = ultralytics_models[name]
    assert isinstance(model, DetectorModel) and model.half is False
    assert model.class_names == _coco_names()
    pred = model.predict([_image(0), _image(1, 120, 200)], conf=0.0, max_det=40)
    for p in pred:
        det = p.detections
        assert isinstance(det, Detections) and 0 < len(det) <= 40
        assert det.class_names == model.class_names


@pytest.mark.parametrize("name", ["yolo26n", "yolov10n"])
def test_nms_free_models_run_end_to_end_and_ignore_the_iou(name, ultralytics_models):
    model = ultralytics_models[name]
    image = _image(3)
    a = model.predict([image], conf=0.0, iou=0.1, max_det=100)[0].detections
    assert model.model.predictor.model.end2end is True  # the one-to-one head, no NMS
    b = model.predict([image], conf=0.0, iou=0.9, max_det=100)[0].detections
    assert len(a) == 100 and np.array_equal(a.xyxy, b.xyxy)
    assert np.array_equal(a.scores, b.scores)


def test_an_nms_model_honours_the_iou(ultralytics_models):
    model = ultralytics_models["yolo11n"]
    image = _image(3)
    strict = model.predict([image], conf=0.0, iou=0.3, max_det=300)[0].detections
    loose = model.predict([image], conf=0.0, iou=0.9, max_det=300)[0].detections
    assert model.model.predictor.model.end2end is False
    # (Ultralytics clips boxes to the image after NMS, so clipped boxes may overlap more
    # than the threshold: the count is the honest check here.)
    assert 0 < len(strict) < len(loose)


def test_a_torchvision_detector_offline_names_its_file_and_folder(monkeypatch):
    # The operator's settings: downloads allowed, server paths shown.
    monkeypatch.setenv("VISIONCOMPARE_ALLOW_DOWNLOADS", "1")
    monkeypatch.setenv("VISIONCOMPARE_SHOW_SERVER_PATHS", "1")
    def offline(spec):
        def download(target):
            raise ConnectionError("no network")

        return download

    monkeypatch.setattr(torchvision_common, "_download", offline)
    spec = get_spec("fasterrcnn_mobilenet_v3_large_320_fpn")
    with pytest.raises(WeightsNotFoundError) as info:
        load_model(spec.name, "cpu")
    message = str(info.value)
    assert f"'{weights_filename(spec)}'" in message
    assert (
        weights_filename(spec) == "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth"
    )
    assert (
        str(weights_module.PROJECT_WEIGHTS_DIR) in message and "no network" in message
    )


def test_torchvision_detector_weights_in_a_weights_folder_load_offline(
    tmp_path, monkeypatch, torchvision_models
):
    name = "ssdlite320_mobilenet_v3_large"
    spec = get_spec(name)
    random = _tv_model(name, torchvision_models)
    file = tmp_path / weights_filename(spec)
    torch.save(random.model.state_dict(), file)
    monkeypatch.setenv(weights_module.ENV_VAR, str(tmp_path))
    assert weights_on_disk(spec)
    model = load_model(name, "cpu")
    assert model.weights_path == file
    image = _image(4)
    ours = model.predict([image], conf=0.0)[0].detections
    theirs = random.predict([image], conf=0.0)[0].detections
    assert np.allclose(ours.xyxy, theirs.xyxy) and ours.labels == theirs.labels
    identity = identity_on_disk(name, "cpu")
    assert identity == loaded_identity(model) and identity["weights_sha256"]


def test_classifiers_keep_the_same_protocol():
    model = load_model("mobilenet_v2_quantized", "cpu")
    assert isinstance(model, ClassifierModel) and len(model.class_names) == 1000


def test_published_figures_travel_with_every_detector():
    for spec in list_models(Task.DETECT):
        if spec.name.startswith("custom:") or spec.open_vocabulary:
            continue  # your weights; an open vocabulary has no COCO AP
        figures = published_figures(spec)
        assert figures is not None and figures.metric == "COCO box AP", spec.name
        assert 15 < figures.accuracy < 70 and figures.params_m > 1 and figures.gflops
        assert figures.source
    frcnn = published_figures(get_spec("fasterrcnn_resnet50_fpn_v2"))
    assert frcnn.accuracy == pytest.approx(46.7)
    assert frcnn.params_m == pytest.approx(43.712278)
    assert "torchvision" in frcnn.source
    assert published_figures(get_spec("yolo26n")).accuracy == pytest.approx(40.1)
    assert published_figures(get_spec("resnet50")).metric == "ImageNet top-1"


def test_registry_and_classifiers_import_without_a_circle_or_torch():
    code = (
        "import sys\n"
        "import model_zoo\n"
        "model_zoo.list_models()\n"
        "assert 'torch' not in sys.modules, 'listing models imported torch'\n"
        "import model_zoo.adapters.classifiers\n"
        "assert 'model_zoo.adapters.torchvision_detectors' not in sys.modules\n"
    )
    for first in (
        "model_zoo.adapters.classifiers",
        "model_zoo.registry",
        "model_zoo.identity",
    ):
        done = subprocess.run(
            [sys.executable, "-c", f"import {first}\n" + code],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if first == "model_zoo.registry":
            assert done.returncode == 0, done.stderr
        else:  # importing an adapter first pulls torch in; the import itself must work
            assert "ImportError" not in done.stderr and "circular" not in done.stderr


def test_the_cli_evaluates_a_torchvision_detector_unchanged(
    tmp_path, torchvision_models
):
    """The evaluation sees a torchvision detector only through the model protocol: its
    weights found in a weights folder, its predictions stored and scored with COCO ids."""
    import hashlib
    import json
    import os

    name = "ssdlite320_mobilenet_v3_large"
    model = _tv_model(name, torchvision_models)
    weights = tmp_path / "weights"
    weights.mkdir()
    file = weights / weights_filename(model.spec)
    torch.save(model.model.state_dict(), file)
    env = {
        **os.environ,
        weights_module.ENV_VAR: str(weights),
        "VISIONCOMPARE_RUNS": str(tmp_path / "runs"),
        "YOLO_OFFLINE": "1",
    }
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "visioncompare", "evaluate", "--dataset",
         "coco-val2017-first32", "--detector", name, "--device", "cpu",
         "--conf", "0.01", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    sha = hashlib.sha256(file.read_bytes()).hexdigest()
    assert metrics["detector_run"]["model"] == {
        "name": name,
        "weights_sha256": sha,
        "fp16": False,
    }
    # Every class name is a COCO name: nothing renamed, nothing dropped.
    assert metrics["classes_renamed"] == {}
    assert metrics["predictions_dropped_by_class"] == {}
    results = json.loads((out / "coco_results.json").read_text())
    assert results  # random weights still put boxes above the 0.001 floor
    coco_ids = {int(i) for i in range(1, 91)} - {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}
    assert {r["category_id"] for r in results} <= coco_ids
