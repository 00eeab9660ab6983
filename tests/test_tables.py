"""visioncompare.kernel.tables: the order and the missing values of the tables the pages show."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from visioncompare.kernel.tables import (
    NOT_AVAILABLE,
    format_number,
    header_words,
    number_kind,
    per_class_table,
    readable,
    styled,
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


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("score", "score"), ("detector score", "score"), ("probability", "score"),
        ("AP50", "metric"), ("AP50-95", "metric"), ("VOC AP 11-pt", "metric"),
        ("AP (IoU .50:.95)", "metric"), ("AR100", "metric"), ("precision", "metric"),
        ("recall", "metric"), ("F1", "metric"), ("dAP50", "points"),
        ("classifier AP", "metric"), ("IoU", "iou"), ("worst IoU", "iou"),
        ("latency here (ms)", "ms"), ("mAP50 here (%)", "percent"),
        ("params (M)", "amount"), ("GFLOPs", "amount"), ("x1", "pixels"),
        ("width (px)", "pixels"), ("area (px²)", "pixels"), ("class", None),
        ("images", None),
    ],
)  # fmt: skip
def test_a_column_name_says_its_kind_of_number(column, kind):
    assert number_kind(column) == kind


def test_one_format_per_kind_and_n_a_for_what_is_missing():
    assert format_number(0.87654, "score") == "0.88"
    assert format_number(0.41234, "metric") == "0.412"
    assert format_number(0.5, "iou") == "0.50"
    assert format_number(1234.6, "pixels") == "1,235"
    assert format_number(36.04, "ms") == "36.0"
    for missing in (None, float("nan")):
        assert format_number(missing, "ms") == NOT_AVAILABLE
    assert format_number(-1.0, "metric") == NOT_AVAILABLE  # COCO's "no ground truth"


def test_headers_in_words_and_no_none_on_screen():
    assert header_words("image_id") == "image id"
    assert header_words("classifier_AP") == "classifier AP"
    assert header_words("gt") == "objects" and header_words("score") == "score"
    # A model's title is no identifier: its underscores stay.
    title = "twin_openvino_model (your weights)"
    assert header_words(title) == title
    frame = pd.DataFrame(
        {
            "class": ["bus", None],
            "score": [0.876, np.nan],
            "x1": [12.4, 3.0],
            "latency here (ms)": [np.nan, 3.21],
            "detector_score": [0.5, None],
            "boxes": [3, 4],
        }
    )
    html = styled(readable(frame)).to_html()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells == ["bus", "0.88", "12", "n/a", "0.50", "3",
                     "n/a", "n/a", "3", "3.2", "n/a", "4"]  # fmt: skip
    assert "detector score" in html and "detector_score" not in html
    assert "None" not in html and "nan" not in html
