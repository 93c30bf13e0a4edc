"""The temporal-localization table: rows, display, caption, written files and their checks."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import torch

from tempaug.analysis.cam import localization_table as lt
from tempaug.analysis.cam.localization import score_profiles
from tempaug.pipeline import RunSpec

PARAMS = {
    "profile": {"name": "synthetic", "backbone": "SlowFast-tiny"},
    "seeds": [0, 1],
}
CUT = torch.tensor([4, 5, 6, 4, 5, 6, 5, 4])
T = 16


def table(spec, scores_profile):
    scores = score_profiles(scores_profile, CUT, tolerance=2)
    boot = {"n_boot": 50, "seed": 0}
    rows = [lt.localization_row("MixUp", "5", scores, pw, spec, **boot) for pw in ("slow", "both")]
    return pd.DataFrame(rows + lt.reference_rows(CUT, T, tolerance=2, n_boot=50, seed=0))


@pytest.fixture
def loc():
    g = torch.Generator().manual_seed(0)
    return table(RunSpec("ucf101_val", "mixup", 0), torch.rand(len(CUT), T, generator=g).double())


def test_reference_rows_oracle_scores_one_uniform_scores_chance():
    oracle, uniform = lt.reference_rows(CUT, T, tolerance=0, n_boot=20, seed=0)
    assert oracle["method"] == "Oracle map (reference)" and oracle["table"] == "—"
    assert oracle["mass_in_a"] == 1.0 and oracle["cut_acc"] == 1.0
    assert uniform["mass_in_a"] == pytest.approx(float((CUT / T).mean()))
    assert uniform["cut_acc"] == 0.0 and uniform["recipe"] == "" and uniform["run_id"] == ""


def test_row_names_its_run(loc):
    assert loc["run_id"].tolist()[:2] == ["ucf101_val/mixup/seed0"] * 2
    assert loc["pathways"].tolist() == ["slow", "both", "—", "—"]
    assert (loc["n_clips"] == len(CUT)).all()


def test_format_ci():
    assert lt.format_ci({"x": 0.5, "x_lo": 0.25, "x_hi": 0.75}, "x") == "0.500 [0.250, 0.750]"


def test_display_puts_interval_and_tolerance_in_columns(loc):
    shown = lt.localization_display(loc, 3)
    assert "Cut acc. (±3 fr.) [95 % CI]" in shown.columns
    assert shown["Mass in A [95 % CI]"].iloc[2] == "1.000 [1.000, 1.000]"
    assert len(shown) == len(loc)


def test_caption_names_profile_data_and_counts():
    cap = lt.localization_caption(
        PARAMS, num_spliced=8, num_frames=16, num_videos=30, tolerance=2, slow_stride=8,
        fast_stride=2, n_boot=50, seed=3,
    )  # fmt: skip
    assert "profile `synthetic`" in cap and "NOT the real dataset" in cap
    assert "8 spliced clips of 16 frames from 30 validation videos" in cap
    assert "cut uniform in [4, 12]" in cap and "seed 3" in cap
    assert "(2 time step(s) here)" in cap and "(8 steps)" in cap
    assert "2 training seed(s)" in cap
    real = lt.localization_caption(
        {**PARAMS, "profile": {"name": "paper", "backbone": "SlowFast-50"}}, num_spliced=8,
        num_frames=16, num_videos=30, tolerance=2, slow_stride=8, fast_stride=2, n_boot=50,
        seed=3,
    )  # fmt: skip
    assert "the real UCF-101" in real and "NOT" not in real


def test_write_then_check_round_trip(loc, tmp_path):
    csv_path, md_path = lt.write_localization(loc, "a caption", 2, tmp_path)
    assert csv_path.read_text().startswith("# a caption\n")
    assert re.search(r"^\| Table +\| Method +\|", md_path.read_text(), re.M)
    spec = RunSpec("ucf101_val", "mixup", 0)
    back = lt.check_localization_csv(csv_path, [spec], num_pathways=2, num_spliced=len(CUT))
    assert len(back) == 4


def test_check_fails_on_a_wrong_count_or_a_broken_interval(loc, tmp_path):
    spec = RunSpec("ucf101_val", "mixup", 0)
    csv_path, _ = lt.write_localization(loc, "c", 2, tmp_path)
    with pytest.raises(ValueError, match="one row per run"):
        lt.check_localization_csv(csv_path, [spec], num_pathways=3, num_spliced=len(CUT))
    with pytest.raises(ValueError, match="clips per row"):
        lt.check_localization_csv(csv_path, [spec], num_pathways=2, num_spliced=99)
    broken = loc.copy()
    broken.loc[0, "mass_in_a_hi"] = broken.loc[0, "mass_in_a"] - 0.1
    csv_path, _ = lt.write_localization(broken, "c", 2, tmp_path)
    with pytest.raises(ValueError, match="mass_in_a within its interval"):
        lt.check_localization_csv(csv_path, [spec], num_pathways=2, num_spliced=len(CUT))
