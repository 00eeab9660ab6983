"""The one interface every loaded model implements, whatever library it comes from.

Pages, the evaluation and the CLI read only these attributes, so they never ask which
library a model comes from. A new family is one adapter class satisfying this protocol
(a subclass of ``model_zoo.adapters.base.Adapter``, which implements it once for every
family) plus registry entries (``model_zoo.registry``) and one line in
``model_zoo.ADAPTERS``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from model_zoo.registry import ModelSpec
from visioncompare.kernel.types import Prediction


@runtime_checkable
class Model(Protocol):
    """What every loaded model has.

    Attributes:
        spec: its registry entry.
        device: where it runs (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
        class_names: every class it can output, indexed by the predictions' class ids.
        half: it runs in fp16.
        weights_path: the weights it was loaded from (None: random weights).
        lock: the one lock of this model object; every caller that runs it holds it (one
            model object is shared by every browser session).
    """

    spec: ModelSpec
    device: str
    class_names: tuple[str, ...]
    half: bool
    weights_path: Path | None
    lock: threading.Lock


@runtime_checkable
class ClassifierModel(Model, Protocol):
    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """One Prediction with a ``classification`` per (H, W, 3) uint8 RGB image."""
        ...


@runtime_checkable
class DetectorModel(Model, Protocol):
    def predict(
        self,
        images: Sequence[np.ndarray],
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 300,
        imgsz: int | None = None,
    ) -> list[Prediction]:
        """One Prediction with ``detections`` (absolute-pixel xyxy on the original image)
        per (H, W, 3) uint8 RGB image; ``conf`` and ``iou`` are the model's own score and
        NMS thresholds (``iou`` has no effect on an NMS-free model)."""
        ...
