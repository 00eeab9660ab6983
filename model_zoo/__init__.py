"""The model zoo: the only package that imports torch, torchvision and ultralytics.

It holds the registry of models (``registry``: specs, ``list_models``, ``get_spec``), their
weights (``weights``: the lookup and download; ``identity``: which file, whether it is on
this machine, SHA-256), the device choice (``device``), the model protocol (``protocol``),
the family adapters (``adapters``, loaded by ``load_model`` through ``ADAPTERS``), and what
the pages ask of loaded models: published figures (``figures``), the Learn page's
``explain`` and ``stages``, tracking (``tracking``), a classifier and a detector run
together (``pipeline``) and the operator's settings (``operator_settings``).

Adapters return the kernel's dataclasses; no tensor leaves this package. May import
``visioncompare.kernel`` and the data types of ``visioncompare.learn``; never streamlit,
the services, the app's ``components`` or ``pages``. Importing this package or listing
models imports no deep-learning library: the adapters are imported when a model loads.
"""

from __future__ import annotations

import os

# Never pip-install at run time from inside a web server, and do not phone home.
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("YOLO_VERBOSE", "false")

import importlib

from model_zoo.registry import (
    ModelFamily,
    ModelSpec,
    PublishedFigures,
    Task,
    get_spec,
    list_models,
)
from model_zoo.weights import WeightsNotFoundError

__all__ = [
    "ADAPTERS",
    "ModelFamily",
    "ModelSpec",
    "PublishedFigures",
    "Task",
    "WeightsNotFoundError",
    "get_spec",
    "list_models",
    "load_model",
]

_CLASSIFIER = "model_zoo.adapters.classifiers:Classifier"
ADAPTERS: dict[tuple[Task, ModelFamily], str] = {
    (Task.CLASSIFY, ModelFamily.TORCHVISION): _CLASSIFIER,
    (Task.CLASSIFY, ModelFamily.TORCHVISION_QUANTIZED): _CLASSIFIER,
    (Task.DETECT, ModelFamily.ULTRALYTICS): (
        "model_zoo.adapters.ultralytics_detectors:Detector"
    ),
    (Task.DETECT, ModelFamily.TORCHVISION): (
        "model_zoo.adapters.torchvision_detectors:TorchvisionDetector"
    ),
}
"""(task, family) -> the adapter class (``module:Class``) that loads it; imported only when
a model of that kind is loaded, so listing models imports no deep-learning library."""


def load_model(name: str, device: str = "auto", **kwargs):
    """Load a registered model on a device (``"auto"``: cuda, then mps, then cpu).

    Returns a model implementing ``model_zoo.protocol.ClassifierModel`` or
    ``DetectorModel``: ``predict`` returns the kernel's types.

    Args:
        name: a registry name.
        device: ``"auto"`` or a device name.
        **kwargs: passed to the adapter's ``load`` (``weights_path``, ``random_weights``).

    Raises:
        KeyError: unknown model name.
        NotImplementedError: no adapter for the spec's task and family.
        WeightsNotFoundError: weights are not on disk and could not be downloaded.
        model_zoo.device.DeviceError: the model cannot run on the requested device.
    """
    spec = get_spec(name)
    target = ADAPTERS.get((spec.task, spec.family))
    if target is None:
        raise NotImplementedError(
            f"no adapter loads {spec.family.value} {spec.task.value} models ({name})"
        )
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls).load(spec, device, **kwargs)
