"""Frozen data types that cross every boundary of the app.

Boxes inside the core are absolute-pixel ``xyxy`` float32. Class names travel with the
predictions, so nothing downstream has to know a model's label order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Timing:
    """Latency of one model call, in milliseconds, split the way every model reports it."""

    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


@dataclass(frozen=True, eq=False)
class Detections:
    """Objects found in one image.

    Attributes:
        xyxy: (N, 4) float32 boxes, absolute pixels, ``x1 <= x2`` and ``y1 <= y2``.
        scores: (N,) float32 confidences in [0, 1] (1.0 for ground truth).
        class_ids: (N,) int64 indices into ``class_names``.
        class_names: every class name of the model or dataset, indexed by ``class_ids``.
        extra: optional (N,) arrays that travel with the boxes (``iscrowd``, ``area``,
            ``difficult``); indexing keeps them aligned.
    """

    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    class_names: tuple[str, ...] = ()
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Each message is made only when its check fails: a report builds thousands.
        xyxy = np.asarray(self.xyxy, dtype=np.float32)
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if not (xyxy.ndim == 2 and xyxy.shape[1] == 4):
            raise ValueError(f"xyxy: expected shape (N, 4), got {xyxy.shape}")
        n = len(xyxy)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        class_ids = np.asarray(self.class_ids).reshape(-1)
        if len(scores) != n:
            raise ValueError(f"scores: expected shape ({n},), got {scores.shape}")
        if len(class_ids) != n:
            raise ValueError(f"class_ids: expected shape ({n},), got {class_ids.shape}")
        if not (class_ids.dtype.kind in "iu" or n == 0):
            raise ValueError(
                f"class_ids: expected an integer dtype, got {class_ids.dtype}"
            )
        class_ids = class_ids.astype(np.int64)
        if not np.isfinite(xyxy).all():
            raise ValueError("xyxy: expected finite values")
        if not ((xyxy[:, 2] >= xyxy[:, 0]).all() and (xyxy[:, 3] >= xyxy[:, 1]).all()):
            raise ValueError("xyxy: expected x1 <= x2 and y1 <= y2 for every box")
        names = tuple(self.class_names)
        if names and n:
            low, high = int(class_ids.min()), int(class_ids.max())
            if not (low >= 0 and high < len(names)):
                raise ValueError(
                    f"class_ids: expected values in [0, {len(names)}), got "
                    f"[{class_ids.min()}, {class_ids.max()}]"
                )
        extra = {}
        for key, values in dict(self.extra).items():
            values = np.asarray(values).reshape(-1)
            if len(values) != n:
                raise ValueError(
                    f"extra[{key!r}]: expected ({n},), got {values.shape}"
                )
            extra[key] = values
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "class_ids", class_ids)
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "extra", extra)

    @classmethod
    def empty(cls, class_names: tuple[str, ...] | list[str] = ()) -> Detections:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            tuple(class_names),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        """Select boxes with a boolean mask, an index array or a slice."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            self.xyxy[index],
            self.scores[index],
            self.class_ids[index],
            self.class_names,
            {k: v[index] for k, v in self.extra.items()},
        )

    @property
    def labels(self) -> list[str]:
        """The class name of every box, in box order."""
        return (
            [self.class_names[i] for i in self.class_ids]
            if self.class_names
            else [str(i) for i in self.class_ids]
        )

    @property
    def area(self) -> np.ndarray:
        """(N,) box areas in square pixels."""
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def sorted_by_score(self) -> Detections:
        return self[np.argsort(-self.scores, kind="stable")]


@dataclass(frozen=True, eq=False)
class Classification:
    """Class probabilities of one image.

    Attributes:
        scores: (C,) float32 probabilities (softmax over all classes).
        class_names: the C class names, in score order.
    """

    scores: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        names = tuple(self.class_names)
        _check(
            len(scores) == len(names),
            f"scores: expected shape ({len(names)},) to match class_names, "
            f"got {scores.shape}",
        )
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "class_names", names)

    def topk(self, k: int = 5) -> list[tuple[str, float]]:
        """The k best (class name, probability) pairs, best first (ties by class order)."""
        k = max(0, min(int(k), len(self.scores)))
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [(self.class_names[i], float(self.scores[i])) for i in order]

    @property
    def top1(self) -> tuple[str, float]:
        return self.topk(1)[0]


@dataclass(frozen=True, eq=False)
class Prediction:
    """One model's output on one image, with how long it took and where it ran."""

    model: str
    device: str
    timing: Timing
    detections: Detections | None = None
    classification: Classification | None = None
