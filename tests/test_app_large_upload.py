"""AppTest: a picture larger than the analysis size is analysed from a downscaled copy,
says so, and its box table is in the file's own pixels."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def _boxes(app: AppTest, index: int) -> np.ndarray:
    frame = app.dataframe[index].value.sort_values(["class", "x1"])
    return frame[["x1", "y1", "x2", "y2"]].to_numpy(np.float64)


def test_a_large_upload_is_analysed_from_a_copy_and_boxes_are_in_file_pixels(bus_jpg):
    bus = Image.open(bus_jpg).convert("RGB")  # 810x1080
    big = bus.resize((bus.width * 3, bus.height * 3), Image.Resampling.LANCZOS)
    data = io.BytesIO()
    big.save(data, "PNG")
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=180).run()
    app.radio(key="compare_source").set_value("Upload").run()
    app.file_uploader(key="compare_upload").set_value(
        [
            ("bus.jpg", bus_jpg.read_bytes(), "image/jpeg"),
            ("big.png", data.getvalue(), "image/png"),
        ]
    ).run()
    assert not app.exception, app.exception
    captions = [c.value for c in app.main.caption]
    assert any(
        c.startswith("2430×3240 px") and "analysed at 1536×2048" in c for c in captions
    )
    small, large = _boxes(app, 0), _boxes(app, 1)
    assert len(small) >= 4  # a bus and people
    # The same objects, in the large file's pixels: three times the small file's boxes.
    assert large.shape == small.shape
    assert np.abs(large - 3 * small).max() < 0.03 * 3240
