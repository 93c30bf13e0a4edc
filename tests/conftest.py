"""Shared pytest fixtures and factories."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def make_video_batch(
    batch: int = 4,
    frames: int = 8,
    channels: int = 3,
    height: int = 16,
    width: int = 16,
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> torch.Tensor:
    """A random video batch ``(B, T, C, H, W)``: float in [0, 1] or uint8 in [0, 255]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, frames, channels, height, width, generator=g)
    if dtype == torch.uint8:
        x = (x * 255).round().to(torch.uint8)
    else:
        x = x.to(dtype)
    return x.to(device)


@pytest.fixture(autouse=True)
def _fixed_global_seed():
    torch.manual_seed(0)
    yield
