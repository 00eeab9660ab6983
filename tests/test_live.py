"""The live path: newest frame only, counters, settings applied to a running stream,
and streamlit-webrtc's frame callback on real frames with the bundled models."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import av
import numpy as np
import pytest

from tests.helpers import make_detections
from visioncompare.kernel.bounded_cache import ByteBoundedCache
from visioncompare.kernel.types import Classification
from visioncompare.live.processor import (
    LiveMode,
    LiveProcessor,
    LiveSettings,
    band_text,
)
from visioncompare.live.rtc_config import DEFAULT_STUN, has_turn, ice_servers_from_env
from visioncompare.video.demo_clip import panned_frames

NAMES = ("person", "bus", "car")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def fake_models(calls: list):
    def detect(image, iou):
        calls.append(("detect", int(image[0, 0, 0]), iou))
        return make_detections(
            [[10, 10, 50, 50], [60, 60, 90, 90], [5, 5, 20, 20]],
            [0.9, 0.4, 0.1],
            [0, 1, 2],
            NAMES,
        )

    def classify(image):
        calls.append(("classify", int(image[0, 0, 0])))
        return Classification(
            np.array([0.7, 0.2, 0.1]), ("school bus", "minibus", "van")
        )

    return detect, classify


def frames(*values: int) -> list[np.ndarray]:
    return [np.full((120, 160, 3), v, np.uint8) for v in values]


def test_only_the_newest_frame_is_processed_and_the_rest_are_counted_as_dropped():
    calls: list = []
    processor = LiveProcessor(*fake_models(calls), clock=FakeClock())
    out = processor.process_newest(frames(1, 2, 3))
    processor.process_newest(frames(4))
    assert [c[1] for c in calls if c[0] == "detect"] == [3, 4]
    readout = processor.readout()
    assert (readout.received, readout.processed, readout.dropped) == (4, 2, 2)
    assert out.shape == (120, 160, 3) and not np.array_equal(out, frames(3)[0])
    assert readout.classes == (("bus", 1), ("person", 1))  # conf 0.25 drops the car
    assert readout.top1 == ("school bus", pytest.approx(0.7))
    assert readout.detector_ms is not None and readout.classifier_ms is not None


def test_settings_apply_to_the_running_stream_without_a_restart():
    calls: list = []
    processor = LiveProcessor(*fake_models(calls), clock=FakeClock())
    processor.process_newest(frames(1))
    processor.update_settings(
        LiveSettings(LiveMode.DETECT, conf=0.05, iou=0.5, classes=("car", "bus"))
    )
    processor.process_newest(frames(2))
    readout = processor.readout()
    assert readout.classes == (("bus", 1), ("car", 1))
    assert calls[-1] == ("detect", 2, 0.5)  # no classifier call in detector mode
    assert readout.classifier_ms is None
    processor.update_settings(LiveSettings(LiveMode.CLASSIFY))
    out = processor.process_newest(frames(3))
    assert calls[-1] == ("classify", 3)
    assert processor.readout().classes == ()
    # Only the caption band at the bottom changed: no boxes were drawn.
    changed_rows = np.flatnonzero((out != frames(3)[0]).any(axis=(1, 2)))
    assert changed_rows.min() > 120 * 0.7


def test_a_failing_model_returns_the_frame_and_reports_the_error():
    def broken(image, iou):
        raise RuntimeError("out of memory")

    processor = LiveProcessor(broken, lambda im: None, clock=FakeClock())
    processor.update_settings(LiveSettings(LiveMode.DETECT))
    image = frames(7)[0]
    assert np.array_equal(processor.process_newest([image]), image)
    assert processor.readout().error == "RuntimeError: out of memory"
    processor.reset_counters()
    assert processor.readout().processed == 0 and processor.readout().error is None


def test_processed_frames_per_second_comes_from_the_clock():
    ticks = iter(np.arange(0, 100, 0.05))
    processor = LiveProcessor(*fake_models([]), clock=lambda: float(next(ticks)))
    for _ in range(10):
        processor.process_newest(frames(1))
    # Each frame takes three ticks (arrival, detector, classifier ...); the rate is
    # what the clock says, not a constant.
    readout = processor.readout()
    assert readout.processed == 10
    assert readout.fps == pytest.approx(1 / (0.05 * 6), rel=1e-6)


def test_both_models_run_at_once_on_the_same_frame():
    """The detector waits (up to 5 s) for the classifier to start: run one after the
    other, the classifier would start only after that wait."""
    started = threading.Event()
    seen: list = []

    def detect(image, iou):
        seen.append(("detect", int(image[0, 0, 0]), started.wait(5)))
        return make_detections([[10, 10, 50, 50]], [0.9], [1], NAMES)

    def classify(image):
        started.set()
        seen.append(("classify", int(image[0, 0, 0])))
        return Classification(np.array([0.8, 0.2]), ("school bus", "van"))

    processor = LiveProcessor(detect, classify)
    processor.process_newest(frames(5))
    assert sorted(seen) == [("classify", 5), ("detect", 5, True)]
    readout = processor.readout()
    assert readout.detector_ms >= 0 and readout.classifier_ms >= 0
    # For comparisons, one after the other in the frame thread: the detector first.
    calls: list = []
    processor = LiveProcessor(*fake_models(calls), concurrent=False)
    processor.process_newest(frames(6))
    assert [c[0] for c in calls] == ["detect", "classify"]


def test_the_readout_names_the_frame_its_classes_and_top1_come_from():
    processor = LiveProcessor(*fake_models([]), clock=FakeClock())
    assert processor.readout().frame is None
    for value in (1, 2, 3):
        processor.process_newest(frames(value))
    readout = processor.readout()
    assert (readout.frame, readout.size) == (3, (160, 120))
    # The band on that frame carries the same number and the classifier's answer.
    assert readout.classified == 3
    assert band_text(3, readout.classes, (3, 1, (readout.top1,))) == (
        "Frame 3 · Classifier: school bus 70%"
    )
    assert band_text(4, (("bus", 2),), None) == "Frame 4 · Detector: bus × 2"
    processor.reset_counters()
    assert processor.readout().frame is None


def test_the_classifier_on_every_kth_frame_says_which_frame_its_answer_is_from():
    calls: list = []
    processor = LiveProcessor(*fake_models(calls), clock=FakeClock())
    processor.update_settings(LiveSettings(classify_every=3))
    for value in range(1, 6):
        processor.process_newest(frames(value))
        processor.wait_for_classifier(timeout=5)
        readout = processor.readout()
        # Frame 4's classifier ran beside frames 4 (and 5): its answer shows once done.
        assert readout.classified in ((1,) if value < 4 else (1, 4))
        assert readout.top1 == ("school bus", pytest.approx(0.7))
    processor.process_newest(frames(6))
    assert processor.readout().classified == 4
    assert [c[1] for c in calls if c[0] == "classify"] == [1, 4]
    assert [c[1] for c in calls if c[0] == "detect"] == [1, 2, 3, 4, 5, 6]
    answer = (4, 3, (("school bus", 0.7), ("minibus", 0.2), ("van", 0.1)))
    assert band_text(5, (), answer) == (
        "Frame 5 · Classifier (from frame 4): school bus 70% · minibus 20% · van 10%"
    )
    # Asking for another top-k runs it again at once, on that frame.
    processor.update_settings(LiveSettings(classify_every=3, topk=2))
    processor.process_newest(frames(7))
    assert processor.readout().classified == 7


def test_on_every_kth_frame_the_frames_do_not_wait_for_the_classifier():
    """A pipeline: the classifier works on frame 3 while the detector goes on with
    frames 3, 4, 5; the band shows the older answer, naming its frame, until it is done."""
    release = threading.Event()
    calls: list = []
    detect, classify = fake_models(calls)

    def slow_classify(image):
        if int(image[0, 0, 0]) == 3:
            assert release.wait(5)
        return classify(image)

    processor = LiveProcessor(detect, slow_classify)
    processor.update_settings(LiveSettings(classify_every=2))
    for value in (1, 2, 3, 4, 5):
        processor.process_newest(frames(value))
        assert processor.readout().classified == 1  # frame 3's answer is not ready
    assert [c[1] for c in calls if c[0] == "detect"] == [1, 2, 3, 4, 5]
    release.set()
    processor.wait_for_classifier(timeout=5)
    processor.process_newest(frames(6))
    readout = processor.readout()
    assert (readout.frame, readout.classified) == (6, 3)
    # Frame 5 was due, but frame 3's run was still going: one run at a time per stream.
    assert [c[1] for c in calls if c[0] == "classify"] == [1, 3]


def test_arriving_frames_per_second_counts_the_dropped_ones_too():
    ticks = iter(np.arange(0, 100, 0.1))
    processor = LiveProcessor(*fake_models([]), clock=lambda: float(next(ticks)))
    processor.update_settings(LiveSettings(LiveMode.DETECT))
    for _ in range(5):
        processor.process_newest(frames(1, 2, 3))
    readout = processor.readout()
    # Arrivals 0.4 s apart (four ticks per frame), three frames each: 3 / 0.4 per second.
    assert readout.received_fps == pytest.approx(3 / 0.4, rel=1e-6)
    assert readout.fps == pytest.approx(1 / 0.4, rel=1e-6)


def test_the_readout_shows_every_label_with_its_unit():
    from components.live.webrtc import readout_lines

    processor = LiveProcessor(*fake_models([]), clock=FakeClock())
    processor.process_newest(frames(1, 2))
    lines = dict(readout_lines(processor.readout(), "cpu"))
    assert lines["Processed frames per second"].endswith("at 160 × 120 pixels)")
    assert lines["Frames"] == (
        "1 processed, 1 dropped (a newer one had arrived), 2 received"
    )
    assert re.fullmatch(
        r"detector \d+ ms, classifier \d+ ms on cpu \(both at once, in two threads\)",
        lines["Model time per frame (median)"],
    )
    assert lines["Frame 1 (its number is in the band on the video)"] == (
        "the detector sees bus × 1, person × 1; the classifier says school bus (70%)"
    )


def test_the_webrtc_callback_annotates_the_newest_frame_with_the_real_models():
    from components.live.webrtc import frames_callback, session_processor_for
    from model_zoo import load_model

    processor = session_processor_for(
        load_model("yolov8n-int8", "cpu"), load_model("mobilenet_v2_quantized", "cpu")
    )
    images = panned_frames("bus.jpg", frames=3, size=(640, 480))
    queued = [av.VideoFrame.from_ndarray(im, format="rgb24") for im in images]
    out = asyncio.run(frames_callback(processor)(queued))
    assert len(out) == 1 and isinstance(out[0], av.VideoFrame)
    annotated = out[0].to_ndarray(format="rgb24")
    assert annotated.shape == images[-1].shape
    assert not np.array_equal(annotated, images[-1])
    readout = processor.readout()
    assert (readout.received, readout.processed, readout.dropped) == (3, 1, 2)
    assert {"bus", "person"} & {name for name, _ in readout.classes}
    assert readout.top1 is not None


def test_ice_servers_from_the_environment():
    assert ice_servers_from_env({}) == [{"urls": [DEFAULT_STUN]}]
    assert ice_servers_from_env({"VISIONCOMPARE_STUN_URLS": "none"}) == []
    servers = ice_servers_from_env(
        {
            "VISIONCOMPARE_STUN_URLS": "stun:a:3478, stun:b:3478",
            "VISIONCOMPARE_TURN_URLS": "turn:t:3478?transport=udp,turns:t:5349",
            "VISIONCOMPARE_TURN_USERNAME": "user",
            "VISIONCOMPARE_TURN_CREDENTIAL": "secret",
        }
    )
    assert servers[0] == {"urls": ["stun:a:3478", "stun:b:3478"]}
    assert servers[1]["urls"] == ["turn:t:3478?transport=udp", "turns:t:5349"]
    assert has_turn(servers) and not has_turn(servers[:1])
    with pytest.raises(ValueError, match="USERNAME or VISIONCOMPARE_TURN_CREDENTIAL"):
        ice_servers_from_env({"VISIONCOMPARE_TURN_URLS": "turn:t:3478"})
    with pytest.raises(ValueError, match="'http://x' is not a stun:"):
        ice_servers_from_env({"VISIONCOMPARE_STUN_URLS": "http://x"})


def test_byte_bounded_cache_evicts_the_least_recently_used():
    cache = ByteBoundedCache(100, len)
    assert cache.put("a", b"x" * 40) and cache.put("b", b"x" * 40)
    assert cache.get("a") is not None  # a is now the most recent
    assert cache.put("c", b"x" * 40)
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert cache.nbytes == 80 and len(cache) == 2
    assert not cache.put("huge", b"x" * 101) and cache.get("huge") is None


def test_through_streamlit_webrtcs_own_track_only_the_newest_frame_waits():
    """A model slower than the camera: frames are dropped, not queued, so the delay
    from capture to the annotated frame stays bounded instead of growing."""
    from components.live.webrtc import frames_callback
    from tests.webrtc_loopback import run_loopback

    def slow_detect(image, iou):
        time.sleep(0.08)  # about 12 frames/s against a 30 frames/s camera
        return make_detections([[10, 10, 50, 50]], [0.9], [1], NAMES)

    processor = LiveProcessor(slow_detect, fake_models([])[1])
    processor.update_settings(LiveSettings(LiveMode.DETECT))
    latencies = asyncio.run(
        run_loopback(frames_callback(processor), frames(1, 2, 3), seconds=4.0)
    )
    readout = processor.readout()
    assert readout.processed >= 10 and readout.dropped >= readout.processed
    assert readout.received >= 60
    late = [ms for at, ms in latencies if at > 2.0]
    # Each sent frame is about two processing times old (160 ms; the bound leaves room
    # for a loaded machine); a queue would make the delay grow by ~50 ms every frame
    # (over 2 s by the end).
    assert late and max(late) < 1000, late
