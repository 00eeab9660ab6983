"""``yolo val`` from Python: Ultralytics' own validator on a YOLO-format dataset, with the
settings ``yolo val`` uses by default, its numbers and predictions returned as plain
Python values (no tensor leaves this module).

The command ``yolo val model=W data=D`` calls ``YOLO(W).val(data=D)``; so does
``validate``, adding only what changes no number: no plots, the predictions saved as
JSON (``save_json``), its files in a temporary folder, and quiet. Everything else is the
validator's default: the image size and batch from an exported model's metadata (640 and
1 for the bundled OpenVINO export), rectangular batches for PyTorch weights only, conf
0.001, NMS IoU 0.7, multi-label NMS, 300 boxes per image, fp32 unless the weights are
fp16.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
from model_zoo.adapters.ultralytics_detectors import Detector, _keep_torch_threads
from model_zoo.device import resolve_device
from model_zoo.registry import ModelFamily, ModelSpec, Task, get_spec

SETTINGS_SHOWN = (
    "imgsz",
    "batch",
    "rect",
    "conf",
    "iou",
    "max_det",
    "quantize",
    "half",
)
"""The validator arguments ``ValResult.settings`` reports (those that exist in the
installed Ultralytics)."""


@dataclass(frozen=True)
class ValResult:
    """What ``yolo val`` printed and predicted.

    Attributes:
        map50: the mAP50 of its "all" row (``metrics.box.map50``).
        map50_95: its mAP50-95 (``metrics.box.map``).
        names: the model's class names, by class index.
        predictions: its ``predictions.json`` entries: ``file_name``, ``category_id``
            (the class index + 1: a custom dataset's ``class_map``), ``bbox``
            ``[x, y, w, h]`` in the original image's pixels (rounded to 3 decimals) and
            ``score`` (to 5), as Ultralytics writes them.
        images: the images it scored.
        settings: the validator arguments it ran with (``SETTINGS_SHOWN``) and the
            device.
        version: the Ultralytics version.
    """

    map50: float
    map50_95: float
    names: tuple[str, ...]
    predictions: list[dict] = field(repr=False)
    images: int
    settings: dict
    version: str


def _ultralytics_detector(name: str) -> ModelSpec:
    """The registry spec of an Ultralytics detector ``yolo val`` can score.

    Raises:
        KeyError: unknown model name.
        ValueError: not an Ultralytics detector, or an open-vocabulary one (its classes
            are the ones it is given, which ``yolo val`` does not give).
    """
    spec = get_spec(name)
    if spec.task != Task.DETECT or spec.family != ModelFamily.ULTRALYTICS:
        raise ValueError(
            f"{name} is not an Ultralytics detector: yolo val cannot run it"
        )
    if spec.open_vocabulary:
        raise ValueError(
            f"{name} is open-vocabulary: yolo val scores a fixed set of classes"
        )
    return spec


def validate(name: str, data_yaml: str | Path, device: str = "auto") -> ValResult:
    """Run Ultralytics' validator on a YOLO dataset as ``yolo val`` does.

    Args:
        name: a registry name of an Ultralytics detector.
        data_yaml: the dataset's ``data.yaml`` (``train`` and ``val`` keys, ``names`` the
            model's classes in its order).
        device: ``"auto"`` or a device name.

    Returns:
        Its printed mAP50 and mAP50-95, its predictions and settings.

    Raises:
        KeyError, ValueError (see ``_ultralytics_detector``), WeightsNotFoundError,
        model_zoo.device.DeviceError, and whatever Ultralytics raises on a dataset it
        cannot read.
    """
    import ultralytics

    spec = _ultralytics_detector(name)
    device = resolve_device(device, spec.devices)
    used: dict = {}
    with _keep_torch_threads(), tempfile.TemporaryDirectory(prefix="yolo-val-") as tmp:
        model, _ = Detector._open(spec, device, None, False)
        base = model.task_map[model.task]["validator"]

        class Recording(base):
            """The task's validator, keeping its arguments and image count."""

            def __call__(self, *args, **kwargs):
                try:
                    return super().__call__(*args, **kwargs)
                finally:
                    used.update(vars(self.args), images=self.seen)

        metrics = model.val(
            validator=Recording,
            data=str(Path(data_yaml).resolve()),
            device=device,
            plots=False,
            save_json=True,
            project=tmp,
            name="val",
            exist_ok=True,
            verbose=False,
        )
        saved = Path(tmp) / "val" / "predictions.json"
        predictions = json.loads(saved.read_text()) if saved.is_file() else []
    names = metrics.names
    return ValResult(
        map50=float(metrics.box.map50),
        map50_95=float(metrics.box.map),
        names=tuple(str(names[i]) for i in sorted(names)),
        predictions=predictions,
        images=int(used.get("images") or 0),
        settings={
            **{k: used[k] for k in SETTINGS_SHOWN if k in used},
            "device": device,
        },
        version=ultralytics.__version__,
    )
