"""More of the decoder fuzz: the shapes the first fuzz leaves out (an animated GIF or
WebP, a TIFF, each mutated and named with the wrong extension, as visitors' files are)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from PIL import Image

from tests.helpers import encode, gradient_rgb
from tests.test_images import _mutations
from visioncompare.kernel.images import ImageError, decode_image


@pytest.mark.parametrize(
    ("fmt", "mode", "name", "extra"),
    [
        ("GIF", "P", "cut.jpg", {"save_all": True}),
        ("WEBP", "RGB", "anim.png", {"save_all": True}),
        ("TIFF", "RGB", "scan.jpg", {"compression": "tiff_lzw"}),
        ("TIFF", "CMYK", "print.png", {"save_all": True}),
        ("PNG", "I;16", "depth.jpg", {}),
    ],
)
def test_mutated_files_with_the_wrong_name_give_only_typed_errors(
    fmt, mode, name, extra
):
    base = Image.fromarray(gradient_rgb(40, 32)).convert(mode)
    frames = (
        [base.rotate(angle) for angle in (0, 90, 180)] if "save_all" in extra else []
    )
    data = (
        encode(base, fmt, append_images=frames[1:], **extra)
        if frames
        else encode(base, fmt, **extra)
    )
    decoded = refused = 0
    for case in _mutations(data, seed=zlib.crc32(name.encode()), count=400):
        try:
            loaded = decode_image(case, name)
        except ImageError as exc:
            assert name in str(exc)
            refused += 1
        else:
            assert loaded.array.dtype == np.uint8 and loaded.array.shape[2] == 3
            decoded += 1
    assert decoded + refused == 400 and refused > 0
