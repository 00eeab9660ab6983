"""The bundled demo images and their provenance (``sample_images/index.csv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from visioncompare.kernel.paths import bundled_dir

SAMPLE_DIR = bundled_dir("sample_images")


@dataclass(frozen=True)
class DemoImage:
    path: Path
    title: str
    source: str
    licence: str

    @property
    def name(self) -> str:
        return self.path.name


def list_demo_images(folder: Path = SAMPLE_DIR) -> list[DemoImage]:
    """The images listed in ``index.csv`` that exist on disk, in index order.

    Raises:
        ValueError: the index lacks a required column.
    """
    with open(folder / "index.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    required = {"file", "title", "source", "licence"}
    if rows and not required <= set(rows[0]):
        raise ValueError(f"{folder / 'index.csv'}: expected columns {sorted(required)}")
    return [
        DemoImage(folder / row["file"], row["title"], row["source"], row["licence"])
        for row in rows
        if (folder / row["file"]).is_file()
    ]
