"""The one interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation.prediction_runs import DetectSettings, Progress, StoredRun
from visioncompare.evaluation.store import PredictionStore
from visioncompare.kernel.types import Detections


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
        self,
        model: str,
        dataset: Dataset,
        store: PredictionStore,
        settings: DetectSettings,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        record: dict | None = None,
    ) -> tuple[dict[int, Detections], StoredRun]:
        """A detector's boxes for every image of ``dataset``, predicted where the store
        lacks them and stored.

        Args:
            model: a model-zoo detector name.
            settings: the inference settings that enter the store key.
            progress: (images done, images in total) callback.
            should_stop: polled between batches; True stops with
                ``visioncompare.evaluation.prediction_runs.Interrupted``.
            record: extra metadata stored with the run (library versions).
        """
        ...

    def probabilities(
        self,
        model: str,
        dataset: Dataset,
        store: PredictionStore,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        record: dict | None = None,
    ) -> tuple[dict[int, np.ndarray], StoredRun]:
        """A classifier's (C,) softmax for every image, predicted where the store lacks
        it and stored (arguments as ``detections``)."""
        ...
