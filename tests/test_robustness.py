"""The robustness lab's pure part: corruptions equal to the package's own on the same
image and seed, odd images, mPC and rPC by hand, and the clean-vs-corrupted changes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.helpers import (
    CORRUPTIONS_INSTALL,
    gradient_rgb,
    make_detections,
    optional_module,
)
from visioncompare.kernel.types import Classification
from visioncompare.robustness.breaking import SeverityStep, breaking_points
from visioncompare.robustness.changes import classification_change, detection_change
from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    Corruption,
    CorruptionError,
    corrupt,
    corrupt_image,
    image_seed,
    slow_note,
)
from visioncompare.robustness.grid import (
    CLEAN,
    RobustnessGrid,
    corruption_ranking,
    parse_corruptions,
    parse_severities,
    results_frame,
    robustness_summary,
    severity_curves,
)

imagecorruptions = optional_module("imagecorruptions", CORRUPTIONS_INSTALL)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return gradient_rgb(96, 72)


def reference(image: np.ndarray, corruption: Corruption) -> np.ndarray:
    """The package's own function on the same image and seed."""
    seed = image_seed(image, corruption)
    np.random.seed(seed)
    extra = {"seed": seed} if corruption.name in ("glass_blur", "impulse_noise") else {}
    return imagecorruptions.corrupt(
        image, severity=corruption.severity, corruption_name=corruption.name, **extra
    )


@pytest.mark.parametrize("n, name", list(enumerate(CORRUPTIONS)))
def test_each_corruption_equals_the_package_on_the_same_image_and_seed(n, name, image):
    cell = Corruption(name, n % 5 + 1, seed=7)
    ours = corrupt(image, cell)
    assert ours.shape == image.shape and ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, reference(image, cell))
    np.testing.assert_array_equal(ours, corrupt(image, cell))  # deterministic


@pytest.mark.parametrize("shape", [(72, 96), (33, 47), (50, 37)])
def test_our_faster_zoom_blur_equals_the_package_at_every_severity(shape):
    image = gradient_rgb(shape[1], shape[0])
    for severity in range(1, 6):
        cell = Corruption("zoom_blur", severity)
        np.testing.assert_array_equal(corrupt(image, cell), reference(image, cell))


def test_seeds_differ_by_image_cell_and_run_seed_and_leave_numpy_alone(image):
    cell = Corruption("gaussian_noise", 3)
    other = image.copy()
    other[0, 0, 0] ^= 1
    seeds = {
        image_seed(image, cell),
        image_seed(other, cell),
        image_seed(image, Corruption("gaussian_noise", 4)),
        image_seed(image, Corruption("shot_noise", 3)),
        image_seed(image, Corruption("gaussian_noise", 3, seed=1)),
    }
    assert len(seeds) == 5 and all(0 <= s < 2**32 for s in seeds)
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    corrupt(image, cell)
    assert np.random.random() == expected  # the global generator got its state back


def test_odd_images_give_a_result_or_a_message():
    grey = gradient_rgb(64, 48)[:, :, 0]
    out = corrupt_image(grey, Corruption("fog", 2))
    assert out.array.shape == (48, 64, 3) and "greyscale" in out.notes[0]
    deep = (gradient_rgb(64, 48).astype(np.uint16) * 257)[:, :, :1]
    out = corrupt_image(deep, Corruption("contrast", 5))
    assert out.array.shape == (48, 64, 3) and out.notes == (
        "16-bit pixels scaled to 8 bits", "greyscale repeated in three channels",
    )  # fmt: skip
    rgba = np.dstack([gradient_rgb(40, 40), np.full((40, 40), 255, np.uint8)])
    assert corrupt(rgba, Corruption("pixelate", 1)).shape == (40, 40, 3)
    with pytest.raises(CorruptionError, match=r"1×1 image is too small"):
        corrupt(np.zeros((1, 1, 3), np.uint8), Corruption("fog", 1))
    with pytest.raises(CorruptionError, match="too large"):
        corrupt(np.zeros((4001, 4001), np.uint8), Corruption("fog", 1))
    with pytest.raises(CorruptionError, match="float"):
        corrupt(np.zeros((64, 64, 3), np.float32), Corruption("fog", 1))
    with pytest.raises(CorruptionError, match="shape"):
        corrupt(np.zeros((64, 64, 2), np.uint8), Corruption("fog", 1))
    for bad in (("haze", 1), ("fog", 0), ("fog", 6), ("fog", True)):
        with pytest.raises(CorruptionError):
            Corruption(*bad)


def test_slow_corruptions_say_so_before_they_run():
    assert slow_note("contrast", 640, 480) is None
    assert "Zoom blur takes about" in slow_note("zoom_blur", 2048, 1536)


def test_grid_and_its_parsers():
    assert parse_corruptions("fog, noise") == (
        "gaussian_noise", "shot_noise", "impulse_noise", "fog",
    )  # fmt: skip
    assert parse_corruptions("all") == CORRUPTIONS
    assert parse_severities("1,3-4") == (1, 3, 4) and parse_severities("all")[-1] == 5
    with pytest.raises(CorruptionError, match="haze"):
        parse_corruptions("haze")
    with pytest.raises(CorruptionError):
        parse_severities("0-2")
    grid = RobustnessGrid(("snow", "fog"), (3, 1))
    assert [c.tag for c in grid.cells()] == [
        "snow-1-seed0", "snow-3-seed0", "fog-1-seed0", "fog-3-seed0",
    ]  # fmt: skip
    assert len(grid) == 4 and not grid.full and RobustnessGrid().full


def small_table() -> pd.DataFrame:
    """A detector and a classifier on two corruptions at two severities."""
    rows = []
    values = {
        ("det", "detection", "AP50-95"): (0.40, {"fog": (0.30, 0.20),
                                                "snow": (0.36, 0.10)}),
        ("cls", "classification", "tagging mAP"): (0.50, {"fog": (0.50, 0.40),
                                                         "snow": (0.45, 0.25)}),
    }  # fmt: skip
    for (model, task, metric), (clean, cells) in values.items():
        rows.append(dict(model=model, task=task, metric=metric, corruption=CLEAN,
                         severity=0, value=clean, images=2))  # fmt: skip
        for name, (mild, strong) in cells.items():
            for severity, value in ((1, mild), (5, strong)):
                rows.append(dict(model=model, task=task, metric=metric,
                                 corruption=name, severity=severity, value=value,
                                 images=2))  # fmt: skip
    return results_frame(rows)


def test_mpc_and_rpc_by_hand():
    summary = robustness_summary(small_table()).set_index("model")
    # det: fog (0.30 + 0.20) / 2 = 0.25, snow (0.36 + 0.10) / 2 = 0.23 -> mPC 0.24
    assert summary.loc["det", "mPC"] == pytest.approx(0.24)
    assert summary.loc["det", "rPC"] == pytest.approx(0.24 / 0.40)
    # cls: fog 0.45, snow 0.35 -> mPC 0.40, rPC 0.8
    assert summary.loc["cls", "mPC"] == pytest.approx(0.40)
    assert summary.loc["cls", "rPC"] == pytest.approx(0.8)
    assert summary.loc["det", "corruptions"] == 2 and not summary.loc["det", "full"]


def test_ranking_and_curves():
    ranking = corruption_ranking(small_table())
    det = ranking[ranking["model"] == "det"]
    assert det["name"].tolist() == ["snow", "fog"]  # loses 0.17, then 0.15
    assert det["loss"].tolist() == pytest.approx([0.17, 0.15])
    assert det["rank"].tolist() == [1, 2]
    curves = severity_curves(small_table())
    fog = curves[(curves["model"] == "det") & (curves["corruption"] == "fog")]
    assert fog["severity"].tolist() == [0, 1, 5]
    assert fog["value"].tolist() == pytest.approx([0.40, 0.30, 0.20])


def test_classification_change_kept_and_flipped():
    names = ("bus", "truck", "van")
    clean = Classification(np.array([0.7, 0.2, 0.1]), names)
    kept = classification_change(
        clean, Classification(np.array([0.5, 0.3, 0.2]), names)
    )
    assert kept.kept and "Top-1 kept: **bus**, 70.0% → 50.0%" in kept.sentence()
    flipped = classification_change(
        clean, Classification(np.array([0.3, 0.6, 0.1]), names)
    )
    assert not flipped.kept and flipped.clean_label_now == pytest.approx(0.3)
    assert "**bus** (70.0%) → **truck** (60.0%)" in flipped.sentence()


def test_detection_change_kept_lost_and_new_at_iou_half():
    clean = make_detections(
        [[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]], class_ids=[0, 0, 1]
    )
    corrupted = make_detections(
        # a near copy of box 0; box 1 moved too far (IoU 1/7); box 2 as another class
        [[0, 0, 10, 11], [25, 25, 35, 35], [50, 50, 60, 60], [80, 80, 90, 90]],
        class_ids=[0, 0, 2, 0],
    )
    change = detection_change(clean, corrupted)
    assert change.pairs.tolist() == [[0, 0]]
    assert change.lost.tolist() == [1, 2] and change.new.tolist() == [1, 2, 3]
    assert change.kept_share == pytest.approx(1 / 3)
    assert "1 of 3 boxes kept**, 2 lost, 3 new" in change.sentence()
    empty = detection_change(clean[[]], corrupted[[]])
    assert empty.kept == 0 and empty.kept_share == 1.0


def test_detection_change_is_one_to_one_best_overlap_first():
    clean = make_detections([[0, 0, 10, 10], [0, 0, 10, 12]])
    corrupted = make_detections([[0, 0, 10, 12]])
    change = detection_change(clean, corrupted)
    assert change.pairs.tolist() == [[1, 0]] and change.lost.tolist() == [0]
    assert math.isclose(change.ious[0], 1.0)


def test_which_breaks_first():
    names = ("bus", "truck")
    clean = Classification(np.array([0.8, 0.2]), names)
    boxes = make_detections([[0, 0, 10, 10], [20, 20, 30, 30]])

    def step(severity, bus, kept):
        now = Classification(np.array([bus, 1 - bus]), names)
        return SeverityStep(severity, classification_change(clean, now),
                            detection_change(boxes, boxes[list(range(kept))]))  # fmt: skip

    label_first = breaking_points(
        "fog", [step(1, 0.7, 2), step(2, 0.4, 2), step(3, 0.3, 0)]
    )
    assert (label_first.label_at, label_first.boxes_at, label_first.first) == (
        2,
        3,
        "label",
    )
    assert "The single label broke first" in label_first.sentence()
    boxes_first = breaking_points("snow", [step(1, 0.7, 0), step(2, 0.6, 0)])
    assert boxes_first.first == "boxes" and boxes_first.label_at is None
    assert "held at every severity" in boxes_first.sentence()


def test_live_frames_are_corrupted_before_the_models_and_the_cost_is_reported():
    from visioncompare.live.processor import LiveMode, LiveProcessor, LiveSettings

    seen = []

    def classify(frame):
        seen.append(frame)
        return Classification(np.array([1.0]), ("x",))

    processor = LiveProcessor(lambda frame, iou: make_detections([]), classify)
    frame = gradient_rgb(64, 48)
    processor.process_newest([frame])
    assert processor.readout().corruption_ms is None
    cell = Corruption("pixelate", 5)
    processor.update_settings(LiveSettings(LiveMode.CLASSIFY, corruption=cell))
    processor.process_newest([frame])
    np.testing.assert_array_equal(seen[-1], corrupt(frame, cell))
    readout = processor.readout()
    assert readout.corruption_ms is not None and readout.error is None
    processor.update_settings(LiveSettings(LiveMode.CLASSIFY))
    processor.process_newest([frame])
    assert processor.readout().corruption_ms is None
