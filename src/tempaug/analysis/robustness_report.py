"""The robustness report: per-seed records → the table, the comparison and the caption.

Tests the argument of paper Section 4.6 (UCF-101 and HMDB-51 "have little temporal
perturbations"): the metrics are :mod:`tempaug.analysis.robustness_metrics`'; this module puts
them together the way ``results/robustness.{csv,md}`` show them — seeds averaged per video
(:func:`average_over_seeds`), RandAugment temporal+ against spatial RandAugment on the
perturbations the expectation names (:func:`temporal_vs_spatial`), one long CSV
(:func:`long_table`) and a Markdown report with its caption (:func:`robustness_report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tempaug.analysis import robustness_metrics as rm
from tempaug.analysis.rendering import data_note
from tempaug.analysis.robustness import CONTROL_PERTURBATIONS

__all__ = [
    "KEY_PERTURBATIONS",
    "average_over_seeds",
    "long_table",
    "robustness_caption",
    "robustness_report",
    "temporal_vs_spatial",
]

#: Perturbations under which RandAugment-T (temporal+) is expected to degrade less than spatial.
KEY_PERTURBATIONS: tuple[str, ...] = ("flash", "exposure_drift", "shake")


def average_over_seeds(per_seed: pd.DataFrame) -> pd.DataFrame:
    """A video's correctness averaged over training seeds, per method × perturbation × severity.

    Args:
        per_seed: records (:data:`~tempaug.analysis.robustness_metrics.RECORD_COLUMNS`) with a
            ``seed`` column.
    """
    return (
        per_seed.groupby(["method", "perturbation", "severity", "video"], sort=False)["correct"]
        .mean()
        .reset_index()
    )


def temporal_vs_spatial(
    records: pd.DataFrame, perturbations: Sequence[str], *, n_boot: int, seed: int
) -> tuple[pd.DataFrame | None, str | None, str | None]:
    """Paired difference of relative drop, RandAugment temporal+ − spatial RandAugment.

    Compared on the :data:`KEY_PERTURBATIONS` evaluated, ``mCA (temporal)`` (with several
    perturbations) and the stationary controls evaluated.

    Returns:
        ``(comparison, a_name, b_name)``; ``comparison`` is ``None`` when either method is absent.
    """
    methods = list(pd.unique(records["method"]))
    a_name = next((m for m in methods if m.startswith("randaug_temporal_plus")), None)
    b_name = next((m for m in methods if m.startswith("randaug_spatial")), None)
    if not (a_name and b_name):
        return None, a_name, b_name
    compared = [
        *[p for p in KEY_PERTURBATIONS if p in perturbations],
        *(["mCA (temporal)"] if len(perturbations) > 1 else []),
        *[p for p in CONTROL_PERTURBATIONS if p in perturbations],
    ]
    comparison = rm.paired_difference(
        records, a_name, b_name, perturbations=compared, n_boot=int(n_boot), seed=int(seed)
    )
    return comparison, a_name, b_name


def robustness_caption(
    params: Mapping[str, Any],
    *,
    n_videos: int,
    subset: bool,
    severities: Sequence[int],
    seed: int,
    n_boot: int,
) -> str:
    """The caption: which models, profile, data, videos, severities and intervals."""
    profile = params["profile"]
    return (
        f"Robustness to temporal perturbations (tests paper Section 4.6). Table 2–5 models, "
        f"UCF-101 VIPriors train → validation; profile `{profile['name']}`: {data_note(profile)}; "
        f"{profile['backbone']}; {n_videos} validation videos"
        f"{' (subset)' if subset else ''}, severities {list(severities)}, perturbation seed "
        f"{seed}, {len(params['seeds'])} training seed(s). Intervals: 95 % percentile bootstrap "
        f"over videos ({n_boot} replicates). Not in the paper: no paper numbers to compare."
    )


def robustness_report(
    summary: pd.DataFrame,
    caption: str,
    comparison: pd.DataFrame | None = None,
    a_name: str | None = None,
    b_name: str | None = None,
) -> str:
    """The Markdown of ``results/robustness.md``: the summary tables, then the comparison."""
    md_text = rm.robustness_markdown(
        summary,
        caption=caption,
        comparisons=comparison,
        comparison_caption=(
            f"Paired difference of relative drop, {a_name} − {b_name} "
            "(negative: temporal+ degrades less), points; prob_a_better = share "
            "of bootstrap replicates where it does"
            if comparison is not None
            else ""
        ),
    )
    if comparison is not None:
        md_text += "\n\n" + rm.describe_comparison(comparison, a_name, b_name) + "\n"
    return md_text


def long_table(by_severity: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Per-severity rows and the mean over severities in one table, ``level`` first."""
    long = pd.concat(
        [
            by_severity.assign(level="severity"),
            summary.assign(level="mean over severities", severity="all"),
        ],
        ignore_index=True,
    )
    return long[["level", *[c for c in long.columns if c != "level"]]]
