"""Hierarchical bootstrap intervals and the paired test (tempaug.analysis.statistics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tempaug.analysis import statistics as S

N_BOOT = 400  # small: these tests run on shared CPUs


def bernoulli(p, n_videos, seeds=(0, 1, 2), *, rng, videos=None):
    """Replicates of a method that is right on each video with probability ``p``."""
    videos = videos or [f"v{i}" for i in range(n_videos)]
    return {s: pd.Series(rng.random(n_videos) < p, index=videos) for s in seeds}


def test_correctness_matches_topk_accuracy():
    from tempaug.train.scores import topk_accuracy

    df = pd.DataFrame(
        {
            "video": ["c", "a", "b"],
            "label": [0, 1, 1],
            "score_0": [0.7, 0.1, 0.5],
            "score_1": [0.2, 0.3, 0.5],  # a tie on "b": broken towards class 0, as topk_accuracy
            "score_2": [0.1, 0.6, 0.0],
        }
    )
    ok = S.correctness(df, 1)
    assert list(ok.index) == ["a", "b", "c"] and list(ok) == [False, False, True]
    assert 100 * ok.mean() == pytest.approx(topk_accuracy(df, 1))
    assert S.correctness(df, 2).all() and S.correctness(df, 9).all()


def test_interval_covers_the_truth_in_most_draws():
    """95 % intervals of a known Bernoulli accuracy (60 %) cover it in most of 40 experiments."""
    covered = 0
    for i in range(40):
        rng = np.random.default_rng(100 + i)
        e = S.estimate(bernoulli(0.6, 300, rng=rng), n_boot=N_BOOT, seed=i)
        assert e.lo <= e.mean <= e.hi
        covered += e.lo <= 60.0 <= e.hi
    assert covered >= 33  # nominal 38 of 40; binomial tail P(<= 32) < 1 %


def test_interval_shrinks_with_more_videos():
    rng = np.random.default_rng(0)
    small = S.estimate(bernoulli(0.5, 100, rng=rng), n_boot=N_BOOT)
    large = S.estimate(bernoulli(0.5, 2500, rng=rng), n_boot=N_BOOT)
    assert large.half_width < small.half_width / 3  # ~ 1/sqrt(25)
    assert small.n_videos == 100 and small.n_replicates == 3


def test_interval_includes_seed_to_seed_variation():
    """Replicates that disagree widen the interval over what a video bootstrap alone gives."""
    videos = [f"v{i}" for i in range(400)]
    rng = np.random.default_rng(1)
    spread = {s: pd.Series(rng.random(400) < p, index=videos) for s, p in enumerate((0.3, 0.7))}
    e = S.estimate(spread, n_boot=N_BOOT)
    one = S.estimate({0: spread[0]}, n_boot=N_BOOT)
    assert e.half_width > 2 * one.half_width
    assert "hierarchical" in e.method and "shared" in e.method


def test_single_replicate_is_a_video_bootstrap():
    rng = np.random.default_rng(2)
    e = S.estimate(bernoulli(0.4, 500, seeds=(7,), rng=rng), n_boot=N_BOOT)
    assert e.n_replicates == 1 and "video bootstrap" in e.method and "1 replicate" in e.method
    assert 0 < e.half_width < 6


def test_same_seed_same_numbers_other_seed_other_numbers():
    rng = np.random.default_rng(3)
    a, b = bernoulli(0.5, 200, rng=rng), bernoulli(0.55, 200, rng=rng)
    assert S.estimate(a, n_boot=N_BOOT, seed=4) == S.estimate(a, n_boot=N_BOOT, seed=4)
    assert S.compare(a, b, n_boot=N_BOOT, seed=4) == S.compare(a, b, n_boot=N_BOOT, seed=4)
    assert S.estimate(a, n_boot=N_BOOT, seed=4) != S.estimate(a, n_boot=N_BOOT, seed=5)


def test_planned_difference_is_detected_identical_scores_are_not():
    rng = np.random.default_rng(4)
    videos = [f"v{i}" for i in range(300)]
    base = {s: pd.Series(rng.random(300) < 0.4, index=videos) for s in range(3)}
    # 20 points better: right wherever the baseline is, plus a third of the remaining videos
    better = {s: b | pd.Series(rng.random(300) < 1 / 3, index=videos) for s, b in base.items()}
    c = S.compare(better, base, n_boot=N_BOOT)
    assert c.delta == pytest.approx(20, abs=5) and c.lo > 0
    assert c.p_value == pytest.approx(1 / N_BOOT) and c.significant()
    same = S.compare(base, {s: v.copy() for s, v in base.items()}, n_boot=N_BOOT)
    assert same.delta == 0 and same.p_value == 1.0 and not same.significant()
    flipped = S.compare(base, better, n_boot=N_BOOT)
    assert flipped.delta == pytest.approx(-c.delta) and flipped.hi < 0


def test_pairing_detects_what_separate_intervals_miss():
    """Large seed-to-seed swings shared by both methods hide a small, consistent gain from two
    separate intervals; pairing by seed and video removes them."""
    rng = np.random.default_rng(5)
    videos = [f"v{i}" for i in range(600)]
    a, b = {}, {}
    for s, level in enumerate((0.25, 0.45, 0.65, 0.85)):
        base = pd.Series(rng.random(600) < level, index=videos)
        gain = pd.Series(rng.random(600) < 0.08, index=videos)
        a[s], b[s] = base | gain, base
    ea, eb = S.estimate(a, n_boot=N_BOOT), S.estimate(b, n_boot=N_BOOT)
    assert ea.lo < eb.hi  # the separate intervals overlap: no difference visible
    c = S.compare(a, b, n_boot=N_BOOT)
    assert c.lo > 0 and c.p_value < 0.01


def test_pairing_is_by_video_id_not_row_order():
    rng = np.random.default_rng(6)
    a = bernoulli(0.5, 200, rng=rng)
    shuffled = {s: v.sample(frac=1.0, random_state=1) for s, v in a.items()}
    c = S.compare(a, shuffled, n_boot=N_BOOT)
    assert c.delta == 0 and c.lo == 0 and c.hi == 0


def test_replicates_with_their_own_videos():
    """HMDB-51: each split has its own test videos; videos are resampled within each replicate."""
    rng = np.random.default_rng(7)
    a = {
        f"split{k}/seed0": pd.Series(
            rng.random(150 + k) < 0.5, index=[f"s{k}_{i}" for i in range(150 + k)]
        )
        for k in (1, 2, 3)
    }
    e = S.estimate(a, n_boot=N_BOOT)
    assert e.n_replicates == 3 and "within" in e.method
    assert e.mean == pytest.approx(np.mean([100 * v.mean() for v in a.values()]))
    b = {k: v | (rng.random(len(v)) < 0.3) for k, v in a.items()}
    assert S.compare(b, a, n_boot=N_BOOT).p_value < 0.01


def test_mismatched_replicates_or_videos_raise():
    rng = np.random.default_rng(8)
    a = bernoulli(0.5, 50, seeds=(0, 1, 2), rng=rng)
    b = bernoulli(0.5, 50, seeds=(0, 1, 3), rng=rng)
    with pytest.raises(ValueError, match=r"missing from B \['2'\], missing from A \['3'\]"):
        S.compare(a, b, n_boot=N_BOOT)
    other = {s: v.rename(lambda x: x + "x") for s, v in a.items()}
    with pytest.raises(ValueError, match="other videos"):
        S.compare(a, other, n_boot=N_BOOT)
    with pytest.raises(ValueError, match="no replicates"):
        S.estimate({}, n_boot=N_BOOT)
    with pytest.raises(ValueError, match="n_boot"):
        S.estimate(a, n_boot=0)


def test_test_name_is_the_caption_string():
    assert "paired hierarchical bootstrap" in S.PAIRED_TEST and "2000 draws" in S.PAIRED_TEST
    assert "two-sided" in S.PAIRED_TEST and "α = 0.05" in S.PAIRED_TEST
    assert S.N_BOOT == 2000 and S.ALPHA == 0.05


def test_holm_adjust_matches_the_step_down_definition():
    from tempaug.analysis.statistics import holm_adjust

    p = [0.01, 0.04, 0.03, float("nan"), 0.5]
    # m = 4 finite: sorted 0.01, 0.03, 0.04, 0.5 → ×4, ×3, ×2, ×1, running max, capped at 1
    expected = [0.04, 0.09, 0.09, float("nan"), 0.5]
    np.testing.assert_allclose(holm_adjust(p), expected, equal_nan=True)
    assert np.isnan(holm_adjust([float("nan")])).all()
    np.testing.assert_allclose(holm_adjust([0.3, 0.6]), [0.6, 0.6])  # capped and monotone
    with pytest.raises(ValueError, match="p-values"):
        holm_adjust([0.2, 1.5])


def test_rendered_tables_carry_holm_columns_and_count_comparisons():
    from tempaug.analysis.tables.rendering import _multiplicity, with_holm

    data = pd.DataFrame(
        {
            "method": ["Baseline", "A", "B", "C"],
            "p_vs_baseline": [np.nan, 0.001, 0.02, 0.04],
            "p_vs_counterpart": [np.nan, np.nan, 0.01, np.nan],
        }
    )
    out = with_holm(data)
    np.testing.assert_allclose(out["p_holm_vs_baseline"], [np.nan, 0.003, 0.04, 0.04])
    note = _multiplicity(3, out)
    assert "3 against the baseline, 3 significant after Holm (A, B, C)" in note
    assert "1 against a spatial counterpart, 1 significant after Holm (B)" in note
    assert list(data.columns) == ["method", "p_vs_baseline", "p_vs_counterpart"]  # not mutated


# --- bootstrap_means: the one resampling scheme (tables, robustness, localisation) -----------


def test_bootstrap_means_covers_a_known_mean():
    """Per-video scores with a known mean (0.3): 95 % intervals cover it in most experiments."""
    covered = 0
    for i in range(40):
        x = (np.random.default_rng(200 + i).random((3, 250)) < 0.3).astype(float)
        draws = S.bootstrap_means(list(x), shared_videos=False, n_boot=N_BOOT, seed=i)
        lo, hi = S.percentile_interval(draws)
        covered += lo <= 0.3 <= hi
    assert covered >= 33


def test_bootstrap_means_is_paired_across_leading_axes():
    """Two scores stacked in one replicate array are resampled together: a constant offset
    between them survives every draw exactly; scores bootstrapped apart do not."""
    rng = np.random.default_rng(9)
    a = rng.random((2, 100))
    both = [np.stack([x, x + 0.1]) for x in a]
    draws = S.bootstrap_means(both, shared_videos=True, n_boot=N_BOOT, seed=1)
    np.testing.assert_allclose(draws[:, 1] - draws[:, 0], 0.1)
    apart = S.bootstrap_means([x + 0.1 for x in a], shared_videos=True, n_boot=N_BOOT, seed=2)
    assert np.std(apart - draws[:, 0]) > 0.01


def test_bootstrap_means_same_seed_same_draws():
    x = list(np.random.default_rng(10).random((3, 4, 60)))
    one = S.bootstrap_means(x, shared_videos=True, n_boot=N_BOOT, seed=3)
    assert one.shape == (N_BOOT, 4)
    np.testing.assert_array_equal(
        one, S.bootstrap_means(x, shared_videos=True, n_boot=N_BOOT, seed=3)
    )
    assert not np.array_equal(one, S.bootstrap_means(x, shared_videos=True, n_boot=N_BOOT, seed=4))
    # separate calls with the same seed and sizes resample the same replicates and videos
    first = S.bootstrap_means([v[:1] for v in x], shared_videos=True, n_boot=N_BOOT, seed=3)
    np.testing.assert_allclose(first[:, 0], one[:, 0])


def test_bootstrap_means_one_replicate_is_a_video_bootstrap():
    """One replicate: the draws are means of resampled videos (by hand, same counts)."""
    v = np.random.default_rng(11).random(50)
    draws = S.bootstrap_means([v], shared_videos=True, n_boot=N_BOOT, seed=5)
    _, videos = np.random.default_rng(5).spawn(2)  # the second stream draws the videos
    idx = videos.integers(0, 50, size=(N_BOOT, 50))
    np.testing.assert_allclose(draws, v[idx].mean(axis=1))
    assert S.bootstrap_means([np.ones(7)], shared_videos=True, n_boot=5).tolist() == [1.0] * 5
    # several replicates with constant but different values: the spread is the seed spread only
    seeds = S.bootstrap_means([np.zeros(30), np.ones(30)], shared_videos=True, n_boot=N_BOOT)
    assert set(np.round(seeds, 6)) <= {0.0, 0.5, 1.0} and seeds.std() > 0.2


def test_bootstrap_means_rejects_bad_input():
    with pytest.raises(ValueError, match="no replicates"):
        S.bootstrap_means([], shared_videos=True)
    with pytest.raises(ValueError, match="no videos"):
        S.bootstrap_means([np.ones(0)], shared_videos=False)
    with pytest.raises(ValueError, match="same number of videos"):
        S.bootstrap_means([np.ones(3), np.ones(4)], shared_videos=True)
    with pytest.raises(ValueError, match="leading shape"):
        S.bootstrap_means([np.ones((2, 3)), np.ones(3)], shared_videos=False)
    with pytest.raises(ValueError, match="n_boot"):
        S.bootstrap_means([np.ones(3)], shared_videos=True, n_boot=0)
