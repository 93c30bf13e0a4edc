"""Tests of the deleting family: CutOut, FrameCutOut, CubeCutOut (paper Section 3.2, 4.3)."""

from __future__ import annotations

import pickle

import pytest
import torch
from conftest import make_video_batch, requires_cuda

from tempaug.augment import CubeCutOut, CutOut, EraseParams, FrameCutOut
from tempaug.augment._reference import reference_erase
from tempaug.augment.deleting import erase

pytestmark = pytest.mark.filterwarnings("error")

ALL = [CutOut, FrameCutOut, CubeCutOut]
ids = [c.__name__ for c in ALL]
PAPER_SHAPE = (512, 64, 3, 160, 160)  # only passed to draw_params, never allocated


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def extents(box: torch.Tensor) -> torch.Tensor:
    """``(n, 3)`` region lengths along T, H, W."""
    return box[..., 1::2] - box[..., 0::2]


# ------------------------------------------------------------------------------------------
# Paper defaults and geometry
# ------------------------------------------------------------------------------------------


def test_paper_default_sizes():
    # Section 4.3: 80x80 patch of a 160 crop, 16 of 64 frames, 80x80x16 cube.
    cut = CutOut().draw_params(PAPER_SHAPE, generator=gen(0)).box
    assert extents(cut).amax(0).tolist() == [64, 80, 80]
    assert (cut[:, 0] == 0).all() and (cut[:, 1] == 64).all()
    frame = FrameCutOut().draw_params(PAPER_SHAPE, generator=gen(0)).box
    assert extents(frame).amax(0).tolist() == [16, 160, 160]
    cube = CubeCutOut().draw_params(PAPER_SHAPE, generator=gen(0)).box
    assert extents(cube).amax(0).tolist() == [16, 80, 80]


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_centre_uniform_and_clipped_at_borders(cls):
    shape = (20000, 16, 1, 20, 24)
    box = cls().draw_params(shape, generator=gen(1)).box
    assert (box[:, 0::2] >= 0).all()
    assert (box[:, 1::2] <= torch.tensor([16, 20, 24])).all()
    assert (box[:, 0::2] < box[:, 1::2]).all()  # never empty with p=1
    axes = ([0] if cls is not CutOut else []) + ([1, 2] if cls is not FrameCutOut else [])
    dims = [16, 20, 24]
    full = [4, 10, 12]  # 0.25 * T, 0.5 * H, 0.5 * W
    for a in axes:
        length = extents(box)[:, a]
        assert length.max() == full[a] and length.min() < full[a]  # clipped near the borders
        centre = box[:, 2 * a] + full[a] // 2  # the centre of the unclipped interval ...
        unclipped = length == full[a]
        counts = torch.bincount(centre[unclipped], minlength=dims[a])
        visited = counts[full[a] // 2 : dims[a] - (full[a] - full[a] // 2) + 1]
        assert (visited > 0).all()
        # ... is uniform over the integer positions: the clipped ones land at the borders
        starts = torch.bincount(box[:, 2 * a], minlength=dims[a]).double()
        assert starts[0] > starts[1:].max()
        inner = starts[1 : dims[a] - full[a] + 1]
        assert inner.std() / inner.mean() < 0.15


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"size": 5}, [8, 5, 5]),
        ({"size": (3, 7)}, [8, 3, 7]),
        ({"size": (0.25, 1.0)}, [8, 3, 14]),
        ({"size": 1.0}, [8, 13, 14]),
    ],
)
def test_cutout_size_forms(kwargs, expected):
    box = CutOut(**kwargs).draw_params((4000, 8, 3, 13, 14), generator=gen(0)).box
    assert extents(box).amax(0).tolist() == expected


def test_frame_and_cube_length_forms():
    box = FrameCutOut(length=3).draw_params((4000, 10, 3, 5, 5), generator=gen(0)).box
    assert extents(box).amax(0).tolist() == [3, 5, 5]
    box = CubeCutOut(size=2, length=0.5).draw_params((4000, 10, 3, 5, 5), generator=gen(0)).box
    assert extents(box).amax(0).tolist() == [5, 2, 2]
    box = FrameCutOut(length=0.01).draw_params((100, 10, 3, 5, 5), generator=gen(0)).box
    assert extents(box).amax(0).tolist() == [1, 5, 5]  # a fraction never rounds to nothing


# ------------------------------------------------------------------------------------------
# Pixels
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float16])
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_region_filled_rest_untouched_and_matches_loop_reference(cls, dtype):
    clips = make_video_batch(6, 8, 3, 12, 10, dtype=dtype)
    clips = clips | 1 if dtype == torch.uint8 else clips + 0.01  # no pixel is 0 before
    aug = cls()
    params = aug.draw_params(clips.shape, generator=gen(3))
    out = aug.transform(clips, params)
    assert out.shape == clips.shape and out.dtype == dtype
    assert torch.equal(out, reference_erase(clips, params, 0.0))
    deleted = out == 0
    volume = extents(params.box).prod(-1)  # (B,)
    assert deleted.sum(dim=(1, 2, 3, 4)).tolist() == (volume * 3).tolist()
    kept = ~deleted
    assert torch.equal(out[kept], clips[kept])


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_fill_values(cls):
    clips = make_video_batch(3, 8, 3, 8, 8, dtype=torch.uint8)
    params = cls().draw_params(clips.shape, generator=gen(0))
    out = cls(fill=255).transform(clips, params)
    assert torch.equal(out, reference_erase(clips, params, 255))
    floats = make_video_batch(3, 8, 3, 8, 8) * 0.5
    out = cls(fill=0.75).transform(floats, params)
    assert torch.equal(out, reference_erase(floats, params, 0.75))
    assert (out == 0.75).sum() == extents(params.box).prod(-1).sum() * 3
    with pytest.raises(ValueError, match=r"fill must be an integer in \[0, 255\] for uint8"):
        cls(fill=0.5)(clips)
    with pytest.raises(ValueError, match=r"fill must be an integer in \[0, 255\] for uint8"):
        cls(fill=300)(clips)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_each_clip_its_own_region_over_all_leading_dims(cls):
    single = make_video_batch(1, 8, 3, 16, 16)[0]
    params = cls().draw_params(single.shape, generator=gen(0))
    assert params.box.shape == (6,) and params.erased.shape == ()
    out = cls()(single, generator=gen(0))
    assert out.shape == single.shape and torch.equal(out, reference_erase(single, params))
    nested = make_video_batch(6, 8, 3, 16, 16).reshape(2, 3, 8, 3, 16, 16)
    params = cls().draw_params(nested.shape, generator=gen(0))
    assert params.box.shape == (2, 3, 6)
    assert len({tuple(r) for r in params.box.reshape(-1, 6).tolist()}) > 1
    out = cls().transform(nested, params)
    assert torch.equal(out, reference_erase(nested, params))
    # the flattened batch gets the same regions as the nested one
    flat = cls().draw_params((6, 8, 3, 16, 16), generator=gen(0))
    assert torch.equal(flat.box, params.box.reshape(6, 6))


# ------------------------------------------------------------------------------------------
# Contract: labels, determinism, no mutation, gate
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_labels_returned_unchanged_any_form(cls):
    clips = make_video_batch(4, 8, 3, 8, 8)
    for labels in (torch.arange(4), torch.rand(4, 7), ["a", "b", "c", "d"], {"y": 1}):
        out, same = cls()(clips, labels, generator=gen(0))
        # A tensor passes through as is; containers come back rebuilt (torchvision v2 pytrees).
        assert same is labels if isinstance(labels, torch.Tensor) else same == labels
        assert torch.equal(out, cls()(clips, generator=gen(0)))
    assert isinstance(cls()(clips), torch.Tensor)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_determinism_params_split_and_no_mutation(cls):
    clips = make_video_batch(8, 8, 3, 16, 16)
    before, version = clips.clone(), clips._version
    aug = cls()
    a = aug(clips, generator=gen(4))
    b = aug(clips, generator=gen(4))
    assert torch.equal(a, b)
    assert any(not torch.equal(a, aug(clips, generator=gen(s))) for s in (5, 6, 7))
    params = aug.draw_params(clips.shape, generator=gen(4))
    assert isinstance(params, EraseParams) and params.box.device.type == "cpu"
    assert torch.equal(aug.transform(clips, params), a)
    assert clips._version == version and torch.equal(clips, before)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_gate_p(cls):
    clips = make_video_batch(4, 8, 3, 8, 8)
    assert torch.equal(cls(p=0.0)(clips, generator=gen(0)), clips)
    params = cls(p=0.25).draw_params((8000, 8, 3, 8, 8), generator=gen(0))
    assert params.erased.float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert (params.box[~params.erased] == 0).all()
    assert (extents(params.box[params.erased]).prod(-1) > 0).all()


def test_kernel_erase_directly_and_pickle():
    clips = make_video_batch(2, 4, 2, 5, 5)
    box = torch.tensor([[0, 4, 1, 3, 0, 5], [2, 3, 0, 5, 4, 5]])
    out = erase(clips, box, 0.0)
    assert (out[0, :, :, 1:3] == 0).all() and torch.equal(out[0, :, :, 3:], clips[0, :, :, 3:])
    assert (out[1, 2, :, :, 4] == 0).all() and torch.equal(out[1, :2], clips[1, :2])
    with pytest.raises(ValueError, match=r"box must have shape \(2, 6\)"):
        erase(clips, box[:1])
    aug = CubeCutOut(size=(3, 2), length=2, fill=1.0, p=0.5)
    clone = pickle.loads(pickle.dumps(aug))
    assert repr(clone) == repr(aug) == "CubeCutOut(size=(3, 2), length=2, fill=1.0, p=0.5)"


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (CutOut, {"size": 0}, "size as an int must be >= 1"),
        (CutOut, {"size": 1.5}, r"size as a fraction must be in \(0, 1\]"),
        (CutOut, {"size": 0.0}, r"size as a fraction must be in \(0, 1\]"),
        (CutOut, {"size": (1, 2, 3)}, r"size must be one size or a pair \(height, width\)"),
        (CutOut, {"size": "big"}, r"size must be a fraction in \(0, 1\]"),
        (FrameCutOut, {"length": -2}, "length as an int must be >= 1"),
        (CubeCutOut, {"length": 2.0}, r"length as a fraction must be in \(0, 1\]"),
        (CutOut, {"p": -0.1}, r"p must be in \[0, 1\]"),
        (FrameCutOut, {"fill": float("nan")}, "fill must be a finite number"),
    ],
)
def test_constructor_errors(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_call_errors(cls):
    with pytest.raises(ValueError, match=r"clips must have shape \(..., T, C, H, W\)"):
        cls()(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="clips must be uint8 or floating"):
        cls()(torch.zeros(2, 4, 3, 8, 8, dtype=torch.int32))
    with pytest.raises(ValueError, match=r"clips must be a torch\.Tensor"):
        cls()([[1.0]])
    with pytest.raises(ValueError, match=r"generator must be None or a CPU torch\.Generator"):
        cls()(torch.zeros(2, 4, 3, 8, 8), generator=1)


def test_absolute_size_larger_than_clip():
    with pytest.raises(ValueError, match=r"size \(height\) as an int must be in \[1, 8\]"):
        CutOut(size=9)(torch.zeros(2, 4, 3, 8, 8))
    with pytest.raises(ValueError, match=r"length as an int must be in \[1, 4\]"):
        FrameCutOut(length=5)(torch.zeros(2, 4, 3, 8, 8))


# ------------------------------------------------------------------------------------------
# CUDA
# ------------------------------------------------------------------------------------------


@requires_cuda
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("cls", ALL, ids=ids)
def test_cuda_matches_cpu(cls, dtype):
    clips = make_video_batch(5, 8, 3, 16, 16, dtype=dtype)
    out_cpu = cls()(clips, generator=gen(9))
    out_gpu = cls()(clips.cuda(), generator=gen(9))
    assert out_gpu.device.type == "cuda" and out_gpu.dtype == dtype
    assert torch.equal(out_gpu.cpu(), out_cpu)
    labels = torch.arange(5).cuda()
    _, same = cls()(clips.cuda(), labels, generator=gen(9))
    assert same is labels
