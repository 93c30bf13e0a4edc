"""Per-frame RandAugment kernels (tempaug.augment.functional) against torchvision v2, frame by frame.

The reference for frame ``t`` is exactly what ``torchvision.transforms.v2.RandAugment`` does to an
image for operation ``op`` and value ``value[t]`` (its per-op dispatcher, nearest interpolation).
Inputs are uniform noise, the worst case for any rounding difference in the geometric ops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import make_video_batch, requires_cuda
from torchvision import tv_tensors
from torchvision.transforms import v2

from tempaug.augment import functional as F
from tempaug.augment._ops_table import OP_NAMES

pytestmark = pytest.mark.filterwarnings("error")

T, C, H, W = 5, 3, 23, 30

# Per-op value ranges (the extremes of torchvision's RandAugment, signed where it is signed).
RANGES = {
    "Identity": (0.0, 0.0),
    "ShearX": (-0.3, 0.3),
    "ShearY": (0.3, -0.3),
    "TranslateX": (-0.45 * W, 0.45 * W),
    "TranslateY": (0.45 * H, -0.45 * H),
    "Rotate": (-30.0, 30.0),
    "Brightness": (-0.9, 0.9),
    "Color": (0.9, -0.9),
    "Contrast": (-0.9, 0.9),
    "Sharpness": (-0.9, 0.9),
    "Posterize": (0.0, 8.0),
    "Solarize": (0.0, 1.0),
    "AutoContrast": (0.0, 0.0),
    "Equalize": (0.0, 0.0),
}
# One constant value per op; ShearX/ShearY 0.2 puts exact half-pixel ties on every fifth row.
CONSTANT = {
    "Identity": 0.0,
    "ShearX": 0.2,
    "ShearY": -0.2,
    "TranslateX": 7.9,
    "TranslateY": -5.5,
    "Rotate": 17.0,
    "Brightness": 0.5,
    "Color": -0.6,
    "Contrast": 0.7,
    "Sharpness": -0.8,
    "Posterize": 3.0,
    "Solarize": 0.4,
    "AutoContrast": 0.0,
    "Equalize": 0.0,
}
_RA = v2.RandAugment()


def torchvision_frame(frame: torch.Tensor, op: str, value: float, fill=None) -> torch.Tensor:
    """torchvision v2 RandAugment's own per-op call on one frame ``(C, H, W)``."""
    ra = _RA if fill is None else v2.RandAugment(fill=fill)
    return ra._apply_image_or_video_transform(
        frame, op, float(value), interpolation=ra.interpolation, fill=ra._fill
    )


def torchvision_video(video: torch.Tensor, op: str, values: torch.Tensor, fill=None):
    frames = video.reshape(-1, *video.shape[-3:])
    vals = torch.broadcast_to(torch.as_tensor(values), video.shape[:-3]).reshape(-1)
    out = [torchvision_frame(f, op, float(v), fill) for f, v in zip(frames, vals, strict=True)]
    return torch.stack(out).reshape(video.shape)


def frame_mad(out: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per frame on the uint8 scale, ``(N,)``."""
    scale = 1.0 if out.dtype == torch.uint8 else 255.0
    diff = (out.double() - ref.double()).abs() * scale
    return diff.reshape(-1, *out.shape[-3:]).mean(dim=(1, 2, 3))


def clip(dtype: torch.dtype, *, seed: int = 0, channels: int = C) -> torch.Tensor:
    return make_video_batch(1, T, channels, H, W, dtype=dtype, seed=seed)[0]


def varying(op: str, frames: int = T) -> torch.Tensor:
    lo, hi = RANGES[op]
    return torch.linspace(lo, hi, frames, dtype=torch.float64)


class TestTorchvisionParity:
    @pytest.mark.parametrize("backend", ["auto", "torch"])
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("op", OP_NAMES)
    def test_varying_value(self, op, dtype, backend):
        video = clip(dtype)
        values = varying(op)
        out = F.apply_op(video, op, values, backend=backend)
        ref = torchvision_video(video, op, values)
        assert frame_mad(out, ref).max() <= 1.0

    @pytest.mark.parametrize("backend", ["auto", "torch"])
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("op", OP_NAMES)
    def test_constant_value(self, op, dtype, backend):
        video = clip(dtype, seed=1)
        out = F.apply_op(video, op, CONSTANT[op], backend=backend)
        ref = torchvision_video(video, op, torch.tensor(CONSTANT[op]))
        assert frame_mad(out, ref).max() <= 1.0

    @pytest.mark.parametrize("op", OP_NAMES)
    def test_uint8_fast_path_is_nearly_exact(self, op):
        # The contract allows 1.0; the OpenCV path emulates torchvision's truncation and ties,
        # so on noise it stays far below (a regression guard for that emulation).
        video = make_video_batch(2, T, C, H, W, dtype=torch.uint8, seed=11)
        values = torch.stack([varying(op), varying(op).flip(0)])
        out = F.apply_op(video, op, values, backend="auto")
        assert float(frame_mad(out, torchvision_video(video, op, values)).mean()) <= 0.05

    @pytest.mark.parametrize("op", OP_NAMES)
    def test_decoder_layout_uint8(self, op):
        # A (T, H, W, C) array from the decoder viewed as (T, C, H, W): channels-last strides.
        thwc = clip(torch.uint8, seed=2).permute(0, 2, 3, 1).contiguous().numpy()
        video = torch.from_numpy(thwc).permute(0, 3, 1, 2)
        assert video.is_contiguous(memory_format=torch.channels_last)
        values = varying(op)
        out = F.apply_op(video, op, values)
        ref = torchvision_video(video.contiguous(), op, values)
        assert frame_mad(out, ref).max() <= 1.0

    @pytest.mark.parametrize("op", ["ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"])
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("backend", ["auto", "torch"])
    def test_fill(self, op, dtype, backend):
        video = clip(dtype, seed=3)
        fill = [10, 200, 77] if dtype == torch.uint8 else [0.1, 0.9, 0.5]
        values = varying(op)
        out = F.apply_op(video, op, values, fill=fill, backend=backend)
        ref = torchvision_video(video, op, values, fill=fill)
        assert frame_mad(out, ref).max() <= 1.0
        # The fill really shows up (the extreme frames move content out of the frame).
        assert (out[0, 0] == fill[0]).any()

    @pytest.mark.parametrize("op", OP_NAMES)
    def test_single_channel(self, op):
        video = clip(torch.uint8, seed=4, channels=1)
        values = varying(op)
        out = F.apply_op(video, op, values)
        ref = torchvision_video(video, op, values)
        assert frame_mad(out, ref).max() <= 1.0

    @pytest.mark.parametrize("op", ["Rotate", "Brightness", "Sharpness", "Equalize", "Posterize"])
    def test_float64_uses_torch_path(self, op):
        video = clip(torch.float64, seed=5)
        values = varying(op)
        out = F.apply_op(video, op, values)
        assert out.dtype == torch.float64
        assert frame_mad(out, torchvision_video(video, op, values)).max() <= 1.0


class TestBatchesAndValues:
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("op", OP_NAMES)
    def test_batch_values_per_clip_and_frame(self, op, dtype):
        batch = make_video_batch(3, T, C, H, W, dtype=dtype, seed=6)
        values = torch.stack([varying(op), varying(op).flip(0), varying(op).roll(2)])
        out = F.apply_op(batch, op, values)
        for b in range(3):
            single = F.apply_op(batch[b], op, values[b])
            torch.testing.assert_close(out[b], single, rtol=0, atol=1e-6)
        assert frame_mad(out, torchvision_video(batch, op, values)).max() <= 1.0

    def test_values_really_vary_per_frame(self):
        video = torch.full((T, C, H, W), 100, dtype=torch.uint8)
        out = F.brightness(video, torch.linspace(-0.5, 0.5, T))
        assert out[:, 0, 0, 0].tolist() == [50, 75, 100, 125, 150]

    def test_python_number_and_zero_dim_tensor_agree(self):
        video = clip(torch.uint8)
        a = F.apply_op(video, "Rotate", 12.5)
        b = F.apply_op(video, "Rotate", torch.tensor(12.5))
        c = F.apply_op(video, "Rotate", torch.full((T,), 12.5))
        assert torch.equal(a, b) and torch.equal(a, c)

    def test_translate_and_posterize_truncate_like_torchvision(self):
        video = clip(torch.uint8)
        assert torch.equal(F.translate_x(video, 3.9), F.translate_x(video, 3.0))
        assert torch.equal(F.translate_y(video, -2.7), F.translate_y(video, -2.0))
        assert torch.equal(F.posterize(video, 4.99), F.posterize(video, 4.0))

    def test_opencv_and_torch_backends_agree(self):
        video = clip(torch.uint8, seed=7)
        for op in OP_NAMES:
            a = F.apply_op(video, op, varying(op), backend="opencv")
            b = F.apply_op(video, op, varying(op), backend="torch")
            assert frame_mad(a, b).max() <= 1.0, op

    def test_opencv_keeps_decoder_layout(self):
        thwc = np.ascontiguousarray(clip(torch.uint8).permute(0, 2, 3, 1).numpy())
        video = torch.from_numpy(thwc).permute(0, 3, 1, 2)
        for op in ("Brightness", "Rotate", "Sharpness", "Equalize", "Color"):
            out = F.apply_op(video, op, CONSTANT[op], backend="opencv")
            assert out.is_contiguous(memory_format=torch.channels_last), op


class TestContract:
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("op", OP_NAMES)
    def test_dtype_shape_kept_and_input_untouched(self, op, dtype):
        video = make_video_batch(2, T, C, H, W, dtype=dtype, seed=8)
        before = video.clone()
        version = video._version
        out = F.apply_op(video, op, varying(op))
        assert out.shape == video.shape and out.dtype == dtype and out.device == video.device
        assert video._version == version and torch.equal(video, before)
        assert out.data_ptr() != video.data_ptr()
        if dtype.is_floating_point:
            assert out.min() >= 0.0 and out.max() <= 1.0

    @pytest.mark.parametrize("op", OP_NAMES)
    def test_tv_video_in_plain_tensor_out(self, op):
        video = tv_tensors.Video(clip(torch.uint8))
        out = F.apply_op(video, op, varying(op))
        assert type(out) is torch.Tensor

    @pytest.mark.parametrize("op", OP_NAMES)
    def test_empty_video(self, op):
        video = torch.zeros(0, C, H, W, dtype=torch.uint8)
        out = F.apply_op(video, op, torch.zeros(0))
        assert out.shape == video.shape

    @pytest.mark.parametrize("op", ["Identity", "Brightness", "Color", "Contrast", "Sharpness"])
    def test_neutral_values_are_identity(self, op):
        video = clip(torch.uint8)
        assert torch.equal(F.apply_op(video, op, 0.0), video)

    def test_neutral_geometry_is_identity(self):
        video = clip(torch.float32)
        for op in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"):
            assert torch.equal(F.apply_op(video, op, 0.0), video), op
        assert torch.equal(F.posterize(clip(torch.uint8), 8), clip(torch.uint8))


class TestErrors:
    def test_unknown_op(self):
        with pytest.raises(ValueError, match=r"op must be one of .*'Invert'"):
            F.apply_op(clip(torch.uint8), "Invert", 0.0)

    def test_unknown_backend(self):
        with pytest.raises(ValueError, match=r"backend must be one of .*'cuda'"):
            F.apply_op(clip(torch.uint8), "Rotate", 1.0, backend="cuda")

    def test_opencv_backend_needs_uint8_for_colour_ops(self):
        with pytest.raises(ValueError, match=r"backend='opencv' needs .*uint8.*float32"):
            F.apply_op(clip(torch.float32), "Brightness", 0.1, backend="opencv")

    def test_value_shape(self):
        with pytest.raises(ValueError, match=r"broadcastable to the leading .*\(5,\).*\(4,\)"):
            F.apply_op(clip(torch.uint8), "Rotate", torch.zeros(4))

    @pytest.mark.parametrize(
        ("op", "value", "pattern"),
        [
            ("Brightness", -1.5, r"Brightness value .* \[-1.0, inf\], got .*-1.5"),
            ("Color", -2.0, r"Color value .* \[-1.0, inf\]"),
            ("Contrast", -1.01, r"Contrast value .* \[-1.0, inf\]"),
            ("Sharpness", -3.0, r"Sharpness value .* \[-1.0, inf\]"),
            ("Posterize", 9.0, r"Posterize bits must be in \[0, 8\], got .*9.0"),
            ("Posterize", -1.0, r"Posterize bits must be in \[0, 8\]"),
            ("Solarize", 1.5, r"Solarize value .* \[-inf, 1.0\], got .*1.5"),
            ("Rotate", float("nan"), r"value must be finite"),
        ],
    )
    def test_value_range(self, op, value, pattern):
        with pytest.raises(ValueError, match=pattern):
            F.apply_op(clip(torch.uint8), op, value)

    def test_fill(self):
        with pytest.raises(ValueError, match=r"fill must be a number or a sequence of 1 or 3"):
            F.apply_op(clip(torch.uint8), "Rotate", 10.0, fill=[1, 2])

    def test_video_rank_and_dtype(self):
        with pytest.raises(ValueError, match=r"video must have shape .*got shape \(3, 4\)"):
            F.apply_op(torch.zeros(3, 4, dtype=torch.uint8), "Rotate", 1.0)
        with pytest.raises(ValueError, match=r"video dtype must be torch.uint8 or floating"):
            F.apply_op(torch.zeros(2, 3, 4, 4, dtype=torch.int32), "Rotate", 1.0)

    def test_colour_ops_need_one_or_three_channels(self):
        with pytest.raises(ValueError, match=r"Color needs 1 or 3 channels .*got 2"):
            F.apply_op(torch.zeros(2, 2, 4, 4), "Color", 0.1)


@requires_cuda
class TestCuda:
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("op", OP_NAMES)
    def test_cuda_matches_cpu_and_torchvision(self, op, dtype):
        batch = make_video_batch(2, T, C, H, W, dtype=dtype, seed=9)
        values = torch.stack([varying(op), varying(op).flip(0)])
        out = F.apply_op(batch.cuda(), op, values.cuda())
        assert out.device.type == "cuda" and out.dtype == dtype
        cpu = F.apply_op(batch, op, values, backend="torch")
        assert frame_mad(out.cpu(), cpu).max() <= 1.0
        assert frame_mad(out.cpu(), torchvision_video(batch, op, values)).max() <= 1.0

    def test_cuda_input_untouched_and_fill(self):
        video = clip(torch.uint8).cuda()
        before = video.clone()
        out = F.rotate(video, torch.linspace(-30, 30, T, device="cuda"), fill=[5, 6, 7])
        assert torch.equal(video, before) and out.is_cuda
        ref = torchvision_video(video.cpu(), "Rotate", torch.linspace(-30, 30, T), fill=[5, 6, 7])
        assert frame_mad(out.cpu(), ref).max() <= 1.0

    def test_opencv_backend_rejects_cuda(self):
        with pytest.raises(ValueError, match=r"backend='opencv' needs"):
            F.apply_op(clip(torch.uint8).cuda(), "Brightness", 0.1, backend="opencv")


def test_math_sanity_of_inverse_affine():
    # A 90-degree turn of a square frame moves the top-left pixel to the bottom-left corner.
    video = torch.zeros(1, 1, 4, 4)
    video[0, 0, 0, 0] = 1.0
    out = F.rotate(video, 90.0)
    assert out[0, 0, 3, 0] == 1.0 and out.sum() == 1.0
    assert math.isclose(float(F.rotate(video, 360.0).sum()), 1.0)
