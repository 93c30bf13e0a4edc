"""tempaug.data.transforms: clip sampling, crops, normalization (paper Section 4.1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_video_batch, requires_cuda

from tempaug.data.transforms import (
    EvalClipSpec,
    TrainClipSpec,
    clip_indices,
    crop_flip,
    denormalize,
    eval_starts,
    normalize,
    short_side_size,
    spatial_crop_offsets,
)


class TestKernels:
    def test_clip_indices_consecutive_and_looped(self):
        np.testing.assert_array_equal(clip_indices(100, 10, 4), [10, 11, 12, 13])
        np.testing.assert_array_equal(clip_indices(100, 10, 4, 3), [10, 13, 16, 19])
        np.testing.assert_array_equal(clip_indices(5, 0, 12), [0, 1, 2, 3, 4] * 2 + [0, 1])
        with pytest.raises(ValueError, match=r"start must be in \[0, 5\)"):
            clip_indices(5, 5, 2)

    def test_eval_starts_cover_video(self):
        assert eval_starts(100, 64, 10) == [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]
        assert eval_starts(100, 64, 1) == [18]
        assert eval_starts(30, 64, 3) == [0, 0, 0]
        s = eval_starts(137, 64, 10)
        assert s[0] == 0 and s[-1] + 64 == 137

    def test_short_side_size(self):
        assert short_side_size(240, 320, 160) == (160, 213)
        assert short_side_size(320, 240, 200) == (267, 200)
        assert short_side_size(100, 100, 50) == (50, 50)

    def test_spatial_crop_offsets(self):
        assert spatial_crop_offsets(160, 213, 160, 3) == [(0, 0), (0, 26), (0, 53)]
        assert spatial_crop_offsets(213, 160, 160, 3) == [(0, 0), (26, 0), (53, 0)]
        assert spatial_crop_offsets(160, 213, 160, 1) == [(0, 26)]
        with pytest.raises(ValueError, match="exceeds"):
            spatial_crop_offsets(100, 200, 160, 1)

    def test_crop_flip(self):
        x = make_video_batch(1, 3, 3, 10, 12, dtype=torch.uint8)[0]
        cl = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)  # channels-last view
        out = crop_flip(cl, 2, 3, 5, True)
        assert torch.equal(out, x[..., 2:7, 3:8].flip(-1))
        assert out.stride(1) == 1  # layout preserved
        assert out.untyped_storage().data_ptr() != cl.untyped_storage().data_ptr()
        with pytest.raises(ValueError, match="does not fit"):
            crop_flip(x, 8, 0, 5, False)


class TestNormalize:
    def test_uint8_float_and_channels(self):
        x = make_video_batch(2, 4, 3, 8, 8, dtype=torch.uint8)
        before = x.clone()
        mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
        out = normalize(x, mean, std)
        ref = (x.float() / 255 - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(normalize(x.float() / 255, mean, std), ref, rtol=1e-5, atol=1e-5)
        assert torch.equal(x, before) and out.dtype == torch.float32 and out.is_contiguous()
        torch.testing.assert_close(denormalize(out, mean, std), x.float() / 255, atol=1e-5, rtol=0)

    def test_channels_last_input(self):
        x = make_video_batch(1, 4, 3, 8, 8, dtype=torch.uint8)[0]
        cl = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        torch.testing.assert_close(normalize(cl), normalize(x))

    def test_errors(self):
        with pytest.raises(ValueError, match="must have 4 entries"):
            normalize(torch.zeros(2, 4, 8, 8), (0.5,) * 3, (0.2,) * 3)
        with pytest.raises(ValueError, match="std must be > 0"):
            normalize(torch.zeros(2, 3, 8, 8), (0.5,) * 3, (0.2, 0.0, 0.2))
        with pytest.raises(ValueError, match="uint8 or floating"):
            normalize(torch.zeros(2, 3, 8, 8, dtype=torch.int32))

    @pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
    def test_denormalize_rounds_statistics_to_the_dtype(self, dtype):
        # The same bits as x * std + mean with (C, 1, 1) statistics tensors of the clips' dtype,
        # for shared and per-channel statistics, on any layout; the input is not modified.
        g = torch.Generator().manual_seed(0)
        x = torch.randn(2, 4, 3, 8, 8, generator=g).to(dtype)
        before = x.clone()
        for mean, std in (((0.45,) * 3, (0.225,) * 3), ((0.4, 0.5, 0.6), (0.2, 0.25, 0.3))):
            m = torch.tensor(mean, dtype=dtype).view(3, 1, 1)
            s = torch.tensor(std, dtype=dtype).view(3, 1, 1)
            assert torch.equal(denormalize(x, mean, std), x * s + m)
            cl = x[0].contiguous(memory_format=torch.channels_last)
            out = denormalize(cl, mean, std)
            assert torch.equal(out, x[0] * s + m) and out.is_contiguous()
        assert torch.equal(x, before)

    def test_denormalize_errors(self):
        with pytest.raises(ValueError, match="must have 4 entries"):
            denormalize(torch.zeros(2, 4, 8, 8), (0.5,) * 3, (0.2,) * 3)
        with pytest.raises(ValueError, match="std must be > 0"):
            denormalize(torch.zeros(2, 3, 8, 8), (0.5,) * 3, (0.2, -1.0, 0.2))
        with pytest.raises(ValueError, match="floating point"):
            denormalize(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
        with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
            denormalize(torch.zeros(8, 8))

    @requires_cuda
    def test_cuda_matches_cpu(self):
        x = make_video_batch(2, 4, 3, 16, 16, dtype=torch.uint8)
        out = normalize(x.cuda(), (0.4, 0.5, 0.6), (0.2, 0.25, 0.3))
        assert out.device.type == "cuda"
        torch.testing.assert_close(out.cpu(), normalize(x, (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)))


class TestSpecs:
    def test_train_spec_draws(self):
        spec = TrainClipSpec(clip_len=8, crop_size=16, scale_range=(16, 24), hflip_p=0.5)
        a = [
            spec.draw_params(50, 30, 40, generator=torch.Generator().manual_seed(s))
            for s in range(500)
        ]
        b = [
            spec.draw_params(50, 30, 40, generator=torch.Generator().manual_seed(s))
            for s in range(500)
        ]
        assert a == b
        shorts = {min(p.out_height, p.out_width) for p in a}
        assert shorts == set(range(16, 25))
        assert {p.indices[0] for p in a} == set(range(0, 43))
        assert all(p.indices == tuple(range(p.indices[0], p.indices[0] + 8)) for p in a)
        assert all(0 <= p.top <= p.out_height - 16 and 0 <= p.left <= p.out_width - 16 for p in a)
        assert 0.35 < np.mean([p.flip for p in a]) < 0.65
        short = spec.draw_params(5, 30, 40, generator=torch.Generator().manual_seed(0))
        assert short.indices == (0, 1, 2, 3, 4, 0, 1, 2)

    def test_spec_validation(self):
        with pytest.raises(ValueError, match="crop_size <= scale_range"):
            TrainClipSpec(crop_size=170, scale_range=(160, 200))
        with pytest.raises(ValueError, match=r"hflip_p must be a number in \[0, 1\]"):
            TrainClipSpec(hflip_p=1.5)
        with pytest.raises(ValueError, match="num_clips must be an integer >= 1"):
            EvalClipSpec(num_clips=0)

    def test_eval_plan(self):
        spec = EvalClipSpec(clip_len=4, crop_size=16, num_clips=3, num_crops=3)
        views = spec.plan(20, 24, 32)
        assert len(views) == spec.num_views == 9
        assert [v.clip for v in views] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
        assert views[0].indices == (0, 1, 2, 3) and views[-1].indices == (16, 17, 18, 19)
        assert [(v.top, v.left) for v in views[:3]] == [(0, 0), (0, 2), (0, 5)]
