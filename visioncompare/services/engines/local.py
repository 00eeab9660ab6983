"""The local engine: the model runs in this process, batch by batch, into the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from visioncompare.evaluation.prediction_runs import (
    DetectSettings,
    StoredRun,
    predict_detections,
    predict_probabilities,
)
from visioncompare.kernel.types import Detections
from visioncompare.services.engines.protocol import RunRequest


def load_on_device(name: str, device: str):
    """The model-zoo model ``name`` on ``device`` (``auto`` or a device it cannot use
    falls back to the best device it supports)."""
    from model_zoo import get_spec, load_model
    from model_zoo.device import device_for

    return load_model(name, device_for(device, get_spec(name).devices)[0])


@dataclass(frozen=True)
class LocalEngine:
    """Predict in this process.

    Attributes:
        device: ``auto`` or a device name.
        get_model: model name -> loaded model (the page passes its cached loader);
            None loads from the model zoo on ``device``.
    """

    device: str = "auto"
    get_model: Callable[[str], object] | None = None
    name = "local"

    def _load(self, model: str):
        return (self.get_model or partial(load_on_device, device=self.device))(model)

    def detections(
        self, request: RunRequest, settings: DetectSettings
    ) -> tuple[dict[int, Detections], StoredRun]:
        """See ``protocol.Engine.detections``."""
        model = self._load(request.model)
        return predict_detections(
            model, request.dataset, request.store, _identity(model), settings,
            batch_size=_batch(model.device), **_run_arguments(request, model.device),
        )  # fmt: skip

    def probabilities(self, request: RunRequest) -> tuple[dict[int, np.ndarray], StoredRun]:
        """See ``protocol.Engine.probabilities``."""
        model = self._load(request.model)
        return predict_probabilities(
            model, request.dataset, request.store, _identity(model),
            batch_size=_batch(model.device), **_run_arguments(request, model.device),
        )  # fmt: skip


def _run_arguments(request: RunRequest, device: str) -> dict:
    """Progress, stop, the stored record (with the device the model ran on) and the
    corruption."""
    return {
        "progress": request.progress,
        "should_stop": request.should_stop,
        "record": {**request.record, "device": device},
        "corruption": request.corruption,
    }


def _batch(device: str) -> int:
    from model_zoo.device import batch_size

    return batch_size(device)


def _identity(model) -> dict:
    from model_zoo.identity import loaded_identity

    return loaded_identity(model)
