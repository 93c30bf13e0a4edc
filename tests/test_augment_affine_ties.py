"""Nearest-neighbour geometry at exact half-pixel ties: bit-exact against torchvision v2.

ShearX / ShearY at some of RandAugment's bins (``linspace(0, 0.3, 31)`` in float32: 0.04, 0.12,
0.2, 0.28) put source coordinates exactly half-way between two pixels on whole rows or columns;
torchvision resolves them by its float32 grid and ``grid_sample``'s round-half-to-even. The frames are coordinate-coded
(channel 0 = x, channel 1 = y), so a single pixel read from the wrong neighbour changes the output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchvision.transforms import v2

from tempaug.augment import functional as F

pytestmark = pytest.mark.filterwarnings("error")

SHEAR_BINS = torch.linspace(0.0, 0.3, 31)  # torchvision RandAugment's ShearX/ShearY magnitudes
# Bins whose coefficient (0.04, 0.12, 0.2, 0.28) ties on whole rows / columns at every size.
TIE_BINS = (4, 12, 20, 28)
SIZES = ((23, 30), (17, 17), (31, 45), (40, 33), (64, 64))
_RA = v2.RandAugment()


def coded_video(frames: int, h: int, w: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """``(T, 3, H, W)``: channel 0 encodes x, channel 1 y, channel 2 per-frame noise."""
    g = torch.Generator().manual_seed(seed)
    video = torch.empty(frames, 3, h, w)
    video[:, 0] = (torch.arange(w, dtype=torch.float32) + 1) / (w + 2)
    video[:, 1] = ((torch.arange(h, dtype=torch.float32) + 1) / (h + 2)).unsqueeze(-1)
    video[:, 2] = torch.rand(frames, h, w, generator=g)
    if dtype == torch.uint8:
        return (video * 255).round().to(torch.uint8)
    return video


def torchvision_frames(video: torch.Tensor, op: str, values, fill=None) -> torch.Tensor:
    ra = _RA if fill is None else v2.RandAugment(fill=fill)
    vals = torch.broadcast_to(torch.as_tensor(values), video.shape[:1]).tolist()
    out = [
        ra._apply_image_or_video_transform(
            frame, op, float(v), interpolation=ra.interpolation, fill=ra._fill
        )
        for frame, v in zip(video, vals, strict=True)
    ]
    return torch.stack(out)


def channels_last(video: torch.Tensor) -> torch.Tensor:
    """The decoder's layout: a ``(T, H, W, C)`` array viewed as ``(T, C, H, W)``."""
    return video.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)


def assert_exact(out: torch.Tensor, ref: torch.Tensor) -> None:
    bad = (out != ref).any(dim=1).nonzero()
    assert bad.numel() == 0, f"{bad.shape[0]} pixels differ, first (t, y, x): {bad[:5].tolist()}"


def test_tie_bins_really_tie():
    # The cases below exercise the tie path: every TIE_BIN shear ties on some row or column.
    for h, w in SIZES:
        for b in TIE_BINS:
            v = torch.tensor([float(SHEAR_BINS[b])], dtype=torch.float64)
            inv = F._inverse_affine(
                v.shape, shear=(F._shear_degrees(v), 0.0), center=(-0.5 * w, -0.5 * h)
            )
            maps = inv.numpy().copy()
            half = np.array([(w - 1) * 0.5, (h - 1) * 0.5])
            maps[:, :, 2] += half - maps[:, :, :2] @ half
            assert F._exact_ties(maps, h, w).all(), (h, w, b)


@pytest.mark.parametrize("backend", ["auto", "torch"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_constant_tie_value_is_exact(op, size, dtype, layout, backend):
    video = coded_video(3, *size, dtype)
    if layout == "channels_last":
        video = channels_last(video)
    for b in TIE_BINS:
        for sign in (1.0, -1.0):
            value = sign * float(SHEAR_BINS[b])
            out = F.apply_op(video, op, value, backend=backend)
            assert_exact(out, torchvision_frames(video.contiguous(), op, value))


@pytest.mark.parametrize("backend", ["auto", "torch"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_every_bin_per_frame_is_exact(op, size, dtype, backend):
    # One frame per signed bin: ties and non-ties mixed in one clip, each with its own map.
    values = torch.cat([SHEAR_BINS, -SHEAR_BINS[1:]]).double()
    video = channels_last(coded_video(values.numel(), *size, dtype, seed=1))
    out = F.apply_op(video, op, values, backend=backend)
    assert_exact(out, torchvision_frames(video.contiguous(), op, values))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_ramp_through_tie_magnitudes_is_exact(op, dtype):
    # RandAugment-T's linear magnitude ramp (paper Section 3.1) crossing tie bins, in a batch.
    bins = torch.stack([torch.arange(10, 21), torch.arange(30, 8, -2)])
    values = SHEAR_BINS[bins].double() * torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    batch = torch.stack([coded_video(11, 29, 37, dtype, seed=s) for s in (2, 3)])
    out = F.apply_op(batch, op, values)
    for i in range(2):
        assert_exact(out[i], torchvision_frames(batch[i], op, values[i]))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_tie_with_fill_is_exact(op, dtype):
    fill = [10, 200, 77] if dtype == torch.uint8 else [0.1, 0.9, 0.5]
    video = channels_last(coded_video(4, 23, 30, dtype, seed=4))
    values = SHEAR_BINS[[12, 20, 28, 4]].double() * torch.tensor([1.0, -1.0, 1.0, -1.0])
    out = F.apply_op(video, op, values, fill=fill)
    assert_exact(out, torchvision_frames(video.contiguous(), op, values, fill=fill))
    assert (out[2, 0] == fill[0]).any()


@pytest.mark.parametrize("channels", [1, 3])
def test_single_and_planar_channels_are_exact(channels):
    video = coded_video(3, 31, 45, torch.uint8, seed=5)[:, :channels].contiguous()
    for op in ("ShearX", "ShearY"):
        value = float(SHEAR_BINS[20])
        out = F.apply_op(video, op, value)
        assert_exact(out, torchvision_frames(video, op, value))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("op", ["TranslateX", "TranslateY", "Rotate"])
def test_torch_backend_is_exact_for_other_geometry(op, dtype):
    # The batched path builds torchvision's grid with the same float ops: bit-exact everywhere.
    values = {
        "TranslateX": torch.tensor([-13.0, -0.0, 4.0, 13.0]),
        "TranslateY": torch.tensor([9.0, 1.0, -3.0, -9.0]),
        "Rotate": torch.tensor([-30.0, -7.5, 12.0, 90.0]),
    }[op].double()
    video = coded_video(4, 29, 29, dtype, seed=6)
    out = F.apply_op(video, op, values, backend="torch")
    assert_exact(out, torchvision_frames(video, op, values))


def test_shear_degrees_match_torchvision_formula():
    v = torch.linspace(-0.3, 0.3, 61, dtype=torch.float64)
    expected = [math.degrees(math.atan(x)) for x in v.tolist()]
    assert F._shear_degrees(v).tolist() == expected


@pytest.mark.parametrize("channels", [1, 3])
def test_tall_frames_and_sparse_tie_frames_are_exact(channels):
    # Tall frames split the stacked tie-row remap into several OpenCV-sized chunks; alternating
    # tie / non-tie values make the tie frames non-adjacent.
    values = SHEAR_BINS[[20, 13, 12, 7] * 5].double() * torch.tensor([1.0, -1.0] * 10)
    video = coded_video(values.numel(), 4001, 9, torch.uint8, seed=7)[:, :channels]
    for layout in (video.contiguous(), channels_last(video) if channels == 3 else video):
        out = F.apply_op(layout, "ShearX", values)
        assert_exact(out, torchvision_frames(layout.contiguous(), "ShearX", values))
