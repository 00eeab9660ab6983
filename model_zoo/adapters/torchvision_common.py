"""What the torchvision adapters share: the weights enum, its download and its state dict,
and the three timed stages every torchvision model runs in (``TorchvisionModel``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import numpy as np
import torch
from torch import nn
from torchvision.models import get_weight

from model_zoo import weights as weights_lookup
from model_zoo.adapters.base import Adapter, StageTimer
from model_zoo.device import fp16_for
from model_zoo.identity import weights_filename
from model_zoo.registry import ModelSpec
from visioncompare.kernel.types import Prediction, Timing


def _download(spec: ModelSpec):
    def download(target: Path) -> Path:
        torch.hub.load_state_dict_from_url(
            get_weight(spec.weights_enum).url,
            model_dir=str(target.parent),
            progress=False,
            check_hash=True,
        )
        return target

    return download


def load_weights(
    spec: ModelSpec, model: nn.Module, explicit: str | Path | None
) -> Path:
    """Find (or download) the spec's state dict and load it into ``model``.

    Raises:
        WeightsNotFoundError: not on disk, and no download (offline or not allowed).
        pickle.UnpicklingError: the file is not a plain state dict.
    """
    path = weights_lookup.require(
        weights_filename(spec),
        download=_download(spec) if spec.downloadable else None,
        explicit=explicit,
    )
    # weights_only: a state dict is data; refuse anything that would run code.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    return path


class TorchvisionModel(Adapter):
    """A loaded torchvision model: its weights enum's preprocessing and metadata, and the
    three stages each batch runs in, timed under the model's lock: ``_preprocess`` (the
    images to the network's input), the network, ``_postprocess`` (its output to one
    result per image). A batch's time is shared equally by its images.

    A subclass gives its network without weights (``_network``), the two stages and
    ``_prediction`` (one result -> a Prediction).
    """

    def __init__(
        self, spec: ModelSpec, model: nn.Module, device: str, weights_path: Path | None
    ) -> None:
        super().__init__(spec, model, device, weights_path)
        enum = get_weight(spec.weights_enum)
        self.transforms = enum.transforms()
        self.meta: dict = enum.meta
        """The weights' own metadata (categories, parameters, published metrics)."""

    @classmethod
    def _network(cls, spec: ModelSpec) -> nn.Module:
        """The spec's architecture with random weights (the builder's, no download)."""
        raise NotImplementedError

    @classmethod
    def _open(
        cls, spec: ModelSpec, device: str, explicit: str | Path | None, random: bool
    ) -> tuple[nn.Module, Path | None]:
        """The network with its state dict (unless ``random``), in eval mode on
        ``device``, and in fp16 where that device uses it.

        Raises:
            WeightsNotFoundError: see ``load_weights``.
        """
        model = cls._network(spec)
        path = None if random else load_weights(spec, model, explicit)
        model.eval().to(device)
        if fp16_for(spec.family, device):
            model.half()
        return model, path

    def _predict_batch(
        self, images: Sequence[np.ndarray], *args: Any
    ) -> list[Prediction]:
        with self.lock, torch.inference_mode():
            timer = StageTimer(self.device)
            batch = self._preprocess(images, *args)
            timer.lap("pre")
            outputs = self.model(batch)
            timer.lap("inf")
            converted = self._postprocess(outputs)
            timer.lap("post")
        timing = timer.per_image(len(images))
        return [self._prediction(timing, result) for result in converted]

    def _preprocess(self, images: Sequence[np.ndarray], *args: Any) -> Any:
        """(H, W, 3) uint8 RGB images -> the network's input, on its device and dtype."""
        raise NotImplementedError

    def _postprocess(self, outputs: Any) -> Sequence[Any]:
        """The network's output -> one result per image."""
        raise NotImplementedError

    def _prediction(self, timing: Timing, result: Any) -> Prediction:
        """One image's result and its share of the batch's time -> its Prediction."""
        raise NotImplementedError
