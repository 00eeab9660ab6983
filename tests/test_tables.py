"""visioncompare.kernel.tables: the order and the missing values of the tables the pages show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from visioncompare.kernel.tables import (
    NOT_AVAILABLE,
    per_class_table,
    with_missing_as_na,
)


def _per_class() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "class": ["zebra", "apple", "cat", "bus", "dog"],
            "gt": [0, 3, 5, 0, 5],
            "AP50": [-1.0, 0.9, 0.5, -1.0, 0.7],
            "AP50-95": [-1.0, 0.4, 0.3, -1.0, 0.3],
            "VOC_AP_11pt": [np.nan, 0.8, 0.5, np.nan, 0.7],
            "VOC_AP_all": [np.nan, 0.85, 0.5, np.nan, 0.7],
        }
    )


def test_classes_without_ground_truth_go_last_and_best_first():
    table = per_class_table(_per_class())
    assert table["class"].tolist() == ["apple", "cat", "dog", "bus", "zebra"]
    assert table.columns.tolist()[-2:] == ["VOC AP 11-pt", "VOC AP all-pt"]
    assert table.loc[3:, "AP50"].isna().all() and not (table == -1).any().any()
    by_ap50 = per_class_table(_per_class(), by="AP50")
    assert by_ap50["class"].tolist()[:3] == ["apple", "dog", "cat"]


def test_missing_values_read_n_a_and_numbers_keep_three_decimals():
    table = per_class_table(_per_class())
    html = with_missing_as_na(table).to_html()
    assert html.count(f">{NOT_AVAILABLE}<") == 2 * 4  # two classes, four AP columns
    assert ">0.400<" in html and "None" not in html and "nan" not in html
    assert with_missing_as_na(table).data["AP50"].dtype == np.float64  # sorts by value
