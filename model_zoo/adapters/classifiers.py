"""torchvision classifiers: preprocessing and category names come from the weights enum."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import numpy as np
import torch
from PIL import Image
from torchvision.models import get_model_builder

from model_zoo.adapters.timing import StageTimer
from model_zoo.adapters.torchvision_common import TorchvisionModel, ready
from model_zoo.device import batch_size, resolve_device
from model_zoo.registry import ModelFamily, ModelSpec
from visioncompare.kernel.types import Classification, Prediction, Timing

__all__ = ["Classifier"]


class Classifier(TorchvisionModel):
    """A loaded torchvision classifier.

    One model object is shared by every browser session: ``lock`` guards it, and every
    caller that runs the model (``predict``, the saliency maps in ``explain``) holds it.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model: torch.nn.Module,
        device: str,
        weights_path: Path | None,
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
    def load(
        cls,
        spec: ModelSpec,
        device: str = "auto",
        weights_path: str | Path | None = None,
        random_weights: bool = False,
    ) -> Classifier:
        """Build the model and load its weights from disk (or download them).

        Args:
            spec: a classification spec.
            device: ``"auto"`` or a device name.
            weights_path: an explicit weights file that wins over the lookup.
            random_weights: build with random weights (contract tests; no file, no download).

        Raises:
            WeightsNotFoundError, DeviceError.
        """
        device = resolve_device(device, spec.devices)
        builder = get_model_builder(spec.builder)
        if spec.family is ModelFamily.TORCHVISION_QUANTIZED:
            # Quantized kernels: QNNPACK matches how these weights were calibrated.
            torch.backends.quantized.engine = "qnnpack"
            with warnings.catch_warnings():
                # torch.ao deprecation notices about building quantized modules: noise
                # for a user, and nothing they can act on.
                warnings.simplefilter("ignore", UserWarning)
                model = builder(weights=None, quantize=True)
        else:
            model = builder(weights=None)
        path = ready(spec, model, device, weights_path, random_weights)
        return cls(spec, model, device, path)

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Class probabilities for each image.

        Args:
            images: (H, W, 3) uint8 RGB arrays.

        Returns:
            One Prediction per image with a ``classification`` and the per-image timing
            (a batch's time is shared equally by its images).
        """
        results: list[Prediction] = []
        step = batch_size(self.device)
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            with self.lock, torch.inference_mode():
                timer = StageTimer(self.device)
                # Through PIL, exactly as the weights' transforms were designed: PIL's
                # resize is also faster here than resizing a permuted uint8 tensor.
                batch = torch.stack(
                    [self.transforms(Image.fromarray(im)) for im in chunk]
                ).to(self.device)
                if self.half:
                    batch = batch.half()
                timer.lap("pre")
                logits = self.model(batch)
                timer.lap("inf")
                probs = logits.float().softmax(dim=1).cpu().numpy()
                timer.lap("post")
            n = len(chunk)
            timing = Timing(
                timer.ms["pre"] / n, timer.ms["inf"] / n, timer.ms["post"] / n
            )
            results.extend(
                Prediction(
                    self.spec.name,
                    self.device,
                    timing,
                    classification=Classification(p, self.class_names),
                )
                for p in probs
            )
        return results
