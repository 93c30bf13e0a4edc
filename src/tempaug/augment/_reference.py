"""Straightforward per-clip reference implementations (Python loop over the batch).

They apply the same ``MixParams`` / ``EraseParams`` as the vectorized kernels by slicing one clip
at a time, the way the authors' code and timm's ``_mix_elem`` do. Tests compare the vectorized
kernels against them, and ``benchmarks/mix.py`` times both. Not part of the public API.
"""

from __future__ import annotations

import torch

from .deleting import EraseParams
from .mixing import MixParams

__all__ = ["reference_erase", "reference_mix", "reference_targets"]


def _slices(row: list[int]) -> tuple[slice, slice, slice, slice]:
    t0, t1, y0, y1, x0, x1 = row
    return slice(t0, t1), slice(None), slice(y0, y1), slice(x0, x1)


def reference_erase(clips: torch.Tensor, params: EraseParams, fill: float = 0.0) -> torch.Tensor:
    """Loop over clips ``(..., T, C, H, W)``: fill each clip's region with ``fill``."""
    flat = clips.reshape(-1, *clips.shape[-4:]).clone()
    boxes = params.box.reshape(-1, 6).tolist()
    for i, row in enumerate(boxes):
        flat[i][_slices(row)] = fill
    return flat.reshape(clips.shape)


def reference_mix(clips: torch.Tensor, params: MixParams) -> torch.Tensor:
    """Loop over the batch ``(B, T, C, H, W)``: build each mixed clip from its two sources."""
    out = torch.empty_like(clips)
    perm = params.perm.tolist()
    boxes = params.box.tolist()
    for i in range(clips.shape[0]):
        own, other = clips[i], clips[perm[i]]
        region = _slices(boxes[i])
        if not clips.dtype.is_floating_point:  # pure cut-and-paste on integer clips
            clip = own.clone()
            clip[region] = other[region]
        else:
            w_out = params.weight_out[i].to(device=clips.device, dtype=clips.dtype)
            clip = torch.lerp(other, own, w_out.view(-1, 1, 1, 1))
            clip[region] = torch.lerp(other[region], own[region], float(params.weight_in[i]))
        out[i] = clip
    return out


def reference_targets(targets: torch.Tensor, params: MixParams) -> torch.Tensor:
    """Loop over the batch: ``lam[i] * y[i] + (1 - lam[i]) * y[perm[i]]`` for ``(B, K)`` rows."""
    out = torch.empty_like(targets)
    for i, j in enumerate(params.perm.tolist()):
        lam = float(params.lam[i])
        out[i] = targets[i] * lam + targets[j] * (1.0 - lam)
    return out
