"""Tests for the temporal-perturbation robustness suite (tempaug.analysis.robustness.perturbations,
robustness, robustness_metrics, robustness_report.plot_perturbation_gallery)."""

from __future__ import annotations

import itertools
import math
import re
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from conftest import make_video_batch, requires_cuda

from tempaug.analysis.robustness import evaluation as rb
from tempaug.analysis.robustness import metrics as rm
from tempaug.analysis.robustness import perturbations as pb
from tempaug.analysis.robustness import report as rr

pytestmark = pytest.mark.filterwarnings("error")

NAMES = pb.PERTURBATIONS


def smooth_batch(lead=(3, 2), t=8, h=24, w=20, *, dtype=torch.float32, seed=0) -> torch.Tensor:
    """Spatially smooth random clips ``(*lead, T, 3, H, W)`` whose frames all differ."""
    n = math.prod(lead)
    low = make_video_batch(n, t, 3, 6, 5, seed=seed).reshape(n * t, 3, 6, 5)
    x = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    x = x.clamp(0, 1).reshape(*lead, t, 3, h, w)
    if dtype == torch.uint8:
        return (x * 255).round().to(torch.uint8)
    return x.to(dtype)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mean_abs_change(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().mean().item()


# ------------------------------------------------------------------------ the perturbation class
class TestPerturbations:
    @pytest.mark.parametrize("name", NAMES)
    @pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
    def test_severity_zero_is_identity(self, name, dtype):
        x = smooth_batch(dtype=dtype)
        y = pb.perturb(x, name, 0, generator=gen())
        assert torch.equal(y, x)
        assert y.data_ptr() != x.data_ptr()  # a copy, not the input

    @pytest.mark.parametrize("name", NAMES)
    def test_monotone_in_mean_absolute_change(self, name):
        x = smooth_batch(lead=(6, 2), t=16)
        changes = [
            mean_abs_change(pb.perturb(x, name, s, generator=gen(1)), x) for s in pb.SEVERITIES
        ]
        assert changes[0] == 0.0
        assert all(b > a for a, b in itertools.pairwise(changes)), changes

    @pytest.mark.parametrize("name", NAMES)
    def test_deterministic_per_seed(self, name):
        x = smooth_batch(lead=(4, 2))
        a = pb.perturb(x, name, 3, generator=gen(7))
        b = pb.perturb(x, name, 3, generator=gen(7))
        c = pb.perturb(x, name, 3, generator=gen(8))
        assert torch.equal(a, b)
        assert not torch.equal(a, c)

    @pytest.mark.parametrize("name", NAMES)
    @pytest.mark.parametrize(
        ("lead", "dtype"),
        [((3,), torch.float32), ((2, 3), torch.uint8), ((2, 2), torch.float64)],
    )
    def test_shape_dtype_device_range_kept_and_input_untouched(self, name, lead, dtype):
        x = smooth_batch(lead=lead, dtype=dtype)
        before, version = x.clone(), x._version
        y = pb.perturb(x, name, 5, generator=gen())
        assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
        assert torch.equal(x, before) and x._version == version
        if dtype.is_floating_point:
            assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
        assert not torch.equal(y, x)

    @pytest.mark.parametrize("name", pb.PERTURBATIONS)
    def test_a_v2_transform_with_the_augmentations_convention(self, name):
        from torchvision import tv_tensors
        from torchvision.transforms import v2

        p = pb.TemporalPerturbation(name, 3)
        assert isinstance(p, v2.Transform)
        x = smooth_batch(lead=(2,))
        hooked = p.make_params([x], gen(4))  # torchvision's hook: draw_params on x's device
        drawn = p.draw_params(x.shape, generator=gen(4), device=x.device)
        assert hooked.keys() == drawn.keys()
        assert all(torch.equal(hooked[k], drawn[k]) for k in drawn)
        labels = torch.tensor([1, 0])
        torch.manual_seed(5)  # inside Compose the draws come from torch's default generator
        out, same = v2.Compose([p])(tv_tensors.Video(x), labels)
        torch.manual_seed(5)
        assert isinstance(out, tv_tensors.Video) and same is labels
        assert torch.equal(out.as_subclass(torch.Tensor), p(x))
        assert "severity=3" in repr(p)

    def test_views_batch_gets_per_clip_draws_and_matches_flat_batch(self):
        x = smooth_batch(lead=(3, 4))
        p = pb.TemporalPerturbation("flash", 5)
        params = p.draw_params(x.shape, generator=gen(0))
        assert params["weight"].shape == (3, 4, 8)
        starts = params["weight"].argmax(-1)
        assert len(set(starts.flatten().tolist())) > 1  # views are not all flashed alike
        y = p.transform(x, params)
        flat = p.transform(x.flatten(0, 1), {"weight": params["weight"].flatten(0, 1)})
        assert torch.equal(y.flatten(0, 1), flat)
        # one clip alone with its own parameters gives the same frames (no cross-clip mixing)
        for name in ("shake", "frame_jitter", "exposure_drift"):
            q = pb.TemporalPerturbation(name, 4)
            par = q.draw_params(x.shape, generator=gen(3))
            full = q.transform(x, par)
            one = q.transform(x[1, 2][None], {k: v[1, 2][None] for k, v in par.items()})
            torch.testing.assert_close(full[1, 2], one[0])

    def test_common_random_numbers_across_severities(self):
        x = smooth_batch(lead=(5,), t=32)
        masks = [
            pb.TemporalPerturbation("flash", s).draw_params(x.shape, generator=gen(2))["weight"] > 0
            for s in range(1, 6)
        ]
        assert masks[0].sum() < masks[-1].sum()
        for a, b in itertools.pairwise(masks):
            assert bool((b | ~a).all())  # flashed frames are nested across severities
        shifts = [
            pb.TemporalPerturbation("shake", s).draw_params(x.shape, generator=gen(2))["shift"]
            for s in (1, 5)
        ]
        torch.testing.assert_close(shifts[1], shifts[0] * 5)

    @pytest.mark.parametrize("bad", ["blur", "Flash", "", None])
    def test_bad_name_raises_with_allowed_values(self, bad):
        with pytest.raises(ValueError, match=r"flash.*gaussian_noise"):
            pb.TemporalPerturbation(bad, 1)

    @pytest.mark.parametrize("bad", [-1, 6, 2.0, True, "3"])
    def test_bad_severity_raises_with_allowed_values(self, bad):
        with pytest.raises(ValueError, match=r"severity must be an int in \[0, 1, 2, 3, 4, 5\]"):
            pb.perturb(smooth_batch(), "fade", bad)

    def test_bad_video_raises(self):
        with pytest.raises(ValueError, match="video must have shape"):
            pb.perturb(torch.rand(3, 8, 8), "fade", 1)
        with pytest.raises(ValueError, match=r"uint8.*float"):
            pb.perturb(torch.zeros(1, 2, 3, 4, 4, dtype=torch.int32), "fade", 1)

    def test_frame_jitter_index_is_sorted_and_keeps_a_frame(self):
        p = pb.TemporalPerturbation("frame_jitter", 5)
        idx = p.draw_params((64, 16, 3, 4, 4), generator=gen(5))["index"]
        assert int(idx.min()) >= 0 and int(idx.max()) <= 15
        assert bool((idx.diff(dim=-1) >= 0).all())  # no frame ever plays backwards
        lag_by_sev = [
            (
                pb.TemporalPerturbation("frame_jitter", s).draw_params(
                    (64, 16, 3, 4, 4), generator=gen(5)
                )["index"]
                - torch.arange(16)
            ).abs()
            for s in range(1, 6)
        ]
        for a, b in itertools.pairwise(lag_by_sev):
            assert bool((b >= a).all())  # nested drops: each frame's lag only grows

    def test_noise_control_is_stationary_over_time(self):
        x = torch.full((2, 16, 3, 32, 32), 0.5)
        y = pb.perturb(x, "gaussian_noise", 2, generator=gen())
        per_frame_std = (y - x).std(dim=(-3, -2, -1))
        sigma = pb.SEVERITY_SCALES["gaussian_noise"]["sigma"][1]
        torch.testing.assert_close(
            per_frame_std, torch.full_like(per_frame_std, sigma), atol=0.01, rtol=0
        )
        assert not torch.equal(y[:, 0] - x[:, 0], y[:, 1] - x[:, 1])  # fresh draw per frame

    @requires_cuda
    @pytest.mark.parametrize("name", [n for n in NAMES if n != "gaussian_noise"])
    def test_cuda_matches_cpu(self, name):
        x = smooth_batch(lead=(2, 2), dtype=torch.uint8)
        cpu = pb.perturb(x, name, 4, generator=gen(3))
        cuda = pb.perturb(x.cuda(), name, 4, generator=gen(3))
        assert cuda.device.type == "cuda" and cuda.dtype == torch.uint8
        assert (cuda.cpu().int() - cpu.int()).abs().max() <= 1
        xf = smooth_batch(lead=(2, 2))
        torch.testing.assert_close(
            pb.perturb(xf.cuda(), name, 4, generator=gen(3)).cpu(),
            pb.perturb(xf, name, 4, generator=gen(3)),
            atol=1e-5,
            rtol=0,
        )

    @requires_cuda
    def test_cuda_noise_is_deterministic_and_has_the_scale(self):
        x = torch.full((2, 8, 3, 64, 64), 0.5, device="cuda")
        a = pb.perturb(x, "gaussian_noise", 1, generator=gen(3))
        b = pb.perturb(x, "gaussian_noise", 1, generator=gen(3))
        assert a.device.type == "cuda" and torch.equal(a, b)
        sigma = pb.SEVERITY_SCALES["gaussian_noise"]["sigma"][0]
        assert abs(float((a - x).std()) - sigma) < 0.005


# ------------------------------------------------------------------------ kernels vs references
class TestKernels:
    def test_flash_and_fade_extremes(self):
        x = smooth_batch(lead=(2,))
        w = torch.zeros(2, 8)
        w[:, 3] = 1.0
        f = pb.flash_kernel(x, w)
        assert torch.equal(f[:, 3], torch.ones_like(x[:, 3])) and torch.equal(f[:, :3], x[:, :3])
        d = pb.fade_kernel(x, w)
        assert torch.equal(d[:, 3], torch.zeros_like(x[:, 3])) and torch.equal(d[:, 4:], x[:, 4:])
        xu = (x * 255).round().to(torch.uint8)
        assert int(pb.flash_kernel(xu, w)[:, 3].min()) == 255

    def test_exposure_gain_and_contrast(self):
        x = smooth_batch(lead=(2,))
        ones = torch.ones(2, 8)
        torch.testing.assert_close(pb.exposure_kernel(x, 0.5 * ones, ones), x * 0.5)
        flat = pb.exposure_kernel(x, ones, 0 * ones)
        torch.testing.assert_close(flat, x.mean(dim=(-3, -2, -1), keepdim=True).expand_as(x))
        with pytest.raises(ValueError, match="gain must broadcast"):
            pb.exposure_kernel(x, torch.ones(3), ones)

    def test_affine_identity_rotation_and_shift(self):
        x = torch.rand(2, 4, 3, 12, 12, generator=gen())
        zeros, ones = torch.zeros(2, 4), torch.ones(2, 4)
        same = pb.affine_frames_kernel(x, angle_deg=zeros, shift=torch.zeros(2, 4, 2), scale=ones)
        torch.testing.assert_close(same, x)
        rot = pb.affine_frames_kernel(
            x, angle_deg=zeros + 90.0, shift=torch.zeros(2, 4, 2), scale=ones
        )
        ref = [torch.rot90(x, k, dims=(-2, -1)) for k in (1, -1)]
        assert any(torch.allclose(rot, r, atol=1e-5) for r in ref)
        one_px = torch.zeros(2, 4, 2)
        one_px[..., 0] = 1.0 / 12  # one pixel along x
        moved = pb.affine_frames_kernel(x, angle_deg=zeros, shift=one_px, scale=ones)
        torch.testing.assert_close(moved[..., :-1], x[..., 1:])

    def test_zoom_keeps_centre_and_magnifies(self):
        x = torch.zeros(1, 1, 3, 21, 21)
        x[..., 9:12, 9:12] = 1.0
        z = pb.affine_frames_kernel(
            x,
            angle_deg=torch.zeros(1, 1),
            shift=torch.zeros(1, 1, 2),
            scale=torch.full((1, 1), 2.0),
        )
        assert z[..., 10, 10].min() == 1.0
        assert (z > 0.5).sum() > (x > 0.5).sum() * 3

    def test_gather_frames(self):
        x = smooth_batch(lead=(2,))
        idx = torch.tensor([[0, 0, 1, 1, 2, 2, 3, 3], list(range(8))])
        y = pb.gather_frames_kernel(x, idx)
        assert (
            torch.equal(y[0, 1], x[0, 0])
            and torch.equal(y[0, 7], x[0, 3])
            and torch.equal(y[1], x[1])
        )
        with pytest.raises(ValueError, match=r"index values must lie in \[0, T-1\]"):
            pb.gather_frames_kernel(x, idx + 1)


# ------------------------------------------------------------------------ metrics
def make_records(n_videos: int, accs: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """Per-video 0/1 correctness; accuracy drops by 5 points per severity from the clean one."""
    g = gen(seed)
    rows = []
    for method, clean in accs.items():
        conds = [("clean", 0)] + [
            (p, s) for p in ("flash", "shake", "gaussian_noise") for s in range(1, 6)
        ]
        for pert, sev in conds:
            correct = (torch.rand(n_videos, generator=g) < clean - 0.05 * sev).int().tolist()
            rows += [
                {"method": method, "perturbation": pert, "severity": sev, "video": v, "correct": c}
                for v, c in enumerate(correct)
            ]
    return pd.DataFrame(rows)


class TestMetrics:
    def test_severity_table_point_estimates_and_ci(self):
        rec = make_records(60, {"a": 0.8, "b": 0.6})
        tab = rm.severity_table(rec, n_boot=300, seed=0)
        assert len(tab) == 2 * (1 + 3 * 5)
        for r in tab.itertuples():
            sub = rec[
                (rec.method == r.method)
                & (rec.perturbation == r.perturbation)
                & (rec.severity == r.severity)
            ]
            assert r.accuracy == pytest.approx(sub.correct.mean())
            assert r.acc_low <= r.accuracy <= r.acc_high
            assert r.drop_low <= r.relative_drop <= r.drop_high
        clean = tab[tab.perturbation == "clean"]
        assert (clean.relative_drop == 0).all() and (clean.severity == 0).all()
        a = tab[tab.method == "a"].set_index(["perturbation", "severity"])
        assert a.loc[("flash", 2), "relative_drop"] == pytest.approx(
            1 - a.loc[("flash", 2), "accuracy"] / a.loc[("clean", 0), "accuracy"]
        )

    def test_bootstrap_ci_shrinks_with_n_and_is_seeded(self):
        widths = []
        for n in (40, 640):
            tab = rm.severity_table(make_records(n, {"a": 0.7}), n_boot=400, seed=1)
            widths.append((tab.acc_high - tab.acc_low).mean())
        assert widths[1] < 0.5 * widths[0]
        rec = make_records(50, {"a": 0.7})
        pd.testing.assert_frame_equal(
            rm.severity_table(rec, n_boot=50, seed=3), rm.severity_table(rec, n_boot=50, seed=3)
        )
        assert not rm.severity_table(rec, n_boot=50, seed=3).equals(
            rm.severity_table(rec, n_boot=50, seed=4)
        )

    def test_summary_aggregates(self):
        rec = make_records(80, {"a": 0.9})
        summ = rm.summary_table(rec, n_boot=200).set_index("perturbation")
        sev = rm.severity_table(rec, n_boot=10).set_index(["perturbation", "severity"])
        for p in ("flash", "shake", "gaussian_noise"):
            assert summ.loc[p, "accuracy"] == pytest.approx(sev.loc[p].accuracy.mean())
        assert summ.loc["mCA", "accuracy"] == pytest.approx(
            summ.loc[["flash", "shake", "gaussian_noise"], "accuracy"].mean()
        )
        assert summ.loc["mCA (temporal)", "accuracy"] == pytest.approx(
            summ.loc[["flash", "shake"], "accuracy"].mean()
        )
        assert summ.loc["mCA", "relative_drop"] == pytest.approx(
            1 - summ.loc["mCA", "accuracy"] / summ.loc["clean", "accuracy"]
        )
        assert (summ.acc_low <= summ.accuracy).all() and (summ.accuracy <= summ.acc_high).all()

    def test_paired_difference(self):
        rec = make_records(100, {"a": 0.8})
        rec_b = rec.assign(method="b")
        same = rm.paired_difference(pd.concat([rec, rec_b]), "a", "b", n_boot=100)
        assert (
            np.allclose(same.difference, 0)
            and np.allclose(same.diff_low, 0)
            and np.allclose(same.diff_high, 0)
        )
        # b: flash never hurts -> a degrades more under flash
        better = rec_b.copy()
        better.loc[better.perturbation == "flash", "correct"] = (
            rec_b.loc[rec_b.perturbation == "clean", "correct"].tolist() * 5
        )
        diff = rm.paired_difference(
            pd.concat([rec, better]), "a", "b", perturbations=["flash"], n_boot=200
        )
        assert (
            diff.difference.iloc[0] > 0
            and diff.diff_low.iloc[0] > 0
            and diff.prob_a_better.iloc[0] < 0.05
        )
        with pytest.raises(ValueError, match="method_b='zzz' is not in records"):
            rm.paired_difference(rec, "a", "zzz")

    def test_bad_records_raise(self):
        rec = make_records(10, {"a": 0.8})
        with pytest.raises(ValueError, match="missing columns"):
            rm.severity_table(rec.drop(columns="video"))
        with pytest.raises(ValueError, match="unknown perturbations"):
            rm.severity_table(rec.replace({"perturbation": {"flash": "blur"}}))
        with pytest.raises(ValueError, match="same videos"):
            rm.severity_table(rec.drop(index=3))
        with pytest.raises(ValueError, match="n_boot"):
            rm.summary_table(rec, n_boot=0)

    def test_writers_are_atomic_and_roundtrip(self, tmp_path):
        summ = rm.summary_table(make_records(20, {"a": 0.8, "b": 0.7}), n_boot=20)
        path = rm.write_csv(summ, tmp_path / "out" / "robustness.csv")
        pd.testing.assert_frame_equal(pd.read_csv(path), summ, check_dtype=False)
        md = rm.robustness_markdown(summ, caption="Generated data.")
        assert md.startswith("Generated data.")
        assert re.search(r"^\| method +\| clean +\| flash +\|", md, re.M)
        rm.write_markdown(md, tmp_path / "out" / "robustness.md")
        assert (tmp_path / "out" / "robustness.md").read_text() == md
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
            "robustness.csv",
            "robustness.md",
        ]


# ------------------------------------------------------------------------ evaluation loop
@pytest.fixture(scope="module")
def model():
    from tempaug.models import slowfast_smoke

    return slowfast_smoke(3, width=8, seed=0).eval()


class TestEvaluateRobustness:
    @staticmethod
    def loader():
        views = smooth_batch(lead=(3, 2), t=16, h=32, w=32, dtype=torch.uint8, seed=4)
        labels = torch.tensor([0, 1, 2])
        return [
            (views[:2], labels[:2], torch.arange(2)),
            (views[2:], labels[2:], torch.arange(2, 3)),
        ]

    def test_records_match_manual_pipeline(self, model):
        from tempaug.data.transforms import normalize

        rec = rb.evaluate_robustness(
            model,
            self.loader(),
            method="m",
            perturbations=["fade", "shake"],
            severities=[5],
            seed=3,
        )
        assert len(rec) == 3 * (1 + 2 * 1)
        assert set(rec.columns) == {
            "method",
            "perturbation",
            "severity",
            "video",
            "label",
            "pred",
            "correct",
        }
        assert (rec.correct == (rec.pred == rec.label)).all()
        # rebuild the shake/5 predictions of the second batch by hand: rewinding the generator
        # per severity means batch 2 sees the state after one draw-set of batch 1
        gens = pb.TemporalPerturbation("shake", 5)
        g = torch.Generator().manual_seed(pb.perturbation_seed(3, "shake"))
        batches = self.loader()
        gens.draw_params(batches[0][0].shape, generator=g)
        views = gens(batches[1][0], generator=g)  # perturb raw uint8 frames, then normalise
        with torch.no_grad():
            probs = (
                torch.softmax(model(normalize(views.flatten(0, 1))), -1).reshape(1, 2, -1).mean(1)
            )
        got = rec[
            (rec.perturbation == "shake") & (rec.severity == 5) & (rec.video >= 2)
        ].sort_values("video")
        assert got.pred.tolist() == probs.argmax(-1).tolist()

    def test_deterministic_and_paired_across_calls(self, model):
        kw = {"perturbations": ["flash"], "severities": [5], "seed": 1}
        a = rb.evaluate_robustness(model, self.loader()[1:], method="a", **kw)
        b = rb.evaluate_robustness(model, self.loader()[1:], method="a", **kw)
        pd.testing.assert_frame_equal(a, b)
        assert model.training is False

    def test_per_view_batches_give_the_per_video_clean_records(self, model):
        """Views of a video spread over batches (per-clip items) are averaged per video."""
        kw = {"perturbations": ["flash"], "severities": [2], "seed": 1}
        per_video = rb.evaluate_robustness(model, self.loader(), method="m", **kw)
        views = torch.cat([b[0] for b in self.loader()])  # (3 videos, 2 views, T, C, H, W)
        # one view per item; batch 1 = video 0 and the first view of video 1
        batches = [
            (
                views.flatten(0, 1)[j : j + 3, None],
                torch.tensor([0, 1, 2]).repeat_interleave(2)[j : j + 3],
                torch.arange(3).repeat_interleave(2)[j : j + 3],
                torch.arange(2).repeat(3)[j : j + 3],
            )
            for j in (0, 3)
        ]
        per_view = rb.evaluate_robustness(model, batches, method="m", max_clips_per_forward=2, **kw)
        assert len(per_view) == 3 * 2
        assert per_view.groupby("perturbation").video.apply(list).to_dict() == {
            "clean": [0, 1, 2],
            "flash": [0, 1, 2],
        }
        clean = per_view.perturbation == "clean"
        pd.testing.assert_frame_equal(
            per_view[clean].reset_index(drop=True),
            per_video[per_video.perturbation == "clean"].reset_index(drop=True),
        )

    def test_bad_arguments(self, model):
        with pytest.raises(ValueError, match="severities must lie in"):
            rb.evaluate_robustness(model, [], method="m", severities=[0, 1])
        with pytest.raises(ValueError, match="perturbation name must be one of"):
            rb.evaluate_robustness(model, [], method="m", perturbations=["blur"])

    def test_one_model_takes_exactly_the_shared_pass_options(self, model):
        import inspect
        import typing

        from tempaug.analysis.robustness import evaluation

        shared = inspect.signature(rb.evaluate_models).parameters
        keywords = [n for n, p in shared.items() if p.kind is p.KEYWORD_ONLY]
        assert list(typing.get_type_hints(evaluation._PassOptions)) == keywords
        with pytest.raises(TypeError, match="max_clips"):
            rb.evaluate_robustness(model, [], method="m", max_clips=2)


# ------------------------------------------------------------------------ figures
class TestFigures:
    def test_gallery_grid_and_heatmap_values(self):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        clip = smooth_batch(lead=(1,), t=8, dtype=torch.uint8)[0]
        fig = rr.plot_perturbation_gallery(
            clip,
            perturbations=["flash", "shake"],
            severities=[0, 5],
            num_frames=3,
            frames_per_row=2,
        )
        assert len(fig.axes) == 4
        assert [ax.get_title() for ax in fig.axes[:2]] == ["severity 0", "severity 5"]
        plt.close(fig)
        with pytest.raises(ValueError, match="num_frames must be in"):
            rr.plot_perturbation_gallery(clip, num_frames=9)

        summ = rm.summary_table(make_records(20, {"a": 0.8, "b": 0.6}), n_boot=10)
        fig = rm.plot_robustness_heatmap(summ)
        mesh = fig.axes[0].collections[0].get_array().reshape(2, -1)
        expected = summ[summ.perturbation != "clean"].pivot(
            index="method", columns="perturbation", values="relative_drop"
        )
        cols = [c for c in pd.unique(summ.perturbation) if c != "clean"]
        np.testing.assert_allclose(mesh, expected.loc[["a", "b"], cols].to_numpy() * 100)
        plt.close(fig)


# ------------------------------------------------------------------------ trained runs
def test_evaluate_checkpoint_batches_by_clip_and_keeps_the_clean_predictions(tmp_path):
    from _data_helpers import smoke

    from tempaug.data import VideoClipDataset, make_loader
    from tempaug.models import slowfast_smoke
    from tempaug.train import TrainConfig
    from tempaug.train.checkpoint import save_checkpoint

    data = smoke("ucf101")
    table = data.split(1)
    table = table[table.subset == "test"].head(3).reset_index(drop=True)
    k = int(table.attrs.get("num_classes", table.label.max() + 1))
    net = slowfast_smoke(k, width=8, seed=0)
    save_checkpoint(
        tmp_path / "last.pt",
        {"model": net.state_dict(), "model_name": "slowfast_smoke", "model_kwargs": {
            "num_classes": k, "width": 8}},
    )  # fmt: skip
    cfg = TrainConfig.from_dict(
        {
            "data": {"eval_table": table, "video_root": str(data.video_root), "clip_len": 16,
                     "crop_size": 32, "num_workers": 0},
            "eval": {"num_clips": 2, "num_crops": 3, "batch_size": 2},
        }
    )  # fmt: skip
    rec = rb.evaluate_checkpoint(
        cfg, tmp_path / "last.pt", method="m", perturbations=["fade"], severities=[4]
    )
    assert len(rec) == 3 * 2 and set(rec.video) == set(table.video)
    per_video = VideoClipDataset(
        table, data.video_root, mode="eval", clip_len=16, crop_size=32, num_clips=2,
        num_crops=3, output="uint8",
    )  # fmt: skip
    ref = rb.evaluate_robustness(
        net.eval(), make_loader(per_video, batch_size=3, train=False, seed=0), method="m",
        perturbations=["fade"], severities=[4],
    )  # fmt: skip
    clean = rec[rec.perturbation == "clean"].reset_index(drop=True)
    assert clean.pred.tolist() == ref[ref.perturbation == "clean"].pred.tolist()


# ------------------------------------------------------------------------ shared pass (all models)
class _Recorder(torch.nn.Module):
    """Wraps a model and keeps every input it classifies (to compare what models see)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net, self.seen = net, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return self.net(x)


def _models(n: int = 3) -> dict[str, torch.nn.Module]:
    from tempaug.models import slowfast_smoke

    return {f"m{i}": _Recorder(slowfast_smoke(3, width=8, seed=i)) for i in range(n)}


class TestEvaluateModels:
    KW: ClassVar[dict] = {"perturbations": list(NAMES), "severities": [1, 3, 5], "seed": 2}

    def test_all_models_at_once_equal_one_by_one(self):
        """Same perturbed clips (bitwise) and same records as evaluating each model alone."""
        shared = _models()
        rec = rb.evaluate_models(
            shared, TestEvaluateRobustness.loader(), max_clips_per_forward=5, **self.KW
        )
        alone = _models()
        for name, net in alone.items():
            one = rb.evaluate_robustness(
                net, TestEvaluateRobustness.loader(), method=name, max_clips_per_forward=5,
                **self.KW,
            )  # fmt: skip
            got = rec[rec.method == name].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, one, check_exact=True)
            assert len(shared[name].seen) == len(net.seen) > 1
            for a, b in zip(shared[name].seen, net.seen, strict=True):
                assert torch.equal(a, b)
        # every model classified exactly the same inputs
        first = torch.cat(shared["m0"].seen)
        assert all(torch.equal(torch.cat(m.seen), first) for m in shared.values())
        assert list(pd.unique(rec.method)) == ["m0", "m1", "m2"]
        assert len(rec) == 3 * 3 * (1 + len(NAMES) * 3)

    def test_logits_equal_one_by_one_with_per_view_batches(self):
        """Per-clip items (views split over batches) give the same records shared or alone."""
        views = torch.cat([b[0] for b in TestEvaluateRobustness.loader()])
        batches = [
            (
                views.flatten(0, 1)[j : j + 4, None],
                torch.tensor([0, 1, 2]).repeat_interleave(2)[j : j + 4],
                torch.arange(3).repeat_interleave(2)[j : j + 4],
                torch.arange(2).repeat(3)[j : j + 4],
            )
            for j in (0, 4)
        ]
        kw = {"perturbations": ["shake", "frame_jitter"], "severities": [2, 4], "seed": 0}
        rec = rb.evaluate_models(_models(2), batches, **kw)
        for name, net in _models(2).items():
            one = rb.evaluate_robustness(net, batches, method=name, **kw)
            pd.testing.assert_frame_equal(rec[rec.method == name].reset_index(drop=True), one)
        assert sorted(rec.video.unique()) == [0, 1, 2]

    def test_modes_restored_and_bad_input_named(self):
        models = _models(2)
        models["m0"].eval()
        models["m1"].train()
        rb.evaluate_models(
            models, TestEvaluateRobustness.loader()[1:], perturbations=["flash"], severities=[1]
        )
        assert models["m0"].training is False and models["m1"].training is True
        with pytest.raises(ValueError, match="at least one model"):
            rb.evaluate_models({}, [])
        with pytest.raises(ValueError, match="'blur'"):
            rb.evaluate_models(models, [], perturbations=["flash", "blur"])
        with pytest.raises(ValueError, match="got 7"):
            rb.evaluate_models(models, [], severities=[1, 7])
        with pytest.raises(ValueError, match="got '3'"):
            rb.evaluate_models(models, [], severities=["3"])


# ------------------------------------------------------------------------ seeds
class _Spec:
    def __init__(self, recipe: str, seed: int) -> None:
        self.recipe, self.seed = recipe, seed


class TestSelectSeeds:
    SPECS: ClassVar[list] = [_Spec(r, s) for r in ("a", "b") for s in (0, 1, 2)]

    def test_choices(self):
        def seeds(sel):
            return [(s.recipe, s.seed) for s in rb.select_seeds(self.SPECS, sel)]

        assert seeds("all") == [(s.recipe, s.seed) for s in self.SPECS]
        assert seeds("first") == [("a", 0), ("b", 0)]
        assert seeds("0, 2") == [("a", 0), ("a", 2), ("b", 0), ("b", 2)]
        assert seeds([1]) == [("a", 1), ("b", 1)]
        assert [s.seed for s in rb.select_seeds(self.SPECS[1:3], "first")] == [1]

    def test_bad_seeds_are_named(self):
        with pytest.raises(ValueError, match=r"seeds \[5\] have no run; seeds found: \[0, 1, 2\]"):
            rb.select_seeds(self.SPECS, "0,5")
        with pytest.raises(ValueError, match="got 'x'"):
            rb.select_seeds(self.SPECS, "0,x")
        with pytest.raises(ValueError, match="got -1"):
            rb.select_seeds(self.SPECS, [-1])


def _seeded_records(n_videos: int, correct_by_seed: dict[int, float], seed: int = 0):
    """Records of method "a" with a ``seed`` column; accuracy per training seed."""
    parts = []
    for s, acc in correct_by_seed.items():
        parts.append(make_records(n_videos, {"a": acc}, seed=seed + 10 * s).assign(seed=s))
    return pd.concat(parts, ignore_index=True)


class TestSeedBootstrap:
    def test_point_is_the_mean_over_seeds_and_videos(self):
        rec = _seeded_records(40, {0: 0.9, 1: 0.5, 2: 0.7})
        tab = rm.severity_table(rec, n_boot=50, seed=0).set_index(["perturbation", "severity"])
        means = rec.groupby(["perturbation", "severity"]).correct.mean()
        for key, acc in means.items():
            assert tab.loc[key, "accuracy"] == pytest.approx(acc)

    def test_one_seed_column_changes_nothing(self):
        rec = make_records(30, {"a": 0.8, "b": 0.6})
        for fn in (rm.severity_table, rm.summary_table):
            pd.testing.assert_frame_equal(
                fn(rec, n_boot=100, seed=4), fn(rec.assign(seed=3), n_boot=100, seed=4),
                check_exact=True,
            )  # fmt: skip

    def test_seed_resampling_widens_intervals_when_seeds_disagree(self):
        """Seed 0 always right, seed 1 always wrong: only resampling seeds shows that spread."""
        base = make_records(200, {"a": 0.7})
        rec = pd.concat(
            [base.assign(seed=0, correct=1), base.assign(seed=1, correct=0)], ignore_index=True
        )
        two_level = rm.summary_table(rec, n_boot=300, seed=0).set_index("perturbation")
        videos_only = rm.summary_table(rr.average_over_seeds(rec), n_boot=300, seed=0).set_index(
            "perturbation"
        )
        assert two_level.loc["clean", "accuracy"] == pytest.approx(0.5)
        assert videos_only.loc["clean", "acc_high"] - videos_only.loc["clean", "acc_low"] < 1e-12
        assert (
            two_level.loc["clean", "acc_low"] == 0.0 and two_level.loc["clean", "acc_high"] == 1.0
        )
        # identical seeds: the hierarchical interval is the videos-only one
        same = pd.concat([base.assign(seed=0), base.assign(seed=1)], ignore_index=True)
        np.testing.assert_allclose(
            rm.summary_table(same, n_boot=100, seed=1)[["acc_low", "acc_high"]],
            rm.summary_table(base, n_boot=100, seed=1)[["acc_low", "acc_high"]],
        )

    def test_seed_coverage_and_pairing_are_checked(self):
        rec = _seeded_records(10, {0: 0.8, 1: 0.6})
        with pytest.raises(ValueError, match="same videos"):
            rm.severity_table(rec.drop(index=rec.index[(rec.seed == 1) & (rec.video == 3)]))
        with pytest.raises(ValueError, match="duplicate rows"):
            rm.severity_table(pd.concat([rec, rec.head(1)]))
        b = rec[rec.seed == 0].assign(method="b")
        with pytest.raises(ValueError, match=r"same training seeds, got \[0, 1\] and \[0\]"):
            rm.paired_difference(pd.concat([rec, b]), "a", "b", n_boot=10)
        ok = rm.paired_difference(pd.concat([rec, rec.assign(method="b")]), "a", "b", n_boot=20)
        assert np.allclose(ok.difference, 0)


# ------------------------------------------------------------------------ several checkpoints
def _checkpoint_runs(tmp_path, n_videos: int = 5):
    """A tiny validation table and runs (method, seed) with their own random checkpoints."""
    from _data_helpers import smoke

    from tempaug.models import slowfast_smoke
    from tempaug.train import TrainConfig
    from tempaug.train.checkpoint import save_checkpoint

    data = smoke("ucf101")
    table = data.split(1)
    table = table[table.subset == "test"].head(n_videos).reset_index(drop=True)
    k = int(table.attrs.get("num_classes", table.label.max() + 1))
    cfg = TrainConfig.from_dict(
        {
            "data": {"eval_table": table, "video_root": str(data.video_root), "clip_len": 16,
                     "crop_size": 32, "num_workers": 0},
            "eval": {"num_clips": 2, "num_crops": 1, "batch_size": 2},
        }
    )  # fmt: skip
    runs = []
    for i, (method, seed) in enumerate([("base", 0), ("base", 1), ("temporal", 0)]):
        path = tmp_path / f"{method}{seed}.pt"
        net = slowfast_smoke(k, width=8, seed=i)
        save_checkpoint(
            path,
            {"model": net.state_dict(), "model_name": "slowfast_smoke", "model_kwargs": {
                "num_classes": k, "width": 8}},
        )  # fmt: skip
        runs.append(rb.RobustnessRun(method, seed, cfg, path))
    return table, cfg, runs


def test_evaluate_checkpoints_covers_every_video_and_equals_per_run(tmp_path):
    table, cfg, runs = _checkpoint_runs(tmp_path)
    kw = {"perturbations": ["flash", "shake"], "severities": [1, 5], "seed": 1}
    rec = rb.evaluate_checkpoints(runs, max_videos=0, **kw)
    assert list(rec.columns[:2]) == ["method", "seed"]
    per_run = rec.groupby(["method", "seed"]).video.apply(set)
    assert len(per_run) == 3 and all(v == set(table.video) for v in per_run)
    assert len(rec) == 3 * len(table) * (1 + 2 * 2)
    for run in runs:
        one = rb.evaluate_checkpoint(cfg, run.checkpoint, method=run.method, **kw)
        got = rec[(rec.method == run.method) & (rec.seed == run.seed)]
        pd.testing.assert_frame_equal(got.drop(columns="seed").reset_index(drop=True), one)
    sub = rb.evaluate_checkpoints(runs[:1], max_videos=2, **kw)
    assert sub.video.nunique() == 2
    assert rb.evaluate_checkpoints(runs[:1], max_videos=99, **kw).video.nunique() == len(table)
    one_view = rb.evaluate_checkpoints(runs[:1], num_clips=1, **kw)
    assert one_view.video.nunique() == len(table)


def test_evaluate_checkpoints_rejects_bad_runs_and_arguments(tmp_path):
    import dataclasses

    _, cfg, runs = _checkpoint_runs(tmp_path, n_videos=1)
    with pytest.raises(ValueError, match="at least one run"):
        rb.evaluate_checkpoints([])
    with pytest.raises(ValueError, match=r"repeated \(method, seed\) pairs \[\('base', 0\)\]"):
        rb.evaluate_checkpoints([runs[0], runs[0]])
    other = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, num_clips=3))
    with pytest.raises(ValueError, match="'temporal', seed 0\\) evaluates different views"):
        rb.evaluate_checkpoints([runs[0], dataclasses.replace(runs[2], cfg=other)])
    with pytest.raises(ValueError, match="'zoom'"):
        rb.evaluate_checkpoints(runs, perturbations=["zoom"])
    with pytest.raises(ValueError, match="got 6"):
        rb.evaluate_checkpoints(runs, severities=[6])
    with pytest.raises(ValueError, match="max_videos must be an int >= 0, got -1"):
        rb.evaluate_checkpoints(runs, max_videos=-1)
    with pytest.raises(ValueError, match="num_clips must be an int >= 1"):
        rb.evaluate_checkpoints(runs, num_clips=0)
