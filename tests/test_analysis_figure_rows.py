"""Rows of the augmentation gallery (paper Figs. 3 and 4) and the CAM figures' helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tempaug import pipeline
from tempaug.analysis import figures
from tempaug.analysis.cam import figures as cam_figures
from tempaug.augment import RandAugmentT

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    return pipeline.load_params(REPO / "params.yaml")


def clip(seed, t=6, s=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (t, 3, s, s), generator=g, dtype=torch.uint8)


def test_ramp_params_ramp_from_zero_to_m():
    p = figures.ramp_params("Rotate", -1.0, 9.0, 4)
    assert p.ops == ("Rotate",)
    assert torch.allclose(p.magnitudes, torch.tensor([[[0.0, 3.0, 6.0, 9.0]]], dtype=torch.float64))
    assert p.signs.item() == -1.0 and p.ends.tolist() == [[[0.0, 9.0]]]
    assert not bool(p.spatial[0])
    with pytest.raises(ValueError):
        figures.ramp_params("Rotate", 1.0, 9.0, 0)


@pytest.mark.parametrize(("label", "op", "sign"), figures.FIG3_OPS)
def test_fig3_rows_are_identity_first_and_change_last(label, op, sign):
    x = clip(0)
    out = RandAugmentT(num_ops=1, magnitude=9.0, mode="temporal").transform(
        x, figures.ramp_params(op, sign, 9.0, x.shape[0])
    )
    assert torch.equal(out[0], x[0]) and not torch.equal(out[-1], x[-1]), label


def test_fig4_rows_every_method_pasting_b_into_a(params):
    a, b = clip(1), clip(2)
    rows = figures.fig4_rows(a, b, params["methods"], seed=0)
    assert len(rows) == 2 + len(figures.FIG4_METHODS)
    assert torch.equal(rows["A"], a.float() / 255) and torch.equal(rows["B"], b.float() / 255)
    labels = list(rows)[2:]
    assert labels[:3] == ["cutout", "framecutout", "cubecutout"]
    for label in labels[3:]:
        a_w, b_w = (float(w) for w in label.split("(A ")[1].rstrip(")").split(" / B "))
        assert abs(a_w + b_w - 1) < 0.011 and b_w > 0, label  # B really is mixed in
    again = figures.fig4_rows(a, b, params["methods"], seed=0)
    assert all(torch.equal(rows[k], again[k]) for k in rows)  # seeded
    other = figures.fig4_rows(a, b, params["methods"], seed=1)
    assert list(rows) != list(other) or any(not torch.equal(rows[k], other[k]) for k in rows)


def test_fig4_rows_follow_the_given_order(params):
    rows = figures.fig4_rows(clip(1), clip(2), params["methods"], seed=0, order=["mixup"])
    assert list(rows)[:2] == ["A", "B"] and list(rows)[2].startswith("mixup (A ")


def test_figure_mixer_always_mixes(params):
    mixer = cam_figures.figure_mixer(params["recipes"]["cutmix"], num_classes=5)
    assert mixer.p == 1.0  # the recipe's gate is 0.5; the figure always mixes
    assert params["recipes"]["cutmix"]["mix"]["p"] == 0.5  # and the params are not changed
    with pytest.raises(ValueError, match="no mixing method"):
        cam_figures.figure_mixer({"randaug": None, "mix": None}, num_classes=5)


def test_resolution_note_warns_only_for_a_flat_slow_pathway():
    flat = cam_figures.resolution_note(16, 64, slow_stride=16, fast_stride=2, pathways="slow")
    assert "slow 1 step(s) of 16 frames, fast 8 steps of 2 frames; spatial 2×2 cells" in flat
    assert "single time step" in flat
    assert "single time step" not in cam_figures.resolution_note(
        16, 64, slow_stride=16, fast_stride=2, pathways="both"
    )


def test_where_clips_says_generated_or_real():
    assert "generated" in cam_figures.where_clips({"name": "synthetic"})
    assert cam_figures.where_clips({"name": "paper"}) == "UCF-101 validation clips"
