"""Multi-object tracking with Ultralytics' own trackers (ByteTrack, BoT-SORT).

Each video gets its own tracker object, fed with the shared detector's boxes: tracking
state never lives on the model that every browser session shares (``model.track`` keeps
its trackers on the model's predictor, so two sessions would mix each other's ids). The
work per frame is what ``model.track`` does: predict at confidence 0.1, then
``tracker.update(boxes, frame)``.
"""

from __future__ import annotations

import cv2
import numpy as np

from visioncompare.kernel.types import Detections

TRACKERS = {
    "bytetrack": "ByteTrack (motion and IoU; fast)",
    "botsort": "BoT-SORT (adds camera-motion compensation; steadier with a moving camera)",
}
"""Tracker name (Ultralytics' config file stem) -> what it is, for the picker."""

TRACK_CONF = 0.1
"""The confidence the detector runs at when tracking: Ultralytics' ``model.track``
default, so the tracker's second association stage sees its low-score boxes."""


class ObjectTracker:
    """One video's tracker; ``update`` gives each box a stable id across frames."""

    def __init__(self, kind: str = "bytetrack") -> None:
        """Raises: ValueError for a tracker name not in ``TRACKERS``."""
        if kind not in TRACKERS:
            raise ValueError(
                f"unknown tracker {kind!r}; expected one of {list(TRACKERS)}"
            )
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        cfg = IterableSimpleNamespace(**YAML.load(check_yaml(f"{kind}.yaml")))
        self.kind = kind
        self._tracker = TRACKER_MAP[cfg.tracker_type](args=cfg)
        self._reads_frames = kind != "bytetrack"
        """BoT-SORT's motion compensation reads each frame; ByteTrack (boxes and scores
        alone) never does, so it is not handed a converted copy of every frame."""

    def update(self, detections: Detections, image: np.ndarray) -> Detections:
        """Associate one frame's boxes with the tracks so far.

        Args:
            detections: the frame's boxes (absolute-pixel xyxy), at ``TRACK_CONF`` or above.
            image: (H, W, 3) uint8 RGB frame (BoT-SORT's motion compensation reads it).

        Returns:
            The tracked boxes (a confirmed track's box is the tracker's estimate), with
            ``extra["track_id"]`` (int64), in the tracker's order.
        """
        from ultralytics.engine.results import Boxes

        rows = np.concatenate(
            [
                detections.xyxy,
                detections.scores[:, None],
                detections.class_ids[:, None].astype(np.float32),
            ],
            axis=1,
        )
        boxes = Boxes(rows.astype(np.float32), image.shape[:2])
        # Ultralytics' trackers read frames in OpenCV's BGR order.
        frame = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if self._reads_frames else None
        tracks = self._tracker.update(boxes, frame)
        if len(tracks) == 0:
            empty = Detections.empty(detections.class_names)
            return Detections(
                empty.xyxy,
                empty.scores,
                empty.class_ids,
                detections.class_names,
                {"track_id": np.zeros(0, np.int64)},
            )
        tracks = np.asarray(tracks, dtype=np.float64)
        height, width = image.shape[:2]
        xyxy = tracks[:, :4].copy()
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
        xyxy[:, 2] = np.maximum(xyxy[:, 2], xyxy[:, 0])
        xyxy[:, 3] = np.maximum(xyxy[:, 3], xyxy[:, 1])
        return Detections(
            xyxy,
            tracks[:, 5],
            tracks[:, 6].astype(np.int64),
            detections.class_names,
            {"track_id": tracks[:, 4].astype(np.int64)},
        )
