"""Tests for tempaug.analysis.cam.localization (the temporal-localization score)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=FutureWarning)
    from pytorchvideo.models.head import ResNetBasicHead
    from pytorchvideo.models.net import MultiPathWayWithFuse, Net
    from pytorchvideo.models.slowfast import PoolConcatPathway

from tempaug.analysis.cam.localization import (
    LocalizationScores,
    SplicedClips,
    build_spliced_set,
    cut_range,
    estimate_cut,
    evaluate_localization,
    mass_fraction,
    oracle_profile,
    sample_splice_params,
    score_maps,
    score_profiles,
    splice_clips,
    summarize,
    temporal_profile,
)
from tempaug.analysis.cam.maps import class_activation_maps

pytestmark = pytest.mark.filterwarnings("error")


def source_clips(m: int = 6, t: int = 16, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips whose every pixel holds the clip index (so the source of each frame is readable)."""
    clips = torch.arange(m, dtype=torch.float32).view(m, 1, 1, 1, 1).expand(m, t, 3, 4, 4)
    labels = torch.arange(m) % classes
    return clips.contiguous(), labels


class TestSplicedSet:
    @pytest.mark.parametrize(
        ("t", "expected"), [(2, (1, 1)), (3, (1, 2)), (4, (1, 3)), (16, (4, 12)), (64, (16, 48))]
    )
    def test_cut_range_is_the_middle_half(self, t, expected):
        assert cut_range(t) == expected

    def test_cut_range_rejects_short_clips(self):
        with pytest.raises(ValueError, match="num_frames"):
            cut_range(1)

    def test_deterministic_per_seed(self):
        clips, labels = source_clips()
        a = build_spliced_set(clips, labels, 50, generator=torch.Generator().manual_seed(7))
        b = build_spliced_set(clips, labels, 50, generator=torch.Generator().manual_seed(7))
        c = build_spliced_set(clips, labels, 50, generator=torch.Generator().manual_seed(8))
        assert torch.equal(a.clips, b.clips) and torch.equal(a.cut, b.cut)
        assert torch.equal(a.params.index_a, b.params.index_a)
        assert torch.equal(a.params.index_b, b.params.index_b)
        assert not (torch.equal(a.cut, c.cut) and torch.equal(a.params.index_a, c.params.index_a))

    def test_content_labels_and_cut_distribution(self):
        clips, labels = source_clips(t=16)
        s = build_spliced_set(clips, labels, 4000, generator=torch.Generator().manual_seed(0))
        assert torch.all(s.label_a != s.label_b)
        assert torch.equal(s.label_a, labels[s.params.index_a])
        lo, hi = cut_range(16)
        assert int(s.cut.min()) == lo and int(s.cut.max()) == hi
        counts = torch.bincount(s.cut - lo, minlength=hi - lo + 1).double()
        assert counts.min() > 0.8 * counts.mean()  # roughly uniform over 9 values
        frame_source = s.clips[:, :, 0, 0, 0]  # (N, T) source index of each frame
        t = torch.arange(16)
        expected = torch.where(
            t.unsqueeze(0) < s.cut.unsqueeze(1),
            s.params.index_a.float().unsqueeze(1),
            s.params.index_b.float().unsqueeze(1),
        )
        assert torch.equal(frame_source, expected)

    def test_inputs_not_mutated_and_errors(self):
        clips, labels = source_clips()
        ref = clips.clone()
        build_spliced_set(clips, labels, 5, generator=torch.Generator().manual_seed(0))
        assert torch.equal(clips, ref)
        with pytest.raises(ValueError, match="two distinct classes"):
            sample_splice_params(torch.zeros(4, dtype=torch.long), 3, 8)
        with pytest.raises(ValueError, match="num_clips"):
            sample_splice_params(labels, 0, 8)
        with pytest.raises(ValueError, match="labels must have shape"):
            build_spliced_set(clips, labels[:2], 3)
        with pytest.raises(ValueError, match="cut must lie"):
            splice_clips(clips[:2], clips[2:4], torch.tensor([0, 17]))


class TestScores:
    def test_oracle_profile_scores_one(self):
        cut = torch.tensor([4, 7, 12, 9])
        s = score_profiles(oracle_profile(cut, 16), cut)
        assert torch.all(s.mass_in_a == 1.0)
        assert torch.equal(s.cut_hat, cut)
        assert torch.all(s.cut_hit)

    def test_oracle_maps_score_one(self):
        cut = torch.tensor([16, 20, 40, 48])
        maps = oracle_profile(cut, 64).float().view(4, 64, 1, 1).expand(4, 64, 5, 5)
        row = summarize(score_maps(maps, cut))
        assert row["mass_in_a"] == 1.0 and row["cut_acc"] == 1.0
        assert row["mass_in_a_lo"] == row["mass_in_a_hi"] == 1.0

    def test_uniform_map_scores_the_cut_fraction(self):
        g = torch.Generator().manual_seed(0)
        cut = torch.randint(*cut_range(32), (500,), generator=g)
        maps = torch.full((500, 32, 3, 3), 0.37)
        s = score_maps(maps, cut, tolerance=3)
        torch.testing.assert_close(s.mass_in_a, cut.double() / 32)
        torch.testing.assert_close(s.chance, cut.double() / 32)
        assert not s.cut_hit.any() and torch.all(s.cut_hat == -1)  # no drop -> always a miss
        row = summarize(s)
        assert abs(row["mass_in_a"] - 0.5) < 0.03  # E[cut / T] = 0.5 for the middle half

    def test_zero_mass_counts_as_uniform(self):
        cut = torch.tensor([3, 5])
        torch.testing.assert_close(
            mass_fraction(torch.zeros(2, 8), cut), torch.tensor([3 / 8, 5 / 8], dtype=torch.float64)
        )

    def test_reversed_profile_scores_zero(self):
        cut = torch.tensor([6, 10])
        s = score_profiles(1.0 - oracle_profile(cut, 16), cut)
        assert torch.all(s.mass_in_a == 0.0) and not s.cut_hit.any()

    def test_cut_estimate_is_robust_to_noise_and_rescaling(self):
        g = torch.Generator().manual_seed(3)
        cut = torch.randint(*cut_range(32), (200,), generator=g)
        noisy = oracle_profile(cut, 32) + 0.3 * torch.rand(
            200, 32, generator=g, dtype=torch.float64
        )
        est = estimate_cut(noisy)
        assert (est - cut).abs().le(1).double().mean() > 0.95
        torch.testing.assert_close(estimate_cut(5.0 * noisy + 2.0), est, rtol=0, atol=0)

    def test_ramp_profile_of_an_upsampled_slow_map(self):
        """A slow map (4 steps of 8 frames, sample-aligned) that drops between steps 1 and 2:
        the estimate falls inside the ramp, within one slow step of the true cut."""
        cut = torch.tensor([12])
        steps = torch.tensor([1.0, 1.0, 0.0, 0.0])
        pos = torch.arange(32) / 8
        lo = pos.floor().long().clamp(max=3)
        hi = (lo + 1).clamp(max=3)
        prof = steps[lo] * (1 - (pos - lo)) + steps[hi] * (pos - lo)
        est = int(estimate_cut(prof.unsqueeze(0)))
        assert 8 < est <= 16
        assert score_profiles(prof.unsqueeze(0), cut, tolerance=4).cut_hit.item()

    def test_tolerance(self):
        cut = torch.tensor([8])
        prof = oracle_profile(torch.tensor([10]), 16)
        assert not score_profiles(prof, cut, tolerance=1).cut_hit.item()
        assert score_profiles(prof, cut, tolerance=2).cut_hit.item()
        with pytest.raises(ValueError, match="tolerance"):
            score_profiles(prof, cut, tolerance=-1)

    def test_input_checks(self):
        with pytest.raises(ValueError, match="non-negative"):
            temporal_profile(-torch.ones(1, 4, 2, 2))
        with pytest.raises(ValueError, match=r"cut must lie in \[1, T-1=7\]"):
            score_profiles(torch.ones(1, 8), torch.tensor([8]))
        with pytest.raises(ValueError, match="profile must be"):
            estimate_cut(torch.ones(4))


class TestSummary:
    """The interval itself is :func:`tempaug.analysis.statistics.bootstrap_means`' (tested there);
    here: the row it gives for a localisation score."""

    def test_interval_is_sensible(self):
        mass = torch.rand(300, generator=torch.Generator().manual_seed(0)).double()
        half_a = torch.full((300,), 0.5, dtype=torch.float64)
        s = LocalizationScores(mass, half_a, torch.zeros(300).long(), mass > 0.5, half_a / 5, 0)
        row = summarize(s, seed=1)
        assert row == summarize(s, seed=1) and row != summarize(s, seed=2)
        assert row["mass_in_a_lo"] < row["mass_in_a"] < row["mass_in_a_hi"]
        assert row["mass_in_a"] == pytest.approx(float(mass.mean()))
        # half-width close to 1.96 * sd / sqrt(n) for a uniform variable (sd = 1/sqrt(12))
        half = (row["mass_in_a_hi"] - row["mass_in_a_lo"]) / 2
        assert half == pytest.approx(1.96 / math.sqrt(12 * 300), rel=0.2)

    def test_constant_and_empty(self):
        ones = torch.ones(10, dtype=torch.float64)
        s = LocalizationScores(ones, ones, ones.long(), ones.bool(), ones, 0)
        row = summarize(s)
        assert row["mass_in_a_lo"] == row["mass_in_a"] == row["mass_in_a_hi"] == 1.0
        empty = summarize(LocalizationScores(*(ones[:0],) * 5, 0))
        assert empty["n_clips"] == 0 and math.isnan(empty["cut_acc_lo"])
        with pytest.raises(ValueError, match="level"):
            summarize(s, level=1.0)

    def test_summary_row_is_reproducible(self):
        cut = torch.tensor([4, 6, 8, 10, 12] * 4)
        prof = torch.rand(20, 16, generator=torch.Generator().manual_seed(2))
        s = score_profiles(prof, cut, tolerance=2)
        assert summarize(s, seed=5) == summarize(s, seed=5)
        row = summarize(s)
        assert row["n_clips"] == 20 and row["tolerance"] == 2
        assert row["mass_in_a_lo"] <= row["mass_in_a"] <= row["mass_in_a_hi"]


def frame_detector_net() -> Net:
    """A SlowFast-shaped net whose CAM for class 0 is the input's channel 0 and for class 1 its
    channel 1 on both pathways (identity 1x1x1 convs), so a clip with an A|B channel pattern
    gives an oracle fast-pathway CAM."""
    slow = nn.Conv3d(2, 2, kernel_size=1, bias=False)
    fast = nn.Conv3d(2, 2, kernel_size=1, bias=False)
    proj = nn.Linear(4, 2)
    net = Net(
        blocks=nn.ModuleList(
            [
                MultiPathWayWithFuse(
                    multipathway_blocks=nn.ModuleList([slow, fast]), multipathway_fusion=None
                ),
                PoolConcatPathway(
                    pool=nn.ModuleList([nn.AdaptiveAvgPool3d(1), nn.AdaptiveAvgPool3d(1)])
                ),
                ResNetBasicHead(proj=proj, output_pool=nn.AdaptiveAvgPool3d(1)),
            ]
        )
    )
    with torch.no_grad():
        slow.weight.copy_(torch.eye(2).view(2, 2, 1, 1, 1))
        fast.weight.copy_(torch.eye(2).view(2, 2, 1, 1, 1))
        proj.weight.copy_(torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]))
        proj.bias.zero_()
    return net


class DetectorClassifier(nn.Module):
    """Takes ``(B, T, C, H, W)`` like the project's wrapper; slow = every 4th frame."""

    def __init__(self) -> None:
        super().__init__()
        self.net = frame_detector_net()

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = clips.permute(0, 2, 1, 3, 4)
        return self.net([x[:, :, ::4].contiguous(), x.contiguous()])


def detector_sources() -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.zeros(4, 16, 2, 4, 4)
    src[:2, :, 0] = 1.0  # class 0 clips light channel 0
    src[2:, :, 1] = 1.0  # class 1 clips light channel 1
    return src, torch.tensor([0, 0, 1, 1])


def detector_spliced_set(n: int = 12) -> SplicedClips:
    src, labels = detector_sources()
    return build_spliced_set(src, labels, n, generator=torch.Generator().manual_seed(0))


def test_end_to_end_cam_to_score():
    """Spliced clips -> CAM of class A -> scores: a detector of A's frames scores 1."""
    s = detector_spliced_set()
    x = s.clips.permute(0, 2, 1, 3, 4)  # (N, C, T, H, W)
    inputs = [x[:, :, ::4], x]
    out = class_activation_maps(
        frame_detector_net(), inputs, s.label_a.unsqueeze(1), pathways="fast"
    )
    row = summarize(score_maps(out.maps[:, 0], s.cut, tolerance=0))
    assert row["mass_in_a"] == pytest.approx(1.0)
    assert row["cut_acc"] == 1.0


def test_evaluate_localization_per_pathway_and_batch_invariant():
    src, labels = detector_sources()
    s = build_spliced_set(src, labels, 10, generator=torch.Generator().manual_seed(0))
    model = DetectorClassifier()
    res = evaluate_localization(
        model, src, labels, s.params, pathways=("fast", "slow", "both"), batch_size=3
    )
    assert set(res) == {"fast", "slow", "both"}
    assert torch.all(res["fast"].mass_in_a > 0.999) and res["fast"].cut_hit.all()
    # the slow pathway sees every 4th frame only: coarser, but still above chance
    assert res["slow"].mass_in_a.mean() > res["slow"].chance.mean() + 0.1
    again = evaluate_localization(model, src, labels, s.params, pathways=("slow",), batch_size=16)
    torch.testing.assert_close(again["slow"].mass_in_a, res["slow"].mass_in_a)
    assert torch.equal(again["slow"].cut_hat, res["slow"].cut_hat)
    direct = class_activation_maps(model, s.clips, s.label_a.unsqueeze(1), pathways="slow")
    torch.testing.assert_close(
        score_maps(direct.maps[:, 0], s.cut).mass_in_a, res["slow"].mass_in_a
    )
    # a transform is applied to every spliced batch before the model
    flipped = evaluate_localization(
        model, src, labels, s.params, transform=lambda x: x.flip(2), pathways=("fast",)
    )
    assert torch.all(flipped["fast"].mass_in_a < 1e-6)  # channels swapped: A's map lights B
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_localization(model, src, labels, s.params, batch_size=0)
    with pytest.raises(ValueError, match="same class"):
        evaluate_localization(model, src, torch.zeros(4, dtype=torch.long), s.params)


def test_cut_chance():
    cut = torch.tensor([4, 8, 12])
    s0 = score_profiles(oracle_profile(cut, 16), cut, tolerance=0)
    torch.testing.assert_close(s0.cut_chance, torch.full((3,), 1 / 9, dtype=torch.float64))
    s2 = score_profiles(oracle_profile(cut, 16), cut, tolerance=2)
    torch.testing.assert_close(s2.cut_chance, torch.tensor([3, 5, 3], dtype=torch.float64) / 9)
    row = summarize(s2)
    assert row["cut_chance"] == pytest.approx(11 / 27)
    assert row["mass_chance"] == pytest.approx(0.5)
