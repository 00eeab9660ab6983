"""Tables as the pages show them: row order, column names and missing values.

Pure pandas. A metric that cannot be computed (COCO's -1: no ground truth) is missing
(NaN) in the data and reads "n/a" on screen; its row sorts after the rows that have one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

NOT_AVAILABLE = "n/a"

PER_CLASS_NAMES = {"VOC_AP_11pt": "VOC AP 11-pt", "VOC_AP_all": "VOC AP all-pt"}


def per_class_table(per_class: pd.DataFrame, by: str = "AP50-95") -> pd.DataFrame:
    """The per-class metrics in reading order.

    Classes with ground truth first, best ``by`` first (ties by name); classes without
    ground truth last, by name. COCO's -1 becomes NaN; the VOC columns get short names.

    Args:
        per_class: one row per class with ``class``, ``gt`` and AP columns.
        by: the AP column that orders the rows.
    """
    frame = per_class.replace(-1.0, np.nan)
    has_gt = frame["gt"] > 0
    ordered = pd.concat(
        [
            frame[has_gt].sort_values([by, "class"], ascending=[False, True]),
            frame[~has_gt].sort_values("class"),
        ]
    )
    return ordered.rename(columns=PER_CLASS_NAMES).reset_index(drop=True)


def with_missing_as_na(frame: pd.DataFrame, decimals: int = 3) -> Styler:
    """Floats to ``decimals`` places and missing values as "n/a" (the data stay numeric,
    so a click on a column header still sorts by value)."""
    floats = frame.select_dtypes("float").columns
    return frame.style.format(
        f"{{:.{decimals}f}}", subset=list(floats), na_rep=NOT_AVAILABLE
    )
