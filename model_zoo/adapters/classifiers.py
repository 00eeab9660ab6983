"""torchvision classifiers: preprocessing and category names come from the weights enum."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.ao.quantization import (
    QConfig,
    convert,
    default_observer,
    default_weight_observer,
    prepare,
)
from torchvision.models import get_model_builder

from model_zoo.adapters.torchvision_common import TorchvisionModel
from model_zoo.registry import ModelFamily, ModelSpec
from visioncompare.kernel.types import Classification, Prediction, Timing

__all__ = ["Classifier", "quantized_skeleton"]


def quantized_skeleton(builder: Callable[..., nn.Module]) -> nn.Module:
    """A torchvision quantizable architecture converted to INT8 (QNNPACK), with no
    calibration: the shape its quantized state dict is loaded into.

    torchvision's own ``builder(quantize=True)`` (``quantize_model``) runs a calibration
    pass on a random 299x299 picture between ``prepare`` and ``convert``: the observers'
    scales it sets are all overwritten by the state dict (every layer's weights, scale and
    zero point are in it), and the pass was about two thirds of this model's load time
    on a 2-core machine (docs/benchmarks.md, "First minute"). The rest is the same steps
    with the same QConfig, so the loaded model is the same:
    ``tests/test_model_zoo.py`` compares its outputs with torchvision's path. With random
    weights the activations keep the observers' default scale (1.0).
    """
    # Quantized kernels: QNNPACK matches how these weights were calibrated.
    torch.backends.quantized.engine = "qnnpack"
    with warnings.catch_warnings():
        # torch.ao deprecation notices about building quantized modules, and "run the
        # observer before calculate_qparams": noise for a user, nothing to act on.
        warnings.simplefilter("ignore", UserWarning)
        model = builder(weights=None, quantize=False).eval()
        model.qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
        model.fuse_model()
        prepare(model, inplace=True)
        convert(model, inplace=True)
    return model


class Classifier(TorchvisionModel):
    """A loaded torchvision classifier (``model_zoo.protocol.ClassifierModel``).

    One model object is shared by every browser session: ``lock`` guards it, and every
    caller that runs the model (``predict``, the saliency maps in ``explain``) holds it.
    """

    def __init__(
        self, spec: ModelSpec, model: nn.Module, device: str, weights_path: Path | None
    ) -> None:
        super().__init__(spec, model, device, weights_path)
        self.class_names: tuple[str, ...] = tuple(self.meta["categories"])
        self.num_params = sum(p.numel() for p in model.parameters()) or int(
            self.meta.get("num_params", 0)
        )
        linears = [m for m in model.modules() if hasattr(m, "in_features")]
        self.feature_dim: int = int(linears[-1].in_features) if linears else 0
        """Length of the pooled feature vector the classification head reads."""

    @classmethod
    def _network(cls, spec: ModelSpec) -> nn.Module:
        builder = get_model_builder(spec.builder)
        if spec.family is not ModelFamily.TORCHVISION_QUANTIZED:
            return builder(weights=None)
        return quantized_skeleton(builder)

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Class probabilities for each image.

        Args:
            images: (H, W, 3) uint8 RGB arrays.

        Returns:
            One Prediction per image with a ``classification`` (softmax over every class)
            and the per-image timing (a batch's time is shared equally by its images).
        """
        return self._in_batches(images)

    def _preprocess(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        # Through PIL, exactly as the weights' transforms were designed: PIL's resize is
        # also faster here than resizing a permuted uint8 tensor.
        batch = torch.stack([self.transforms(Image.fromarray(im)) for im in images])
        batch = batch.to(self.device)
        return batch.half() if self.half else batch

    def _postprocess(self, logits: torch.Tensor) -> np.ndarray:
        """(N, C) logits -> (N, C) float32 probabilities."""
        return logits.float().softmax(dim=1).cpu().numpy()

    def _prediction(self, timing: Timing, result: np.ndarray) -> Prediction:
        classification = Classification(result, self.class_names)
        return Prediction(
            self.spec.name, self.device, timing, classification=classification
        )
