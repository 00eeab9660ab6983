"""Bytes in, RGB uint8 array out: every odd image a user can upload, or a typed error.

Each failure kind has its own exception so the page can say exactly what went wrong.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from visioncompare.kernel.memory import release_free_memory

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""Largest file accepted (matches the uploader's limit in .streamlit/config.toml)."""
MAX_PIXELS = 40_000_000
"""Default largest decoded image (width * height); beyond it decoding is refused
(decompression bombs). The operator sets another with ``VISIONCOMPARE_MAX_PIXELS``."""
RELEASE_PIXELS = 4_000_000
"""After decoding an image this large, the freed decoding buffers are given back to the
operating system (``visioncompare.kernel.memory``)."""
ANALYSIS_SIDE = 2048
"""Default longest side of the copy the Compare and Learn pages keep of an upload; the
operator sets another with ``VISIONCOMPARE_ANALYSIS_SIDE``."""

SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO")
UPLOAD_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif")


def _setting(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(float(text))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} should be a positive whole number, not {text!r}")
    return value


def max_pixels_setting() -> int:
    """The largest image decoded (width * height): ``$VISIONCOMPARE_MAX_PIXELS`` or
    ``MAX_PIXELS``."""
    return _setting("VISIONCOMPARE_MAX_PIXELS", MAX_PIXELS)


def analysis_side_setting() -> int:
    """The longest side of the copy kept of an upload: ``$VISIONCOMPARE_ANALYSIS_SIDE``
    or ``ANALYSIS_SIDE``. Every model resizes its input to well below it (640 to 1333
    pixels), so the models see the same picture; the display is smaller still."""
    return _setting("VISIONCOMPARE_ANALYSIS_SIDE", ANALYSIS_SIDE)


class ImageError(ValueError):
    """Base class: the message is written for the user and names the file."""


class EmptyFileError(ImageError):
    pass


class NotAnImageError(ImageError):
    pass


class TruncatedImageError(ImageError):
    pass


class ImageTooLargeError(ImageError):
    pass


class UnsupportedImageError(ImageError):
    pass


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A decoded image and what was done to it on the way in.

    Attributes:
        name: the file name as given by the user.
        array: (H, W, 3) uint8 RGB.
        original_mode: Pillow mode before conversion (``"CMYK"``, ``"I;16"``, ...).
        original_format: the file format Pillow recognised.
        notes: human-readable notes (``"EXIF rotation applied"``, ``"alpha dropped"``).
        original_size: (width, height) of the file's picture when ``array`` is a
            downscaled copy of it (``decode_image(max_side=...)``); None: full size.
    """

    name: str
    array: np.ndarray
    original_mode: str
    original_format: str
    notes: tuple[str, ...] = ()
    original_size: tuple[int, int] | None = None

    @property
    def scale(self) -> float:
        """Original pixels per pixel of ``array`` (1.0 when it is full size)."""
        if self.original_size is None:
            return 1.0
        return self.original_size[0] / self.array.shape[1]

    @property
    def width(self) -> int:
        return int(self.array.shape[1])

    @property
    def height(self) -> int:
        return int(self.array.shape[0])


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit integer grey: scale the full range to 8 bits instead of clipping at 255.
        arr = np.asarray(image, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        notes.append(f"{mode} grey scaled to 8 bits")
        return Image.fromarray(scaled.round().astype(np.uint8), "L").convert("RGB")
    if mode == "F":
        arr = np.nan_to_num(np.asarray(image, dtype=np.float64))
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        notes.append("32-bit float image scaled to 8 bits")
        return Image.fromarray(scaled.round().astype(np.uint8), "L").convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Composite on white: what a browser shows for a transparent PNG.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notes.append("transparency composited on white")
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif mode in ("L", "1"):
        notes.append("greyscale converted to RGB")
    elif mode == "P":
        notes.append("palette converted to RGB")
    else:
        notes.append(f"{mode} converted to RGB")
    return image.convert("RGB")


def decode_image(
    data: bytes,
    name: str = "image",
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int | None = None,
    max_side: int | None = None,
) -> LoadedImage:
    """Decode an uploaded file into an RGB uint8 array.

    EXIF orientation is applied, every colour mode is converted to RGB, animated images give
    their first frame.

    Args:
        data: the file's bytes.
        name: the file name, used in messages.
        max_bytes: files larger than this are refused before decoding.
        max_pixels: images with more pixels than this are refused before decoding
            (None: ``max_pixels_setting()``).
        max_side: when given, an image with a longer side is downscaled to it while it is
            decoded (only the copy is kept; ``original_size`` records the file's size).

    Returns:
        The decoded image.

    Raises:
        EmptyFileError, NotAnImageError, TruncatedImageError, ImageTooLargeError,
        UnsupportedImageError: each with a message that names the file.
    """
    if max_pixels is None:
        max_pixels = max_pixels_setting()
    if not data:
        raise EmptyFileError(f"{name} is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below is the gate; Pillow's warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                image = Image.open(io.BytesIO(data))
            except ImportError as exc:
                # Ultralytics patches Image.open to try an optional HEIF plugin on files
                # Pillow cannot identify; without that plugin the file is simply unreadable.
                raise UnidentifiedImageError(str(exc)) from exc
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLargeError(
                    f"{name} is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
                    f"the limit is {max_pixels / 1e6:.0f} megapixels."
                )
            if image.format not in SUPPORTED_FORMATS:
                raise UnsupportedImageError(
                    f"{name} is a {image.format} image; supported formats are "
                    f"{', '.join(UPLOAD_EXTENSIONS)}."
                )
            original_mode, original_format = image.mode, image.format
            notes: list[str] = []
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"first frame of {image.n_frames}")
            image.seek(0)
            image.load()
            orientation = image.getexif().get(0x0112, 1)
            if orientation not in (1, None):
                image = ImageOps.exif_transpose(image)
                notes.append(f"EXIF orientation {orientation} applied")
            rgb = _to_rgb(image, notes)
            original_size = None
            if max_side is not None and max(rgb.size) > max_side:
                original_size = rgb.size
                scale = max_side / max(rgb.size)
                size = tuple(max(1, round(side * scale)) for side in rgb.size)
                rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            # Read-only on purpose: decoded images are cached and shared between reruns.
            array = np.asarray(rgb, dtype=np.uint8)
            del image, rgb
            if width * height >= RELEASE_PIXELS:
                release_free_memory()
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise NotAnImageError(
            f"{name} is not an image Pillow can read (supported: "
            f"{', '.join(UPLOAD_EXTENSIONS)})."
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(
            f"{name} is too large to decode safely: {exc}"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc).lower()
        if (
            "truncated" in text
            or "premature" in text
            or isinstance(exc, EOFError)
            or ("broken" in text)
        ):
            raise TruncatedImageError(
                f"{name} is truncated or damaged and could not be decoded ({exc})."
            ) from exc
        raise UnsupportedImageError(f"{name} could not be decoded: {exc}") from exc
    except Exception as exc:
        # A damaged file can make a Pillow plugin fail in other ways (a CMYK TIFF with a
        # flipped byte raises TypeError, a cut GIF IndexError): still the file's fault.
        log.info("decoding %s failed: %r", name, exc)
        raise UnsupportedImageError(
            f"{name} is damaged and could not be decoded ({type(exc).__name__})."
        ) from exc
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 1:
        raise UnsupportedImageError(
            f"{name} decoded to an unexpected shape {array.shape}."
        )
    log.debug(
        "decoded %s: %s %s -> %s", name, original_format, original_mode, array.shape
    )
    return LoadedImage(
        name, array, original_mode, original_format, tuple(notes), original_size
    )


def load_image_file(path: str, **limits: int) -> LoadedImage:
    """Read and decode a file from disk (same rules as an upload)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return decode_image(data, name=str(path).rsplit("/", 1)[-1], **limits)


def fit_for_display(image: np.ndarray, max_side: int = 1600) -> np.ndarray:
    """A copy no larger than ``max_side`` on its long side, for the browser (a 24-megapixel
    photo is decoded and analysed at full size, but shown at screen size)."""
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
