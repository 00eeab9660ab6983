"""What every adapter shares: the loaded model's state, the one load sequence, the batches
``predict`` runs in, and the wall-clock timing of each batch's stages.

A family's adapter subclasses ``Adapter`` (a detector: ``DetectorAdapter``) and gives two
things: ``_open``, which builds the network and finds its weights, and ``_predict_batch``,
which turns one batch of images into one ``Prediction`` each. The torchvision adapters get
both from ``model_zoo.adapters.torchvision_common.TorchvisionModel``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from model_zoo.device import batch_size, fp16_for, resolve_device, synchronize
from model_zoo.registry import ModelSpec
from visioncompare.kernel.types import Prediction, Timing

log = logging.getLogger(__name__)

_A = TypeVar("_A", bound="Adapter")


class StageTimer:
    """Measures the named stages of one batch (``pre``, ``inf``, ``post``) in milliseconds.

    GPU work is synchronised before each reading so the split is honest.
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self.ms: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Add the time since the previous lap (or the start) to ``stage``."""
        synchronize(self.device)
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self._start) * 1000.0
        self._start = now

    def per_image(self, n: int) -> Timing:
        """The ``pre``, ``inf`` and ``post`` laps shared equally by the batch's ``n`` images."""
        return Timing(self.ms["pre"] / n, self.ms["inf"] / n, self.ms["post"] / n)


class Adapter:
    """A loaded model of any family, with the attributes the model protocol reads
    (``model_zoo.protocol.Model``).

    One model object is shared by every browser session: ``lock`` guards it, and every
    caller that runs the model (``predict``, the Learn page's ``explain`` and ``stages``)
    holds it. A subclass sets ``class_names`` in its ``__init__``.

    Attributes:
        spec: its registry entry.
        model: the library's network object (a ``torch.nn.Module``, an Ultralytics model).
        device: where it runs (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
        half: it runs in fp16 (``model_zoo.device.fp16_for``).
        weights_path: the weights it was loaded from (None: random weights).
        lock: the one lock of this model object.
    """

    class_names: tuple[str, ...]

    def __init__(
        self, spec: ModelSpec, model: Any, device: str, weights_path: Path | None
    ) -> None:
        self.spec = spec
        self.model = model
        self.device = device
        self.half = fp16_for(spec.family, device)
        self.weights_path = weights_path
        self.lock = threading.Lock()
        """The one lock of this model object, held by every caller that runs it."""

    @classmethod
    def load(
        cls: type[_A],
        spec: ModelSpec,
        device: str = "auto",
        weights_path: str | Path | None = None,
        random_weights: bool = False,
    ) -> _A:
        """Build the model on a device with its weights: from disk, downloaded, or random.

        Args:
            spec: a spec of this adapter's task and family.
            device: ``"auto"`` or a device name.
            weights_path: an explicit weights file or folder that wins over the lookup.
            random_weights: random weights (contract tests; no file, no download); how
                each family builds them is its ``_open``'s.

        Raises:
            WeightsNotFoundError: not on disk, and no download (offline or not allowed).
            DeviceError: the device is missing or the model cannot run on it.
        """
        device = resolve_device(device, spec.devices)
        model, path = cls._open(spec, device, weights_path, random_weights)
        log.info("loaded %s on %s from %s", spec.name, device, path)
        return cls(spec, model, device, path)

    @classmethod
    def _open(
        cls, spec: ModelSpec, device: str, explicit: str | Path | None, random: bool
    ) -> tuple[Any, Path | None]:
        """The family's network ready to run on ``device``, and the weights file it was
        loaded from (None: ``random`` weights). Arguments as ``load``'s."""
        raise NotImplementedError

    def _in_batches(self, images: Sequence[np.ndarray], *args: Any) -> list[Prediction]:
        """``_predict_batch(batch, *args)`` on each run of ``batch_size(device)`` images:
        one Prediction per image, in order (a GPU batches, the CPU runs one at a time)."""
        results: list[Prediction] = []
        step = batch_size(self.device)
        for start in range(0, len(images), step):
            results.extend(self._predict_batch(images[start : start + step], *args))
        return results

    def _predict_batch(
        self, images: Sequence[np.ndarray], *args: Any
    ) -> list[Prediction]:
        """One Prediction per (H, W, 3) uint8 RGB image of one batch, run under ``lock``."""
        raise NotImplementedError


@dataclass(frozen=True)
class DetectOptions:
    """What a detector's ``predict`` was asked for, handed to each batch.

    Attributes:
        conf: the model's own score threshold.
        iou: its NMS IoU threshold (no effect on an NMS-free model).
        max_det: most boxes kept per image.
        imgsz: inference size (None: the model's own).
    """

    conf: float
    iou: float
    max_det: int
    imgsz: int | None


class DetectorAdapter(Adapter):
    """A loaded detector of any family (``model_zoo.protocol.DetectorModel``); its
    ``_predict_batch`` takes the ``DetectOptions``."""

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
            conf: the model's own score threshold.
            iou: the model's NMS IoU threshold (no effect on an NMS-free model).
            max_det: most boxes kept per image.
            imgsz: inference size (None: the model's own); torchvision's models ignore
                it: each resizes to the size its weights were trained at.

        Returns:
            One Prediction per image with ``detections`` (absolute-pixel xyxy on the
            original image) and its stage timings, as the family's ``_predict_batch``
            measures them.
        """
        return self._in_batches(images, DetectOptions(conf, iou, max_det, imgsz))
