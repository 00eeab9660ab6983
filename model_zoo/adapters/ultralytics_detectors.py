"""Ultralytics detectors (YOLOv8, YOLO11, YOLO26, YOLOv10, RT-DETR): any format Ultralytics
loads (.pt, .onnx, OpenVINO folder, ...). End-to-end models (YOLO26, YOLOv10, RT-DETR)
output final boxes; Ultralytics skips NMS for them, so ``iou`` has no effect there."""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import cv2
import numpy as np
import torch

from model_zoo import weights as weights_lookup
from model_zoo.adapters.base import DetectOptions, DetectorAdapter, StageTimer
from model_zoo.operator_settings import downloads_allowed
from model_zoo.registry import ModelSpec
from visioncompare.kernel.types import Detections, Prediction, Timing


@contextlib.contextmanager
def _keep_torch_threads() -> Iterator[None]:
    """Ultralytics' device setup sets torch's global CPU thread count to cores - 1 (1 on a
    2-core machine), which would slow every other model in the process; put it back."""
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _name_coco_classes(model) -> None:
    """A random-weight YAML build names its 80 classes "0".."79"; the official weights
    name them after COCO (Ultralytics' coco.yaml), so the random build does too."""
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    names = YAML.load(check_yaml("coco.yaml"))["names"]
    if len(names) == len(model.model.names):
        model.model.names = (
            dict(names) if isinstance(names, dict) else dict(enumerate(names))
        )


TEXT_ENCODERS = {
    "mobileclip:blt": "mobileclip_blt.ts",
    "mobileclip2:b": "mobileclip2_b.ts",
}
"""An open-vocabulary model's text encoder (its ``text_model``) -> the TorchScript file."""


class TextEncoderUnavailable(weights_lookup.WeightsNotFoundError):
    """An open-vocabulary detector cannot read text here: its text encoder's file or the
    tokenizer package is missing. The message says which."""


@functools.lru_cache(maxsize=2)
def _text_encoder(path: str, device: str):
    from ultralytics.nn.text_model import MobileCLIPTS

    return MobileCLIPTS(torch.device(device), weight=path)


def _text_embeddings(model, classes: Sequence[str]) -> torch.Tensor:
    """(1, K, D) embeddings of the class names, by the model's own text encoder.

    Raises:
        TextEncoderUnavailable: the tokenizer package or the encoder file is missing (the
            file is found in the weights folders, or downloaded by Ultralytics online
            where the operator allows downloads); the message names each missing piece.
    """
    inner = model.model
    variant = getattr(inner, "text_model", "mobileclip:blt")
    file = TEXT_ENCODERS.get(variant)
    if file is None:
        raise TextEncoderUnavailable(
            f"this model's text encoder {variant!r} is unknown"
        )
    missing = []
    try:
        import ultralytics.nn.text_model  # noqa: F401  (imports the `clip` tokenizer)
    except ImportError:
        missing.append(
            "Ultralytics' CLIP tokenizer (the `clip` package: pip install "
            "git+https://github.com/ultralytics/CLIP.git)"
        )
    if weights_lookup.locate(file) is None and (missing or not downloads_allowed()):
        missing.append(
            f"its text encoder file '{file}' (Ultralytics downloads it on first use where "
            "the operator allows downloads, or the operator puts it in the weights "
            "folder)"
        )
    if missing:
        raise TextEncoderUnavailable(
            "Reading the classes you type needs the model's text encoder, which needs "
            "the internet once to install; not on this server: "
            + "; and ".join(missing)
            + ". The other detectors keep working."
        )
    try:
        path = weights_lookup.require(file, download=_download_ultralytics)
    except weights_lookup.WeightsNotFoundError as exc:
        raise TextEncoderUnavailable(
            f"The text encoder file '{file}' is missing, and getting it needs the "
            f"internet once. {exc}"
        ) from exc
    device = str(next(inner.parameters()).device)
    inner.clip_model = _text_encoder(str(path), device)
    try:
        return inner.get_text_pe(list(classes), cache_clip_model=True)
    finally:
        del inner.clip_model


def _download_ultralytics(target: Path) -> str:
    from ultralytics.utils.downloads import attempt_download_asset

    return attempt_download_asset(target)


class Detector(DetectorAdapter):
    """A loaded Ultralytics detector (``model_zoo.protocol.DetectorModel``); ``predict``
    returns ``Detections``.

    Ultralytics predictors keep state between calls, so each batch runs under the lock:
    one model object is shared by every browser session.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model,
        device: str,
        weights_path: Path | None,
        vocabulary: tuple[str, ...] = (),
    ) -> None:
        super().__init__(spec, model, device, weights_path)
        self.vocabulary = vocabulary
        """The classes an open-vocabulary model was given (empty: its own)."""
        from ultralytics.cfg import DEFAULT_CFG_DICT

        # Ultralytics 8.4 replaced the deprecated `half` by `quantize` (16: fp16, None:
        # fp32); earlier releases know only `half`.
        self._predict_args = (
            {"quantize": 16 if self.half else None}
            if "quantize" in DEFAULT_CFG_DICT
            else {"half": self.half}
        )
        # An NMS-free model runs its one-to-one head (nms=False: Ultralytics' switch; the
        # official weights already default to it, a random-weight YAML build does not).
        if spec.nms_free and "nms" in DEFAULT_CFG_DICT:
            self._predict_args["nms"] = False
        with _keep_torch_threads():  # reading names sets up a predictor (and threads)
            names = model.names
        self.class_names: tuple[str, ...] = tuple(names[i] for i in sorted(names))

    def with_vocabulary(self, classes: Sequence[str]) -> Detector:
        """A new detector that looks for these classes (open-vocabulary models only).

        The shared model object is never changed: its network is copied (under its lock)
        and the copy gets the classes' text embeddings.

        Args:
            classes: class names in words ("traffic cone", "red car").

        Raises:
            ValueError: the model is not open-vocabulary, or no class is given.
            TextEncoderUnavailable: the text encoder cannot run here.
        """
        if not self.spec.open_vocabulary:
            raise ValueError(f"{self.spec.name} has a fixed set of classes")
        classes = list(classes)
        if not classes:
            raise ValueError("give at least one class")
        with self.lock, _keep_torch_threads():
            # Without its predictor: the copy builds its own on first use.
            predictor, self.model.predictor = self.model.predictor, None
            try:
                model = copy.deepcopy(self.model)
            finally:
                self.model.predictor = predictor
            model.set_classes(classes, _text_embeddings(model, classes))
        return Detector(
            self.spec, model, self.device, self.weights_path, tuple(classes)
        )

    def _to_detections(self, data) -> Detections:
        """Ultralytics' (N, 6) ``x1 y1 x2 y2 conf cls`` tensor -> Detections (one copy)."""
        rows = data.float().cpu().numpy()
        return Detections(
            rows[:, :4], rows[:, 4], rows[:, 5].astype(np.int64), self.class_names
        )

    @classmethod
    def _open(
        cls, spec: ModelSpec, device: str, explicit: str | Path | None, random: bool
    ) -> tuple[Any, Path | None]:
        """The weights from disk (or Ultralytics' download of the official ones), or with
        ``random`` the architecture built from its YAML with random weights and COCO's
        class names. Ultralytics moves the model to ``device`` when it predicts.

        Raises:
            WeightsNotFoundError: not on disk, and no download (offline or not allowed).
        """
        from ultralytics import YOLO

        with _keep_torch_threads():
            if random:
                yaml = spec.architecture or Path(spec.weights_file).stem + ".yaml"
                model = YOLO(yaml, task="detect")
                _name_coco_classes(model)
                return model, None
            path = weights_lookup.require(
                spec.weights_file,
                download=_download_ultralytics if spec.downloadable else None,
                explicit=explicit,
            )
            return YOLO(str(path), task="detect"), path

    def _predict_batch(
        self, images: Sequence[np.ndarray], options: DetectOptions
    ) -> list[Prediction]:
        """One batch through Ultralytics' predictor. Timings: Ultralytics' own per-image
        preprocess, inference and postprocess, plus an equal share of converting its
        boxes; ``imgsz`` None is the spec's input size."""
        # Ultralytics reads numpy arrays as BGR (OpenCV's order); cvtColor is ~10x
        # faster than copying a reversed-channel view.
        chunk = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in images]
        with self.lock, _keep_torch_threads():
            timer = StageTimer(self.device)
            outputs = self.model.predict(
                chunk,
                conf=options.conf,
                iou=options.iou,
                max_det=options.max_det,
                imgsz=options.imgsz or self.spec.input_size,
                device=self.device,
                **self._predict_args,
                batch=len(chunk),
                verbose=False,
            )
            timer.lap("call")
            converted = [self._to_detections(r.boxes.data) for r in outputs]
            timer.lap("convert")
        share = timer.ms["convert"] / len(chunk)
        results: list[Prediction] = []
        for r, det in zip(outputs, converted):
            speed = r.speed
            timing = Timing(
                speed.get("preprocess") or 0.0,
                speed.get("inference") or 0.0,
                (speed.get("postprocess") or 0.0) + share,
            )
            results.append(
                Prediction(self.spec.name, self.device, timing, detections=det)
            )
        return results
