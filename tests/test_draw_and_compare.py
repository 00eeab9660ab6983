from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import make_detections
from visioncompare.kernel.display import (
    class_counts,
    count_noun,
    detections_frame,
    filter_detections,
    no_boxes_text,
    table_height,
    timing_text,
)
from visioncompare.kernel.draw import (
    COLOR_ORDER,
    PALETTE,
    BoxStyle,
    annotate,
    annotate_layers,
    class_color,
    class_hex,
    place_labels,
)
from visioncompare.kernel.sample_images import list_demo_images
from visioncompare.kernel.types import Classification, Timing
from visioncompare.plots.evaluation import topk_bar_figure


def test_annotate_draws_in_the_class_colour_and_leaves_the_input_alone():
    image = np.zeros((100, 120, 3), np.uint8)
    det = make_detections([[20, 30, 80, 90]], [0.9], [1])
    out = annotate(image, det, labels=[""])
    assert image.sum() == 0 and out.shape == image.shape and out.dtype == np.uint8
    color = class_color("b")
    assert out[60, 20].tolist() == list(color)  # left edge of the box
    assert out[60, 50].tolist() == [0, 0, 0]  # inside stays untouched
    assert out[5, 5].tolist() == [0, 0, 0]


def test_annotate_writes_a_label_and_supports_fixed_dashed_style():
    image = np.zeros((200, 200, 3), np.uint8)
    det = make_detections([[50, 60, 150, 160]], [0.5], [0])
    labelled = annotate(image, det)
    assert labelled[30:60, 50:150].any()  # label drawn above the box
    dashed = annotate(
        image, det, labels=[""], style=BoxStyle(color=(0, 255, 0), dashed=True)
    )
    edge = dashed[60, 50:150, 1]
    assert (edge == 255).any() and (edge == 0).any()  # gaps in the dashed line


def test_annotate_validates_inputs():
    det = make_detections([[0, 0, 5, 5]])
    with pytest.raises(ValueError, match=r"expected \(H, W, 3\) uint8"):
        annotate(np.zeros((10, 10), np.uint8), det)
    with pytest.raises(ValueError, match="labels: expected 1, got 2"):
        annotate(np.zeros((10, 10, 3), np.uint8), det, labels=["a", "b"])
    out = annotate(np.zeros((10, 10, 3), np.uint8), make_detections([]))
    assert out.sum() == 0


def _lab(rgb) -> np.ndarray:
    """sRGB (N, 3) 0-255 -> CIELAB (D65)."""
    c = np.asarray(rgb, float) / 255
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                  [0.0193, 0.1192, 0.9505]])  # fmt: skip
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1
    )


def test_class_colours_are_stable_and_distinct():
    assert class_color("person") == class_color("person")
    assert len({class_color(n) for n in ("person", "bus", "car", "dog", "cat")}) == 5
    # The classes of issue #19's video, once all drawn in one green.
    five = ("bicycle", "bowl", "bus", "car", "horse")
    assert len({class_color(n) for n in five}) == 5
    # Person has a colour of its own; the next 23 COCO classes each get another.
    assert len({class_color(n) for n in COLOR_ORDER[:24]}) == 24
    assert all(class_color(n) != class_color("person") for n in COLOR_ORDER[1:])
    # A street scene's classes differ in hue, not only in shade (ΔE76 well above 35).
    street = ("person", "bicycle", "car", "motorcycle", "bus", "train", "truck")
    lab = _lab([class_color(n) for n in street])
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    assert distance[~np.eye(len(street), dtype=bool)].min() >= 45
    # Any other name gets a palette colour, the same every time.
    assert class_color("red car") in PALETTE
    assert class_color("red car") == class_color("red car")
    assert class_hex("person") == "#{:02x}{:02x}{:02x}".format(*PALETTE[0])


def test_the_palette_has_twenty_distinguishable_colours():
    assert len(PALETTE) >= 20 and len(set(PALETTE)) == len(PALETTE)
    lab = _lab(PALETTE)
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert distance.min() >= 35  # CIELAB ΔE76: far apart, not shades of one hue
    plain = _lab([(255, 255, 255), (0, 0, 0), (128, 128, 128)])
    assert np.linalg.norm(lab[:, None] - plain[None], axis=2).min() >= 35


def test_label_text_is_black_or_white_whichever_reads_better():
    from visioncompare.kernel.draw import _luminance, _text_color

    for fill in PALETTE:
        text = _text_color(fill)
        a, b = sorted((_luminance(fill), _luminance(text)))
        assert (b + 0.05) / (a + 0.05) >= 4.5, fill  # WCAG AA for text


def test_filter_by_score_and_class():
    det = make_detections(
        [[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]], [0.9, 0.3, 0.6], [0, 1, 2]
    )
    assert filter_detections(det, 0.5).labels == ["a", "c"]
    assert filter_detections(det, 0.0, classes={"b", "c"}).labels == ["b", "c"]
    assert len(filter_detections(det, 0.95)) == 0
    assert len(filter_detections(make_detections([]), 0.1, classes=["a"])) == 0


def test_detections_table_and_counts():
    det = make_detections(
        [[0, 0, 10, 20], [5, 5, 6, 6], [1, 1, 2, 2]], [0.4, 0.8, 0.6], [0, 1, 0]
    )
    frame = detections_frame(det)
    assert frame["class"].tolist() == ["b", "a", "a"]  # best score first
    assert frame.loc[2, ["width (px)", "height (px)", "area (px²)"]].tolist() == [
        10,
        20,
        200,
    ]
    tracked = detections_frame(det, np.array([7, 8, 9]))
    assert tracked["track id"].tolist() == [8, 9, 7]  # ids follow their boxes
    assert class_counts(det) == [("a", 2), ("b", 1)]
    tie = make_detections([[0, 0, 1, 1]] * 2, class_ids=[1, 0])
    assert class_counts(tie) == [("a", 1), ("b", 1)]
    assert class_counts(make_detections([])) == []


def test_timing_text():
    text = timing_text(Timing(1.0, 20.0, 2.5), "cpu")
    assert "inference 20.0 ms" in text and "total 23.5 ms" in text and "`cpu`" in text


def test_topk_figure_puts_the_best_class_on_top():
    cls = Classification(np.array([0.05, 0.7, 0.25]), ("x", "y", "z"))
    fig = topk_bar_figure(cls, k=2)
    bar = fig.data[0]
    assert list(bar.y) == ["z", "y"] and list(bar.x) == pytest.approx([0.25, 0.7])
    assert "Top-2" in fig.layout.title.text


def test_bundled_demo_images_have_provenance():
    demos = list_demo_images()
    assert len(demos) >= 5 and demos[0].name == "bus.jpg"
    assert all(d.source and d.licence and d.path.is_file() for d in demos)


def _rects(corners, sizes):
    return [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes)]


def _any_overlap(rects) -> bool:
    return any(
        a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        for i, a in enumerate(rects)
        for b in rects[i + 1 :]
    )


def test_labels_of_a_crowd_do_not_overlap():
    # Eight people side by side, boxes overlapping, all starting at the same height: the
    # labels "above the box" would all collide.
    boxes = np.array([[20 + 25 * i, 100, 80 + 25 * i, 260] for i in range(8)], float)
    sizes = [(70.0, 16.0)] * 8
    corners = place_labels(boxes, sizes, 400, 300)
    rects = _rects(corners, sizes)
    assert not _any_overlap(rects)
    assert all(0 <= r[0] and r[2] <= 400 and 0 <= r[1] and r[3] <= 300 for r in rects)
    # The first label (the best box) keeps the usual place: above its box, at its left.
    assert corners[0] == (20.0, 84.0)


def test_label_positions_follow_the_preference_order():
    sizes = [(40.0, 10.0)] * 2
    # At the top edge there is no room above: the label goes inside the top of the box.
    assert place_labels(np.array([[5, 0, 90, 50]], float), sizes[:1], 100, 100) == [
        (5.0, 0.0)
    ]
    # A second box with the same top: its label moves to the right-aligned spot.
    two = place_labels(
        np.array([[10, 40, 95, 90], [10, 40, 95, 90]], float), sizes, 100, 100
    )
    assert two[0] == (10.0, 30.0) and two[1] == (55.0, 30.0)
    # No free place at all (tiny image): the first label fills it, the others get None
    # (not drawn) rather than covering it.
    many = place_labels(
        np.array([[0, 0, 10, 10]] * 3, float), [(10.0, 10.0)] * 3, 10, 10
    )
    assert many == [(0.0, 0.0), None, None]


def _record_placements(monkeypatch) -> list:
    """Every ``place_labels`` call the drawing makes, as (label sizes, corners)."""
    import visioncompare.kernel.draw

    calls = []

    def recording(boxes, sizes, width, height):
        corners = place_labels(boxes, sizes, width, height)
        calls.append((sizes, corners))
        return corners

    monkeypatch.setattr(visioncompare.kernel.draw, "place_labels", recording)
    return calls


def test_annotate_on_a_crowd_draws_every_label_apart(monkeypatch):
    calls = _record_placements(monkeypatch)
    image = np.zeros((300, 400, 3), np.uint8)
    boxes = [[20 + 25 * i, 100, 80 + 25 * i, 260] for i in range(8)]
    scores = [0.9 - 0.05 * i for i in range(8)]
    det = make_detections(boxes, scores, [i % 3 for i in range(8)])
    out = annotate(image, det)
    ((sizes, corners),) = calls
    assert len(corners) == 8 and not _any_overlap(_rects(corners, sizes))
    # Best score first: label k belongs to box k here; each is drawn where it was placed
    # (its padding corner holds its class colour, on top of every box outline).
    for k, (x, y) in enumerate(corners):
        assert out[int(y) + 1, int(x) + 1].tolist() == list(class_color(det.labels[k]))


def test_count_noun_and_empty_panel_text():
    assert count_noun(1, "object") == "1 object"
    assert count_noun(0, "object") == "0 objects"
    assert count_noun(2, "box", "boxes") == "2 boxes"
    assert count_noun(1, "box", "boxes") == "1 box"
    assert count_noun(1200, "image") == "1,200 images"
    assert "chosen classes" not in no_boxes_text(None)
    assert "chosen classes" not in no_boxes_text(())
    assert "chosen classes" in no_boxes_text(("bus",))


def test_table_height_fits_short_tables_and_caps_long_ones():
    assert table_height(1) == table_height(0) == 2 * 35 + 3
    assert table_height(3) == 4 * 35 + 3
    assert table_height(50, max_rows=6) == table_height(6) == 7 * 35 + 3


def test_labels_on_a_busy_image_never_intersect(monkeypatch):
    # 60 boxes of many classes crowded into a 640x480 image, in three layers (as the
    # error browser draws true positives, false positives and misses): every label
    # drawn lies inside the image and no two intersect; a label that found no room is
    # left out, never drawn over another.
    calls = _record_placements(monkeypatch)
    rng = np.random.default_rng(19)
    xy = rng.uniform(0, 560, (60, 2)) * [1, 0.75]
    boxes = np.column_stack([xy, xy + rng.uniform(30, 160, (60, 2))]).clip(
        0, [640, 480] * 2
    )
    scores = rng.uniform(0.1, 1.0, 60)
    ids = rng.integers(0, 3, 60)
    layers = [
        (make_detections(boxes[k::3], scores[k::3], ids[k::3]), None, style)
        for k, style in enumerate((None, BoxStyle(color=(255, 0, 0)), None))
    ]
    out = annotate_layers(np.zeros((480, 640, 3), np.uint8), layers)
    assert out.shape == (480, 640, 3)
    ((sizes, corners),) = calls
    assert len(corners) == 60
    rects = _rects([c for c in corners if c is not None],
                   [s for s, c in zip(sizes, corners) if c is not None])  # fmt: skip
    assert len(rects) >= 40  # most labels still find a place
    assert not _any_overlap(rects)
    assert all(0 <= r[0] and r[2] <= 640 and 0 <= r[1] and r[3] <= 480 for r in rects)


def test_a_crowded_label_finds_room_farther_from_its_box():
    # Ten identical boxes at the bottom-left corner: the labels that find no room near
    # the box go elsewhere in the image (the annotator draws a line back to the box).
    corners = place_labels(
        np.array([[0, 180, 20, 200]] * 10, float), [(60.0, 12.0)] * 10, 200, 200
    )
    assert all(c is not None for c in corners)
    assert not _any_overlap(_rects(corners, [(60.0, 12.0)] * 10))


def test_boxes_and_text_drawn_in_numpy_match_pillows_own_drawing():
    # The annotator paints into the array itself (no PIL copy of each video frame);
    # what it paints is what Pillow's ImageDraw would, on a photograph-like background.
    from PIL import Image, ImageDraw

    from visioncompare.kernel.draw import _font, _outline, _put_text, _text_mask

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    reference = Image.fromarray(image)
    pen = ImageDraw.Draw(reference)
    ours = image.copy()
    for box, width in (
        ([10, 12, 90, 70], 3),
        ([100, 5, 159, 119], 2),
        ([-5, 80, 40, 130], 4),
    ):
        pen.rectangle(box, outline=(225, 30, 75), width=width)
        _outline(ours, box, (225, 30, 75), width)
    for text, size, (x, y) in (
        ("person 0.91", 14, (12, 20)),
        ("#7 bus", 11, (130, 100)),
    ):
        left, top, _, _ = _font(size).getbbox(text)
        pen.text((x - left, y - top), text, fill=(255, 255, 255), font=_font(size))
        _put_text(ours, x, y, _text_mask(text, size), (255, 255, 255))
    difference = np.abs(ours.astype(int) - np.asarray(reference).astype(int))
    assert difference.max() <= 1, difference.max()  # rounding of the blend at most
    assert (difference > 0).mean() < 0.01
