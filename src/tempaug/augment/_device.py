"""Moving CPU-drawn parameters to the clips' device without a host sync.

Every augmentation draws its parameters on a CPU ``torch.Generator`` (design notes,
"Randomness"; Kim et al., ECCV-W 2020, Sections 3.1-3.2). On CUDA a plain ``tensor.to(device)``
from pageable memory blocks the host until the copy is done, and ``torch.tensor(data,
device=...)`` does the same. :func:`to_device` instead packs any number of CPU tensors into one
byte buffer, pins it (CUDA only) and sends it with one ``non_blocking`` copy, so a training step
never waits for the GPU while it prepares the next batch.
"""

from __future__ import annotations

import torch

__all__ = ["to_device"]

_ALIGN = 8  # bytes; every field starts on an 8-byte boundary so any dtype can be viewed


def to_device(*tensors: torch.Tensor, device: torch.device | str) -> tuple[torch.Tensor, ...]:
    """Copy CPU ``tensors`` to ``device`` in one (pinned on CUDA) non-blocking transfer.

    Args:
        *tensors: CPU tensors of any dtype and shape (tensors already on ``device`` are passed
            through unchanged).
        device: the target device.

    Returns:
        The tensors on ``device``, in order, with their dtypes and shapes (views of one
        buffer). For a CPU ``device`` the tensors themselves: there is no transfer to save, and
        packing would cost more than the op for small batches (``benchmarks/validation.py``).
    """
    device = torch.device(device)
    host = [t for t in tensors if t.device.type == "cpu"]
    if not host or device.type == "cpu":
        return tuple(tensors)
    chunks, spans, offset = [], [], 0
    for t in host:
        raw = t.detach().contiguous().reshape(-1).view(torch.uint8)
        pad = (-raw.numel()) % _ALIGN
        chunks.append(raw)
        if pad:
            chunks.append(torch.zeros(pad, dtype=torch.uint8))
        spans.append((offset, raw.numel()))
        offset += raw.numel() + pad
    packed = torch.cat(chunks)
    if device.type == "cuda":
        packed = packed.pin_memory()
    on_device = packed.to(device, non_blocking=True)
    moved = iter(
        on_device[start : start + size].view(t.dtype).reshape(t.shape)
        for t, (start, size) in zip(host, spans, strict=True)
    )
    return tuple(next(moved) if t.device.type == "cpu" else t for t in tensors)
