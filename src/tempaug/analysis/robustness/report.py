"""The robustness report: per-seed records → the table, the comparison and the caption.

Tests the argument of paper Section 4.6 (UCF-101 and HMDB-51 "have little temporal
perturbations"): the metrics are :mod:`tempaug.analysis.robustness.metrics`'; this module puts
them together the way ``results/robustness.{csv,md}`` show them — seeds averaged per video
(:func:`average_over_seeds`; the metrics can instead keep the ``seed`` column and resample
seeds in the bootstrap), RandAugment temporal+ against spatial RandAugment on the
perturbations the expectation names (:func:`temporal_vs_spatial`), one long CSV
(:func:`long_table`) and a Markdown report with its caption (:func:`robustness_report`),
plus the severity gallery of :mod:`tempaug.analysis.robustness.perturbations`
(:func:`plot_perturbation_gallery`, ``figures/robustness_gallery.png``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from tempaug.analysis.robustness import metrics as rm
from tempaug.analysis.robustness.perturbations import (
    CONTROL_PERTURBATIONS,
    PERTURBATIONS,
    _check_name,
    _check_severity,
    _check_video,
    _to_float,
    perturb,
)
from tempaug.analysis.tables.rendering import data_note

__all__ = [
    "KEY_PERTURBATIONS",
    "average_over_seeds",
    "long_table",
    "plot_perturbation_gallery",
    "robustness_caption",
    "robustness_report",
    "temporal_vs_spatial",
]

#: Perturbations under which RandAugment-T (temporal+) is expected to degrade less than spatial.
KEY_PERTURBATIONS: tuple[str, ...] = ("flash", "exposure_drift", "shake")


def average_over_seeds(per_seed: pd.DataFrame) -> pd.DataFrame:
    """A video's correctness averaged over training seeds, per method × perturbation × severity.

    Args:
        per_seed: records (:data:`~tempaug.analysis.robustness.metrics.RECORD_COLUMNS`) with a
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
    seeds: Sequence[int] | None = None,
    views: int | None = None,
) -> str:
    """The caption: which models, profile, data, videos, severities, seeds and intervals.

    Args:
        params: the pipeline parameters (``profile``; ``seeds`` when ``seeds`` is ``None``).
        n_videos: validation videos evaluated.
        subset: whether they are a subset of the validation set.
        severities: severities evaluated.
        seed: perturbation seed.
        n_boot: bootstrap replicates.
        seeds: training seeds evaluated (default: ``params["seeds"]``, counted only). With
            several, the intervals resample seeds, then videos
            (:func:`tempaug.analysis.statistics.bootstrap_means`); with one, videos only.
        views: temporal views per video, when known.
    """
    profile = params["profile"]
    if seeds is None:
        seed_text = f"{len(params['seeds'])} training seed(s)"
        over = "videos"
    else:
        seeds = sorted(int(s) for s in seeds)
        seed_text = f"{len(seeds)} training seed(s) {seeds}"
        over = "training seeds, then videos (hierarchical)" if len(seeds) > 1 else "videos"
    return (
        f"Robustness to temporal perturbations (tests paper Section 4.6). Table 2–5 models, "
        f"UCF-101 VIPriors train → validation; profile `{profile['name']}`: {data_note(profile)}; "
        f"{profile['backbone']}; {n_videos} validation videos"
        f"{' (subset)' if subset else ''}{f', {views} view(s) each' if views else ''}, "
        f"severities {list(severities)}, perturbation seed {seed}, {seed_text}. Intervals: "
        f"95 % percentile bootstrap over {over} ({n_boot} replicates). Not in the paper: no "
        "paper numbers to compare."
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


# --------------------------------------------------------------------------------------------
# gallery figure
# --------------------------------------------------------------------------------------------


def plot_perturbation_gallery(
    clip: Tensor,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (0, 1, 2, 3, 4, 5),
    num_frames: int | None = None,
    frames_per_row: int = 8,
    seed: int = 0,
):
    """Draw each perturbation at each severity on one clip (the severity-scale gallery).

    Rows are perturbations, columns severities; each cell is a mosaic of ``num_frames`` evenly
    spaced frames (``frames_per_row`` per line, in reading order), so short events such as a
    one-frame flash are visible. One seed is used for every cell, so columns differ only by
    severity (common random numbers).

    Args:
        clip: ``(T, C, H, W)`` uint8 or float in [0, 1], C = 1 or 3.
        perturbations: names to show (rows).
        severities: severities to show (columns).
        num_frames: frames per cell (≤ T); default ``min(T, 16)`` (every frame when T ≤ 16).
        frames_per_row: frames per line of a cell's mosaic.
        seed: generator seed for every cell.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt

    _check_video(clip, "clip")
    if clip.ndim != 4:
        raise ValueError(f"clip must have shape (T, C, H, W), got {tuple(clip.shape)}")
    for p in perturbations:
        _check_name(p)
    for s in severities:
        _check_severity(s)
    t, c, h, w = clip.shape
    k = min(t, 16) if num_frames is None else num_frames
    if not 1 <= k <= t:
        raise ValueError(f"num_frames must be in [1, T={t}], got {num_frames}")
    if frames_per_row < 1:
        raise ValueError(f"frames_per_row must be >= 1, got {frames_per_row}")
    per_row = min(frames_per_row, k)
    rows = math.ceil(k / per_row)
    frame_idx = torch.linspace(0, t - 1, k).round().long()
    fig, axes = plt.subplots(
        len(perturbations),
        len(severities),
        figsize=(
            0.32 * per_row * len(severities) * w / h + 0.6,
            0.32 * rows * len(perturbations) + 0.5 * len(perturbations) + 0.4,
        ),
        squeeze=False,
    )
    g = torch.Generator()
    for i, name in enumerate(perturbations):
        for j, sev in enumerate(severities):
            out = perturb(clip[None].cpu(), name, sev, generator=g.manual_seed(seed))[0]
            frames = _to_float(out[frame_idx]).float().clamp(0, 1)  # (k, C, H, W)
            pad = torch.ones(rows * per_row - k, c, h, w)  # white fill for the last line
            mosaic = torch.cat([frames, pad]).reshape(rows, per_row, c, h, w)
            mosaic = mosaic.permute(0, 3, 1, 4, 2).reshape(rows * h, per_row * w, c)
            ax = axes[i][j]
            if c == 1:
                ax.imshow(mosaic[..., 0].numpy(), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(mosaic.numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"severity {sev}", fontsize=9)
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
    shown = "all frames" if k == t else f"frames {frame_idx.tolist()}"
    fig.suptitle(
        f"Temporal perturbations by severity — {shown} of a {t}-frame clip, left to right, "
        "top to bottom",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
