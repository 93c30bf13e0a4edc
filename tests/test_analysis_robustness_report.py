"""The robustness report: seed averaging, temporal+ vs spatial comparison, caption, long table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tempaug.analysis.robustness import metrics as rm
from tempaug.analysis.robustness import report as rr

PARAMS = {"profile": {"name": "synthetic", "backbone": "SlowFast-tiny"}, "seeds": [0, 1, 2]}


def records(methods=("baseline", "randaug_spatial", "randaug_temporal_plus"), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for m in methods:
        for pert, sev in (
            ("clean", 0),
            ("flash", 1),
            ("flash", 3),
            ("gaussian_noise", 1),
            ("gaussian_noise", 3),
        ):
            for v in range(12):
                rows.append((m, pert, sev, f"v{v}", float(rng.random() < 0.6)))
    return pd.DataFrame(rows, columns=list(rm.RECORD_COLUMNS))


def test_average_over_seeds_is_the_per_video_mean():
    a, b = records(seed=0).assign(seed=0), records(seed=1).assign(seed=1)
    avg = rr.average_over_seeds(pd.concat([a, b], ignore_index=True))
    assert len(avg) == len(a)
    assert np.allclose(avg["correct"], (a["correct"].to_numpy() + b["correct"].to_numpy()) / 2)
    assert list(avg.columns) == list(rm.RECORD_COLUMNS)


def test_temporal_vs_spatial_compares_key_perturbations_and_controls():
    comp, a, b = rr.temporal_vs_spatial(records(), ["flash", "gaussian_noise"], n_boot=50, seed=0)
    assert (a, b) == ("randaug_temporal_plus", "randaug_spatial")
    assert list(comp["perturbation"]) == ["flash", "mCA (temporal)", "gaussian_noise"]
    direct = rm.paired_difference(
        records(),
        a,
        b,
        perturbations=["flash", "mCA (temporal)", "gaussian_noise"],
        n_boot=50,
        seed=0,
    )
    pd.testing.assert_frame_equal(comp, direct)


def test_temporal_vs_spatial_takes_grid_point_names_and_handles_absence():
    recs = records(("randaug_spatial-n1-m3", "randaug_temporal_plus-n2-m5"))
    _, a, b = rr.temporal_vs_spatial(recs, ["flash"], n_boot=20, seed=0)
    assert (a, b) == ("randaug_temporal_plus-n2-m5", "randaug_spatial-n1-m3")
    comp, a, b = rr.temporal_vs_spatial(records(("baseline",)), ["flash"], n_boot=20, seed=0)
    assert comp is None and a is None and b is None


def test_caption_names_profile_subset_and_settings():
    cap = rr.robustness_caption(
        PARAMS, n_videos=12, subset=True, severities=[1, 3], seed=7, n_boot=99
    )
    assert "profile `synthetic`" in cap and "NOT the real dataset" in cap
    assert "12 validation videos (subset), severities [1, 3], perturbation seed 7" in cap
    assert "3 training seed(s)" in cap and "(99 replicates)" in cap
    assert "(subset)" not in rr.robustness_caption(
        PARAMS, n_videos=12, subset=False, severities=[1], seed=0, n_boot=1
    )


def test_report_adds_the_comparison_only_when_there_is_one():
    recs = records()
    summary = rm.summary_table(recs, n_boot=30, seed=0)
    comp, a, b = rr.temporal_vs_spatial(recs, ["flash", "gaussian_noise"], n_boot=30, seed=0)
    plain = rr.robustness_report(summary, "Caption.")
    full = rr.robustness_report(summary, "Caption.", comp, a, b)
    assert plain.startswith("Caption.") and "Paired difference" not in plain
    assert full.startswith(plain.rstrip("\n")[:50])
    assert f"Paired difference of relative drop, {a} − {b}" in full
    assert full.endswith(rm.describe_comparison(comp, a, b) + "\n")


def test_long_table_has_level_first_and_all_severities_for_means():
    recs = records()
    by_sev = rm.severity_table(recs, n_boot=20, seed=0)
    summary = rm.summary_table(recs, n_boot=20, seed=0)
    long = rr.long_table(by_sev, summary)
    assert long.columns[0] == "level" and len(long) == len(by_sev) + len(summary)
    means = long[long["level"] == "mean over severities"]
    assert (means["severity"] == "all").all()
    assert set(long["level"]) == {"severity", "mean over severities"}


@pytest.mark.parametrize("p", rr.KEY_PERTURBATIONS)
def test_key_perturbations_exist(p):
    from tempaug.analysis.robustness.perturbations import PERTURBATIONS

    assert p in PERTURBATIONS


def test_caption_names_the_seeds_views_and_what_the_intervals_resample():
    kw = {"n_videos": 480, "subset": False, "severities": [1, 2, 3, 4, 5], "seed": 0, "n_boot": 9}
    several = rr.robustness_caption(PARAMS, seeds=[2, 0, 1], views=2, **kw)
    assert "480 validation videos, 2 view(s) each, severities [1, 2, 3, 4, 5]" in several
    assert "3 training seed(s) [0, 1, 2]" in several
    assert "bootstrap over training seeds, then videos (hierarchical) (9 replicates)" in several
    one = rr.robustness_caption(PARAMS, seeds=[0], **kw)
    assert "1 training seed(s) [0]" in one and "bootstrap over videos (9 replicates)" in one
    assert "view(s)" not in one


def test_report_tables_from_records_with_several_seeds():
    recs = pd.concat(
        [records(seed=0).assign(seed=0), records(seed=1).assign(seed=1)], ignore_index=True
    )
    summary = rm.summary_table(recs, n_boot=40, seed=0)
    averaged = rm.summary_table(rr.average_over_seeds(recs), n_boot=40, seed=0)
    np.testing.assert_allclose(summary["accuracy"], averaged["accuracy"])
    comp, a, b = rr.temporal_vs_spatial(recs, ["flash", "gaussian_noise"], n_boot=40, seed=0)
    assert (a, b) == ("randaug_temporal_plus", "randaug_spatial") and len(comp) == 3
    assert "Paired difference" in rr.robustness_report(summary, "Caption.", comp, a, b)
