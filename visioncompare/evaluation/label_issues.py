"""Possible label errors: a dataset's boxes checked against a model's stored predictions.

The dataset and the predictions are converted once to cleanlab's object-detection inputs
(``cleanlab_inputs``), then scored with ObjectLab (``visioncompare.evaluation.objectlab``,
equal to ``cleanlab.object_detection``): each image gets a label quality score, and each
box whose own score falls below its class's threshold is flagged as one of three kinds.
A flagged box is a candidate for a person to check, not a verdict: the model's own
mistakes look the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

import numpy as np
import pandas as pd

from visioncompare.datasets.types import Dataset
from visioncompare.evaluation import objectlab
from visioncompare.kernel.boxes import box_ioa
from visioncompare.kernel.draw import BoxStyle, annotate
from visioncompare.kernel.types import Detections


class IssueKind(str, Enum):
    """What a flagged box suggests (cleanlab's subtype in brackets)."""

    MISSING = "missing box"
    """A confident predicted box that no label box touches (overlooked)."""
    SWAPPED = "swapped class"
    """A label box where a confident box of another class sits (swap)."""
    BADLY_PLACED = "badly placed box"
    """A label box that the same class's best overlapping box covers poorly (badloc)."""


@dataclass(frozen=True, eq=False)
class CleanlabInputs:
    """cleanlab.object_detection's inputs for one dataset and one model's predictions.

    Attributes:
        labels: per image ``{"bboxes": (L, 4) float64 xyxy absolute pixels, "labels":
            (L,) int64 dataset class indices, "image_name": str}``.
        predictions: per image K arrays, one per dataset class, each (M_k, 5) float64
            ``[x1, y1, x2, y2, score]``.
        image_ids: the dataset's image id of each entry.
        class_names: the dataset's classes (K).
        left_out: what the conversion left out, with counts: crowd (ignore) label
            boxes, and predicted boxes lying mostly inside one.
    """

    labels: list[dict]
    predictions: list[list[np.ndarray]]
    image_ids: tuple[int, ...]
    class_names: tuple[str, ...]
    left_out: dict[str, int] = field(default_factory=dict)

    @cached_property
    def boxes(self) -> list[objectlab.ImageBoxes]:
        """Every image's label and predicted boxes compared, once (no confidence)."""
        return [
            objectlab.image_boxes(label, prediction)
            for label, prediction in zip(self.labels, self.predictions)
        ]

    @cached_property
    def class_thresholds(self) -> np.ndarray:
        """(K,) each class's flagging threshold, once (``objectlab.class_thresholds``)."""
        return objectlab.class_thresholds(self.labels, self.predictions)


def cleanlab_inputs(
    dataset: Dataset, predictions: dict[int, Detections]
) -> CleanlabInputs:
    """Convert a dataset and predictions aligned to its classes to cleanlab's inputs.

    Crowd regions (``iscrowd``) are not objects, so they are not labels; predicted
    boxes lying mostly (IoA >= 0.5) inside one are left out with them, as COCO's
    evaluation ignores them.

    Args:
        dataset: the annotated images.
        predictions: image id -> detections whose ``class_ids`` index
            ``dataset.class_names`` (``EvaluationReport.aligned.predictions``); images
            without an entry have no predictions.
    """
    k = len(dataset.class_names)
    labels, per_class, crowd_boxes, crowd_predictions = [], [], 0, 0
    for sample in dataset.samples:
        gt = sample.gt
        crowd = gt.extra.get("iscrowd", np.zeros(len(gt), np.int64)) > 0
        labels.append(
            {
                "bboxes": gt.xyxy[~crowd].astype(np.float64).reshape(-1, 4),
                "labels": gt.class_ids[~crowd].astype(np.int64),
                "image_name": sample.name,
            }
        )
        found = predictions.get(sample.image_id) or Detections.empty(
            dataset.class_names
        )
        if crowd.any() and len(found):
            inside = box_ioa(found.xyxy, gt.xyxy[crowd]).max(axis=1) >= 0.5
            crowd_predictions += int(inside.sum())
            found = found[~inside]
        crowd_boxes += int(crowd.sum())
        order = np.argsort(found.class_ids, kind="stable")  # keeps each class's order
        rows = np.column_stack([found.xyxy, found.scores]).astype(np.float64)[order]
        splits = np.searchsorted(found.class_ids[order], np.arange(1, k))
        per_class.append(np.split(rows.reshape(-1, 5), splits))
    left_out = {
        "crowd label boxes": crowd_boxes,
        "predicted boxes inside crowd regions": crowd_predictions,
    }
    return CleanlabInputs(
        labels, per_class, tuple(s.image_id for s in dataset.samples),
        tuple(dataset.class_names), {n: c for n, c in left_out.items() if c},
    )  # fmt: skip


BOX_COLUMNS = [
    "image_id", "image", "kind", "class", "model class", "model score", "box score",
    "threshold", "x1", "y1", "x2", "y2", "model x1", "model y1", "model x2", "model y2",
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class LabelIssues:
    """ObjectLab's verdicts on one dataset's labels, from one model's predictions.

    Attributes:
        images: one row per image, lowest label quality first: ``image_id``, ``image``,
            ``label quality`` (0-1, low: suspicious), ``flagged`` (any box flagged),
            ``issues`` (flagged boxes), ``kinds`` (their kinds, comma-separated), and
            the pooled ``missing``, ``swapped`` and ``badly placed`` scores.
        boxes: one row per flagged box (``BOX_COLUMNS``): its kind, the label box
            (for a missing box: the model's box) and the model's box that suggests it,
            xyxy absolute pixels; ``class`` is the label's class (for a missing box: the
            model's), ``box score`` its ObjectLab score and ``threshold`` its class's.
        high_confidence: the score a predicted box needed to suggest a missing box or
            a swapped class.
        low_confidence: the score a predicted box needed to suggest a badly placed one.
        source: the model or predictions file whose boxes were used.
    """

    images: pd.DataFrame
    boxes: pd.DataFrame
    high_confidence: float
    low_confidence: float
    source: str = ""

    def table(
        self, kinds: list[str] | None = None, classes: list[str] | None = None
    ) -> pd.DataFrame:
        """The images with a flagged box of these kinds and classes (None: any), lowest
        label quality first, with the count of such boxes."""
        boxes = self.boxes
        if kinds is not None:
            boxes = boxes[boxes["kind"].isin(kinds)]
        if classes is not None:
            boxes = boxes[
                boxes["class"].isin(classes) | boxes["model class"].isin(classes)
            ]
        counts = boxes.groupby("image_id").size().rename("matching issues")
        frame = self.images.merge(counts, left_on="image_id", right_index=True)
        return frame.reset_index(drop=True)

    def boxes_of(self, image_id: int) -> pd.DataFrame:
        """The flagged boxes of one image."""
        return self.boxes[self.boxes["image_id"] == image_id].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """``label_issues.csv``: every flagged box with its image's label quality, the
        lowest first."""
        quality = self.images.set_index("image_id")["label quality"]
        frame = self.boxes.copy()
        frame.insert(2, "label quality", frame["image_id"].map(quality))
        return frame.sort_values(["label quality", "box score"], kind="stable")


def find_label_issues(
    inputs: CleanlabInputs,
    high_confidence: float = objectlab.HIGH_PROBABILITY_THRESHOLD,
    low_confidence: float = objectlab.LOW_PROBABILITY_THRESHOLD,
    source: str = "",
) -> LabelIssues:
    """Score every image's labels and flag the suspicious boxes (ObjectLab).

    With the default confidences the label quality equals cleanlab's
    ``get_label_quality_scores`` and the flagged images its ``find_label_issues``.

    Args:
        inputs: ``cleanlab_inputs(dataset, predictions)``.
        high_confidence: the score at or above which a predicted box can suggest a
            missing box or a swapped class (cleanlab: 0.95; a model whose scores never
            reach it suggests neither).
        low_confidence: the score above which it can suggest a badly placed box.
        source: the model or predictions file, for the tables.
    """
    images, thresholds = inputs.boxes, inputs.class_thresholds  # kept: a new
    # confidence only scores the boxes again
    scores = objectlab.box_scores(images, high_confidence, low_confidence)
    flags = objectlab.flagged_boxes(scores, images, thresholds)
    names = inputs.class_names
    rows = []
    for n, im in enumerate(images):
        image_id, image = inputs.image_ids[n], inputs.labels[n].get("image_name", "")
        for j in np.flatnonzero(flags[0][n]):
            box = im.pred_bboxes[j].tolist()
            rows.append([image_id, image, IssueKind.MISSING.value, names[im.pred_labels[j]],
                         names[im.pred_labels[j]], im.pred_probs[j], scores.overlooked[n][j],
                         thresholds[im.pred_labels[j]], *box, *box])  # fmt: skip
        for kind, flagged, values, by in (
            (IssueKind.SWAPPED, flags[1][n], scores.swap[n], scores.swap_by[n]),
            (
                IssueKind.BADLY_PLACED,
                flags[2][n],
                scores.badloc[n],
                scores.badloc_by[n],
            ),
        ):
            for i in np.flatnonzero(flagged):
                j = int(by[i])
                model = im.pred_bboxes[j].tolist() if j >= 0 else [np.nan] * 4
                rows.append([image_id, image, kind.value, names[im.lab_labels[i]],
                             names[im.pred_labels[j]] if j >= 0 else "",
                             im.pred_probs[j] if j >= 0 else np.nan, values[i],
                             thresholds[im.lab_labels[i]], *im.lab_bboxes[i].tolist(),
                             *model])  # fmt: skip
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS).astype(
        {"model score": float, "box score": float, "threshold": float}
    )
    quality = objectlab.label_quality(scores)
    per_image = boxes.groupby("image_id")
    kinds = per_image["kind"].agg(lambda k: ", ".join(dict.fromkeys(k)))
    frame = pd.DataFrame(
        {
            "image_id": list(inputs.image_ids),
            "image": [lab.get("image_name", "") for lab in inputs.labels],
            "label quality": quality,
            "missing": objectlab.pooled(scores.overlooked),
            "swapped": objectlab.pooled(scores.swap),
            "badly placed": objectlab.pooled(scores.badloc),
        }
    )
    frame.insert(
        3, "issues", frame["image_id"].map(per_image.size()).fillna(0).astype(int)
    )
    frame.insert(3, "flagged", frame["issues"] > 0)
    frame.insert(5, "kinds", frame["image_id"].map(kinds).fillna(""))
    frame = frame.sort_values("label quality", kind="stable").reset_index(drop=True)
    return LabelIssues(frame, boxes, high_confidence, low_confidence, source)


LABEL_STYLE = BoxStyle(color=(230, 0, 200))
"""The suspected label box: magenta, solid."""
MODEL_STYLE = BoxStyle(color=(0, 170, 230), dashed=True)
"""The model's box that suggests the issue: blue, dashed."""
OTHER_LABELS = BoxStyle(color=(160, 160, 160))
"""The image's other label boxes: grey."""


def draw_label_issues(
    image: np.ndarray, gt: Detections, boxes: pd.DataFrame
) -> np.ndarray:
    """One image with its flagged boxes (``LabelIssues.boxes_of``).

    The image's label boxes are grey; a suspected label box is magenta, labelled with
    its class and kind; the model's box that suggests it is dashed blue, labelled with
    the model's class and score (a missing box is the model's box alone).

    Args:
        image: (H, W, 3) uint8 RGB.
        gt: the image's ground truth (absolute-pixel xyxy).
        boxes: the image's flagged boxes.
    """
    label_corners = ["x1", "y1", "x2", "y2"]
    model_corners = ["model x1", "model y1", "model x2", "model y2"]
    out = annotate(image, gt, [""] * len(gt), OTHER_LABELS)
    labelled = boxes[boxes["kind"] != IssueKind.MISSING.value]
    modelled = boxes.dropna(subset=model_corners)
    for rows, corners, style, text in (
        (modelled, model_corners, MODEL_STYLE,
         [f"model: {c} {s:.2f}" for c, s in zip(modelled["model class"],
                                                modelled["model score"])]),
        (labelled, label_corners, LABEL_STYLE,
         [f"label: {c} ({k})" for c, k in zip(labelled["class"], labelled["kind"])]),
    ):  # fmt: skip
        if len(rows):
            det = Detections(
                rows[corners].to_numpy(np.float32),
                np.ones(len(rows), np.float32),
                np.zeros(len(rows), np.int64),
            )
            out = annotate(out, det, text, style)
    return out
