"""Bad input gets a clear error, the same on every seed (issue 28, the augmentation part).

The paper's augmentations (Kim et al., ECCV-W 2020, Sections 3.1-3.2) take clips
``(..., T, C, H, W)``, uint8 in ``[0, 255]`` or float in ``[0, 1]``, and labels that are class
indices or probability rows. Each test below was a silent wrong result (or an error on some
seeds only) before the checks; each loops over seeds where the old behaviour depended on the
draw.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import make_video_batch

from tempaug.augment import (
    MIXING_METHODS,
    CubeCutOut,
    CutMix,
    EraseParams,
    FrameCutMix,
    FrameCutOut,
    MixUp,
    RandAugmentT,
    build,
)
from tempaug.augment.registry import UnexpectedArgumentError

SEEDS = range(20)
K = 3


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------
# Layout
# ------------------------------------------------------------------------------------------


def test_randaugment_t_rejects_a_pytorchvideo_clip_on_every_seed():
    """(C, T, H, W) used to raise only when a colour op was drawn (about half the seeds)."""
    clip = make_video_batch(1, 3, 16, 24, 24, dtype=torch.uint8)[0]  # (3, 16, 24, 24)
    aug = RandAugmentT(num_ops=2, magnitude=9)
    for seed in SEEDS:
        with pytest.raises(
            ValueError,
            match=r"got \(3, 16, 24, 24\), which looks like \(C, T, H, W\); "
            r"use video\.permute\(1, 0, 2, 3\)",
        ):
            aug(clip, generator=gen(seed))


def test_randaugment_t_rejects_a_channels_first_batch_and_channels_last_frames():
    aug = RandAugmentT()
    batch = make_video_batch(2, 3, 8, 16, 16)  # (B, C, T, H, W)
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\); use video\.permute\(0, 2, 1, 3, 4\)"):
        aug(batch, generator=gen(0))
    frames_last = make_video_batch(1, 8, 16, 16, 3)[0]  # (T, H, W, C)
    with pytest.raises(ValueError, match=r"\(T, H, W, C\); use video\.permute\(0, 3, 1, 2\)"):
        aug(frames_last, generator=gen(0))
    with pytest.raises(ValueError, match=r"C = 1 or 3 channels at dim -3, got \(8, 5, 16, 16\)$"):
        aug(make_video_batch(1, 8, 5, 16, 16)[0], generator=gen(0))


@pytest.mark.parametrize("method", ["framecutout", "cubecutout", "framecutmix", "cutmixup"])
def test_frame_methods_reject_a_channels_first_batch(method):
    """FrameCutOut / FrameCutMix on (B, C, T, H, W) deleted / swapped colour channels."""
    aug = build(method, num_classes=K)
    batch = make_video_batch(4, 3, 16, 16, 16)  # (B, C=3, T=16, H, W)
    labels = torch.tensor([0, 1, 2, 0])
    for seed in range(5):
        with pytest.raises(ValueError, match=r"use clips\.permute\(0, 2, 1, 3, 4\)"):
            aug(batch, labels, generator=gen(seed))


def test_deleting_a_single_pytorchvideo_clip_is_rejected():
    clip = make_video_batch(1, 3, 16, 16, 16)[0]
    with pytest.raises(ValueError, match=r"use clips\.permute\(1, 0, 2, 3\)"):
        FrameCutOut()(clip, generator=gen(0))


# ------------------------------------------------------------------------------------------
# Value range and fill
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "shift"), [(255.0, 0.0), (1.0 / 0.225, -0.45 / 0.225)], ids=["0-255", "normalized"]
)
def test_randaugment_t_rejects_float_clips_outside_unit_range_on_every_seed(scale, shift):
    clip = make_video_batch(1, 8, 3, 16, 16)[0] * scale + shift
    aug = RandAugmentT(num_ops=2, magnitude=9)
    for seed in SEEDS:
        g = gen(seed)
        state = g.get_state()
        with pytest.raises(ValueError, match=r"must hold values in \[0, 1\].*got values in"):
            aug(clip, generator=g)
        assert torch.equal(g.get_state(), state)  # raised before anything was drawn


def test_randaugment_t_accepts_the_unit_range_edges():
    clip = make_video_batch(1, 8, 3, 16, 16)[0]
    clip[0, 0, 0, 0], clip[-1, -1, -1, -1] = 0.0, 1.0
    RandAugmentT()(clip, generator=gen(0))


@pytest.mark.parametrize(
    ("fill", "dtype"),
    [(300, torch.uint8), (-1, torch.uint8), (0.5, torch.uint8), (128, torch.float32)],
)
def test_randaugment_t_fill_must_fit_the_dtype(fill, dtype):
    """300 on uint8 was clamped to 255 silently; 128 on a [0, 1] float clip was garbage."""
    clip = make_video_batch(1, 8, 3, 16, 16, dtype=dtype)[0]
    aug = RandAugmentT(fill=fill, ops=["Rotate"])
    for seed in range(3):
        with pytest.raises(ValueError, match=r"fill must be .*got"):
            aug(clip, generator=gen(seed))
    RandAugmentT(fill=[0, 1, 0] if dtype != torch.uint8 else [0, 255, 7])(clip, generator=gen(0))


def test_deleting_fill_is_checked_before_anything_is_drawn():
    clips = make_video_batch(2, 8, 3, 16, 16, dtype=torch.uint8)
    g = gen(0)
    state = g.get_state()
    with pytest.raises(ValueError, match=r"fill must be an integer in \[0, 255\].*got 300"):
        CubeCutOut(fill=300)(clips, generator=g)
    assert torch.equal(g.get_state(), state)


# ------------------------------------------------------------------------------------------
# Labels
# ------------------------------------------------------------------------------------------


BAD_SOFT = {
    "negative": torch.tensor([[1.2, -0.2, 0.0], [0.0, 1.0, 0.0]]),
    "sum-2.38": torch.tensor([[0.9, 0.5, 0.98], [0.0, 1.0, 0.0]]),
    "nan": torch.tensor([[float("nan"), 0.5, 0.5], [0.0, 1.0, 0.0]]),
}


@pytest.mark.parametrize("method", MIXING_METHODS)
@pytest.mark.parametrize("bad", list(BAD_SOFT), ids=list(BAD_SOFT))
def test_soft_labels_must_be_probabilities(method, bad):
    """Rows that are not probabilities passed through (targets summing to 2.38)."""
    clips = make_video_batch(2, 8, 3, 16, 16)
    aug = build(method, num_classes=K)
    for seed in range(5):
        with pytest.raises(ValueError, match=r"labels of shape \(B, K\) must be probabilities"):
            aug(clips, BAD_SOFT[bad], generator=gen(seed))
    good = torch.tensor([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])
    _, targets = aug(clips, good, generator=gen(0))
    torch.testing.assert_close(targets.sum(1), torch.ones(2, dtype=targets.dtype))


@pytest.mark.parametrize("method", MIXING_METHODS)
def test_index_labels_are_checked_before_anything_is_drawn(method):
    clips = make_video_batch(2, 8, 3, 16, 16)
    aug = build(method, num_classes=K)
    for labels, match in [
        (torch.tensor([0, 3]), r"class indices in \[0, 3\).*got values in \[0, 3\]"),
        (torch.tensor([0.0, 1.0]), r"labels of shape \(B,\) must be integer class indices"),
    ]:
        g = gen(0)
        state = g.get_state()
        with pytest.raises(ValueError, match=match):
            aug(clips, labels, generator=g)
        assert torch.equal(g.get_state(), state)


# ------------------------------------------------------------------------------------------
# Outputs never alias the input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["none", *MIXING_METHODS])
@pytest.mark.parametrize("mode", ["batch", "elem"])
def test_unmixed_output_is_a_copy(method, mode):
    """``none`` and ``p=0`` returned the caller's tensor: a later in-place op changed it."""
    clips = make_video_batch(4, 8, 3, 16, 16)
    labels = torch.tensor([0, 1, 2, 0])
    before = clips.clone()
    kw = {} if method == "none" else {"num_classes": K, "p": 0.0, "mode": mode}
    out, _ = build(method, **kw)(clips, labels, generator=gen(0))
    assert torch.equal(out, before)
    out.mul_(0.5)
    assert torch.equal(clips, before)


# ------------------------------------------------------------------------------------------
# Parameter objects and apply()
# ------------------------------------------------------------------------------------------


def test_mix_params_that_do_not_fit_the_clips():
    clips = make_video_batch(4, 8, 3, 16, 16)
    labels = torch.tensor([0, 1, 2, 0])
    aug = CutMix(num_classes=K)
    with pytest.raises(ValueError, match=r"params\.perm has shape \(2,\) but clips of shape"):
        aug.transform(clips, aug.draw_params((2, 8, 3, 16, 16), generator=gen(0)))
    with pytest.raises(ValueError, match=r"params\.weight_out has shape \(4, 4\)"):
        aug.transform(clips, aug.draw_params((4, 4, 3, 16, 16), generator=gen(0)))
    good = aug.draw_params(clips.shape, generator=gen(0))
    bad_perm = dataclasses.replace(good, perm=torch.tensor([0, 1, 2, 4]))
    with pytest.raises(ValueError, match=r"params\.perm must hold clip indices in \[0, 4\)"):
        aug.transform(clips, bad_perm)
    with pytest.raises(ValueError, match=r"params must be MixParams.*got EraseParams"):
        aug.transform(clips, EraseParams(box=torch.zeros(4, 6), erased=torch.ones(4)))
    with pytest.raises(ValueError, match=r"labels have batch size 4 but params are for 2 clips"):
        aug.transform(labels, aug.draw_params((2, 8, 3, 16, 16), generator=gen(0)))
    with pytest.raises(ValueError, match=r"params must be MixParams.*got EraseParams"):
        aug.transform(labels, EraseParams(box=torch.zeros(4, 6), erased=torch.ones(4)))


def test_erase_params_that_do_not_fit_the_clips():
    clips = make_video_batch(4, 8, 3, 16, 16)
    aug = FrameCutOut()
    with pytest.raises(ValueError, match=r"box must have shape \(4, 6\).*got \(2, 6\)"):
        aug.transform(clips, aug.draw_params((2, 8, 3, 16, 16), generator=gen(0)))
    mix = MixUp(num_classes=K).draw_params(clips.shape, generator=gen(0))
    with pytest.raises(ValueError, match=r"params must be EraseParams.*got MixParams"):
        aug.transform(clips, mix)


def test_randaugment_params_that_do_not_fit_the_clips():
    clips = make_video_batch(4, 8, 3, 16, 16)
    aug = RandAugmentT()
    with pytest.raises(ValueError, match=r"the video needs \(4, N\) and \(4, N, 8\)"):
        aug.transform(clips, aug.draw_params((2, 8, 3, 16, 16), generator=gen(0)))
    with pytest.raises(ValueError, match=r"the video needs \(4, N\) and \(4, N, 8\)"):
        aug.transform(clips, aug.draw_params((4, 6, 3, 16, 16), generator=gen(0)))
    params = aug.draw_params((4, 8, 3, 16, 16), generator=gen(0))
    other = RandAugmentT(ops=["Identity", "Rotate"]).draw_params(
        (4, 8, 3, 16, 16), generator=gen(0)
    )
    mixed = type(params)(**{**vars(params), "ops": other.ops})
    if int(params.op_ids.max()) >= len(other.ops):
        with pytest.raises(ValueError, match=r"params\.op_ids must index params\.ops \(0\.\.1\)"):
            aug.transform(clips, mixed)
    with pytest.raises(ValueError, match=r"params must be RandAugmentTParams.*got dict"):
        aug.transform(clips, {"params": params})


# ------------------------------------------------------------------------------------------
# Constructors and build()
# ------------------------------------------------------------------------------------------


def test_build_rejects_a_non_string_name_and_unknown_kwargs_as_value_errors():
    with pytest.raises(ValueError, match=r"unknown augmentation \['cutmix'\] \(list\)"):
        build(["cutmix"])
    with pytest.raises(ValueError, match=r"unexpected keyword argument\(s\) alhpa.*accepts"):
        build("mixup", num_classes=K, alhpa=2.0)
    with pytest.raises(TypeError):  # still a TypeError for callers that catch that
        build("cutout", length=0.5)
    assert issubclass(UnexpectedArgumentError, ValueError)


@pytest.mark.parametrize("name", ["p", "alpha"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, True, "0.5"])
def test_bad_p_and_alpha_name_the_argument(name, value):
    if name == "p" and value == float("inf"):
        value = 1.5
    with pytest.raises(ValueError, match=rf"^{name} must"):
        FrameCutMix(num_classes=K, **{name: value})
