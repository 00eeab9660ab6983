"""What happens inside torchvision's detectors, stage by stage, as plain numpy.

Faster R-CNN: its region proposal network run through the model's own transform, backbone
and ``rpn`` (the proposals with their objectness), then its ROI heads on those proposals.
SSD / SSDlite: the default boxes its anchor generator places at one feature-map cell.
Nothing here changes the model; it runs under the model's lock.
"""

from __future__ import annotations

from collections import OrderedDict

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import numpy as np
import torch
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.models.detection.transform import resize_boxes

from model_zoo import load_model
from model_zoo.adapters.torchvision_detectors import TorchvisionDetector, set_thresholds
from model_zoo.identity import weights_on_disk
from visioncompare.learn.stages import DefaultBoxes, RegionProposals

TWO_STAGE = "fasterrcnn_mobilenet_v3_large_320_fpn"
"""The two-stage detector the Learn page shows when the sidebar's is not one."""
ONE_STAGE = "ssdlite320_mobilenet_v3_large"
"""The anchor-based one-stage detector it shows when the sidebar's is not one."""


def is_two_stage(detector) -> bool:
    """A torchvision detector with a region proposal network (Faster R-CNN)."""
    return isinstance(detector, TorchvisionDetector) and hasattr(detector.model, "rpn")


def has_default_boxes(detector) -> bool:
    """A torchvision SSD / SSDlite (its anchor generator places default boxes)."""
    return isinstance(detector, TorchvisionDetector) and hasattr(
        getattr(detector.model, "anchor_generator", None), "aspect_ratios"
    )


def stage_detector(name: str, device: str = "cpu") -> TorchvisionDetector:
    """A torchvision detector with its weights when they are on this machine, else with
    random weights (no download: its ``weights_path`` is None)."""
    from model_zoo import get_spec

    spec = get_spec(name)
    return load_model(name, device, random_weights=not weights_on_disk(spec))


def _input(detector: TorchvisionDetector, image: np.ndarray):
    """The model's own preprocessing: (ImageList after its transform, features)."""
    dtype = torch.float16 if detector.half else torch.float32
    tensor = detector.transforms(torch.from_numpy(np.array(image)).permute(2, 0, 1))
    images, _ = detector.model.transform([tensor.to(detector.device, dtype)])
    features = detector.model.backbone(images.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    return images, features


def region_proposals(
    detector: TorchvisionDetector,
    image: np.ndarray,
    top_n: int = 20,
    conf: float = 0.25,
) -> RegionProposals:
    """Faster R-CNN's proposals (stage 1) and final boxes (stage 2) on one image.

    Args:
        detector: a loaded torchvision Faster R-CNN (``is_two_stage``).
        image: (H, W, 3) uint8 RGB.
        top_n: how many of the best proposals to return.
        conf: the second stage's score threshold.

    Raises:
        ValueError: the detector has no region proposal network.
    """
    if not is_two_stage(detector):
        raise ValueError(f"{detector.spec.name} has no region proposal network")
    model, h, w = detector.model, image.shape[0], image.shape[1]
    with detector.lock, torch.inference_mode():
        images, features = _input(detector, image)
        levels = list(features.values())
        rpn = model.rpn
        objectness, deltas = rpn.head(levels)
        anchors = rpn.anchor_generator(images, levels)
        per_level = [int(o[0].numel()) for o in objectness]
        objectness, deltas = concat_box_prediction_layers(objectness, deltas)
        decoded = rpn.box_coder.decode(deltas.detach(), anchors).view(1, -1, 4)
        boxes, scores = rpn.filter_proposals(
            decoded, objectness, images.image_sizes, per_level
        )
        set_thresholds(model, conf, model.roi_heads.nms_thresh, 300)
        detections, _ = model.roi_heads(features, boxes, images.image_sizes)
        detections = model.transform.postprocess(
            detections, images.image_sizes, [(h, w)]
        )
        order = torch.argsort(scores[0].float(), descending=True, stable=True)[:top_n]
        best = resize_boxes(boxes[0][order].float(), images.image_sizes[0], (h, w))
        final = detector._to_detections(detections[0])
        kept = len(boxes[0])
        best_scores = scores[0][order].float().cpu().numpy()
    return RegionProposals(
        best.cpu().numpy().astype(np.float32),
        best_scores.astype(np.float32),
        int(sum(per_level)),
        kept,
        final,
        detector.weights_path is not None,
    )


def default_boxes(
    detector: TorchvisionDetector,
    image: np.ndarray,
    level: int,
    point: tuple[float, float] | None = None,
) -> DefaultBoxes:
    """An SSD's default boxes at the cell of one feature map that holds a point.

    Args:
        detector: a loaded torchvision SSD or SSDlite (``has_default_boxes``).
        image: (H, W, 3) uint8 RGB.
        level: the feature map (0: the finest); clipped to the ones the model has.
        point: (x, y) in image pixels; None: the image centre.

    Raises:
        ValueError: the detector places no default boxes.
    """
    if not has_default_boxes(detector):
        raise ValueError(f"{detector.spec.name} has no default-box generator")
    generator = detector.model.anchor_generator
    h, w = image.shape[:2]
    x, y = point if point is not None else (w / 2, h / 2)
    with detector.lock, torch.inference_mode():
        images, features = _input(detector, image)
        levels = list(features.values())
        boxes = generator(images, levels)[0]
    per_cell = tuple(generator.num_anchors_per_location())
    grids = [tuple(int(s) for s in f.shape[-2:]) for f in levels]
    level = int(np.clip(level, 0, len(grids) - 1))
    rows, cols = grids[level]
    row = int(np.clip(y / h * rows, 0, rows - 1))
    col = int(np.clip(x / w * cols, 0, cols - 1))
    # The generator lays boxes out level by level, cell by cell (row-major), and the
    # cell's boxes one after another.
    start = sum(r * c * a for (r, c), a in zip(grids[:level], per_cell))
    start += (row * cols + col) * per_cell[level]
    cell = boxes[start : start + per_cell[level]].float()
    size = tuple(int(s) for s in images.image_sizes[0])
    on_image = resize_boxes(cell, size, (h, w)).cpu().numpy().astype(np.float32)
    return DefaultBoxes(
        on_image,
        level,
        (rows, cols),
        (row, col),
        per_cell,
        len(boxes),
        size,
        detector.weights_path is not None,
    )
