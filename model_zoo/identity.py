"""Model identity, answered once: which file holds a spec's weights, where it is on this
machine, and what identifies the predictions a model makes (weights SHA-256, fp16)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from model_zoo import weights as weights_lookup
from model_zoo.registry import ModelSpec, get_spec


def weights_filename(spec: ModelSpec) -> str:
    """The weights file or folder name looked up in the weights folders: the spec's own,
    else (torchvision) the file name in the weights enum's download URL."""
    if spec.weights_file:
        return spec.weights_file
    from torchvision.models import get_weight

    return Path(urlparse(get_weight(spec.weights_enum).url).path).name


def weights_path(spec: ModelSpec, explicit: str | Path | None = None) -> Path | None:
    """Where the spec's weights are on this machine (None: not here; nothing downloads)."""
    return weights_lookup.locate(weights_filename(spec), explicit)


def weights_on_disk(spec: ModelSpec) -> bool:
    """True when the spec's weights are already on this machine (no network needed)."""
    return weights_path(spec) is not None


def identity(name: str, weights: Path | None, fp16: bool) -> dict:
    """What identifies a model's predictions: its name, the SHA-256 of its weights (None
    for random weights) and whether it ran in fp16 (fp16 predicts slightly differently)."""
    return {
        "name": name,
        "weights_sha256": weights_lookup.weights_sha256(weights) if weights else None,
        "fp16": bool(fp16),
    }


def loaded_identity(model) -> dict:
    """The identity of a loaded model (any family: it reads the model protocol)."""
    return identity(model.spec.name, model.weights_path, model.half)


def identity_on_disk(name: str, device: str = "auto") -> dict | None:
    """The identity the model would have once loaded on ``device``, without loading it
    (None: its weights are not on this machine). Equal to ``loaded_identity``."""
    from model_zoo.device import device_for, fp16_for

    spec = get_spec(name)
    path = weights_path(spec)
    if path is None:
        return None
    return identity(
        name, path, fp16_for(spec.family, device_for(device, spec.devices)[0])
    )
