"""The video path the page and the benchmark share: loaded models in, analysis out."""

from __future__ import annotations

from collections.abc import Callable

from model_zoo.tracking import TRACK_CONF, ObjectTracker
from visioncompare.video.analysis import VideoAnalysis, VideoSettings, analyse_video
from visioncompare.video.io import VideoLimits, probe_video


def run_video_analysis(
    data: bytes,
    name: str,
    detector,
    classifier,
    settings: VideoSettings,
    limits: VideoLimits | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    keep: Callable[[VideoAnalysis], None] | None = None,
) -> VideoAnalysis:
    """Track objects with ``detector`` and label frames with ``classifier`` (or None).

    The detector runs at Ultralytics' tracking confidence (0.1) with the settings' NMS
    IoU; a fresh tracker per call keeps ids private to this video.

    Raises:
        visioncompare.video.io.VideoError: the file is not a usable video (its own message).
        ValueError: an unknown tracker name.
    """
    limits = limits or VideoLimits.from_env()
    info = probe_video(data, name, limits)
    tracker = ObjectTracker(settings.tracker)

    def detect(image):
        return detector.predict([image], conf=TRACK_CONF, iou=settings.iou)[
            0
        ].detections

    classify = None
    if classifier is not None and settings.classify_every:

        def classify(image):
            prediction = classifier.predict([image])[0]
            return prediction.classification.topk(settings.topk)

    return analyse_video(
        data,
        name,
        info,
        limits,
        settings,
        detect=detect,
        track=tracker.update,
        classify=classify,
        detector_name=detector.spec.name,
        classifier_name=classifier.spec.name if classifier is not None else None,
        progress=progress,
        keep=keep,
    )
