"""Every table the app shows, through one function: headers in words, one number format
per kind (``visioncompare.kernel.tables``), "n/a" for what is missing, and a height that
fits its rows (no empty rows below the last)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from visioncompare.kernel.display import table_height
from visioncompare.kernel.tables import NOT_AVAILABLE, readable, styled


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
    config = {
        column: st.column_config.Column(
            width=(widths or {}).get(column), help=(help or {}).get(column)
        )
        for column in table.columns
        if column in (widths or {}) or column in (help or {})
    }
    st.dataframe(
        styled(table, kinds),
        hide_index=True,
        width="stretch",
        height=table_height(len(table), max_rows),
        key=key,
        column_config=config or None,
        # The grid draws a missing number itself, whatever the Styler says.
        placeholder=NOT_AVAILABLE,
    )
