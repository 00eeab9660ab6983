"""Why mAP numbers differ between tools: one set of predictions, five common recipes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.datasets.types import Dataset
from core.metrics.coco import evaluate_coco
from core.metrics.voc import evaluate_voc
from core.types import Detections


def why_map_differs(
    dataset: Dataset, predictions: Mapping[int, Detections], cut: float = 0.25
) -> pd.DataFrame:
    """The same predictions scored the ways popular tools score them.

    Returns:
        One row per recipe: ``recipe``, ``value`` and ``cause`` (one sentence).
    """
    coco = evaluate_coco(dataset, predictions)
    coco_300 = evaluate_coco(dataset, predictions, max_dets=(1, 10, 300))
    voc = evaluate_voc(dataset, predictions)
    cut_predictions = {i: d[d.scores >= cut] for i, d in predictions.items()}
    coco_cut = evaluate_coco(dataset, cut_predictions)
    rows = [
        ("COCO AP50 (101-point)", coco.stats["AP50"],
         "Interpolated precision sampled at 101 recall points, mean over classes; crowd "
         "regions ignored, difficult objects left out."),
        ("VOC AP50 (11-point, VOC2007)", voc.map_11pt,
         "Only 11 recall points (0, 0.1, ... 1): coarse steps can move AP either way; "
         "difficult objects ignored, IoU must exceed 0.5."),
        ("VOC AP50 (all-point, VOC2010+)", voc.map_all,
         "Exact area under the interpolated curve at every recall change."),
        (f"COCO AP50 with a {cut} confidence cut", coco_cut.stats["AP50"],
         "Many tools keep only confident boxes (a display default): the curve stops early, "
         "recall is capped and AP drops."),
        ("COCO AP50-95, maxDets 100", coco.stats["AP"],
         "The COCO standard: at most 100 boxes per image, averaged over IoU 0.50:0.95."),
        ("COCO AP50-95, maxDets 300", coco_300.stats["AP"],
         "Some validators keep 300 boxes per image: more low-score boxes can add recall "
         "in crowded images."),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["recipe", "value", "cause"])
    frame["value"] = frame["value"].astype(np.float64)
    return frame
