"""The metrics report: a dataset and its stored predictions -> one evaluation -> every view.

``evaluate_predictions`` computes it from predictions alone (no model, no engine, no
store); ``visioncompare.services.evaluation_run.run_evaluation`` fills the store through
an engine and then calls it. The Evaluate page and the command line both read the
``EvaluationReport`` it returns.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from visioncompare.datasets import Dataset
from visioncompare.evaluation.label_issues import (
    CleanlabInputs,
    LabelIssues,
    cleanlab_inputs,
    find_label_issues,
)
from visioncompare.evaluation.metrics.align import (
    Aligned,
    align_predictions,
    class_table,
)
from visioncompare.evaluation.metrics.coco import (
    CocoResult,
    coco_result,
    coco_results,
    coco_results_json,
)
from visioncompare.evaluation.metrics.cocoeval import EvalParams, Evaluation, evaluate
from visioncompare.evaluation.metrics.disagreement import why_map_differs
from visioncompare.evaluation.metrics.error_types import ErrorAnalysis, analyse_errors
from visioncompare.evaluation.metrics.explorer import Explorer
from visioncompare.evaluation.metrics.matching import Summary
from visioncompare.evaluation.metrics.per_image import per_image_scores
from visioncompare.evaluation.metrics.tagging import TaggingResult
from visioncompare.evaluation.metrics.voc import VocResult, evaluate_voc
from visioncompare.evaluation.metrics.yolo_val_walk import walk_as_recipes
from visioncompare.evaluation.prediction_runs import StoredRun
from visioncompare.kernel.gc_pause import collection_paused
from visioncompare.kernel.types import Detections


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Everything one evaluation computed; the CLI, the page and every tab read it.

    Predictions are aligned to the dataset's classes once, evaluated once with one
    ``EvalParams`` (every threshold), and each view is read from that evaluation.
    """

    dataset: Dataset
    source: str
    """The detector's registry name, or the predictions file."""
    detections: dict[int, Detections]
    aligned: Aligned
    params: EvalParams
    evaluation: Evaluation
    coco: CocoResult
    voc: VocResult
    explorer: Explorer
    detector_run: StoredRun | None = None
    tagging: TaggingResult | None = None
    classifier: str | None = None
    classifier_run: StoredRun | None = None
    device: str = "cpu"
    skipped: dict[str, int] = field(default_factory=dict)
    """Entries of a predictions file left out (category not in the dataset, ...)."""
    extras: dict = field(default_factory=dict)
    yolo_val: pd.DataFrame | None = None
    """The walk from ``yolo val``'s number to this report's, when it was run
    (``visioncompare.services.yolo_val``; ``with_yolo_val``)."""

    def with_yolo_val(self, walk: pd.DataFrame) -> EvaluationReport:
        """This report with the ``yolo val`` walk, which its files then include."""
        return replace(self, yolo_val=walk)

    @property
    def class_table(self) -> pd.DataFrame:
        """The detector's classes matched, renamed and unmatched against the dataset's
        (``visioncompare.evaluation.metrics.align.class_table``); a predictions file
        names the dataset's."""
        names = (
            self.detector_run.meta.get("class_names", self.dataset.class_names)
            if self.detector_run is not None
            else self.dataset.class_names
        )
        return class_table(tuple(names), self.dataset)

    @property
    def conf(self) -> float:
        return self.params.conf

    @property
    def iou(self) -> float:
        return self.params.iou

    @property
    def dropped(self) -> dict[str, int]:
        """Boxes left out per class the dataset does not annotate."""
        return {**self.aligned.dropped, **self.skipped}

    @property
    def summary(self) -> Summary:
        """TP / FP / FN, precision, recall, F1 at the report's operating point."""
        return self.explorer.summary(self.params.conf, self.params.iou)

    @cached_property
    def disagreement(self) -> pd.DataFrame:
        """The "why mAP differs" rows, read from this evaluation."""
        return why_map_differs(
            self.dataset, self.aligned.predictions, self.evaluation, self.voc
        )

    @cached_property
    def errors(self) -> ErrorAnalysis:
        """TIDE error types and their dAP at IoU 0.5
        (``visioncompare.evaluation.metrics.error_types``)."""
        return analyse_errors(self.evaluation, self.dataset.class_names)

    @cached_property
    def label_issue_inputs(self) -> CleanlabInputs:
        """The dataset's boxes and these predictions as cleanlab's inputs, converted
        once (``visioncompare.evaluation.label_issues``)."""
        return cleanlab_inputs(self.dataset, self.aligned.predictions)

    def label_issues(self, **confidences: float) -> LabelIssues:
        """Possible label errors suggested by these predictions (ObjectLab); keywords:
        ``high_confidence``, ``low_confidence`` (default: cleanlab's 0.95 and 0.5)."""
        return find_label_issues(
            self.label_issue_inputs, **confidences, source=self.source
        )

    def errors_under(self, rules: str) -> ErrorAnalysis:
        """The error types under COCO's rules (``errors``) or tidecv's, each computed once
        and kept with the report (it reads the report's evaluation, and goes with it)."""
        if rules == "coco":
            return self.errors
        kept = self.__dict__.setdefault("_errors_under", {})
        if rules not in kept:
            order = [s.image_id for s in self.dataset.samples]
            kept[rules] = analyse_errors(
                self.evaluation,
                self.dataset.class_names,
                rules=rules,
                image_order=order,
            )
        return kept[rules]

    def per_image(
        self,
        conf: float | None = None,
        iou: float | None = None,
        class_name: str | None = None,
        area: str = "all",
    ) -> pd.DataFrame:
        """Per-image TP / FP / FN, F1 at ``conf`` and AP at ``iou`` (default: the report's
        operating point), with the image's file name
        (``visioncompare.evaluation.metrics.per_image``)."""
        frame = per_image_scores(
            self.evaluation,
            self.params.conf if conf is None else conf,
            self.params.iou if iou is None else iou,
            None if class_name is None else self.dataset.class_names.index(class_name),
            area,
        )
        names = {s.image_id: s.name for s in self.dataset.samples}
        frame.insert(1, "image", [names[i] for i in frame["image_id"]])
        return frame

    @property
    def ms_per_image(self) -> float | None:
        run = self.detector_run
        if run is None or not run.meta.get("timed_images"):
            return None
        return 1000.0 * run.meta["model_seconds"] / run.meta["timed_images"]

    def metrics_dict(self) -> dict:
        """The JSON-ready summary written to metrics.json."""
        out = {
            "dataset": self.dataset.name,
            **({"scored_as": self.dataset.scored_as} if self.dataset.scored_as else {}),
            "notes": list(self.dataset.notes),
            "images": len(self.dataset),
            "boxes": self.dataset.num_boxes,
            "source": self.source,
            "coco": self.coco.stats,
            "voc": {
                "mAP_11pt": self.voc.map_11pt,
                "mAP_all": self.voc.map_all,
                "iou": self.params.voc_iou,
                "pixel_convention": self.voc.convention,
            },
            "at_threshold": {
                "conf": self.conf,
                "iou": self.iou,
                **asdict(self.summary),
            },
            "classes_renamed": self.dataset.renamed,
            "predictions_dropped_by_class": self.dropped,
            "device": self.device,
            "ms_per_image": self.ms_per_image,
            "why_map_differs": self.disagreement.to_dict(orient="records"),
        }
        if self.yolo_val is not None:
            out["yolo_val_walk"] = self.yolo_val.to_dict(orient="records")
        if self.detector_run is not None:
            out["detector_run"] = {
                "key": self.detector_run.key,
                **self.detector_run.meta,
            }
            out["detector_run"].pop("class_names", None)
        if self.tagging is not None:
            out["classifier"] = {
                "name": self.classifier,
                "tagging_mAP": self.tagging.classifier_map,
                "detector_tagging_mAP": self.tagging.detector_map,
                "top_k": self.tagging.k,
                "coverage": self.tagging.coverage,
                "unnameable_classes": list(self.tagging.unnameable),
            }
        return out

    def per_class_frame(self):
        frame = self.coco.per_class.merge(
            self.voc.per_class[["class", "AP_11pt", "AP_all"]], on="class", how="left"
        )
        return frame.rename(columns={"AP_11pt": "VOC_AP_11pt", "AP_all": "VOC_AP_all"})

    def coco_results(self) -> list[dict]:
        """The evaluated predictions as a COCO results list; it re-scores (pycocotools)
        to exactly ``coco.stats``."""
        return coco_results(self.aligned.predictions, self.dataset)

    @collection_paused()  # 500,000 results become dicts: no cycles to look for
    def write(self, out_dir: Path) -> dict[str, Path]:
        """COCO results JSON, metrics JSON, per-class, error-type, per-image, "why mAP
        differs" and possible-label-error CSVs into ``out_dir`` (the ``yolo val`` walk, when
        run, in the "why" CSV and in metrics JSON)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {
            "results": out_dir / "coco_results.json",
            "metrics": out_dir / "metrics.json",
            "per_class": out_dir / "per_class.csv",
        }
        paths["results"].write_bytes(
            coco_results_json(self.aligned.predictions, self.dataset)
        )  # json.dumps(self.coco_results()), made faster
        paths["metrics"].write_text(
            json.dumps(self.metrics_dict(), indent=2, default=_json)
        )
        self.per_class_frame().to_csv(paths["per_class"], index=False)
        paths["error_types"] = out_dir / "error_types.csv"
        self.errors.table().to_csv(paths["error_types"], index=False)
        paths["per_image"] = out_dir / "per_image.csv"
        self.per_image().to_csv(paths["per_image"], index=False)
        paths["why_differs"] = out_dir / "why_differs.csv"
        why = self.disagreement
        if self.yolo_val is not None:
            why = pd.concat([why, walk_as_recipes(self.yolo_val)], ignore_index=True)
        why.to_csv(paths["why_differs"], index=False)
        paths["label_issues"] = out_dir / "label_issues.csv"
        self.label_issues().to_frame().to_csv(paths["label_issues"], index=False)
        if self.tagging is not None:
            paths["tagging"] = out_dir / "classifier_tagging.csv"
            self.tagging.per_class.to_csv(paths["tagging"], index=False)
        return paths


def _json(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)


@collection_paused()  # many small arrays and lists, no cycles among them
def evaluate_predictions(
    dataset: Dataset,
    detections: dict[int, Detections],
    source: str,
    params: EvalParams | None = None,
    aligned: Aligned | None = None,
    warm: bool = True,
    **extra,
) -> EvaluationReport:
    """Every detection metric from stored predictions (no model involved): aligned once,
    evaluated once, every view read from that evaluation. ``warm``: compute now what
    the explorer's threshold changes read (the page); False leaves it to the first
    change (the command line reads one operating point)."""
    params = params or EvalParams()
    aligned = aligned or align_predictions(detections, dataset)
    evaluation = evaluate(dataset, aligned.predictions, params)
    explorer = Explorer(evaluation, dataset.class_names)
    if warm:
        explorer.warm()
    return EvaluationReport(
        dataset=dataset,
        source=source,
        detections=detections,
        aligned=aligned,
        params=params,
        evaluation=evaluation,
        coco=coco_result(evaluation, dataset),
        voc=evaluate_voc(dataset, aligned.predictions, params.voc_iou),
        explorer=explorer,
        **extra,
    )
