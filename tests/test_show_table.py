"""components.shared.tables.show_table: a short table is formatted on the server (a pandas
Styler, thousands separators), a long one by the browser from each column's printf format
with the same decimals, so a 5,000-row table does not cost half a second per rerun."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.tables import STYLED_ROWS


def _table(rows: int) -> None:
    import numpy as np
    import pandas as pd

    from components.shared.tables import show_table

    frame = pd.DataFrame(
        {
            "image": [f"{i}.jpg" for i in range(rows)],
            "AP": np.linspace(0, 1, rows),
            "score": np.linspace(0, 1, rows),
            "TP": np.arange(rows),
            "width": np.full(rows, 12.5),
        }
    )
    frame.loc[0, "AP"] = np.nan
    show_table(frame, key="t", kinds={"width": "pixels"}, help={"TP": "true positives"})


def _shown(rows: int):
    at = AppTest.from_function(_table, args=(rows,), default_timeout=30).run()
    assert not at.exception
    proto = at.dataframe[0].proto
    return proto, json.loads(proto.columns)


@pytest.mark.parametrize("rows", [STYLED_ROWS + 1, 5000])
def test_a_long_table_has_the_browser_print_each_kind_with_its_decimals(rows):
    proto, columns = _shown(rows)
    assert not proto.arrow_data.HasField("styler")
    formats = {c: v.get("type_config", {}).get("format") for c, v in columns.items()}
    assert formats["AP"] == "%.3f"  # a metric
    assert formats["score"] == "%.2f"
    assert formats["TP"] == "%.0f"  # a count
    assert formats["width"] == "%.0f"  # pixels, as asked
    assert "image" not in formats or formats["image"] is None
    assert columns["TP"]["help"] == "true positives"
    assert proto.placeholder == "n/a"


def test_a_short_table_is_formatted_on_the_server():
    proto, _ = _shown(STYLED_ROWS)
    assert proto.arrow_data.HasField("styler")
    assert "n/a" in proto.arrow_data.styler.display_values.decode("utf-8", "replace")
