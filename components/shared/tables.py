"""Every table the app shows, through one function: headers in words, one number format
per kind (``visioncompare.kernel.tables``), "n/a" for what is missing, and a height that
fits its rows (no empty rows below the last)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from visioncompare.kernel.display import table_height
from visioncompare.kernel.tables import (
    DECIMALS,
    NOT_AVAILABLE,
    column_kinds,
    readable,
    styled,
)

STYLED_ROWS = 500
"""Tables up to this many rows are formatted on the server (thousands separators
included); longer ones by the browser."""


def show_table(
    frame: pd.DataFrame,
    *,
    key: str | None = None,
    max_rows: int = 10,
    kinds: dict[str, str] | None = None,
    help: dict[str, str] | None = None,
    widths: dict[str, str | int] | None = None,
) -> None:
    """A full-width, sortable table without an index.

    Args:
        frame: the rows; snake_case column names are shown in words.
        key: a widget key unique on the page (two tables of the same data need two).
        max_rows: rows shown before the table scrolls; fewer rows, a shorter table.
        kinds: a number kind (``DECIMALS``) per column whose name does not say it.
        help: a tooltip per column (for ids, units and definitions).
        widths: "small", "medium", "large" or pixels, per column.
    """
    table = readable(frame)
    # A pandas Styler formats every cell in Python (about 0.5 s for 5,000 rows, paid on
    # every rerun that draws the table); past STYLED_ROWS the browser formats the numbers
    # from each column's printf format instead (same decimals, no thousands separators).
    browser_formats = (
        {c: f"%.{DECIMALS[k]}f" for c, k in column_kinds(table, kinds).items()}
        if len(table) > STYLED_ROWS
        else {}
    )
    config = {}
    for column in table.columns:
        options = {"width": (widths or {}).get(column), "help": (help or {}).get(column)}
        if column in browser_formats:
            config[column] = st.column_config.NumberColumn(
                format=browser_formats[column], **options
            )
        elif column in (widths or {}) or column in (help or {}):
            config[column] = st.column_config.Column(**options)
    st.dataframe(
        table if browser_formats else styled(table, kinds),
        hide_index=True,
        width="stretch",
        height=table_height(len(table), max_rows),
        key=key,
        column_config=config or None,
        # The grid draws a missing number itself, whatever the Styler says.
        placeholder=NOT_AVAILABLE,
    )
