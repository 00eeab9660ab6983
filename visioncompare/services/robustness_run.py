"""The robustness grid on a dataset, for the page and the command line: every cell
(corruption x severity, plus the clean images) through the evaluation flow's stored
predictions, scored once, into one table (``visioncompare.robustness.grid``).

Each cell is an ordinary stored run keyed by (model, weights, dataset, corruption,
severity, seed): a cell already stored is read back without loading a model, and a run
that stops goes on from the stored images next time. Within a cell the detector runs
first and the classifier second on the same corrupted pixels, corrupted once
(``visioncompare.evaluation.prediction_runs.CORRUPTED_IMAGES``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from visioncompare.datasets import Dataset
from visioncompare.evaluation.metrics.align import align_predictions
from visioncompare.evaluation.metrics.coco import coco_result
from visioncompare.evaluation.metrics.cocoeval import EvalParams, evaluate
from visioncompare.evaluation.metrics.tagging import evaluate_tagging
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.types import Detections
from visioncompare.robustness.corruptions import Corruption, package_version
from visioncompare.robustness.grid import (
    CLEAN,
    RobustnessGrid,
    corruption_ranking,
    results_frame,
    robustness_summary,
    severity_curves,
)
from visioncompare.services.engines import Engine, RayOptions, RunRequest, make_engine
from visioncompare.services.evaluation_run import (
    default_store,
    is_stored,
    library_versions,
    stored_or_predicted_detections,
    stored_or_predicted_probabilities,
)

GridProgress = Callable[[str, int, int], None]
"""Called with (the cell and model at work, model passes over an image done, in all):
one count over the whole grid, so the time left is the grid's."""


@dataclass(frozen=True, eq=False)
class RobustnessResult:
    """A robustness run's numbers and what it cost.

    Attributes:
        table: one row per (model, metric, cell) (``visioncompare.robustness.grid``
            ``COLUMNS``), the clean images as corruption ``clean``, severity 0.
        grid: the cells run.
        dataset: the dataset's name.
        detector, classifier: the models (classifier None: the detector alone).
        seconds: wall time of this call.
        predicted: cells whose predictions were (partly) made by this call; the others
            were read back from the store.
    """

    table: pd.DataFrame
    grid: RobustnessGrid
    dataset: str
    detector: str
    classifier: str | None
    seconds: float
    predicted: int

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Clean, mPC and rPC per model and metric (``grid.robustness_summary``)."""
        return robustness_summary(self.table)

    @cached_property
    def ranking(self) -> pd.DataFrame:
        """The corruptions by loss per model (``grid.corruption_ranking``)."""
        return corruption_ranking(self.table)

    @cached_property
    def curves(self) -> pd.DataFrame:
        """Primary metric against severity (``grid.severity_curves``)."""
        return severity_curves(self.table)

    def csv(self) -> str:
        """``robustness.csv``: the table, with the dataset, the seed and the package."""
        frame = self.table.copy()
        frame.insert(0, "dataset", self.dataset)
        frame["seed"] = self.grid.seed
        frame["package"] = package_version()
        return frame.to_csv(index=False)

    def write(self, out_dir: Path) -> Path:
        """``robustness.csv`` into ``out_dir`` (made if missing); returns its path."""
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "robustness.csv"
        path.write_text(self.csv())
        return path


def cell_rows(
    dataset: Dataset,
    detections: dict[int, Detections],
    detector: str,
    cell: Corruption | None,
    params: EvalParams,
    probabilities: dict[int, np.ndarray] | None = None,
    classifier: str | None = None,
    classifier_names: tuple[str, ...] = (),
) -> list[dict]:
    """One cell's rows: the detector's AP50-95 and AP50 (COCO, the evaluation engine of
    every run), and the classifier's image-level tagging mAP when given."""
    aligned = align_predictions(detections, dataset)
    stats = coco_result(evaluate(dataset, aligned.predictions, params), dataset).stats
    where = {
        "corruption": CLEAN if cell is None else cell.name,
        "severity": 0 if cell is None else cell.severity,
        "images": len(dataset),
    }
    rows = [
        {"model": detector, "task": "detection", "metric": "AP50-95",
         "value": float(stats["AP"]), **where},
        {"model": detector, "task": "detection", "metric": "AP50",
         "value": float(stats["AP50"]), **where},
    ]  # fmt: skip
    if probabilities is not None:
        tagging = evaluate_tagging(
            dataset, probabilities, classifier_names, aligned.predictions,
            conf=params.conf,
        )  # fmt: skip
        rows.append({"model": classifier, "task": "classification",
                     "metric": "tagging mAP", "value": tagging.classifier_map,
                     **where})  # fmt: skip
    return rows


def stored_cells(
    dataset: Dataset,
    detector: str,
    classifier: str | None,
    grid: RobustnessGrid,
    store: PredictionStore | None = None,
    device: str = "auto",
) -> int:
    """How many of the grid's cells (the clean one included) are stored for both
    models: ``len(grid) + 1`` means the whole grid reads back without a model."""
    store = store or default_store()
    return sum(
        is_stored(dataset, detector, classifier, store, device, cell)
        for cell in (None, *grid.cells())
    )


def _loaded_once(device: str) -> Callable[[str], object]:
    """A model loader that loads each model once for the whole grid (the local engine
    alone would load it again for every cell)."""
    from visioncompare.services.engines.local import load_on_device

    loaded: dict[str, object] = {}

    def get_model(name: str):
        if name not in loaded:
            loaded[name] = load_on_device(name, device)
        return loaded[name]

    return get_model


def run_robustness(
    dataset: Dataset,
    detector: str,
    classifier: str | None = None,
    grid: RobustnessGrid | None = None,
    device: str = "auto",
    store: PredictionStore | None = None,
    progress: GridProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    get_model: Callable[[str], object] | None = None,
    engine: str | Engine = "local",
    ray_options: RayOptions | None = None,
) -> RobustnessResult:
    """Every cell of ``grid`` (and the clean images) through the detector and the
    classifier, from the store or predicted, scored into one table.

    Args:
        dataset: the held-out images.
        detector: a model-zoo detector.
        classifier: a model-zoo classifier scored as an image tagger (optional).
        grid: the corruptions, severities and seed (default: the paper's 15 x 5).
        device, store, get_model, engine, ray_options: as ``run_evaluation``.
        progress: (cell and model, passes done, passes in all) over the whole grid.
        should_stop: polled between batches; True stops with ``Interrupted`` (every
            image predicted so far is stored).

    Raises:
        As ``run_evaluation``; ``CorruptionUnavailable`` without the corruption package.
    """
    grid = grid or RobustnessGrid()
    if isinstance(engine, str):
        engine = make_engine(
            engine, device, get_model or _loaded_once(device), ray_options
        )
    store = store or default_store()
    record = {"versions": library_versions()}
    params = EvalParams()
    cells: list[Corruption | None] = [None, *grid.cells()]
    models = [detector, *([classifier] if classifier else [])]
    total = len(cells) * len(models) * len(dataset)
    started, rows, predicted = time.perf_counter(), [], 0
    for n, cell in enumerate(cells):
        label = "clean images" if cell is None else cell.title
        before = n * len(models) * len(dataset)

        def stage(model: str, offset: int, label=label, before=before):
            if progress is None:
                return None
            return lambda done, _total: progress(
                f"{model} · {label}", before + offset + done, total
            )

        was_stored = is_stored(
            dataset, detector, classifier, store, engine.device, cell
        )
        detections, _ = stored_or_predicted_detections(
            engine, RunRequest(detector, dataset, store, stage(detector, 0),
                               should_stop, record, cell),
        )  # fmt: skip
        probabilities, names = None, ()
        if classifier:
            probabilities, run = stored_or_predicted_probabilities(
                engine, RunRequest(classifier, dataset, store,
                                   stage(classifier, len(dataset)), should_stop, record,
                                   cell),
            )  # fmt: skip
            names = tuple(run.meta["class_names"])
        predicted += not was_stored
        rows += cell_rows(dataset, detections, detector, cell, params, probabilities,
                          classifier, names)  # fmt: skip
        if progress is not None and was_stored:  # read back: no batch reported it
            progress(
                f"{detector} · {label}", before + len(models) * len(dataset), total
            )
    return RobustnessResult(
        results_frame(rows), grid, dataset.name, detector, classifier,
        time.perf_counter() - started, predicted,
    )  # fmt: skip
