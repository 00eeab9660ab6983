"""Command line: ``visioncompare evaluate --dataset voc2012-sample100 ...`` (installed) or
``python -m visioncompare ...`` (from a checkout)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from visioncompare.kernel.paths import file_stem
from visioncompare.services import robustness_cli

os.environ.setdefault("YOLO_AUTOINSTALL", "false")

OPERATOR_DEFAULTS = {
    "VISIONCOMPARE_ALLOW_DOWNLOADS": "1",
    "VISIONCOMPARE_SHOW_SERVER_PATHS": "1",
}
"""The command line's user is the operator: missing weights may be downloaded, and
messages name the server's folders (``model_zoo.operator_settings``), unless the
environment says otherwise. Set only while a command runs, so a process that calls
``main`` (a test, a notebook) keeps its own settings afterwards."""


@contextlib.contextmanager
def operator_defaults():
    added = [name for name in OPERATOR_DEFAULTS if name not in os.environ]
    os.environ.update({name: OPERATOR_DEFAULTS[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


class ProgressBar:
    """One progress line per model on stderr: done/total, rate and time left.

    Redrawn at most ten times a second on a terminal; elsewhere (a log) only at the end.
    """

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.stage: str | None = None
        self.start = 0.0
        self.first = 0
        self.drawn = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.stage, self.start, self.first = stage, now, done
        finished = done >= total
        if not finished and (now - self.drawn < 0.1 or not self.stream.isatty()):
            return
        self.drawn = now
        elapsed = now - self.start
        rate = (
            (done - self.first) / elapsed if elapsed > 0 and done > self.first else 0.0
        )
        left = f"{(total - done) / rate:.0f}s left" if rate else "--"
        filled = int(30 * done / total) if total else 30
        self.stream.write(
            f"\r{stage} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} "
            f"{rate:.1f}/s {left}   " + ("\n" if finished else "")
        )
        self.stream.flush()


def _format(value: float) -> str:
    return "n/a" if value != value or value < 0 else f"{value:.3f}"  # NaN or COCO's -1


def print_summary(report, paths: dict[str, Path]) -> None:
    stats = report.coco.stats
    ms = report.ms_per_image
    point = f"conf {report.conf:g}, IoU {report.iou:.2f}"
    lines = [
        f"dataset     {report.dataset.label}: {len(report.dataset)} images, "
        f"{report.dataset.num_boxes} boxes",
        f"detections  {report.source}"
        + (f" on {report.device}, {ms:.1f} ms/image" if ms else ""),
        *(
            [f"corrupted   {c.title}, seed {c.seed} (each image its own seed)"]
            if (c := report.extras.get("corruption"))
            else []
        ),
        "",
        "| metric | value |",
        "|---|---:|",
        *(f"| {name} | {_format(v)} |" for name, v in stats.items()),
        f"| VOC AP50 (11-point, {report.voc.convention} pixels) | "
        f"{_format(report.voc.map_11pt)} |",
        f"| VOC AP50 (all-point, {report.voc.convention} pixels) | "
        f"{_format(report.voc.map_all)} |",
        f"| precision @ {point} | {_format(report.summary.precision)} |",
        f"| recall @ {point} | {_format(report.summary.recall)} |",
        f"| F1 | {_format(report.summary.f1)} |",
        f"| TP / FP / FN | {report.summary.tp} / {report.summary.fp} / {report.summary.fn} |",
    ]
    if report.dataset.notes:
        lines += ["", *(f"note: {note}" for note in report.dataset.notes)]
    if report.dataset.renamed:
        lines.append("")
        lines.append(
            "classes renamed: "
            + ", ".join(f"{a} -> {b}" for a, b in report.dataset.renamed.items())
        )
    if report.dropped:
        lines.append(
            f"left out: {sum(report.dropped.values())} predicted boxes of classes the "
            f"dataset does not annotate ({', '.join(list(report.dropped)[:8])}"
            f"{', ...' if len(report.dropped) > 8 else ''})"
        )
    table = report.class_table
    never = table.loc[table["status"] == "never predicted: AP 0", "dataset class"]
    if len(never):
        lines.append(
            f"WARNING: {len(never)} dataset classes match no detector class and score "
            f"AP 0: {', '.join(never.tolist()[:8])}{', ...' if len(never) > 8 else ''}"
        )
    errors = report.errors.table()
    lines += [
        "",
        f"TIDE error types at IoU 0.5, {report.errors.rules_label} (dAP50: AP50 gained "
        "by fixing that type only; "
        f"AP50 {_format(report.errors.ap50)}):",
        *(
            f"  {row['error type']:15} {row['count']:7d} boxes  dAP50 {row['dAP50']:5.2f}"
            for _, row in errors.iterrows()
        ),
    ]
    lines += [
        "",
        "why mAP differs (the same predictions scored as other tools score them; "
        "why_differs.csv says who and why):",
        *(
            f"  {row['recipe']:42} {_format(row['value'])}"
            for _, row in report.disagreement.iterrows()
        ),
    ]
    if report.yolo_val is not None:
        lines += [
            "",
            "yolo val walk (from the number yolo val prints to this report's; "
            "why_differs.csv says what each step changes):",
            f"  {'step':48} {'mAP50':>6} {'mAP50-95':>8}",
            *(
                f"  {row['step']:48} {_format(row['mAP50']):>6} "
                f"{_format(row['mAP50-95']):>8}"
                for _, row in report.yolo_val.iterrows()
            ),
        ]
    if report.tagging is not None:
        t = report.tagging
        lines += [
            "",
            f"classifier {report.classifier} as an image-level tagger "
            f"({len(t.per_class)} classes it can name, coverage {t.coverage:.0%}):",
            f"  tagging mAP {_format(t.classifier_map)} vs detector image-level mAP "
            f"{_format(t.detector_map)}",
            f"  cannot name: {', '.join(t.unnameable) or 'none'}",
        ]
    lines += ["", *(f"wrote {path}" for path in paths.values())]
    print("\n".join(lines))


def _fetch(args) -> int:
    from visioncompare.services import fetch

    bar = ProgressBar()
    extra = {"base_url": args.base_url} if args.base_url else {}
    try:
        if args.source == "coco":
            path = fetch.fetch_coco_subset(
                args.dest, args.n, args.seed, progress=bar, **extra
            )
        else:
            path = fetch.fetch_voc2007_test(args.dest, progress=bar, **extra)
    except fetch.FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"ready: python -m visioncompare evaluate --dataset {path} --detector yolov8n-int8"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    with operator_defaults():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    # ``visioncompare`` when run as the installed command, else ``python -m visioncompare``.
    command = Path(sys.argv[0]).name
    prog = "visioncompare" if command == "visioncompare" else "python -m visioncompare"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser(
        "evaluate", help="evaluate a detector (and a classifier) on a dataset"
    )
    ev.add_argument(
        "--dataset", required=True, help="a bundled subset name or a COCO/VOC/YOLO path"
    )
    source = ev.add_argument_group("what to evaluate (several: a leaderboard.csv too)")
    source.add_argument(
        "--detector", action="append", default=[],
        help="a model-zoo detector name (e.g. yolov8n-int8); repeatable",
    )  # fmt: skip
    source.add_argument(
        "--predictions", action="append", default=[],
        help="a COCO results JSON made by any tool; repeatable",
    )  # fmt: skip
    source.add_argument(
        "--classifier", action="append", default=[],
        help="a model-zoo classifier to score as an image tagger; repeatable (several: "
        "their rows in leaderboard.csv)",
    )  # fmt: skip
    ev.add_argument("--device", default="auto")
    ev.add_argument(
        "--yolo-val", action="store_true",
        help="also run Ultralytics' own validator (yolo val) on a YOLO copy of the "
        "dataset and walk from its number to this report's (Ultralytics detectors)",
    )  # fmt: skip
    ev.add_argument(
        "--kitti-difficulty", choices=["easy", "moderate", "hard"],
        help="KITTI: score one official level; boxes outside it are ignore regions",
    )  # fmt: skip
    ev.add_argument(
        "--conf", type=float, help="operating-point confidence (default 0.25)"
    )
    ev.add_argument(
        "--iou", type=float,
        help="operating-point IoU, snapped to 0.50:0.05:0.95 (default 0.5)",
    )  # fmt: skip
    ev.add_argument(
        "--out", type=Path, help="output folder (default runs/<dataset>/<source>)"
    )
    ev.add_argument(
        "--engine", choices=["local", "ray"], default="local",
        help="where predictions are made: this process, or a Ray Data actor pool "
        "(pip install -r requirements-ray.txt); both store under the same keys",
    )  # fmt: skip
    ev.add_argument(
        "--address",
        help="Ray cluster address (default $RAY_ADDRESS, else a local cluster)",
    )
    ev.add_argument(
        "--actors", type=int, default=2, help="Ray: actors in the pool (default 2)"
    )
    ev.add_argument(
        "--cpus-per-actor", type=float, default=1.0, help="Ray: CPUs per actor"
    )
    ev.add_argument(
        "--gpus-per-actor", type=float, default=0.0,
        help="Ray: GPUs per actor (above 0: the model runs on cuda)",
    )  # fmt: skip
    robustness_cli.add_cell_arguments(ev)
    robustness_cli.add_parser(sub)
    fetch = sub.add_parser(
        "fetch", help="download an evaluation subset (needs the internet)"
    )
    fetch.add_argument("source", choices=["coco", "voc2007-test"])
    fetch.add_argument("--dest", type=Path, required=True, help="the folder to fill")
    fetch.add_argument("--n", type=int, default=100, help="COCO: how many images")
    fetch.add_argument("--seed", type=int, default=0, help="COCO: which images")
    fetch.add_argument("--base-url", help="a mirror of the official server")
    sub.add_parser("datasets", help="list the bundled datasets")
    sub.add_parser("models", help="list the model zoo")
    args = parser.parse_args(argv)
    if args.command == "evaluate" and not (args.detector or args.predictions):
        ev.error("give a --detector or a --predictions file (or several)")
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )

    from visioncompare.datasets.registry import BUNDLED

    if args.command == "datasets":
        for name, text in BUNDLED.items():
            print(f"{name:24} {text}")
        return 0
    if args.command == "fetch":
        return _fetch(args)
    from model_zoo import WeightsNotFoundError, list_models

    if args.command == "models":
        for spec in list_models():
            print(f"{spec.name:26} {spec.task.value:9} {spec.title}")
        return 0
    if args.command == "robustness":
        return robustness_cli.run(args, ProgressBar())

    from visioncompare.evaluation.metrics.cocoeval import EvalParams
    from visioncompare.services.cli_errors import expected_errors, report_failure
    from visioncompare.services.engines.ray import RayOptions
    from visioncompare.services.evaluation_run import (
        open_dataset,
        run_evaluation,
        runs_dir,
    )
    from visioncompare.services.leaderboard_cli import print_leaderboard
    from visioncompare.services.model_review import score_classifiers

    params = EvalParams()
    params = params.with_thresholds(
        params.conf if args.conf is None else args.conf,
        params.iou if args.iou is None else args.iou,
    )
    ray_options = RayOptions(
        address=args.address, actors=args.actors, cpus_per_actor=args.cpus_per_actor,
        gpus_per_actor=args.gpus_per_actor,
    )  # fmt: skip
    # One source and one classifier: the classifier goes with the report (its summary
    # and tagging CSV). Otherwise the classifiers are scored after the reports against
    # the first, each a leaderboard row (one without weights: a row marked unavailable).
    alone = len(args.detector) + len(args.predictions) == 1 and len(args.classifier) == 1
    classifier = args.classifier[0] if alone else None
    scores, no_weights = [], []

    try:
        corruption = robustness_cli.cell(args)
        dataset = open_dataset(args.dataset)
        if args.kitti_difficulty:
            from visioncompare.datasets.kitti import at_difficulty

            dataset = at_difficulty(dataset, args.kitti_difficulty)
        if args.yolo_val:
            from visioncompare.services.yolo_val import unavailable as no_yolo_val

            for detector in args.detector or [None]:
                reason = no_yolo_val(dataset, detector)
                if reason is not None:
                    raise ValueError(f"--yolo-val cannot run: {reason}")
        sources = [*((d, None) for d in args.detector),
                   *((None, p) for p in args.predictions)]  # fmt: skip
        reports, labels, unavailable = [], [], []
        for detector, predictions in sources:
            try:
                report = run_evaluation(
                    dataset, detector=detector, predictions=predictions,
                    classifier=classifier, device=args.device,
                    params=params, progress=ProgressBar(), engine=args.engine,
                    ray_options=ray_options, corruption=corruption,
                    warm=False,  # one operating point is read: no lookups made ahead
                )  # fmt: skip
            except WeightsNotFoundError:
                if len(sources) == 1:
                    raise
                unavailable.append(detector)  # listed as such, never random weights
                continue
            label = detector or Path(predictions).stem
            labels.append(label if label not in labels else f"{label}-{len(labels)}")
            reports.append(report)
        if reports and classifier is None and args.classifier:
            scores, no_weights = score_classifiers(
                dataset, args.classifier, reports[0].aligned.predictions,
                device=args.device, engine=args.engine, ray_options=ray_options,
                progress=ProgressBar(), conf=params.conf, corruption=corruption,
            )  # fmt: skip
    except expected_errors() as exc:
        return report_failure(exc)
    if not reports:
        print(f"error: no weights on this machine for {', '.join(unavailable)}",
              file=sys.stderr)  # fmt: skip
        return 2
    folder = f"{dataset.name}-{dataset.scored_as}" if dataset.scored_as else dataset.name
    failed = None
    if args.yolo_val:
        from model_zoo.device import DeviceError
        from visioncompare.services.yolo_val import YoloValUnavailable, run_yolo_val

        for n, report in enumerate(reports):
            if report.detector_run is None:
                continue  # a predictions file: no model for yolo val to run
            try:
                reports[n] = report.with_yolo_val(run_yolo_val(report, args.device))
            except (YoloValUnavailable, WeightsNotFoundError, DeviceError) as exc:
                failed = f"--yolo-val cannot run: {exc}"
    if len(sources) == 1 and not args.classifier[1:]:
        label = labels[0]
        out = args.out or runs_dir() / folder / file_stem(label)
        if corruption is not None and args.out is None:
            out = out / corruption.tag
        print_summary(reports[0], reports[0].write(out))
        code = 0
    else:
        root = args.out or runs_dir() / folder
        for label, report in zip(labels, reports):
            out = root / file_stem(label)
            if corruption is not None and args.out is None:
                out = out / corruption.tag
            print_summary(report, report.write(out))
            print()
        code = print_leaderboard(
            reports, unavailable, dataset, args.device, root, scores, no_weights
        )
    if failed:
        print(f"error: {failed}", file=sys.stderr)
        return 2
    return code
