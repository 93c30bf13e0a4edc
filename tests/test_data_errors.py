"""Bad input to tempaug.data's public entry points gets a clear ValueError (issue 28).

Each test names the bug it catches: a silent coercion (``1.7`` read as frame 1), a bare
``TypeError``/``AssertionError`` from deep inside, or a failure that only shows per item.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _data_helpers import frame_indices, smoke, write_indexed

from tempaug.data import VideoClipDataset, VideoDecodeError, VideoReader, decode, probe, scan
from tempaug.data.cache import FrameCache
from tempaug.data.transforms import EvalClipSpec, TrainClipSpec

SMALL = {"clip_len": 8, "crop_size": 32, "scale_range": (32, 40)}


@pytest.fixture(scope="module")
def data():
    return smoke("ucf101")


@pytest.fixture(scope="module")
def table(data):
    t = data.split(1)
    return t[t.subset == "train"].head(6).reset_index(drop=True)


@pytest.fixture(scope="module")
def avi(data, table):
    return data.video_root / table.video[0]


def _damaged_mid_stream(src, dst, fraction: float = 0.5, length: int = 4000):
    """Copy ``src`` with ``length`` garbage bytes written over the middle of the file."""
    data = bytearray(src.read_bytes())
    start = int(len(data) * fraction)
    data[start : start + length] = bytes((i * 7919 + 13) % 251 for i in range(length))
    dst.write_bytes(bytes(data))
    return dst


# ------------------------------------------------------------------ VideoReader.read requests


class TestReadRequests:
    @pytest.mark.parametrize("bad", [[1.7], np.array([0.0, 1.0]), [0, 1.5]])
    def test_float_indices_are_refused_not_rounded(self, avi, bad):
        """Bug: ``np.asarray(..., dtype=int64)`` read frame 1 for index 1.7."""
        with VideoReader(avi) as r, pytest.raises(ValueError, match="indices must be integers"):
            r.read(bad)

    def test_bool_indices_are_refused(self, avi):
        """Bug: ``[True, False]`` read frames 1 and 0 (a mask mistaken for indices)."""
        with VideoReader(avi) as r, pytest.raises(ValueError, match="dtype bool"):
            r.read(np.array([True, False]))

    @pytest.mark.parametrize("bad", ["12", ["1", "2"], 3, None])
    def test_string_and_scalar_indices_are_refused(self, avi, bad):
        """Bug: ``"12"`` was parsed as frame 12 (a scalar and ``None`` gave numpy errors)."""
        with VideoReader(avi) as r, pytest.raises(ValueError, match="indices must be"):
            r.read(bad)

    def test_integer_index_types_still_read(self, avi):
        """Valid input keeps working: tuples, ranges, numpy and torch integer indices."""
        with VideoReader(avi) as r:
            ref = r.read([3, 1])
            for idx in [(3, 1), np.array([3, 1], dtype=np.int32), torch.tensor([3, 1])]:
                assert torch.equal(r.read(idx), ref)
            assert torch.equal(r.read(range(2)), r.read([0, 1]))

    def test_int_size_is_the_short_side(self, avi):
        """``size=24`` failed with ``TypeError: 'int' object is not iterable``; it now means the
        short side, aspect ratio kept (torchvision's ``Resize(int)``)."""
        info = probe(avi)
        assert (info.height, info.width) == (64, 86)
        with VideoReader(avi) as r:
            x = r.read([0, 2], size=32)
            assert x.shape == (2, 3, 32, 43)
            assert torch.equal(x, r.read([0, 2], size=(32, 43)))
        assert torch.equal(FrameCache(10**8).read(avi, [0, 2], size=32), x)
        assert decode(avi, num_frames=2, size=32).shape == (2, 3, 32, 43)

    @pytest.mark.parametrize("bad", [(32,), (32.0, 40), (32, 40, 3), True, "32", 0, -5])
    def test_bad_size(self, avi, bad):
        """Bug: ``(32.0, 40)`` was truncated, ``True`` read as 1, ``(32,)`` gave an unpacking
        error; each is now a ValueError naming ``size``."""
        with VideoReader(avi) as r, pytest.raises(ValueError, match="size must be"):
            r.read([0], size=bad)
        with pytest.raises(ValueError, match="size must be"):
            FrameCache(10**8).read(avi, [0], size=bad)

    def test_float_indices_refused_by_the_cache(self, avi):
        """The cache shares the reader's validation (it indexed its buffer with 0.5 -> 0)."""
        with pytest.raises(ValueError, match="indices must be integers"):
            FrameCache(10**8).read(avi, [0.5])


# ------------------------------------------------------------------ reader lifecycle and arguments


class TestReaderState:
    def test_read_after_close(self, avi):
        """Bug: a read after ``close()`` raised a bare ``AssertionError`` from PyAV."""
        r = VideoReader(avi)
        r.close()
        assert r.closed
        with pytest.raises(ValueError, match=r"is closed"):
            r.read([0])
        with pytest.raises(ValueError, match=r"is closed"):
            r.count_frames()
        r.close()  # idempotent

    def test_read_after_with_block(self, avi):
        with VideoReader(avi) as r:
            r.read([0])
        with pytest.raises(ValueError, match=rf"{avi.name}.*is closed"):
            r.read([0])

    def test_directory_is_not_a_missing_file(self, tmp_path):
        """Bug: a folder where a video was expected was reported as 'file does not exist'.
        Still a VideoDecodeError, so a dataset counts it like any unreadable video."""
        with pytest.raises(VideoDecodeError, match="is a directory, not a file"):
            VideoReader(tmp_path)

    @pytest.mark.parametrize("threads", [-1, 1.5, True, "2"])
    def test_bad_threads(self, avi, threads):
        """Bug: ``threads=-1`` or ``"2"`` reached FFmpeg's codec context (a TypeError or an
        FFmpeg failure at the first decode)."""
        with pytest.raises(ValueError, match="threads must be an integer >= 0"):
            VideoReader(avi, threads=threads)

    @pytest.mark.parametrize("path", [None, 3])
    def test_bad_path_type(self, path):
        """Bug: ``Path(None)`` raised a ``TypeError`` unrelated to the argument."""
        with pytest.raises(ValueError, match=r"path must be a str or os\.PathLike"):
            VideoReader(path)

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"start": 1.7}, "start must be an integer"),
            ({"start": -1}, "start must be an integer >= 0"),
            ({"start": True}, "start must be an integer"),
            ({"num_frames": 2.5}, "num_frames must be an integer >= 1"),
            ({"num_frames": 0}, "num_frames must be an integer >= 1"),
        ],
    )
    def test_decode_arguments(self, avi, kw, match):
        """Bug: ``int(start)`` turned 1.7 into frame 1 and ``True`` into 1."""
        with pytest.raises(ValueError, match=match):
            decode(avi, **kw)


# ------------------------------------------------------------------ damaged files


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """``<root>/Class/mid.avi``: a 60-frame AVI with garbage over the middle of the file."""
    root = tmp_path_factory.mktemp("damaged")
    src = write_indexed(root / "full.avi", 60, bframes=2, gop=12)
    (root / "Class").mkdir()
    return _damaged_mid_stream(src, root / "Class" / "mid.avi")


class TestDamagedMidStream:
    def test_read_names_the_file(self, damaged):
        """Garbage bytes in the middle of the stream: a VideoDecodeError naming the file, not a
        short tensor or an FFmpeg error without a path."""
        with VideoReader(damaged) as r:
            n = r.info.num_frames
            assert 0 < n < 60
            with pytest.raises(VideoDecodeError, match=r"mid\.avi.*damaged") as e:
                r.read(np.arange(n))
            assert e.value.path == str(damaged)
            # frames before the damage are still exact
            assert frame_indices(r.read([0, 5]), (240, 320)) == [0, 5]

    def test_scan_reports_it(self, damaged):
        report = scan(pd.DataFrame({"video": ["Class/mid.avi"]}), damaged.parent.parent)
        assert report.decodable.tolist() == [False]
        assert "decoded" in report.error[0]

    def test_dataset_counts_it_and_goes_on(self, damaged):
        """One damaged file among good ones is counted and skipped in eval mode, not fatal."""
        root = damaged.parent.parent
        good = write_indexed(root / "Class" / "good.avi", 40, bframes=2, gop=12)
        table = pd.DataFrame({"video": ["Class/mid.avi", f"Class/{good.name}"], "label": [0, 1]})
        kw = {"mode": "eval", "clip_len": 64, "crop_size": 32, "num_clips": 1}
        ds = VideoClipDataset(table, root, on_error="skip", output="uint8", **kw)
        views, label, row = ds[0]
        assert (label, row) == (0, 0) and views.abs().sum() == 0  # blank views
        assert ds.num_skipped == 1 and ds.skipped == ["Class/mid.avi"]
        assert ds[1][0].float().mean() > 0
        strict = VideoClipDataset(table, root, on_error="raise", **kw)
        with pytest.raises(VideoDecodeError, match=r"mid\.avi"):
            strict[0]


# ------------------------------------------------------------------ scan arguments


class TestScanArguments:
    def test_table_must_be_a_dataframe(self, data):
        """Bug: a list of paths failed with ``AttributeError: 'list' object has no attribute
        'columns'``."""
        with pytest.raises(ValueError, match="table must be a pandas DataFrame"):
            scan(["a.avi"], data.video_root)

    def test_missing_root(self, table, tmp_path):
        """Bug: a mistyped root reported every video as 'file does not exist' instead of
        saying the root is wrong."""
        with pytest.raises(ValueError, match=r"root must be an existing directory.*nope"):
            scan(table, tmp_path / "nope")

    @pytest.mark.parametrize("n", [0, 1.5, True])
    def test_bad_num_threads(self, data, table, n):
        """Bug: ``num_threads=1.5`` reached ``ThreadPoolExecutor`` (a TypeError)."""
        with pytest.raises(ValueError, match="num_threads must be an integer >= 1"):
            scan(table, data.video_root, num_threads=n)

    def test_bad_full(self, data, table):
        """Bug: ``full="no"`` is truthy and ran the full decode."""
        with pytest.raises(ValueError, match="full must be True or False"):
            scan(table, data.video_root, full="no")


# ------------------------------------------------------------------ dataset construction


class TestDatasetTables:
    def test_table_must_be_a_dataframe(self, data):
        with pytest.raises(ValueError, match="table must be a pandas DataFrame, got dict"):
            VideoClipDataset({"video": ["a.avi"], "label": [0]}, data.video_root, **SMALL)

    def test_missing_video_root(self, table, tmp_path):
        """Bug: a wrong root was accepted and every item failed (or was skipped) later."""
        with pytest.raises(ValueError, match=r"root must be an existing directory.*missing"):
            VideoClipDataset(table, tmp_path / "missing", **SMALL)

    @pytest.mark.parametrize("labels", [[0.0, 1.0], [0.5, 1.0], [np.nan, 1.0], ["a", "b"]])
    def test_non_integer_labels(self, data, table, labels):
        table = table.head(2).assign(label=labels)
        with pytest.raises(ValueError, match=r"'label' must hold integers >= 0, got dtype"):
            VideoClipDataset(table, data.video_root, **SMALL)

    def test_negative_label_names_the_row(self, data, table):
        table = table.head(3).assign(label=[0, -2, 1])
        with pytest.raises(ValueError, match=r"got -2 at row 1"):
            VideoClipDataset(table, data.video_root, **SMALL)

    def test_label_out_of_num_classes(self, data, table):
        table = table.head(2).assign(label=[0, 5])
        table.attrs["num_classes"] = 3
        with pytest.raises(ValueError, match=r"labels must be < num_classes=3, got max 5"):
            VideoClipDataset(table, data.video_root, **SMALL)

    @pytest.mark.parametrize("k", [0, 2.5, "3"])
    def test_bad_num_classes_attr(self, data, table, k):
        """Bug: ``attrs["num_classes"] = "3"`` was read as 3 and ``0`` failed per label."""
        table = table.head(2).copy()
        table.attrs["num_classes"] = k
        with pytest.raises(ValueError, match=r"num_classes'\] must be an integer >= 1"):
            VideoClipDataset(table, data.video_root, **SMALL)

    @pytest.mark.parametrize("video", [np.nan, None, ""])
    def test_bad_video_entry(self, data, table, video):
        """Bug: a NaN path became the file ``nan`` and failed per item."""
        table = table.head(3).astype({"video": object})
        table.loc[2, "video"] = video
        with pytest.raises(ValueError, match=r"'video' must hold non-empty .* at row 2"):
            VideoClipDataset(table, data.video_root, **SMALL)


class TestDatasetClipSpecs:
    @pytest.mark.parametrize("seed", [0, 1])
    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"clip_len": 0}, "clip_len must be an integer >= 1, got 0"),
            ({"clip_len": 2.5}, "clip_len must be an integer >= 1, got 2.5"),
            ({"clip_len": True}, "clip_len must be an integer >= 1, got True"),
            ({"frame_stride": 0}, "frame_stride must be an integer >= 1"),
            ({"crop_size": 48.0}, "crop_size must be an integer >= 1"),
            ({"crop_size": 48, "scale_range": (32, 40)}, r"crop_size <= scale_range\[0\]"),
            ({"scale_range": (40, 32)}, r"scale_range\[0\] <= scale_range\[1\]"),
            ({"scale_range": 40}, "scale_range must be a pair"),
            ({"scale_range": (32,)}, "scale_range must be a pair"),
            ({"scale_range": (32.5, 40)}, "scale_range must be a pair of integers"),
            ({"hflip_p": 1.5}, r"hflip_p must be a number in \[0, 1\]"),
            ({"hflip_p": "0.5"}, r"hflip_p must be a number in \[0, 1\]"),
        ],
    )
    def test_train(self, data, table, kw, match, seed):
        """Bug: a float ``clip_len`` sampled ``np.arange(2.5)`` = 3 frames; a bad scale range
        failed per item. The same error whatever the seed."""
        with pytest.raises(ValueError, match=match):
            VideoClipDataset(table, data.video_root, seed=seed, **{**SMALL, **kw})

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"num_clips": 0}, "num_clips must be an integer >= 1, got 0"),
            ({"num_clips": 2.0}, "num_clips must be an integer >= 1, got 2.0"),
            ({"num_crops": 0}, "num_crops must be an integer >= 1"),
            ({"clip_len": -4}, "clip_len must be an integer >= 1"),
        ],
    )
    def test_eval(self, data, table, kw, match):
        with pytest.raises(ValueError, match=match):
            VideoClipDataset(table, data.video_root, mode="eval", **{**SMALL, **kw})

    def test_specs_directly(self):
        with pytest.raises(ValueError, match="clip_len must be an integer"):
            TrainClipSpec(clip_len=1.5)
        with pytest.raises(ValueError, match="num_crops must be an integer"):
            EvalClipSpec(num_crops=1.0)
        assert TrainClipSpec(clip_len=np.int64(4)).span == 4  # numpy integers are integers

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"seed": 1.5}, "seed must be an integer >= 0"),
            ({"seed": -1}, "seed must be an integer >= 0"),
            ({"max_retries": 0}, "max_retries must be an integer >= 1"),
            ({"transform": "randaugment"}, "transform must be None or callable"),
            ({"mean": (0.5, np.nan, 0.5)}, "mean/std must have 3 entries"),
            ({"std": (0.2, 0.2, 0.0)}, "mean/std must have 3 entries with std > 0"),
            ({"std": ("a", 0.2, 0.2)}, "mean/std must have 3 entries"),
        ],
    )
    def test_other_arguments(self, data, table, kw, match):
        """Bug: ``seed=1.5`` failed in the first item's SeedSequence, a string transform when
        called, a NaN mean silently produced NaN clips."""
        with pytest.raises(ValueError, match=match):
            VideoClipDataset(table, data.video_root, **{**SMALL, **kw})


def test_valid_paths_and_pathlike_videos(data, table):
    """Valid input is unchanged: ``Path`` entries in ``video`` give the same items as str."""
    as_path = table.assign(video=[Path(v) for v in table.video])
    a = VideoClipDataset(table, str(data.video_root), output="uint8", **SMALL)
    b = VideoClipDataset(as_path, data.video_root, output="uint8", **SMALL)
    assert torch.equal(a[0][0], b[0][0]) and a[0][1:] == b[0][1:]


class TestDatasetAccess:
    @pytest.mark.parametrize("index", [1.5, True, "1", np.float64(2.0)])
    def test_non_integer_item_index(self, data, table, index):
        """Bug: ``ds[1.5]`` passed the range check and returned item 1 (``int(1.5)``)."""
        ds = VideoClipDataset(table, data.video_root, **SMALL)
        with pytest.raises(ValueError, match="dataset index must be an integer"):
            ds[index]
        assert ds[np.int64(1)][2] == 1  # numpy integers (samplers) still index

    @pytest.mark.parametrize("epoch", [1.5, True, -1])
    def test_bad_epoch(self, data, table, epoch):
        """Bug: ``set_epoch(1.5)`` stored epoch 1 (``fill_(int(1.5))``)."""
        ds = VideoClipDataset(table, data.video_root, **SMALL)
        with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
            ds.set_epoch(epoch)
        assert ds.epoch == 0


# ------------------------------------------------------------------ split lists and tables


class TestSplitsAndTables:
    def test_split_true_is_not_split_1(self, data):
        """Bug: ``split=True`` passed ``in (1, 2, 3)`` (``True == 1``) and parsed split 1."""
        from tempaug.data.splits import ucf101

        with pytest.raises(ValueError, match="split must be 1, 2 or 3, got True"):
            ucf101(data.list_dir, split=True)

    def test_read_table_negative_label(self, tmp_path):
        """Bug: label -1 wrote its class name into the *last* slot of ``attrs["classes"]``."""
        from tempaug.data.splits import read_table

        path = tmp_path / "t.csv"
        path.write_text("video,label,class_name\na/x.avi,0,a\nb/y.avi,-1,b\n")
        with pytest.raises(ValueError, match=r"t\.csv: column 'label' must hold integers >= 0"):
            read_table(path)

    @pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage\x00\xff", b'video\n"a\n'])
    def test_read_table_unreadable_file_names_it(self, tmp_path, content):
        """Bug: pandas' ``EmptyDataError``/``UnicodeDecodeError`` did not name the file."""
        from tempaug.data.splits import read_table

        path = tmp_path / "broken.csv"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=r"broken\.csv: not a readable CSV table"):
            read_table(path)


@pytest.mark.parametrize("args", [(0, True, 0), (0, 1, 2.0), (-1, 0, 0), ("0", 0, 0)])
def test_item_seed_needs_integers(args):
    """Bug: ``item_seed(0, True, 0)`` was epoch 1's seed and ``2.0`` a numpy TypeError."""
    from tempaug.data.datasets import item_seed

    with pytest.raises(ValueError, match="seed, epoch and index must be integers >= 0"):
        item_seed(*args)
    assert item_seed(0, np.int64(1), 2) == item_seed(0, 1, 2)
