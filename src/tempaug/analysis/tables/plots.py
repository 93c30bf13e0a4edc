"""The tables' figures: changes over the baseline beside the paper's, and learning curves."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["delta_vs_baseline", "replicate_curves"]


def delta_vs_baseline(
    panels: Mapping[str, pd.DataFrame],
    *,
    metric: str = "top1",
    label_col: str = "method",
    baseline: str = "baseline",
    title: str = "",
):
    """Bar charts of each method's change over the baseline, ours beside the paper's.

    Absolute accuracies on the generated dataset are not comparable with the paper's; the change
    a method brings over the same table's baseline is the quantity whose sign and ranking can be
    compared (paper Sections 4.2–4.4).

    Args:
        panels: panel title → a table from :mod:`tempaug.analysis.tables` with ``key``,
            ``label_col``, ``metric`` and ``paper_<metric>`` columns and a ``baseline`` row.
        metric: ``"top1"`` or ``"top5"``.
        label_col: column with the row labels.
        baseline: ``key`` of the baseline row.
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure`` with one panel per table.

    Raises:
        ValueError: a table has no baseline row or lacks a column.
    """
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("panels must hold at least one table")
    fig = Figure(figsize=(4.2 * len(panels), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, df) in zip(axes, panels.items(), strict=True):
        for col in ("key", label_col, metric, f"paper_{metric}"):
            if col not in df.columns:
                raise ValueError(f"panel {name!r}: missing column {col!r}")
        base = df[df["key"] == baseline]
        if base.empty:
            raise ValueError(f"panel {name!r}: no {baseline!r} row")
        rows = df[df["key"] != baseline]
        ours = rows[metric].to_numpy(float) - float(base[metric].iloc[0])
        paper = rows[f"paper_{metric}"].to_numpy(float) - float(base[f"paper_{metric}"].iloc[0])
        y = np.arange(len(rows))
        ax.barh(y - 0.2, ours, height=0.4, label="ours")
        ax.barh(y + 0.2, paper, height=0.4, label="paper")
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, [str(v) for v in rows[label_col]], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"Δ {metric} vs baseline (points)")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def replicate_curves(
    histories: Mapping[str, pd.DataFrame], *, chance: float | None = None, title: str = ""
):
    """Training and evaluation top-1 per epoch over a configuration's replicates (one figure).

    Draws, for ``train_top1`` (running training accuracy) and ``eval_top1`` (the evaluation set
    during training, where recorded), the mean over the replicates with the min–max band, so a
    reader sees whether the model memorises its training set and how far validation follows.

    Args:
        histories: replicate name (e.g. ``"seed0"``) → its ``history.csv``.
        chance: draw a chance line at this accuracy (%).
        title: figure title.

    Raises:
        ValueError: no history, or one without ``epoch`` / ``train_top1``.
    """
    from matplotlib.figure import Figure

    if not histories:
        raise ValueError("histories must hold at least one replicate's history")
    for name, h in histories.items():
        for col in ("epoch", "train_top1"):
            if col not in h.columns:
                raise ValueError(f"history {name!r} has no {col!r} column")
    fig = Figure(figsize=(5.0, 3.0), layout="constrained")
    ax = fig.subplots()
    for col, label in (("train_top1", "training (running)"), ("eval_top1", "evaluation set")):
        frames = [h.set_index("epoch")[col] for h in histories.values() if col in h.columns]
        if not frames:
            continue
        table = pd.concat(frames, axis=1).apply(pd.to_numeric, errors="coerce")
        table = table.dropna(how="all")
        if table.empty:
            continue
        epochs = table.index.to_numpy()
        line = ax.plot(epochs, table.mean(axis=1), label=f"{label}, mean of {table.shape[1]}")[0]
        ax.fill_between(
            epochs, table.min(axis=1), table.max(axis=1), alpha=0.2, color=line.get_color()
        )
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel("top-1 (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=9)
    return fig
