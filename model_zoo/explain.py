"""What the Learn page shows about the models themselves: size, cost, where they look,
and what a detection head outputs before NMS."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import lru_cache

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import cv2
import numpy as np
import torch
from PIL import Image
from torchvision.models import get_model_builder

from model_zoo.registry import ModelFamily

log = logging.getLogger(__name__)
# Counting runs on private copies of the architectures, never on a shared model object
# (those are guarded by their own ``lock``); this only keeps two counts from overlapping.
_COUNT_LOCK = threading.Lock()


@dataclass(frozen=True)
class Complexity:
    """Parameters and multiply-accumulates of one forward pass at the model's input size,
    both counted by thop on the fp32 architecture (the same counter for both tasks)."""

    params: int
    macs: float
    input_size: int


def _count(model: torch.nn.Module, size: int) -> tuple[int, float]:
    import thop  # ultralytics-thop, installed with Ultralytics

    params = sum(p.numel() for p in model.parameters())
    with _COUNT_LOCK, torch.inference_mode():
        macs, _ = thop.profile(
            model, inputs=(torch.zeros(1, 3, size, size),), verbose=False
        )
    return params, float(macs)


@lru_cache(maxsize=16)
def classifier_complexity(builder: str, input_size: int = 224) -> Complexity:
    """For a torchvision classifier (quantized ones are counted on their fp32 twin)."""
    name = builder.removeprefix("quantized_")
    model = get_model_builder(name)(weights=None).eval()
    params, macs = _count(model, input_size)
    return Complexity(params, macs, input_size)


@lru_cache(maxsize=16)
def detector_complexity(architecture: str, input_size: int = 640) -> Complexity | None:
    """For an Ultralytics architecture YAML (None when the spec names none)."""
    if not architecture:
        return None
    from ultralytics import YOLO

    model = YOLO(architecture, task="detect").model.eval()
    params, macs = _count(model, input_size)
    return Complexity(params, macs, input_size)


def classifier_saliency(classifier, image: np.ndarray, class_index: int | None = None):
    """Where the classifier looks for one class, as an (H, W) map in [0, 1] on the image.

    Quantized models have no gradients: for them this is CAM (Zhou et al., 2016), exact for
    a global-average-pool + linear head: the class's linear weights over the last feature
    maps. Other models get Grad-CAM (Selvaraju et al., 2017) on the last feature block.

    Returns:
        (heatmap, class index, method name).
    """
    model = classifier.model
    x = classifier.transforms(Image.fromarray(image)).unsqueeze(0).to(classifier.device)
    # The model's own lock, as predict takes it: a hook must not fire inside another
    # session's predict on the same shared model.
    with classifier.lock:
        if classifier.spec.family is ModelFamily.TORCHVISION_QUANTIZED:
            heat, index = _cam_quantized(model, x, class_index)
            method = "CAM"
        else:
            # fp16 models on CUDA take fp16 input (the classifier's own setting).
            heat, index = _grad_cam(
                model, x.half() if classifier.half else x, class_index
            )
            method = "Grad-CAM"
    heat = cv2.resize(
        heat, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    return heat, index, method


def _normalise(cam: np.ndarray) -> np.ndarray:
    cam = np.maximum(cam, 0)
    return (
        (cam / cam.max()).astype(np.float32)
        if cam.max() > 0
        else cam.astype(np.float32)
    )


def _cam_quantized(
    model, x: torch.Tensor, class_index: int | None
) -> tuple[np.ndarray, int]:
    with torch.inference_mode():
        q = model.quant(x)
        features = model.features(q)  # (1, C, h, w), quantized
        logits = model(x)
        index = int(logits.argmax()) if class_index is None else class_index
        linear = model.classifier[-1]
        weight = (
            linear.weight().dequantize() if callable(linear.weight) else linear.weight
        )
        fmap = features.dequantize()[0]  # (C, h, w)
        cam = torch.einsum("c,chw->hw", weight[index].float(), fmap).cpu().numpy()
    return _normalise(cam), index


def _last_feature_block(model) -> torch.nn.Module:
    for name in ("features", "layer4"):
        block = getattr(model, name, None)
        if block is not None:
            return block
    raise ValueError(f"no feature block found in {type(model).__name__}")


def _grad_cam(
    model, x: torch.Tensor, class_index: int | None
) -> tuple[np.ndarray, int]:
    store: dict[str, torch.Tensor] = {}
    block = _last_feature_block(model)
    handle = block.register_forward_hook(lambda _m, _i, out: store.update(fmap=out))
    try:
        with torch.enable_grad():
            logits = model(x.requires_grad_(True))
            index = int(logits.argmax()) if class_index is None else class_index
            fmap = store["fmap"]
            (grads,) = torch.autograd.grad(logits[0, index], fmap)
    finally:
        handle.remove()
    weights = grads[0].mean(dim=(1, 2))
    cam = torch.einsum("c,chw->hw", weights, fmap[0]).detach().float().cpu().numpy()
    return _normalise(cam), index


@dataclass(frozen=True, eq=False)
class HeadOutput:
    """A YOLOv8 head's raw output for one image, before the confidence cut and NMS.

    Attributes:
        points: (P, 2) xy of each anchor-free grid point, in original image pixels.
        strides: (P,) the stride (8, 16 or 32 px) of each point's feature map.
        scores: (P, K) class scores of each point.
        class_names: the K classes.
        heatmap: (H, W) the best class score around each pixel, upsampled from the grids.
        input_size: the square size the image was letterboxed to.
    """

    points: np.ndarray
    strides: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]
    heatmap: np.ndarray
    input_size: int


def detector_head(detector, image: np.ndarray) -> HeadOutput | None:
    """Run the detector's preprocessing and network, stopping before NMS.

    Returns:
        The dense head output of an Ultralytics YOLO with an NMS head; None for any other
        detector (torchvision's two-stage and anchor heads, end-to-end YOLO26/YOLOv10
        and RT-DETR, whose outputs are not one row per grid point).
    """
    if detector.spec.family is not ModelFamily.ULTRALYTICS or detector.spec.nms_free:
        return None
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    size = detector.spec.input_size
    with detector.lock:
        if detector.model.predictor is None:
            detector.model.predict(bgr, verbose=False, device=detector.device)
        predictor = detector.model.predictor
        batch = predictor.preprocess([bgr])
        raw = predictor.inference(batch)
    raw = raw[0] if isinstance(raw, (list, tuple)) else raw
    out = raw[0].float().cpu().numpy()  # (4 + K, P)
    side = batch.shape[-1]
    grid_points = sum((side // stride) ** 2 for stride in (8, 16, 32))
    if out.ndim != 2 or out.shape != (4 + len(detector.class_names), grid_points):
        return None  # user weights with another head (end-to-end, P2/P6 levels, ...)
    scores = out[4:].T
    h, w = image.shape[:2]
    gain = min(side / h, side / w)
    pad_x, pad_y = (side - round(w * gain)) / 2, (side - round(h * gain)) / 2
    points, strides, maps = [], [], []
    start = 0
    for stride in (8, 16, 32):
        n = side // stride
        gy, gx = np.mgrid[0:n, 0:n]
        xy = np.stack([(gx.ravel() + 0.5) * stride, (gy.ravel() + 0.5) * stride], 1)
        points.append((xy - [pad_x, pad_y]) / gain)
        strides.append(np.full(n * n, stride))
        grid = scores[start : start + n * n].max(axis=1).reshape(n, n)
        maps.append(cv2.resize(grid, (side, side), interpolation=cv2.INTER_LINEAR))
        start += n * n
    letterboxed = np.max(maps, axis=0)
    y0, x0 = round(pad_y - 0.1), round(pad_x - 0.1)
    crop = letterboxed[y0 : y0 + round(h * gain), x0 : x0 + round(w * gain)]
    heatmap = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR)
    return HeadOutput(
        np.concatenate(points), np.concatenate(strides), scores, detector.class_names,
        heatmap.astype(np.float32), size,
    )  # fmt: skip


def runtime_description(model) -> str:
    """What runs a loaded model's arithmetic, in words (kernels, precision, threads): the
    things that decide its latency besides its multiply-accumulates."""
    threads = torch.get_num_threads()
    torch_threads = f"{threads} torch thread{'s' if threads != 1 else ''}"
    if model.spec.family is ModelFamily.TORCHVISION_QUANTIZED:
        return f"PyTorch INT8 QNNPACK kernels (written for phone ARM CPUs), {torch_threads}"
    path = str(getattr(model, "weights_path", "") or "")
    if path.endswith("_openvino_model"):
        precision = "INT8" if "int8" in model.spec.name else "fp32"
        return f"OpenVINO {precision} kernels (x86 vector instructions, all cores)"
    precision = "fp16" if model.half else "fp32"
    on = torch_threads if model.device == "cpu" else model.device
    return f"PyTorch {precision} kernels, {on}"


def median_latency_ms(model, image: np.ndarray, runs: int = 5) -> float:
    """Median wall time of ``predict`` on one image after one warm-up call, in ms."""
    import statistics
    import time

    model.predict([image])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.predict([image])
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)
