"""tempaug.data.datasets.VideoClipDataset: shapes, views, looping, determinism, workers, errors;
its frame cache (tempaug.data.cache.FrameCache): same clips, fewer decodes."""

from __future__ import annotations

import logging
import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from _data_helpers import OpenCVThreadsDataset, smoke, write_garbage
from torch.utils.data import DataLoader

from tempaug.data import (
    VideoClipDataset,
    VideoDecodeError,
    VideoReader,
    decode,
    make_loader,
    normalize,
    probe,
    set_epoch,
)
from tempaug.data.cache import FrameCache, shared_frame_cache

SMALL = {"clip_len": 8, "crop_size": 32, "scale_range": (32, 40)}
CACHE_SMALL = {**SMALL, "output": "uint8"}


@pytest.fixture(scope="module")
def data():
    return smoke("ucf101")


@pytest.fixture(scope="module")
def train_table(data):
    t = data.split(1)
    return t[t.subset == "train"].reset_index(drop=True)


@pytest.fixture(scope="module")
def test_table(data):
    t = data.split(1)
    return t[t.subset == "test"].reset_index(drop=True)


class TestItems:
    def test_train_item(self, data, train_table):
        ds = VideoClipDataset(train_table, data.video_root, **SMALL)
        clip, label, index = ds[3]
        assert clip.shape == (8, 3, 32, 32) and clip.dtype == torch.float32
        assert label == int(train_table.label[3]) and index == 3
        assert -2.5 < float(clip.min()) and float(clip.max()) < 2.5  # normalized
        assert len(ds) == len(train_table) and ds.num_classes == 6
        assert torch.equal(ds.labels, torch.tensor(train_table.label.tolist()))
        assert ds.classes == list(data.classes)

    def test_uint8_output_is_normalizable_later(self, data, train_table):
        u8 = VideoClipDataset(train_table, data.video_root, output="uint8", **SMALL)
        fl = VideoClipDataset(train_table, data.video_root, **SMALL)
        clip, _, _ = u8[5]
        assert clip.dtype == torch.uint8 and clip.shape == (8, 3, 32, 32)
        assert clip.stride(1) == 1  # channels-last memory for the OpenCV/PIL fast paths
        torch.testing.assert_close(normalize(clip[None])[0], fl[5][0])

    def test_paper_defaults(self, data, train_table):
        ds = VideoClipDataset(train_table, data.video_root)  # 64 frames, 160 crop, [160, 200]
        clip, _, _ = ds[0]
        assert clip.shape == (64, 3, 160, 160)

    def test_train_clip_content(self, data, train_table):
        """No flip, fixed scale: the clip is a crop of the resized decoded frames."""
        ds = VideoClipDataset(
            train_table, data.video_root, clip_len=6, crop_size=40, scale_range=(48, 48),
            hflip_p=0.0, output="uint8",
        )  # fmt: skip
        idx = 2
        params = ds.train_spec.draw_params(
            *(lambda i: (i.num_frames, i.height, i.width))(probe(data.video_root / ds.videos[idx])),
            generator=ds.generator(idx),
        )
        clip, _, _ = ds[idx]
        with VideoReader(data.video_root / ds.videos[idx]) as r:
            frames = r.read(params.indices, size=(params.out_height, params.out_width))
        assert (params.out_height, params.out_width) == (48, 64)
        expected = frames[..., params.top : params.top + 40, params.left : params.left + 40]
        assert torch.equal(clip, expected)

    def test_short_videos_are_looped(self, data, train_table):
        lengths = [probe(data.video_root / v).num_frames for v in train_table.video]
        row = int(np.argmin(lengths))
        n = lengths[row]
        ds = VideoClipDataset(
            train_table, data.video_root, clip_len=n + 10, crop_size=32, scale_range=(32, 32),
            hflip_p=0.0, output="uint8",
        )  # fmt: skip
        clip, _, _ = ds[row]
        assert clip.shape[0] == n + 10
        assert torch.equal(clip[n : n + 10], clip[:10])
        assert not torch.equal(clip[1], clip[0])

    def test_eval_views(self, data, test_table):
        ds = VideoClipDataset(
            test_table, data.video_root, mode="eval", clip_len=8, crop_size=48, num_clips=4,
            num_crops=3, output="uint8",
        )  # fmt: skip
        views, label, index = ds[1]
        assert views.shape == (12, 8, 3, 48, 48) and views.dtype == torch.uint8
        assert label == int(test_table.label[1]) and index == 1
        path = data.video_root / test_table.video[1]
        info = probe(path)
        full = decode(path, size=ds.eval_spec.resized(info.height, info.width))  # (N, 3, 48, 64)
        for v, view in zip(
            ds.eval_spec.plan(info.num_frames, info.height, info.width), views, strict=True
        ):
            expected = full[list(v.indices)][..., v.top : v.top + 48, v.left : v.left + 48]
            assert torch.equal(view, expected)
        assert not torch.equal(views[0], views[2])  # left vs right crop
        assert ds.num_views == 12 and len(ds) == len(test_table)
        fl = VideoClipDataset(
            test_table, data.video_root, mode="eval", clip_len=8, crop_size=48, num_clips=2
        )
        assert fl[0][0].shape == (2, 8, 3, 48, 48) and fl[0][0].dtype == torch.float32

    def test_transform_between_crop_and_normalize(self, data, train_table):
        calls = []

        class Invert:
            def __call__(self, clip, *, generator=None):
                calls.append((clip.dtype, tuple(clip.shape), generator is not None))
                noise = torch.randint(0, 2, (1,), generator=generator).to(torch.uint8)
                return 255 - clip - noise

        plain = VideoClipDataset(train_table, data.video_root, output="uint8", **SMALL)
        ds = VideoClipDataset(train_table, data.video_root, transform=Invert(), **SMALL)
        out, _, _ = ds[4]
        assert calls == [(torch.uint8, (8, 3, 32, 32), True)]
        base = plain[4][0]
        g = ds.generator(4)
        ds.train_spec.draw_params(
            *(lambda i: (i.num_frames, i.height, i.width))(probe(data.video_root / ds.videos[4])),
            generator=g,
        )
        expected = 255 - base - torch.randint(0, 2, (1,), generator=g).to(torch.uint8)
        torch.testing.assert_close(out, normalize(expected))
        assert torch.equal(ds[4][0], out)  # the transform's draws are reproducible too


class TestPerClipItems:
    @pytest.mark.parametrize("cache_bytes", [0, 2**30])
    def test_same_views_as_the_per_video_item(self, data, test_table, cache_bytes):
        kw = {"mode": "eval", "clip_len": 8, "crop_size": 48, "num_clips": 4, "num_crops": 3}
        kw.update(output="uint8", cache_bytes=cache_bytes)
        table = test_table.head(3)
        whole = VideoClipDataset(table, data.video_root, **kw)
        per_clip = VideoClipDataset(table, data.video_root, eval_unit="clip", **kw)
        assert len(per_clip) == 3 * 4 and per_clip.num_views == 12
        assert per_clip.labels.tolist() == whole.labels.tolist()
        for row in range(3):
            items = [per_clip[row * 4 + k] for k in range(4)]
            assert [it[1:] for it in items] == [
                (int(table.label[row]), row, 3 * k) for k in range(4)
            ]
            views = torch.cat([it[0] for it in items])
            assert views.shape == (12, 8, 3, 48, 48)
            assert torch.equal(views, whole[row][0])

    def test_loader_batches_count_items_and_shards_cover_all_views(self, data, test_table):
        kw = {"mode": "eval", "clip_len": 4, "crop_size": 32, "num_clips": 3, "num_crops": 3}
        ds = VideoClipDataset(
            test_table.head(3), data.video_root, eval_unit="clip", output="uint8", **kw
        )
        seen = []
        for rank in (0, 1):
            for views, _, index, view in make_loader(
                ds, batch_size=2, train=False, seed=0, rank=rank, world_size=2
            ):
                assert views.shape[1:3] == (3, 4) and views.shape[0] <= 2
                seen += [
                    (i, v + c)
                    for i, v in zip(index.tolist(), view.tolist(), strict=True)
                    for c in range(3)
                ]
        assert len(seen) == 10 * 3  # 9 items padded to 2 x 5
        assert sorted(set(seen)) == [(i, v) for i in range(3) for v in range(9)]

    def test_bad_unit(self, data, test_table):
        with pytest.raises(ValueError, match="eval_unit must be 'video' or 'clip'"):
            VideoClipDataset(test_table, data.video_root, mode="eval", eval_unit="view")


class TestDeterminism:
    def test_seed_epoch_index(self, data, train_table):
        ds = VideoClipDataset(train_table, data.video_root, **SMALL)
        a = [ds[i][0] for i in (0, 1, 2)]
        b = [ds[i][0] for i in (2, 1, 0)][::-1]  # order of access does not matter
        assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
        ds.set_epoch(1)
        assert ds.epoch == 1 and not torch.equal(ds[0][0], a[0])
        ds.set_epoch(0)
        assert torch.equal(ds[0][0], a[0])
        other = VideoClipDataset(train_table, data.video_root, seed=1, **SMALL)
        assert not torch.equal(other[0][0], a[0])
        clone = pickle.loads(pickle.dumps(ds))
        assert torch.equal(clone[1][0], a[1])

    def test_workers_match_main_process_across_epochs(self, data, train_table):
        ds = VideoClipDataset(train_table.head(9), data.video_root, output="uint8", **SMALL)

        def run(num_workers: int) -> list[torch.Tensor]:
            loader = make_loader(ds, batch_size=3, train=True, num_workers=num_workers, seed=4)
            out = []
            for epoch in (0, 1):
                set_epoch(loader, epoch)
                for clips, labels, idx in loader:
                    out += [clips, labels, idx]
            return out

        serial, parallel = run(0), run(2)
        assert len(serial) == len(parallel) == 2 * 3 * 3
        assert all(torch.equal(a, b) for a, b in zip(serial, parallel, strict=True))
        assert not torch.equal(serial[2], serial[11])  # epoch 1 reshuffled

    def test_workers_use_one_opencv_thread(self):
        """Each worker runs OpenCV on one thread (not one per core, times the workers)."""
        loader = make_loader(
            OpenCVThreadsDataset(), batch_size=2, train=False, seed=0, num_workers=2
        )
        assert [int(n) for batch in loader for n in batch] == [1, 1, 1, 1]

    def test_plain_dataloader_two_workers(self, data, train_table):
        ds = VideoClipDataset(train_table.head(6), data.video_root, **SMALL)
        a = list(DataLoader(ds, batch_size=2, num_workers=0))
        b = list(DataLoader(ds, batch_size=2, num_workers=2))
        for (x0, y0, i0), (x1, y1, i1) in zip(a, b, strict=True):
            assert torch.equal(x0, x1) and torch.equal(y0, y1) and torch.equal(i0, i1)


class TestBadVideos:
    @pytest.fixture
    def broken(self, data, train_table, tmp_path):
        table = train_table.head(6).copy()
        for v in table.video:
            (tmp_path / v).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(data.video_root / v, tmp_path / v)
        write_garbage(tmp_path / table.video[1])
        (tmp_path / table.video[4]).unlink()
        return table, tmp_path

    def test_raise(self, broken):
        table, root = broken
        ds = VideoClipDataset(table, root, **SMALL)
        with pytest.raises(VideoDecodeError, match=table.video[1].split("/")[1]):
            ds[1]
        with pytest.raises(VideoDecodeError, match="does not exist"):
            ds[4]

    def test_skip_counts_and_logs(self, broken, caplog):
        table, root = broken
        ds = VideoClipDataset(table, root, on_error="skip", **SMALL)
        with caplog.at_level(logging.WARNING, logger="tempaug.data.datasets"):
            items = [ds[i] for i in range(len(ds))]
        assert ds.num_skipped >= 2
        assert table.video[1] in ds.skipped and table.video[4] in ds.skipped
        assert (
            sum("skipping unreadable video" in r.message for r in caplog.records) == ds.num_skipped
        )
        for clip, label, index in items:
            assert clip.shape == (8, 3, 32, 32)
            assert index not in (1, 4) and label == int(table.label[index])
        again = VideoClipDataset(table, root, on_error="skip", **SMALL)
        assert torch.equal(again[1][0], items[1][0])  # the substitute is deterministic

    def test_skip_with_frame_cache(self, broken):
        table, root = broken
        ds = VideoClipDataset(table, root, on_error="skip", cache_bytes=2**30, **SMALL)
        assert ds[1][2] not in (1, 4) and ds[4][2] not in (1, 4) and ds.num_skipped >= 2

    def test_failures_go_to_the_shared_log(self, broken, tmp_path):
        table, root = broken
        log_path = tmp_path / "run" / "decode_failures.csv"
        ds = VideoClipDataset(table, root, on_error="skip", failure_log=log_path, **SMALL)
        ds.set_epoch(3)
        for i in range(len(ds)):
            ds[i]
        rows = [r.split(",") for r in log_path.read_text().splitlines()]
        assert len(rows) == ds.num_skipped >= 2
        assert {r[0] for r in rows} == {"train"} and {r[1] for r in rows} == {"3"}
        assert {table.video[1], table.video[4]} <= {r[3] for r in rows}

    @pytest.mark.parametrize("unit", ["video", "clip"])
    def test_eval_keeps_the_video_with_blank_views(self, broken, tmp_path, unit):
        """An unreadable evaluation video is never replaced by another video's clip: it keeps
        its row (so it stays in the denominator) with black views, and is recorded."""
        table, root = broken
        log_path = tmp_path / "failures.csv"
        kw = {k: v for k, v in SMALL.items() if k not in ("scale_range", "hflip_p")}
        ds = VideoClipDataset(
            table,
            root,
            mode="eval",
            num_clips=2,
            num_crops=1,
            eval_unit=unit,
            on_error="skip",
            failure_log=log_path,
            **kw,
        )
        items = [ds[i] for i in range(len(ds))]
        rows = [item[2] for item in items]
        assert sorted(set(rows)) == list(range(len(table)))  # every video, none substituted
        for item in items:
            views, label, row = item[0], item[1], item[2]
            assert label == int(table.label[row])
            blank = row in (1, 4)
            assert bool((views == views.flatten()[0]).all()) == blank
        logged = [r.split(",")[3] for r in log_path.read_text().splitlines()]
        assert set(logged) == {table.video[1], table.video[4]}
        assert {r.split(",")[0] for r in log_path.read_text().splitlines()} == {"eval"}

    def test_all_bad_gives_up(self, broken):
        table, root = broken
        ds = VideoClipDataset(table.iloc[[1, 4]], root, on_error="skip", max_retries=3, **SMALL)
        with pytest.raises(VideoDecodeError, match="3 substitutes failed"):
            ds[0]
        assert ds.num_skipped == 4


class TestValidation:
    @pytest.mark.parametrize(
        ("kw", "msg"),
        [
            ({"mode": "test"}, "mode must be 'train' or 'eval'"),
            ({"output": "half"}, "output must be 'float' or 'uint8'"),
            ({"on_error": "ignore"}, "on_error must be 'raise' or 'skip'"),
            ({"crop_size": 64, "scale_range": (48, 60)}, "crop_size <= scale_range"),
            ({"clip_len": 0}, "clip_len must be an integer >= 1"),
            ({"mean": (0.5, 0.5)}, "mean/std must have 3 entries"),
        ],
    )
    def test_bad_arguments(self, data, train_table, kw, msg):
        with pytest.raises(ValueError, match=msg):
            VideoClipDataset(train_table, data.video_root, **kw)

    def test_only_active_mode_is_validated(self, data, test_table):
        ds = VideoClipDataset(
            test_table, data.video_root, mode="eval", clip_len=4, crop_size=48, scale_range=(16, 20)
        )
        assert ds.train_spec is None and ds[0][0].shape == (10, 4, 3, 48, 48)

    def test_bad_table(self, data, train_table):
        with pytest.raises(ValueError, match=r"lacks column\(s\) \['label'\]"):
            VideoClipDataset(train_table.drop(columns="label"), data.video_root)
        with pytest.raises(ValueError, match="empty"):
            VideoClipDataset(train_table.head(0), data.video_root)
        with pytest.raises(IndexError):
            VideoClipDataset(train_table, data.video_root)[len(train_table)]


# --------------------------------------------------------------------------- frame cache


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

    def test_a_file_rewritten_in_place_is_decoded_again(self, data, train_table, tmp_path):
        """Entries are keyed by the file's size and mtime, not only its path."""
        copy = tmp_path / "v.avi"
        shutil.copyfile(data.video_root / train_table.video[0], copy)
        cache = FrameCache(2**30)
        first = cache.read(copy, [0])
        shutil.copyfile(data.video_root / train_table.video[1], copy)  # another video, same name
        os.utime(copy, ns=(0, 10**9))
        second = cache.read(copy, [0])
        assert cache.misses == 2 and not torch.equal(first, second)

    def test_pickles_empty(self, video):
        """A cache handed to a DataLoader worker travels without its frames."""
        cache = FrameCache(2**30)
        cache.read(video, [0])
        clone = pickle.loads(pickle.dumps(cache))
        assert len(cache) == 1 and len(clone) == 0 and clone.max_bytes == cache.max_bytes

    def test_shared_cache_is_one_per_process(self):
        cache = shared_frame_cache(2**20)
        assert shared_frame_cache(2**10) is cache and cache.max_bytes >= 2**20
        assert shared_frame_cache(2**31).max_bytes == 2**31
        with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
            shared_frame_cache(0)


class TestDatasetWithCache:
    @pytest.mark.parametrize("mode", ["train", "eval"])
    def test_same_items_as_without(self, data, train_table, mode):
        kw = {**CACHE_SMALL, "mode": mode, "num_clips": 2, "num_crops": 3}
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
        kw = {**CACHE_SMALL, "scale_range": (32, 32)}
        ds = VideoClipDataset(train_table, data.video_root, cache_bytes=2**30, **kw)
        for epoch in range(3):
            ds.set_epoch(epoch)
            for i in range(len(ds)):
                ds[i]
        assert ds.cache.misses == len(ds) and ds.cache.hits == 2 * len(ds)

    def test_datasets_share_a_given_cache(self, data, train_table):
        kw = {**CACHE_SMALL, "scale_range": (32, 32)}
        cache = FrameCache(2**30)
        a = VideoClipDataset(train_table, data.video_root, cache=cache, **kw)
        b = VideoClipDataset(train_table, data.video_root, cache=cache, seed=1, **kw)
        for i in range(len(a)):
            a[i]
        for i in range(len(b)):
            b[i]
        assert a.cache is b.cache and cache.misses == len(a) and cache.hits == len(b)
        with pytest.raises(ValueError, match="excludes cache_bytes"):
            VideoClipDataset(train_table, data.video_root, cache=cache, cache_bytes=1, **kw)

    @pytest.mark.parametrize("bad", [-1, 1.5, True])
    def test_bad_budget(self, data, train_table, bad):
        with pytest.raises(ValueError, match="cache_bytes must be an integer >= 0"):
            VideoClipDataset(train_table, data.video_root, cache_bytes=bad)
