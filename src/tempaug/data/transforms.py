"""The paper's clip pipeline (Section 4.1): temporal sampling, scale jitter, crop, flip, normalize.

Split in the torchvision v2 way: pure functional kernels (no randomness) and two small frozen
"spec" classes that own the random draws (:meth:`TrainClipSpec.draw_params`, named as the
augmentations' ``draw_params``) or the deterministic evaluation plan (:meth:`EvalClipSpec.plan`).
Every random draw goes through a ``torch.Generator``. The specs are not ``v2.Transform`` s: their
parameters are drawn from a video's metadata *before* decoding (which frames, at which size), so
only the clip is decoded; the kernels then crop and flip the decoded clip.

Training (paper 4.1): ``clip_len`` = 64 consecutive frames (``frame_stride`` = 1) at a random start,
videos shorter than the clip looped from their first frame; short side scaled to a random integer in
``[160, 200]``; a random 160×160 crop; horizontal flip with p = 0.5. Evaluation: ``num_clips`` = 10
clips uniformly spaced over the video, short side resized to the crop size, ``num_crops`` = 1
(centre) or 3 (left/centre/right along the long side: the 30-view protocol).

Layout: clips are ``(..., T, C, H, W)``; uint8 in ``[0, 255]`` or float in ``[0, 1]`` until
:func:`normalize`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "EvalClipSpec",
    "EvalView",
    "TrainClipParams",
    "TrainClipSpec",
    "clip_indices",
    "crop_flip",
    "denormalize",
    "eval_starts",
    "normalize",
    "short_side_size",
    "spatial_crop_offsets",
]


# --------------------------------------------------------------------------- argument checks


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _check_int(name: str, value: object, low: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer (not a bool) >= ``low``."""
    if not _is_int(value) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


# --------------------------------------------------------------------------- functional kernels


def clip_indices(num_frames: int, start: int, clip_len: int, frame_stride: int = 1) -> np.ndarray:
    """Frame indices of a clip; videos shorter than the clip are looped (index modulo length).

    Args:
        num_frames: Frames in the video (>= 1).
        start: First frame, in ``[0, num_frames)``.
        clip_len: Frames in the clip (>= 1).
        frame_stride: Step between sampled frames (>= 1).

    Returns:
        int64 array ``(clip_len,)`` with ``(start + k * frame_stride) % num_frames``.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if clip_len < 1 or frame_stride < 1:
        raise ValueError(
            f"clip_len and frame_stride must be >= 1, got {clip_len} and {frame_stride}"
        )
    if not 0 <= start < num_frames:
        raise ValueError(f"start must be in [0, {num_frames}), got {start}")
    return (start + np.arange(clip_len, dtype=np.int64) * frame_stride) % num_frames


def eval_starts(num_frames: int, span: int, num_clips: int) -> list[int]:
    """Start frames of ``num_clips`` clips uniformly spaced over the video (evaluation).

    The first clip starts at frame 0 and the last ends on the last frame
    (``linspace(0, num_frames - span, num_clips)``, rounded); one clip is centred. Videos shorter
    than ``span`` give start 0 for every clip (the clip is then looped).
    """
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    delta = max(num_frames - span, 0)
    if num_clips == 1:
        return [delta // 2]
    return [round(delta * i / (num_clips - 1)) for i in range(num_clips)]


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """Output ``(height, width)`` that scales the short side to ``short_side``, keeping aspect."""
    if height <= 0 or width <= 0 or short_side <= 0:
        raise ValueError(f"sizes must be positive, got {height}x{width} -> {short_side}")
    if height <= width:
        return short_side, max(short_side, round(width * short_side / height))
    return max(short_side, round(height * short_side / width)), short_side


def spatial_crop_offsets(
    height: int, width: int, crop_size: int, num_crops: int
) -> list[tuple[int, int]]:
    """``(top, left)`` of ``num_crops`` square crops spread along the long side (evaluation).

    One crop is centred; three are left/centre/right for landscape frames (top/centre/bottom for
    portrait), as in the SlowFast 30-view protocol; ``n`` crops are evenly spaced in general.
    """
    if crop_size > min(height, width):
        raise ValueError(f"crop_size {crop_size} exceeds the frame size {height}x{width}")
    if num_crops < 1:
        raise ValueError(f"num_crops must be >= 1, got {num_crops}")
    cy, cx = (height - crop_size) // 2, (width - crop_size) // 2
    if num_crops == 1:
        return [(cy, cx)]
    if width >= height:
        span = width - crop_size
        return [(cy, round(span * i / (num_crops - 1))) for i in range(num_crops)]
    span = height - crop_size
    return [(round(span * i / (num_crops - 1)), cx) for i in range(num_crops)]


def crop_flip(clip: torch.Tensor, top: int, left: int, size: int, flip: bool) -> torch.Tensor:
    """Square crop ``size`` at ``(top, left)``, then optional horizontal flip.

    Args:
        clip: ``(..., T, C, H, W)`` tensor of any dtype and memory layout.

    Returns:
        A new tensor ``(..., T, C, size, size)`` that does not share memory with ``clip`` and keeps
        its memory layout (a channels-last input stays channels-last).
    """
    h, w = clip.shape[-2:]
    if not (0 <= top <= h - size and 0 <= left <= w - size):
        raise ValueError(f"crop {size} at ({top}, {left}) does not fit a {h}x{w} frame")
    out = clip[..., top : top + size, left : left + size]
    if flip:
        out = out.flip(-1)
    return out.clone()  # preserve_format: channels-last stays channels-last


def normalize(
    clips: torch.Tensor,
    mean: Sequence[float] = (0.45, 0.45, 0.45),
    std: Sequence[float] = (0.225, 0.225, 0.225),
    *,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Per-channel normalization ``(x - mean) / std`` of clips ``(..., T, C, H, W)``.

    uint8 inputs are scaled to ``[0, 1]`` first; float inputs are assumed to be in ``[0, 1]``.
    Works on any device (statistics are created on ``clips.device``), so the trainer can ship uint8
    batches to the GPU and normalize there. The input is not modified.

    Args:
        clips: ``(..., T, C, H, W)`` uint8 or float tensor, C = ``len(mean)``.
        mean, std: Per-channel statistics in ``[0, 1]`` units (defaults: SlowFast's 0.45 / 0.225).
        dtype: Output float dtype (used for uint8 inputs; float inputs keep their dtype).

    Returns:
        Float tensor of the same shape.
    """
    _check_statistics(clips, mean, std)
    if clips.dtype == torch.uint8:
        out_dtype, unit = dtype, 255.0
    elif clips.is_floating_point():
        out_dtype, unit = clips.dtype, 1.0
    else:
        raise ValueError(f"clips must be uint8 or floating point, got {clips.dtype}")
    # One conversion copy into a fresh contiguous tensor, then x * scale - shift in place
    # (a channels-last input would make broadcasting over C several times slower).
    out = clips.to(out_dtype, memory_format=torch.contiguous_format, copy=True)
    scale = [1.0 / (unit * s) for s in std]
    shift = [m / s for m, s in zip(mean, std, strict=True)]
    if len(set(scale)) == 1 and len(set(shift)) == 1:
        return out.mul_(scale[0]).sub_(shift[0])
    # Per channel with Python scalars: no statistics tensor to copy to the device (on CUDA
    # ``torch.tensor(..., device=)`` blocks the host), the same arithmetic as the shared case.
    for ch, (a, b) in enumerate(zip(scale, shift, strict=True)):
        out.select(-3, ch).mul_(a).sub_(b)
    return out


def denormalize(
    clips: torch.Tensor,
    mean: Sequence[float] = (0.45, 0.45, 0.45),
    std: Sequence[float] = (0.225, 0.225, 0.225),
) -> torch.Tensor:
    """Inverse of :func:`normalize`: float clips ``(..., T, C, H, W)`` back to ``[0, 1]`` units.

    ``x * std + mean`` per channel, the statistics rounded to the clips' dtype as a tensor of
    them would be, applied as Python scalars: on CUDA nothing travels from the host. Returns a
    new contiguous tensor; the input is not modified.
    """
    _check_statistics(clips, mean, std)
    if not clips.is_floating_point():
        raise ValueError(f"clips must be floating point (normalize's output), got {clips.dtype}")
    # Host-side rounding to the dtype: the same products as a (C, 1, 1) statistics tensor gives.
    scale = torch.tensor(std, dtype=clips.dtype).tolist()
    shift = torch.tensor(mean, dtype=clips.dtype).tolist()
    out = clips.to(memory_format=torch.contiguous_format, copy=True)
    if len(set(scale)) == 1 and len(set(shift)) == 1:
        return out.mul_(scale[0]).add_(shift[0])
    for ch, (a, b) in enumerate(zip(scale, shift, strict=True)):
        out.select(-3, ch).mul_(a).add_(b)
    return out


def _check_statistics(clips: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> None:
    """Errors naming the bad argument: clips without ``(C, H, W)``, statistics per channel."""
    if clips.dim() < 3:
        raise ValueError(f"clips must be (..., C, H, W), got shape {tuple(clips.shape)}")
    c = clips.shape[-3]
    if len(mean) != c or len(std) != c:
        raise ValueError(f"mean/std must have {c} entries (channels), got {len(mean)}/{len(std)}")
    if any(s <= 0 for s in std):
        raise ValueError(f"std must be > 0, got {tuple(std)}")


# --------------------------------------------------------------------------- random / planned params


@dataclass(frozen=True)
class TrainClipParams:
    """Realised random parameters of one training clip.

    Attributes:
        indices: Frame indices ``(clip_len,)`` (looped for short videos).
        out_height, out_width: Frame size after the short-side scale jitter.
        top, left: Crop corner in the scaled frame.
        flip: Horizontal flip.
    """

    indices: tuple[int, ...]
    out_height: int
    out_width: int
    top: int
    left: int
    flip: bool


@dataclass(frozen=True)
class TrainClipSpec:
    """Training clip sampling of paper Section 4.1 (owns the random draws).

    Args:
        clip_len: Frames per clip (paper: 64).
        frame_stride: Temporal stride (paper: 1, consecutive frames).
        crop_size: Square crop side (paper: 160).
        scale_range: Inclusive range of the random short side (paper: ``(160, 200)``).
        hflip_p: Horizontal flip probability (paper: 0.5).
    """

    clip_len: int = 64
    frame_stride: int = 1
    crop_size: int = 160
    scale_range: tuple[int, int] = (160, 200)
    hflip_p: float = 0.5

    def __post_init__(self) -> None:
        _check_int("clip_len", self.clip_len)
        _check_int("frame_stride", self.frame_stride)
        _check_int("crop_size", self.crop_size)
        sr = self.scale_range
        if not (isinstance(sr, tuple | list) and len(sr) == 2 and all(_is_int(v) for v in sr)):
            raise ValueError(f"scale_range must be a pair of integers (min, max), got {sr!r}")
        lo, hi = sr
        if not 1 <= self.crop_size <= lo <= hi:
            raise ValueError(
                f"need 1 <= crop_size <= scale_range[0] <= scale_range[1], got crop_size="
                f"{self.crop_size}, scale_range={self.scale_range}"
            )
        p = self.hflip_p
        if isinstance(p, bool) or not isinstance(p, int | float | np.floating) or not 0 <= p <= 1:
            raise ValueError(f"hflip_p must be a number in [0, 1], got {p!r}")

    @property
    def span(self) -> int:
        """Frames covered by one clip: ``(clip_len - 1) * frame_stride + 1``."""
        return (self.clip_len - 1) * self.frame_stride + 1

    def draw_params(
        self, num_frames: int, height: int, width: int, *, generator: torch.Generator | None = None
    ) -> TrainClipParams:
        """Draw the clip's start, scale, crop and flip for a video of this size (its metadata).

        Draw order (4 draws, also for short videos): start, short side, crop top/left, flip.
        Videos shorter than :attr:`span` start at frame 0 and are looped.
        """
        max_start = max(num_frames - self.span, 0)
        start = int(torch.randint(0, max_start + 1, (1,), generator=generator))
        lo, hi = self.scale_range
        short = int(torch.randint(lo, hi + 1, (1,), generator=generator))
        out_h, out_w = short_side_size(height, width, short)
        corner = torch.rand(2, generator=generator)
        top = int(corner[0] * (out_h - self.crop_size + 1))
        left = int(corner[1] * (out_w - self.crop_size + 1))
        flip = bool(torch.rand(1, generator=generator) < self.hflip_p)
        idx = clip_indices(num_frames, start, self.clip_len, self.frame_stride)
        return TrainClipParams(tuple(idx.tolist()), out_h, out_w, top, left, flip)


@dataclass(frozen=True)
class EvalView:
    """One evaluation view: ``clip`` (0-based clip number), frame ``indices``, crop corner."""

    clip: int
    indices: tuple[int, ...]
    top: int
    left: int


@dataclass(frozen=True)
class EvalClipSpec:
    """Multi-view evaluation of paper Section 4.1 (deterministic).

    Args:
        clip_len: Frames per clip.
        frame_stride: Temporal stride.
        crop_size: Short side is resized to this, then square crops of this side are taken.
        num_clips: Clips uniformly spaced over the video (paper: 10).
        num_crops: Spatial crops per clip (1 = centre; 3 = left/centre/right, the 30-view test).
    """

    clip_len: int = 64
    frame_stride: int = 1
    crop_size: int = 160
    num_clips: int = 10
    num_crops: int = 1

    def __post_init__(self) -> None:
        for name in ("clip_len", "frame_stride", "crop_size", "num_clips", "num_crops"):
            _check_int(name, getattr(self, name))

    @property
    def span(self) -> int:
        """Frames covered by one clip."""
        return (self.clip_len - 1) * self.frame_stride + 1

    @property
    def num_views(self) -> int:
        """``num_clips * num_crops``."""
        return self.num_clips * self.num_crops

    def resized(self, height: int, width: int) -> tuple[int, int]:
        """Frame size after resizing the short side to ``crop_size``."""
        return short_side_size(height, width, self.crop_size)

    def plan(self, num_frames: int, height: int, width: int) -> list[EvalView]:
        """All views of a video, clip-major (clip 0 crops 0..n-1, clip 1 ...).

        ``height``/``width`` are the *original* frame size; crop corners refer to the resized frame.
        """
        rh, rw = self.resized(height, width)
        offsets = spatial_crop_offsets(rh, rw, self.crop_size, self.num_crops)
        views = []
        for k, start in enumerate(eval_starts(num_frames, self.span, self.num_clips)):
            idx = tuple(clip_indices(num_frames, start, self.clip_len, self.frame_stride).tolist())
            views.extend(EvalView(k, idx, top, left) for top, left in offsets)
        return views
