"""Every Streamlit cache decorator of the app lives here."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core.images import LoadedImage, decode_image, load_image_file
from core.metrics.coco import coco_results
from core.metrics.disagreement import why_map_differs
from core.metrics.matching import confusion_matrix, match_dataset
from core.store import PredictionStore
from core.types import Prediction
from model_zoo import Task, WeightsNotFoundError, get_spec, load_model
from model_zoo.device import DeviceError, device_for
from visioncompare.evaluate import open_dataset

LOAD_COUNTS: Counter[tuple[str, str]] = Counter()
"""How many times each (model, device) was loaded in this process (tests read it)."""
RUN_COUNTS: Counter[str] = Counter()
"""How many times each model ran on a Compare/Learn image, past the cache (tests read it)."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


@st.cache_data(show_spinner=False, max_entries=64)
def decode_cached(data_digest: str, name: str, _data: bytes) -> LoadedImage:
    """Decode once per file content (the digest is the key; the bytes are not hashed)."""
    return decode_image(_data, name)


@st.cache_data(show_spinner=False, max_entries=256)
def classify_cached(
    classifier: str, device: str, image_digest: str, _image: np.ndarray
) -> Prediction:
    """The classifier on one image, keyed by model and image only: the detector's
    settings (NMS IoU, confidence) never re-run it."""
    RUN_COUNTS[classifier] += 1
    return get_model(classifier, device).predict([_image])[0]


@st.cache_data(show_spinner=False, max_entries=256)
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
def load_dataset(name_or_path: str):
    """A dataset, read once per server (immutable; a DatasetError is not cached)."""
    return open_dataset(name_or_path)


@st.cache_resource(show_spinner=False, max_entries=32)
def matching(report_id: str, iou: float, _report):
    """The matching of a report's detections at one IoU threshold (every confidence
    threshold is a filter on it, so the confidence slider never re-matches)."""
    return match_dataset(_report.dataset, _report.detections, iou_threshold=iou)


@st.cache_resource(show_spinner=False, max_entries=32)
def confusion(report_id: str, conf: float, iou: float, _report):
    return confusion_matrix(_report.dataset, _report.detections, conf=conf, iou=iou)


@st.cache_resource(
    show_spinner="Scoring the same predictions five ways…", max_entries=8
)
def disagreement(report_id: str, _report):
    return why_map_differs(_report.dataset, _report.detections)


@st.cache_data(show_spinner=False, max_entries=64)
def image_array(path: str) -> np.ndarray:
    return load_image_file(path).array


@st.cache_resource(show_spinner=False)
def prediction_store(folder: str):
    """One predictions store (one SQLite connection) per runs folder, for the server."""
    return PredictionStore(Path(folder) / "predictions.sqlite")


@st.cache_data(show_spinner="Finding where each model looks…", max_entries=32)
def saliency(model: str, device: str, image_digest: str, _image: np.ndarray):
    from model_zoo.explain import classifier_saliency

    return classifier_saliency(get_model(model, device), _image)


@st.cache_data(show_spinner=False, max_entries=32)
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


@st.cache_data(show_spinner="Classifying every detected box…", max_entries=32)
def classify_crops(
    model: str, device: str, key: str, _crops: list[np.ndarray]
) -> list[Prediction]:
    """The classifier on each crop (key: detector, image digest and its settings)."""
    return get_model(model, device).predict(_crops) if _crops else []


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


def shared_models(choice) -> tuple[LoadedModel, LoadedModel]:
    """The sidebar's classifier and detector, loaded (or a message and a stopped page)."""
    try:
        return model_on(choice.classifier, choice.device), model_on(
            choice.detector, choice.device
        )
    except (WeightsNotFoundError, DeviceError) as exc:
        st.error(f"Could not load the model: {exc}")
        st.info(
            "Pick another model in the sidebar; the bundled offline models always work."
        )
        st.stop()


def vocabulary_model(det: LoadedModel, vocabulary: tuple[str, ...]):
    """The sidebar's open-vocabulary detector for these classes (or a message and a
    stopped page when its text encoder cannot run here)."""
    try:
        return get_vocabulary_model(det.spec.name, det.device, vocabulary)
    except WeightsNotFoundError as exc:
        st.error(f"{det.spec.title} cannot read the classes you typed: {exc}")
        st.info("Pick another detector in the sidebar; the others keep working.")
        st.stop()


@st.cache_resource(show_spinner=False)
def video_results():
    """Finished video analyses for the whole server, keyed by content, models and
    settings, within a byte budget (``VISIONCOMPARE_VIDEO_CACHE_MB``, default 256)."""
    import os

    from core.bounded_cache import ByteBoundedCache

    budget = float(os.environ.get("VISIONCOMPARE_VIDEO_CACHE_MB", "256") or 256)
    return ByteBoundedCache(int(budget * 2**20), lambda result: result.nbytes)


@st.cache_data(show_spinner=False, max_entries=64)
def video_frame(key: str, index: int, _video: bytes, fps: float) -> np.ndarray:
    """One frame of an annotated video (the scrubber's picture)."""
    from core.video_io import read_frame

    return read_frame(_video, index, fps)


@st.cache_data(show_spinner=False, max_entries=8)
def report_files(report_id: str, _report) -> tuple[str, str]:
    """The report's downloads that no threshold changes: per-class CSV, COCO results JSON."""
    return _report.per_class_frame().to_csv(index=False), json.dumps(
        coco_results(_report.detections, _report.dataset)
    )
