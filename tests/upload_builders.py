"""Uploads made in the tests: a COCO dataset archive from the bundled subset, and a COCO
results file from its ground truth with jittered boxes."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from visioncompare.datasets.registry import DATA_DIR

COCO_SUBSET = DATA_DIR / "coco-val2017-first32"
COCO_JSON = COCO_SUBSET / "annotations" / "instances_val2017_first32.json"


def coco_subset(n: int) -> dict:
    """The first ``n`` images of the bundled COCO subset, with their annotations."""
    data = json.loads(COCO_JSON.read_text())
    images = data["images"][:n]
    ids = {image["id"] for image in images}
    return {
        "images": images,
        "annotations": [a for a in data["annotations"] if a["image_id"] in ids],
        "categories": data["categories"],
    }


def coco_archive(n: int = 8, name: str = "mini", with_images: bool = True) -> bytes:
    """A .zip in COCO layout: ``<name>/annotations/instances_<name>.json`` and
    ``<name>/val2017/*.jpg``."""
    subset = coco_subset(n)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"{name}/annotations/instances_{name}.json", json.dumps(subset)
        )
        if with_images:
            for image in subset["images"]:
                archive.write(
                    COCO_SUBSET / "val2017" / image["file_name"],
                    f"{name}/val2017/{image['file_name']}",
                )
    return buffer.getvalue()


def jittered_predictions(subset: dict, seed: int = 0) -> list[dict]:
    """A COCO results list: most true boxes moved a little, some missed, some false
    positives, scores at random (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for ann in subset["annotations"]:
        if rng.random() < 0.15:
            continue  # missed
        x, y, w, h = ann["bbox"]
        dx, dy = rng.normal(0, 0.08, 2) * (w, h)
        dw, dh = np.exp(rng.normal(0, 0.1, 2))
        out.append(
            {
                "image_id": ann["image_id"],
                "category_id": ann["category_id"],
                "bbox": [round(float(v), 2) for v in (x + dx, y + dy, w * dw, h * dh)],
                "score": round(float(rng.uniform(0.05, 1.0)), 4),
            }
        )
    categories = [c["id"] for c in subset["categories"]]
    for image in subset["images"]:
        for _ in range(3):  # false positives
            w, h = rng.uniform(10, 120, 2)
            out.append(
                {
                    "image_id": image["id"],
                    "category_id": int(rng.choice(categories)),
                    "bbox": [
                        round(float(rng.uniform(0, image["width"] - w)), 2),
                        round(float(rng.uniform(0, image["height"] - h)), 2),
                        round(float(w), 2),
                        round(float(h), 2),
                    ],
                    "score": round(float(rng.uniform(0.01, 0.6)), 4),
                }
            )
    return out


def pycocotools_stats(subset: dict, predictions: list[dict]) -> np.ndarray:
    """pycocotools' 12 summary numbers for these predictions on this subset."""
    import contextlib

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = json.loads(json.dumps(subset))
        gt.createIndex()
        dt = gt.loadRes(json.loads(json.dumps(predictions)))
        run = COCOeval(gt, dt, "bbox")
        run.evaluate()
        run.accumulate()
        run.summarize()
    return run.stats
