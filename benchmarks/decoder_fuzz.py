"""Decoder fuzz timing: the slowest call over every seeded mutation the fuzz tests make.

The tests (``tests/test_images.py``, ``tests/test_decoder_fuzz_names.py``) assert that
every mutated file decodes or gives a typed ``ImageError``; how long a call takes is
measured here instead (target: no call over 2 s).

Usage: python -m benchmarks.decoder_fuzz [--count 500]
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.app_server import machine
from tests.helpers import encode, gradient_rgb
from tests.test_images import _mutations
from visioncompare.kernel.images import ImageError, decode_image

CASES = [  # (format, mode, file name, save arguments)
    ("JPEG", "RGB", "fuzz.jpeg", {}),
    ("PNG", "RGBA", "fuzz.png", {}),
    ("WEBP", "RGB", "fuzz.webp", {}),
    ("WEBP", "RGB", "anim.png", {"save_all": True}),
    ("TIFF", "RGB", "fuzz.tiff", {}),
    ("TIFF", "CMYK", "fuzz.tiff", {}),
    ("TIFF", "CMYK", "print.png", {"save_all": True}),
    ("BMP", "RGB", "fuzz.bmp", {}),
    ("GIF", "P", "fuzz.gif", {"save_all": True}),
    ("GIF", "P", "cut.jpg", {"save_all": True}),
    ("PNG", "I;16", "depth.jpg", {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=500, help="mutations per case")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print()
    print(
        "| format | mode | name | cases | decoded | typed error | max ms | median ms |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    worst = 0.0
    for fmt, mode, name, extra in CASES:
        base = Image.fromarray(gradient_rgb(48, 40)).convert(mode)
        if extra.get("save_all"):
            frames = [base, base.rotate(90), base.rotate(180)]
            data = encode(frames[0], fmt, append_images=frames[1:], **extra)
        else:
            data = encode(base, fmt, **extra)
        times, decoded = [], 0
        for case in _mutations(data, seed=zlib.crc32(name.encode()), count=args.count):
            start = time.perf_counter()
            try:
                decode_image(case, name)
                decoded += 1
            except ImageError:
                pass
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        worst = max(worst, times[-1])
        slowest, median = times[-1], times[len(times) // 2]
        print(f"| {fmt} | {mode} | {name} | {len(times)} | {decoded} | "
              f"{len(times) - decoded} | {slowest:.1f} | {median:.2f} |")  # fmt: skip
    print()
    print(f"slowest call: {worst:.1f} ms (target < 2000 ms)")


if __name__ == "__main__":
    main()
