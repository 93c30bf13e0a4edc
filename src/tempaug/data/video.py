"""Video decoding with PyAV: probe, frame-accurate partial decoding, and a dataset health scan.

Frames come back as a uint8 tensor ``(T, C, H, W)`` that is a *view* of one ``(T, H, W, C)``
numpy buffer filled by the decoder (channels-last strides, no extra copy): the OpenCV/PIL fast
paths of RandAugment-T consume that memory directly, and ``.contiguous()`` gives the planar layout
where needed. Only the frames a clip needs are converted to RGB (libswscale at the native size, its
SIMD path), and resizing to the clip's scale (paper Section 4.1's short-side scale jitter) is one
antialiased bilinear resize of the whole clip (:func:`resize_frames`): PIL's ``BILINEAR``, which
the authors' PIL-based loader and torchvision use, to within one grey level, and measured 1.7x
cheaper per 64-frame 320x240 read than libswscale's scaled conversion (``benchmarks/loader.py``).

Frame ``i`` is the ``i``-th frame the decoder outputs from the start of the stream (presentation
order), whatever the container's timestamps say: an MPEG-4 Part 2 AVI with B-frames (UCF-101,
HMDB-51) gives decoded frames ``pts`` starting at 1 while ``stream.start_time`` is 0, so mapping
``pts`` to an index through ``start_time``/``time_base``/``fps`` shifts every frame by one.
Instead, opening a file demuxes it once (packets only, no decoding) to count its frames and rank
the packets' ``pts``; a read seeks to a keyframe only when those ranks provably number the
frames (distinct ``pts``, first packet a keyframe holding frame 0, no earlier packet shows a later
frame), checks the packet it lands on and the rank of every frame it keeps, and otherwise decodes
from the start, counting frames.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pandas as pd
import torch
from av.video.reformatter import VideoReformatter

from .transforms import short_side_size

__all__ = [
    "VideoDecodeError",
    "VideoInfo",
    "VideoReader",
    "decode",
    "probe",
    "resize_frames",
    "scan",
    "validate_request",
]

#: Resampling of :func:`resize_frames` (``torch.nn.functional.interpolate`` mode, antialiased).
INTERPOLATION = "bilinear"


class VideoDecodeError(RuntimeError):
    """A video file is missing, unreadable, truncated or has no frames.

    Attributes:
        path: The video file.
        reason: What went wrong.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        reason: str = "",
        *,
        message: str | None = None,
    ) -> None:
        # ``message=`` lets torch's DataLoader re-raise a worker's error with its own type.
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(message if message is not None else f"{path}: {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason), {"args": self.args})

    def __setstate__(self, state: dict) -> None:
        self.args = state["args"]


@dataclass(frozen=True)
class VideoInfo:
    """Stream properties of a video.

    Attributes:
        num_frames: Number of frames (packets counted; the header's count for a truncated file).
        fps: Average frame rate (``nan`` when the container does not say).
        height: Frame height in pixels.
        width: Frame width in pixels.
    """

    num_frames: int
    fps: float
    height: int
    width: int


def _fps(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return math.nan


def _check_int(name: str, value: object, low: int) -> int:
    """``value`` as an ``int`` >= ``low`` (Python or NumPy integer, not ``bool``)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_size(size: object, info: VideoInfo) -> tuple[int, int]:
    """``size`` (``(height, width)`` or an int short side) as the output ``(height, width)``."""
    if isinstance(size, int | np.integer) and not isinstance(size, bool | np.bool_):
        if size <= 0:
            raise ValueError(f"size must be a positive short side or (height, width), got {size}")
        return short_side_size(info.height, info.width, int(size))
    ok = (
        isinstance(size, Sequence | np.ndarray)
        and not isinstance(size, str | bytes)
        and len(size) == 2
        and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in size
        )
    )
    if not ok:
        raise ValueError(
            f"size must be None, an int (short side) or (height, width) integers, got {size!r}"
        )
    out_h, out_w = int(size[0]), int(size[1])
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"size must be positive (height, width), got {tuple(size)}")
    return out_h, out_w


def validate_request(
    indices: Sequence[int] | np.ndarray,
    size: int | tuple[int, int] | None,
    info: VideoInfo,
    path: str | os.PathLike[str],
) -> tuple[np.ndarray, int, int]:
    """Check a frame request: ``(indices as int64 1-D, out_height, out_width)``.

    The one validation of :meth:`VideoReader.read` and :meth:`tempaug.data.FrameCache.read`.
    ``size`` is ``(height, width)``, or an int: the short side, aspect ratio kept (as
    ``torchvision.transforms.Resize(int)``; rounded by :func:`~tempaug.data.transforms.short_side_size`).

    Raises:
        ValueError: empty or non-integer ``indices`` (floats, bools, strings are not rounded), an
            index outside ``[0, num_frames)`` (message names the path) or a bad ``size``.
    """
    if isinstance(indices, np.ndarray) and indices.dtype.kind in "iu":
        idx = indices.astype(np.int64, copy=False).reshape(-1)
    else:
        if isinstance(indices, str | bytes) or not isinstance(
            indices, Sequence | np.ndarray | torch.Tensor | range
        ):
            raise ValueError(
                f"indices must be a sequence of integer frame indices, got {indices!r:.80}"
            )
        raw = np.asarray(indices)
        if raw.size == 0:
            raise ValueError("indices must not be empty")
        if raw.dtype.kind not in "iu":
            raise ValueError(
                f"indices must be integers (not rounded), got dtype {raw.dtype} in "
                f"{indices!r:.80} for {path}"
            )
        idx = raw.astype(np.int64).reshape(-1)
    if idx.size == 0:
        raise ValueError("indices must not be empty")
    if idx.min() < 0 or idx.max() >= info.num_frames:
        raise ValueError(
            f"frame indices must lie in [0, {info.num_frames}) for {path}, "
            f"got [{idx.min()}, {idx.max()}]"
        )
    if size is None:
        return idx, info.height, info.width
    out_h, out_w = _check_size(size, info)
    return idx, out_h, out_w


class _PacketTable:
    """The stream's packets in decode order, from one demux pass (no decoding).

    Attributes:
        count: Non-empty packets that the decoder outputs (one frame each; packets flagged
            discard, e.g. before an MP4 edit list's start, are not counted).
        truncated: The last packet is cut short or demuxing failed mid-stream.
        seekable: Packet pts map exactly to frame indices (every packet has a distinct pts and
            the first packet is a keyframe holding frame 0), so seeking is allowed.
        rank: ``{pts: frame index}`` (presentation rank of the packet's pts).
        key_pos, key_rank: Packet positions and frame indices of the keyframes a decode may
            start from (no packet before them shows a later frame), ascending.
        pts, dts: Per-packet timestamps (``None`` entries allowed).
    """

    def __init__(self, container: av.container.InputContainer, stream: av.VideoStream) -> None:
        pts: list[int | None] = []
        dts: list[int | None] = []
        key: list[bool] = []
        self.truncated = discard = False
        try:
            for p in container.demux(stream):
                if p.size <= 0:
                    continue
                if p.is_discard:  # decoded as a reference, never output (MP4 edit lists)
                    discard = True
                    continue
                pts.append(p.pts)
                dts.append(p.dts)
                key.append(bool(p.is_keyframe))
                self.truncated = bool(p.is_corrupt)
        except av.FFmpegError:
            self.truncated = True
        self.count = len(pts)
        self.pts, self.dts = pts, dts
        self.rank: dict[int, int] = {}
        self.key_pos = self.key_rank = np.zeros(0, dtype=np.int64)
        self.seekable = (
            not discard
            and self.count > 0
            and None not in pts
            and len(set(pts)) == self.count
            and key[0]
            and pts[0] == min(pts)
        )
        if not self.seekable:
            return
        p = np.asarray(pts, dtype=np.int64)
        rank = np.empty(self.count, dtype=np.int64)
        rank[np.argsort(p, kind="stable")] = np.arange(self.count)
        self.rank = dict(zip(p.tolist(), rank.tolist(), strict=True))
        earlier_max = np.concatenate([[-1], np.maximum.accumulate(rank)[:-1]])
        start_ok = np.asarray(key) & (earlier_max < rank)
        self.key_pos = np.flatnonzero(start_ok)
        self.key_rank = rank[self.key_pos]


def resize_frames(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize uint8 frames ``(T, 3, H, W)`` to ``size`` with antialiased bilinear resampling.

    ``torch.nn.functional.interpolate(mode="bilinear", antialias=True)``: a triangle filter
    widened by the scale factor when shrinking, PIL's ``Image.BILINEAR`` (the authors' loader
    resizes PIL frames; torchvision's ``Resize`` does the same) to within one grey level on a few
    pixels in ten thousand. The uint8 kernel runs on the channels-last layout the decoder fills,
    without a float copy.

    Returns:
        ``frames`` itself at its own size, else a new tensor ``(T, 3, *size)`` that is a view of
        a contiguous ``(T, *size, 3)`` buffer, like :meth:`VideoReader.read`.
    """
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    out = torch.nn.functional.interpolate(
        frames, size=tuple(size), mode=INTERPOLATION, antialias=True, align_corners=False
    )
    return out.contiguous(memory_format=torch.channels_last)


class VideoReader:
    """An open video file (context manager) that decodes arbitrary frame indices.

    Frame ``i`` is the ``i``-th frame the decoder outputs (presentation order) when decoding from
    the start; container timestamps are never trusted to say which frame is which (AVI with
    B-frames shifts them by one). Opening demuxes the stream once (no decoding) to count the
    frames and to map packet pts to presentation ranks; a read seeks to a keyframe only when that
    map is exact and verifies the packet it lands on, else it decodes from the start.

    Args:
        path: Video file.
        threads: Decoder threads (``0`` = FFmpeg's choice). The default ``1`` keeps one
            DataLoader worker on one core, which is what per-worker throughput assumes.

    Reads after :meth:`close` (or after the ``with`` block) raise ``ValueError`` (like a closed
    Python file).

    Attributes:
        path: The file.
        info: :class:`VideoInfo` of the first video stream. ``num_frames`` is the number of
            frames in the file (packets counted), whatever the header says, except for a
            truncated file (last packet cut short), where the header count is kept so that reading
            past the cut raises.

    Raises:
        ValueError: ``path`` is not a path or ``threads`` is not an integer >= 0.
        VideoDecodeError: the file is missing, cannot be opened, has no video stream or no frames.
    """

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 1) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ValueError(f"path must be a str or os.PathLike, got {path!r}")
        self._closed = True  # until the container is open (close() is then a no-op)
        self._threads = _check_int("threads", threads, 0)
        self.path = Path(path)
        if not self.path.is_file():
            what = "is a directory, not a file" if self.path.is_dir() else "file does not exist"
            raise VideoDecodeError(self.path, what)
        self._container = self._open("cannot open container")
        try:
            cc = self._stream.codec_context
            height, width = int(cc.height or 0), int(cc.width or 0)
            if height <= 0 or width <= 0:
                raise VideoDecodeError(self.path, f"invalid frame size {width}x{height}")
            header = int(self._stream.frames or 0)
            self._table = _PacketTable(self._container, self._stream)
            num_frames = self._table.count
            if self._table.truncated and header > num_frames:
                num_frames = header
            if num_frames <= 0:
                raise VideoDecodeError(self.path, "the video stream has no frames")
            self.info = VideoInfo(num_frames, _fps(self._stream), height, width)
        except BaseException:
            self._container.close()
            raise
        self._closed = False

    def _open(self, what: str) -> av.container.InputContainer:
        try:
            container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, ValueError) as e:
            raise VideoDecodeError(self.path, f"{what} ({e})") from None
        if not container.streams.video:
            container.close()
            raise VideoDecodeError(self.path, "no video stream")
        self._stream = container.streams.video[0]
        self._stream.thread_count = self._threads
        return container

    def _reopen(self) -> None:
        """Rewind to the first frame by reopening the file (works for every container)."""
        self._container.close()
        self._container = self._open("cannot reopen container")

    def close(self) -> None:
        """Close the container (idempotent); later reads raise ``ValueError``."""
        if not self._closed:
            self._closed = True
            self._container.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the VideoReader of {self.path} is closed (read after close())")

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(
        self, indices: Sequence[int] | np.ndarray, *, size: int | tuple[int, int] | None = None
    ) -> torch.Tensor:
        """Decode the frames at ``indices`` (any order, repeats allowed).

        Args:
            indices: Integer frame indices in ``[0, info.num_frames)`` (a sequence or an
                integer array; floats and bools are refused, not rounded).
            size: Output ``(height, width)``, or an int: the short side, aspect ratio kept (as
                ``torchvision.transforms.Resize(int)``); frames are resized after the RGB
                conversion by :func:`resize_frames` (antialiased bilinear). ``None`` keeps the
                native size.

        Returns:
            uint8 tensor ``(len(indices), 3, H, W)``: a view of a contiguous ``(T, H, W, 3)`` RGB
            buffer (``stride(1) == 1``).

        Raises:
            ValueError: the reader is closed, empty or non-integer ``indices``, an index
                outside ``[0, num_frames)`` or a bad ``size`` (checked before any decoding).
            VideoDecodeError: the stream ends before the last requested frame (a truncated
                file, or one damaged mid-stream) or FFmpeg fails mid-stream (names the file).
        """
        self._check_open()
        idx, out_h, out_w = validate_request(indices, size, self.info, self.path)
        unique, inverse = np.unique(idx, return_inverse=True)
        buf = np.empty((unique.size, self.info.height, self.info.width, 3), dtype=np.uint8)
        # One reformatter per read keeps libswscale's context cached across frames; threads=1
        # because swscale's automatic threading costs more than it saves on video-sized frames.
        kwargs = {"format": "rgb24", "threads": 1}
        try:
            start = self._seek_start(int(unique[0]))
            if start is None or not self._decode(unique, buf, kwargs, start):
                self._reopen()
                self._decode(unique, buf, kwargs, None)
        except av.FFmpegError as e:
            raise VideoDecodeError(self.path, f"decoding failed ({e})") from None
        frames = resize_frames(torch.from_numpy(buf).permute(0, 3, 1, 2), (out_h, out_w))
        if unique.size != idx.size or not np.array_equal(unique, idx):
            frames = frames[torch.from_numpy(inverse)]  # repeats / loops / unsorted requests
        return frames

    def _seek_start(self, first: int) -> int | None:
        """Packet position of the last safe keyframe at or before frame ``first`` (``None``: the
        table does not allow seeking)."""
        t = self._table
        if not t.seekable or t.count != self.info.num_frames:
            return None
        j = int(np.searchsorted(t.key_rank, first, side="right")) - 1
        return int(t.key_pos[max(j, 0)])

    def _decode(self, wanted: np.ndarray, buf: np.ndarray, kwargs: dict, start: int | None) -> bool:
        """Fill ``buf`` with the sorted unique frames ``wanted``.

        ``start=None``: decode the freshly opened container from its first packet, numbering
        frames by output count (the definition of a frame index). Otherwise seek to the keyframe
        at packet position ``start`` and number frames by the packet table's pts ranks; returns
        ``False`` (nothing trusted) if the landing packet or any frame's rank is not as expected.
        """
        t, stream = self._table, self._stream
        r0 = 0
        if start is not None:
            r0 = t.rank[t.pts[start]]
            target = t.dts[start] if t.dts[start] is not None else t.pts[start]
            try:
                self._container.seek(target, stream=stream, backward=True, any_frame=False)
            except av.FFmpegError:
                return False
        reformatter = VideoReformatter()
        pos, count, expect, last_seen = 0, 0, r0, -1
        landed = start is None
        for packet in self._container.demux(stream):
            if not landed:
                # The landing packet must be a safe keyframe at or before the wanted one.
                k = t.rank.get(packet.pts) if packet.size > 0 else None
                if k is None or k > r0 or (k < r0 and k not in set(t.key_rank.tolist())):
                    return False
                if packet.dts != t.dts[t.pts.index(packet.pts)]:
                    return False
                landed, r0, expect = True, k, k
            for frame in packet.decode():
                if start is None:
                    fi = count
                    count += 1
                else:
                    fi = t.rank.get(frame.pts, -1) if frame.pts is not None else -1
                    if fi < r0 and fi >= 0:
                        continue  # leading B-frame of an open GOP (references before the seek)
                    if fi != expect:
                        return False
                    expect += 1
                last_seen = fi
                if fi < wanted[pos]:
                    continue
                buf[pos] = reformatter.reformat(frame, **kwargs).to_ndarray()
                pos += 1
                if pos == wanted.size:
                    return True
        if start is not None:
            return False  # let the sequential pass decide (and report) where the stream ends
        if last_seen < 0:
            raise VideoDecodeError(self.path, "no frame could be decoded")
        raise VideoDecodeError(
            self.path,
            f"stream ended after frame {last_seen} but frame {int(wanted[pos])} was requested "
            f"(the file holds {self.info.num_frames} frames by its header/index; truncated or "
            "damaged file?)",
        )

    def count_frames(self) -> int:
        """Decode the whole stream (no RGB conversion) and return the number of frames."""
        self._check_open()
        self._reopen()
        n = 0
        try:
            for packet in self._container.demux(self._stream):
                n += len(packet.decode())
        except av.FFmpegError as e:
            raise VideoDecodeError(self.path, f"decoding failed ({e})") from None
        return n


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's frame count, frame rate and size without decoding frames.

    Raises:
        VideoDecodeError: missing file, unreadable container, no video stream or zero frames.
    """
    with VideoReader(path) as reader:
        return reader.info


def decode(
    path: str | os.PathLike[str],
    *,
    start: int | None = None,
    num_frames: int | None = None,
    size: int | tuple[int, int] | None = None,
) -> torch.Tensor:
    """Decode consecutive frames ``[start, start + num_frames)`` of a video.

    Args:
        path: Video file.
        start: First frame (default 0).
        num_frames: Number of frames (default: to the end of the video).
        size: Optional output ``(height, width)`` or short side (as :meth:`VideoReader.read`).

    Returns:
        uint8 tensor ``(T, 3, H, W)``, a channels-last view of the decoder's ``(T, H, W, 3)``
        array (no copy).

    Raises:
        ValueError: ``start``/``num_frames`` not integers or outside the video (message gives
            the valid range), or a bad ``size``.
        VideoDecodeError: missing, truncated, unreadable or zero-frame file (names the path).
    """
    s = 0 if start is None else _check_int("start", start, 0)
    if num_frames is not None:
        _check_int("num_frames", num_frames, 1)
    with VideoReader(path) as reader:
        n = reader.info.num_frames
        if not 0 <= s < n:
            raise ValueError(f"start must be in [0, {n}) for {path}, got {start}")
        count = n - s if num_frames is None else int(num_frames)
        if not 1 <= count <= n - s:
            raise ValueError(
                f"num_frames must be in [1, {n - s}] for {path} from start {s}, got {count}"
            )
        return reader.read(np.arange(s, s + count), size=size)


def _scan_one(video: str, root: Path, full: bool) -> dict:
    path = root / video
    row = {
        "video": video,
        "path": str(path),
        "exists": path.is_file(),
        "decodable": False,
        "num_frames": 0,
        "fps": math.nan,
        "height": 0,
        "width": 0,
        "error": "",
    }
    if not row["exists"]:
        row["error"] = "file does not exist"
        return row
    try:
        with VideoReader(path) as reader:
            info = reader.info
            row.update(
                num_frames=info.num_frames, fps=info.fps, height=info.height, width=info.width
            )
            if full:
                decoded = reader.count_frames()
                row["num_frames"] = decoded
                if decoded == 0:
                    raise VideoDecodeError(path, "no frame could be decoded")
                if decoded < info.num_frames:
                    raise VideoDecodeError(
                        path,
                        f"decoded {decoded} of the {info.num_frames} frames the file declares "
                        "(truncated file?)",
                    )
        row["decodable"] = True
    except VideoDecodeError as e:
        row["error"] = e.reason
    return row


def scan(
    table: pd.DataFrame,
    root: str | os.PathLike[str],
    *,
    full: bool = True,
    num_threads: int = 1,
) -> pd.DataFrame:
    """Check every video listed in ``table`` once (the data-preparation report).

    Args:
        table: A split table with a ``video`` column (paths relative to ``root``); repeated videos
            are checked once.
        root: Dataset root.
        full: Decode every frame (detects truncation, counts frames exactly) instead of only
            demuxing the packets.
        num_threads: Parallel checks (PyAV releases the GIL while decoding).

    Returns:
        DataFrame, one row per unique video in table order, columns ``video``, ``path``,
        ``exists``, ``decodable``, ``num_frames`` (frames decoded when ``full``, else
        :attr:`VideoInfo.num_frames`), ``fps``, ``height``, ``width``, ``error`` (empty when
        decodable; a file with fewer decodable frames than its header says is reported as
        truncated).

    Raises:
        ValueError: ``table`` is not a DataFrame with a ``video`` column, ``root`` is not a
            directory, ``full`` is not a bool or ``num_threads`` is not an integer >= 1.
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if "video" not in table.columns:
        raise ValueError(f"table must have a 'video' column, got {list(table.columns)}")
    if not isinstance(full, bool):
        raise ValueError(f"full must be True or False, got {full!r}")
    _check_int("num_threads", num_threads, 1)
    if not isinstance(root, str | os.PathLike) or not Path(root).is_dir():
        raise ValueError(f"root must be an existing directory, got {root!r}")
    root = Path(root)
    videos = list(dict.fromkeys(str(v) for v in table["video"]))
    if num_threads == 1:
        rows = [_scan_one(v, root, full) for v in videos]
    else:
        with ThreadPoolExecutor(num_threads) as pool:
            rows = list(pool.map(lambda v: _scan_one(v, root, full), videos))
    columns = [
        "video",
        "path",
        "exists",
        "decodable",
        "num_frames",
        "fps",
        "height",
        "width",
        "error",
    ]
    report = pd.DataFrame(rows, columns=columns)
    return report.astype({"num_frames": "int64", "height": "int64", "width": "int64"})
