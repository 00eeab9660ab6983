"""The "corrupt the input" control of Compare and Live, the picture both models see, and
what each Compare panel says about how its answer changed from the clean image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from components.shared import cache
from visioncompare.kernel.display import ms_text
from visioncompare.kernel.types import Detections, Prediction
from visioncompare.robustness.changes import classification_change, detection_change
from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    INSTALL_HINT,
    CorruptedImage,
    Corruption,
    CorruptionError,
    available,
    corruption_title,
    slow_note,
)

NONE = "none"
CONTROL_HELP = (
    "The 15 corruptions of the ImageNet-C benchmark (Hendrycks & Dietterich, 2019), "
    "the ones Michaelis et al. (2019) applied to COCO: noise, blur, weather and "
    "digital. Both models see the corrupted image; each image gets its own fixed seed, "
    "so the same image and severity always look the same."
)


def corruption_ui(prefix: str) -> Corruption | None:
    """A corruption (or none) and its severity, in one row; None: the clean image (or
    the corruption package is missing, which is said)."""
    left, right = st.columns([3, 2])
    with left:
        name = st.selectbox(
            "Corrupt the input",
            [NONE, *CORRUPTIONS],
            format_func=lambda n: (
                "none: the clean image" if n == NONE else corruption_title(n)
            ),
            key=f"{prefix}_corruption",
            help=CONTROL_HELP,
        )
    if name == NONE:
        return None  # no severity slider: a disabled one would be unreadable grey text
    with right:
        severity = st.slider(
            "Severity", 1, 5, 3, key=f"{prefix}_severity",
            help="1: mild, 5: strong (the benchmark's five levels).",
        )  # fmt: skip
    if not available():
        st.warning(
            "Corrupting images needs the imagecorruptions package on this server "
            f"(`{INSTALL_HINT}`): the models see the clean image."
        )
        return None
    return Corruption(name, severity)


@dataclass(frozen=True, eq=False)
class ModelInput:
    """What the models see.

    Attributes:
        array: (H, W, 3) uint8 RGB.
        digest: its cache key (the file's digest, plus the corruption's tag).
        corrupted: how it was corrupted (None: the clean image).
    """

    array: np.ndarray
    digest: str
    corrupted: CorruptedImage | None = None


def model_input(
    name: str, image: np.ndarray, digest: str, corruption: Corruption | None
) -> ModelInput:
    """The image, or it corrupted once per (image, corruption, severity). A slow
    corruption says so before it runs; one that cannot be applied says why, and the
    models see the clean image."""
    if corruption is None:
        return ModelInput(image, digest)
    height, width = image.shape[:2]
    note = slow_note(corruption.name, width, height)
    if note:
        st.info(note)
    try:
        with st.spinner(f"{corruption.title}…"):
            corrupted = cache.corrupted_cached(digest, corruption, image)
    except CorruptionError as exc:
        st.warning(f"{name}: {exc}. Both models see the clean image.")
        return ModelInput(image, digest)
    return ModelInput(corrupted.array, f"{digest}|{corruption.tag}", corrupted)


def change_notes(
    seen: ModelInput,
    clean: Prediction | None,
    now: Prediction | None,
    clean_shown: Detections | None,
    shown: Detections | None,
) -> None:
    """Above the two panels (nothing for a clean image): what both models see, and how
    each answer changed from the clean image: the classifier's top-1 kept or flipped
    with its probability, the detector's boxes kept, lost and new at the thresholds
    shown. A model that cannot run here (None) gets no note."""
    corrupted = seen.corrupted
    if corrupted is None:
        return
    notes = "".join(f"; {note}" for note in corrupted.notes)
    st.caption(
        f"Both models see this image corrupted by **{corrupted.corruption.title}** "
        f"({ms_text(corrupted.seconds * 1000)} to corrupt{notes}); the detection panel "
        "draws its boxes on the corrupted picture."
    )
    left, right = st.columns(2, gap="large")
    if clean is not None and now is not None:
        with left:
            change = classification_change(clean.classification, now.classification)
            st.markdown(f"**Classifier**: {change.sentence()}")
    if clean_shown is not None and shown is not None:
        with right:
            sentence = detection_change(clean_shown, shown).sentence()
            st.markdown(f"**Detector**: {sentence}")
