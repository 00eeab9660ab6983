"""Decoding of every odd image a user can upload (all generated here)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from PIL import Image

from tests.helpers import encode, gradient_rgb
from visioncompare.kernel.images import (
    UPLOAD_EXTENSIONS,
    EmptyFileError,
    ImageError,
    ImageTooLargeError,
    NotAnImageError,
    TruncatedImageError,
    UnsupportedImageError,
    decode_image,
    fit_for_display,
)


def test_plain_rgb_round_trips_losslessly():
    rgb = gradient_rgb()
    out = decode_image(encode(Image.fromarray(rgb), "PNG"), "a.png")
    assert out.array.dtype == np.uint8 and out.array.shape == (48, 64, 3)
    assert np.array_equal(out.array, rgb)
    assert out.notes == () and out.original_format == "PNG"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "BMP", "TIFF"])
def test_every_upload_format_decodes(fmt):
    out = decode_image(encode(Image.fromarray(gradient_rgb()), fmt), f"a.{fmt.lower()}")
    assert out.array.shape == (48, 64, 3) and out.original_format == fmt


def test_greyscale_becomes_three_equal_channels():
    grey = Image.fromarray(np.arange(48 * 64, dtype=np.uint8).reshape(48, 64), "L")
    out = decode_image(encode(grey, "PNG"), "grey.png")
    assert out.original_mode == "L" and "greyscale converted to RGB" in out.notes
    assert np.array_equal(out.array[..., 0], np.asarray(grey))
    assert np.array_equal(out.array[..., 0], out.array[..., 2])


def test_cmyk_jpeg_is_converted_to_rgb():
    cmyk = Image.fromarray(gradient_rgb()).convert("CMYK")
    out = decode_image(encode(cmyk, "JPEG"), "print.jpg")
    assert out.original_mode == "CMYK" and "CMYK converted to RGB" in out.notes
    assert out.array.shape == (48, 64, 3)


def test_16_bit_png_uses_the_full_range():
    values = np.linspace(0, 65535, 48 * 64).astype(np.uint16).reshape(48, 64)
    image = Image.fromarray(values)
    out = decode_image(encode(image, "PNG"), "depth.png")
    assert out.original_mode.startswith("I")
    assert out.array.min() == 0 and out.array.max() == 255  # scaled, not clipped at 255
    assert np.all(np.diff(out.array[..., 0].reshape(-1).astype(int)) >= 0)


def test_float_tiff_is_scaled_to_8_bits():
    values = np.linspace(-1.0, 1.0, 48 * 64, dtype=np.float32).reshape(48, 64)
    out = decode_image(encode(Image.fromarray(values, "F"), "TIFF"), "float.tif")
    assert out.array.min() == 0 and out.array.max() == 255


def test_alpha_is_composited_on_white():
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:5, :, 3] = 255  # top half opaque red, bottom half fully transparent
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), "alpha.png")
    assert out.array[0, 0].tolist() == [255, 0, 0]
    assert out.array[9, 9].tolist() == [255, 255, 255]
    assert "transparency composited on white" in out.notes


def test_palette_with_transparency_and_grey_alpha():
    palette = Image.fromarray(gradient_rgb()).convert("P")
    palette.info["transparency"] = 0
    out = decode_image(encode(palette, "PNG", transparency=0), "pal.png")
    assert out.array.shape == (48, 64, 3)
    la = Image.fromarray(np.full((8, 8, 2), 128, np.uint8), "LA")
    assert decode_image(encode(la, "PNG"), "la.png").array.shape == (8, 8, 3)
    bilevel = Image.fromarray(np.eye(8, dtype=bool))
    assert decode_image(encode(bilevel, "PNG"), "1bit.png").array.max() == 255


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100
    )
    out = decode_image(data, "anim.gif")
    assert out.array[8, 8].tolist() == [255, 0, 0]
    assert "first frame of 2" in out.notes
    assert "gif" in UPLOAD_EXTENSIONS


def test_a_still_gif_has_no_frame_note():
    out = decode_image(encode(Image.new("RGB", (8, 8), (0, 255, 0)), "GIF"), "one.gif")
    assert out.original_format == "GIF" and out.array[4, 4].tolist() == [0, 255, 0]
    assert not any("frame" in note for note in out.notes)


def test_exif_orientation_is_applied():
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = (255, 0, 0)  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to display
    out = decode_image(
        encode(Image.fromarray(rgb), "JPEG", exif=exif, quality=95), "c.jpg"
    )
    assert out.array.shape == (40, 20, 3)
    assert out.array[2, 10, 0] > 200 and out.array[-3, 10, 0] < 60  # red now on top
    assert any("EXIF orientation 6" in note for note in out.notes)


def test_empty_file():
    with pytest.raises(EmptyFileError, match=r"empty\.jpg is empty"):
        decode_image(b"", "empty.jpg")


def test_not_an_image():
    with pytest.raises(NotAnImageError, match=r"notes\.txt is not an image"):
        decode_image(b"hello, this is text", "notes.txt")


def test_truncated_jpeg():
    data = encode(Image.fromarray(gradient_rgb(256, 256)), "JPEG", quality=95)
    with pytest.raises(TruncatedImageError, match=r"cut\.jpg is truncated"):
        decode_image(data[: len(data) // 2], "cut.jpg")


def test_truncated_png():
    data = encode(Image.fromarray(gradient_rgb(256, 256)), "PNG")
    with pytest.raises((TruncatedImageError, UnsupportedImageError), match=r"cut\.png"):
        decode_image(data[: len(data) // 2], "cut.png")


def test_pixel_bomb_is_refused_before_decoding():
    data = encode(Image.new("1", (10_000, 10_000)), "PNG")  # 100 MP in a small file
    assert len(data) < 1_000_000
    with pytest.raises(ImageTooLargeError, match="100 megapixels"):
        decode_image(data, "bomb.png")


def test_byte_limit():
    data = encode(Image.fromarray(gradient_rgb()), "PNG")
    with pytest.raises(ImageTooLargeError, match="the limit is"):
        decode_image(data, "big.png", max_bytes=100)


def test_unsupported_format_is_named():
    data = encode(Image.fromarray(gradient_rgb()), "PPM")
    with pytest.raises(UnsupportedImageError, match="is a PPM image"):
        decode_image(data, "a.ppm")


def test_not_an_image_after_ultralytics_patched_pillow():
    """Ultralytics replaces PIL.Image.open with a version that imports an optional HEIF
    plugin on unknown files; a non-image must still be a NotAnImageError."""
    import ultralytics.utils.patches  # noqa: F401

    with pytest.raises(NotAnImageError, match=r"page\.html is not an image"):
        decode_image(b"<html></html>", "page.html")


def test_fit_for_display_only_shrinks():
    big = np.zeros((3000, 4000, 3), np.uint8)
    assert fit_for_display(big, 1600).shape == (1200, 1600, 3)
    small = gradient_rgb()
    assert fit_for_display(small, 1600) is small


def _mutations(data: bytes, seed: int, count: int):
    """Seeded byte flips, cuts and splices of one file."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        mutated = bytearray(data)
        kind = rng.integers(3)
        if kind == 0:  # flip a few bytes
            for pos in rng.integers(0, len(mutated), rng.integers(1, 8)):
                mutated[pos] ^= 1 << int(rng.integers(8))
        elif kind == 1:  # cut the tail
            del mutated[int(rng.integers(1, len(mutated))) :]
        else:  # overwrite a run with random bytes
            start = int(rng.integers(0, len(mutated)))
            run = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8)
            mutated[start : start + len(run)] = run.tobytes()
        yield bytes(mutated)


@pytest.mark.parametrize(
    ("fmt", "mode", "extra"),
    [
        ("JPEG", "RGB", {}),
        ("PNG", "RGBA", {}),
        ("WEBP", "RGB", {}),
        ("TIFF", "CMYK", {}),
        ("BMP", "RGB", {}),
        ("GIF", "P", {"save_all": True}),
    ],
)
def test_fuzzed_files_give_only_typed_errors(fmt, mode, extra):
    """Thousands of seeded mutations: every outcome is an image or an ImageError."""
    base = Image.fromarray(gradient_rgb(48, 40)).convert(mode)
    if extra:
        frames = [base, base.rotate(90), base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
        data = encode(frames[0], fmt, append_images=frames[1:], **extra)
    else:
        data = encode(base, fmt)
    decoded = refused = 0
    for case in _mutations(data, seed=zlib.crc32(fmt.encode()), count=500):
        try:
            loaded = decode_image(case, f"fuzz.{fmt.lower()}")
        except ImageError:
            refused += 1
        else:
            assert loaded.array.dtype == np.uint8 and loaded.array.shape[2] == 3
            decoded += 1
    assert decoded + refused == 500 and refused > 0
