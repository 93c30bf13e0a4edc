"""Regions of a clip: vectorized sampling of boxes / frame intervals / cubes, and their masks.

A region is stored as int64 bounds ``[t0, t1, y0, y1, x0, x1]`` (half-open) in the last dim of a
``(..., 6)`` tensor, one row per clip. An empty region is all zeros. Masks are built from
``arange`` comparisons, never by looping over clips or frames: ``box_mask`` returns a bool tensor
``(..., T, 1, H, W)`` that broadcasts against clips ``(..., T, C, H, W)``.

Sampling follows CutMix and the authors' ``rand_bbox`` (paper Section 3.2): the region centre is
uniform over the integer positions of each axis and the region is clipped at the borders, so a
region near a border is smaller than requested; labels therefore always use the realised size.
"""

from __future__ import annotations

import math

import torch

from ._random import randint

__all__ = [
    "box_coverage",
    "box_mask",
    "box_volume",
    "centred_interval",
    "empty_boxes",
    "full_interval",
    "is_shared",
    "resolve_size",
    "stack_box",
]


def resolve_size(size: float | int, dim: int, name: str) -> int:
    """Resolve a region size given as a fraction (float in (0, 1]) or an absolute int.

    A fraction gives ``floor(size * dim)`` (at least 1); an int must lie in ``[1, dim]``.

    Raises:
        ValueError: bad type or value; the message names ``name`` and the allowed range.
    """
    if isinstance(size, bool) or not isinstance(size, int | float):
        raise ValueError(
            f"{name} must be a fraction in (0, 1] (float) or a size in pixels/frames (int), "
            f"got {size!r}"
        )
    if isinstance(size, float):
        if not 0.0 < size <= 1.0:
            raise ValueError(f"{name} as a fraction must be in (0, 1], got {size}")
        return max(1, math.floor(size * dim + 1e-9))
    if not 1 <= size <= dim:
        raise ValueError(f"{name} as an int must be in [1, {dim}] for this clip size, got {size}")
    return size


def centred_interval(
    length: torch.Tensor, dim: int, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Intervals of the given lengths around uniform integer centres, clipped to ``[0, dim]``.

    Args:
        length: int64 ``(n,)`` requested lengths (``0 <= length <= dim``).
        dim: axis size.
        generator: CPU generator for the ``n`` centre draws.

    Returns:
        ``(start, end)``, int64 ``(n,)`` each, ``0 <= start <= end <= dim``.
    """
    centre = randint(dim, length.shape[0], generator)
    start = centre - length // 2
    end = start + length
    return start.clamp(0, dim), end.clamp(0, dim)


def full_interval(n: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole axis ``[0, dim)`` for ``n`` clips, as int64 ``(start, end)``."""
    return torch.zeros(n, dtype=torch.int64), torch.full((n,), dim, dtype=torch.int64)


def stack_box(
    t: tuple[torch.Tensor, torch.Tensor],
    y: tuple[torch.Tensor, torch.Tensor],
    x: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Stack per-axis ``(start, end)`` pairs into bounds ``(n, 6)``; empty regions become zeros."""
    box = torch.stack([t[0], t[1], y[0], y[1], x[0], x[1]], dim=-1)
    empty = (box[:, 1] <= box[:, 0]) | (box[:, 3] <= box[:, 2]) | (box[:, 5] <= box[:, 4])
    return box.masked_fill(empty.unsqueeze(-1), 0)


def empty_boxes(n: int) -> torch.Tensor:
    """``n`` empty regions, int64 ``(n, 6)`` of zeros."""
    return torch.zeros(n, 6, dtype=torch.int64)


def box_volume(box: torch.Tensor) -> torch.Tensor:
    """Number of (t, y, x) sites in each region: int64 ``(...)``."""
    return (box[..., 1] - box[..., 0]) * (box[..., 3] - box[..., 2]) * (box[..., 5] - box[..., 4])


def box_coverage(box: torch.Tensor, frames: int, height: int, width: int) -> torch.Tensor:
    """Fraction of each frame's ``H * W`` pixels inside the region: float64 ``(..., T)``."""
    t = torch.arange(frames, device=box.device)
    in_t = (t >= box[..., 0:1]) & (t < box[..., 1:2])
    area = ((box[..., 3] - box[..., 2]) * (box[..., 5] - box[..., 4])).to(torch.float64)
    return in_t.to(torch.float64) * (area / (height * width)).unsqueeze(-1)


def box_mask(
    box: torch.Tensor, frames: int, height: int, width: int, device: torch.device | str
) -> torch.Tensor:
    """Bool mask ``(..., T, 1, H, W)`` that is true inside each region.

    Args:
        box: int64 bounds ``(..., 6)`` on any device.
        frames, height, width: clip size ``T, H, W``.
        device: device of the mask (the clips' device).
    """
    box = box.to(device)
    t = torch.arange(frames, device=device)
    y = torch.arange(height, device=device)
    x = torch.arange(width, device=device)
    in_t = (t >= box[..., 0:1]) & (t < box[..., 1:2])  # (..., T)
    in_y = (y >= box[..., 2:3]) & (y < box[..., 3:4])  # (..., H)
    in_x = (x >= box[..., 4:5]) & (x < box[..., 5:6])  # (..., W)
    return (
        in_t[..., :, None, None, None]
        & in_y[..., None, None, :, None]
        & in_x[..., None, None, None, :]
    )


def is_shared(box: torch.Tensor) -> bool:
    """True when ``box`` is a CPU tensor ``(B, 6)`` whose rows are all equal (batch mode).

    Only CPU bounds are inspected, so the check never synchronises with a GPU.
    """
    if box.device.type != "cpu" or box.ndim != 2 or box.shape[0] == 0:
        return False
    return bool((box == box[0]).all())
