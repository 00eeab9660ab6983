"""Device choice: cuda, then mps, then cpu; fp16 and batch sizes per device."""

from __future__ import annotations

import model_zoo._libraries  # noqa: F401  (first: see its docstring)

# isort: split
import torch

from model_zoo.registry import ModelFamily


class DeviceError(RuntimeError):
    """The requested device is missing or the model cannot run on it."""


def available_devices() -> list[str]:
    """Devices present on this machine, best first (always ends with ``"cpu"``)."""
    devices = []
    if torch.cuda.is_available():
        devices.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    devices.append("cpu")
    return devices


def resolve_device(
    requested: str = "auto", supported: tuple[str, ...] | None = None
) -> str:
    """Turn ``"auto"`` or a device name into a device this model can use.

    Args:
        requested: ``"auto"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"cpu"``.
        supported: device types the model runs on (None: any).

    Raises:
        DeviceError: the device is not present, or the model cannot run on it.
    """
    present = available_devices()
    if requested == "auto":
        for device in present:
            if supported is None or device in supported:
                return device
        raise DeviceError(f"none of {supported} is available on this machine")
    kind = requested.split(":", 1)[0]
    if kind not in present:
        raise DeviceError(f"{requested} is not available here (available: {present})")
    if supported is not None and kind not in supported:
        raise DeviceError(
            f"this model runs only on {', '.join(supported)}, not {requested}"
        )
    return requested


def use_half(device: str) -> bool:
    """fp16 inference on CUDA only (mps and cpu stay fp32 for accuracy and support)."""
    return device.startswith("cuda")


def fp16_for(family: ModelFamily | str, device: str) -> bool:
    """Whether a model of this family runs in fp16 on this device (quantized models keep
    their int8 kernels). The one rule the loaders and the predictions store share."""
    return (
        use_half(device)
        and ModelFamily(family) is not ModelFamily.TORCHVISION_QUANTIZED
    )


def batch_size(device: str) -> int:
    """Images per forward pass: batch on a GPU, one at a time on the CPU (lowest latency)."""
    return 16 if device.startswith(("cuda", "mps")) else 1


def synchronize(device: str) -> None:
    """Wait for queued GPU work so wall-clock timings are honest."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elif device.startswith("mps"):
        torch.mps.synchronize()


def device_for(
    requested: str, supported: tuple[str, ...] | None
) -> tuple[str, str | None]:
    """The device a model will run on when the user asks for ``requested``.

    A model that cannot run on the requested device falls back to the best device it
    supports, with a note for the page instead of an error.

    Returns:
        (device, note): note is None unless the request could not be honoured.
    """
    kind = requested.split(":", 1)[0]
    if requested == "auto" or supported is None or kind in supported:
        return resolve_device(requested, supported), None
    device = resolve_device("auto", supported)
    return device, f"runs on {', '.join(supported)} only, so it ran on {device}"
