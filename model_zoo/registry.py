"""The model registry: frozen specs, ``list_models()``, ``get_spec(name)``.

Specs name their weights by string so listing models imports no deep-learning library.
User weights dropped into a weights folder (``.pt``, ``.onnx``, an OpenVINO folder) are
listed as extra detectors. Which file holds a spec's weights, and its SHA-256, is answered
once, in ``model_zoo.identity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from model_zoo import weights
from model_zoo.operator_settings import shown_path


class Task(str, Enum):
    CLASSIFY = "classify"
    DETECT = "detect"


class ModelFamily(str, Enum):
    """The library (and kind of weights) a model comes from; it picks the adapter that
    loads it. A str enum: ``ModelFamily("ultralytics")`` and comparisons with the string
    value both work, so stored results and old callers keep reading it."""

    ULTRALYTICS = "ultralytics"
    TORCHVISION = "torchvision"
    TORCHVISION_QUANTIZED = "torchvision-quantized"

    @property
    def is_torchvision(self) -> bool:
        """torchvision builds it (fp32 or quantized), and its weights enum gives its
        preprocessing, categories and published figures."""
        return self in (ModelFamily.TORCHVISION, ModelFamily.TORCHVISION_QUANTIZED)


@dataclass(frozen=True)
class PublishedFigures:
    """What the weights' publisher reports (not what this machine measured).

    Attributes:
        metric: what ``accuracy`` is (``COCO box AP``, ``ImageNet top-1``), in percent.
        accuracy: the published value, in percent (None: not published).
        params_m: parameters, in millions.
        gflops: GFLOPs of one forward pass at the model's input size, as published.
        source: where the figures come from.
    """

    metric: str
    accuracy: float | None
    params_m: float | None
    gflops: float | None
    source: str


@dataclass(frozen=True)
class ModelSpec:
    """What the app needs to know about a model before loading it.

    Attributes:
        name: registry key (stable, used in URLs, caches and stored results).
        title: what the page shows.
        task: classify or detect.
        family: the ``ModelFamily`` (a string value is accepted and converted).
        builder: torchvision model name for ``get_model_builder`` (``resnet50``); empty for
            Ultralytics models.
        weights_enum: torchvision weights enum member (``ResNet50_Weights.IMAGENET1K_V2``).
        weights_file: weights file or folder name looked up in the weights folders; empty
            when it is derived from the weights enum's URL.
        input_size: the model's square input side in pixels.
        categories: the label set (``imagenet-1k``, ``coco-80``).
        licence: the weights' licence.
        devices: device types the model runs on (None: any).
        downloadable: the library can download the weights when online.
        note: one line for the model page.
        architecture: Ultralytics architecture YAML (``yolov8n.yaml``): random-weight
            builds (tests) and parameter and MAC counts.
        nms_free: the model outputs final boxes itself (end-to-end); no NMS IoU applies.
        published: the publisher's figures for Ultralytics models (torchvision's come
            from the weights' own metadata: ``model_zoo.figures.published_figures``).
        open_vocabulary: the detector finds the classes it is given as text
            (``Detector.with_vocabulary``).
    """

    name: str
    title: str
    task: Task
    family: ModelFamily
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
    nms_free: bool = False
    published: PublishedFigures | None = None
    open_vocabulary: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", ModelFamily(self.family))
        object.__setattr__(self, "task", Task(self.task))


ULTRALYTICS_SOURCE = (
    "Ultralytics docs (docs.ultralytics.com/models), COCO val2017 mAP 50-95 at 640 px"
)
"""Where the Ultralytics figures below come from."""

_ULTRALYTICS_PUBLISHED: dict[str, tuple[float, float, float]] = {
    # name: (COCO box AP, params (M), GFLOPs) as the publisher's tables give them.
    "yolov8n": (37.3, 3.2, 8.7),
    "yolov8s": (44.9, 11.2, 28.6),
    "yolov8m": (50.2, 25.9, 78.9),
    "yolov8l": (52.9, 43.7, 165.2),
    "yolov8x": (53.9, 68.2, 257.8),
    "yolo11n": (39.5, 2.6, 6.5),
    "yolo11s": (47.0, 9.4, 21.5),
    "yolo11m": (51.5, 20.1, 68.0),
    "yolo11l": (53.4, 25.3, 86.9),
    "yolo11x": (54.7, 56.9, 194.9),
    # YOLO26: the end-to-end (NMS-free) AP, the way this app runs it.
    "yolo26n": (40.1, 2.4, 5.4),
    "yolo26s": (47.8, 9.5, 20.7),
    "yolo26m": (52.5, 20.4, 68.2),
    "yolo26l": (54.4, 24.8, 86.4),
    "yolo26x": (56.9, 55.7, 193.9),
    "yolov10n": (38.5, 2.3, 6.7),
    "yolov10s": (46.3, 7.2, 21.6),
    "yolov10m": (51.1, 15.4, 59.1),
    "yolov10b": (52.5, 19.1, 92.0),
    "yolov10l": (53.2, 24.4, 120.3),
    "yolov10x": (54.4, 29.5, 160.4),
    "rtdetr-l": (53.0, 32.0, 110.0),
    "rtdetr-x": (54.8, 67.0, 234.0),
}

_ULTRALYTICS_TITLES: dict[str, str] = {
    **{f"yolov8{s}": f"YOLOv8{s}" for s in "nsmlx"},
    **{f"yolo11{s}": f"YOLO11{s}" for s in "nsmlx"},
    **{f"yolo26{s}": f"YOLO26{s} (NMS-free)" for s in "nsmlx"},
    **{f"yolov10{s}": f"YOLOv10-{s.upper()} (NMS-free)" for s in "nsmblx"},
    "rtdetr-l": "RT-DETR-L (transformer, NMS-free)",
    "rtdetr-x": "RT-DETR-X (transformer, NMS-free)",
}

_NMS_FREE_PREFIXES = ("yolo26", "yolov10", "rtdetr")


def _published(name: str, source: str = ULTRALYTICS_SOURCE) -> PublishedFigures:
    ap, params, gflops = _ULTRALYTICS_PUBLISHED[name]
    return PublishedFigures("COCO box AP", ap, params, gflops, source)


def _ultralytics(name: str, title: str, weights_file: str, **fields: Any) -> ModelSpec:
    """An Ultralytics detector: at 640 px, on COCO's 80 classes and under AGPL-3.0 unless
    ``fields`` (``ModelSpec``'s own) say otherwise."""
    fields = {
        "input_size": 640,
        "categories": "coco-80",
        "licence": "AGPL-3.0",
        **fields,
    }
    return ModelSpec(
        name,
        title,
        Task.DETECT,
        ModelFamily.ULTRALYTICS,
        weights_file=weights_file,
        **fields,
    )


def _official_ultralytics(name: str, title: str) -> ModelSpec:
    """An official Ultralytics detector, downloaded by Ultralytics when online."""
    nms_free = name.startswith(_NMS_FREE_PREFIXES)
    return _ultralytics(
        name,
        title,
        f"{name}.pt",
        note="Downloaded by Ultralytics when online."
        + (" End-to-end: it outputs final boxes, no NMS." if nms_free else ""),
        architecture=f"{name}.yaml",
        nms_free=nms_free,
        published=_published(name),
    )


def _torchvision(
    task: Task, name: str, title: str, enum: str, **fields: Any
) -> ModelSpec:
    """A torchvision model built by ``get_model_builder(name)`` from the weights enum
    member ``enum``, whose download URL names its weights file; ``fields`` are
    ``ModelSpec``'s own."""
    return ModelSpec(
        name,
        title,
        task,
        ModelFamily.TORCHVISION,
        builder=name,
        weights_enum=enum,
        **fields,
    )


_TORCHVISION_CLASSIFIERS: tuple[tuple[str, str, str, str, int], ...] = (
    # name (its builder), title, weights enum, licence, download size in MB
    ("resnet50", "ResNet-50", "ResNet50_Weights.DEFAULT", "BSD-3-Clause", 98),
    (
        "mobilenet_v3_large",
        "MobileNetV3-Large",
        "MobileNet_V3_Large_Weights.DEFAULT",
        "BSD-3-Clause",
        21,
    ),
    (
        "efficientnet_b0",
        "EfficientNet-B0",
        "EfficientNet_B0_Weights.DEFAULT",
        "Apache-2.0",
        20,
    ),
)


def _torchvision_classifier(
    name: str, title: str, enum: str, licence: str, megabytes: int
) -> ModelSpec:
    """A torchvision ImageNet classifier, downloaded by torchvision when online."""
    note = f"Downloaded by torchvision when online ({megabytes} MB)."
    return _torchvision(Task.CLASSIFY, name, title, enum, licence=licence, note=note)


_TORCHVISION_DETECTORS: tuple[tuple[str, str, str, int, str], ...] = (
    # name (its builder), title, weights enum, input size (the transform's shorter side),
    # note
    (
        "fasterrcnn_resnet50_fpn_v2",
        "Faster R-CNN ResNet-50 FPN v2 (two-stage)",
        "FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1",
        800,
        "Two-stage: a region proposal network, then a box head on each proposal.",
    ),
    (
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "Faster R-CNN MobileNetV3-Large 320 FPN (two-stage)",
        "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1",
        320,
        "Two-stage, on a mobile backbone at 320 px: fast, and weak on small objects.",
    ),
    (
        "ssd300_vgg16",
        "SSD300 VGG16 (one-stage)",
        "SSD300_VGG16_Weights.COCO_V1",
        300,
        "One-stage: default boxes on six feature maps.",
    ),
    (
        "ssdlite320_mobilenet_v3_large",
        "SSDlite320 MobileNetV3-Large (one-stage)",
        "SSDLite320_MobileNet_V3_Large_Weights.COCO_V1",
        320,
        "One-stage, for phones: depthwise-separable SSD head on MobileNetV3.",
    ),
    (
        "retinanet_resnet50_fpn_v2",
        "RetinaNet ResNet-50 FPN v2 (one-stage)",
        "RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1",
        800,
        "One-stage with anchors and the focal loss.",
    ),
    (
        "fcos_resnet50_fpn",
        "FCOS ResNet-50 FPN (one-stage, anchor-free)",
        "FCOS_ResNet50_FPN_Weights.COCO_V1",
        800,
        "One-stage and anchor-free: every feature-map point predicts a box.",
    ),
)


def _torchvision_detector(
    name: str, title: str, enum: str, size: int, note: str
) -> ModelSpec:
    """A torchvision COCO detector, downloaded by torchvision when online."""
    return _torchvision(
        Task.DETECT,
        name,
        title,
        enum,
        input_size=size,
        categories="coco-80",
        licence="BSD-3-Clause (COCO-trained weights)",
        note=f"{note} Downloaded by torchvision when online.",
    )


_BUILTIN: tuple[ModelSpec, ...] = (
    ModelSpec(
        "mobilenet_v2_quantized",
        "MobileNetV2 (INT8, quantized)",
        Task.CLASSIFY,
        ModelFamily.TORCHVISION_QUANTIZED,
        weights_file="mobilenet_v2_qnnpack_imagenet1k.pth",
        builder="quantized_mobilenet_v2",
        weights_enum="MobileNet_V2_QuantizedWeights.IMAGENET1K_QNNPACK_V1",
        licence="BSD-3-Clause",
        devices=("cpu",),
        downloadable=False,
        note="Bundled offline. Quantized kernels run on the CPU only.",
    ),
    *(_torchvision_classifier(*entry) for entry in _TORCHVISION_CLASSIFIERS),
    _ultralytics(
        "yolov8n-int8",
        "YOLOv8n (INT8, OpenVINO)",
        "yolov8n_int8_openvino_model",
        devices=("cpu",),
        downloadable=False,
        note="Bundled offline: an INT8 OpenVINO export of YOLOv8n; OpenVINO runs on the CPU.",
        architecture="yolov8n.yaml",
        published=_published(
            "yolov8n", ULTRALYTICS_SOURCE + "; YOLOv8n in fp32 (INT8 is not published)"
        ),
    ),
    *(
        _official_ultralytics(name, title)
        for name, title in _ULTRALYTICS_TITLES.items()
    ),
    *(_torchvision_detector(*entry) for entry in _TORCHVISION_DETECTORS),
    _ultralytics(
        "yoloe-11s",
        "YOLOE-11S (open vocabulary)",
        "yoloe-11s-seg.pt",
        categories="the classes you type",
        note="Open vocabulary: it looks for the classes you type on Compare. Downloaded "
        "by Ultralytics when online, with its MobileCLIP text encoder (mobileclip_blt.ts).",
        architecture="yoloe-11s.yaml",
        open_vocabulary=True,
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
                _ultralytics(
                    name,
                    f"{path.name} (your weights)",
                    path.name,
                    categories="from the weights",
                    licence="as given by the weights' owner",
                    downloadable=False,
                    note=f"Found in {shown_path(folder)}.",
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
