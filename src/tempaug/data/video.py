"""Video decoding with PyAV: probe, frame-accurate partial decoding, and a dataset health scan.

Frames come back as a uint8 tensor ``(T, C, H, W)`` that is a *view* of one ``(T, H, W, C)``
numpy buffer filled by the decoder (channels-last strides, no extra copy): the OpenCV/PIL fast
paths of RandAugment-T consume that memory directly, and ``.contiguous()`` gives the planar layout
where needed. Only the frames a clip needs are converted to RGB; the decoder seeks to the last
keyframe before the first needed frame where the container has an index (AVI, MP4, MKV), and
resizing to the clip's scale happens inside libswscale during the RGB conversion (paper Section
4.1's short-side scale jitter costs nothing extra).

Frame ``i`` is the ``i``-th frame in presentation order; its index is recovered from the frame's
``pts`` (``round((pts - start_time) * time_base * fps)``), so a seek never shifts the clip.
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

__all__ = ["VideoDecodeError", "VideoInfo", "VideoReader", "decode", "probe", "scan"]

#: libswscale interpolation used when frames are resized during RGB conversion.
INTERPOLATION = "BILINEAR"


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
        num_frames: Number of frames (container header / index; packets counted when absent).
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


class VideoReader:
    """An open video file (context manager) that decodes arbitrary frame indices.

    Args:
        path: Video file.
        threads: Decoder threads (``0`` = FFmpeg's choice). The default ``1`` keeps one
            DataLoader worker on one core, which is what per-worker throughput assumes.

    Attributes:
        path: The file.
        info: :class:`VideoInfo` of the first video stream.

    Raises:
        VideoDecodeError: the file is missing, cannot be opened, has no video stream or no frames.
    """

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 1) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoDecodeError(self.path, "file does not exist")
        try:
            self._container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, ValueError) as e:
            raise VideoDecodeError(self.path, f"cannot open container ({e})") from None
        try:
            if not self._container.streams.video:
                raise VideoDecodeError(self.path, "no video stream")
            self._threads = threads
            self._used = False  # whether the demuxer has moved since opening
            self._stream = self._container.streams.video[0]
            self._stream.thread_count = threads
            cc = self._stream.codec_context
            height, width = int(cc.height or 0), int(cc.width or 0)
            if height <= 0 or width <= 0:
                raise VideoDecodeError(self.path, f"invalid frame size {width}x{height}")
            num_frames = int(self._stream.frames or 0)
            if num_frames <= 0:
                num_frames = self._count_packets()
            if num_frames <= 0:
                raise VideoDecodeError(self.path, "the video stream has no frames")
            self.info = VideoInfo(num_frames, _fps(self._stream), height, width)
        except BaseException:
            self._container.close()
            raise

    def _count_packets(self) -> int:
        """Count the stream's packets (containers without a frame count), then rewind."""
        try:
            n = sum(1 for p in self._container.demux(self._stream) if p.size > 0)
        except av.FFmpegError as e:
            raise VideoDecodeError(self.path, f"cannot demux ({e})") from None
        if n > 0:
            self._reopen()
        return n

    def _reopen(self) -> None:
        """Rewind to the first frame by reopening the file."""
        self._container.close()
        try:
            self._container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, ValueError) as e:
            raise VideoDecodeError(self.path, f"cannot reopen container ({e})") from None
        self._stream = self._container.streams.video[0]
        self._stream.thread_count = self._threads

    def close(self) -> None:
        """Close the container."""
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _frame_index(self, pts: int | None, counter: int) -> int:
        if pts is None or not self._timed:
            return counter
        return round(float((pts - self._start_pts) * self._stream.time_base) * self._fps)

    def read(
        self, indices: Sequence[int] | np.ndarray, *, size: tuple[int, int] | None = None
    ) -> torch.Tensor:
        """Decode the frames at ``indices`` (any order, repeats allowed).

        Args:
            indices: Frame indices in ``[0, info.num_frames)``.
            size: Output ``(height, width)``; frames are resized by libswscale (bilinear) while
                being converted to RGB. ``None`` keeps the native size.

        Returns:
            uint8 tensor ``(len(indices), 3, H, W)``: a view of a contiguous ``(T, H, W, 3)`` RGB
            buffer (``stride(1) == 1``).

        Raises:
            ValueError: an index outside ``[0, num_frames)`` or a non-positive ``size``.
            VideoDecodeError: the stream ends before the last requested frame (truncated file or
                wrong header frame count) or FFmpeg fails mid-stream.
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n_total = self.info.num_frames
        if idx.size == 0:
            raise ValueError("indices must not be empty")
        if idx.min() < 0 or idx.max() >= n_total:
            raise ValueError(
                f"frame indices must lie in [0, {n_total}) for {self.path}, "
                f"got [{idx.min()}, {idx.max()}]"
            )
        if size is None:
            out_h, out_w = self.info.height, self.info.width
        else:
            out_h, out_w = (int(v) for v in size)
            if out_h <= 0 or out_w <= 0:
                raise ValueError(f"size must be positive (height, width), got {size}")
        unique, inverse = np.unique(idx, return_inverse=True)
        buf = self._decode_sorted(unique, out_h, out_w)
        if unique.size != idx.size or not np.array_equal(unique, idx):
            buf = buf[inverse]  # gather (repeats / loops / unsorted requests)
        return torch.from_numpy(buf).permute(0, 3, 1, 2)

    def _decode_sorted(self, wanted: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
        """Fill a ``(len(wanted), H, W, 3)`` buffer with the sorted unique frames ``wanted``."""
        stream = self._stream
        self._fps = self.info.fps
        self._timed = stream.time_base is not None and math.isfinite(self._fps)
        self._start_pts = stream.start_time if stream.start_time is not None else 0
        buf = np.empty((wanted.size, out_h, out_w, 3), dtype=np.uint8)
        # One reformatter per read keeps libswscale's context cached across frames; threads=1
        # because swscale's automatic threading costs more than it saves on video-sized frames.
        kwargs = {"format": "rgb24", "threads": 1}
        if (out_h, out_w) != (self.info.height, self.info.width):
            kwargs.update(width=out_w, height=out_h, interpolation=INTERPOLATION)
        first = int(wanted[0])
        # Seek only when it can skip work; fall back to decoding from the start if the seek
        # lands after the first wanted frame (imprecise index) or frames carry no pts.
        attempts = [True, False] if (first > 0 and self._timed) else [False]
        for use_seek in attempts:
            try:
                filled = self._decode_pass(wanted, buf, kwargs, use_seek)
            except av.FFmpegError as e:
                raise VideoDecodeError(self.path, f"decoding failed ({e})") from None
            if filled is not None:
                return buf
        raise VideoDecodeError(self.path, "could not position the decoder")  # pragma: no cover

    def _decode_pass(
        self, wanted: np.ndarray, buf: np.ndarray, kwargs: dict, use_seek: bool
    ) -> int | None:
        first, last = int(wanted[0]), int(wanted[-1])
        if use_seek:
            target = self._start_pts + int(first / self._fps / self._stream.time_base)
            try:
                self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
            except av.FFmpegError:
                return None  # not seekable: decode from the start instead
        elif self._used:
            self._reopen()  # rewind (reopening works for every container, seeking may not)
        self._used = True
        stream, container = self._stream, self._container
        reformatter = VideoReformatter()
        pos = 0
        counter = 0
        last_seen = -1
        started = False
        for frame in container.decode(stream):
            fi = self._frame_index(frame.pts, counter)
            counter += 1
            if not started:
                started = True
                if use_seek and fi > first:
                    return None  # seek overshot: retry from the start
                if frame.pts is None and use_seek:
                    return None  # cannot locate frames after a seek without timestamps
            last_seen = max(last_seen, fi)
            if fi < wanted[pos]:
                continue
            arr = reformatter.reformat(frame, **kwargs).to_ndarray()
            # A frame index jump (dropped/duplicated frames in the container) reuses this frame
            # for every wanted index it skipped.
            while pos < wanted.size and wanted[pos] <= fi:
                buf[pos] = arr
                pos += 1
            if pos == wanted.size or fi >= last:
                break
        if pos < wanted.size:
            if last_seen < 0:
                raise VideoDecodeError(self.path, "no frame could be decoded")
            raise VideoDecodeError(
                self.path,
                f"stream ended after frame {last_seen} but frame {int(wanted[pos])} was requested "
                f"(header says {self.info.num_frames} frames; truncated file?)",
            )
        return pos


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
    size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Decode consecutive frames ``[start, start + num_frames)`` of a video.

    Args:
        path: Video file.
        start: First frame (default 0).
        num_frames: Number of frames (default: to the end of the video).
        size: Optional output ``(height, width)`` (resized during RGB conversion).

    Returns:
        uint8 tensor ``(T, 3, H, W)``, a channels-last view of the decoder's ``(T, H, W, 3)``
        array (no copy).

    Raises:
        ValueError: ``start``/``num_frames`` outside the video (message gives the valid range).
        VideoDecodeError: missing, truncated, unreadable or zero-frame file (names the path).
    """
    with VideoReader(path) as reader:
        n = reader.info.num_frames
        s = 0 if start is None else int(start)
        if not 0 <= s < n:
            raise ValueError(f"start must be in [0, {n}) for {path}, got {start}")
        count = n - s if num_frames is None else int(num_frames)
        if not 1 <= count <= n - s:
            raise ValueError(
                f"num_frames must be in [1, {n - s}] for {path} from start {s}, got {count}"
            )
        return reader.read(np.arange(s, s + count), size=size)


def _count_decoded(reader: VideoReader) -> int:
    n = 0
    for _ in reader._container.decode(reader._stream):
        n += 1
    return n


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
                try:
                    decoded = _count_decoded(reader)
                except av.FFmpegError as e:
                    raise VideoDecodeError(path, f"decoding failed ({e})") from None
                if decoded == 0:
                    raise VideoDecodeError(path, "no frame could be decoded")
                if decoded < info.num_frames:
                    raise VideoDecodeError(
                        path,
                        f"decoded {decoded} of the {info.num_frames} frames in the header "
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
        full: Decode every frame (detects truncation) instead of only reading the header.
        num_threads: Parallel checks (PyAV releases the GIL while decoding).

    Returns:
        DataFrame, one row per unique video in table order, columns ``video``, ``path``,
        ``exists``, ``decodable``, ``num_frames`` (header count), ``fps``, ``height``, ``width``,
        ``error`` (empty when decodable).

    Raises:
        ValueError: ``table`` has no ``video`` column or ``num_threads < 1``.
    """
    if "video" not in table.columns:
        raise ValueError(f"table must have a 'video' column, got {list(table.columns)}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
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
