"""Tests for tempaug.analysis.cam.maps (CAM for SlowFast) and .overlay (drawing)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import make_video_batch, requires_cuda
from torch import nn

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=FutureWarning)
    from pytorchvideo.models.head import ResNetBasicHead
    from pytorchvideo.models.net import MultiPathWayWithFuse, Net
    from pytorchvideo.models.slowfast import PoolConcatPathway, create_slowfast

from tempaug.analysis.cam.figures import mix_pair
from tempaug.analysis.cam.maps import (
    cam_from_features,
    capture_head_inputs,
    class_activation_maps,
    find_cam_layers,
    mixture_cams,
    normalize_cam,
    split_head_weight,
    upsample_cam,
)
from tempaug.analysis.cam.overlay import (
    MixingColumn,
    StripCell,
    clip_to_rgb,
    colorize,
    frame_indices,
    mixing_cam_figure,
    overlay_heatmap,
    plot_cam_grid,
    render_strip,
    tile_frames,
)
from tempaug.augment import build
from tempaug.io import save_figure
from tempaug.models import slowfast_smoke

pytestmark = pytest.mark.filterwarnings("error")


# --------------------------------------------------------------------------- a hand-made model


def tiny_net() -> Net:
    """A two-pathway 'SlowFast' with known weights: 1x1x1 convs, adaptive pool, linear head.

    slow: 1 input channel -> 2 feature channels with weights (1, -1)
    fast: 1 input channel -> 1 feature channel with weight 2
    head: W = [[2, 1 | 3], [0, -1 | 1]], b = [0.5, -1]
    """
    slow = nn.Conv3d(1, 2, kernel_size=1, bias=False)
    fast = nn.Conv3d(1, 1, kernel_size=1, bias=False)
    proj = nn.Linear(3, 2)
    blocks = nn.ModuleList(
        [
            MultiPathWayWithFuse(
                multipathway_blocks=nn.ModuleList([slow, fast]), multipathway_fusion=None
            ),
            PoolConcatPathway(
                retain_list=False,
                pool=nn.ModuleList([nn.AdaptiveAvgPool3d(1), nn.AdaptiveAvgPool3d(1)]),
            ),
            ResNetBasicHead(
                proj=proj, dropout=nn.Dropout(0.5), output_pool=nn.AdaptiveAvgPool3d(1)
            ),
        ]
    )
    net = Net(blocks=blocks)  # Net re-initialises every weight: set the known ones afterwards
    with torch.no_grad():
        slow.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1, 1))
        fast.weight.copy_(torch.tensor([2.0]).view(1, 1, 1, 1, 1))
        proj.weight.copy_(torch.tensor([[2.0, 1.0, 3.0], [0.0, -1.0, 1.0]]))
        proj.bias.copy_(torch.tensor([0.5, -1.0]))
    return net


def tiny_inputs() -> list[torch.Tensor]:
    # slow (1, 1, 2, 1, 2): frames [[1, 3]], [[2, 0]]; fast (1, 1, 4, 1, 2)
    slow = torch.tensor([[1.0, 3.0], [2.0, 0.0]]).view(1, 1, 2, 1, 2)
    fast = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).view(1, 1, 4, 1, 2)
    return [slow, fast]


def randomized_smoke(num_classes: int = 5, clip_len: int = 32) -> nn.Module:
    """Smoke SlowFast wrapper with non-trivial BN statistics and head bias (so eval != train)."""
    model = slowfast_smoke(num_classes, clip_len=clip_len, width=8, seed=0)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
        model.classifier.bias.copy_(torch.randn(num_classes, generator=g))
    return model


@pytest.fixture(scope="module")
def smoke() -> nn.Module:
    return randomized_smoke()


# --------------------------------------------------------------------------- hand-computed case


class TestHandComputed:
    def test_raw_cams_match_hand_computation(self):
        net = tiny_net()
        out = class_activation_maps(net, tiny_inputs(), [0, 1], normalize=False, relu=False)
        # slow features: ch0 = x, ch1 = -x with x = [[1, 3], [2, 0]] (T=2, W=2)
        # class 0: 2*x + 1*(-x) = x ; class 1: 0*x - 1*(-x) = x
        x = torch.tensor([[1.0, 3.0], [2.0, 0.0]])
        expected_slow = torch.stack([x, x]).view(1, 2, 2, 1, 2)
        # fast feature: 2*f ; class 0: 3 * 2f = 6f ; class 1: 1 * 2f = 2f
        f = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        expected_fast = torch.stack([6 * f, 2 * f]).view(1, 2, 4, 1, 2)
        torch.testing.assert_close(out.raw[0], expected_slow)
        torch.testing.assert_close(out.raw[1], expected_fast)
        # logits: class 0 = mean(x) + mean(6f) + 0.5 = 1.5 + 3 + 0.5 = 5 ; class 1 = 1.5 + 1 - 1 = 1.5
        torch.testing.assert_close(out.logits, torch.tensor([[5.0, 1.5]]))
        torch.testing.assert_close(out.bias, torch.tensor([[0.5, -1.0]]))

    def test_normalised_slow_map_by_hand(self):
        net = tiny_net()
        out = class_activation_maps(
            net, tiny_inputs(), 0, pathways="slow", out_size=(2, 1, 2), temporal_align="centers"
        )
        # raw slow map for class 0 is x = [[1, 3], [2, 0]]; min 0, max 3
        expected = torch.tensor([[1.0, 3.0], [2.0, 0.0]]).view(1, 1, 2, 1, 2) / 3.0
        torch.testing.assert_close(out.maps, expected)

    def test_both_pathways_sample_aligned_by_hand(self):
        net = tiny_net()
        out = class_activation_maps(net, tiny_inputs(), [1], pathways="both", normalize=False)
        # fast (stride 1): 2f ; slow (stride 2, steps at frames 0 and 2): x at frames 0, 2,
        # frame 1 = mean of both steps, frame 3 keeps the last step.
        x = torch.tensor([[1.0, 3.0], [2.0, 0.0]])
        slow_up = torch.stack([x[0], (x[0] + x[1]) / 2, x[1], x[1]])
        f = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        expected = (slow_up + 2 * f).view(1, 1, 4, 1, 2)
        torch.testing.assert_close(out.maps, expected)

    def test_relu_then_minmax(self):
        feats = [torch.tensor([-2.0, 1.0, 3.0]).view(1, 1, 3, 1, 1)]
        raw = cam_from_features(feats, torch.tensor([[1.0]]), torch.tensor([[0]]))[0]
        torch.testing.assert_close(
            normalize_cam(raw.clamp_min(0)).flatten(), torch.tensor([0, 1 / 3, 1.0])
        )


# --------------------------------------------------------------------------- the logit identity


class TestLogitIdentity:
    @pytest.mark.parametrize("train_mode", [False, True])
    def test_mean_of_raw_cams_plus_bias_is_the_logit(self, smoke, train_mode):
        """mean over each pathway's OWN (T_i, h, w) grid, summed over pathways, + bias == logit."""
        smoke.train(train_mode)
        x = make_video_batch(2, 32, 3, 64, 64, seed=3)
        out = class_activation_maps(smoke, x, list(range(5)), pathways="both")
        assert smoke.training is train_mode  # flags restored
        assert out.raw[0].shape == (2, 5, 2, 2, 2)  # slow: T/16
        assert out.raw[1].shape == (2, 5, 16, 2, 2)  # fast: T/2
        recon = sum(r.mean(dim=(2, 3, 4)) for r in out.raw) + out.bias
        torch.testing.assert_close(recon, out.logits, rtol=1e-5, atol=1e-5)
        smoke.eval()
        with torch.no_grad():
            torch.testing.assert_close(out.logits, smoke(x), rtol=1e-5, atol=1e-5)

    def test_identity_on_pytorchvideo_depth18(self):
        """Also on a bare create_slowfast(depth 18) Net read through the hook."""
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            net = create_slowfast(
                model_depth=18,
                model_num_class=4,
                head_pool=nn.AdaptiveAvgPool3d,
                head_output_size=(1, 1, 1),
            )
        x = [torch.rand(1, 3, 2, 32, 32), torch.rand(1, 3, 8, 32, 32)]
        out = class_activation_maps(net, x, [0, 1, 2, 3], pathways="both")
        # SlowFast-R depth-18 in pytorchvideo: 2048 slow | 256 fast channels, split from the model
        assert (out.raw[0].shape, out.raw[1].shape) == ((1, 4, 2, 1, 1), (1, 4, 8, 1, 1))
        recon = sum(r.mean(dim=(2, 3, 4)) for r in out.raw) + out.bias
        torch.testing.assert_close(recon, out.logits, rtol=1e-5, atol=1e-5)
        assert out.maps.shape == (1, 4, 8, 32, 32)

    def test_centre_aligned_upsampling_keeps_the_identity(self, smoke):
        """With integer scale factors trilinear upsampling keeps the mean, so the mean of the
        upsampled slow+fast map (no ReLU, no normalisation) + bias is the logit too."""
        x = make_video_batch(1, 32, 3, 64, 64, seed=4)
        out = class_activation_maps(
            smoke, x, [0, 3], pathways="both", temporal_align="centers", relu=False,
            normalize=False,
        )  # fmt: skip
        torch.testing.assert_close(
            out.maps.mean(dim=(2, 3, 4)) + out.bias, out.logits[:, [0, 3]], rtol=1e-5, atol=1e-5
        )


# --------------------------------------------------------------------------- shapes, paths, API


class TestShapesAndPaths:
    def test_shapes_and_normalisation(self, smoke):
        x = make_video_batch(2, 32, 3, 64, 64, seed=5)
        for pathways in ("slow", "fast", "both"):
            out = class_activation_maps(smoke, x, [4, 0, 2], pathways=pathways)
            assert out.maps.shape == (2, 3, 32, 64, 64)
            assert out.maps.dtype == torch.float32
            assert out.maps.min() >= 0 and out.maps.max() <= 1
            flat = out.maps.flatten(2)
            # min-max without ReLU (Zhou et al.'s CAM): every map spans [0, 1] exactly
            torch.testing.assert_close(flat.amin(-1), torch.zeros(2, 3))
            torch.testing.assert_close(flat.amax(-1), torch.ones(2, 3))
            # with the Grad-CAM style ReLU, a map without positive evidence is all zeros
            relu = class_activation_maps(smoke, x, [4, 0, 2], pathways=pathways, relu=True)
            raw = out.recombine(pathways, normalize=False).flatten(2)
            positive = raw.amax(-1) > 0
            torch.testing.assert_close(relu.maps.flatten(2).amax(-1), positive.float())
            assert out.targets.tolist() == [[4, 0, 2], [4, 0, 2]]
            assert out.logits.shape == (2, 5)

    def test_one_forward_for_many_classes_equals_one_class_at_a_time(self, smoke):
        x = make_video_batch(2, 32, 3, 64, 64, seed=6)
        all_k = class_activation_maps(smoke, x, list(range(5)), pathways="both")
        for k in range(5):
            one = class_activation_maps(smoke, x, k, pathways="both")
            torch.testing.assert_close(one.maps[:, 0], all_k.maps[:, k])

    def test_per_sample_targets(self, smoke):
        x = make_video_batch(2, 32, 3, 64, 64, seed=7)
        all_k = class_activation_maps(smoke, x, list(range(5)))
        per = class_activation_maps(smoke, x, torch.tensor([[3], [1]]))
        torch.testing.assert_close(per.maps[0, 0], all_k.maps[0, 3])
        torch.testing.assert_close(per.maps[1, 0], all_k.maps[1, 1])

    def test_wrapper_path_equals_hook_path(self, smoke):
        x = make_video_batch(2, 32, 3, 64, 64, seed=8)
        a = class_activation_maps(smoke, x, [0, 1], pathways="both")
        packed = smoke.pack_pathways(x)
        b = class_activation_maps(smoke.net, packed, [0, 1], pathways="both", out_size=(32, 64, 64))
        for ra, rb in zip(a.raw, b.raw, strict=True):
            torch.testing.assert_close(ra, rb)
        torch.testing.assert_close(a.maps, b.maps)
        # a module wrapping the wrapper falls back to the hook and gives the same maps
        wrapped = nn.Sequential(smoke)
        c = class_activation_maps(wrapped, x, [0, 1], pathways="both")
        torch.testing.assert_close(a.maps, c.maps)

    def test_inputs_not_mutated_and_hooks_removed(self, smoke):
        x = make_video_batch(1, 32, 3, 64, 64, seed=9)
        x_copy, version = x.clone(), x._version
        class_activation_maps(smoke, x, 0)
        assert torch.equal(x, x_copy) and x._version == version
        net = tiny_net()
        inputs = tiny_inputs()
        before = list(inputs)
        class_activation_maps(net, inputs, 0)
        assert all(a is b for a, b in zip(inputs, before, strict=True))  # the list is intact
        pool, _ = find_cam_layers(net)
        assert len(pool._forward_pre_hooks) == 0
        with pytest.raises(RuntimeError), capture_head_inputs(net):
            assert len(pool._forward_pre_hooks) == 1
            net([torch.rand(1, 2, 2, 1, 1), torch.rand(1, 1, 4, 1, 1)])  # bad channel count
        assert len(pool._forward_pre_hooks) == 0

    def test_split_sizes_come_from_the_model(self, smoke):
        x = make_video_batch(1, 32, 3, 64, 64, seed=10)
        out = class_activation_maps(smoke, x, 0, normalize=False, relu=False)
        w = smoke.classifier.weight
        slow_w, fast_w = split_head_weight(w, [smoke.slow_channels, smoke.fast_channels])
        feats = smoke(x, return_features=True)
        manual_slow = torch.einsum("c,bcthw->bthw", slow_w[0], feats["slow"])
        torch.testing.assert_close(out.raw[0][:, 0], manual_slow, rtol=1e-5, atol=1e-6)
        assert fast_w.shape[1] == feats["fast"].shape[1]

    def test_no_grad_needed(self, smoke):
        x = make_video_batch(1, 32, 3, 64, 64, seed=11).requires_grad_(True)
        out = class_activation_maps(smoke, x, 0)
        assert not out.maps.requires_grad and not out.raw[0].requires_grad


class TestKernels:
    def test_split_head_weight(self):
        w = torch.arange(12.0).view(2, 6)
        a, b = split_head_weight(w, (4, 2))
        assert torch.equal(a, w[:, :4]) and torch.equal(b, w[:, 4:])
        with pytest.raises(ValueError, match="sum to 5"):
            split_head_weight(w, (3, 2))
        with pytest.raises(ValueError, match="2-D"):
            split_head_weight(w.flatten(), (6,))

    def test_upsample_centers_is_trilinear(self):
        m = torch.rand(2, 3, 2, 2, 2, generator=torch.Generator().manual_seed(0))
        ref = F.interpolate(m, size=(8, 4, 4), mode="trilinear", align_corners=False)
        torch.testing.assert_close(upsample_cam(m, (8, 4, 4)), ref)

    def test_upsample_sample_alignment(self):
        m = torch.tensor([1.0, 5.0, 3.0]).view(1, 1, 3, 1, 1)
        up = upsample_cam(m, (12, 1, 1), stride=4).flatten()
        expected = torch.tensor([1, 2, 3, 4, 5, 4.5, 4, 3.5, 3, 3, 3, 3.0])
        torch.testing.assert_close(up, expected)
        with pytest.raises(ValueError, match="stride"):
            upsample_cam(m, (12, 1, 1), stride=0)

    def test_normalize_constant_map_is_zero(self):
        m = torch.full((1, 2, 3, 4, 4), 7.0)
        assert torch.equal(normalize_cam(m), torch.zeros_like(m))
        # float rounding noise on a constant map is not blown up to [0, 1]
        noisy = m + 1e-6 * torch.rand(m.shape, generator=torch.Generator().manual_seed(0))
        assert torch.equal(normalize_cam(noisy), torch.zeros_like(m))
        # ... but a real (relative) variation is
        assert normalize_cam(m + 1e-3 * torch.arange(3.0).view(1, 1, 3, 1, 1)).amax() == 1.0
        # a single time step upsampled with sample alignment stays exactly constant in time
        one = torch.tensor([0.1234567]).view(1, 1, 1, 1, 1)
        up = upsample_cam(one, (16, 2, 2), stride=16)
        assert torch.all(up == up.flatten()[0])
        with pytest.raises(ValueError, match="eps"):
            normalize_cam(m, eps=0)


class TestErrors:
    def test_bad_targets(self, smoke):
        x = make_video_batch(2, 32, 3, 64, 64, seed=12)
        with pytest.raises(ValueError, match=r"\[0, 4\]"):
            class_activation_maps(smoke, x, 5)
        with pytest.raises(ValueError, match="integer"):
            class_activation_maps(smoke, x, torch.tensor([0.0]))
        with pytest.raises(ValueError, match="B=2"):
            class_activation_maps(smoke, x, torch.zeros(3, 1, dtype=torch.long))
        with pytest.raises(ValueError, match="pathways"):
            class_activation_maps(smoke, x, 0, pathways="slowfast")
        with pytest.raises(ValueError, match="temporal_align"):
            class_activation_maps(smoke, x, 0, temporal_align="edges")

    def test_unsupported_head(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            net = create_slowfast(model_depth=18, model_num_class=3)  # fixed AvgPool3d head
        with pytest.raises(ValueError, match="AdaptiveAvgPool3d"):
            find_cam_layers(net)
        with pytest.raises(ValueError, match="exactly one"):
            find_cam_layers(nn.Linear(2, 2))


@requires_cuda
def test_cuda_matches_cpu(monkeypatch):
    # cuDNN convolutions default to TF32 on Ampere+; compare in full fp32 precision.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    model = randomized_smoke()
    x = make_video_batch(2, 32, 3, 64, 64, seed=13)
    cpu = class_activation_maps(model, x, [0, 1, 2], pathways="both")
    gpu_model = randomized_smoke().cuda()
    gpu = class_activation_maps(gpu_model, x.cuda(), [0, 1, 2], pathways="both")
    assert gpu.maps.device.type == "cuda"
    torch.testing.assert_close(gpu.maps.cpu(), cpu.maps, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(gpu.logits.cpu(), cpu.logits, rtol=1e-3, atol=1e-3)


# --------------------------------------------------------------------------- overlay


class TestOverlay:
    def test_frame_indices(self):
        assert frame_indices(10, 3).tolist() == [0, 3, 6, 9]
        assert frame_indices(64, 1, max_frames=3).tolist() == [0, 32, 63]
        with pytest.raises(ValueError, match="every"):
            frame_indices(10, 0)

    def test_clip_to_rgb_undoes_normalisation_and_uint8(self):
        clip = make_video_batch(1, 4, 3, 8, 8, seed=0)[0]
        mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
        normed = (clip - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
        rgb = clip_to_rgb(normed, mean=mean, std=std)
        np.testing.assert_allclose(rgb, clip.permute(0, 2, 3, 1).numpy(), atol=1e-6)
        u8 = (clip * 255).round().to(torch.uint8)
        np.testing.assert_allclose(clip_to_rgb(u8), clip.permute(0, 2, 3, 1).numpy(), atol=1 / 255)
        with pytest.raises(ValueError, match="together"):
            clip_to_rgb(clip, mean=mean)

    def test_overlay_is_an_alpha_blend(self):
        frames = np.zeros((2, 4, 4, 3), dtype=np.float32)
        heat = np.ones((2, 4, 4), dtype=np.float32)
        out = overlay_heatmap(frames, heat, cmap="gray", alpha=0.25)
        np.testing.assert_allclose(out, 0.25)
        assert colorize(np.array([0.0, 1.0]), "rocket").shape == (2, 3)  # seaborn colour map
        with pytest.raises(ValueError, match="colour map"):
            colorize(np.array([0.0]), "not-a-cmap")
        with pytest.raises(ValueError, match="alpha"):
            overlay_heatmap(frames, heat, alpha=2.0)

    def test_strip_layout(self):
        clip = make_video_batch(1, 8, 3, 6, 5, seed=1)[0]
        cam = torch.rand(8, 6, 5, generator=torch.Generator().manual_seed(0))
        img = render_strip(clip, cam, every=2, gap=1)
        assert img.shape == (6, 4 * 5 + 3, 3)
        assert np.all(img[:, 5] == 1.0)  # white gap column
        assert tile_frames(np.zeros((3, 2, 2, 3)), gap=0).shape == (2, 6, 3)
        with pytest.raises(ValueError, match="cam must be"):
            render_strip(clip, cam[:4])

    def test_grid_figure_and_atomic_save(self, tmp_path):
        clip = make_video_batch(1, 8, 3, 16, 16, seed=2)[0]
        cam = torch.rand(8, 16, 16, generator=torch.Generator().manual_seed(0))
        cells = [[StripCell(clip), StripCell(clip, cam)], [StripCell(clip, cam, "t"), None]]
        fig = plot_cam_grid(cells, row_labels=["a", "b"], col_labels=["MixUp", "FadeMixUp"])
        assert len(fig.axes) == 5  # 4 panels + colour bar
        path = save_figure(fig, tmp_path / "sub" / "fig.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert [p.name for p in path.parent.iterdir()] == ["fig.png"]
        with pytest.raises(ValueError, match="rectangular"):
            plot_cam_grid([[StripCell(clip)], []])


# --------------------------------------------------------------------------- Fig. 5/6 helpers


class TestFigureHelpers:
    def test_recombine_matches_a_direct_call(self, smoke):
        x = make_video_batch(1, 32, 3, 64, 64, seed=14)
        both = class_activation_maps(smoke, x, [1, 2], pathways="both")
        slow = class_activation_maps(smoke, x, [1, 2], pathways="slow")
        torch.testing.assert_close(both.recombine("slow"), slow.maps)

    def test_mixture_cams_is_one_batched_call(self, smoke):
        clips = make_video_batch(2, 32, 3, 64, 64, seed=15)
        panels = mixture_cams(smoke, clips[0], clips[1], 3, 1, pathways="both")
        ref = class_activation_maps(smoke, clips, [3, 1], pathways="both")
        torch.testing.assert_close(panels["a_on_mixed"], ref.maps[0, 0])
        torch.testing.assert_close(panels["b_on_mixed"], ref.maps[0, 1])
        torch.testing.assert_close(panels["a_on_a"], ref.maps[1, 0])
        torch.testing.assert_close(panels["prob_a"].sum(), torch.tensor(1.0))

    @pytest.mark.parametrize("name", ["mixup", "fademixup", "cutmix", "framecutmix", "cubecutmix"])
    def test_mix_pair_pastes_b_into_a(self, name):
        clips = torch.zeros(2, 8, 3, 16, 16)
        clips[1] = 1.0  # A = 0, B = 1: the mean pixel is B's share
        mixer = build(name, num_classes=2, alpha=2.0, p=0.5)
        g = torch.Generator().manual_seed(0)
        mixed, lam = mix_pair(mixer, clips[0], clips[1], generator=g)
        assert 0.3 <= lam <= 0.7
        assert float(mixed.mean()) == pytest.approx(1 - lam, abs=1e-6)
        again, lam2 = mix_pair(
            mixer, clips[0], clips[1], generator=torch.Generator().manual_seed(0)
        )
        assert lam2 == lam and torch.equal(again, mixed)
        with pytest.raises(ValueError, match="lam_range"):
            mix_pair(mixer, clips[0], clips[1], lam_range=(0.8, 0.2))

    def test_mixing_cam_figure_layout(self):
        clip = make_video_batch(2, 8, 3, 16, 16, seed=16)
        cam = torch.rand(8, 16, 16, generator=torch.Generator().manual_seed(0))
        cols = [
            MixingColumn(name, clip[0], cam, 1 - cam, cam, note="λ=0.5")
            for name in ("MixUp", "FadeMixUp")
        ]
        fig = mixing_cam_figure(clip[0], clip[1], cols, class_a="swing", class_b="basketball")
        assert len(fig.axes) == 6 * 2 + 1
        labels = [ax.get_ylabel() for ax in fig.axes[:12:2]]
        assert labels[0] == "clip A\nswing" and labels[4] == "CAM basketball\non mixed"
        assert not fig.axes[1].images  # clip A is drawn once, in the first column
        with pytest.raises(ValueError, match="at least one"):
            mixing_cam_figure(clip[0], clip[1], [])
