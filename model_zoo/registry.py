"""The model registry: frozen specs, ``list_models()``, ``get_spec(name)``.

Specs name their weights by string so listing models imports no deep-learning library.
User weights dropped into a weights folder (``.pt``, ``.onnx``, an OpenVINO folder) are
listed as extra detectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from model_zoo import weights


class Task(str, Enum):
    CLASSIFY = "classify"
    DETECT = "detect"


@dataclass(frozen=True)
class ModelSpec:
    """What the app needs to know about a model before loading it.

    Attributes:
        name: registry key (stable, used in URLs, caches and stored results).
        title: what the page shows.
        task: classify or detect.
        family: ``torchvision``, ``torchvision-quantized`` or ``ultralytics``.
        builder: torchvision model name for ``get_model_builder`` (``resnet50``); empty for YOLO.
        weights_enum: torchvision weights enum member (``ResNet50_Weights.IMAGENET1K_V2``).
        weights_file: weights file or folder name looked up in the weights folders; empty
            when it is derived from the weights enum's URL.
        input_size: the model's square input side in pixels.
        categories: the label set (``imagenet-1k``, ``coco-80``).
        licence: the weights' licence.
        devices: device types the model runs on (None: any).
        downloadable: the library can download the weights when online.
        note: one line for the model page.
    """

    name: str
    title: str
    task: Task
    family: str
    weights_file: str = ""
    builder: str = ""
    weights_enum: str = ""
    input_size: int = 224
    categories: str = "imagenet-1k"
    licence: str = ""
    devices: tuple[str, ...] | None = None
    downloadable: bool = True
    note: str = ""
    architecture: str = ""
    """Ultralytics architecture YAML (``yolov8n.yaml``) for parameter and MAC counts."""


_BUILTIN: tuple[ModelSpec, ...] = (
    ModelSpec(
        "mobilenet_v2_quantized",
        "MobileNetV2 (INT8, quantized)",
        Task.CLASSIFY,
        "torchvision-quantized",
        weights_file="mobilenet_v2_qnnpack_imagenet1k.pth",
        builder="quantized_mobilenet_v2",
        weights_enum="MobileNet_V2_QuantizedWeights.IMAGENET1K_QNNPACK_V1",
        licence="BSD-3-Clause",
        devices=("cpu",),
        downloadable=False,
        note="Bundled offline. Quantized kernels run on the CPU only.",
    ),
    ModelSpec(
        "resnet50",
        "ResNet-50",
        Task.CLASSIFY,
        "torchvision",
        builder="resnet50",
        weights_enum="ResNet50_Weights.DEFAULT",
        licence="BSD-3-Clause",
        note="Downloaded by torchvision when online (98 MB).",
    ),
    ModelSpec(
        "mobilenet_v3_large",
        "MobileNetV3-Large",
        Task.CLASSIFY,
        "torchvision",
        builder="mobilenet_v3_large",
        weights_enum="MobileNet_V3_Large_Weights.DEFAULT",
        licence="BSD-3-Clause",
        note="Downloaded by torchvision when online (21 MB).",
    ),
    ModelSpec(
        "efficientnet_b0",
        "EfficientNet-B0",
        Task.CLASSIFY,
        "torchvision",
        builder="efficientnet_b0",
        weights_enum="EfficientNet_B0_Weights.DEFAULT",
        licence="Apache-2.0",
        note="Downloaded by torchvision when online (20 MB).",
    ),
    ModelSpec(
        "yolov8n-int8",
        "YOLOv8n (INT8, OpenVINO)",
        Task.DETECT,
        "ultralytics",
        weights_file="yolov8n_int8_openvino_model",
        input_size=640,
        categories="coco-80",
        licence="AGPL-3.0",
        devices=("cpu",),
        downloadable=False,
        note="Bundled offline: an INT8 OpenVINO export of YOLOv8n; OpenVINO runs on the CPU.",
        architecture="yolov8n.yaml",
    ),
    *(
        ModelSpec(
            f"yolov8{size}",
            f"YOLOv8{size}",
            Task.DETECT,
            "ultralytics",
            weights_file=f"yolov8{size}.pt",
            input_size=640,
            categories="coco-80",
            licence="AGPL-3.0",
            note="Downloaded by Ultralytics when online.",
            architecture=f"yolov8{size}.yaml",
        )
        for size in "nsmlx"
    ),
)

USER_WEIGHT_SUFFIXES = (".pt", ".onnx", ".engine", ".torchscript", ".mlpackage")


def _user_detectors() -> list[ModelSpec]:
    """Ultralytics-loadable weights that a user put in a weights folder."""
    known = {spec.weights_file for spec in _BUILTIN}
    found: dict[str, ModelSpec] = {}
    for folder in weights.weights_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            is_model_dir = path.is_dir() and path.name.endswith(
                ("_openvino_model", "_saved_model", "_ncnn_model")
            )
            is_model_file = path.is_file() and path.suffix in USER_WEIGHT_SUFFIXES
            if path.name in known or not (is_model_dir or is_model_file):
                continue
            name = f"custom:{path.name}"
            found.setdefault(
                name,
                ModelSpec(
                    name,
                    f"{path.name} (your weights)",
                    Task.DETECT,
                    "ultralytics",
                    weights_file=path.name,
                    input_size=640,
                    categories="from the weights",
                    licence="as given by the weights' owner",
                    downloadable=False,
                    note=f"Found in {folder}.",
                ),
            )
    return list(found.values())


def list_models(task: Task | str | None = None) -> list[ModelSpec]:
    """Every registered model (built-in, then user weights), optionally for one task."""
    specs = [*_BUILTIN, *_user_detectors()]
    if task is not None:
        specs = [s for s in specs if s.task is Task(task)]
    return specs


def get_spec(name: str) -> ModelSpec:
    """The spec registered under ``name``.

    Raises:
        KeyError: with the list of known names.
    """
    for spec in list_models():
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in list_models())
    raise KeyError(f"unknown model {name!r}; known models: {known}")


def weights_on_disk(spec: ModelSpec) -> bool:
    """True when the spec's weights are already on this machine (no network needed)."""
    if spec.family == "torchvision":
        from model_zoo.classifiers import torchvision_weights_file

        return weights.locate(torchvision_weights_file(spec)) is not None
    return weights.locate(spec.weights_file) is not None
