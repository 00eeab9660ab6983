"""The model zoo: the only package that imports torch, torchvision and ultralytics.

Adapters return the core's dataclasses; no tensor leaves this package.
"""

from __future__ import annotations

import os

# Never pip-install at run time from inside a web server, and do not phone home.
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("YOLO_VERBOSE", "false")

from model_zoo.registry import (
    ModelSpec,
    Task,
    get_spec,
    list_models,
)
from model_zoo.weights import WeightsNotFoundError

__all__ = [
    "ModelSpec",
    "Task",
    "WeightsNotFoundError",
    "get_spec",
    "list_models",
    "load_model",
]


def load_model(name: str, device: str = "auto", **kwargs):
    """Load a registered model on a device (``"auto"``: cuda, then mps, then cpu).

    Returns a ``Classifier`` or ``Detector`` whose ``predict`` returns core types.

    Raises:
        KeyError: unknown model name.
        WeightsNotFoundError: weights are not on disk and could not be downloaded.
        model_zoo.device.DeviceError: the model cannot run on the requested device.
    """
    spec = get_spec(name)
    if spec.task is Task.CLASSIFY:
        from model_zoo.classifiers import Classifier

        return Classifier.load(spec, device, **kwargs)
    from model_zoo.detectors import Detector

    return Detector.load(spec, device, **kwargs)
