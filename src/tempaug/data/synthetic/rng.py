"""Seeded generators and scalar draws shared by the generated dataset's modules.

Every stream is a ``torch.Generator`` seeded from a :class:`numpy.random.SeedSequence` of an
integer key, so each video's dynamics, scene and nuisances draw from streams of their own.
"""

from __future__ import annotations

import numpy as np
import torch


def _seeded(*key: int) -> torch.Generator:
    """A fresh generator seeded from the integer ``key`` (through a ``SeedSequence``)."""
    state = np.random.SeedSequence(list(key)).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed((int(state[0]) << 31) ^ int(state[1]))


def _u(g: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    """Uniform float in ``[lo, hi)`` (one float64 draw)."""
    return lo + (hi - lo) * float(torch.rand((), generator=g, dtype=torch.float64))


def _randint(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in ``[lo, hi]``."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def _sign(g: torch.Generator) -> float:
    """``+1.0`` or ``-1.0`` with probability 1/2 each."""
    return 1.0 if _u(g) < 0.5 else -1.0


def _colour(g: torch.Generator) -> np.ndarray:
    """A random RGB colour, ``(3,)`` float64 in ``[0, 1)``."""
    return torch.rand(3, generator=g, dtype=torch.float64).numpy()
