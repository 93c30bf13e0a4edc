"""SlowFast-50 as configured in paper Section 4.1 (tempaug.models.slowfast)."""

from __future__ import annotations

import pytest
import torch
from conftest import make_video_batch, requires_cuda

from tempaug.models import SlowFastVideoClassifier, build_model, slowfast50, slowfast_smoke

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def paper_model() -> SlowFastVideoClassifier:
    return slowfast50(101, seed=0).eval()


@pytest.fixture(scope="module")
def smoke_model() -> SlowFastVideoClassifier:
    return slowfast_smoke(5, seed=0).eval()


class TestPaperConfiguration:
    def test_parameter_count_101_classes(self, paper_model):
        n = sum(p.numel() for p in paper_model.parameters())
        # SlowFast-50 with the (5,1,1) fusion kernel: 33.79 M (≈33.8 M in the issue).
        assert n == 33_791_021
        assert abs(n - 33.8e6) < 0.05e6

    def test_pathway_geometry_and_fusion(self, paper_model):
        assert paper_model.alpha == 8 and paper_model.fast_stride == 2
        assert paper_model.slow_stride == 16
        fusion = paper_model.net.blocks[0].multipathway_fusion.conv_fast_to_slow
        assert fusion.kernel_size == (5, 1, 1)
        assert fusion.stride == (8, 1, 1)
        assert fusion.in_channels == 8 and fusion.out_channels == 16  # β = 1/8, ratio 2
        head = paper_model.net.blocks[-1]
        assert isinstance(head.dropout, torch.nn.Dropout) and head.dropout.p == 0.5
        assert paper_model.classifier.in_features == 2048 + 256
        pool = paper_model.net.blocks[-2].pool
        assert all(isinstance(p, torch.nn.AdaptiveAvgPool3d) for p in pool)

    def test_output_shape_64x160(self, paper_model):
        x = make_video_batch(1, 64, 3, 160, 160)
        with torch.no_grad():
            out = paper_model(x, return_features=True)
        assert out["logits"].shape == (1, 101)
        assert out["slow"].shape == (1, 2048, 4, 5, 5)
        assert out["fast"].shape == (1, 256, 32, 5, 5)
        assert out["weight"].shape == (101, 2304) and out["bias"].shape == (101,)


class TestPathways:
    def test_slow_every_16th_fast_every_2nd(self, smoke_model):
        t = 32
        x = torch.arange(t, dtype=torch.float32).view(1, t, 1, 1, 1).expand(2, t, 3, 32, 32)
        slow, fast = smoke_model.pack_pathways(x)
        assert slow.shape == (2, 3, 2, 32, 32) and fast.shape == (2, 3, 16, 32, 32)
        assert slow[0, 0, :, 0, 0].tolist() == [0.0, 16.0]
        assert fast[0, 0, :, 0, 0].tolist() == [float(i) for i in range(0, 32, 2)]

    def test_permutes_channels(self, smoke_model):
        x = make_video_batch(1, 16, 3, 32, 32)
        _, fast = smoke_model.pack_pathways(x)
        torch.testing.assert_close(fast[0, :, 1], x[0, 2])  # (C, H, W) of input frame 2

    @pytest.mark.parametrize(
        ("shape", "match"),
        [
            ((2, 16, 3, 32), "B, T, C, H, W"),
            ((2, 16, 1, 32, 32), "C=3"),
            ((2, 24, 3, 32, 32), "multiple of alpha"),
            ((2, 8, 3, 32, 32), "multiple of alpha"),
        ],
    )
    def test_bad_input_raises(self, smoke_model, shape, match):
        with pytest.raises(ValueError, match=match):
            smoke_model(torch.zeros(shape))

    def test_input_not_mutated(self, smoke_model):
        x = make_video_batch(2, 16, 3, 32, 32)
        before = x.clone()
        version = x._version
        with torch.no_grad():
            smoke_model(x)
        assert x._version == version
        torch.testing.assert_close(x, before)


class TestSmokeConfiguration:
    def test_shapes(self, smoke_model):
        x = make_video_batch(3, 16, 3, 32, 32)
        with torch.no_grad():
            out = smoke_model(x, return_features=True)
        assert out["logits"].shape == (3, 5)
        assert out["slow"].shape == (3, 512, 1, 1, 1)
        assert out["fast"].shape == (3, 64, 8, 1, 1)
        assert smoke_model.slow_channels == 512 and smoke_model.fast_channels == 64

    @pytest.mark.parametrize(("t", "size"), [(32, 48), (16, 64), (48, 40)])
    def test_any_clip_length_and_crop(self, smoke_model, t, size):
        with torch.no_grad():
            assert smoke_model(make_video_batch(2, t, 3, size, size)).shape == (2, 5)

    def test_train_step_changes_weights_and_is_finite(self):
        model = slowfast_smoke(4, seed=1)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = make_video_batch(4, 16, 3, 32, 32)
        y = torch.tensor([0, 1, 2, 3])
        w0 = model.classifier.weight.detach().clone()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
        assert not torch.equal(w0, model.classifier.weight)


class TestFeatures:
    def test_cam_identity_single_forward(self, smoke_model):
        """logit_k = W_k[:Cs]·mean(slow) + W_k[Cs:]·mean(fast) + b_k, from one forward."""
        calls = []
        hook = smoke_model.net.blocks[0].register_forward_hook(lambda *a: calls.append(1))
        try:
            x = make_video_batch(2, 16, 3, 48, 48)
            with torch.no_grad():
                out = smoke_model(x, return_features=True)
        finally:
            hook.remove()
        assert len(calls) == 1
        cs = smoke_model.slow_channels
        w, b = out["weight"], out["bias"]
        recon = (
            out["slow"].mean((2, 3, 4)) @ w[:, :cs].T
            + out["fast"].mean((2, 3, 4)) @ w[:, cs:].T
            + b
        )
        torch.testing.assert_close(recon, out["logits"], rtol=1e-4, atol=1e-5)
        assert out["weight"] is smoke_model.classifier.weight

    def test_features_equal_plain_logits(self, smoke_model):
        x = make_video_batch(2, 16, 3, 32, 32)
        with torch.no_grad():
            torch.testing.assert_close(
                smoke_model(x), smoke_model(x, return_features=True)["logits"]
            )


class TestBuilder:
    def test_seed_reproducible_and_global_rng_untouched(self):
        state = torch.get_rng_state()
        a = slowfast_smoke(3, seed=7).state_dict()
        assert torch.equal(torch.get_rng_state(), state)
        b = slowfast_smoke(3, seed=7).state_dict()
        c = slowfast_smoke(3, seed=8).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert not all(torch.equal(a[k], c[k]) for k in a)

    def test_build_model_by_name(self):
        assert isinstance(build_model("slowfast_smoke", 3), SlowFastVideoClassifier)
        with pytest.raises(ValueError, match="model name must be one of"):
            build_model("resnet", 3)
        with pytest.raises(ValueError, match="bad argument"):
            build_model("slowfast_smoke", 3, not_an_arg=1)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"num_classes": 1}, "num_classes"),
            ({"clip_len": 20}, "clip_len"),
            ({"crop_size": 15}, "crop_size"),
            ({"depth": 34}, "depth"),
            ({"width": 12}, "width"),
            ({"dropout": 1.0}, "dropout"),
            ({"fusion_kernel_size": 4}, "fusion_kernel_size"),
            ({"alpha": 0}, "alpha"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        kwargs = {"num_classes": 3, **kwargs}
        with pytest.raises(ValueError, match=match):
            slowfast_smoke(**kwargs)

    def test_channels_last_3d_same_logits(self):
        model = slowfast_smoke(3, seed=0).eval()
        x = make_video_batch(2, 16, 3, 32, 32)
        with torch.no_grad():
            ref = model(x)
            model = model.to(memory_format=torch.channels_last_3d)
            slow, _ = model.pack_pathways(x)
            assert slow.is_contiguous(memory_format=torch.channels_last_3d)
            torch.testing.assert_close(model(x), ref, rtol=1e-4, atol=1e-5)


@requires_cuda
class TestCuda:
    def test_cpu_cuda_parity_and_bf16_autocast(self):
        model = slowfast_smoke(4, seed=0).eval()
        x = make_video_batch(2, 16, 3, 32, 32)
        with torch.no_grad():
            ref = model(x)
            cuda_model = model.to("cuda").to(memory_format=torch.channels_last_3d)
            out = cuda_model(x.cuda())
            assert out.device.type == "cuda"
            torch.testing.assert_close(out.cpu(), ref, rtol=1e-3, atol=1e-3)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                half = cuda_model(x.cuda(), return_features=True)
            assert half["logits"].dtype == torch.bfloat16
            assert half["slow"].dtype == torch.bfloat16
            torch.testing.assert_close(half["logits"].float().cpu(), ref, rtol=0.1, atol=0.1)


def test_crops_below_32_reach_the_adaptive_head():
    """Crops of 16–31 px leave the last stage a 1×1 map, which the adaptive head pools."""
    from tempaug.models import build_model

    model = build_model("slowfast_smoke", 5, width=4, alpha=4, beta_inv=2, crop_size=24)
    out = model(torch.rand(2, 16, 3, 24, 24))
    assert out.shape == (2, 5) and torch.isfinite(out).all()
