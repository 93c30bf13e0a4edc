"""``FrameCache``: decoded videos kept in memory, so each is decoded once instead of every epoch.

On small videos the decoder dominates a CPU training step (opening the container, seeking,
converting to RGB: about half of a batch-32 step of the synthetic profile, where every video is
read once per epoch). The cache decodes a video in full the first time it is asked for at a given
output size and answers later requests by indexing that buffer. The frames are the ones
:meth:`tempaug.data.video.VideoReader.read` returns for the same request (same decoder, same
resize), so a dataset gives the same clips with and without the cache.

Memory is bounded by ``max_bytes``: once full, new (video, size) pairs are decoded per request as
without a cache (nothing is evicted, so what is cached stays cached). Scale jitter multiplies the
entries: a video read at five short sides is stored five times. Each process owns its caches
(DataLoader workers fill their own copies: a pickled cache travels empty), so it pays off with
``num_workers=0`` or persistent workers and a dataset small enough to fit: the generated dataset
of the synthetic profile (~130 KB per video at 32 px), not UCF-101 at 160 px.

:func:`shared_frame_cache` is the one cache of a process that the trainer's datasets use, so the
runs of one pipeline stage (three seeds, or HMDB-51's three splits, trained one after another in
one kernel) and their evaluations decode each video once between them. An entry is keyed by the
file's path, size and modification time, so a file rewritten in place is decoded again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .video import VideoInfo, VideoReader, validate_request

__all__ = ["FrameCache", "shared_frame_cache"]


class FrameCache:
    """Whole decoded videos in memory, keyed by ``(path, file size, mtime, height, width)``.

    Args:
        max_bytes: Upper bound on the stored frames (> 0).

    Attributes:
        nbytes: Bytes of frames stored.
        hits: Requests answered from memory.
        misses: Requests that decoded (a new entry, or over budget).
    """

    def __init__(self, max_bytes: int) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._infos: dict[tuple[str, int, int], VideoInfo] = {}
        self._frames: dict[tuple[str, int, int, int, int], np.ndarray] = {}

    def __getstate__(self) -> dict:
        """Pickle the budget only: a DataLoader worker starts with an empty cache of its own."""
        return {"max_bytes": self.max_bytes}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["max_bytes"])

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(entries={len(self)}, nbytes={self.nbytes}, "
            f"max_bytes={self.max_bytes}, hits={self.hits}, misses={self.misses})"
        )

    @staticmethod
    def _file_key(path: str | os.PathLike[str]) -> tuple[str, int, int]:
        try:
            st = os.stat(path)
        except OSError:  # let the reader raise its VideoDecodeError naming the file
            return (str(path), -1, -1)
        return (str(path), st.st_size, st.st_mtime_ns)

    def info(self, path: str | os.PathLike[str]) -> VideoInfo:
        """Stream properties of ``path`` (probed once per version of the file)."""
        key = self._file_key(path)
        info = self._infos.get(key)
        if info is None:
            with VideoReader(path) as reader:
                info = self._infos[key] = reader.info
        return info

    def read(
        self,
        path: str | os.PathLike[str],
        indices: Sequence[int] | np.ndarray,
        *,
        size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """The frames ``indices`` of ``path`` at ``size``, as :meth:`VideoReader.read` gives them.

        Raises:
            ValueError: empty ``indices``, an index outside ``[0, num_frames)``, a bad ``size``.
            VideoDecodeError: the file cannot be read (for a new entry: any frame of it).
        """
        path = Path(path)
        info = self.info(path)
        idx, h, w = validate_request(indices, size, info, path)
        key = (*self._file_key(path), h, w)
        frames = self._frames.get(key)
        if frames is None:
            self.misses += 1
            need = info.num_frames * h * w * 3
            with VideoReader(path) as reader:
                if self.nbytes + need > self.max_bytes:
                    return reader.read(idx, size=(h, w))
                # (T, C, H, W) view of a contiguous (T, H, W, C) buffer: keep the buffer.
                frames = reader.read(np.arange(info.num_frames), size=(h, w)).permute(0, 2, 3, 1)
            frames = frames.numpy()
            self._frames[key] = frames
            self.nbytes += frames.nbytes
        else:
            self.hits += 1
        return torch.from_numpy(frames[idx]).permute(0, 3, 1, 2)


_SHARED: FrameCache | None = None


def shared_frame_cache(max_bytes: int) -> FrameCache:
    """This process's shared :class:`FrameCache`, its budget raised to at least ``max_bytes``.

    Created on first use; later calls return the same object (with ``max_bytes`` above its
    budget, the budget grows: nothing is evicted). Datasets built on it in one process — the
    training and evaluation sets of the runs of one pipeline stage — decode every video once
    between them, and give the clips a private cache would (same decoder, same resize).
    """
    global _SHARED
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    if _SHARED is None:
        _SHARED = FrameCache(max_bytes)
    else:
        _SHARED.max_bytes = max(_SHARED.max_bytes, max_bytes)
    return _SHARED
