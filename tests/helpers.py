"""Builders for typed test objects."""

from __future__ import annotations

import importlib
import io
import os

import numpy as np
import pytest
from PIL import Image

from visioncompare.kernel.types import Detections


def make_detections(
    boxes: list[list[float]],
    scores: list[float] | None = None,
    class_ids: list[int] | None = None,
    class_names: tuple[str, ...] = ("a", "b", "c"),
) -> Detections:
    n = len(boxes)
    return Detections(
        np.array(boxes, dtype=np.float32).reshape(n, 4),
        np.array(scores if scores is not None else [1.0] * n, dtype=np.float32),
        np.array(class_ids if class_ids is not None else [0] * n, dtype=np.int64),
        class_names,
    )


def random_boxes(n: int, seed: int = 0, size: float = 640.0) -> np.ndarray:
    """(n, 4) valid xyxy boxes inside a size x size image."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size * 0.8, (n, 2))
    wh = rng.uniform(1, size * 0.3, (n, 2))
    return np.concatenate([xy, np.minimum(xy + wh, size)], axis=1)


def encode(image: Image.Image, fmt: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


def gradient_rgb(width: int = 64, height: int = 48) -> np.ndarray:
    """A deterministic RGB image whose every pixel differs from its neighbours."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(
        np.uint8
    )


def make_dataset(samples_spec, class_names=("a", "b", "c"), name="synthetic"):
    """A Dataset from [(gt_boxes, gt_class_ids, iscrowd or None, difficult or None), ...]."""
    from pathlib import Path

    from visioncompare.datasets.types import Dataset, Sample, make_gt

    samples = []
    for image_id, spec in enumerate(samples_spec):
        boxes, ids, *flags = spec
        crowd = flags[0] if len(flags) > 0 else None
        difficult = flags[1] if len(flags) > 1 else None
        gt = make_gt(boxes, ids, tuple(class_names), iscrowd=crowd, difficult=difficult)
        samples.append(
            Sample(image_id, Path(f"/nonexistent/{image_id}.jpg"), 640, 480, gt)
        )
    return Dataset(
        name, "coco", Path("/nonexistent"), tuple(class_names), tuple(samples)
    )


def random_coco_case(seed: int, images: int = 300, classes: int = 12):
    """A seeded random dataset and predictions with every COCO edge case: all three area
    ranges, crowd regions, annotated areas that differ from the box, duplicates, misses,
    false positives, score ties, images without ground truth or without predictions."""
    from pathlib import Path

    from visioncompare.datasets.types import Dataset, Sample, make_gt

    rng = np.random.default_rng(seed)
    names = tuple(f"class{i}" for i in range(classes))
    samples, predictions = [], {}
    for image_id in range(images):
        n = int(rng.integers(0, 12)) if image_id % 17 else 0
        side = rng.choice([12, 24, 48, 80, 150, 300], size=n) * rng.uniform(0.7, 1.3, n)
        aspect = rng.uniform(0.5, 2.0, n)
        w, h = side * np.sqrt(aspect), side / np.sqrt(aspect)
        x, y = (
            rng.uniform(0, 640 - w.clip(max=600)),
            rng.uniform(0, 480 - h.clip(max=440)),
        )
        boxes = np.stack([x, y, x + w, y + h], axis=1) if n else np.zeros((0, 4))
        ids = rng.integers(0, classes, n)
        crowd = (rng.uniform(size=n) < 0.05).astype(int)
        area = (
            w * h * np.where(rng.uniform(size=n) < 0.3, rng.uniform(0.3, 1.0, n), 1.0)
        )
        gt = make_gt(boxes.tolist(), ids.tolist(), names, iscrowd=crowd.tolist(),
                     area=area.tolist())  # fmt: skip
        samples.append(
            Sample(image_id, Path(f"/synthetic/{image_id}.jpg"), 640, 480, gt)
        )
        if image_id % 23 == 0:
            continue  # an image without predictions
        keep = rng.uniform(size=n) < 0.8
        jitter = (
            rng.normal(0, 0.08, (n, 4)) * np.stack([w, h, w, h], axis=1) if n else 0
        )
        pred = (boxes + jitter)[keep]
        pred_ids = np.where(
            rng.uniform(size=n) < 0.9, ids, rng.integers(0, classes, n)
        )[keep]
        dup = pred[: int(keep.sum() // 4)] + rng.normal(0, 2, (int(keep.sum() // 4), 4))
        m = int(rng.integers(0, 6))
        fx, fy = rng.uniform(0, 600, m), rng.uniform(0, 440, m)
        fp = np.stack(
            [fx, fy, fx + rng.uniform(5, 200, m), fy + rng.uniform(5, 200, m)], 1
        )
        all_boxes = np.concatenate([pred, dup, fp.reshape(-1, 4)])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], all_boxes[:, :2] + 1)
        all_ids = np.concatenate(
            [pred_ids, pred_ids[: len(dup)], rng.integers(0, classes, m)]
        ).astype(int)
        scores = rng.uniform(0.01, 1.0, len(all_boxes))
        scores[::5] = np.round(scores[::5], 1)  # ties
        predictions[image_id] = Detections(all_boxes, scores, all_ids, names)
    dataset = Dataset(
        f"random{seed}", "coco", Path("/synthetic"), names, tuple(samples)
    )
    return dataset, predictions


def realistic_coco_case(
    seed: int, images: int = 5000, classes: int = 80, boxes_per_image: int = 100
):
    """COCO-val-like predictions at confidence 0.001: about 7 objects per image, a few
    well-placed detections (some of the wrong class, some duplicates) and the rest
    low-score noise, ``boxes_per_image`` in all; crowd regions and annotated areas that
    differ from the box; score ties from float32 rounding and from rounded scores."""
    from pathlib import Path

    from visioncompare.datasets.types import Dataset, Sample, make_gt

    rng = np.random.default_rng(seed)
    names = tuple(f"class{i}" for i in range(classes))
    samples, predictions = [], {}
    popular = rng.permutation(classes)
    for image_id in range(1, images + 1):
        n = int(rng.poisson(7.3))
        side = np.exp(rng.uniform(np.log(8), np.log(400), n))
        aspect = rng.uniform(0.4, 2.5, n)
        w, h = side * np.sqrt(aspect), side / np.sqrt(aspect)
        w, h = w.clip(2, 630), h.clip(2, 470)
        x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
        boxes = np.stack([x, y, x + w, y + h], axis=1).reshape(n, 4)
        # a few classes dominate, as in COCO (person)
        ids = np.where(
            rng.uniform(size=n) < 0.3,
            popular[0],
            popular[rng.integers(0, classes, n)],
        )
        crowd = (rng.uniform(size=n) < 0.01).astype(int)
        area = w * h * np.where(rng.uniform(size=n) < 0.5, rng.uniform(0.4, 1, n), 1)
        gt = make_gt(boxes.tolist(), ids.tolist(), names, iscrowd=crowd.tolist(),
                     area=area.tolist())  # fmt: skip
        samples.append(Sample(image_id, Path(f"/synthetic/{image_id}.jpg"), 640, 480,
                              gt))  # fmt: skip
        # good detections: 1-3 per object, jittered, mostly the right class
        copies = rng.integers(1, 4, n)
        src = np.repeat(np.arange(n), copies)
        scale = np.stack([w, h, w, h], axis=1)[src]
        good = boxes[src] + rng.normal(0, 0.07, (len(src), 4)) * scale
        good_ids = np.where(
            rng.uniform(size=len(src)) < 0.85,
            ids[src],
            rng.integers(0, classes, len(src)),
        )
        good_scores = rng.beta(4, 2, len(src)) * np.where(
            rng.uniform(size=len(src)) < 0.2, 0.3, 1.0
        )
        m = max(boxes_per_image - len(src), 0)
        nx, ny = rng.uniform(0, 600, m), rng.uniform(0, 440, m)
        nw, nh = rng.uniform(4, 300, m), rng.uniform(4, 300, m)
        noise = np.stack([nx, ny, nx + nw, ny + nh], axis=1)
        noise_ids = np.where(
            rng.uniform(size=m) < 0.5, popular[rng.integers(0, 8, m)],
            rng.integers(0, classes, m),
        )  # fmt: skip
        noise_scores = 0.001 + rng.exponential(0.03, m)
        all_boxes = np.concatenate([good, noise]).clip(0, [640, 480, 640, 480])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], all_boxes[:, :2] + 0.5)
        scores = np.concatenate([good_scores, noise_scores]).clip(0.001, 1.0)
        scores[::7] = np.round(scores[::7], 2)  # ties
        predictions[image_id] = Detections(
            all_boxes, scores, np.concatenate([good_ids, noise_ids]).astype(int), names
        )
    dataset = Dataset(
        f"realistic{seed}", "coco", Path("/synthetic"), names, tuple(samples)
    )
    return dataset, predictions


def missing(reason: str) -> None:
    """Fail in CI, skip elsewhere: a test of an optional backend or reference tool never
    passes without it (``.ci/run`` installs every one and sets CI). Works in a test and
    at a test module's top level."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: this must be tested)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


CORRUPTIONS_INSTALL = "pip install --no-deps imagecorruptions-imaug==1.1.5"
"""How the robustness lab's corruptions are installed (README, ``.ci/run``)."""

TIDECV_INSTALL = "pip install --no-deps tidecv==1.0.1"
"""How tidecv, the error types' reference, is installed (a test-only install,
``.ci/run``)."""

RAY_INSTALL = "pip install -r requirements-ray.txt"
"""How Ray and psycopg, the cluster's and PostgreSQL store's libraries, are installed."""


def optional_module(name: str, install: str):
    """The optional package ``name``, imported; missing, the test (or the module) fails
    in CI and is skipped elsewhere (``missing``), naming how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"{name} is not installed ({install})")


def evaluate_twin_detectors(tmp_path, monkeypatch):
    """The Evaluate page after evaluating two detectors on the COCO subset: the bundled
    yolov8n-int8 and the same weights copied under another name into a weights folder
    (``custom:twin_openvino_model``), without the classifier. Returns the AppTest."""
    import shutil

    from streamlit.testing.v1 import AppTest

    from model_zoo.weights import ENV_VAR, PROJECT_WEIGHTS_DIR
    from tests.conftest import REPO

    shutil.copytree(PROJECT_WEIGHTS_DIR / "yolov8n_int8_openvino_model",
                    tmp_path / "weights" / "twin_openvino_model")  # fmt: skip
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "weights"))
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    at.switch_page("pages/evaluate.py").run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    at.multiselect(key="evaluate_detectors").set_value(
        ["yolov8n-int8", "custom:twin_openvino_model"]
    ).run()
    at.button(key="evaluate_run").click().run()
    return at


def open_view(at, group: str, view: str | None = None):
    """Open one view of the Evaluate page's explorer and rerun: its tabs track their
    state, so only the open view runs (``components.evaluate.explorer``)."""
    at.session_state["evaluate_group"] = group
    if view is not None:
        at.session_state[f"evaluate_view_{group.lower().replace(' ', '_')}"] = view
    return at.run()


def tiny_coco(folder, n: int = 3):
    """The bundled COCO subset's first ``n`` images, as a COCO dataset folder of its
    own at ``folder`` (``annotations/*.json`` and ``val2017/``); returns ``folder``."""
    import json
    import shutil

    from tests.conftest import REPO

    source = REPO / "data" / "coco-val2017-first32"
    (annotations,) = (source / "annotations").glob("*.json")
    data = json.loads(annotations.read_text())
    images = data["images"][:n]
    ids = {image["id"] for image in images}
    data["images"] = images
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in ids]
    (folder / "annotations").mkdir(parents=True)
    (folder / "val2017").mkdir()
    (folder / "annotations" / "instances_tiny.json").write_text(json.dumps(data))
    for image in images:
        shutil.copy(source / "val2017" / image["file_name"], folder / "val2017")
    return folder
