"""model_zoo.explain: saliency, the detection head before NMS, and model size, checked
against independent numbers (the other model, NMS's output, torchvision's metadata)."""

from __future__ import annotations

import numpy as np
import pytest
from torchvision.models import get_weight

from model_zoo import load_model
from model_zoo.explain import (
    classifier_complexity,
    classifier_saliency,
    detector_complexity,
    detector_head,
    median_latency_ms,
    runtime_description,
)
from visioncompare.kernel.images import load_image_file


@pytest.fixture(scope="module")
def models():
    return load_model("mobilenet_v2_quantized", "cpu"), load_model(
        "yolov8n-int8", "cpu"
    )


def test_cam_peaks_on_the_cat_the_detector_finds(models, chelsea_png):
    classifier, detector = models
    image = load_image_file(str(chelsea_png)).array
    heat, index, method = classifier_saliency(classifier, image)
    assert method == "CAM" and classifier.class_names[index] == "Egyptian cat"
    assert heat.shape == image.shape[:2] and heat.min() >= 0
    assert heat.max() == pytest.approx(1, abs=0.01)  # normalised, then resized
    cats = detector.predict([image], conf=0.25)[0].detections
    cat = cats[np.array(cats.labels) == "cat"].xyxy[0]
    y, x = np.unravel_index(np.argmax(heat), heat.shape)
    assert cat[0] <= x <= cat[2] and cat[1] <= y <= cat[3]


def test_grad_cam_for_fp32_models(chelsea_png):
    model = load_model("efficientnet_b0", "cpu", random_weights=True)
    image = load_image_file(str(chelsea_png)).array
    heat, index, method = classifier_saliency(model, image, class_index=281)
    assert method == "Grad-CAM" and index == 281 and heat.shape == image.shape[:2]


def test_head_output_is_what_nms_starts_from(models, bus_jpg):
    _, detector = models
    image = load_image_file(str(bus_jpg)).array
    head = detector_head(detector, image)
    assert head.points.shape == (8400, 2) and head.scores.shape == (8400, 80)
    assert sorted(set(head.strides.tolist())) == [8, 16, 32]
    boxes = detector.predict([image], conf=0.25)[0].detections
    assert head.scores.max() == pytest.approx(boxes.scores.max(), abs=1e-4)
    assert head.heatmap.shape == image.shape[:2]
    y, x = np.unravel_index(np.argmax(head.heatmap), head.heatmap.shape)
    inside = (boxes.xyxy[:, 0] <= x) & (x <= boxes.xyxy[:, 2])
    inside &= (boxes.xyxy[:, 1] <= y) & (y <= boxes.xyxy[:, 3])
    assert inside.any()
    # Points come back to original-image pixels: the letterbox is centred, so the grid
    # overhangs both sides equally (into the padding) and spans the image's long side.
    xs, ys = head.points[:, 0], head.points[:, 1]
    assert xs.min() + xs.max() == pytest.approx(image.shape[1], abs=1)
    assert ys.min() + ys.max() == pytest.approx(image.shape[0], abs=1)
    assert ys.min() > 0 and ys.max() < image.shape[0]  # no padding on the long side


def test_complexity_matches_published_numbers():
    meta = get_weight("MobileNet_V2_QuantizedWeights.IMAGENET1K_QNNPACK_V1").meta
    mobilenet = classifier_complexity("quantized_mobilenet_v2", 224)
    assert mobilenet.params == meta["num_params"]
    assert mobilenet.macs / 1e9 == pytest.approx(meta["_ops"], rel=0.15)
    resnet = classifier_complexity("resnet50", 224)
    meta = get_weight("ResNet50_Weights.DEFAULT").meta
    assert resnet.params == meta["num_params"]
    assert resnet.macs / 1e9 == pytest.approx(meta["_ops"], rel=0.05)
    yolo = detector_complexity("yolov8n.yaml", 640)
    assert yolo.params == 3_157_200  # Ultralytics' model summary for yolov8n
    assert yolo.macs / 1e9 == pytest.approx(8.7 / 2, rel=0.05)  # 8.7 GFLOPs = 2 x MACs
    assert detector_complexity("", 640) is None


def test_median_latency_is_positive(models, bus_jpg):
    classifier, _ = models
    assert (
        median_latency_ms(classifier, load_image_file(str(bus_jpg)).array, runs=3) > 0
    )


def _record_lock_during_forward(model, lock, seen: list[bool]):
    """A forward hook that notes whether ``lock`` is held while the network runs."""
    return model.register_forward_hook(lambda *_: seen.append(lock.locked()))


@pytest.mark.parametrize("name", ["mobilenet_v2_quantized", "efficientnet_b0"])
def test_saliency_and_predict_hold_the_classifiers_one_lock(name, chelsea_png):
    """One lock per model object: predict and both saliency methods (CAM's hook-free
    pass and Grad-CAM's hook) run the shared network only while holding ``model.lock``,
    so a hook cannot fire inside another session's predict."""
    classifier = load_model(name, "cpu", random_weights=name != "mobilenet_v2_quantized")
    image = load_image_file(str(chelsea_png)).array
    seen: list[bool] = []
    handle = _record_lock_during_forward(classifier.model, classifier.lock, seen)
    try:
        classifier.predict([image])
        classifier_saliency(classifier, image)
    finally:
        handle.remove()
    assert len(seen) >= 2 and all(seen), seen
    assert not classifier.lock.locked()


def test_saliency_waits_for_a_predict_in_another_thread(models, chelsea_png):
    """While another thread holds the classifier's lock (as predict does), saliency
    cannot start; it finishes once the lock is released."""
    import threading

    classifier, _ = models
    image = load_image_file(str(chelsea_png)).array
    started, done = threading.Event(), threading.Event()

    def explain():
        started.set()
        classifier_saliency(classifier, image)
        done.set()

    with classifier.lock:
        worker = threading.Thread(target=explain)
        worker.start()
        started.wait()
        # Blocked on the lock: it cannot finish while this thread holds it.
        assert not done.wait(0.5)
    worker.join()
    assert done.is_set()


def test_detector_head_runs_under_the_detectors_lock(models, bus_jpg):
    _, detector = models
    image = load_image_file(str(bus_jpg)).array
    detector.predict([image])  # a predictor exists
    predictor = detector.model.predictor
    seen: list[bool] = []
    inference = predictor.inference

    def recording(*args, **kwargs):
        seen.append(detector.lock.locked())
        return inference(*args, **kwargs)

    predictor.inference = recording
    try:
        detector_head(detector, image)
    finally:
        del predictor.inference
    assert seen == [True]


def test_runtime_descriptions_name_kernels_and_threads(models):
    import torch

    classifier, detector = models
    text = runtime_description(classifier)
    assert "INT8 QNNPACK" in text and f"{torch.get_num_threads()} torch thread" in text
    assert runtime_description(detector).startswith("OpenVINO INT8 kernels")
    fp32 = load_model("efficientnet_b0", "cpu", random_weights=True)
    assert runtime_description(fp32).startswith("PyTorch fp32 kernels")
