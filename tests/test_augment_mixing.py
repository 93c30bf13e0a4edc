"""Tests of the cut-and-paste / blending family (paper Section 3.2, Eq. 1, Eq. 2, Table 1).

The central invariant: when every clip is a constant encoding of its own label vector (one
channel per class), the mean of an output clip over T*H*W *is* the mixture of the sources'
labels, so ``targets == out.mean((T, H, W))`` checks that each target weight equals the exact
fraction of that source in the pixels.
"""

from __future__ import annotations

import pickle

import pytest
import torch
from conftest import make_video_batch, requires_cuda

from tempaug.augment import (
    CubeCutMix,
    CubeCutMixUp,
    CutMix,
    CutMixUp,
    FadeMixUp,
    FrameCutMix,
    FrameCutMixUp,
    MixParams,
    MixUp,
)
from tempaug.augment._reference import reference_mix, reference_targets
from tempaug.augment.mixing import _sample_region, blend, cut_blend, cut_paste

pytestmark = pytest.mark.filterwarnings("error")

ALL = [CutMix, FrameCutMix, CubeCutMix, MixUp, FadeMixUp, CutMixUp, FrameCutMixUp, CubeCutMixUp]
CUT = [CutMix, FrameCutMix, CubeCutMix]
CUTMIXUP = [CutMixUp, FrameCutMixUp, CubeCutMixUp]
BLENDING = [MixUp, FadeMixUp, *CUTMIXUP]
MODES = ["batch", "elem"]
ids = [c.__name__ for c in ALL]


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def encode(rows: torch.Tensor, frames: int, height: int, width: int) -> torch.Tensor:
    """Clips ``(B, T, K, H, W)`` whose every pixel is the clip's label row ``(K,)``."""
    batch, classes = rows.shape
    return rows[:, None, :, None, None].expand(batch, frames, classes, height, width).contiguous()


def max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def assert_fraction_invariant(out: torch.Tensor, targets: torch.Tensor) -> None:
    """Each target weight == exact fraction of that source in the pixels; rows sum to 1."""
    fractions = out.double().mean(dim=(1, 3, 4))  # (B, K): mixture of the label rows
    assert targets.shape == fractions.shape
    err = max_err(targets, fractions)
    assert err <= 1e-6, f"target weights differ from the pixel fractions by {err}"
    err = max_err(targets.double().sum(1), torch.ones(len(targets)))
    assert err <= 1e-6, f"target rows do not sum to 1 (off by {err})"


# ------------------------------------------------------------------------------------------
# The label invariant, thousands of draws per method and mode
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_targets_equal_pixel_fractions_elem(cls):
    batch, frames, height, width = 64, 5, 7, 6  # odd sizes exercise flooring and clipping
    labels = torch.arange(batch)
    clips = encode(torch.eye(batch), frames, height, width)
    mixed = 0
    for seed in range(32):  # 32 x 64 = 2048 independent draws
        alpha = (0.3, 1.0, 5.0)[seed % 3]
        p = (1.0, 0.6)[seed % 2]
        aug = cls(num_classes=batch, alpha=alpha, p=p, mode="elem")
        params = aug.draw_params(clips.shape, generator=gen(seed))
        out, targets = aug.transform(clips, params), aug.transform(labels, params)
        assert_fraction_invariant(out, targets)
        assert ((targets > 0).sum(1) <= 2).all()
        own = targets[torch.arange(batch), labels].double()
        self_paired = params.perm == labels
        assert max_err(own[~self_paired], params.lam[~self_paired]) <= 1e-6
        assert (own[self_paired] == 1).all()
        mixed += int(params.mixed.sum())
    assert mixed > 1000  # the gate let most draws through, so the invariant saw real mixes


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_targets_equal_pixel_fractions_batch(cls):
    batch, frames, height, width = 4, 5, 7, 6
    labels = torch.arange(batch)
    clips = encode(torch.eye(batch), frames, height, width)
    augs = [cls(num_classes=batch, alpha=a, mode="batch") for a in (0.3, 1.0, 5.0)]
    g = gen(0)
    lams = []
    for i in range(1000):  # one draw per call in batch mode
        out, targets = augs[i % 3](clips, labels, generator=g)
        assert_fraction_invariant(out, targets)
        lams.append(targets[torch.arange(batch), labels])
    lams = torch.stack(lams)
    assert lams.lt(0.999).any(dim=1).float().mean() > 0.5  # most draws actually mixed


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_soft_labels_and_smoothing_keep_the_invariant(cls, mode):
    batch, classes, frames, height, width = 16, 5, 4, 6, 5
    soft = torch._sample_dirichlet(
        torch.ones(batch, classes, dtype=torch.float64), generator=gen(3)
    )
    soft = soft.float()
    clips = encode(soft, frames, height, width)
    aug = cls(num_classes=classes, mode=mode)
    for seed in range(10):
        out, targets = aug(clips, soft, generator=gen(seed))
        assert targets.shape == (batch, classes) and targets.dtype == torch.float32
        assert_fraction_invariant(out, targets)
    # label smoothing is folded into the one-hot of index labels
    smooth = cls(num_classes=batch, mode=mode, label_smoothing=0.2)
    rows = torch.full((batch, batch), 0.2 / batch)
    rows[torch.arange(batch), torch.arange(batch)] += 0.8
    clips = encode(rows, frames, height, width)
    for seed in range(10):
        out, targets = smooth(clips, torch.arange(batch), generator=gen(seed))
        assert_fraction_invariant(out, targets)


# ------------------------------------------------------------------------------------------
# Generic contract: shape / dtype / device, no mutation, determinism, params split
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_shape_dtype_kept_and_input_not_mutated(cls, mode, dtype):
    clips = make_video_batch(4, 6, 3, 10, 12, dtype=dtype)
    before = clips.clone()
    version = clips._version
    labels = torch.tensor([0, 2, 1, 2])
    out, targets = cls(num_classes=3, mode=mode)(clips, labels, generator=gen(1))
    assert out.shape == clips.shape and out.dtype == dtype and out.device == clips.device
    assert targets.shape == (4, 3) and targets.dtype == torch.float32
    assert clips._version == version and torch.equal(clips, before)
    assert labels.tolist() == [0, 2, 1, 2]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_same_generator_same_output_different_seed_different(cls, mode):
    clips = make_video_batch(8, 8, 3, 16, 16)
    labels = torch.arange(8)
    aug = cls(num_classes=8, mode=mode, alpha=2.0)
    out_a, tgt_a = aug(clips, labels, generator=gen(5))
    out_b, tgt_b = aug(clips, labels, generator=gen(5))
    assert torch.equal(out_a, out_b) and torch.equal(tgt_a, tgt_b)
    outs = [aug(clips, labels, generator=gen(s))[0] for s in (6, 7, 8)]
    assert any(not torch.equal(out_a, o) for o in outs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_apply_of_sampled_params_equals_call_and_loop_reference(cls, mode):
    clips = make_video_batch(6, 7, 3, 9, 11)
    labels = torch.arange(6) % 4
    aug = cls(num_classes=4, mode=mode, p=0.8)
    for seed in range(6):
        params = aug.draw_params(clips.shape, generator=gen(seed))
        assert isinstance(params, MixParams)
        for t in (params.perm, params.lam, params.mixed, params.box, params.weight_out):
            assert t.device.type == "cpu"
        out, targets = aug.transform(clips, params), aug.transform(labels, params)
        out_call, targets_call = aug(clips, labels, generator=gen(seed))
        assert torch.equal(out, out_call) and torch.equal(targets, targets_call)
        assert torch.equal(out, reference_mix(clips, params))
        one_hot = torch.nn.functional.one_hot(labels, 4).float()
        torch.testing.assert_close(targets, reference_targets(one_hot, params))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", CUT, ids=[c.__name__ for c in CUT])
def test_cut_family_accepts_uint8_exactly(cls, mode):
    clips = make_video_batch(5, 6, 3, 8, 8, dtype=torch.uint8)
    aug = cls(num_classes=5, mode=mode)
    params = aug.draw_params(clips.shape, generator=gen(2))
    out = aug.transform(clips, params)
    assert out.dtype == torch.uint8
    assert torch.equal(out, reference_mix(clips, params))


@pytest.mark.parametrize("cls", BLENDING, ids=[c.__name__ for c in BLENDING])
def test_blending_rejects_integer_clips(cls):
    clips = make_video_batch(2, 4, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(ValueError, match="clips must be floating"):
        cls(num_classes=2)(clips, torch.arange(2))


def test_pickle_round_trip_keeps_behaviour():
    aug = CubeCutMixUp(num_classes=3, alpha=2.0, mode="elem", p=0.7, cut_prob=0.9)
    clone = pickle.loads(pickle.dumps(aug))
    assert repr(clone) == repr(aug)
    clips = make_video_batch(4, 6, 3, 8, 8)
    a = aug(clips, torch.arange(4) % 3, generator=gen(0))
    b = clone(clips, torch.arange(4) % 3, generator=gen(0))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


# ------------------------------------------------------------------------------------------
# Modes and gates
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_batch_mode_shares_one_draw_elem_mode_draws_per_clip(cls):
    shape = (32, 64, 3, 16, 16)
    batch_params = cls(num_classes=2, mode="batch").draw_params(shape, generator=gen(0))
    for t in (batch_params.box, batch_params.weight_in, batch_params.weight_out, batch_params.lam):
        assert (t == t[0]).all()
    assert sorted(batch_params.perm.tolist()) == list(range(32))
    elem = cls(num_classes=2, mode="elem").draw_params(shape, generator=gen(0))
    assert sorted(elem.perm.tolist()) == list(range(32))
    assert len(set(elem.lam.tolist())) > 10
    if cls not in (MixUp, FadeMixUp):
        assert not (elem.box == elem.box[0]).all()


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_gate_p(cls):
    clips = make_video_batch(4, 4, 3, 8, 8)
    labels = torch.tensor([1, 0, 2, 1])
    out, targets = cls(num_classes=3, p=0.0)(clips, labels, generator=gen(0))
    assert torch.equal(out, clips)
    assert torch.equal(targets, torch.nn.functional.one_hot(labels, 3).float())
    shape = (4000, 2, 1, 2, 2)
    params = cls(num_classes=3, p=0.3, mode="elem").draw_params(shape, generator=gen(1))
    assert abs(params.mixed.float().mean().item() - 0.3) < 0.03
    assert (params.lam[~params.mixed] == 1).all()
    assert (params.box[~params.mixed] == 0).all()
    hits = [
        bool(cls(num_classes=3, p=0.5).draw_params((4, 2, 1, 2, 2), generator=gen(s)).mixed[0])
        for s in range(400)
    ]
    assert 0.4 < sum(hits) / len(hits) < 0.6


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_single_clip_batch_is_unchanged_with_one_hot_targets(cls):
    clips = make_video_batch(1, 4, 3, 8, 8)
    out, targets = cls(num_classes=5, alpha=2.0)(clips, torch.tensor([3]), generator=gen(0))
    assert torch.equal(out, clips)
    assert torch.equal(targets, torch.tensor([[0.0, 0.0, 0.0, 1.0, 0.0]]))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_degenerate_sizes(cls, mode):
    empty = torch.zeros(0, 4, 3, 8, 8)
    out, targets = cls(num_classes=3, mode=mode)(empty, torch.zeros(0, dtype=torch.long))
    assert out.shape == empty.shape and targets.shape == (0, 3)
    one_frame = encode(torch.eye(6), 1, 5, 5)
    out, targets = cls(num_classes=6, mode=mode)(one_frame, torch.arange(6), generator=gen(0))
    assert_fraction_invariant(out, targets)


# ------------------------------------------------------------------------------------------
# Method-specific geometry (Section 3.2)
# ------------------------------------------------------------------------------------------


def test_region_axes_per_method():
    frames, height, width = 8, 12, 10
    shape = (256, frames, 3, height, width)
    cut = CutMix(num_classes=2, mode="elem").draw_params(shape, generator=gen(0))
    nonempty = cut.box[:, 1] > 0
    assert nonempty.any()
    assert (cut.box[nonempty, 0] == 0).all() and (cut.box[nonempty, 1] == frames).all()
    frame = FrameCutMix(num_classes=2, mode="elem").draw_params(shape, generator=gen(0))
    nonempty = frame.box[:, 1] > 0
    assert (frame.box[nonempty, 2:] == torch.tensor([0, height, 0, width])).all()
    cube = CubeCutMix(num_classes=2, mode="elem").draw_params(shape, generator=gen(0))
    extent = cube.box[:, 1::2] - cube.box[:, 0::2]
    assert ((extent > 0) & (extent < torch.tensor([frames, height, width]))).all(1).any()


def test_region_sizes_follow_lambda_and_are_clipped():
    lam = torch.full((2000,), 0.75, dtype=torch.float64)
    box = _sample_region("spatial", lam, 8, 16, 20, gen(0))  # side sqrt(0.25) = 1/2
    h, w = box[:, 3] - box[:, 2], box[:, 5] - box[:, 4]
    assert h.max() == 8 and w.max() == 10 and h.min() < 8  # full size inside, clipped at borders
    assert (box[:, 2] >= 0).all() and (box[:, 3] <= 16).all() and (box[:, 5] <= 20).all()
    assert set(box[:, 2].tolist()) >= {0} and set(box[:, 3].tolist()) >= {16}
    box = _sample_region("temporal", lam, 64, 16, 20, gen(0))  # 1/4 of the frames
    assert (box[:, 1] - box[:, 0]).max() == 16
    lam = torch.full((2000,), 1 - 0.125, dtype=torch.float64)
    box = _sample_region("cube", lam, 16, 16, 32, gen(0))  # side (1/8) ** (1/3) = 1/2
    extent = box[:, 1::2] - box[:, 0::2]
    assert extent.max(0).values.tolist() == [8, 8, 16]


def test_fade_weights_are_a_symmetric_linear_ramp():
    frames = 9
    aug = FadeMixUp(num_classes=2, mode="elem", alpha=1.0)
    params = aug.draw_params((3000, frames, 1, 2, 2), generator=gen(0))
    w = params.weight_out
    second_diff = w[:, 2:] - 2 * w[:, 1:-1] + w[:, :-2]
    assert second_diff.abs().max() < 1e-6  # linear in t
    lam = w.mean(1)
    gamma = (w[:, -1] - w[:, 0]).abs() / 2
    assert (gamma <= torch.minimum(lam, 1 - lam) + 1e-6).all()  # gamma ~ U(0, min(lam, 1-lam))
    slope = w[:, -1] - w[:, 0]
    assert (slope > 0).float().mean().item() == pytest.approx(0.5, abs=0.05)  # both directions
    assert (w >= 0).all() and (w <= 1).all()
    torch.testing.assert_close(params.lam, lam, atol=1e-12, rtol=0)
    # the ramp spreads over the admissible range rather than sitting at gamma = 0
    ratio = gamma / torch.minimum(lam, 1 - lam).clamp_min(1e-9)
    assert ratio.mean().item() == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("cls", CUTMIXUP, ids=[c.__name__ for c in CUTMIXUP])
def test_cutmixup_region_is_pure_source_chosen_by_blend_ratio(cls):
    shape = (3000, 64, 1, 64, 64)  # sampled shape only; large so empty regions are rare
    params = cls(num_classes=2, mode="elem").draw_params(shape, generator=gen(0))
    lam1 = params.weight_out[:, 0]
    assert (params.weight_out == lam1[:, None]).all()
    has_region = params.box.abs().sum(1) > 0
    assert has_region.float().mean().item() == pytest.approx(0.5, abs=0.05)  # cut_prob 0.5
    expected_in = torch.where(lam1 >= 0.5, 0.0, 1.0).double()
    assert torch.equal(params.weight_in, expected_in)
    # lam1 ~ Beta(2, 2): mean 1/2, variance 1/20
    assert lam1.mean().item() == pytest.approx(0.5, abs=0.02)
    assert lam1.var().item() == pytest.approx(0.05, abs=0.006)
    never = cls(num_classes=2, mode="elem", cut_prob=0.0).draw_params(shape, generator=gen(0))
    assert (never.box == 0).all()
    always = cls(num_classes=2, mode="elem", cut_prob=1.0).draw_params(shape, generator=gen(0))
    assert (always.box.abs().sum(1) > 0).float().mean() > 0.9


@pytest.mark.parametrize("cls", CUTMIXUP, ids=[c.__name__ for c in CUTMIXUP])
def test_cutmixup_label_matches_authors_formula(cls):
    # own weight = lam1 * (1 - r) (+ r when lam1 < 0.5), r = realised region fraction
    shape = (2000, 8, 1, 10, 10)
    params = cls(num_classes=2, mode="elem", cut_prob=1.0).draw_params(shape, generator=gen(4))
    r = (params.box[:, 1::2] - params.box[:, 0::2]).prod(1).double() / (8 * 10 * 10)
    lam1 = params.weight_out[:, 0]
    expected = torch.where(lam1 >= 0.5, lam1 * (1 - r), lam1 * (1 - r) + r)
    torch.testing.assert_close(params.lam, expected, atol=1e-12, rtol=0)


def test_mixup_lambda_distribution_follows_alpha():
    shape = (4000, 2, 1, 2, 2)
    lam = MixUp(num_classes=2, alpha=5.0, mode="elem").draw_params(shape, generator=gen(0)).lam
    assert lam.mean().item() == pytest.approx(0.5, abs=0.01)
    assert lam.var().item() == pytest.approx(1 / 44, abs=0.003)  # Beta(5,5): 1/(4*11)
    lam = MixUp(num_classes=2, alpha=0.2, mode="elem").draw_params(shape, generator=gen(0)).lam
    assert lam.var().item() == pytest.approx(1 / 5.6, abs=0.02)  # Beta(.2,.2): 1/(4*1.4)


def test_kernels_are_pure_functions_of_their_params():
    clips = make_video_batch(3, 4, 2, 5, 5)
    perm = torch.tensor([2, 0, 1])
    box = torch.tensor([[1, 3, 0, 5, 2, 4]] * 3)
    out = cut_paste(clips, perm, box)
    assert torch.equal(out[:, 1:3, :, :, 2:4], clips[perm][:, 1:3, :, :, 2:4])
    outside = torch.ones(3, 4, 1, 5, 5, dtype=torch.bool)
    outside[:, 1:3, :, :, 2:4] = False
    assert torch.equal(out * outside, clips * outside)
    w = torch.tensor([0.0, 0.25, 0.5, 1.0]).repeat(3, 1)
    mixed = blend(clips, perm, w)
    torch.testing.assert_close(
        mixed, w[:, :, None, None, None] * clips + (1 - w)[:, :, None, None, None] * clips[perm]
    )
    both = cut_blend(clips, perm, box, torch.ones(3, dtype=torch.float64), w)
    assert torch.equal(both[:, 1:3, :, :, 2:4], clips[:, 1:3, :, :, 2:4])


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_classes": 0}, "num_classes must be an int >= 1"),
        ({"num_classes": 2.5}, "num_classes must be an int >= 1"),
        ({"num_classes": 3, "alpha": 0.0}, "alpha must be finite and > 0"),
        ({"num_classes": 3, "alpha": float("inf")}, "alpha must be finite and > 0"),
        ({"num_classes": 3, "p": 1.5}, r"p must be in \[0, 1\]"),
        ({"num_classes": 3, "mode": "pair"}, "mode must be 'batch' or 'elem'"),
        ({"num_classes": 3, "label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
    ],
)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_constructor_errors(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("cls", CUTMIXUP, ids=[c.__name__ for c in CUTMIXUP])
def test_cutmixup_constructor_errors(cls):
    with pytest.raises(ValueError, match="blend_alpha must be finite and > 0"):
        cls(num_classes=2, blend_alpha=-1.0)
    with pytest.raises(ValueError, match=r"cut_prob must be in \[0, 1\]"):
        cls(num_classes=2, cut_prob=2.0)


def test_num_classes_is_required():
    with pytest.raises(TypeError, match="num_classes"):
        CutMix()


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_call_errors(cls):
    aug = cls(num_classes=3)
    clips = make_video_batch(4, 4, 3, 8, 8)
    with pytest.raises(ValueError, match=r"clips must be a batch of shape \(B, T, C, H, W\)"):
        aug(clips[0], torch.arange(4) % 3)
    with pytest.raises(ValueError, match="labels must have batch size 4 to match clips, got 3"):
        aug(clips, torch.arange(3))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        aug(clips, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"must be \(4, 3\)"):
        aug(clips, torch.rand(4, 5))
    with pytest.raises(ValueError, match=r"class indices \(B,\) or probabilities \(B, K\)"):
        aug(clips, torch.zeros(4, 3, 1))
    with pytest.raises(ValueError, match=r"generator must be None or a CPU torch\.Generator"):
        aug(clips, torch.arange(4) % 3, generator=0)
    params = aug.draw_params((5, 4, 3, 8, 8), generator=gen(0))
    with pytest.raises(ValueError, match=r"params.perm has shape \(5,\)"):
        aug.transform(clips, params)
    with pytest.raises(ValueError, match=r"shape must be \(B, T, C, H, W\)"):
        aug.draw_params((4, 3, 8, 8))


# ------------------------------------------------------------------------------------------
# CUDA
# ------------------------------------------------------------------------------------------


@requires_cuda
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_cuda_matches_cpu(cls, mode):
    clips = make_video_batch(8, 8, 3, 16, 16)
    labels = torch.arange(8) % 5
    aug = cls(num_classes=5, mode=mode, p=0.8)
    out_cpu, tgt_cpu = aug(clips, labels, generator=gen(11))
    out_gpu, tgt_gpu = aug(clips.cuda(), labels.cuda(), generator=gen(11))
    assert out_gpu.device.type == "cuda" and tgt_gpu.device.type == "cuda"
    assert out_gpu.dtype == clips.dtype and out_gpu.shape == clips.shape
    if cls in CUT:
        assert torch.equal(out_gpu.cpu(), out_cpu)
    else:
        torch.testing.assert_close(out_gpu.cpu(), out_cpu, atol=1e-6, rtol=0)
    torch.testing.assert_close(tgt_gpu.cpu(), tgt_cpu, atol=1e-6, rtol=0)
    # the invariant on the GPU too
    enc = encode(torch.eye(8), 4, 5, 6).cuda()
    out, targets = cls(num_classes=8, mode=mode)(enc, torch.arange(8).cuda(), generator=gen(3))
    assert_fraction_invariant(out.cpu(), targets.cpu())
