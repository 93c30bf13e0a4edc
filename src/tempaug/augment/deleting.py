"""Data-level deleting: CutOut and its temporal extensions FrameCutOut and CubeCutOut.

Paper Section 3.2 and Table 1 (Kim et al., ECCV-W 2020): CutOut deletes a spatial patch on
every frame, FrameCutOut deletes a run of whole frames, CubeCutOut deletes a spatiotemporal cube.
Section 4.3 uses an 80x80 patch of a 160x160 crop, 16 of 64 frames, and an 80x80x16 cube; those
are the defaults here as fractions (``size=0.5``, ``length=0.25``).

Layout ``(..., T, C, H, W)``: all leading dims are batch dims and every clip gets its own region,
so the same object works on a single clip ``(T, C, H, W)`` in a data-loader worker and on a batch
``(B, T, C, H, W)`` on the GPU. uint8 ``[0, 255]`` and floating clips are accepted. Labels are
never changed.

Every class is a ``torchvision.transforms.v2.Transform`` (:mod:`tempaug.augment._transform`):
``draw_params(shape, generator=...)`` draws the regions on a CPU generator, ``transform(clips,
params)`` is deterministic, ``aug(clips, generator=g)`` does both; other inputs of a sample
(labels, metadata) pass through unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ._checks import check_layout
from ._device import to_device
from ._masks import (
    box_mask,
    centred_interval,
    full_interval,
    resolve_size,
    stack_box,
)
from ._random import bernoulli, check_generator, check_probability
from ._transform import VideoTransform, rewrap, unwrap

__all__ = ["CubeCutOut", "CutOut", "EraseParams", "FrameCutOut", "erase"]

Size = float | int


@dataclass(frozen=True, eq=False)
class EraseParams:
    """Sampled regions of a deleting augmentation (CPU tensors).

    Attributes:
        box: int64 ``(..., 6)`` bounds ``[t0, t1, y0, y1, x0, x1]`` (half-open) per clip, where
            ``...`` are the clips' leading (batch) dims; all zeros where nothing is deleted.
        erased: bool ``(...)``, whether the clip passed the probability gate ``p``.
    """

    box: torch.Tensor
    erased: torch.Tensor


def _check_clips(clips: Any, name: str = "clips") -> torch.Tensor:
    if not isinstance(clips, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(clips).__name__}")
    if clips.ndim < 4:
        raise ValueError(
            f"{name} must have shape (..., T, C, H, W) with at least 4 dims, "
            f"got shape {tuple(clips.shape)}"
        )
    if not (clips.dtype == torch.uint8 or clips.dtype.is_floating_point):
        raise ValueError(f"{name} must be uint8 or floating, got {clips.dtype}")
    check_layout(clips, name, strict=False)
    return clips


def _check_fill(fill: float, dtype: torch.dtype) -> None:
    if dtype == torch.uint8 and not (float(fill).is_integer() and 0 <= fill <= 255):
        raise ValueError(f"fill must be an integer in [0, 255] for uint8 clips, got {fill}")


def erase(clips: torch.Tensor, box: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Pure kernel: set every pixel inside each clip's region to ``fill``.

    Args:
        clips: ``(..., T, C, H, W)`` uint8 or floating tensor on any device.
        box: int64 ``(..., 6)`` region bounds, one row per clip (``...`` as in ``clips``).
        fill: value written inside the region (an integer in ``[0, 255]`` for uint8).

    Returns:
        A new tensor, same shape, dtype and device as ``clips``; ``clips`` is not modified.

    Raises:
        ValueError: bad ``clips``, ``box`` shape or ``fill``.
    """
    clips = _check_clips(clips)
    if box.shape != (*clips.shape[:-4], 6):
        raise ValueError(
            f"box must have shape {(*clips.shape[:-4], 6)} (one region per clip), "
            f"got {tuple(box.shape)}"
        )
    _check_fill(fill, clips.dtype)
    if box.numel() == 6 and box.device.type == "cpu":  # a single clip: copy, then fill a slice
        t0, t1, y0, y1, x0, x1 = (int(v) for v in box.reshape(6).tolist())
        out = clips.clone()
        out[..., t0:t1, :, y0:y1, x0:x1] = fill
        return out
    frames, _, height, width = clips.shape[-4:]
    (box,) = to_device(box, device=clips.device)  # one non-blocking copy (no host sync)
    mask = box_mask(box, frames, height, width, clips.device)
    # One pass (``masked_fill`` out of place is a clone plus a fill), and a Python scalar: no
    # ``torch.tensor(..., device=)`` copy. An int for integer clips keeps their dtype.
    return torch.where(mask, fill if clips.is_floating_point() else int(fill), clips)


def _check_size(size: Any, name: str) -> Size:
    # Same rules as resolve_size, minus the clip-dependent upper bound for ints.
    if isinstance(size, bool) or not isinstance(size, int | float):
        raise ValueError(
            f"{name} must be a fraction in (0, 1] (float) or a size in pixels/frames (int), "
            f"got {size!r}"
        )
    if isinstance(size, float) and not 0.0 < size <= 1.0:
        raise ValueError(f"{name} as a fraction must be in (0, 1], got {size}")
    if isinstance(size, int) and size < 1:
        raise ValueError(f"{name} as an int must be >= 1, got {size}")
    return size


def _check_pair(size: Any, name: str) -> tuple[Size, Size]:
    if isinstance(size, tuple | list):
        if len(size) != 2:
            raise ValueError(f"{name} must be one size or a pair (height, width), got {size!r}")
        return _check_size(size[0], f"{name}[0]"), _check_size(size[1], f"{name}[1]")
    size = _check_size(size, name)
    return size, size


class _Erase(VideoTransform):
    """Shared machinery of the deleting family; subclasses say which axes are cut."""

    _temporal: bool = False
    _spatial: bool = False

    def __init__(self, *, fill: float = 0.0, p: float = 1.0) -> None:
        super().__init__()
        if isinstance(fill, bool) or not isinstance(fill, int | float) or not math.isfinite(fill):
            raise ValueError(f"fill must be a finite number, got {fill!r}")
        self.fill = float(fill)
        self.p = check_probability(p, "p")
        # ``size`` / ``length`` are set by the subclasses that cut those axes.
        self.size: tuple[Size, Size]
        self.length: Size

    def draw_params(
        self, shape: torch.Size | tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> EraseParams:
        """Draw one region per clip for clips of ``shape`` ``(..., T, C, H, W)``.

        The gate ``p`` and the centres along each cut axis are drawn in that order, one value per
        clip, from ``generator`` (a CPU generator, or ``None`` for torch's default one).

        Returns:
            ``EraseParams`` of CPU tensors.

        Raises:
            ValueError: ``shape`` has fewer than 4 dims, a size exceeds the clip, or a non-CPU
                generator.
        """
        shape = tuple(int(s) for s in shape)
        if len(shape) < 4:
            raise ValueError(f"shape must be (..., T, C, H, W) with at least 4 dims, got {shape}")
        generator = check_generator(generator)
        lead = shape[:-4]
        frames, _, height, width = shape[-4:]
        n = math.prod(lead)
        erased = bernoulli(self.p, n, generator)
        if self._temporal:
            length = resolve_size(self.length, frames, "length")
            t = centred_interval(torch.full((n,), length, dtype=torch.int64), frames, generator)
        else:
            t = full_interval(n, frames)
        if self._spatial:
            size_h = resolve_size(self.size[0], height, "size (height)")
            size_w = resolve_size(self.size[1], width, "size (width)")
            y = centred_interval(torch.full((n,), size_h, dtype=torch.int64), height, generator)
            x = centred_interval(torch.full((n,), size_w, dtype=torch.int64), width, generator)
        else:
            y, x = full_interval(n, height), full_interval(n, width)
        box = stack_box(t, y, x).masked_fill(~erased.unsqueeze(-1), 0)
        return EraseParams(box=box.reshape(*lead, 6), erased=erased.reshape(lead))

    def check_videos(self, videos: list[torch.Tensor]) -> None:
        """Shape, dtype and ``fill`` checks, before anything is drawn."""
        for video in videos:
            _check_clips(video)
            _check_fill(self.fill, video.dtype)

    def transform(self, inpt: Any, params: EraseParams) -> Any:
        """Delete the regions in ``params`` (deterministic).

        Args:
            inpt: clips ``(..., T, C, H, W)`` uint8 or floating (a ``tv_tensors.Video`` stays
                one).
            params: from ``draw_params(clips.shape)``.

        Returns:
            The new clips (same shape, dtype and device); ``inpt`` is not modified.
        """
        if not isinstance(params, EraseParams):
            raise ValueError(
                f"params must be EraseParams (from draw_params), got {type(params).__name__}"
            )
        return rewrap(erase(unwrap(inpt), params.box, self.fill), like=inpt)

    def extra_repr(self) -> str:
        """The constructor arguments, as the repr shows them."""
        return ", ".join(f"{k}={v!r}" for k, v in self._repr_args().items())

    def _repr_args(self) -> dict[str, Any]:
        return {"fill": self.fill, "p": self.p}


class CutOut(_Erase):
    """CutOut (DeVries & Taylor 2017) on video: one spatial patch deleted on every frame.

    Paper Section 3.2 / Table 1 (spatial axis only); Section 4.3 deletes 80x80 of a 160 crop.

    Args:
        size: patch height and width, as a fraction of ``H`` and ``W`` (float in (0, 1]) or in
            pixels (int); a pair ``(h, w)`` sets them separately. Default 0.5 (the paper's 80/160).
        fill: value written into the patch (default 0; an integer in [0, 255] for uint8 clips).
        p: probability that a clip is cut (per clip; default 1).

    The patch centre is uniform over the pixel grid and the patch is clipped at the borders.
    """

    _spatial = True

    def __init__(
        self, *, size: Size | tuple[Size, Size] = 0.5, fill: float = 0.0, p: float = 1.0
    ) -> None:
        super().__init__(fill=fill, p=p)
        self.size = _check_pair(size, "size")

    def _repr_args(self) -> dict[str, Any]:
        return {"size": self.size, **super()._repr_args()}


class FrameCutOut(_Erase):
    """FrameCutOut: a run of consecutive whole frames deleted (paper Section 3.2, Table 1).

    Section 4.3 deletes 16 of 64 frames.

    Args:
        length: number of frames, as a fraction of ``T`` (float in (0, 1]) or frames (int).
            Default 0.25 (the paper's 16/64).
        fill: value written into the deleted frames (default 0).
        p: probability that a clip is cut (per clip; default 1).

    The run's centre frame is uniform over ``[0, T)`` and the run is clipped at both ends.
    """

    _temporal = True

    def __init__(self, *, length: Size = 0.25, fill: float = 0.0, p: float = 1.0) -> None:
        super().__init__(fill=fill, p=p)
        self.length = _check_size(length, "length")

    def _repr_args(self) -> dict[str, Any]:
        return {"length": self.length, **super()._repr_args()}


class CubeCutOut(_Erase):
    """CubeCutOut: a spatiotemporal cube deleted (paper Section 3.2, Table 1).

    Section 4.3 deletes an 80x80x16 cube of a 160x160x64 clip.

    Args:
        size: cube height and width as in :class:`CutOut` (default 0.5).
        length: cube length in frames as in :class:`FrameCutOut` (default 0.25).
        fill: value written into the cube (default 0).
        p: probability that a clip is cut (per clip; default 1).

    Centres are uniform along each axis, and the cube is clipped at the borders.
    """

    _spatial = True
    _temporal = True

    def __init__(
        self,
        *,
        size: Size | tuple[Size, Size] = 0.5,
        length: Size = 0.25,
        fill: float = 0.0,
        p: float = 1.0,
    ) -> None:
        super().__init__(fill=fill, p=p)
        self.size = _check_pair(size, "size")
        self.length = _check_size(length, "length")

    def _repr_args(self) -> dict[str, Any]:
        return {"size": self.size, "length": self.length, **super()._repr_args()}
