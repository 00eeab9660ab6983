"""What the torchvision adapters share: the weights enum, its download, its state dict."""

from __future__ import annotations

import warnings
from pathlib import Path

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import torch
from torchvision.models import get_weight

from model_zoo import weights as weights_lookup
from model_zoo.identity import weights_filename
from model_zoo.registry import ModelSpec


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
