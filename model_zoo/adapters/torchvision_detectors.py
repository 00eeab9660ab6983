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
from torchvision.models import get_model_builder, get_weight

from model_zoo.adapters.timing import StageTimer
from model_zoo.adapters.torchvision_common import TorchvisionModel, ready
from model_zoo.device import batch_size, resolve_device
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


def set_thresholds(
    model: torch.nn.Module, conf: float, iou: float, max_det: int
) -> None:
    """Set the model's own score threshold, NMS IoU and boxes per image.

    Faster R-CNN keeps them on its ROI heads (``box_score_thresh`` and friends at build
    time); SSD, RetinaNet and FCOS on the model itself.
    """
    target = getattr(model, "roi_heads", model)
    target.score_thresh = float(conf)
    target.nms_thresh = float(iou)
    target.detections_per_img = int(max_det)


def thresholds(model: torch.nn.Module) -> tuple[float, float, int]:
    """The (score, NMS IoU, boxes per image) the model uses now."""
    target = getattr(model, "roi_heads", model)
    return target.score_thresh, target.nms_thresh, target.detections_per_img


class TorchvisionDetector(TorchvisionModel):
    """A loaded torchvision detector; ``predict`` returns ``Detections``.

    The thresholds live on the model object, so ``predict`` sets them and runs under the
    model's one ``lock``: one model object is shared by every browser session.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model: torch.nn.Module,
        device: str,
        weights_path: Path | None,
    ) -> None:
        super().__init__(spec, model, device, weights_path)
        self.class_names, self._lookup = coco_mapping(self.meta["categories"])

    @classmethod
    def load(
        cls,
        spec: ModelSpec,
        device: str = "auto",
        weights_path: str | Path | None = None,
        random_weights: bool = False,
    ) -> TorchvisionDetector:
        """Build the model and load its weights from disk (or download them).

        Args:
            spec: a torchvision detection spec.
            device: ``"auto"`` or a device name.
            weights_path: an explicit weights file that wins over the lookup.
            random_weights: random weights, backbone included (contract tests; no file,
                no download).

        Raises:
            WeightsNotFoundError, DeviceError.
        """
        device = resolve_device(device, spec.devices)
        categories = get_weight(spec.weights_enum).meta["categories"]
        model = get_model_builder(spec.builder)(
            weights=None, weights_backbone=None, num_classes=len(categories)
        )
        path = ready(spec, model, device, weights_path, random_weights)
        return cls(spec, model, device, path)

    def _to_detections(self, output: dict[str, torch.Tensor]) -> Detections:
        labels = output["labels"].cpu().numpy()
        ids = self._lookup[labels]
        keep = ids >= 0  # a random-weight model may pick a hole; trained ones do not
        return Detections(
            output["boxes"].float().cpu().numpy()[keep],
            output["scores"].float().cpu().numpy()[keep],
            ids[keep],
            self.class_names,
        )

    def predict(
        self,
        images: Sequence[np.ndarray],
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 300,
        imgsz: int | None = None,
    ) -> list[Prediction]:
        """Boxes for each image.

        Args:
            images: (H, W, 3) uint8 RGB arrays.
            conf: the model's score threshold.
            iou: the model's (per-class) NMS IoU threshold.
            max_det: most boxes kept per image.
            imgsz: ignored: each model resizes to the size its weights were trained at.

        Returns:
            One Prediction per image with ``detections`` (absolute-pixel xyxy on the
            original image); a batch's time is shared equally by its images.
        """
        results: list[Prediction] = []
        step = batch_size(self.device)
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            with self.lock, torch.inference_mode():
                timer = StageTimer(self.device)
                dtype = torch.float16 if self.half else torch.float32
                # A copy: cached page images are read-only arrays, which torch will
                # not wrap.
                batch = [
                    self.transforms(torch.from_numpy(np.array(im)).permute(2, 0, 1)).to(
                        self.device, dtype
                    )
                    for im in chunk
                ]
                set_thresholds(self.model, conf, iou, max_det)
                timer.lap("pre")
                outputs = self.model(batch)
                timer.lap("inf")
                converted = [self._to_detections(o) for o in outputs]
                timer.lap("post")
            n = len(chunk)
            timing = Timing(
                timer.ms["pre"] / n, timer.ms["inf"] / n, timer.ms["post"] / n
            )
            results.extend(
                Prediction(self.spec.name, self.device, timing, detections=det)
                for det in converted
            )
        return results
