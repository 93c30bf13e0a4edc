"""Multi-view evaluation metrics and score files (tempaug.train.evaluate)."""

from __future__ import annotations

import csv

import pytest
import torch
from _data_helpers import smoke
from torch import nn

from tempaug.data import VideoClipDataset, make_loader
from tempaug.train import compute_metrics
from tempaug.train.config import DataConfig
from tempaug.train.distributed import DistContext
from tempaug.train.evaluate import (
    average_views,
    predict,
    view_batch,
    view_ids,
    write_scores,
)
from tempaug.train.loaders import prepare_clips


class TestMetrics:
    def test_top1_top5_and_per_class(self):
        # 3 videos of class 0 (2 right), 1 video of class 1 (right): top-1 75 %, per class 83.3 %.
        scores = torch.tensor(
            [
                [0.9, 0.1, 0.0, 0.0, 0.0, 0.0],
                [0.8, 0.2, 0.0, 0.0, 0.0, 0.0],
                [0.1, 0.2, 0.3, 0.35, 0.04, 0.01],  # class 0 is 5th -> top-5 hit
                [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            ]
        )
        labels = torch.tensor([0, 0, 0, 1])
        m = compute_metrics(scores, labels)
        assert m["top1"] == pytest.approx(75.0)
        assert m["top5"] == pytest.approx(100.0)
        assert m["mean_class_acc"] == pytest.approx(100 * (2 / 3 + 1) / 2)
        assert m["num_videos"] == 4

    def test_top5_misses_sixth(self):
        scores = torch.tensor([[0.01, 0.3, 0.25, 0.2, 0.14, 0.1]])
        assert compute_metrics(scores, torch.tensor([0]))["top5"] == 0.0

    def test_fewer_than_five_classes(self):
        m = compute_metrics(torch.tensor([[0.2, 0.8], [0.6, 0.4]]), torch.tensor([0, 0]))
        assert m["top1"] == 50.0 and m["top5"] == 100.0

    def test_bad_shapes(self):
        with pytest.raises(ValueError, match="scores must be"):
            compute_metrics(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long))
        with pytest.raises(ValueError, match="0 videos"):
            compute_metrics(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_scores_csv_round_trips_float32(tmp_path):
    scores = torch.rand(3, 4, generator=torch.Generator().manual_seed(0)).softmax(1)
    write_scores(tmp_path / "s.csv", ["a.avi", "b.avi", "c.avi"], torch.tensor([1, 0, 3]), scores)
    rows = list(csv.reader((tmp_path / "s.csv").open()))
    assert rows[0] == ["video", "label", "score_0", "score_1", "score_2", "score_3"]
    back = torch.tensor([[float(v) for v in r[2:]] for r in rows[1:]], dtype=torch.float32)
    assert torch.equal(back, scores)
    assert [r[:2] for r in rows[1:]] == [["a.avi", "1"], ["b.avi", "0"], ["c.avi", "3"]]


# ------------------------------------------------------------------------ multi-view averaging
class TestAverageViews:
    def test_bitwise_equal_to_the_per_video_mean_whatever_the_row_order(self):
        g = torch.Generator().manual_seed(0)
        b, v, k = 4, 6, 7
        logits = torch.randn(b * v, k, generator=g) * 4
        reference = logits.softmax(-1).view(b, v, -1).mean(1)  # the former predict()
        videos = torch.arange(b).repeat_interleave(v) + 10
        views = torch.arange(v).repeat(b)
        perm = torch.randperm(b * v, generator=g)
        dup = perm[:5]  # sampler padding repeats some views
        ids, scores = average_views(
            torch.cat([logits[perm], logits[dup]]),
            torch.cat([videos[perm], videos[dup]]),
            torch.cat([views[perm], views[dup]]),
        )
        assert ids.tolist() == [10, 11, 12, 13]
        assert torch.equal(scores, reference)

    def test_softmax_in_float32(self):
        logits = torch.randn(3, 5, dtype=torch.float64).to(torch.bfloat16)
        _, scores = average_views(logits, torch.zeros(3, dtype=torch.long), torch.arange(3))
        assert scores.dtype == torch.float32
        assert torch.equal(scores[0], logits.float().softmax(-1).mean(0))

    def test_missing_view_and_bad_shapes_raise(self):
        with pytest.raises(ValueError, match="video 1 does not have all of its 3 views"):
            average_views(
                torch.zeros(5, 2), torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0, 1, 2, 0, 2])
            )
        with pytest.raises(ValueError, match="logits must be"):
            average_views(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long), torch.zeros(3))


class Float64Head(nn.Module):
    """Channel means → linear, computed in float64: batch-invariant float32 logits."""

    def __init__(self, k: int = 4) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, k, generator=torch.Generator().manual_seed(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, T, C, H, W)
        y = x.double().mean((1, 3, 4)) * 3 + x.double()[:, :, :, :8, :8].std((1, 3, 4))
        return (y @ self.w.double()).float()


def _eval_dataset(unit: str, **kw) -> VideoClipDataset:
    data = smoke("ucf101")
    table = data.split(1)
    table = table[table.subset == "test"].head(5).reset_index(drop=True)
    return VideoClipDataset(
        table,
        data.video_root,
        mode="eval",
        clip_len=8,
        crop_size=48,
        output="uint8",
        eval_unit=unit,
        **kw,
    )


@pytest.mark.parametrize("num_crops", [1, 3])
def test_view_batches_give_the_former_per_video_scores_bitwise(num_crops):
    """Batching by views changes nothing: same scores as the former per-video batching."""
    model, dc, ctx = Float64Head().eval(), DataConfig(), DistContext()
    per_video = _eval_dataset("video", num_clips=3, num_crops=num_crops)
    # the former predict(): B videos x V views per batch, softmax averaged with view(b, v, -1)
    expected = []
    with torch.no_grad():
        for views, _, _ in make_loader(per_video, batch_size=3, train=False, seed=0):
            b, v = views.shape[:2]
            logits = model(prepare_clips(views.flatten(0, 1), ctx.device, dc))
            expected.append(logits.float().softmax(-1).view(b, v, -1).mean(1))
    expected = torch.cat(expected)
    per_clip = _eval_dataset("clip", num_clips=3, num_crops=num_crops)
    for batch_size in (1, 2, 4):  # 4 clips straddle videos
        loader = make_loader(per_clip, batch_size=batch_size, train=False, seed=0)
        preds = predict(model, loader, ctx=ctx, data=dc)
        assert preds.indices.tolist() == list(range(5))
        assert preds.labels.tolist() == per_video.labels.tolist()
        assert torch.equal(preds.scores, expected)
    legacy = predict(
        model, make_loader(per_video, batch_size=2, train=False, seed=0), ctx=ctx, data=dc
    )
    assert torch.equal(legacy.scores, expected)


def test_views_split_over_ranks_are_reassembled():
    """Two DDP shards of per-clip items (padded) give the single-process scores."""
    model, dc, ctx = Float64Head().eval(), DataConfig(), DistContext()
    ds = _eval_dataset("clip", num_clips=3, num_crops=3)  # 15 items: rank shards padded to 8
    parts = {"logits": [], "videos": [], "views": []}
    with torch.no_grad():
        for rank in (0, 1):
            for batch in make_loader(
                ds, batch_size=2, train=False, seed=0, rank=rank, world_size=2
            ):
                views, _, videos, first = view_batch(batch)
                vid, view = view_ids(videos, first, views.shape[1])
                parts["logits"].append(model(prepare_clips(views.flatten(0, 1), ctx.device, dc)))
                parts["videos"].append(vid)
                parts["views"].append(view)
    ids, scores = average_views(*(torch.cat(p) for p in parts.values()))
    single = predict(model, make_loader(ds, batch_size=5, train=False, seed=0), ctx=ctx, data=dc)
    assert torch.equal(ids, single.indices) and torch.equal(scores, single.scores)


# ------------------------------------------------------------------------ multi-view oracle
#: Oracle videos: (frames, width); height 32 = crop size, so frames are cropped, never resized.
ORACLE_VIDEOS = ((28, 56), (22, 48), (26, 56))
#: By hand: clip starts linspace(0, frames - clip_len, 3) and crop lefts (0, centre, W - 32).
ORACLE_STARTS = {28: (0, 12, 24), 22: (0, 9, 18), 26: (0, 11, 22)}
ORACLE_LEFTS = {56: (0, 12, 24), 48: (0, 8, 16)}
ORACLE_CLIP_LEN = 4


def _write_oracle_video(path, frames: int, width: int) -> None:
    """Gray frames (lossless FFV1): top half = 16 + 8 t, bottom half column x = 16 + 4 x."""
    import av
    import numpy as np

    with av.open(str(path), mode="w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = width, 32, "yuv444p"
        for t in range(frames):
            img = np.empty((32, width), np.uint8)
            img[:16] = 16 + 8 * t
            img[16:] = (16 + 4 * np.arange(width))[None]
            frame = av.VideoFrame.from_ndarray(np.repeat(img[..., None], 3, 2), format="rgb24")
            frame.pts = t
            c.mux(s.encode(frame))
        c.mux(s.encode(None))


class Oracle(nn.Module):
    """Logits (start/4, left/8, last - start) read back from a view's pixels (mean 0, std 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, T, C, 32, 32) in [0, 1]
        px = x[:, :, 0] * 255
        start = ((px[:, 0, :16].mean((1, 2)) - 16) / 8).round()
        last = ((px[:, -1, :16].mean((1, 2)) - 16) / 8).round()
        left = ((px[:, 0, 16:, 0].mean(1) - 16) / 4).round()
        return torch.stack([start / 4, left / 8, last - start], 1)


@pytest.mark.parametrize("num_crops", [3, 1])
def test_multi_view_scores_match_a_hand_computed_oracle(tmp_path, num_crops):
    import pandas as pd

    from tempaug.train import TrainConfig
    from tempaug.train.evaluate import run_final_evaluation

    names = []
    for i, (frames, width) in enumerate(ORACLE_VIDEOS):
        names.append(f"v{i}.avi")
        _write_oracle_video(tmp_path / names[-1], frames, width)
    table = pd.DataFrame({"video": names, "label": [0, 1, 2]})
    cfg = TrainConfig.from_dict(
        {
            "data": {
                "video_root": str(tmp_path),
                "clip_len": ORACLE_CLIP_LEN,
                "crop_size": 32,
                "mean": [0, 0, 0],
                "std": [1, 1, 1],
                "num_workers": 0,
            },
            "eval": {"num_clips": 3, "num_crops": num_crops, "batch_size": 2},
            "runtime": {"device": "cpu", "amp": False, "progress": False},
        }
    )
    ctx = DistContext()
    metrics = run_final_evaluation(Oracle(), cfg, table, ctx, tmp_path / "out")
    rows = list(csv.reader((tmp_path / "out" / "scores.csv").open()))[1:]
    got = torch.tensor([[float(s) for s in r[2:]] for r in rows], dtype=torch.float64)
    expected = []
    for frames, width in ORACLE_VIDEOS:
        lefts = ORACLE_LEFTS[width] if num_crops == 3 else (ORACLE_LEFTS[width][1],)
        logits = torch.tensor(
            [[s / 4, x / 8, ORACLE_CLIP_LEN - 1] for s in ORACLE_STARTS[frames] for x in lefts],
            dtype=torch.float64,
        )
        expected.append(logits.softmax(-1).mean(0))
    torch.testing.assert_close(got, torch.stack(expected), rtol=0, atol=1e-6)
    assert [r[0] for r in rows] == names and metrics["num_videos"] == 3
