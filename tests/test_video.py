"""Video files: probing and limits, every bad input's message, H.264 output, tracking,
the timeline and counts, Stop keeping what is done, and the page through AppTest."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from model_zoo import load_model
from tests.conftest import REPO
from tests.media import audio_only, encode_with
from visioncompare.services.video_pipeline import run_video_analysis
from visioncompare.video import summary
from visioncompare.video.analysis import VideoSettings, read_ahead
from visioncompare.video.demo_clip import encode_h264, panned_frames, sample_clip
from visioncompare.video.io import (
    VideoError,
    VideoLimits,
    iter_frames,
    probe_video,
    read_frame,
    rgb_to_yuv420p,
)
from visioncompare.video.summary import plural

LIMITS = VideoLimits()


@pytest.fixture(scope="module")
def models():
    return load_model("yolov8n-int8", "cpu"), load_model(
        "mobilenet_v2_quantized", "cpu"
    )


@pytest.fixture(scope="module")
def clip() -> bytes:
    return sample_clip()


@pytest.fixture(scope="module")
def analysis(models, clip):
    detector, classifier = models
    return run_video_analysis(clip, "pan.mp4", detector, classifier, VideoSettings())


def _stream(data: bytes):
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    return container, stream


def test_the_annotated_video_is_h264_yuv420p_mp4_with_every_frame(analysis):
    container, stream = _stream(analysis.video)
    with container:
        assert "mp4" in container.format.name
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded == len(analysis.frames) == 30 and analysis.complete
    # faststart: the index (moov) precedes the media data, so playback starts early.
    assert analysis.video.index(b"moov") < analysis.video.index(b"mdat")


def test_the_moving_bus_keeps_one_track_id(analysis):
    bus_ids = [
        set(f.detections.extra["track_id"][np.array(f.detections.labels) == "bus"])
        for f in analysis.frames
    ]
    seen = [ids for ids in bus_ids if ids]
    assert len(seen) >= 0.8 * len(analysis.frames)
    assert len(set().union(*seen)) == 1
    people = [len(f.detections) for f in analysis.frames]
    assert min(people) >= 2  # the bus and at least one person on every frame


@pytest.mark.parametrize("tracker", ["bytetrack", "botsort"])
def test_tracks_are_ultralytics_own_model_track_on_the_same_frames(clip, tracker):
    """Frame by frame, the page's tracks (ids, classes, boxes, scores) are those of
    Ultralytics' own ``model.track(persist=True)`` fed the same decoded frames, on a model
    object of its own (``track`` keeps its tracker on the model)."""
    import cv2

    detector = load_model("yolov8n-int8", "cpu")
    ours = run_video_analysis(
        clip, "pan.mp4", detector, None, VideoSettings(tracker=tracker, conf=0.0)
    )
    reference = load_model("yolov8n-int8", "cpu").model
    info = probe_video(clip, "pan.mp4", LIMITS)
    frames = list(iter_frames(clip, "pan.mp4", info, LIMITS))
    assert len(ours.frames) == len(frames) == info.frames
    tracked_boxes = 0
    for frame, result in zip(frames, ours.frames):
        theirs = reference.track(
            cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR), persist=True, conf=0.1,
            iou=0.7, imgsz=detector.spec.input_size, tracker=f"{tracker}.yaml",
            device="cpu", verbose=False,
        )[0].boxes  # fmt: skip
        det = result.detections
        ids = theirs.id.int().tolist() if theirs.id is not None else []
        assert det.extra["track_id"].tolist() == ids, frame.index
        assert det.class_ids.tolist() == theirs.cls.int().tolist()
        np.testing.assert_allclose(det.xyxy, theirs.xyxy.numpy(), atol=1e-3)
        np.testing.assert_allclose(det.scores, theirs.conf.numpy(), atol=1e-5)
        tracked_boxes += len(ids)
    assert tracked_boxes >= len(frames)  # the bus is tracked through the clip


def test_timeline_counts_and_csvs_agree_with_the_frames(analysis):
    objects = summary.objects_per_frame(analysis.frames)
    per_frame = objects.groupby("frame")["objects"].sum()
    assert per_frame.tolist() == [len(f.detections) for f in analysis.frames]
    top1 = summary.classifier_top1(analysis.frames)
    assert len(top1) == 30 and top1["probability"].between(0, 1).all()
    pairs = dict(summary.distinct_objects(analysis.frames))
    for name, count in pairs.items():
        ids = {
            int(t)
            for f in analysis.frames
            for t, n in zip(f.detections.extra["track_id"], f.detections.labels)
            if n == name
        }
        assert len(ids) == count
    assert pairs["bus"] == 1 and "1 bus" in summary.distinct_objects_text(
        analysis.frames
    )
    rows = summary.detections_csv(analysis.frames).strip().splitlines()
    assert rows[0] == "frame,seconds,track_id,class,score,x1,y1,x2,y2"
    assert len(rows) - 1 == sum(len(f.detections) for f in analysis.frames)
    cls_rows = summary.classifier_csv(analysis.frames).strip().splitlines()
    assert len(cls_rows) - 1 == 30 * 5
    table = summary.frame_table(analysis.frames[5])
    assert list(table.columns[:3]) == ["track id", "class", "score"]
    assert table["score"].is_monotonic_decreasing


def test_scrubber_reads_back_the_annotated_frame(analysis):
    frame = read_frame(analysis.video, 17, analysis.info.fps)
    assert frame.shape == (360, 480, 3)
    # The annotated frame 17 differs from the raw one by the drawn boxes and caption.
    raw = panned_frames("bus.jpg", frames=30)[17]
    assert np.abs(frame.astype(int) - raw).mean() > 1.0
    with pytest.raises(VideoError, match="past the end"):
        read_frame(analysis.video, 500, analysis.info.fps)


def test_classifier_every_kth_frame_and_detector_only(models, clip):
    detector, classifier = models
    every3 = run_video_analysis(
        clip, "pan.mp4", detector, classifier, VideoSettings(classify_every=3)
    )
    assert [f.index for f in every3.frames if f.topk] == list(range(0, 30, 3))
    none = run_video_analysis(
        clip, "pan.mp4", detector, classifier, VideoSettings(classify_every=0)
    )
    assert none.classifier is None and all(f.topk is None for f in none.frames)
    only_people = run_video_analysis(
        clip,
        "pan.mp4",
        detector,
        None,
        VideoSettings(tracker="botsort", classes=("person",), conf=0.5),
    )
    labels = {n for f in only_people.frames for n in f.detections.labels}
    assert labels == {"person"}
    assert all((f.detections.scores >= 0.5).all() for f in only_people.frames)


def test_stop_keeps_what_is_done(models, clip):
    detector, classifier = models
    kept = []

    class Stop(Exception):
        pass

    def progress(done, total, seconds):
        assert total == 30
        if done == 10:
            raise Stop

    with pytest.raises(Stop):
        run_video_analysis(
            clip,
            "pan.mp4",
            detector,
            classifier,
            VideoSettings(),
            progress=progress,
            keep=kept.append,
        )
    (partial,) = kept
    assert not partial.complete and len(partial.frames) == 10
    container, stream = _stream(partial.video)
    with container:
        assert sum(1 for _ in container.decode(stream)) == 10


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "the file is empty"),
        (lambda: b"this is a text file, not a video\n" * 50, "not a video file"),
        (lambda: audio_only(), r"no video stream \(it holds audio\)"),
    ],
    ids=["empty", "text-named-mp4", "audio-only"],
)
def test_bad_files_get_their_own_message(make, message):
    with pytest.raises(VideoError, match=message):
        probe_video(make(), "clip.mp4", LIMITS)


def test_limits_on_size_pixels_duration_and_frames(clip):
    with pytest.raises(VideoError, match="MB is over the limit of 0 MB"):
        probe_video(clip, "c.mp4", VideoLimits(max_bytes=1000))
    with pytest.raises(VideoError, match=r"480×360 px \(0.2 megapixels\) are over"):
        probe_video(clip, "c.mp4", VideoLimits(max_pixels=100_000))
    with pytest.raises(VideoError, match="3 s is longer than the limit of 2 s"):
        probe_video(clip, "c.mp4", VideoLimits(max_seconds=2))
    with pytest.raises(VideoError, match="30 frames are more than the limit of 20"):
        probe_video(clip, "c.mp4", VideoLimits(max_frames=20))


def test_an_undecodable_codec_is_named(monkeypatch, clip):
    real = av.codec.Codec

    def no_h264(name, mode="r"):
        if name == "h264":
            raise av.error.DecoderNotFoundError(0, "no decoder")
        return real(name, mode)

    monkeypatch.setattr(av.codec, "Codec", no_h264)
    with pytest.raises(VideoError, match=r"video codec \(h264\) cannot be decoded"):
        probe_video(clip, "c.mp4", LIMITS)


def test_a_truncated_file_keeps_the_frames_before_the_damage(clip):
    damaged = clip[: len(clip) * 2 // 3]
    info = probe_video(damaged, "cut.mp4", LIMITS)
    errors: list[str] = []
    got = list(iter_frames(damaged, "cut.mp4", info, LIMITS, errors))
    assert 0 < len(got) < 30


@pytest.mark.parametrize(
    ("fmt", "codec"), [("webm", "libvpx"), ("avi", "mpeg4"), ("matroska", "libx264")]
)
def test_other_containers_decode(fmt, codec):
    frames = panned_frames("bus.jpg", frames=6, size=(320, 240))
    data = encode_with(frames, fmt, codec)
    info = probe_video(data, f"clip.{fmt}", LIMITS)
    assert (info.width, info.height) == (320, 240)
    assert len(list(iter_frames(data, "clip", info, LIMITS))) == 6


def test_big_frames_are_analysed_at_the_process_size():
    frames = panned_frames("bus.jpg", frames=3, size=(640, 480))
    data = encode_h264(frames, 5)
    limits = VideoLimits(process_side=320)
    info = probe_video(data, "big.mp4", limits)
    assert info.process_size(limits) == (320, 240)
    assert next(iter_frames(data, "big.mp4", info, limits)).image.shape == (240, 320, 3)


def test_frames_are_written_as_libswscale_would_convert_them():
    """The writer's own RGB -> yuv420p: libswscale's luma to one level, and each chroma
    sample the mean of its 2x2 pixels (not one pixel's, which fringes thin lines)."""
    photo = panned_frames("bus.jpg", frames=2, size=(640, 480))[1]
    ours = rgb_to_yuv420p(photo).astype(int)
    theirs = av.VideoFrame.from_ndarray(photo, format="rgb24")
    theirs = theirs.reformat(format="yuv420p").to_ndarray().astype(int)
    assert ours.shape == theirs.shape == (720, 640)
    assert np.abs(ours[:480] - theirs[:480]).max() <= 1
    assert np.abs(ours[480:] - theirs[480:]).mean() < 1.0
    stripes = np.zeros((4, 4, 3), np.uint8)
    stripes[:, ::2] = (255, 0, 0)  # red and blue columns: chroma is their mean
    stripes[:, 1::2] = (0, 0, 255)
    mixed = rgb_to_yuv420p(stripes)[4:].ravel()
    red, blue = (
        rgb_to_yuv420p(np.full((4, 4, 3), c, np.uint8))[4:] for c in stripes[0, :2]
    )
    mean = (red.ravel().astype(int) + blue.ravel()) / 2
    np.testing.assert_allclose(mixed, mean, atol=1)


def test_read_ahead_keeps_order_and_errors_and_closes_the_decoder():
    closed = []

    def frames(fail_at=None):
        try:
            for i in range(5):
                if i == fail_at:
                    raise VideoError(f"broken at {i}")
                yield i
        finally:
            closed.append(True)

    with read_ahead(frames()) as ahead:
        assert list(ahead) == [0, 1, 2, 3, 4]
    got = []
    with pytest.raises(VideoError, match="broken at 3"):
        with read_ahead(frames(fail_at=3)) as ahead:
            got.extend(ahead)
    assert got == [0, 1, 2]
    with read_ahead(frames()) as ahead:  # the caller stops early (the page's Stop)
        assert next(ahead) == 0
    assert closed == [True, True, True]


def test_plural():
    assert plural("car", 1) == "1 car"
    assert plural("car", 7) == "7 cars"
    assert plural("person", 3) == "3 people"
    assert plural("bus", 2) == "2 buses"
    assert plural("wine glass", 2) == "2 wine glasses"
    assert plural("teddy bear", 2) == "2 teddy bears"
    assert plural("sheep", 4) == "4 sheep"


# The page, as a user drives it -------------------------------------------------------


@pytest.fixture
def video_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    at.switch_page("pages/video.py").run()
    assert not at.exception
    return at


def test_page_uploads_analyses_and_shows_everything(video_page, clip):
    at = video_page
    at.file_uploader(key="video_upload").set_value(
        ("street.mp4", clip, "video/mp4")
    ).run()
    assert not at.exception
    at.button(key="video_run").click().run()
    assert not at.exception
    assert len(at.get("video")) == 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Frames analysed"] == "30"
    assert any("1 bus" in md.value for md in at.markdown)
    assert len(at.get("plotly_chart")) == 1
    assert len(at.get("download_button")) == 3
    at.slider(key="video_frame").set_value(12).run()
    assert not at.exception
    assert any("Frame 12 at 1.20 s" in c for i in at.image for c in i.captions)
    # Coming back with the same video and settings is instant: no Analyse button.
    at.switch_page("pages/compare.py").run()
    at.switch_page("pages/video.py").run()
    at.file_uploader(key="video_upload").set_value(
        ("street.mp4", clip, "video/mp4")
    ).run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "video_run"]
    assert len(at.get("video")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a video at all\n" * 100, "not a video file"),
        (None, "no video stream"),
    ],
    ids=["text-named-mp4", "audio-only"],
)
def test_page_says_what_is_wrong_with_a_bad_file(video_page, data, message):
    at = video_page
    data = audio_only() if data is None else data
    at.file_uploader(key="video_upload").set_value(("bad.mp4", data, "video/mp4")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
