"""The RandAugment operation space, evaluated at a real-valued magnitude per frame.

RandAugment-T (paper Section 3.1, Fig. 2) uses the operation set of RandAugment and a per-frame
magnitude ``M_t = linspace(M1, M2, T)[t]``. We follow torchvision v2's ``RandAugment`` space
(``torchvision.transforms.v2.RandAugment``): the same 14 operations, the same magnitude bins
(``num_bins`` values from ``torch.linspace``) and the same ``signed`` flags. A magnitude that is not
an integer bin index is mapped by linear interpolation between its two neighbouring bins, which is
the bins' own linear formula evaluated at that magnitude; at an integer magnitude the value is
exactly torchvision's bin value. Posterize's bin formula ``8 - m / ((num_bins - 1) / 4)`` is
evaluated unrounded and rounded per frame, as torchvision rounds its bins.

Fidelity: the authors' code applies PIL operations with their own ranges and has an extra Invert
operation; this table follows torchvision so results compare with the standard definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["OPS", "OP_NAMES", "OpSpec", "magnitude_to_value"]

BinsFn = Callable[[int, int, int], torch.Tensor | None]


def _linear(low: float, high: float) -> BinsFn:
    def bins(num_bins: int, height: int, width: int) -> torch.Tensor:
        return torch.linspace(low, high, num_bins)

    return bins


def _translate_x(num_bins: int, height: int, width: int) -> torch.Tensor:
    return torch.linspace(0.0, 150.0 / 331.0 * width, num_bins)


def _translate_y(num_bins: int, height: int, width: int) -> torch.Tensor:
    return torch.linspace(0.0, 150.0 / 331.0 * height, num_bins)


def _posterize_unrounded(num_bins: int, height: int, width: int) -> torch.Tensor:
    # torchvision's bins are this expression rounded; RandAugment-T rounds after interpolating.
    return 8 - (torch.arange(num_bins) / ((num_bins - 1) / 4))


def _no_magnitude(num_bins: int, height: int, width: int) -> None:
    return None


@dataclass(frozen=True)
class OpSpec:
    """One RandAugment operation.

    Attributes:
        name: torchvision v2's name of the operation.
        bins: ``bins(num_bins, height, width)`` returns the float32 magnitude bins ``(num_bins,)``
            in the operation's own units (``None`` for operations without a magnitude).
        signed: whether a random sign multiplies the value.
        rounded: whether the per-frame value is rounded to an integer (Posterize's bits).
    """

    name: str
    bins: BinsFn
    signed: bool
    rounded: bool = False

    @property
    def has_magnitude(self) -> bool:
        """Whether the operation takes a magnitude (Identity, AutoContrast, Equalize do not)."""
        return self.bins is not _no_magnitude


_SPECS = (
    OpSpec("Identity", _no_magnitude, False),
    OpSpec("ShearX", _linear(0.0, 0.3), True),
    OpSpec("ShearY", _linear(0.0, 0.3), True),
    OpSpec("TranslateX", _translate_x, True),
    OpSpec("TranslateY", _translate_y, True),
    OpSpec("Rotate", _linear(0.0, 30.0), True),
    OpSpec("Brightness", _linear(0.0, 0.9), True),
    OpSpec("Color", _linear(0.0, 0.9), True),
    OpSpec("Contrast", _linear(0.0, 0.9), True),
    OpSpec("Sharpness", _linear(0.0, 0.9), True),
    OpSpec("Posterize", _posterize_unrounded, False, rounded=True),
    OpSpec("Solarize", _linear(1.0, 0.0), False),
    OpSpec("AutoContrast", _no_magnitude, False),
    OpSpec("Equalize", _no_magnitude, False),
)

#: Operation name -> spec, in torchvision v2 ``RandAugment``'s order.
OPS: dict[str, OpSpec] = {spec.name: spec for spec in _SPECS}
#: The 14 operation names, in torchvision v2 ``RandAugment``'s order.
OP_NAMES: tuple[str, ...] = tuple(OPS)


def magnitude_to_value(
    op: str, magnitude: torch.Tensor, *, num_bins: int, height: int, width: int
) -> torch.Tensor:
    """Map real-valued magnitudes to an operation's values, as torchvision's bins would.

    Paper Section 3.1: each frame ``t`` of a clip gets magnitude ``M_t`` and the operation is
    applied with the value that magnitude stands for.

    Args:
        op: an operation name from :data:`OP_NAMES`.
        magnitude: float tensor of any shape with values in ``[0, num_bins - 1]``.
        num_bins: number of magnitude bins (torchvision's ``num_magnitude_bins``), ``>= 2``.
        height: frame height (TranslateY's range scales with it).
        width: frame width (TranslateX's range scales with it).

    Returns:
        float64 tensor shaped like ``magnitude`` (on its device): the unsigned value in the
        operation's units (degrees, pixels, shear coefficient, factor offset, bits, threshold
        fraction); zeros for operations without a magnitude.

    Raises:
        ValueError: unknown ``op``, ``num_bins < 2`` or a magnitude outside ``[0, num_bins - 1]``.
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {list(OP_NAMES)}, got {op!r}")
    if num_bins < 2:
        raise ValueError(f"num_bins must be >= 2, got {num_bins}")
    magnitude = torch.as_tensor(magnitude)
    spec = OPS[op]
    table = spec.bins(num_bins, height, width)
    if table is None:
        return torch.zeros(magnitude.shape, dtype=torch.float64, device=magnitude.device)
    m = magnitude.to(torch.float64)
    if m.numel() and (bool((m < 0).any()) or bool((m > num_bins - 1).any())):
        raise ValueError(
            f"magnitude must be in [0, {num_bins - 1}] (num_bins={num_bins}), got values in "
            f"[{m.min().item()}, {m.max().item()}]"
        )
    table = table.to(device=m.device, dtype=torch.float64)
    low = m.floor().long().clamp_(0, num_bins - 1)
    high = (low + 1).clamp_(max=num_bins - 1)
    frac = m - low.to(torch.float64)
    # At an integer magnitude frac == 0, so the value is the bin itself, bit for bit.
    value = table[low] + (table[high] - table[low]) * frac
    if spec.rounded:
        value = value.round()
    return value
