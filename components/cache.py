"""Every Streamlit cache decorator of the app lives here."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import streamlit as st

from core.images import LoadedImage, decode_image
from core.types import Prediction
from model_zoo import load_model
from model_zoo.pipeline import predict_pair

LOAD_COUNTS: Counter[tuple[str, str]] = Counter()
"""How many times each (model, device) was loaded in this process (tests read it)."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@st.cache_resource(show_spinner="Loading model…", max_entries=6)
def get_model(name: str, device: str):
    """One model object per (name, device) for the whole server; never mutated."""
    LOAD_COUNTS[(name, device)] += 1
    return load_model(name, device)


@st.cache_data(show_spinner=False, max_entries=64)
def decode_cached(data_digest: str, name: str, _data: bytes) -> LoadedImage:
    """Decode once per file content (the digest is the key; the bytes are not hashed)."""
    return decode_image(_data, name)


@st.cache_data(show_spinner=False, max_entries=256)
def compare_cached(
    classifier: str,
    classifier_device: str,
    detector: str,
    detector_device: str,
    image_digest: str,
    conf: float,
    iou: float,
    _image: np.ndarray,
) -> tuple[Prediction, Prediction]:
    """Both models on one image, run concurrently; keyed by models, image and NMS settings."""
    return predict_pair(
        get_model(classifier, classifier_device),
        get_model(detector, detector_device),
        _image,
        conf=conf,
        iou=iou,
    )
