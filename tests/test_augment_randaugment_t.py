"""RandAugment-T (paper Section 3.1, Fig. 2; Section 4.2 / Table 2 modes)."""

from __future__ import annotations

import pickle

import PIL.Image
import pytest
import torch
from conftest import make_video_batch, requires_cuda
from torchvision import tv_tensors
from torchvision.transforms import v2

from tempaug.augment import RandAugmentT
from tempaug.augment import functional as F
from tempaug.augment._ops_table import OP_NAMES, OPS, magnitude_to_value
from tempaug.augment.randaugment_t import MODES, RandAugmentTParams

pytestmark = pytest.mark.filterwarnings("error")

B, T, C, H, W = 4, 6, 3, 20, 26
TV_SPACE = v2.RandAugment._AUGMENTATION_SPACE


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def frame_mad(out: torch.Tensor, ref: torch.Tensor) -> float:
    scale = 1.0 if out.dtype == torch.uint8 else 255.0
    return float(((out.double() - ref.double()).abs() * scale).mean())


class TestOpsTable:
    def test_same_ops_order_and_signs_as_torchvision(self):
        assert list(OP_NAMES) == list(TV_SPACE)
        assert {op: OPS[op].signed for op in OP_NAMES} == {op: s for op, (_, s) in TV_SPACE.items()}

    @pytest.mark.parametrize("bins", [31, 10])
    @pytest.mark.parametrize("op", OP_NAMES)
    def test_integer_magnitudes_equal_torchvision_bins(self, op, bins):
        tv_bins = TV_SPACE[op][0](bins, H, W)
        ours = magnitude_to_value(op, torch.arange(bins), num_bins=bins, height=H, width=W)
        if tv_bins is None:
            assert not OPS[op].has_magnitude and torch.equal(
                ours, torch.zeros(bins, dtype=torch.float64)
            )
        else:
            assert torch.equal(ours, tv_bins.to(torch.float64))

    def test_real_magnitudes_interpolate_linearly(self):
        m = torch.tensor([4.25, 12.5, 29.9], dtype=torch.float64)
        rot = magnitude_to_value("Rotate", m, num_bins=31, height=H, width=W)
        torch.testing.assert_close(rot, m, rtol=0, atol=1e-5)  # 30 degrees over 30 bins
        tx = magnitude_to_value("TranslateX", m, num_bins=31, height=H, width=W)
        torch.testing.assert_close(tx, m * (150.0 / 331.0 * W) / 30, rtol=0, atol=1e-5)
        sol = magnitude_to_value("Solarize", m, num_bins=31, height=H, width=W)
        torch.testing.assert_close(sol, 1 - m / 30, rtol=0, atol=1e-6)

    def test_posterize_rounded_per_frame(self):
        m = torch.tensor([0.0, 3.0, 3.8, 11.0, 11.3, 30.0], dtype=torch.float64)
        bits = magnitude_to_value("Posterize", m, num_bins=31, height=H, width=W)
        assert bits.tolist() == [8.0, 8.0, 7.0, 7.0, 6.0, 4.0]  # round(8 - m / 7.5)

    def test_magnitude_out_of_range(self):
        with pytest.raises(ValueError, match=r"magnitude must be in \[0, 30\]"):
            magnitude_to_value("Rotate", torch.tensor([31.0]), num_bins=31, height=H, width=W)


class TestSampling:
    @pytest.mark.parametrize("mode", MODES)
    def test_magnitudes_linear_between_drawn_ends(self, mode):
        aug = RandAugmentT(num_ops=3, magnitude=9, mode=mode)
        p = aug.draw_params((64, T, 3, 1, 1), generator=gen(0))
        assert p.op_ids.shape == (64, 3) and p.magnitudes.shape == (64, 3, T)
        m1, m2 = p.ends.unbind(-1)
        r = torch.linspace(0, 1, T, dtype=torch.float64)
        expected = (1 - r) * m1.unsqueeze(-1) + r * m2.unsqueeze(-1)
        torch.testing.assert_close(p.magnitudes, expected.clamp(0, 30), rtol=0, atol=1e-12)
        assert torch.equal(p.magnitudes[..., 0], m1) and torch.equal(p.magnitudes[..., -1], m2)
        steps = p.magnitudes.diff(dim=-1)
        torch.testing.assert_close(steps, steps[..., :1].expand_as(steps), rtol=0, atol=1e-12)

    def test_spatial_ends(self):
        p = RandAugmentT(num_ops=2, magnitude=9, mode="spatial").draw_params(
            (32, T, 3, 1, 1), generator=gen(1)
        )
        assert (p.ends == 9).all() and p.spatial.all()

    def test_temporal_ends(self):
        p = RandAugmentT(num_ops=2, magnitude=9, mode="temporal").draw_params(
            (256, T, 3, 1, 1), generator=gen(2)
        )
        m1, m2 = p.ends.unbind(-1)
        assert (m2 == 9).all() and (m1 >= 0.1).all() and (m1 <= 9).all()
        assert m1.min() < 1.0 and m1.max() > 8.0 and not p.spatial.any()  # spread over U(0.1, M)

    def test_temporal_plus_ends(self):
        p = RandAugmentT(num_ops=2, magnitude=10, mode="temporal+").draw_params(
            (256, T, 3, 1, 1), generator=gen(3)
        )
        m1, m2 = p.ends.unbind(-1)
        torch.testing.assert_close(m1 + m2, torch.full_like(m1, 20.0), rtol=0, atol=1e-12)
        delta = (m2 - m1).abs() / 2
        assert (delta <= 5.0).all() and delta.max() > 4.5 and delta.min() < 0.5
        up = (m2 > m1).float().mean()
        assert 0.35 < up < 0.65  # (M - δ, M + δ) or swapped with p = 0.5

    def test_mix_picks_spatial_or_temporal_plus_per_clip(self):
        p = RandAugmentT(num_ops=3, magnitude=10, mode="mix").draw_params(
            (256, T, 3, 1, 1), generator=gen(4)
        )
        m1, m2 = p.ends.unbind(-1)
        spatial = p.spatial
        assert 0.35 < spatial.float().mean() < 0.65
        assert (m1[spatial] == 10).all() and (m2[spatial] == 10).all()
        torch.testing.assert_close(m1[~spatial] + m2[~spatial], torch.full_like(m1[~spatial], 20.0))
        assert ((m1[~spatial] - m2[~spatial]).abs() > 0).all()

    def test_clamped_to_bins(self):
        p = RandAugmentT(num_ops=2, magnitude=30, mode="temporal+").draw_params(
            (64, T, 3, 1, 1), generator=gen(5)
        )
        assert p.ends.max() > 30 and p.magnitudes.max() == 30 and p.magnitudes.min() >= 15

    def test_ops_and_signs(self):
        p = RandAugmentT(num_ops=4, mode="spatial").draw_params((500, 2, 3, 1, 1), generator=gen(6))
        assert set(p.op_ids.unique().tolist()) == set(range(14))
        signed = torch.tensor([OPS[op].signed for op in OP_NAMES])[p.op_ids]
        assert set(p.signs[signed].unique().tolist()) == {-1.0, 1.0}
        assert (p.signs[~signed] == 1.0).all()

    def test_restricted_ops(self):
        aug = RandAugmentT(num_ops=2, ops=["Rotate", "Equalize"])
        p = aug.draw_params((50, T, 3, 1, 1), generator=gen(7))
        assert p.ops == ("Rotate", "Equalize") and set(p.op_ids.unique().tolist()) == {0, 1}

    def test_single_frame(self):
        p = RandAugmentT(mode="temporal+").draw_params((8, 1, 3, 1, 1), generator=gen(8))
        assert torch.equal(p.magnitudes[..., 0], p.ends[..., 0].clamp(0, 30))


class TestApply:
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    def test_spatial_equals_torchvision_randaugment(self, dtype):
        """Same ops, magnitude and signs on every frame == torchvision v2 RandAugment's steps."""
        aug = RandAugmentT(num_ops=2, magnitude=9, mode="spatial")
        tv = v2.RandAugment(num_ops=2, magnitude=9)
        clips = make_video_batch(B, T, C, H, W, dtype=dtype, seed=10)
        for seed in range(4):
            p = aug.draw_params((B, T, 3, 1, 1), generator=gen(seed))
            out = aug.transform(clips, p)
            for b in range(B):
                ref = clips[b]
                for n in range(2):
                    op = OP_NAMES[p.op_ids[b, n]]
                    bins = TV_SPACE[op][0](31, H, W)
                    value = 0.0 if bins is None else float(bins[9]) * float(p.signs[b, n])
                    ref = tv._apply_image_or_video_transform(
                        ref, op, value, interpolation=tv.interpolation, fill=tv._fill
                    )
                assert frame_mad(out[b], ref) <= 1.0, (seed, b, p.op_ids[b])

    @pytest.mark.parametrize("mode", ["temporal", "temporal+"])
    def test_per_frame_values_follow_the_ramp(self, mode):
        aug = RandAugmentT(num_ops=1, magnitude=12, mode=mode, ops=["Brightness"])
        clip = torch.full((1, T, C, H, W), 100, dtype=torch.uint8)
        p = aug.draw_params((1, T, 3, 1, 1), generator=gen(11))
        out = aug.transform(clip, p)
        factor = 1 + p.signs[0, 0] * 0.9 * p.magnitudes[0, 0] / 30
        assert out[0, :, 0, 0, 0].tolist() == (100 * factor).to(torch.float32).floor().tolist()
        assert len(set(out[0, :, 0, 0, 0].tolist())) > 1  # really temporal

    def test_batch_clips_are_independent(self):
        aug = RandAugmentT(num_ops=2, magnitude=9, mode="temporal+")
        clips = make_video_batch(6, T, C, H, W, dtype=torch.uint8, seed=12)
        p = aug.draw_params((6, T, 3, 1, 1), generator=gen(13))
        assert len({tuple(r) for r in p.op_ids.tolist()}) > 1
        out = aug.transform(clips, p)
        for b in range(6):
            one = RandAugmentTParams(
                ops=p.ops,
                op_ids=p.op_ids[b : b + 1],
                magnitudes=p.magnitudes[b : b + 1],
                signs=p.signs[b : b + 1],
                ends=p.ends[b : b + 1],
                spatial=p.spatial[b : b + 1],
            )
            assert torch.equal(out[b], aug.transform(clips[b], one)), b
        other = clips.clone()
        other[1:] = 0
        assert torch.equal(aug.transform(other, p)[0], out[0])

    def test_single_clip_and_leading_dims(self):
        aug = RandAugmentT(num_ops=2, mode="mix")
        clips = make_video_batch(4, T, C, H, W, dtype=torch.float32, seed=14)
        p = aug.draw_params((4, T, 3, 1, 1), generator=gen(15))
        flat = aug.transform(clips, p)
        nested = aug.transform(clips.reshape(2, 2, T, C, H, W), p)
        assert torch.equal(nested.reshape(flat.shape), flat)
        assert aug(clips[0], generator=gen(0)).shape == (T, C, H, W)

    def test_determinism_with_generator(self):
        aug = RandAugmentT(num_ops=3, magnitude=9, mode="temporal+")
        clips = make_video_batch(B, T, C, H, W, dtype=torch.uint8, seed=16)
        a = aug(clips, generator=gen(123))
        b = aug(clips, generator=gen(123))
        c = aug(clips, generator=gen(124))
        assert torch.equal(a, b) and not torch.equal(a, c)
        assert torch.equal(
            a, aug.transform(clips, aug.draw_params((B, T, 3, 1, 1), generator=gen(123)))
        )

    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    def test_input_untouched_dtype_kept(self, dtype):
        clips = make_video_batch(B, T, C, H, W, dtype=dtype, seed=17)
        before = clips.clone()
        out = RandAugmentT(num_ops=3)(clips, generator=gen(0))
        assert torch.equal(clips, before) and out.dtype == dtype and out.shape == clips.shape
        assert out.data_ptr() != clips.data_ptr()

    def test_no_magnitude_ops_ignore_magnitudes(self):
        aug = RandAugmentT(num_ops=1, ops=["AutoContrast", "Equalize", "Identity"])
        clips = make_video_batch(3, T, C, H, W, dtype=torch.uint8, seed=18)
        p = aug.draw_params((3, T, 3, 1, 1), generator=gen(19))
        q = RandAugmentTParams(p.ops, p.op_ids, p.magnitudes * 0 + 30, p.signs, p.ends, p.spatial)
        assert torch.equal(aug.transform(clips, p), aug.transform(clips, q))

    def test_sign_flips_the_value(self):
        aug = RandAugmentT(num_ops=1, ops=["Rotate"], mode="temporal")
        clip = make_video_batch(1, T, C, H, W, dtype=torch.uint8, seed=20)
        p = aug.draw_params((1, T, 3, 1, 1), generator=gen(21))
        for sign in (-1.0, 1.0):
            q = RandAugmentTParams(
                p.ops, p.op_ids, p.magnitudes, torch.full_like(p.signs, sign), p.ends, p.spatial
            )
            expected = F.rotate(clip, sign * p.magnitudes[0, 0])  # Rotate: 1 degree per bin
            assert frame_mad(aug.transform(clip, q), expected) == 0.0

    def test_zero_ops_is_a_copy(self):
        clips = make_video_batch(2, T, C, H, W, dtype=torch.uint8)
        out = RandAugmentT(num_ops=0)(clips, generator=gen(0))
        assert torch.equal(out, clips) and out.data_ptr() != clips.data_ptr()


class TestTorchvisionPipeline:
    def test_compose_on_tv_video_with_label(self):
        video = tv_tensors.Video(make_video_batch(1, T, C, H, W, dtype=torch.uint8)[0])
        pipeline = v2.Compose([RandAugmentT(num_ops=2), v2.ToDtype(torch.float32, scale=True)])
        torch.manual_seed(0)
        out = pipeline({"video": video, "label": 7, "name": "v_Basketball_g01_c01"})
        assert isinstance(out["video"], tv_tensors.Video)
        assert out["video"].dtype == torch.float32 and out["video"].shape == video.shape
        assert out["label"] == 7 and out["name"] == "v_Basketball_g01_c01"
        torch.manual_seed(0)
        again = pipeline({"video": video, "label": 7, "name": "v_Basketball_g01_c01"})
        assert torch.equal(out["video"], again["video"])  # make_params uses the global RNG

    def test_video_and_plain_tensor_label(self):
        video = tv_tensors.Video(make_video_batch(2, T, C, H, W, dtype=torch.uint8))
        label = torch.tensor([1, 2])
        out, lab = RandAugmentT()(video, label, generator=gen(3))
        assert isinstance(out, tv_tensors.Video) and lab is label
        assert out.shape == video.shape

    def test_rejects_images_and_pil(self):
        aug = RandAugmentT()
        with pytest.raises(ValueError, match=r"got an input of type Image"):
            aug(tv_tensors.Image(torch.zeros(3, 8, 8, dtype=torch.uint8)))
        with pytest.raises(ValueError, match=r"got an input of type Image"):
            aug(PIL.Image.new("RGB", (8, 8)))

    def test_pickle_round_trip(self):
        aug = RandAugmentT(num_ops=2, magnitude=7, mode="mix", fill=(1, 2, 3))
        clone = pickle.loads(pickle.dumps(aug))
        clips = make_video_batch(2, T, C, H, W, dtype=torch.uint8)
        assert torch.equal(clone(clips, generator=gen(4)), aug(clips, generator=gen(4)))

    def test_repr_names_the_arguments(self):
        text = repr(RandAugmentT(num_ops=3, magnitude=5, mode="mix"))
        assert "num_ops=3" in text and "magnitude=5.0" in text and "mode=mix" in text


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "pattern"),
        [
            ({"num_ops": -1}, r"num_ops must be an integer >= 0, got -1"),
            ({"num_ops": 1.5}, r"num_ops must be an integer >= 0, got 1.5"),
            ({"magnitude": 31}, r"magnitude must be a number in \[0, 30\] .*got 31"),
            ({"magnitude": -0.5}, r"magnitude must be a number in \[0, 30\] .*got -0.5"),
            ({"magnitude": 10, "num_magnitude_bins": 10}, r"in \[0, 9\] .*got 10"),
            ({"num_magnitude_bins": 1}, r"num_magnitude_bins must be an integer >= 2, got 1"),
            (
                {"mode": "temporal++"},
                r"mode must be one of \['spatial', 'temporal', 'temporal\+', 'mix'\], got 'temporal\+\+'",
            ),
            ({"ops": ["Rotate", "Invert"]}, r"ops must be names from .*got unknown \['Invert'\]"),
            ({"ops": []}, r"ops must name at least one operation"),
            ({"ops": "Rotate"}, r"ops must be a sequence of names"),
            ({"fill": "black"}, r"fill must be a number or a sequence of numbers, got 'black'"),
        ],
    )
    def test_constructor(self, kwargs, pattern):
        with pytest.raises(ValueError, match=pattern):
            RandAugmentT(**kwargs)

    def test_draw_params_arguments(self):
        aug = RandAugmentT()
        with pytest.raises(
            ValueError, match=r"at least one clip with T >= 1, got \(0, 6, 3, 1, 1\)"
        ):
            aug.draw_params((0, T, 3, 1, 1))
        with pytest.raises(
            ValueError, match=r"at least one clip with T >= 1, got \(1, 0, 3, 1, 1\)"
        ):
            aug.draw_params((1, 0, 3, 1, 1))
        with pytest.raises(ValueError, match=r"shape must be a sequence of integers, got \(1, 2.0"):
            aug.draw_params((1, 2.0, 3, 1, 1))
        with pytest.raises(ValueError, match=r"at least one clip with T >= 1, got \(6, 3, 1\)"):
            aug.draw_params((T, 3, 1))
        with pytest.raises(ValueError, match=r"generator must be None or a CPU torch.Generator"):
            aug.draw_params((1, T, 3, 1, 1), generator=3)

    def test_params_must_match_video(self):
        aug = RandAugmentT()
        p = aug.draw_params((2, T, 3, 1, 1), generator=gen(0))
        with pytest.raises(ValueError, match=r"the video needs \(3, N\) and \(3, N, 6\)"):
            aug.transform(make_video_batch(3, T, C, H, W), p)
        with pytest.raises(ValueError, match=r"needs \(2, N\) and \(2, N, 5\)"):
            aug.transform(make_video_batch(2, 5, C, H, W), p)

    def test_video_rank(self):
        with pytest.raises(ValueError, match=r"at least 4 dims, got shape \(3, 8, 8\)"):
            RandAugmentT()(torch.zeros(3, 8, 8))


@requires_cuda
class TestCuda:
    @pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
    @pytest.mark.parametrize("mode", MODES)
    def test_gpu_batch_matches_cpu(self, mode, dtype):
        aug = RandAugmentT(num_ops=3, magnitude=9, mode=mode)
        clips = make_video_batch(8, T, C, H, W, dtype=dtype, seed=30)
        p = aug.draw_params((8, T, 3, 1, 1), generator=gen(31))
        gpu = aug.transform(clips.cuda(), p)
        assert gpu.is_cuda and gpu.dtype == dtype
        cpu = aug.transform(clips, p)
        for b in range(8):
            assert frame_mad(gpu[b].cpu(), cpu[b]) <= 1.0, (b, p.op_ids[b])

    def test_call_on_gpu_with_cpu_generator(self):
        clips = make_video_batch(4, T, C, H, W, dtype=torch.uint8, device="cuda")
        a = RandAugmentT()(clips, generator=gen(5))
        b = RandAugmentT()(clips, generator=gen(5))
        assert a.is_cuda and torch.equal(a, b)
        with pytest.raises(ValueError, match=r"CPU torch.Generator"):
            RandAugmentT().draw_params((1, T, 3, 1, 1), generator=torch.Generator(device="cuda"))
