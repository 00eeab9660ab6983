"""The one interface every engine implements, and the request it takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.prediction_runs import DetectSettings, Progress, StoredRun
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.types import Detections
from visioncompare.robustness.corruptions import Corruption


@dataclass(frozen=True)
class RunRequest:
    """One model over one dataset, into one store.

    Attributes:
        model: a model-zoo name.
        dataset: the images to predict.
        store: where the predictions go (and what is already there is kept).
        progress: (images done, images in total) callback.
        should_stop: polled between batches; True stops with
            ``visioncompare.evaluation.prediction_runs.Interrupted``.
        record: extra metadata stored with the run (library versions).
        corruption: corrupt each image before the model sees it
            (``visioncompare.robustness``; a run of its own key); None: clean images.
    """

    model: str
    dataset: Dataset
    store: PredictionStore
    progress: Progress | None = None
    should_stop: Callable[[], bool] | None = None
    record: dict = field(default_factory=dict)
    corruption: Corruption | None = None


class Engine(Protocol):
    """Predict a dataset with a model into the store, with progress and stop.

    Attributes:
        name: the engine's name (``local``, ``ray``).
        device: the device that names the stored run (``auto`` resolves per model):
            looking a run up in the store before predicting uses it.
    """

    name: str

    @property
    def device(self) -> str: ...

    def detections(
        self, request: RunRequest, settings: DetectSettings
    ) -> tuple[dict[int, Detections], StoredRun]:
        """A detector's boxes for every image, predicted where the store lacks them and
        stored; ``settings`` enter the store key."""
        ...

    def probabilities(
        self, request: RunRequest
    ) -> tuple[dict[int, np.ndarray], StoredRun]:
        """A classifier's (C,) softmax for every image, predicted where the store lacks
        it and stored."""
        ...
