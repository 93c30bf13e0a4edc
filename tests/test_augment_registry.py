"""Tests of ``tempaug.augment.build`` / ``METHODS`` and the interface the trainer relies on."""

from __future__ import annotations

import pytest
import torch
from conftest import make_video_batch

import tempaug.augment as A
from tempaug.augment import DELETING_METHODS, METHODS, MIXING_METHODS, build, one_hot

pytestmark = pytest.mark.filterwarnings("error")

EXPECTED = (
    "none",
    "cutout",
    "framecutout",
    "cubecutout",
    "cutmix",
    "framecutmix",
    "cubecutmix",
    "mixup",
    "fademixup",
    "cutmixup",
    "framecutmixup",
    "cubecutmixup",
)
CLASSES = {
    "none": A.NoAugment,
    "cutout": A.CutOut,
    "framecutout": A.FrameCutOut,
    "cubecutout": A.CubeCutOut,
    "cutmix": A.CutMix,
    "framecutmix": A.FrameCutMix,
    "cubecutmix": A.CubeCutMix,
    "mixup": A.MixUp,
    "fademixup": A.FadeMixUp,
    "cutmixup": A.CutMixUp,
    "framecutmixup": A.FrameCutMixUp,
    "cubecutmixup": A.CubeCutMixUp,
}


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_method_tuples():
    assert METHODS == EXPECTED
    assert DELETING_METHODS == ("cutout", "framecutout", "cubecutout")
    assert set(MIXING_METHODS) == set(EXPECTED) - {"none", *DELETING_METHODS}
    assert len(MIXING_METHODS) == 8


@pytest.mark.parametrize("name", EXPECTED)
def test_build_returns_the_class_and_honours_the_call_contract(name):
    aug = build(name, num_classes=5)
    assert type(aug) is CLASSES[name]
    assert build(name.upper(), num_classes=5).__class__ is CLASSES[name]
    clips = make_video_batch(4, 8, 3, 16, 16)
    labels = torch.tensor([4, 0, 1, 1])
    out, targets = aug(clips, labels, generator=gen(0))
    assert out.shape == clips.shape and out.dtype == clips.dtype
    if name in MIXING_METHODS:
        assert targets.shape == (4, 5) and targets.dtype == torch.float32
        torch.testing.assert_close(targets.sum(1), torch.ones(4))
    else:
        assert targets is labels
        assert isinstance(aug(clips), torch.Tensor)  # labels=None -> clips only
        assert aug(clips[0], generator=gen(0)).shape == clips[0].shape  # a single clip
    params = aug.draw_params(clips.shape, generator=gen(1))
    mixed = aug.transform(labels, params) if name in MIXING_METHODS else labels
    applied = aug.transform(clips, params), mixed
    called = aug(clips, labels, generator=gen(1))
    assert torch.equal(applied[0], called[0])
    assert torch.equal(torch.as_tensor(applied[1]), torch.as_tensor(called[1]))


def test_build_passes_kwargs_through():
    aug = build("framecutmix", num_classes=101, alpha=5.0, p=0.5, mode="elem")
    assert (aug.num_classes, aug.alpha, aug.p, aug.mode) == (101, 5.0, 0.5, "elem")
    aug = build("cubecutmixup", num_classes=3, blend_alpha=3.0, cut_prob=0.25)
    assert (aug.blend_alpha, aug.cut_prob) == (3.0, 0.25)
    aug = build("cubecutout", size=80, length=16, fill=0.5)
    assert (aug.size, aug.length, aug.fill) == ((80, 80), 16, 0.5)
    assert isinstance(build("cutout"), A.CutOut)  # num_classes optional for deleting
    assert isinstance(build("none"), A.NoAugment)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match="unknown augmentation 'cutmax'; valid names: none, cutout"
    ):
        build("cutmax")
    with pytest.raises(ValueError, match="framecutmixup, cubecutmixup"):
        build("framemix")
    with pytest.raises(ValueError, match="unknown augmentation"):
        build(None)


def test_bad_kwargs_are_named():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) alpha.*CutOut accepts"):
        build("cutout", alpha=1.0)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) blend_alpha, foo"):
        build("mixup", num_classes=2, foo=1, blend_alpha=2.0)
    with pytest.raises(TypeError, match=r"NoAugment accepts: \(none\)"):
        build("none", p=0.5)
    with pytest.raises(ValueError, match="build\\('cutmix'\\) needs num_classes"):
        build("cutmix", alpha=2.0)
    with pytest.raises(ValueError, match="alpha must be finite and > 0"):
        build("cutmix", num_classes=2, alpha=-1.0)
    with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
        build("cutout", num_classes=-3)


def test_none_is_identity():
    aug = build("none")
    clips = make_video_batch(2, 4, 3, 8, 8)
    labels = torch.tensor([1, 0])
    out, same = aug(clips, labels, generator=gen(0))
    assert torch.equal(out, clips) and same is labels
    # A copy, like every other method (issue 28): an in-place op on it leaves the caller's batch.
    assert out.data_ptr() != clips.data_ptr()
    before = clips.clone()
    out.mul_(0)
    aug(clips).add_(1)
    assert torch.equal(clips, before)
    with pytest.raises(ValueError, match=r"generator must be None or a CPU torch\.Generator"):
        aug(clips, generator="seed")


def test_one_hot_helper():
    labels = torch.tensor([2, 0, 1])
    out = one_hot(labels, 4)
    assert out.dtype == torch.float32
    assert torch.equal(out, torch.eye(4)[labels])
    smooth = one_hot(labels, 4, smoothing=0.1)
    torch.testing.assert_close(smooth.sum(1), torch.ones(3))
    assert smooth[0, 2].item() == pytest.approx(0.925) and smooth[0, 0].item() == pytest.approx(
        0.025
    )
    assert one_hot(torch.tensor([[1, 0]]), 2, dtype=torch.float64).shape == (1, 2, 2)
    assert labels.tolist() == [2, 0, 1]  # not mutated
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\)"):
        one_hot(torch.tensor([4]), 4)
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\)"):
        one_hot(torch.tensor([-1]), 4)
    with pytest.raises(ValueError, match="must be integer class indices"):
        one_hot(torch.tensor([0.0]), 4)
    with pytest.raises(ValueError, match=r"smoothing must be in \[0, 1\)"):
        one_hot(labels, 4, smoothing=1.0)
    with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
        one_hot(labels, 0)


# ------------------------------------------------------------------------------------------
# One convention: every method is a torchvision v2 transform
# ------------------------------------------------------------------------------------------


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", METHODS)
def test_every_method_is_a_v2_transform_with_one_convention(name):
    from torchvision.transforms import v2

    aug = build(name, num_classes=5)
    assert isinstance(aug, v2.Transform)
    clips = make_video_batch(4, 8, 3, 16, 16)
    # make_params (torchvision's hook) draws exactly what draw_params draws for the videos.
    hooked = aug.make_params([clips], _gen(3))
    drawn = aug.draw_params(clips.shape, generator=_gen(3))
    assert torch.equal(aug.transform(clips, hooked), aug.transform(clips, drawn))
    for old in ("sample_params", "sample"):
        assert not hasattr(aug, old), old


@pytest.mark.parametrize("name", METHODS)
def test_every_method_composes_on_a_video_batch_with_labels(name):
    """``v2.Compose([RandAugmentT, method])`` on ``(tv_tensors.Video, labels)``, as v2.CutMix."""
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    aug = build(name, num_classes=5)
    rand_aug_t = A.RandAugmentT(num_ops=2, magnitude=9, mode="mix")
    pipeline = v2.Compose([rand_aug_t, aug])
    clips = make_video_batch(4, 8, 3, 16, 16)
    labels = torch.tensor([4, 0, 1, 1])
    torch.manual_seed(7)  # inside Compose the draws come from torch's default generator
    out, targets = pipeline(tv_tensors.Video(clips), labels)
    assert isinstance(out, tv_tensors.Video) and out.shape == clips.shape
    torch.manual_seed(7)
    ref_clips, ref_targets = aug(rand_aug_t(clips), labels)
    assert type(ref_clips) is torch.Tensor
    assert torch.equal(out.as_subclass(torch.Tensor), ref_clips)
    assert torch.equal(targets, ref_targets)
    if name in MIXING_METHODS:
        assert targets.shape == (4, 5)
    else:
        assert targets is labels


@pytest.mark.parametrize("name", MIXING_METHODS)
def test_mixing_finds_labels_in_a_dict_sample(name):
    aug = build(name, num_classes=5)
    clips = make_video_batch(4, 8, 3, 16, 16)
    labels = torch.tensor([4, 0, 1, 1])
    out = aug({"video": clips, "labels": labels, "id": "x"}, generator=_gen(2))
    ref_clips, ref_targets = aug(clips, labels, generator=_gen(2))
    assert out["id"] == "x"
    assert torch.equal(out["video"], ref_clips) and torch.equal(out["labels"], ref_targets)
    with pytest.raises(ValueError, match=r"mixing needs the labels: call aug\(clips, labels\)"):
        aug(clips, generator=_gen(2))
