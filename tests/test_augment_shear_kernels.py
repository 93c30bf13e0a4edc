"""ShearX / ShearY line-shift kernels: bit-exact against torchvision v2 at every magnitude.

The OpenCV path shears by moving every row (ShearX) or column (ShearY) by a whole number of
pixels (paper Section 3.1, RandAugment's ShearX/Y with nearest interpolation); an off-by-one in
a shift, a fill boundary or a tie row changes single pixels of these coordinate-coded frames.
"""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms import v2

from tempaug.augment import functional as F

pytestmark = pytest.mark.filterwarnings("error")

SHEAR_BINS = torch.linspace(0.0, 0.3, 31)  # torchvision RandAugment's ShearX/ShearY magnitudes
SIGNED_BINS = torch.cat([SHEAR_BINS, -SHEAR_BINS[1:]]).double()  # every bin, both signs
SIZES = ((32, 32), (33, 33), (16, 41), (37, 20), (160, 160))


def coded_video(frames: int, h: int, w: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """``(T, 3, H, W)``: channel 0 encodes x, channel 1 y, channel 2 noise (all distinct)."""
    g = torch.Generator().manual_seed(seed)
    video = torch.empty(frames, 3, h, w)
    video[:, 0] = (torch.arange(w, dtype=torch.float32) % 250 + 3) / 255
    video[:, 1] = ((torch.arange(h, dtype=torch.float32) % 250 + 3) / 255).unsqueeze(-1)
    video[:, 2] = torch.rand(frames, h, w, generator=g)
    return (video * 255).round().to(torch.uint8) if dtype == torch.uint8 else video


def decoder_layout(video: torch.Tensor) -> torch.Tensor:
    """A ``(T, H, W, C)`` array viewed as ``(T, C, H, W)`` (channels-last strides)."""
    return video.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)


def torchvision_frames(video: torch.Tensor, op: str, values, fill=None) -> torch.Tensor:
    ra = v2.RandAugment(fill=fill) if fill is not None else v2.RandAugment()
    vals = torch.broadcast_to(torch.as_tensor(values), video.shape[:1]).tolist()
    return torch.stack(
        [
            ra._apply_image_or_video_transform(
                frame, op, float(v), interpolation=ra.interpolation, fill=ra._fill
            )
            for frame, v in zip(video.contiguous(), vals, strict=True)
        ]
    )


def assert_exact(out: torch.Tensor, ref: torch.Tensor) -> None:
    assert out.shape == ref.shape and out.dtype == ref.dtype
    bad = (out != ref).reshape(-1, *out.shape[-3:]).any(dim=1).nonzero()
    assert bad.numel() == 0, f"{bad.shape[0]} pixels differ, first (t, y, x): {bad[:5].tolist()}"


@pytest.mark.parametrize("layout", ["decoder", "contiguous"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_every_signed_bin_per_frame_uint8(op, size, layout):
    video = coded_video(SIGNED_BINS.numel(), *size, torch.uint8, seed=1)
    if layout == "decoder":
        video = decoder_layout(video)
    out = F.apply_op(video, op, SIGNED_BINS, backend="opencv")
    assert_exact(out, torchvision_frames(video, op, SIGNED_BINS))


@pytest.mark.parametrize("size", [(33, 33), (16, 41), (37, 20)])
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_every_bin_as_one_value_for_the_clip(op, size):
    # One value on all frames (one distinct map, shared by the clip), float32 and uint8.
    for dtype in (torch.uint8, torch.float32):
        video = decoder_layout(coded_video(3, *size, dtype, seed=2))
        for value in SIGNED_BINS.tolist():
            out = F.apply_op(video, op, value, backend="opencv")
            assert_exact(out, torchvision_frames(video, op, value))


@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_values_between_bins_and_beyond_the_frame(op):
    # RandAugment-T ramps (paper Section 3.1) give values between bins; large ones shift whole
    # lines out of the frame (all fill).
    values = torch.cat(
        [torch.linspace(-0.31, 0.31, 41), torch.tensor([2.0, -2.0, 7.5, -40.0, 1e6, -1e6])]
    ).double()
    video = decoder_layout(coded_video(values.numel(), 31, 24, torch.uint8, seed=3))
    out = F.apply_op(video, op, values, backend="opencv")
    assert_exact(out, torchvision_frames(video, op, values))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_planes_and_per_channel_fill(op, channels):
    fill = [10, 200, 77][:channels]
    video = coded_video(SIGNED_BINS.numel(), 27, 35, torch.uint8, seed=4)[:, :channels]
    video = video.contiguous()
    out = F.apply_op(video, op, SIGNED_BINS, fill=fill, backend="opencv")
    assert_exact(out, torchvision_frames(video, op, SIGNED_BINS, fill=fill))
    if channels == 3:
        cl = decoder_layout(video)
        out = F.apply_op(cl, op, SIGNED_BINS, fill=fill, backend="opencv")
        assert_exact(out, torchvision_frames(cl, op, SIGNED_BINS, fill=fill))


@pytest.mark.parametrize("op", ["ShearX", "ShearY"])
def test_batch_of_clips_matches_torch_backend(op):
    # (B, T) values on a (B, T, C, H, W) batch: the OpenCV kernel equals the batched torch path.
    values = SIGNED_BINS[torch.randperm(61, generator=torch.Generator().manual_seed(5))[:24]]
    values = values.reshape(2, 12)
    batch = torch.stack([coded_video(12, 21, 30, torch.uint8, seed=s) for s in (6, 7)])
    out = F.apply_op(batch, op, values, backend="opencv")
    assert_exact(out, F.apply_op(batch, op, values, backend="torch"))
    for i in range(2):
        assert_exact(out[i], torchvision_frames(batch[i], op, values[i]))


def test_kept_tie_picks_are_read_only_and_reused():
    # Picks of recurring tie values (a magnitude bin) are kept between calls; a caller writing
    # into them would corrupt every later shear with that value.
    F._shear_picks.cache_clear()
    F._row_patch.cache_clear()
    video = decoder_layout(coded_video(4, 40, 40, torch.uint8, seed=5))
    for _ in range(2):
        out = F.apply_op(video, "ShearX", 0.2, backend="opencv")  # ties every fifth row
        assert_exact(out, torchvision_frames(video, "ShearX", 0.2))
    assert F._row_patch.cache_info().hits >= 1
    (picks,) = [F._shear_picks(*key) for key in _cached_keys(F._shear_picks)]
    assert not picks.flags.writeable


def _cached_keys(fn) -> list[tuple]:
    # lru_cache keeps no public key list: rebuild the one key from ShearX 0.2 on a 40x40 frame.
    import math

    d = math.degrees(math.atan(0.2))
    inverse = F._torchvision_inverse(0.0, 0.0, 0.0, d, 0.0, (-20.0, -20.0))
    return [(tuple(float(x) for row in inverse for x in row), 40, 40)]
