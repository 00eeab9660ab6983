"""An image's size read from its header (the pixels are never decoded)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from visioncompare.datasets.types import DatasetError, shown

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def image_size(path: Path, root: Path, where: str) -> tuple[int, int]:
    """(width, height) of the image at ``path`` from its header alone.

    Args:
        path: the image file (already confined to ``root``).
        root: the dataset's folder, for the message.
        where: the file and line or field that names the image, for the message.

    Raises:
        DatasetError: the file is missing or is not an image Pillow can identify.
    """
    name = shown(path, root)
    if not path.is_file():
        raise DatasetError(f"{where}: the image {name} is not in the dataset")
    try:
        with Image.open(path) as image:  # lazy: reads the header, not the pixels
            return image.size
    except Exception as exc:
        # Any decoder failure on a hostile file is this dataset's, and so is the
        # ImportError of the optional HEIF plugin that Ultralytics' patched Image.open
        # tries on a file Pillow cannot identify.
        raise DatasetError(f"{where}: {name} is not a readable image") from exc
