"""Random draws for the augmentations, always through an optional CPU ``torch.Generator``.

Parameters are sampled on the CPU (in float64) and only then moved to the clips' device, so the
same generator state gives bit-identical parameters for CPU and CUDA clips (design notes,
"Randomness"). Nothing here touches Python's ``random`` or NumPy's global state.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "bernoulli",
    "beta",
    "check_generator",
    "check_positive",
    "check_probability",
    "randint",
    "uniform",
]


def check_generator(generator: torch.Generator | None) -> torch.Generator | None:
    """Validate that ``generator`` is ``None`` or a CPU ``torch.Generator``.

    Raises:
        ValueError: ``generator`` is not a ``torch.Generator`` or lives on a non-CPU device.
    """
    if generator is None:
        return None
    if not isinstance(generator, torch.Generator):
        raise ValueError(
            f"generator must be None or a CPU torch.Generator, got {type(generator).__name__}"
        )
    if generator.device.type != "cpu":
        raise ValueError(
            "generator must be a CPU torch.Generator (parameters are sampled on the CPU and "
            f"moved to the clips' device), got a generator on {generator.device}"
        )
    return generator


def check_probability(value: float, name: str) -> float:
    """Return ``value`` as a float after checking that it lies in ``[0, 1]``.

    Raises:
        ValueError: ``value`` is not a real number in ``[0, 1]``; the message names ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def check_positive(value: float, name: str) -> float:
    """Return ``value`` as a float after checking that it is finite and ``> 0``.

    Raises:
        ValueError: ``value`` is not a finite positive number; the message names ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value


def uniform(n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` draws of U[0, 1) as a float64 CPU tensor ``(n,)``."""
    return torch.rand(n, generator=generator, dtype=torch.float64)


def bernoulli(p: float, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` Bernoulli(p) draws as a bool CPU tensor ``(n,)`` (``p=1`` is always true)."""
    return uniform(n, generator) < p


def randint(high: int, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` integers uniform in ``[0, high)`` as an int64 CPU tensor ``(n,)``."""
    return torch.randint(0, max(int(high), 1), (n,), generator=generator, dtype=torch.int64)


def beta(alpha: float, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` draws of Beta(alpha, alpha) as a float64 CPU tensor ``(n,)``.

    ``torch.distributions.Beta.sample`` takes no generator, so this draws the Dirichlet
    ``(alpha, alpha)`` with the same kernel that ``torch.distributions.Beta`` uses internally,
    passing the generator through.
    """
    concentration = torch.full((n, 2), float(alpha), dtype=torch.float64)
    return torch._sample_dirichlet(concentration, generator=generator)[:, 0]
