"""What the torchvision adapters share: the weights enum, its download, its state dict,
and the loaded model object's common state."""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import torch
from torchvision.models import get_weight

from model_zoo import weights as weights_lookup
from model_zoo.device import fp16_for
from model_zoo.identity import weights_filename
from model_zoo.registry import ModelSpec

log = logging.getLogger(__name__)


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
    spec: ModelSpec, model: torch.nn.Module, explicit: str | Path | None
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


def ready(
    spec: ModelSpec,
    model: torch.nn.Module,
    device: str,
    explicit: str | Path | None,
    random_weights: bool,
) -> Path | None:
    """Load the weights (unless ``random_weights``), switch to eval mode on ``device``
    and to fp16 where that device uses it. Returns the weights file (None: random).

    Raises:
        WeightsNotFoundError: see ``load_weights``.
    """
    path = None if random_weights else load_weights(spec, model, explicit)
    model.eval().to(device)
    if fp16_for(spec.family, device):
        model.half()
    log.info("loaded %s on %s from %s", spec.name, device, path)
    return path


class TorchvisionModel:
    """A loaded torchvision model: its spec, weights metadata and preprocessing.

    One model object is shared by every browser session: ``lock`` guards it, and every
    caller that runs the model holds it.
    """

    def __init__(
        self,
        spec: ModelSpec,
        model: torch.nn.Module,
        device: str,
        weights_path: Path | None,
    ) -> None:
        enum = get_weight(spec.weights_enum)
        self.spec = spec
        self.model = model
        self.device = device
        self.half = fp16_for(spec.family, device)
        self.weights_path = weights_path
        self.transforms = enum.transforms()
        self.meta: dict = enum.meta
        """The weights' own metadata (categories, parameters, published metrics)."""
        self.lock = threading.Lock()
        """The one lock of this model object, held by every caller that runs it."""
