"""AppTest: the same image uploaded twice gets two complete panels, not a crash."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def test_two_identical_uploads_each_get_their_panels(bus_jpg):
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=180).run()
    app.radio(key="compare_source").set_value("Upload").run()
    data = bus_jpg.read_bytes()
    app.file_uploader(key="compare_upload").set_value(
        [
            ("bus.jpg", data, "image/jpeg"),
            ("bus.jpg", data, "image/jpeg"),
            ("copy.jpg", data, "image/jpeg"),
        ]
    ).run()
    assert not app.exception, app.exception
    assert [h.value for h in app.main.subheader][-3:] == [
        "bus.jpg",
        "bus.jpg",
        "copy.jpg",
    ]
    assert len(app.get("plotly_chart")) == 3 and len(app.dataframe) == 3
    assert len(app.image) == 3
    tables = [frame.value for frame in app.dataframe]
    assert all(t.equals(tables[0]) for t in tables) and len(tables[0]) >= 4
