"""Seeded annotation and predictions files for the Evaluate page's scale benchmarks.

- ``dense_coco_predictions``: a COCO results file on the bundled COCO subset (32 images)
  with 10,000 boxes per image in the dataset's categories and 10,934 more of categories
  it lacks (left out and counted, as pycocotools does): 330,934 entries, about 24.5 MB,
  the size of issue #24's file.
- ``realistic_files``: an annotations JSON (no images) and a predictions file of
  ``tests.helpers.realistic_coco_case`` (COCO-val-like: about 7 objects and 100 boxes per
  image at confidence 0.001), for 1,500 or 5,000 images.

Usage: python -m benchmarks.scale_files OUT_DIR   (writes every file, prints their sizes)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COCO_JSON = (
    REPO / "data" / "coco-val2017-first32" / "annotations"
    / "instances_val2017_first32.json"
)  # fmt: skip
UNUSED_COCO_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)
"""Category ids the COCO files never use (their entries are left out and counted)."""


def _entries(image_ids, categories, boxes, scores, digits=(1, 3)) -> list[dict]:
    """Results entries, boxes and scores rounded as tools write them (Ultralytics: 3 and
    5 digits); a box of whole numbers is written as integers."""
    rounded = np.round(boxes, digits[0])
    xywh = [
        [int(v) for v in box] if whole else box
        for box, whole in zip(rounded.tolist(), (rounded == np.round(rounded)).all(1))
    ]
    return [
        {"image_id": int(i), "category_id": int(c), "bbox": b, "score": s}
        for i, c, b, s in zip(
            image_ids, categories, xywh, np.round(scores, digits[1]).tolist()
        )
    ]


def dense_coco_predictions(
    path: Path, per_image: int = 10_000, extra: int = 10_934, seed: int = 24
) -> Path:
    """``per_image`` boxes on each image of the bundled COCO subset (the true boxes
    jittered, 1 to 3 copies, then low-scoring noise) and ``extra`` entries of categories
    the dataset lacks, shuffled; written as compact JSON."""
    rng = np.random.default_rng(seed)
    data = json.loads(COCO_JSON.read_text())
    categories = np.array([c["id"] for c in data["categories"]])
    rows = []
    for image in data["images"]:
        anns = [a for a in data["annotations"] if a["image_id"] == image["id"]]
        true = np.array([a["bbox"] for a in anns], np.float64).reshape(-1, 4)
        copies = rng.integers(1, 4, len(true))
        src = np.repeat(np.arange(len(true)), copies)
        good = true[src] * np.exp(rng.normal(0, 0.05, (len(src), 4)))
        good[:, :2] = true[src, :2] + rng.normal(0, 0.05, (len(src), 2)) * true[src, 2:]
        good_cls = np.array([anns[i]["category_id"] for i in src], np.int64)
        n = per_image - len(src)
        w, h = (
            rng.uniform(4, image["width"] / 2, n),
            rng.uniform(4, image["height"] / 2, n),
        )
        noise = np.round(
            np.stack(  # whole pixels: the file stays under 25 MB
                [
                    rng.uniform(0, image["width"] - w),
                    rng.uniform(0, image["height"] - h),
                    w,
                    h,
                ],
                axis=1,
            )
        )
        rows.append(
            (
                np.full(per_image, image["id"]),
                np.concatenate([good_cls, rng.choice(categories, n)]),
                np.concatenate([good, noise]),
                np.concatenate(
                    [rng.beta(4, 2, len(src)), 0.001 + rng.exponential(0.05, n)]
                ),
            )
        )
    ids = [image["id"] for image in data["images"]]
    rows.append(
        (
            rng.choice(ids, extra),
            rng.choice(UNUSED_COCO_IDS, extra),
            np.round(rng.uniform(0, 300, (extra, 4))),
            rng.uniform(0.001, 1, extra),
        )
    )
    image_ids, cats, boxes, scores = (np.concatenate(parts) for parts in zip(*rows))
    order = rng.permutation(len(image_ids))
    entries = _entries(
        image_ids[order], cats[order], boxes[order], scores[order].clip(0.001, 1.0)
    )
    path.write_text(json.dumps(entries, separators=(",", ":")))
    return path


def realistic_files(folder: Path, images: int, seed: int = 24) -> tuple[Path, Path]:
    """(annotations JSON, predictions JSON) of ``realistic_coco_case(seed, images)``;
    boxes written with 3 digits and scores with 5, as Ultralytics writes them."""
    from tests.helpers import realistic_coco_case
    from visioncompare.evaluation.metrics.coco import coco_ground_truth

    dataset, predictions = realistic_coco_case(seed, images=images)
    folder.mkdir(parents=True, exist_ok=True)
    annotations = folder / f"realistic{images}_annotations.json"
    results = folder / f"realistic{images}_predictions.json"
    annotations.write_text(json.dumps(coco_ground_truth(dataset)))
    entries = []
    for image_id, det in predictions.items():
        xyxy = det.xyxy.astype(np.float64)
        xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        categories = [dataset.category_ids[int(c)] for c in det.class_ids]
        entries += _entries(
            np.full(len(det), image_id), categories, xywh, det.scores, digits=(3, 5)
        )
    results.write_text(json.dumps(entries, separators=(",", ":")))
    return annotations, results


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "scale-files")
    out.mkdir(parents=True, exist_ok=True)
    written = [dense_coco_predictions(out / "dense_coco_predictions.json")]
    for images in (1500, 5000):
        written.extend(realistic_files(out, images))
    for path in written:
        print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
