"""The tables' figures (tempaug.analysis.tables.plots)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tempaug.analysis.tables import plots


def test_delta_vs_baseline_plots_changes_over_the_baseline():
    df = pd.DataFrame(
        {
            "key": ["baseline", "m1", "m2"],
            "method": ["B", "M1", "M2"],
            "top1": [10.0, 15.0, 5.0],
            "paper_top1": [50.0, 52.0, 49.0],
        }
    )
    fig = plots.delta_vs_baseline({"T": df})
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == sorted([5.0, -5.0, 2.0, -1.0])
    with pytest.raises(ValueError, match="no 'baseline' row"):
        plots.delta_vs_baseline({"T": df.iloc[1:]})
    with pytest.raises(ValueError, match="paper_top1"):
        plots.delta_vs_baseline({"T": df.drop(columns="paper_top1")})


def test_replicate_curves_draw_mean_and_band_of_train_and_eval():
    h0 = pd.DataFrame(
        {"epoch": [1, 2, 3], "train_top1": [10.0, 50.0, 90.0], "eval_top1": [10.0, 20.0, 30.0]}
    )
    h1 = h0.assign(train_top1=[20.0, 60.0, 100.0], eval_top1=[np.nan, np.nan, 40.0])
    fig = plots.replicate_curves({"seed0": h0, "seed1": h1}, chance=10.0, title="baseline")
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    np.testing.assert_allclose(lines["training (running), mean of 2"].get_ydata(), [15, 55, 95])
    # epochs where only one replicate evaluated keep that one; the mean ignores the missing
    np.testing.assert_allclose(lines["evaluation set, mean of 2"].get_ydata(), [10, 20, 35])
    assert "chance" in lines
    with pytest.raises(ValueError, match="train_top1"):
        plots.replicate_curves({"s": h0.drop(columns="train_top1")})
    with pytest.raises(ValueError, match="at least one"):
        plots.replicate_curves({})
