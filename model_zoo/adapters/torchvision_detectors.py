"""torchvision COCO detectors: Faster R-CNN, SSD, SSDlite, RetinaNet, FCOS.

Preprocessing, weights and categories come from the weights enum (``weights.transforms()``,
``weights.meta["categories"]``). The models resize and normalise inside (their
``GeneralizedRCNNTransform``) and return boxes on the original image. The 91-entry
category list (background and "N/A" holes included) maps onto the 80 COCO names, so the
``Detections`` carry the same class names as every other COCO detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import numpy as np
import torch
from torch import nn
from torchvision.models import get_model_builder, get_weight

from model_zoo.adapters.base import DetectOptions, DetectorAdapter
from model_zoo.adapters.torchvision_common import TorchvisionModel
from model_zoo.registry import ModelSpec
from visioncompare.kernel.types import Detections, Prediction, Timing

HOLES = ("__background__", "N/A")
"""Entries of torchvision's 91 COCO categories that are no class (background, and the ids
the COCO paper defined but the dataset never used)."""


def coco_mapping(categories: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """torchvision's category list -> (class names, label -> class id lookup).

    Args:
        categories: ``weights.meta["categories"]`` (91 entries, holes included).

    Returns:
        (the names without holes, in order; an int64 array mapping each model label to
        its index in those names, -1 for a hole).
    """
    names: list[str] = []
    lookup = np.full(len(categories), -1, np.int64)
    for label, name in enumerate(categories):
        if name not in HOLES:
            lookup[label] = len(names)
            names.append(name)
    return tuple(names), lookup


def set_thresholds(model: nn.Module, conf: float, iou: float, max_det: int) -> None:
    """Set the model's own score threshold, NMS IoU and boxes per image.

    Faster R-CNN keeps them on its ROI heads (``box_score_thresh`` and friends at build
    time); SSD, RetinaNet and FCOS on the model itself.
    """
    target = getattr(model, "roi_heads", model)
    target.score_thresh = float(conf)
    target.nms_thresh = float(iou)
    target.detections_per_img = int(max_det)


def thresholds(model: nn.Module) -> tuple[float, float, int]:
    """The (score, NMS IoU, boxes per image) the model uses now."""
    target = getattr(model, "roi_heads", model)
    return target.score_thresh, target.nms_thresh, target.detections_per_img


class TorchvisionDetector(TorchvisionModel, DetectorAdapter):
    """A loaded torchvision detector (``model_zoo.protocol.DetectorModel``); ``predict``
    returns ``Detections`` with the 80 COCO names.

    The thresholds live on the model object, so each batch sets them and runs under the
    model's one ``lock``: one model object is shared by every browser session. A batch's
    time is shared equally by its images.
    """

    def __init__(
        self, spec: ModelSpec, model: nn.Module, device: str, weights_path: Path | None
    ) -> None:
        super().__init__(spec, model, device, weights_path)
        self.class_names, self._lookup = coco_mapping(self.meta["categories"])

    @classmethod
    def _network(cls, spec: ModelSpec) -> nn.Module:
        """Random weights, backbone included, with one output per category."""
        categories = get_weight(spec.weights_enum).meta["categories"]
        return get_model_builder(spec.builder)(
            weights=None, weights_backbone=None, num_classes=len(categories)
        )

    def _preprocess(
        self, images: Sequence[np.ndarray], options: DetectOptions
    ) -> list[torch.Tensor]:
        """Each image as a (3, H, W) tensor through the weights' transforms; the model's
        thresholds set to ``options`` (``imgsz`` is ignored: the model resizes inside)."""
        dtype = torch.float16 if self.half else torch.float32
        # A copy: cached page images are read-only arrays, which torch will not wrap.
        batch = [
            self.transforms(torch.from_numpy(np.array(im)).permute(2, 0, 1)).to(
                self.device, dtype
            )
            for im in images
        ]
        set_thresholds(self.model, options.conf, options.iou, options.max_det)
        return batch

    def _postprocess(self, outputs: list[dict[str, torch.Tensor]]) -> list[Detections]:
        return [self._to_detections(o) for o in outputs]

    def _to_detections(self, output: dict[str, torch.Tensor]) -> Detections:
        """One image's ``boxes``, ``scores`` and ``labels`` -> Detections on COCO ids."""
        labels = output["labels"].cpu().numpy()
        ids = self._lookup[labels]
        keep = ids >= 0  # a random-weight model may pick a hole; trained ones do not
        return Detections(
            output["boxes"].float().cpu().numpy()[keep],
            output["scores"].float().cpu().numpy()[keep],
            ids[keep],
            self.class_names,
        )

    def _prediction(self, timing: Timing, result: Detections) -> Prediction:
        return Prediction(self.spec.name, self.device, timing, detections=result)
