"""Boxes whose IoU sits exactly on each of COCO's ten IoU thresholds (in real numbers):
whether a pair passes is decided by the last bit of the float arithmetic, so every COCO
number must come from pycocotools' own float64 operations on the same ``[x, y, w, h]``.

Every comparison is differential: pycocotools on the same annotation and results files,
never a number typed by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from visioncompare.datasets.coco import load_coco
from visioncompare.evaluation.metrics.coco import coco_ground_truth, evaluate_coco
from visioncompare.evaluation.metrics.cocoeval import STAT_NAMES
from visioncompare.evaluation.results_file import load_coco_results
from visioncompare.kernel.types import Detections
from visioncompare.services.report import evaluate_predictions

UNITS = {"integer": (1, 2, 3, 5), "one decimal": (0.1, 0.3, 0.7, 1.3, 2.5, 3.1)}
"""Box sizes are multiples of these: integers, or numbers with one decimal."""


def _on_thresholds(unit_kind: str, seed: int = 0) -> tuple[dict, list[dict]]:
    """A COCO annotation dict and results list where, for every threshold 0.50:0.05:0.95,
    several detections have an IoU with their object equal to it in real numbers.

    An object ``20u x h`` and a detection ``(10 + k)u x h`` inside it (or the other way
    round: the object inside the detection) have IoU ``(10 + k) / 20``; ``u``, ``h`` and
    the corner are integers or numbers with one decimal. A few detections are shifted by
    one unit (no longer on a threshold) and a few are of another class, so precision
    varies along the ranking.
    """
    rng = np.random.default_rng(seed)
    decimals = 0 if unit_kind == "integer" else 1
    images, annotations, results = [], [], []
    image_id = 0
    for k in range(10):
        for unit in UNITS[unit_kind]:
            for inside in (True, False):
                image_id += 1
                images.append({"id": image_id, "width": 640, "height": 480,
                               "file_name": f"{image_id}.jpg"})  # fmt: skip
                x, y = (round(float(v), decimals) for v in rng.uniform(0, 300, 2))
                h = round(float(rng.uniform(5, 60)), decimals) or 1.0
                big, small = round(20 * unit, 1), round((10 + k) * unit, 1)
                gt_w, dt_w = (big, small) if inside else (small, big)
                category = int(rng.integers(1, 3))
                annotations.append(
                    {"id": len(annotations) + 1, "image_id": image_id,
                     "category_id": category, "bbox": [x, y, gt_w, h],
                     "area": gt_w * h, "iscrowd": 0}
                )  # fmt: skip
                dx = round(float(rng.integers(0, 2)) * unit, 1) if k % 3 == 2 else 0.0
                results.append(
                    {"image_id": image_id, "category_id": category,
                     "bbox": [round(x + dx, 1), y, dt_w, h],
                     "score": round(float(rng.uniform(0.05, 1)), 3)}
                )  # fmt: skip
                if rng.uniform() < 0.3:  # a false positive of the other class
                    results.append(
                        {"image_id": image_id, "category_id": 3 - category,
                         "bbox": [x, y, gt_w, h],
                         "score": round(float(rng.uniform(0.05, 1)), 3)}
                    )  # fmt: skip
    categories = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    return {"images": images, "annotations": annotations,
            "categories": categories}, results  # fmt: skip


def _pycocotools(gt_path: Path, results: list[dict]) -> np.ndarray:
    """COCO's 12 numbers by pycocotools, reading the annotation file itself."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


def _write(tmp_path: Path, gt: dict, results: list[dict]) -> tuple[Path, Path]:
    (tmp_path / "images").mkdir()
    gt_path, results_path = tmp_path / "instances.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps(gt))
    results_path.write_text(json.dumps(results))
    return gt_path, results_path


def _ours(stats: dict) -> np.ndarray:
    return np.array([stats[name] for name in STAT_NAMES])


def _thresholds_reached(gt: dict, results: list[dict]) -> set[float]:
    """The thresholds some pair sits on (in real numbers), to check the case is built
    as intended."""
    boxes = {a["image_id"]: a["bbox"] for a in gt["annotations"]}
    hit = set()
    for r in results:
        g, d = boxes[r["image_id"]], r["bbox"]
        if d[0] == g[0] and d[1] == g[1] and d[3] == g[3]:
            hit.add(round(min(d[2], g[2]) / max(d[2], g[2]), 10))
    return hit


@pytest.mark.parametrize("unit_kind", sorted(UNITS))
def test_a_results_file_on_every_threshold_scores_as_pycocotools(tmp_path, unit_kind):
    gt, results = _on_thresholds(unit_kind)
    assert {round(0.5 + 0.05 * k, 10) for k in range(10)} <= _thresholds_reached(
        gt, results
    )
    gt_path, results_path = _write(tmp_path, gt, results)
    dataset = load_coco(gt_path, tmp_path / "images")
    detections, _ = load_coco_results(str(results_path), dataset)
    ours = _ours(evaluate_coco(dataset, detections).stats)
    reference = _pycocotools(gt_path, results)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-9)


@pytest.mark.parametrize("unit_kind", sorted(UNITS))
def test_a_models_float32_boxes_score_as_the_results_file_they_write(
    tmp_path, unit_kind
):
    """A model's own boxes are float32: the results file written for them holds their
    float64 values, and the page's numbers are pycocotools' on that file and the
    annotation file; the written file re-scores to exactly what is shown."""
    gt, results = _on_thresholds(unit_kind, seed=1)
    gt_path, _ = _write(tmp_path, gt, [])
    dataset = load_coco(gt_path, tmp_path / "images")
    by_image: dict[int, list[dict]] = {}
    for r in results:
        by_image.setdefault(r["image_id"], []).append(r)
    names = dataset.class_names
    detections = {}
    for image_id, rows in by_image.items():
        xyxy = [[r["bbox"][0], r["bbox"][1], r["bbox"][0] + r["bbox"][2],
                 r["bbox"][1] + r["bbox"][3]] for r in rows]  # fmt: skip
        detections[image_id] = Detections(
            np.array(xyxy, np.float32), [r["score"] for r in rows],
            [dataset.category_ids.index(r["category_id"]) for r in rows], names,
        )  # fmt: skip
    report = evaluate_predictions(dataset, detections, "model")
    written = report.write(tmp_path / "out")
    rescored = _pycocotools(gt_path, json.loads(written["results"].read_text()))
    shown = _ours(report.coco.stats)
    np.testing.assert_allclose(shown, rescored, rtol=0, atol=1e-9)
    assert shown.tolist() == rescored.tolist()  # exactly what is shown


def test_the_ground_truth_dict_holds_the_annotation_files_boxes(tmp_path):
    """``coco_ground_truth`` (what pycocotools is given for any dataset) writes a COCO
    file's own ``[x, y, w, h]``, not their float32 rounding."""
    gt, _ = _on_thresholds("one decimal")
    gt_path, _ = _write(tmp_path, gt, [])
    dataset = load_coco(gt_path, tmp_path / "images")
    written = {a["image_id"]: a["bbox"] for a in coco_ground_truth(dataset)["annotations"]}
    for a in gt["annotations"]:
        assert written[a["image_id"]] == a["bbox"]
