"""Input checks shared by the augmentations: clip layout, value range, fill (issue 28).

Every augmentation of the paper (Kim et al., ECCV-W 2020, Sections 3.1-3.2) takes clips in the
layout ``(..., T, C, H, W)`` with ``C`` in ``{1, 3}``. The checks look at shapes and dtypes only,
except :func:`check_unit_range`, which reads values of CPU tensors alone (on CUDA a min/max would
make the host wait for the GPU, so there the range is the caller's contract).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["check_fill_range", "check_layout", "check_unit_range"]

CHANNELS = (1, 3)


def _layout_hint(shape: tuple[int, ...], name: str, channels: tuple[int, ...] = CHANNELS) -> str:
    """How to fix a clip whose channel dim is not at -3 (empty if no layout is recognised)."""
    nd = len(shape)
    lead = list(range(nd - 4))
    if shape[-4] in channels:  # (..., C, T, H, W): pytorchvideo / torchvision video models
        perm = (*lead, nd - 3, nd - 4, nd - 2, nd - 1)
        seen = "(C, T, H, W)" if nd == 4 else "(B, C, T, H, W)"
    elif shape[-1] in channels:  # (..., T, H, W, C): decoder / NumPy frames
        perm = (*lead, nd - 4, nd - 1, nd - 3, nd - 2)
        seen = "(T, H, W, C)" if nd == 4 else "(B, T, H, W, C)"
    else:
        return ""
    return f", which looks like {seen}; use {name}.permute({', '.join(map(str, perm))})"


def check_layout(clips: torch.Tensor, name: str = "clips", *, strict: bool = True) -> None:
    """Check that ``clips`` is ``(..., T, C, H, W)`` with ``C`` in ``{1, 3}`` (shape only).

    ``strict=False`` (the deleting and mixing methods, which work on any number of channels,
    e.g. class-coded test clips) raises only for shapes that look like another video layout:
    ``(..., 3, T, H, W)`` or ``(..., T, H, W, 3)`` (RGB in another layout).

    Raises:
        ValueError: the channel dim (``-3``) is not 1 or 3; the message names the layout the
            shape looks like and the ``permute`` that fixes it.
    """
    shape = tuple(clips.shape)
    if len(shape) >= 4 and shape[-3] not in CHANNELS:
        if not strict and not _layout_hint(shape, name, (3,)):
            return
        expected = "(T, C, H, W)" if len(shape) == 4 else "(B, T, C, H, W)"
        raise ValueError(
            f"{name} must have the layout {expected} with C = 1 or 3 channels at dim -3, "
            f"got {shape}{_layout_hint(shape, name)}"
        )


def check_unit_range(clips: torch.Tensor, name: str = "video") -> None:
    """Check that a floating CPU clip holds values in ``[0, 1]`` (uint8 and device: no read).

    Raises:
        ValueError: values outside ``[0, 1]`` (e.g. 0-255 floats, or clips after Normalize).
    """
    if not clips.is_floating_point() or clips.device.type != "cpu" or clips.numel() == 0:
        return
    low, high = (float(v) for v in torch.aminmax(clips.detach()))
    if not (0.0 <= low and high <= 1.0):  # also rejects NaN
        raise ValueError(
            f"{name} of dtype {clips.dtype} must hold values in [0, 1] (or be uint8 in [0, 255]), "
            f"got values in [{low:.4g}, {high:.4g}]; scale 0-255 floats by 1/255, and apply "
            "RandAugmentT before normalization"
        )


def check_fill_range(fill: float | Sequence[float], dtype: torch.dtype, name: str = "fill") -> None:
    """Check ``fill`` against the clip dtype's range: integers in ``[0, 255]`` for uint8, else ``[0, 1]``.

    Raises:
        ValueError: a fill value that the dtype cannot hold (it would be clamped or wrapped).
    """
    values = [fill] if isinstance(fill, int | float) else list(fill)
    for v in values:
        if dtype == torch.uint8:
            ok = math.isfinite(v) and float(v).is_integer() and 0 <= v <= 255
            allowed = "integers in [0, 255] for uint8 clips"
        else:
            ok = math.isfinite(v) and 0.0 <= v <= 1.0
            allowed = f"numbers in [0, 1] for {dtype} clips (values in [0, 1])"
        if not ok:
            raise ValueError(f"{name} must be {allowed}, got {fill!r}")
