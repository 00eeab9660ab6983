"""The grid of corruptions and severities, its table of results, and the benchmark's two
summaries (Michaelis et al., "Benchmarking Robustness in Object Detection", 2019):

- mPC, the mean performance under corruption: the mean over corruptions of the mean over
  severities, ``mPC = 1/Nc * sum_c 1/Ns * sum_s P[c, s]`` (Nc = 15, Ns = 5 in the paper);
- rPC, the relative performance under corruption: ``rPC = mPC / P_clean``.

One table holds every number, one row per (model, metric, corruption, severity); the
clean image is the row of corruption ``"clean"`` and severity 0. It is what
``robustness.csv`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from visioncompare.robustness.corruptions import (
    CORRUPTIONS,
    FAMILIES,
    SEVERITIES,
    Corruption,
    CorruptionError,
    corruption_title,
)

CLEAN = "clean"
"""The corruption name of the clean rows (severity 0)."""
COLUMNS = ("model", "task", "metric", "corruption", "severity", "value", "images")
"""The table's columns: ``task`` is ``detection`` or ``classification``; ``value`` is
the metric in [0, 1] (NaN where it is undefined)."""
PRIMARY = {"detection": "AP50-95", "classification": "tagging mAP"}
"""The metric each task's mPC and rPC are computed from."""


def parse_corruptions(text: str) -> tuple[str, ...]:
    """Corruption names from a comma-separated list: names, family names (``noise``,
    ``blur``, ``weather``, ``digital``) or ``all``; in the benchmark's order.

    Raises:
        CorruptionError: an unknown name.
    """
    chosen: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part == "all":
            chosen.update(CORRUPTIONS)
        elif part in FAMILIES:
            chosen.update(FAMILIES[part])
        elif part in CORRUPTIONS:
            chosen.add(part)
        else:
            raise CorruptionError(
                f"unknown corruption {part!r}: one of {', '.join(CORRUPTIONS)}, a "
                f"family ({', '.join(FAMILIES)}) or all"
            )
    return tuple(c for c in CORRUPTIONS if c in chosen)


def parse_severities(text: str) -> tuple[int, ...]:
    """Severities from ``"1,3,5"``, ``"2-4"`` or ``"all"``.

    Raises:
        CorruptionError: anything outside 1-5.
    """
    chosen: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            if part == "all":
                chosen.update(SEVERITIES)
            elif "-" in part:
                low, high = (int(v) for v in part.split("-", 1))
                chosen.update(range(low, high + 1))
            else:
                chosen.add(int(part))
        except ValueError:
            raise CorruptionError(
                f"severities: not a number or range: {part!r}"
            ) from None
    if not chosen <= set(SEVERITIES):
        raise CorruptionError(f"severities should be 1 to 5, not {sorted(chosen)}")
    return tuple(sorted(chosen))


@dataclass(frozen=True)
class RobustnessGrid:
    """Which cells a robustness run covers.

    Attributes:
        corruptions: names from ``CORRUPTIONS`` (kept in the benchmark's order).
        severities: from 1-5 (ascending).
        seed: the run seed of every cell.

    Raises:
        CorruptionError: an unknown name or severity, or an empty grid.
    """

    corruptions: tuple[str, ...] = CORRUPTIONS
    severities: tuple[int, ...] = SEVERITIES
    seed: int = 0

    def __post_init__(self) -> None:
        names = tuple(self.corruptions)
        unknown = [c for c in names if c not in CORRUPTIONS]
        if unknown:
            raise CorruptionError(f"unknown corruptions: {', '.join(unknown)}")
        if not set(self.severities) <= set(SEVERITIES):
            raise CorruptionError(f"severities should be 1 to 5: {self.severities}")
        if not names or not self.severities:
            raise CorruptionError("pick at least one corruption and one severity")
        object.__setattr__(
            self, "corruptions", tuple(c for c in CORRUPTIONS if c in names)
        )
        object.__setattr__(self, "severities", tuple(sorted(set(self.severities))))

    def cells(self) -> list[Corruption]:
        """Every cell, corruption by corruption, mild to strong."""
        return [
            Corruption(name, severity, self.seed)
            for name in self.corruptions
            for severity in self.severities
        ]

    def __len__(self) -> int:
        return len(self.corruptions) * len(self.severities)

    @property
    def full(self) -> bool:
        """The paper's grid: all 15 corruptions at all five severities."""
        return len(self) == len(CORRUPTIONS) * len(SEVERITIES)


def results_frame(rows: list[dict]) -> pd.DataFrame:
    """The table from row dicts with ``COLUMNS`` (other keys are kept after them)."""
    frame = pd.DataFrame(rows)
    for column in COLUMNS:
        if column not in frame:
            frame[column] = pd.Series(dtype=object)
    return frame[[*COLUMNS, *(c for c in frame.columns if c not in COLUMNS)]]


def _primary(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["metric"] == frame["task"].map(PRIMARY)]


def robustness_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model and metric: clean performance, mPC and rPC over the cells present.

    Args:
        frame: the table (``COLUMNS``), with a clean row per model and metric.

    Returns:
        One row per (model, task, metric): ``clean``, ``mPC``, ``rPC`` (NaN without a
        clean row or with clean 0), ``corruptions`` and ``severities`` (counts) and
        ``full`` (the paper's 15 x 5 grid, so comparable with its numbers).
    """
    rows = []
    for (model, task, metric), group in frame.groupby(
        ["model", "task", "metric"], sort=False
    ):
        clean = group.loc[group["corruption"] == CLEAN, "value"]
        corrupted = group[group["corruption"] != CLEAN]
        clean_value = float(clean.iloc[0]) if len(clean) else float("nan")
        per_corruption = corrupted.groupby("corruption", sort=False)["value"].mean()
        mpc = float(per_corruption.mean()) if len(per_corruption) else float("nan")
        severities = corrupted["severity"].nunique()
        rows.append({
            "model": model, "task": task, "metric": metric, "clean": clean_value,
            "mPC": mpc, "rPC": mpc / clean_value if clean_value else float("nan"),
            "corruptions": len(per_corruption), "severities": severities,
            "full": len(per_corruption) == len(CORRUPTIONS)
            and severities == len(SEVERITIES),
        })  # fmt: skip
    return pd.DataFrame(rows)


def corruption_ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """The corruptions ranked by how much each model loses on them (its primary metric).

    Returns:
        One row per (model, corruption): ``corruption`` (the title), ``mean`` (over the
        severities run), ``loss`` (clean minus mean), ``relative`` (mean / clean) and
        ``rank`` (1: the largest loss for that model), largest loss first per model.
    """
    primary = _primary(frame)
    parts = []
    for (model, task, metric), group in primary.groupby(
        ["model", "task", "metric"], sort=False
    ):
        clean = group.loc[group["corruption"] == CLEAN, "value"]
        clean_value = float(clean.iloc[0]) if len(clean) else float("nan")
        means = (
            group[group["corruption"] != CLEAN]
            .groupby("corruption", sort=False)["value"]
            .mean()
        )
        part = pd.DataFrame({
            "model": model, "task": task, "metric": metric, "name": means.index,
            "corruption": [corruption_title(n) for n in means.index],
            "clean": clean_value, "mean": means.to_numpy(),
        })  # fmt: skip
        part["loss"] = part["clean"] - part["mean"]
        part["relative"] = part["mean"] / clean_value if clean_value else float("nan")
        part = part.sort_values("loss", ascending=False, kind="stable")
        part["rank"] = range(1, len(part) + 1)
        parts.append(part)
    if not parts:
        return pd.DataFrame(
            columns=["model", "task", "metric", "name", "corruption", "clean", "mean",
                     "loss", "relative", "rank"]
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def severity_curves(frame: pd.DataFrame) -> pd.DataFrame:
    """Each model's primary metric against severity, per corruption, with the clean
    value at severity 0 on every curve (what the figure draws).

    Returns:
        Columns ``model``, ``task``, ``metric``, ``corruption`` (name), ``severity``
        (0-5), ``value``; sorted by model, corruption, severity.
    """
    primary = _primary(frame)
    clean = primary[primary["corruption"] == CLEAN]
    corrupted = primary[primary["corruption"] != CLEAN]
    starts = []
    for name in corrupted["corruption"].unique():
        start = clean.copy()
        start["corruption"] = name
        starts.append(start)
    out = pd.concat([*starts, corrupted], ignore_index=True)
    order = {name: i for i, name in enumerate(CORRUPTIONS)}
    out["_order"] = out["corruption"].map(order)
    out = out.sort_values(["model", "_order", "severity"], kind="stable")
    return out.drop(columns="_order")[
        ["model", "task", "metric", "corruption", "severity", "value"]
    ].reset_index(drop=True)
