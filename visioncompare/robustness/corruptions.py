"""The 15 ImageNet-C corruptions at severities 1-5, applied the way the benchmark does.

The pixels come from the ``imagecorruptions`` package (the authors' code, as published
by Michaelis et al. 2019; installed as its maintained fork ``imagecorruptions-imaug``,
which runs on NumPy 2, current scikit-image and SciPy and compiles glass blur with
Numba). Each call is made deterministic: the seed is derived from the image's pixels, the
corruption, its severity and a run seed (``image_seed``), the package's random draws
are seeded with it under a lock (it draws from NumPy's global generator), and the global
generator is given back its state afterwards. So a corruption equals
``np.random.seed(s); imagecorruptions.corrupt(image, severity, name)`` for
``s = image_seed(image, corruption)``, the same image gives the same corrupted image in
every page, process and engine, and nothing else in the process sees its random stream
moved. Zoom blur, the slowest (about a second on a 640x480 image), is made here twice as
fast with the package's arithmetic (``zoom_blur``), tested equal to it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from importlib import metadata

import numpy as np

PACKAGE = "imagecorruptions-imaug"
"""The distribution that provides the ``imagecorruptions`` module."""
INSTALL_HINT = f"pip install --no-deps {PACKAGE}==1.1.5"
"""How to install it beside the headless OpenCV (its metadata names the desktop one)."""

CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
)  # fmt: skip
"""The 15 benchmark corruptions, in the package's (and the paper's) order."""
FAMILIES: dict[str, tuple[str, ...]] = {
    "noise": CORRUPTIONS[0:3],
    "blur": CORRUPTIONS[3:7],
    "weather": CORRUPTIONS[7:11],
    "digital": CORRUPTIONS[11:15],
}
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
MIN_SIDE = 32
"""The package's smallest width and height."""
MAX_PIXELS = 16_000_000
"""The largest image corrupted (width * height): beyond it, a message (a zoom blur of
it would hold gigabytes of float copies)."""

# Seconds per megapixel on two CPU cores (benchmarks/robustness.py; a 640x480 image is
# 0.31 MP). Replaced by this process's own measurement once a corruption has run.
SECONDS_PER_MEGAPIXEL: dict[str, float] = {
    "gaussian_noise": 0.2, "shot_noise": 0.35, "impulse_noise": 0.1,
    "defocus_blur": 0.1, "glass_blur": 0.35, "motion_blur": 0.2, "zoom_blur": 1.2,
    "snow": 0.3, "frost": 0.1, "fog": 0.16, "brightness": 0.5,
    "contrast": 0.06, "elastic_transform": 0.3, "pixelate": 0.01, "jpeg_compression": 0.01,
}  # fmt: skip
GLASS_BLUR_COMPILE_SECONDS = 7.0
"""Numba compiles glass blur's pixel shuffle on its first use in a process."""
MEASURED_PIXELS = 100_000
"""A call on an image this large (or larger) updates the time per megapixel."""
SLOW_SECONDS = 1.0
"""A corruption expected to take longer than this says so before it runs."""

_SEEDED_BY_ARGUMENT = ("glass_blur", "impulse_noise")
"""Corruptions that draw from their own generator, seeded by a ``seed`` argument (the
others draw from NumPy's global generator)."""
_RANDOM = threading.Lock()
_MEASURED: dict[str, float] = {}
_COMPILED: set[str] = set()


class CorruptionError(ValueError):
    """An image that cannot be corrupted; the message is written for the user."""


class CorruptionUnavailable(CorruptionError):
    """The corruption package is not installed."""


def corruption_title(name: str) -> str:
    """``"zoom_blur"`` -> ``"Zoom blur"``; ``"jpeg_compression"`` -> ``"JPEG
    compression"``."""
    return name.replace("_", " ").capitalize().replace("Jpeg", "JPEG")


@dataclass(frozen=True)
class Corruption:
    """One cell of the benchmark: a corruption at a severity, with the run's seed.

    Attributes:
        name: one of ``CORRUPTIONS``.
        severity: 1 (mild) to 5 (strong).
        seed: the run seed; each image's own seed is derived from it (``image_seed``).

    Raises:
        CorruptionError: an unknown name, a severity outside 1-5 or a negative seed.
    """

    name: str
    severity: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.name not in CORRUPTIONS:
            raise CorruptionError(
                f"unknown corruption {self.name!r}: one of {', '.join(CORRUPTIONS)}"
            )
        if isinstance(self.severity, bool) or self.severity not in SEVERITIES:
            raise CorruptionError(f"severity should be 1 to 5, not {self.severity!r}")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or self.seed < 0
        ):
            raise CorruptionError(
                f"seed should be a whole number >= 0, not {self.seed!r}"
            )

    @property
    def title(self) -> str:
        """``"Fog, severity 3"``."""
        return f"{corruption_title(self.name)}, severity {self.severity}"

    @property
    def tag(self) -> str:
        """A short name for files and cache keys: ``"fog-3-seed0"``."""
        return f"{self.name}-{self.severity}-seed{self.seed}"

    def key(self) -> dict:
        """What enters a store key: the cell, the seed and the package's version (a
        new version may draw other pixels)."""
        return {
            "name": self.name,
            "severity": self.severity,
            "seed": self.seed,
            "package": package_version(),
        }


@dataclass(frozen=True, eq=False)
class CorruptedImage:
    """A corrupted image and how it was made.

    Attributes:
        array: (H, W, 3) uint8 RGB, the input's size.
        corruption: what was applied.
        seed: the image's own seed (``image_seed``).
        seconds: the time the corruption took.
        notes: how the input was made fit first, in words (16-bit scaled, greyscale).
    """

    array: np.ndarray
    corruption: Corruption
    seed: int
    seconds: float
    notes: tuple[str, ...] = ()


def package_version() -> str | None:
    """The installed corruption package's version (None: not installed)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def available() -> bool:
    """True when the corruption package can be imported."""
    try:
        _package()
    except CorruptionUnavailable:
        return False
    return True


def _package():
    try:
        import imagecorruptions
    except ImportError as exc:
        raise CorruptionUnavailable(
            f"corrupting images needs the imagecorruptions package: {INSTALL_HINT} "
            f"(its own needs are in requirements.txt) [{exc}]"
        ) from exc
    return imagecorruptions


def as_rgb_uint8(image: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """An image the package accepts: (H, W, 3) uint8, at least 32 pixels a side.

    Args:
        image: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array of uint8 or uint16.

    Returns:
        ((H, W, 3) uint8 RGB, notes on what was changed).

    Raises:
        CorruptionError: another shape or dtype, a side under 32 pixels, or more than
            ``MAX_PIXELS`` pixels.
    """
    image = np.asarray(image)
    notes = []
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise CorruptionError(
            f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}"
        )
    height, width = image.shape[:2]
    if height < MIN_SIDE or width < MIN_SIDE:
        raise CorruptionError(
            f"a {width}×{height} image is too small to corrupt: the benchmark's "
            f"corruptions need at least {MIN_SIDE}×{MIN_SIDE} pixels"
        )
    if height * width > MAX_PIXELS:
        raise CorruptionError(
            f"a {width}×{height} image ({height * width / 1e6:.0f} megapixels) is too "
            f"large to corrupt here (at most {MAX_PIXELS / 1e6:.0f} megapixels)"
        )
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
        notes.append("16-bit pixels scaled to 8 bits")
    elif image.dtype != np.uint8:
        raise CorruptionError(f"expected 8- or 16-bit pixels, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
        notes.append("greyscale repeated in three channels")
    elif image.shape[2] == 4:
        image = image[:, :, :3]
        notes.append("transparency dropped")
    return np.ascontiguousarray(image), tuple(notes)


def image_seed(image: np.ndarray, corruption: Corruption) -> int:
    """The image's own seed in a cell, in [0, 2**32): a hash of its pixels, its shape,
    the corruption, the severity and the run seed.

    Args:
        image: (H, W, 3) uint8, as ``as_rgb_uint8`` returns it.
    """
    digest = hashlib.sha256(
        f"{corruption.name}:{corruption.severity}:{corruption.seed}:"
        f"{image.shape}:{image.dtype}:".encode()
    )
    digest.update(np.ascontiguousarray(image).data)
    return int.from_bytes(digest.digest()[:4], "little")


def corrupt_image(image: np.ndarray, corruption: Corruption) -> CorruptedImage:
    """The image corrupted, with its seed, time and notes.

    Args:
        image: (H, W[, C]) uint8 or uint16 (see ``as_rgb_uint8``).
        corruption: the cell.

    Raises:
        CorruptionError: an image the package cannot take (named why), or the package
            failed on it.
        CorruptionUnavailable: the package is not installed.
    """
    rgb, notes = as_rgb_uint8(image)
    seed = image_seed(rgb, corruption)
    package = _package()
    extra = {"seed": seed} if corruption.name in _SEEDED_BY_ARGUMENT else {}
    started = time.perf_counter()
    with _RANDOM:
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            if corruption.name == "zoom_blur":  # no random draws; the same pixels
                out = np.uint8(zoom_blur(rgb, corruption.severity))
            else:
                out = package.corrupt(
                rgb, severity=corruption.severity, corruption_name=corruption.name,
                **extra,
            )  # fmt: skip
        except Exception as exc:  # the package's own failure, on an odd image
            height, width = rgb.shape[:2]
            raise CorruptionError(
                f"{corruption.title} failed on this {width}×{height} image "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        finally:
            np.random.set_state(state)
    seconds = time.perf_counter() - started
    pixels = rgb.shape[0] * rgb.shape[1]
    if corruption.name not in _COMPILED:
        _COMPILED.add(corruption.name)  # the first call may compile: not a measure
    elif pixels >= MEASURED_PIXELS:  # on a thumbnail the fixed overhead would dominate
        _MEASURED[corruption.name] = seconds / (pixels / 1e6)
    out = np.asarray(out, np.uint8)
    if out.ndim == 2:  # greyscale in, greyscale out: the models take RGB
        out = np.repeat(out[:, :, None], 3, axis=2)
    return CorruptedImage(out, corruption, seed, seconds, notes)


ZOOM_FACTORS = (
    np.arange(1, 1.11, 0.01),
    np.arange(1, 1.16, 0.01),
    np.arange(1, 1.21, 0.02),
    np.arange(1, 1.26, 0.02),
    np.arange(1, 1.31, 0.03),
)
"""The package's zoom factors per severity (``imagecorruptions.corruptions.zoom_blur``)."""


def zoom_blur(image: np.ndarray, severity: int) -> np.ndarray:
    """The package's zoom blur, twice as fast and equal to the last bit: each zoom of
    the image is made channel by channel (2-D linear interpolation at 4 neighbours)
    instead of as a 3-D array with a zoom of 1 along the channels (8 neighbours, of which
    the other channel's get weight 0), every other operation as the package does it.

    Args:
        image: (H, W, 3) uint8.
        severity: 1-5.

    Returns:
        (H, W, 3) float64 in [0, 255], as the package's function returns it.
    """
    from scipy.ndimage import zoom

    x = (np.array(image) / 255.0).astype(np.float32)
    out = np.zeros_like(x)
    height, width = x.shape[:2]
    factors = ZOOM_FACTORS[severity - 1]
    for factor in factors:
        rows = int(np.ceil(height / float(factor)))
        cols = int(np.ceil(width / float(factor)))
        top, left = (height - rows) // 2, (width - cols) // 2
        crop = x[top : top + rows, left : left + cols]
        layer = np.stack(
            [zoom(crop[:, :, k], (factor, factor), order=1) for k in range(3)], axis=2
        )[:height, :width, :]
        out[: layer.shape[0], : layer.shape[1]] += layer
    x = (x + out) / (len(factors) + 1)
    return np.clip(x, 0, 1) * 255


def corrupt(image: np.ndarray, corruption: Corruption) -> np.ndarray:
    """The image corrupted: (H, W, 3) uint8 RGB (see ``corrupt_image``)."""
    return corrupt_image(image, corruption).array


def expected_seconds(name: str, width: int, height: int) -> float:
    """About how long a corruption takes on a width x height image here: this process's
    last measurement, else the benchmark's, plus glass blur's one-off compilation."""
    per_megapixel = _MEASURED.get(name, SECONDS_PER_MEGAPIXEL[name])
    first = (
        GLASS_BLUR_COMPILE_SECONDS
        if name == "glass_blur" and name not in _COMPILED
        else 0.0
    )
    return first + per_megapixel * width * height / 1e6


def slow_note(name: str, width: int, height: int) -> str | None:
    """A sentence to show before a corruption that takes over ``SLOW_SECONDS`` on a
    width x height image (None: it is quick)."""
    seconds = expected_seconds(name, width, height)
    if seconds <= SLOW_SECONDS:
        return None
    text = (
        f"{corruption_title(name)} takes about {seconds:.0f} s on a "
        f"{width}×{height} image"
    )
    if name == "glass_blur" and name not in _COMPILED:
        text += " the first time: it is compiled once, then runs in a fraction of that"
    return text + "."
