"""The Evaluate page's Robustness tab: the evaluated detector and the classifier under the
15 ImageNet-C corruptions at five severities (Michaelis et al. 2019): a metric against
severity per corruption, mPC and rPC, and the corruptions ranked by loss."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from components.shared import cache
from components.shared.controls import shared_choice
from components.shared.store_status import show_unreachable
from components.shared.tables import show_table
from components.shared.views import CHART
from visioncompare.evaluation.store import StoreUnavailable
from visioncompare.plots.robustness import loss_figure, severity_figure
from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    INSTALL_HINT,
    SEVERITIES,
    available,
    corruption_title,
    expected_seconds,
)
from visioncompare.robustness.grid import PRIMARY, RobustnessGrid
from visioncompare.services.evaluation_run import runs_dir
from visioncompare.services.robustness_run import run_robustness, stored_cells

ABOUT = (
    "Every image corrupted by each of the 15 ImageNet-C corruptions (Hendrycks & "
    "Dietterich, 2019) at each severity, through both models, as Michaelis et al. (2019) "
    "benchmarked detectors on COCO and VOC. **mPC** is the mean over corruptions of the "
    "mean over severities; **rPC** is mPC divided by the clean score, so 0.7 means the "
    "model keeps 70% of its clean score under corruption. The detector is scored by "
    "COCO AP50-95, the classifier by its image-level tagging mAP. Predictions are "
    "stored per cell: coming back costs nothing, and a stopped run goes on from there."
)


def robustness_section(report, dataset, choice, prefix: str = "evaluate") -> None:
    """The Robustness tab for the report's detector and classifier on ``dataset``.

    Args:
        report: the evaluated detector's report (``report.source``; its classifier).
        dataset: the dataset evaluated.
        choice: the page's ``EvaluateChoice`` (an upload's predictions stay in the
            session's own store).
        prefix: widget keys' prefix.
    """
    st.caption(ABOUT)
    if not available():
        st.warning(
            f"Corrupting images needs the imagecorruptions package: `{INSTALL_HINT}`."
        )
        return
    left, right = st.columns([3, 2])
    with left:
        corruptions = st.multiselect(
            "Corruptions", CORRUPTIONS, default=CORRUPTIONS, format_func=corruption_title,
            key=f"{prefix}_rob_corruptions",
        )  # fmt: skip
    with right:
        severities = st.multiselect(
            "Severities", SEVERITIES, default=SEVERITIES, key=f"{prefix}_rob_severities"
        )
    if not corruptions or not severities:
        st.info("Pick at least one corruption and one severity.")
        return
    grid = RobustnessGrid(tuple(corruptions), tuple(severities))
    detector, classifier = report.source, report.classifier
    device = shared_choice().device
    store = (
        choice.files.store
        if choice.uploaded and choice.files is not None
        else cache.prediction_store(str(runs_dir()))
    )
    cells = len(grid) + 1
    results = st.session_state.setdefault(f"{prefix}_robustness", {})
    key = (choice.dataset, dataset.name, detector, classifier, grid, device)
    # Counted once per grid and session: a threshold slider reruns this tab too, and
    # looking up every cell's two runs each time would slow every slider move.
    counts = st.session_state.setdefault(f"{prefix}_robustness_stored", {})
    if key in results:
        counts[key] = cells
    elif key not in counts:
        try:
            counts[key] = stored_cells(
                dataset, detector, classifier, grid, store, device
            )
        except StoreUnavailable as exc:
            show_unreachable(exc, "The robustness grid can run once it is back.")
            return
    stored = counts[key]
    label = "Run the robustness grid" if stored < cells else "Show (stored: instant)"
    st.caption(_cost_text(report, dataset, grid, cells - stored))
    pressed = st.button(label, key=f"{prefix}_rob_run", type="primary")
    if pressed or (key not in results and stored == cells):
        run = _run(dataset, detector, classifier, grid, device, store, prefix)
        if run is not None:
            results[key] = run
    result = results.get(key)
    if result is None:
        return
    _show(result)


def _cost_text(report, dataset, grid: RobustnessGrid, todo: int) -> str:
    """How big the grid is and, before it runs, about how long the cells left take."""
    text = (
        f"{len(grid.corruptions)} corruptions × {len(grid.severities)} severities and the "
        f"clean images: {len(grid) + 1} cells of {len(dataset)} images each"
    )
    if not todo:
        return text + ", all stored."
    width = int(np.mean([s.width for s in dataset.samples]))
    height = int(np.mean([s.height for s in dataset.samples]))
    corrupting = sum(expected_seconds(n, width, height) for n in grid.corruptions)
    corrupting *= len(grid.severities) * len(dataset) * todo / len(grid)
    models_ms = (report.ms_per_image or 50.0) + (
        _classifier_ms(report) if report.classifier else 0.0
    )
    seconds = corrupting + todo * len(dataset) * models_ms / 1000
    return (
        text + f"; {todo} to predict, about {_duration(seconds)} here "
        "(zoom blur is the slowest corruption)."
    )


def _classifier_ms(report) -> float:
    meta = report.classifier_run.meta if report.classifier_run else {}
    timed = meta.get("timed_images")
    return 1000.0 * meta["model_seconds"] / timed if timed else 20.0


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _run(dataset, detector, classifier, grid, device, store, prefix: str):
    """The grid with a progress bar (time left) and a Stop button; any rerun stops it
    after the image in progress, and every image predicted so far is stored."""
    stop_slot = st.empty()
    stop_slot.button(
        "Stop", key=f"{prefix}_rob_stop", icon=":material/stop_circle:",
        help="Stops after the image in progress; every image predicted so far is "
        "stored, and the next run goes on from there.",
    )  # fmt: skip
    bar = st.progress(0.0, text="Starting…")
    started: list[tuple[float, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        first, first_done = (started or [(now, done)])[0]
        started[:] = [(first, first_done)]
        rate = (done - first_done) / (now - first) if now > first else 0.0
        left = f", about {_duration((total - done) / rate)} left" if rate else ""
        bar.progress(min(done / max(total, 1), 1.0), text=f"{stage}{left}")

    try:
        return run_robustness(
            dataset, detector, classifier, grid, device, store, progress,
            get_model=lambda name: cache.model_on(name, device).model,
        )  # fmt: skip
    except StoreUnavailable as exc:
        show_unreachable(exc, "Every image predicted before it went is stored: run "
                         "again once it is back, and the grid goes on from there.")  # fmt: skip
        return None
    except (KeyError, ValueError, OSError, RuntimeError) as exc:
        st.error(f"The robustness run could not finish: {exc}")
        return None
    finally:
        bar.empty()
        stop_slot.empty()


def _show(result) -> None:
    """mPC and rPC per model, a figure per model, the ranking and the CSV."""
    summary = result.summary[
        result.summary["metric"] == result.summary["task"].map(PRIMARY)
    ]
    columns = st.columns(max(1, len(summary)))
    for column, (_, row) in zip(columns, summary.iterrows()):
        column.metric(
            f"{row['model']}: mPC ({row['metric']})", f"{row['mPC']:.3f}",
            delta=f"rPC {row['rPC']:.0%} of clean {row['clean']:.3f}",
            delta_color="off", delta_arrow="off",
        )  # fmt: skip
    if not result.grid.full:
        st.caption(
            "Over the cells picked, not the paper's 15 × 5 grid: compare mPC with "
            "published numbers only on the full grid."
        )
    figures = st.columns(max(1, len(summary)))
    for column, (_, row) in zip(figures, summary.iterrows()):
        with column:
            st.plotly_chart(
                severity_figure(result.curves, row["model"], row["metric"]),
                width="stretch", config=CHART, key=f"rob-curve-{row['model']}",
            )  # fmt: skip
    st.plotly_chart(loss_figure(result.ranking), width="stretch", config=CHART)
    st.markdown("**Corruptions ranked by what each model loses**")
    ranking = result.ranking.rename(columns={"mean": "mean over severities"})
    show_table(
        ranking[["model", "rank", "corruption", "clean", "mean over severities", "loss",
                 "relative"]],
        key="rob-ranking",
        kinds={"clean": "metric", "mean over severities": "metric", "loss": "metric",
               "relative": "score"},
    )  # fmt: skip
    st.download_button(
        "robustness.csv", result.csv(), "robustness.csv", "text/csv",
        key="rob-download",
    )  # fmt: skip
    st.caption(
        f"{result.predicted} cells predicted in this run, the others read back from the "
        f"store; {result.seconds:.0f} s."
    )
