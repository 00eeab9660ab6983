"""The Evaluate page's last views: why tools print other numbers, and the files to
download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.shared.cache import report_files
from visioncompare.kernel.paths import file_stem
from visioncompare.kernel.tables import readable, styled


def disagreement_section(frame: pd.DataFrame) -> None:
    # A static table wraps the one-sentence causes instead of cutting them off.
    st.table(styled(readable(frame)).hide(axis="index"))


def downloads(report, records: pd.DataFrame, key: str, report_id: str) -> None:
    """Three downloads; a click does not rerun the page. The two report files are built
    once per report (cached); the per-image CSV, which changes with every threshold and
    costs about 0.4 s at 5,000 images, is written only when its button is pressed
    (Streamlit calls ``data`` then), so moving a slider with this view open does not pay
    for it."""
    stem = file_stem("_".join(filter(None, (report.dataset.name,
                                            report.dataset.scored_as, report.source))))
    per_class_csv, coco_json = report_files(report_id, report)
    files = (
        ("Metrics (CSV)", per_class_csv, "per_class.csv", "text/csv", "metrics"),
        ("Per-image results (CSV)", lambda: records.to_csv(index=False), "per_image.csv",
         "text/csv", "records"),
        ("COCO results (JSON)", coco_json, "coco_results.json", "application/json",
         "json"),
    )  # fmt: skip
    for column, (label, data, suffix, mime, name) in zip(st.columns(3), files):
        column.download_button(
            label,
            data,
            file_name=f"{stem}_{suffix}",
            mime=mime,
            key=f"{key}_dl_{name}",
            on_click="ignore",
        )
