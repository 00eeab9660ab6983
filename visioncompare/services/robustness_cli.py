"""The command line's robustness parts: ``evaluate --corruption NAME --severity S`` (one
cell, the ordinary report on corrupted images) and ``robustness`` (the grid, written to
``robustness.csv``).

Imports of the evaluation flow happen inside ``run``, so ``--help`` stays quick.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from visioncompare.kernel.paths import file_stem

CORRUPTION_HELP = (
    "gaussian_noise, shot_noise, impulse_noise, defocus_blur, glass_blur, motion_blur, "
    "zoom_blur, snow, frost, fog, brightness, contrast, elastic_transform, pixelate, "
    "jpeg_compression"
)


def add_cell_arguments(parser: argparse.ArgumentParser) -> None:
    """``evaluate``'s options for one corrupted cell."""
    parser.add_argument(
        "--corruption", metavar="NAME",
        help=f"corrupt every image first (ImageNet-C): {CORRUPTION_HELP}",
    )  # fmt: skip
    parser.add_argument(
        "--severity", type=int, choices=range(1, 6), metavar="S",
        help="the corruption's severity, 1 (mild) to 5 (strong)",
    )  # fmt: skip
    parser.add_argument(
        "--corruption-seed", type=int, default=0, metavar="SEED",
        help="the run seed; each image's seed is derived from it and its pixels "
        "(default 0)",
    )  # fmt: skip


def cell(args: argparse.Namespace):
    """The ``Corruption`` that ``evaluate``'s options name (None: clean images).

    Raises:
        CorruptionError: a severity without a corruption or the other way round, or an
            unknown name.
    """
    from visioncompare.robustness.corruptions import Corruption, CorruptionError

    if args.corruption is None and args.severity is None:
        return None
    if args.corruption is None or args.severity is None:
        raise CorruptionError("--corruption and --severity go together")
    return Corruption(args.corruption, args.severity, args.corruption_seed)


def add_parser(sub) -> None:
    """The ``robustness`` command."""
    parser = sub.add_parser(
        "robustness",
        help="a detector (and a classifier) under corruptions and severities, "
        "to robustness.csv",
        description="Every chosen corruption at every chosen severity, and the clean "
        "images: the detector's COCO AP50-95 and AP50, the classifier's image-level "
        "tagging mAP, mPC and rPC (Michaelis et al. 2019). Predictions are stored per "
        "cell: a second run reads them back, a stopped one goes on.",
    )
    parser.add_argument("--dataset", required=True, help="a bundled subset or a path")
    parser.add_argument("--detector", required=True, help="a model-zoo detector")
    parser.add_argument("--classifier", help="a model-zoo classifier (image tagger)")
    parser.add_argument(
        "--corruptions", default="all",
        help=f"comma-separated names, families (noise, blur, weather, digital) or all "
        f"(default): {CORRUPTION_HELP}",
    )  # fmt: skip
    parser.add_argument(
        "--severities", default="1-5", help="e.g. 1,3,5 or 2-4 (default 1-5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the run seed (default 0)")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--out", type=Path,
        help="output folder (default runs/<dataset>/<detector>/robustness)",
    )  # fmt: skip
    parser.add_argument(
        "--engine", choices=["local", "ray"], default="local",
        help="where predictions are made (as evaluate's --engine)",
    )  # fmt: skip
    parser.add_argument("--address", help="Ray cluster address")
    parser.add_argument("--actors", type=int, default=2, help="Ray: actors in the pool")


def _format(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def summary_lines(result) -> list[str]:
    """What the command prints: mPC and rPC per model, and the corruptions that cost
    each model most."""
    grid = result.grid
    lines = [
        f"dataset     {result.dataset}: {len(grid.corruptions)} corruptions x "
        f"{len(grid.severities)} severities, seed {grid.seed}"
        + ("" if grid.full else " (not the full 15 x 5 grid: mPC is over these cells)"),
        f"time        {result.seconds:.0f} s ({result.predicted} cells predicted, "
        "the others read back from the store)",
        "",
        "| model | metric | clean | mPC | rPC |",
        "|---|---|---:|---:|---:|",
    ]
    for _, row in result.summary.iterrows():
        lines.append(
            f"| {row['model']} | {row['metric']} | {_format(row['clean'])} | "
            f"{_format(row['mPC'])} | {_format(row['rPC'])} |"
        )
    for model, ranked in result.ranking.groupby("model", sort=False):
        worst = ", ".join(
            f"{r['corruption']} (-{r['loss']:.3f})"
            for _, r in ranked.head(3).iterrows()
        )
        lines.append(f"{model} loses most under: {worst}")
    return lines


def run(args: argparse.Namespace, progress) -> int:
    """Run the ``robustness`` command; 0 on success, 2 with a message on stderr."""
    from visioncompare.robustness.grid import (
        RobustnessGrid,
        parse_corruptions,
        parse_severities,
    )
    from visioncompare.services.cli_errors import expected_errors, report_failure
    from visioncompare.services.engines.ray import RayOptions
    from visioncompare.services.evaluation_run import open_dataset, runs_dir
    from visioncompare.services.robustness_run import run_robustness

    try:
        grid = RobustnessGrid(
            parse_corruptions(args.corruptions), parse_severities(args.severities),
            args.seed,
        )  # fmt: skip
        dataset = open_dataset(args.dataset)
        result = run_robustness(
            dataset, args.detector, args.classifier, grid, args.device,
            progress=lambda stage, done, total: progress("robustness", done, total),
            engine=args.engine,
            ray_options=RayOptions(address=args.address, actors=args.actors),
        )  # fmt: skip
    except expected_errors() as exc:
        return report_failure(exc, "the grid goes on from there")
    name = file_stem(args.detector)
    out = args.out or runs_dir() / dataset.name / name / "robustness"
    path = result.write(out)
    print("\n".join([*summary_lines(result), "", f"wrote {path}"]))
    return 0
