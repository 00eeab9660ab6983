"""Every Streamlit cache decorator of the app lives here (those of what a browser session
holds until it ends: ``components.shared.sessions``).

Decoded images, model outputs and other per-image results live in server-wide caches
bounded by bytes, not entries (``ByteBoundedCache``): a few huge uploads cannot hold the
server's memory. Budgets, in megabytes, from the environment:

- ``VISIONCOMPARE_IMAGE_CACHE_MB`` (default 160): decoded uploads (the copy kept of each
  is at most ``VISIONCOMPARE_ANALYSIS_SIDE`` pixels on its long side), dataset images and
  video frames.
- ``VISIONCOMPARE_RESULT_CACHE_MB`` (default 64): predictions, saliency maps, detector
  heads, the classifier on detected boxes.
- ``VISIONCOMPARE_VIDEO_CACHE_MB`` (default 256): finished video analyses.
- ``VISIONCOMPARE_REPORT_CACHE_MB`` (default 128): views of evaluation reports (curves,
  per-image tables, best thresholds, label issues, downloads), keyed by their session and
  removed when it ends.

What a session holds beyond that (its reports, and releasing it all when it ends) is in
``components.shared.sessions``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import streamlit as st

from model_zoo import Task, get_spec, load_model
from model_zoo.device import device_for
from visioncompare.evaluation.metrics.coco import coco_results
from visioncompare.evaluation.session_files import images_present
from visioncompare.kernel.bounded_cache import ByteBoundedCache
from visioncompare.kernel.images import (
    LoadedImage,
    analysis_side_setting,
    decode_image,
    load_image_file,
)
from visioncompare.kernel.types import Prediction
from visioncompare.services.evaluation_run import open_dataset

LOAD_COUNTS: Counter[tuple[str, str]] = Counter()
"""How many times each (model, device) was loaded in this process (tests read it)."""
RUN_COUNTS: Counter[str] = Counter()
"""How many times each model ran on a Compare/Learn image, past the cache (tests read it)."""


F = TypeVar("F", bound=Callable)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def budget_bytes(setting: str, default_mb: float) -> int:
    """A cache budget: ``$setting`` in megabytes, or the default."""
    text = os.environ.get(setting, "").strip()
    try:
        megabytes = float(text) if text else default_mb
    except ValueError:
        raise ValueError(
            f"{setting} should be a number of megabytes, not {text!r}"
        ) from None
    return int(max(megabytes, 0.0) * 2**20)


IMAGES = ByteBoundedCache(budget_bytes("VISIONCOMPARE_IMAGE_CACHE_MB", 160))
"""Decoded images for the whole server (uploads, dataset images, video frames)."""
RESULTS = ByteBoundedCache(budget_bytes("VISIONCOMPARE_RESULT_CACHE_MB", 64))
"""Model outputs for the whole server (predictions, saliency maps, ...)."""
REPORT_VIEWS = ByteBoundedCache(budget_bytes("VISIONCOMPARE_REPORT_CACHE_MB", 128))
"""Views of evaluation reports for the whole server, keyed by report id (which starts
with its session's id: ``sessions.session_report_id``); a session's go when it ends."""


def byte_cached(cache: ByteBoundedCache, first: str | None = None) -> Callable[[F], F]:
    """Memoise a function in a server-wide byte-bounded cache, keyed (like
    ``st.cache_data``) by its name and every argument whose name does not start with an
    underscore. Values are shared, not copied: they must never be mutated. Callers asking
    for the same key at once compute it once; ``fn.clear()`` forgets this function's
    values. With ``first`` (an argument's name), keys start with that argument's value
    instead, so ``cache.clear(value)`` forgets what every such function kept for it."""

    def wrap(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def cached(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            shown = tuple(
                (name, value)
                for name, value in bound.arguments.items()
                if not name.startswith("_") and name != first
            )
            key = f"{fn.__qualname__}:{shown!r}"
            if first is not None:
                key = f"{bound.arguments[first]}|{key}"
            return cache.get_or_compute(key, lambda: fn(*args, **kwargs))

        if first is None:
            cached.clear = functools.partial(cache.clear, f"{fn.__qualname__}:")  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]

    return wrap


@st.cache_resource(show_spinner="Loading model…", max_entries=6)
def get_model(name: str, device: str):
    """One model object per (name, device) for the whole server; never mutated."""
    LOAD_COUNTS[(name, device)] += 1
    return load_model(name, device)


@st.cache_resource(show_spinner="Reading the classes to look for…", max_entries=8)
def get_vocabulary_model(name: str, device: str, vocabulary: tuple[str, ...]):
    """An open-vocabulary detector looking for one vocabulary, for the whole server (a
    copy of the cached model; neither is ever mutated)."""
    LOAD_COUNTS[(f"{name}[{', '.join(vocabulary)}]", device)] += 1
    return get_model(name, device).with_vocabulary(vocabulary)


@byte_cached(IMAGES)
def decode_cached(data_digest: str, name: str, _data: bytes) -> LoadedImage:
    """Decode once per file content (the digest is the key; the bytes are not hashed).
    Only a copy at most ``VISIONCOMPARE_ANALYSIS_SIDE`` pixels on its long side is kept
    (``LoadedImage.original_size`` and ``scale`` say how it relates to the file)."""
    return decode_image(_data, name, max_side=analysis_side_setting())


@byte_cached(IMAGES)
def corrupted_cached(image_digest: str, corruption, _image: np.ndarray):
    """The image corrupted once per (image, corruption, severity, seed)
    (``visioncompare.robustness.corruptions.corrupt_image``; a ``CorruptionError`` is
    not cached)."""
    from visioncompare.robustness.corruptions import corrupt_image

    return corrupt_image(_image, corruption)


@byte_cached(RESULTS)
def classify_cached(
    classifier: str, device: str, image_digest: str, _image: np.ndarray
) -> Prediction:
    """The classifier on one image, keyed by model and image only: the detector's
    settings (NMS IoU, confidence) never re-run it."""
    RUN_COUNTS[classifier] += 1
    return get_model(classifier, device).predict([_image])[0]


@byte_cached(RESULTS)
def detect_cached(
    detector: str,
    device: str,
    image_digest: str,
    conf: float,
    iou: float,
    _image: np.ndarray,
    vocabulary: tuple[str, ...] = (),
) -> Prediction:
    """The detector on one image, keyed by model, image, NMS settings and (for an
    open-vocabulary detector) the classes it looks for (empty: its own).

    The page calls the two models one after the other, so each prediction's timing is that
    model's own (run together, they would share the CPU cores and each would look slower).
    """
    RUN_COUNTS[detector] += 1
    model = (
        get_vocabulary_model(detector, device, vocabulary)
        if vocabulary
        else get_model(detector, device)
    )
    return model.predict([_image], conf=conf, iou=iou)[0]


@st.cache_resource(show_spinner="Reading the dataset…", max_entries=8)
def load_dataset(name_or_path: str, within: str | None = None):
    """A dataset, read once per server (immutable; a DatasetError is not cached); a
    folder under a data root (``within``) looks for its images in that root only."""
    return open_dataset(name_or_path, within)


_ON_DISK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ON_DISK_LOCK = threading.Lock()


def images_on_disk(dataset) -> int:
    """How many of a dataset's images are on disk (an upload may hold annotations only),
    counted once per dataset object: the loaders' datasets are cached and never change."""
    with _ON_DISK_LOCK:
        if dataset not in _ON_DISK:
            _ON_DISK[dataset] = images_present(dataset)
        return _ON_DISK[dataset]


@st.cache_resource(scope="session", show_spinner="Reading the dataset…", max_entries=2)
def load_uploaded_dataset(path: str, within: str | None = None):
    """A visitor's uploaded dataset (its images looked for inside its folder,
    ``within``), kept for that session only: released with it, and never holding server
    memory for sessions that have ended."""
    return open_dataset(path, within)


@byte_cached(IMAGES)
def image_array(path: str) -> np.ndarray:
    return load_image_file(path).array


@st.cache_resource(show_spinner=False)
def prediction_store(folder: str):
    """One predictions store (one connection) per runs folder, for the server:
    ``$VISIONCOMPARE_STORE_URL`` when set, else the folder's SQLite file."""
    from visioncompare.services.evaluation_run import default_store

    return default_store(Path(folder))


@byte_cached(RESULTS)
def saliency(model: str, device: str, image_digest: str, _image: np.ndarray):
    from model_zoo.explain import classifier_saliency

    with st.spinner("Finding where each model looks…"):
        return classifier_saliency(get_model(model, device), _image)


@byte_cached(RESULTS)
def detector_head(model: str, device: str, image_digest: str, _image: np.ndarray):
    from model_zoo.explain import detector_head

    return detector_head(get_model(model, device), _image)


@st.cache_data(show_spinner="Timing both models on this machine…", max_entries=32)
def latency(model: str, device: str, image_digest: str, _image: np.ndarray) -> float:
    from model_zoo.explain import median_latency_ms

    return median_latency_ms(get_model(model, device), _image)


def runtime(model: str, device: str) -> str:
    """What runs a cached model's arithmetic (kernels, precision, threads), in words."""
    from model_zoo.explain import runtime_description

    return runtime_description(get_model(model, device))


@st.cache_resource(show_spinner="Counting parameters and multiply-accumulates…")
def complexity(model: str):
    from model_zoo.explain import classifier_complexity, detector_complexity

    spec = get_spec(model)
    if spec.task is Task.CLASSIFY:
        return classifier_complexity(spec.builder, spec.input_size)
    return detector_complexity(spec.architecture, spec.input_size)


@byte_cached(RESULTS)
def classify_crops(
    model: str, device: str, key: str, _crops: list[np.ndarray]
) -> list[Prediction]:
    """The classifier on each crop (key: detector, image digest and its settings)."""
    if not _crops:
        return []
    with st.spinner("Classifying every detected box…"):
        return get_model(model, device).predict(_crops)


@dataclass(frozen=True)
class LoadedModel:
    """A model from the server-wide cache, with its spec and the device it runs on."""

    spec: object
    device: str
    note: str | None
    model: object


def model_on(name: str, requested: str) -> LoadedModel:
    """A model from the server-wide cache on the device the sidebar asks for; one that
    cannot run there runs on a device it supports, with a note."""
    spec = get_spec(name)
    device, note = device_for(requested, spec.devices)
    return LoadedModel(spec, device, note, get_model(name, device))


@st.cache_resource(show_spinner=False)
def video_results():
    """Finished video analyses for the whole server, keyed by content, models and
    settings, within a byte budget (``VISIONCOMPARE_VIDEO_CACHE_MB``, default 256)."""
    budget = float(os.environ.get("VISIONCOMPARE_VIDEO_CACHE_MB", "256") or 256)
    return ByteBoundedCache(int(budget * 2**20), lambda result: result.nbytes)


@byte_cached(IMAGES)
def video_frame(key: str, index: int, _video: bytes, fps: float) -> np.ndarray:
    """One frame of an annotated video (the scrubber's picture)."""
    from visioncompare.video.io import read_frame

    return read_frame(_video, index, fps)


@byte_cached(REPORT_VIEWS, first="report_id")
def report_files(report_id: str, _report) -> tuple[str, str]:
    """The report's downloads that no threshold changes: per-class CSV, COCO results JSON."""
    return _report.per_class_frame().to_csv(index=False), json.dumps(
        coco_results(_report.detections, _report.dataset)
    )


@byte_cached(REPORT_VIEWS, first="report_id")
def best_operating_points(report_id: str, iou: float, _report):
    """The F1-max confidence overall and per class at one IoU, within the slider's range."""
    from visioncompare.evaluation.metrics.breakdown import best_operating_points as best

    return best(
        _report.evaluation, _report.dataset.class_names, iou, low=0.05, high=0.95
    )


@byte_cached(REPORT_VIEWS, first="report_id")
def pr_curve(report_id: str, iou: float, class_name: str | None, _report):
    """The ranked detections' precision-recall curve at one IoU, pooled or of one class
    (``Explorer.pr_curve``): a confidence change only moves the operating point."""
    return _report.explorer.pr_curve(iou, class_name)


@byte_cached(REPORT_VIEWS, first="report_id")
def f1_curve(report_id: str, iou: float, _report):
    """Precision, recall and F1 against the confidence at one IoU (``Explorer.f1_curve``)."""
    return _report.explorer.f1_curve(iou)


@byte_cached(REPORT_VIEWS, first="report_id")
def per_image(report_id: str, conf: float, iou: float, class_name, area: str, _report):
    """Per-image TP / FP / FN, F1 and AP (``EvaluationReport.per_image``)."""
    return _report.per_image(conf, iou, class_name, area)


@byte_cached(REPORT_VIEWS, first="report_id")
def label_issues(report_id: str, high: float, low: float, _report):
    """Possible label errors from a report's stored predictions
    (``EvaluationReport.label_issues``): no model runs."""
    with st.spinner("Checking the labels against the predictions…"):
        return _report.label_issues(high_confidence=high, low_confidence=low)


@st.cache_data(show_spinner="Timing the model on this machine…", max_entries=64)
def dataset_latency(model: str, device: str, dataset_id: str, _dataset):
    """Batch-1 latency of a cached model on the first images of a dataset
    (``model_review.measure_latency``), measured once per server, model, device and
    dataset (``dataset_id``: its name and place)."""
    from visioncompare.services.model_review import measure_models

    return measure_models([model], _dataset, get_model=lambda n: get_model(n, device))[
        model
    ]


@byte_cached(RESULTS)
def classifier_probabilities(key: str, folder: str):
    """A stored classification run's probabilities (image id -> softmax), kept for the
    server within the results' byte budget and never mutated; None when the run is not
    in the store (asked again next time)."""
    from visioncompare.evaluation.prediction_runs import stored_probabilities

    hit = stored_probabilities(prediction_store(folder), key)
    return None if hit is None else hit[0]


@byte_cached(REPORT_VIEWS, first="report_id")
def tagging_by_image(report_id: str, conf: float, _report, _probabilities):
    """Classifier vs detector disagreements per image
    (``visioncompare.evaluation.metrics.tagging_images``)."""
    from visioncompare.evaluation.metrics.tagging_images import (
        tagging_by_image as by_image,
    )

    return by_image(
        _report.dataset, _probabilities,
        tuple(_report.classifier_run.meta["class_names"]), _report.aligned.predictions,
        k=_report.tagging.k, conf=conf,
    )  # fmt: skip


@st.cache_data(show_spinner="Reading the stored evaluation…", max_entries=64)
def stored_evaluation_ap(dataset: str, detector: str, device: str, run_key: str):
    """COCO mAP50-95 and mAP50 (0-1) and the image count of a detector's evaluation
    whose predictions are stored (``run_key``: the stored run, so new predictions are
    new entries). Read from the store: no model runs."""
    from visioncompare.services.evaluation_run import run_evaluation, runs_dir

    def no_model(name: str):
        raise LookupError(f"{name}'s predictions are not stored")

    report = run_evaluation(
        load_dataset(dataset),
        detector=detector,
        device=device,
        store=prediction_store(str(runs_dir())),
        get_model=no_model,
    )
    stats = report.coco.stats
    return float(stats["AP"]), float(stats["AP50"]), len(report.dataset)


@st.cache_resource(show_spinner="Loading a detector to look inside…", max_entries=4)
def stage_detector(name: str, device: str):
    """A torchvision detector for the Learn page's look at its stages: its weights when
    on this machine, else random weights (never a download)."""
    from model_zoo.stages import stage_detector as load

    LOAD_COUNTS[(f"{name} (stages)", device)] += 1
    return load(name, device)


@st.cache_data(show_spinner="Running the region proposal network…", max_entries=32)
def region_proposals(
    model: str, device: str, image_digest: str, top_n: int, conf: float, _image
):
    """A two-stage detector's top proposals and final boxes on one image."""
    from model_zoo.stages import region_proposals as run

    return run(stage_detector(model, device), _image, top_n, conf)


@st.cache_data(show_spinner=False, max_entries=64)
def default_boxes(
    model: str, device: str, image_digest: str, level: int, point: tuple, _image
):
    """A one-stage detector's default boxes at the feature-map cell holding a point."""
    from model_zoo.stages import default_boxes as place

    return place(stage_detector(model, device), _image, level, point)


def _end_session_files(files) -> None:
    files.close()


@st.cache_resource(scope="session", on_release=_end_session_files, show_spinner=False)
def session_files(session_id: str):
    """This browser session's upload folder and predictions store
    (``visioncompare.evaluation.session_files``): made on first use and removed when the
    session ends (Streamlit releases a session-scoped resource when its session
    disconnects). The
    first call in a server process removes the folders servers before it left."""
    from visioncompare.evaluation.session_files import SessionFiles, session_folder

    remove_upload_leftovers()
    return SessionFiles(session_folder(session_id))


@st.cache_resource(show_spinner=False)
def remove_upload_leftovers() -> int:
    """Once per server process: the router calls it on the first run, and a session
    folder is never made before it."""
    from visioncompare.evaluation.session_files import remove_leftovers

    return remove_leftovers()
