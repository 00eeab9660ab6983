"""x264 settings for the Video page's annotated file: encoding CPU, file size and quality.

Two clips of 150 frames at 640×480, each frame drawn with the bundled detector's tracked
boxes as the page draws them: ``pan``, the video benchmark's (bus.jpg panned by whole
pixels), and ``drift``, bus.jpg panned by fractions of a pixel while zooming in slowly,
as a hand-held camera moves (x264's sub-pixel motion search only pays on such motion).
Each is encoded with the writer's settings (``visioncompare.video.io.X264_OPTIONS``) and
with those they were chosen against, one encoder thread each: CPU milliseconds a frame
(least of ``--rounds``), the file's size and its Y-PSNR against the frames that went in.

Usage: python -m benchmarks.x264_settings [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time

import av
import cv2
import numpy as np
from PIL import Image

from benchmarks import load_average
from model_zoo import load_model
from model_zoo.tracking import TRACK_CONF, ObjectTracker
from visioncompare.kernel.display import filter_detections
from visioncompare.kernel.draw import annotate
from visioncompare.kernel.sample_images import SAMPLE_DIR
from visioncompare.kernel.types import Detections
from visioncompare.video.analysis import VideoSettings, track_labels
from visioncompare.video.demo_clip import panned_frames
from visioncompare.video.io import X264_OPTIONS, rgb_to_yuv420p

CANDIDATES: dict[str, tuple[dict[str, str], int]] = {
    "the writer's (`X264_OPTIONS`), CRF 23": (X264_OPTIONS, 23),
    "veryfast, subme=1 (before)": (
        {"preset": "veryfast", "threads": "1", "x264-params": "subme=1"},
        23,
    ),
    "veryfast (x264's own)": ({"preset": "veryfast", "threads": "1"}, 23),
    "veryfast, subme=0, no partitions": (
        {
            "preset": "veryfast",
            "threads": "1",
            "x264-params": "subme=0:me=dia:partitions=none",
        },
        23,
    ),
    "superfast, CRF 25": ({"preset": "superfast", "threads": "1"}, 25),
    "ultrafast, CRF 28": ({"preset": "ultrafast", "threads": "1"}, 28),
}


def pan_frames(count: int) -> list[np.ndarray]:
    """The video benchmark's clip: bus.jpg panned by whole pixels."""
    return panned_frames("bus.jpg", count, (640, 480))


def drift_frames(count: int) -> list[np.ndarray]:
    """bus.jpg panned by 1.37 and 0.41 pixels a frame while zooming in 0.15 % a frame."""
    picture = np.asarray(Image.open(SAMPLE_DIR / "bus.jpg").convert("RGB"))
    frames = []
    for i in range(count):
        scale = 0.75 * (1 + 0.0015 * i)
        move = np.array([[scale, 0, -1.37 * i], [0, scale, -0.41 * i]], np.float32)
        frames.append(
            cv2.warpAffine(
                picture, move, (640, 480), flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
        )  # fmt: skip
    return frames


def tracked_boxes(detector, images: list[np.ndarray]) -> list[Detections]:
    """Each frame's tracked boxes as the Video page shows them at its default settings
    (one ByteTrack for the clip)."""
    settings = VideoSettings()
    tracker = ObjectTracker(settings.tracker)
    shown = []
    for image in images:
        found = detector.predict([image], conf=TRACK_CONF, iou=settings.iou)[0]
        tracked = tracker.update(found.detections, image)
        shown.append(filter_detections(tracked, settings.conf, settings.classes))
    return shown


def drawn(detector, images: list[np.ndarray]) -> list[np.ndarray]:
    """The frames as yuv420p planes, with tracked boxes drawn as the page does."""
    return [
        rgb_to_yuv420p(annotate(image, shown, track_labels(shown)))
        for image, shown in zip(images, tracked_boxes(detector, images))
    ]


def encode(frames: list[np.ndarray], options: dict[str, str], crf: int):
    """(CPU ms a frame, MP4 bytes) for one encoding at 30 fps, one keyframe a second."""
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format="mp4")
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
    stream.options = {**options, "crf": str(crf), "g": "30"}
    start = time.process_time()
    for index, planes in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    cpu_ms = (time.process_time() - start) * 1000 / len(frames)
    container.close()
    return cpu_ms, buffer.getvalue()


def luma_psnr(frames: list[np.ndarray], data: bytes) -> float:
    """Mean Y-PSNR (dB) of the decoded file against the frames encoded."""
    height = frames[0].shape[0] * 2 // 3
    with av.open(io.BytesIO(data)) as container:
        decoded = [f.to_ndarray()[:height] for f in container.decode(video=0)]
    errors = [
        np.mean((a[:height].astype(np.float64) - b) ** 2)
        for a, b in zip(frames, decoded)
    ]
    return float(np.mean([10 * np.log10(255**2 / max(e, 1e-9)) for e in errors]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clips = {"pan": pan_frames, "drift": drift_frames}
    detector = load_model("yolov8n-int8", "cpu")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores;"
        f" load average before: {load_average()}"
    )
    print(
        "| clip | x264 settings | CPU ms / frame | CPU ratio | file | size ratio | Y-PSNR |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for clip, make in clips.items():
        frames = drawn(detector, make(args.frames))
        first = None
        for name, (options, crf) in CANDIDATES.items():
            runs = [encode(frames, options, crf) for _ in range(args.rounds)]
            cpu_ms, data = min(runs, key=lambda run: run[0])
            first = first or (cpu_ms, len(data))
            print(
                f"| {clip} | {name} | {cpu_ms:.2f} | {cpu_ms / first[0]:.2f} | "
                f"{len(data) / 1000:.0f} kB | {len(data) / first[1]:.2f} | "
                f"{luma_psnr(frames, data):.2f} dB |",
                flush=True,
            )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
