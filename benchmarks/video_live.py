"""Video and live camera speed and memory with the bundled offline models.

1. Video: frames per second of the Video page's path (``run_video_analysis``: PyAV
   decode, detector at the tracker's confidence, ByteTrack, drawing, H.264 encoding)
   versus a plain Ultralytics ``model.track`` loop over the same file (its own decoding,
   no drawing, no encoding), in one run; the detector alone and with the classifier.
2. Live: streamlit-webrtc's own asynchronous track (``AsyncVideoProcessTrack``) fed by a
   30 fps synthetic camera, with the Live page's frame callback (newest frame only):
   processed frames per second and the time from a frame's capture to the moment its
   annotated copy is sent back (the server's part of glass-to-glass latency: no browser
   encoding or network), first third vs last third of the run, to show it does not grow.
3. The video writer thread's steps alone: CPU milliseconds a frame for drawing, the
   conversion to yuv420p and x264.
4. Memory: the process's RSS over the live run and over 10 consecutive video runs.

Usage: python -m benchmarks.video_live [--frames 150] [--live-seconds 180] [--rounds 2]
       [--video-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("YOLO_OFFLINE", "1")

from benchmarks import load_average
from benchmarks.x264_settings import tracked_boxes
from components.live.webrtc import frames_callback, session_processor_for
from model_zoo import load_model
from tests.webrtc_loopback import run_loopback
from visioncompare.kernel.draw import annotate
from visioncompare.live.processor import LiveMode, LiveSettings
from visioncompare.services.video_pipeline import run_video_analysis
from visioncompare.video.analysis import VideoSettings, track_labels
from visioncompare.video.demo_clip import encode_h264, panned_frames
from visioncompare.video.io import H264Writer, rgb_to_yuv420p


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def video(detector, classifier, frames: int, rounds: int = 2) -> list[str]:
    """Rows: frames per second (best of ``rounds``) and its ratio to the plain loop's
    best, the median over the rounds of each round's ratio (the cases of a round run
    back to back), then the process's CPU milliseconds per frame (least of ``rounds``,
    every thread) and the plain loop's CPU over this case's: on a machine shared with
    other work the CPU columns move much less than the wall-clock ones."""
    clip = encode_h264(panned_frames("bus.jpg", frames, (640, 480)), fps=30)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        path.write_bytes(clip)

        def ultralytics_track(**extra):
            n = 0
            for _ in detector.model.track(
                source=str(path),
                stream=True,
                conf=0.1,
                iou=0.7,
                tracker="bytetrack.yaml",
                imgsz=detector.spec.input_size,
                device="cpu",
                verbose=False,
                **extra,
            ):
                n += 1
            return n

        def ultralytics_track_and_save():
            """The same work as the page: Ultralytics draws every frame and writes a
            video too (``save=True``, OpenCV's writer)."""
            return ultralytics_track(
                save=True, project=tmp, name="track", exist_ok=True
            )

        def ours(with_classifier: bool):
            settings = VideoSettings(classify_every=1 if with_classifier else 0)
            result = run_video_analysis(
                clip,
                "clip.mp4",
                detector,
                classifier if with_classifier else None,
                settings,
            )
            return len(result.frames)

        ultralytics_track()  # warm-up (tracker config, first predictor set-up)
        ultralytics_track_and_save()  # warm-up of the writer
        cases = {
            "ultra": ultralytics_track,
            "ultra_save": ultralytics_track_and_save,
            "ours": lambda: ours(False),
            "both": lambda: ours(True),
        }
        fps: dict[str, list[float]] = {name: [] for name in cases}
        cpu_ms: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):  # interleaved, best of each: all see the same machine
            for name, fn in cases.items():
                start, cpu = time.perf_counter(), time.process_time()
                n = fn()
                fps[name].append(n / (time.perf_counter() - start))
                cpu_ms[name].append((time.process_time() - cpu) * 1000 / n)
                assert n == frames, (name, n)
    best = {k: max(v) for k, v in fps.items()}
    least = {k: min(v) for k, v in cpu_ms.items()}
    # Each round runs every case back to back: its ratios saw the same machine.
    paired = {
        k: statistics.median(f / u for f, u in zip(v, fps["ultra"]))
        for k, v in fps.items()
    }
    titles = {
        "ultra": f"Ultralytics `model.track` loop ({frames} frames 640×480)",
        "ultra_save": "Ultralytics `model.track(save=True)`: draws and writes a video too",
        "ours": "the page's path, detector + ByteTrack + drawing + H.264",
        "both": "the page's path with the classifier on every frame",
    }
    return [
        f"| video, {title} | {best[k]:.1f} frames/s | {best[k] / best['ultra']:.2f} | "
        f"{paired[k]:.2f} | {least[k]:.1f} | {least['ultra'] / least[k]:.2f} |"
        for k, title in titles.items()
    ]


def writer_steps(detector, frames: int, rounds: int = 3) -> list[str]:
    """Rows: the CPU milliseconds a frame of each step the page's writer thread takes
    (drawing the tracked boxes, the conversion to yuv420p, x264 with the frame's
    hand-over), one thread alone on the benchmark's clip, least of ``rounds``."""
    images = panned_frames("bus.jpg", frames, (640, 480))
    shown = tracked_boxes(detector, images)
    drawn = [annotate(i, s, track_labels(s)) for i, s in zip(images, shown)]

    def least(step) -> float:
        times = []
        for _ in range(rounds):
            start = time.thread_time()
            step()
            times.append((time.thread_time() - start) * 1000 / frames)
        return min(times)

    def encode() -> None:
        with H264Writer(640, 480, 30) as writer:
            for image in drawn:
                writer.write(image)

    draw_ms = least(
        lambda: [annotate(i, s, track_labels(s)) for i, s in zip(images, shown)]
    )
    convert_ms = least(lambda: [rgb_to_yuv420p(i) for i in drawn])
    encode_ms = least(encode) - convert_ms
    boxes = sum(map(len, shown)) / frames
    return [
        f"| writer, drawing ({boxes:.1f} tracked boxes a frame, with labels) | {draw_ms:.2f} |",
        f"| writer, conversion to yuv420p | {convert_ms:.2f} |",
        f"| writer, x264 (`X264_OPTIONS`) | {encode_ms:.2f} |",
        f"| writer, all | {draw_ms + convert_ms + encode_ms:.2f} |",
    ]


def live(detector, classifier, seconds: float) -> list[str]:
    rows = []
    for mode in (LiveMode.DETECT, LiveMode.BOTH):
        processor = session_processor_for(detector, classifier)
        processor.update_settings(LiveSettings(mode))
        rss = [rss_mb()]

        def sample(elapsed: float) -> None:
            if len(rss) < elapsed // 10 + 1:  # every 10 s
                rss.append(rss_mb())

        latencies = asyncio.run(
            run_loopback(
                frames_callback(processor),
                panned_frames("bus.jpg", 60, (640, 480)),
                seconds,
                on_tick=sample,
            )
        )
        rss.append(rss_mb())
        readout = processor.readout()
        ms = [m for _, m in latencies]
        third = max(1, len(ms) // 3)
        fps = readout.processed / seconds
        rows.append(
            f"| live, {mode.value} ({seconds:.0f} s at 30 fps in) | {fps:.1f} processed "
            f"frames/s, {readout.dropped} of {readout.received} dropped | "
            f"capture→sent median {statistics.median(ms):.0f} ms, p95 "
            f"{sorted(ms)[int(len(ms) * 0.95) - 1]:.0f} ms; first third "
            f"{statistics.median(ms[:third]):.0f} ms, last third "
            f"{statistics.median(ms[-third:]):.0f} ms | RSS {rss[0]:.0f} → "
            f"{rss[-1]:.0f} MB (+{rss[-1] - rss[0]:.1f}) |"
        )
    return rows


def memory_video_runs(detector, classifier, runs: int = 10) -> list[str]:
    clip = encode_h264(panned_frames("bus.jpg", 60, (640, 480)), fps=30)
    run_video_analysis(clip, "c.mp4", detector, classifier, VideoSettings())
    before = rss_mb()
    for _ in range(runs):
        run_video_analysis(clip, "c.mp4", detector, classifier, VideoSettings())
    after = rss_mb()
    return [
        f"| memory, {runs} consecutive video runs (60 frames each) | RSS {before:.0f} → "
        f"{after:.0f} MB | +{after - before:.1f} MB |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--live-seconds", type=float, default=180.0)
    parser.add_argument(
        "--video-only", action="store_true", help="only the video-file rows"
    )
    parser.add_argument("--rounds", type=int, default=2, help="video runs of each case")
    args = parser.parse_args()
    detector = load_model("yolov8n-int8", "cpu")
    classifier = load_model("mobilenet_v2_quantized", "cpu")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores;"
        f" load average before: {load_average()}"
    )
    print("| case | result | ratio | median round ratio | CPU ms / frame | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in video(detector, classifier, args.frames, args.rounds):
        print(row, flush=True)
    print("\n| writer thread step | CPU ms / frame |\n|---|---:|")
    for row in writer_steps(detector, args.frames):
        print(row, flush=True)
    if args.video_only:
        print(f"load average after: {load_average()}")
        return
    print("\n| case | result | ratio / detail |\n|---|---:|---|")
    for row in memory_video_runs(detector, classifier):
        print(row, flush=True)
    for row in live(detector, classifier, args.live_seconds):
        print(row, flush=True)


if __name__ == "__main__":
    main()
