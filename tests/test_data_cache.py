"""tempaug.data.cache.FrameCache and VideoClipDataset(cache_bytes=...): same clips, fewer decodes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from _data_helpers import smoke, write_garbage

from tempaug.data import VideoClipDataset, VideoDecodeError, VideoReader
from tempaug.data.cache import FrameCache

SMALL = {"clip_len": 8, "crop_size": 32, "scale_range": (32, 40), "output": "uint8"}


@pytest.fixture(scope="module")
def data():
    return smoke("ucf101")


@pytest.fixture(scope="module")
def train_table(data):
    t = data.split(1)
    return t[t.subset == "train"].reset_index(drop=True)


@pytest.fixture(scope="module")
def video(data, train_table):
    return data.video_root / train_table.video[0]


class TestFrameCache:
    @pytest.mark.parametrize("size", [None, (40, 52), (33, 45)])
    def test_same_frames_as_the_reader(self, video, size):
        cache = FrameCache(2**30)
        with VideoReader(video) as r:
            n = r.info.num_frames
        requests = [np.arange(0, n, 3), np.array([n - 1, 0, 5, 5]), np.arange(n)]
        for idx in requests:
            with VideoReader(video) as r:
                expected = r.read(idx, size=size)
            got = cache.read(video, idx, size=size)
            assert got.shape == expected.shape and torch.equal(got, expected)
            assert got.stride(1) == 1  # the reader's channels-last layout
        assert (cache.misses, cache.hits, len(cache)) == (1, 2, 1)

    def test_one_entry_per_size_and_budget(self, video):
        with VideoReader(video) as r:
            info = r.info
        one = info.num_frames * 36 * 48 * 3
        cache = FrameCache(one + 10)
        a = cache.read(video, [0, 1], size=(36, 48))
        b = cache.read(video, [0, 1], size=(32, 42))  # over budget: decoded, not stored
        assert len(cache) == 1 and cache.nbytes == one
        c = cache.read(video, [0, 1], size=(32, 42))
        assert torch.equal(b, c) and cache.misses == 3 and a.shape[-2:] == (36, 48)

    def test_bad_requests(self, video):
        cache = FrameCache(2**20)
        n = cache.info(video).num_frames
        with pytest.raises(ValueError, match=rf"frame indices must lie in \[0, {n}\)"):
            cache.read(video, [n])
        with pytest.raises(ValueError, match="indices must not be empty"):
            cache.read(video, [])
        with pytest.raises(ValueError, match="size must be positive"):
            cache.read(video, [0], size=(0, 10))
        with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
            FrameCache(0)

    def test_unreadable_file_names_it(self, tmp_path):
        bad = write_garbage(tmp_path / "bad.avi")
        with pytest.raises(VideoDecodeError, match=r"bad\.avi"):
            FrameCache(2**20).read(bad, [0])


class TestDatasetWithCache:
    @pytest.mark.parametrize("mode", ["train", "eval"])
    def test_same_items_as_without(self, data, train_table, mode):
        kw = {**SMALL, "mode": mode, "num_clips": 2, "num_crops": 3}
        plain = VideoClipDataset(train_table, data.video_root, **kw)
        cached = VideoClipDataset(train_table, data.video_root, cache_bytes=2**30, **kw)
        for epoch in range(3):
            plain.set_epoch(epoch)
            cached.set_epoch(epoch)
            for i in range(len(plain)):
                x, y = plain[i], cached[i]
                assert torch.equal(x[0], y[0]) and x[1:] == y[1:]
        assert cached.cache.hits > 0 and plain.cache is None

    def test_decodes_each_video_once_at_a_fixed_scale(self, data, train_table):
        kw = {**SMALL, "scale_range": (32, 32)}
        ds = VideoClipDataset(train_table, data.video_root, cache_bytes=2**30, **kw)
        for epoch in range(3):
            ds.set_epoch(epoch)
            for i in range(len(ds)):
                ds[i]
        assert ds.cache.misses == len(ds) and ds.cache.hits == 2 * len(ds)

    def test_skip_still_substitutes_bad_videos(self, data, train_table, tmp_path):
        table = train_table.head(4).copy()
        for v in table.video:
            (tmp_path / v).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(data.video_root / v, tmp_path / v)
        write_garbage(tmp_path / table.video[2])
        ds = VideoClipDataset(table, tmp_path, on_error="skip", cache_bytes=2**30, **SMALL)
        assert ds[2][2] != 2 and ds.num_skipped >= 1

    @pytest.mark.parametrize("bad", [-1, 1.5, True])
    def test_bad_budget(self, data, train_table, bad):
        with pytest.raises(ValueError, match="cache_bytes must be an integer >= 0"):
            VideoClipDataset(train_table, data.video_root, cache_bytes=bad)
