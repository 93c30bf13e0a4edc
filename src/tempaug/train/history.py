"""A run's training history (``history.csv``, written by :func:`tempaug.train.fit`) as a figure."""

from __future__ import annotations

import pandas as pd

__all__ = ["learning_curve"]


def learning_curve(history: pd.DataFrame, *, title: str = ""):
    """Plot a run's training history: every loss column and every accuracy column over epochs.

    Args:
        history: ``history.csv`` of a run, with an ``epoch`` column.
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure`` with a loss panel and an accuracy panel.

    Raises:
        ValueError: no ``epoch`` column.
    """
    from matplotlib.figure import Figure

    if "epoch" not in history.columns:
        raise ValueError(f"history needs an 'epoch' column, got {list(history.columns)}")
    fig = Figure(figsize=(7, 2.6), dpi=80, layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    for col in history.columns:
        if col == "epoch" or not pd.api.types.is_numeric_dtype(history[col]):
            continue
        ax = ax_loss if "loss" in col else ax_acc if ("acc" in col or "top" in col) else None
        if ax is not None and history[col].notna().any():
            ax.plot(history["epoch"], history[col], marker="o", label=col)
    for ax, name in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        if ax.lines:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
