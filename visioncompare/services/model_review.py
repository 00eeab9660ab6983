"""Model review beyond one mAP: the leaderboard's inputs from the model zoo and this
machine, and the label checker run on an evaluation's stored predictions.

The pure parts (``visioncompare.evaluation.leaderboard``, ``label_issues``) take plain
data; this module fills it: model facts from ``model_zoo``, latency timed here on a few
of the dataset's images, metrics from each ``EvaluationReport``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from visioncompare.datasets import Dataset
from visioncompare.evaluation.leaderboard import (
    UNAVAILABLE,
    Entry,
    Latency,
    ModelFacts,
    detector_metrics,
    leaderboard_frame,
    tagging_metrics,
)
from visioncompare.evaluation.metrics.tagging import TaggingResult
from visioncompare.evaluation.prediction_runs import StoredRun
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.images import load_image_file
from visioncompare.kernel.types import Detections
from visioncompare.robustness.corruptions import Corruption
from visioncompare.services.engines import Engine, RayOptions, RunRequest, make_engine
from visioncompare.services.engines.local import load_on_device
from visioncompare.services.evaluation_run import (
    default_store,
    library_versions,
    stored_tagging,
)
from visioncompare.services.report import EvaluationReport

LATENCY_IMAGES = 5
"""How many of the dataset's images the latency loop cycles over."""
LATENCY_RUNS = 30
"""Timed calls at batch 1 (after ``LATENCY_WARMUP``)."""
LATENCY_WARMUP = 2
THROUGHPUT_BATCH = 16
"""Batch size of the throughput measured on a GPU."""


def model_facts(name: str) -> ModelFacts:
    """Parameters, GFLOPs and accuracy as the publisher gives them, and the size of the
    weights on this machine (``ModelFacts()`` for a name the zoo does not know: a
    predictions file)."""
    from model_zoo import get_spec
    from model_zoo.figures import published_figures
    from model_zoo.identity import weights_path

    try:
        spec = get_spec(name)
    except KeyError:
        return ModelFacts()
    figures = published_figures(spec)
    path = weights_path(spec)
    return ModelFacts(
        params_m=figures.params_m if figures else None,
        gflops=figures.gflops if figures else None,
        weights_mb=_size_mb(path) if path is not None else None,
        published=figures.accuracy if figures else None,
        source=figures.source if figures else "",
    )


def _size_mb(path: Path) -> float:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return sum(p.stat().st_size for p in files) / 1e6


def unavailable_models(names: Sequence[str]) -> list[str]:
    """The names among ``names`` whose weights are not on this machine (they are
    listed as unavailable, never scored with random weights)."""
    from model_zoo import get_spec
    from model_zoo.identity import weights_on_disk

    return [n for n in names if not weights_on_disk(get_spec(n))]


def timing_images(dataset: Dataset, count: int = LATENCY_IMAGES) -> list[np.ndarray]:
    """The first ``count`` images of the dataset that can be read, decoded (RGB)."""
    images = []
    for sample in dataset.samples:
        if len(images) == count:
            break
        try:
            images.append(load_image_file(str(sample.path)).array)
        except (OSError, ValueError):
            continue  # a missing picture: metrics need none, timing takes the next
    return images


def measure_latency(
    model,
    images: Sequence[np.ndarray],
    runs: int = LATENCY_RUNS,
    warmup: int = LATENCY_WARMUP,
    batch: int = THROUGHPUT_BATCH,
) -> Latency:
    """Time ``model.predict`` on one image at a time, cycling over ``images``.

    Each call's time is the model's own (pre-process, inference and post-process, as
    the adapter records them, without waiting for another caller of the shared model);
    detectors run at their default confidence. On a GPU, the throughput of batches of
    ``batch`` images (wall time of three calls) is measured too.

    Raises:
        ValueError: no images.
    """
    if not images:
        raise ValueError("no image of the dataset could be read to time the model")
    for n in range(warmup):
        model.predict([images[n % len(images)]])
    times = [
        model.predict([images[n % len(images)]])[0].timing.total_ms for n in range(runs)
    ]
    per_second = None
    if str(model.device).startswith("cuda"):
        chunk = [images[n % len(images)] for n in range(batch)]
        model.predict(chunk)
        start = time.perf_counter()
        for _ in range(3):
            model.predict(chunk)
        per_second = 3 * batch / (time.perf_counter() - start)
    return Latency.from_times(
        times, min(len(images), runs), str(model.device), per_second,
        batch if per_second else None,
    )  # fmt: skip


def detector_entries(
    reports: Sequence[EvaluationReport],
    latencies: dict[str, Latency] | None = None,
    unavailable: Sequence[str] = (),
) -> list[Entry]:
    """One leaderboard entry per report (a detector or a predictions file), then one
    per detector listed as unavailable; accuracy read from each report's own
    evaluation."""
    latencies = latencies or {}
    entries = [
        Entry(
            report.source if report.detector_run else Path(report.source).name,
            "detector" if report.detector_run is not None else "predictions file",
            detector_metrics(report.coco.stats),
            latency=latencies.get(report.source),
            run_ms=report.ms_per_image,
            facts=model_facts(report.source)
            if report.detector_run is not None
            else ModelFacts(),
        )
        for report in reports
    ]
    entries += [
        Entry(name, "detector", status=UNAVAILABLE, facts=model_facts(name))
        for name in unavailable
    ]
    return entries


@dataclass(frozen=True)
class ClassifierScore:
    """A classifier scored as an image-level tagger on a dataset.

    Attributes:
        name: its model-zoo name.
        tagging: the tagging result (``metrics.tagging.evaluate_tagging``).
        run: its stored classification run (the time it took is in ``run.meta``).
    """

    name: str
    tagging: TaggingResult
    run: StoredRun


def score_classifiers(
    dataset: Dataset,
    names: Sequence[str],
    detections: Mapping[int, Detections] | None = None,
    device: str = "auto",
    store: PredictionStore | None = None,
    engine: str | Engine = "local",
    get_model: Callable[[str], object] | None = None,
    ray_options: RayOptions | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    conf: float = 0.25,
    corruption: Corruption | None = None,
) -> tuple[list[ClassifierScore], list[str]]:
    """Each classifier's image-level tagging mAP on ``dataset``, from its stored
    classification run: read back when complete, else made once by ``engine`` and
    stored (the same key as the Evaluate run's classifier).

    Args:
        detections: image id -> the detector's boxes, for the detector's image-level
            mAP beside each classifier's (None: the classifiers alone).
        progress: (model name, images done, images in total) callback.
        conf: the detector confidence of its hit rate.
        corruption: the classifiers see each image corrupted (a run of its own key).
        The others: as ``evaluation_run.run_evaluation``'s.

    Returns:
        The scored classifiers in the order given, and the names whose weights are not
        on this machine (listed as unavailable, never scored with random weights).

    Raises:
        KeyError (unknown model), ``StoreError``, ``engines.ray.RayUnavailable``.
    """
    from model_zoo import WeightsNotFoundError

    if isinstance(engine, str):
        engine = make_engine(engine, device, get_model, ray_options)
    store = store or default_store()
    record = {"versions": library_versions()}
    scores, unavailable = [], []
    for name in dict.fromkeys(names):
        stage = None if progress is None else partial(progress, name)
        request = RunRequest(
            name, dataset, store, stage, record=record, corruption=corruption
        )
        try:
            tagging, run = stored_tagging(engine, request, detections, conf)
        except WeightsNotFoundError:
            unavailable.append(name)
            continue
        scores.append(ClassifierScore(name, tagging, run))
    return scores, unavailable


def classifier_entries(
    reports: Sequence[EvaluationReport],
    latencies: dict[str, Latency] | None = None,
    scores: Sequence[ClassifierScore] = (),
    unavailable: Sequence[str] = (),
) -> list[Entry]:
    """One entry per classifier scored as an image tagger, in ``reports`` (the run's
    classifier) or in ``scores`` (each name once, the report's first), then one per
    name of ``unavailable`` not scored."""
    latencies = latencies or {}
    scored = [
        ClassifierScore(r.classifier, r.tagging, r.classifier_run)
        for r in reports
        if r.tagging is not None and r.classifier_run is not None
    ]
    unique: dict[str, ClassifierScore] = {}
    for score in [*scored, *scores]:
        unique.setdefault(score.name, score)
    entries = []
    for score in unique.values():
        timed = score.run.meta.get("timed_images")
        entries.append(
            Entry(
                score.name,
                "classifier",
                tagging_metrics(
                    score.tagging.classifier_map,
                    score.tagging.detector_map,
                    score.tagging.coverage,
                ),
                latency=latencies.get(score.name),
                run_ms=1000.0 * score.run.meta["model_seconds"] / timed
                if timed
                else None,
                facts=model_facts(score.name),
            )
        )
    entries += [
        Entry(name, "classifier", status=UNAVAILABLE, facts=model_facts(name))
        for name in dict.fromkeys(unavailable)
        if name not in unique
    ]
    return entries


def models_to_time(
    reports: Sequence[EvaluationReport], classifiers: Sequence[ClassifierScore] = ()
) -> list[str]:
    """The models a leaderboard's latency column times, each once: the detectors that
    ran (not predictions files), then the reports' classifiers and those scored apart."""
    models = [r.source for r in reports if r.detector_run is not None]
    models += list(dict.fromkeys(r.classifier for r in reports if r.tagging))
    return models + [c.name for c in classifiers if c.name not in models]


def measure_models(
    names: Sequence[str],
    dataset: Dataset,
    device: str = "auto",
    get_model: Callable[[str], object] | None = None,
) -> dict[str, Latency]:
    """``measure_latency`` of each model on the first images of ``dataset``.

    Args:
        names: model-zoo names (loaded with ``get_model``, default: from the zoo on
            ``device``).

    Raises:
        ValueError: none of the dataset's images can be read.
    """
    if not names:
        return {}
    images = timing_images(dataset)
    load = get_model or partial(load_on_device, device=device)
    return {name: measure_latency(load(name), images) for name in names}


def leaderboard(
    reports: Sequence[EvaluationReport],
    unavailable: Sequence[str] = (),
    latencies: dict[str, Latency] | None = None,
    classifiers: Sequence[ClassifierScore] = (),
    unavailable_classifiers: Sequence[str] = (),
) -> pd.DataFrame:
    """Every detector, predictions file and classifier of ``reports``, and the
    classifiers of ``classifiers``, in one table (``leaderboard.leaderboard_frame``):
    the detectors best AP first, the unavailable ones after them; then the classifiers,
    best tagging mAP first, the unavailable ones last."""
    return leaderboard_frame(
        [
            *detector_entries(reports, latencies, unavailable),
            *classifier_entries(
                reports, latencies, classifiers, unavailable_classifiers
            ),
        ]
    )
