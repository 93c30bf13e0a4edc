"""RandAugment-T: RandAugment with magnitudes that change linearly over a clip's frames.

Paper Section 3.1 (Fig. 2) and Section 4.2 (Kim et al., ECCV-W 2020). For every clip, ``num_ops``
operations are drawn with replacement; each gets two end magnitudes ``(M1, M2)`` and is applied to
frame ``t`` with magnitude ``linspace(M1, M2, T)[t]``, so geometric operations model camera/object
motion and photometric ones model lighting changes over time (Fig. 3). The four ``mode`` s are the
rows of Table 2:

* ``"spatial"`` — ``M1 = M2 = M``: plain RandAugment with the same op on every frame;
* ``"temporal"`` — ``M2 = M``, ``M1 ~ U(0.1, M)``;
* ``"temporal+"`` — ``δ ~ U(0, 0.5·M)``, ``(M1, M2) = (M − δ, M + δ)``, swapped with p = 0.5
  (the swap makes the ramp go either way; the paper's text gives only the unswapped pair);
* ``"mix"`` — per clip, ``"spatial"`` or ``"temporal+"`` with p = 0.5.

Per-frame magnitudes are clamped to ``[0, num_magnitude_bins − 1]`` and mapped to values with
torchvision's RandAugment table (:mod:`tempaug.augment._ops_table`); Posterize bits are rounded per
frame; signed operations get one random sign per operation and clip (the same on every frame).
Identity, AutoContrast and Equalize have no magnitude.

Fidelity: the authors' code applies PIL operations with their own ranges and has an extra Invert
operation; we follow torchvision's ``RandAugment`` semantics (operations, ranges, signs, nearest
interpolation) so results compare with the standard definition. ``mode="spatial"`` equals
``torchvision.transforms.v2.RandAugment`` given the same ops, magnitude and signs.

Randomness follows the package's one convention (:mod:`tempaug.augment._transform`):
:meth:`~RandAugmentT.draw_params` draws everything on a CPU ``torch.Generator``, ``make_params``
(torchvision's hook) calls it for a sample's videos, :meth:`~RandAugmentT.transform` is
deterministic, and ``aug(video, generator=g)`` does both.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from . import functional as F
from ._checks import check_fill_range, check_layout, check_unit_range
from ._device import to_device
from ._ops_table import OP_NAMES, OPS, magnitude_to_value
from ._random import check_generator
from ._transform import VideoTransform, rewrap, unwrap

__all__ = ["MODES", "RandAugmentT", "RandAugmentTParams"]

Mode = Literal["spatial", "temporal", "temporal+", "mix"]
#: The magnitude modes of paper Table 2.
MODES: tuple[str, ...] = ("spatial", "temporal", "temporal+", "mix")


@dataclass(frozen=True, eq=False)
class RandAugmentTParams:
    """Sampled parameters of :class:`RandAugmentT` for ``B`` clips of ``T`` frames (CPU tensors).

    Attributes:
        ops: the operation names that ``op_ids`` index.
        op_ids: int64 ``(B, N)``, the ``N = num_ops`` operations of each clip, applied in order.
        magnitudes: float64 ``(B, N, T)``, per-frame magnitudes ``linspace(M1, M2, T)`` clamped to
            ``[0, num_magnitude_bins - 1]`` (ignored by operations without a magnitude).
        signs: float64 ``(B, N)``, ``±1`` for signed operations, ``+1`` for the others.
        ends: float64 ``(B, N, 2)``, the drawn ``(M1, M2)`` before clamping.
        spatial: bool ``(B,)``, whether the clip got ``M1 == M2`` by its mode (``"spatial"``, or
            ``"mix"`` choosing spatial).
    """

    ops: tuple[str, ...]
    op_ids: torch.Tensor
    magnitudes: torch.Tensor
    signs: torch.Tensor
    ends: torch.Tensor
    spatial: torch.Tensor


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class RandAugmentT(VideoTransform):
    """RandAugment-T (paper Section 3.1, Fig. 2; Table 2 modes), a torchvision v2 transform.

    Works on a clip ``(T, C, H, W)`` or a batch ``(B, T, C, H, W)`` (any leading dims), uint8
    ``[0, 255]`` or float ``[0, 1]``, plain tensors or ``tv_tensors.Video``, on CPU or GPU. Every
    clip of a batch gets its own operations, magnitudes and signs; the clips that share an
    operation are processed together by one vectorised kernel call. Inside
    ``torchvision.transforms.v2.Compose`` other entries of the sample (labels, metadata) pass
    through. Call ``aug(video, generator=g)`` for reproducible draws.

    Args:
        num_ops: operations applied in sequence per clip (``N``), ``>= 0``.
        magnitude: ``M``, a number in ``[0, num_magnitude_bins - 1]``.
        mode: ``"spatial"``, ``"temporal"``, ``"temporal+"`` or ``"mix"`` (module docstring).
        ops: operation names to draw from (default: torchvision's 14 RandAugment operations).
        num_magnitude_bins: number of magnitude bins, ``>= 2`` (torchvision's default 31).
        fill: value(s) for pixels moved in from outside by geometric operations, a number or one
            per channel, in the video's units.

    Raises:
        ValueError: an argument outside its allowed range; the message names it and the range.
    """

    def __init__(
        self,
        num_ops: int = 2,
        magnitude: float = 9,
        mode: Mode = "temporal+",
        ops: Sequence[str] | None = None,
        num_magnitude_bins: int = 31,
        fill: float | Sequence[float] = 0,
    ) -> None:
        super().__init__()
        if not _is_int(num_ops) or num_ops < 0:
            raise ValueError(f"num_ops must be an integer >= 0, got {num_ops!r}")
        if not _is_int(num_magnitude_bins) or num_magnitude_bins < 2:
            raise ValueError(
                f"num_magnitude_bins must be an integer >= 2, got {num_magnitude_bins!r}"
            )
        if not _is_real(magnitude) or not 0 <= magnitude <= num_magnitude_bins - 1:
            raise ValueError(
                f"magnitude must be a number in [0, {num_magnitude_bins - 1}] "
                f"(num_magnitude_bins={num_magnitude_bins}), got {magnitude!r}"
            )
        if mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
        if ops is None:
            ops = OP_NAMES
        if isinstance(ops, str) or not isinstance(ops, Sequence):
            raise ValueError(f"ops must be a sequence of names from {list(OP_NAMES)}, got {ops!r}")
        unknown = [op for op in ops if op not in OPS]
        if unknown:
            raise ValueError(f"ops must be names from {list(OP_NAMES)}, got unknown {unknown}")
        if not ops:
            raise ValueError(f"ops must name at least one operation from {list(OP_NAMES)}")
        if not (
            _is_real(fill)
            or (
                isinstance(fill, Sequence)
                and not isinstance(fill, str)
                and all(map(_is_real, fill))
            )
        ):
            raise ValueError(f"fill must be a number or a sequence of numbers, got {fill!r}")
        self.num_ops = int(num_ops)
        self.magnitude = float(magnitude)
        self.mode = mode
        self.ops = tuple(ops)
        self.num_magnitude_bins = int(num_magnitude_bins)
        self.fill = fill if _is_real(fill) else tuple(fill)

    # ------------------------------------------------------------------------------------------
    # draw_params
    # ------------------------------------------------------------------------------------------

    def draw_params(
        self, shape: torch.Size | tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> RandAugmentTParams:
        """Draw ops, end magnitudes and signs for videos of ``shape`` ``(..., T, C, H, W)``.

        The leading dims hold ``B = prod(shape[:-4])`` clips (``B = 1`` for one clip
        ``(T, C, H, W)``); only ``B`` and ``T`` matter.

        Args:
            shape: the videos' shape, at least 4 dims, with ``B >= 1`` and ``T >= 1``.
            generator: optional CPU ``torch.Generator``; the same state gives the same params.

        Returns:
            :class:`RandAugmentTParams` with CPU tensors.

        Raises:
            ValueError: ``shape`` not a shape of at least one clip of at least one frame, or a
                non-CPU generator.
        """
        if isinstance(shape, torch.Tensor) or not all(_is_int(s) for s in shape):
            raise ValueError(f"shape must be a sequence of integers, got {shape!r}")
        shape = tuple(int(s) for s in shape)
        if len(shape) < 4 or math.prod(shape[:-4]) < 1 or shape[-4] < 1:
            raise ValueError(
                f"shape must be (..., T, C, H, W) of at least one clip with T >= 1, got {shape}"
            )
        g = check_generator(generator)
        b, n, t = math.prod(shape[:-4]), self.num_ops, shape[-4]
        f64 = torch.float64
        op_ids = torch.randint(0, len(self.ops), (b, n), generator=g)
        u_sign = torch.rand(b, n, generator=g, dtype=f64)
        u_end = torch.rand(b, n, generator=g, dtype=f64)
        u_swap = torch.rand(b, n, generator=g, dtype=f64)
        u_mode = torch.rand(b, generator=g, dtype=f64)

        signed = torch.tensor([OPS[op].signed for op in self.ops], dtype=torch.bool)
        # torchvision: negative when rand <= 0.5.
        signs = torch.where(signed[op_ids] & (u_sign <= 0.5), -1.0, 1.0).to(f64)

        m = torch.full((b, n), self.magnitude, dtype=f64)
        if self.mode == "mix":
            spatial = u_mode < 0.5
        else:
            spatial = torch.full((b,), self.mode == "spatial", dtype=torch.bool)
        if self.mode == "temporal":
            m1, m2 = 0.1 + (self.magnitude - 0.1) * u_end, m
        else:
            delta = 0.5 * self.magnitude * u_end
            low, high = m - delta, m + delta
            swap = u_swap < 0.5
            m1, m2 = torch.where(swap, high, low), torch.where(swap, low, high)
            keep = spatial.unsqueeze(1)
            m1, m2 = torch.where(keep, m, m1), torch.where(keep, m, m2)

        ramp = torch.linspace(0.0, 1.0, t, dtype=f64) if t > 1 else torch.zeros(1, dtype=f64)
        # (1 - r) * M1 + r * M2 hits both ends exactly.
        mags = (1.0 - ramp) * m1.unsqueeze(-1) + ramp * m2.unsqueeze(-1)
        mags = mags.clamp(0.0, self.num_magnitude_bins - 1)
        return RandAugmentTParams(
            ops=self.ops,
            op_ids=op_ids,
            magnitudes=mags,
            signs=signs,
            ends=torch.stack([m1, m2], dim=-1),
            spatial=spatial,
        )

    # ------------------------------------------------------------------------------------------
    # transform
    # ------------------------------------------------------------------------------------------

    def transform(self, inpt: Any, params: RandAugmentTParams) -> Any:
        """Apply drawn parameters (deterministic).

        Args:
            inpt: ``(..., T, C, H, W)`` uint8 or float tensor (or ``tv_tensors.Video``, which
                stays one) whose leading dims hold ``B`` clips (``B = 1`` for a single clip).
            params: from :meth:`draw_params` (or built by hand) for ``B`` clips of ``T`` frames.

        Returns:
            A new tensor like ``inpt`` (kind, shape, dtype, device); the input is not modified.

        Raises:
            ValueError: a bad video shape/dtype/layout, float values outside ``[0, 1]`` (checked
                on CPU videos; on a GPU it is the caller's contract, a check would be a host
                sync), a ``fill`` the dtype cannot hold, or params that do not match the video.
        """
        return rewrap(self._transform(self._check_video(inpt), params), like=inpt)

    def _transform(self, x: torch.Tensor, params: RandAugmentTParams) -> torch.Tensor:
        """:meth:`transform` on a checked plain tensor."""
        if not isinstance(params, RandAugmentTParams):
            raise ValueError(
                f"params must be RandAugmentTParams (from draw_params), got {type(params).__name__}"
            )
        check_unit_range(x, "video")
        check_fill_range(self.fill, x.dtype)
        t, c, h, w = x.shape[-4:]
        b = math.prod(x.shape[:-4])
        n = params.op_ids.shape[1] if params.op_ids.ndim == 2 else -1
        if params.op_ids.shape != (b, n) or params.magnitudes.shape != (b, n, t):
            raise ValueError(
                f"params are for op_ids {tuple(params.op_ids.shape)} and magnitudes "
                f"{tuple(params.magnitudes.shape)}, the video needs ({b}, N) and ({b}, N, {t}) "
                f"(video shape {tuple(x.shape)})"
            )
        if params.signs.shape != (b, n):
            raise ValueError(
                f"params.signs must have shape ({b}, {n}), got {tuple(params.signs.shape)}"
            )
        unknown = [op for op in params.ops if op not in OPS]
        if unknown:
            raise ValueError(f"params.ops must be names from {list(OP_NAMES)}, got {unknown}")
        if params.op_ids.device.type != "cpu" or params.magnitudes.device.type != "cpu":
            raise ValueError("params must hold CPU tensors (as draw_params returns them)")
        if n > 0 and b > 0:
            low, high = int(params.op_ids.min()), int(params.op_ids.max())
            if low < 0 or high >= len(params.ops):
                raise ValueError(
                    f"params.op_ids must index params.ops (0..{len(params.ops) - 1}), "
                    f"got values in [{low}, {high}]"
                )
        out = x.reshape(b, t, c, h, w)
        if n == 0:
            return x.clone()
        # Which clips share each op, per slot (CPU params); the row indices of every slot travel
        # to the device in one pinned, non-blocking copy (no host sync on CUDA).
        groups: list[list[tuple[int, torch.Tensor | None]]] = []
        for slot in range(n):
            ids = params.op_ids[:, slot]
            present = torch.unique(ids).tolist()
            if len(present) == 1:
                groups.append([(present[0], None)])
            else:
                groups.append([(k, (ids == k).nonzero().squeeze(1)) for k in present])
        rows_cpu = [rows for group in groups for _, rows in group if rows is not None]
        rows_dev = iter(to_device(*rows_cpu, device=x.device))
        for slot, group in enumerate(groups):
            if group[0][1] is None:
                out = self._apply_group(out, params, slot, group[0][0], None, h, w)
                continue
            nxt = torch.empty_like(out)
            for k, rows in group:
                dev = next(rows_dev)
                nxt[dev] = self._apply_group(out[dev], params, slot, k, rows, h, w)
            out = nxt
        return out.reshape(x.shape)

    def _apply_group(
        self,
        clips: torch.Tensor,
        params: RandAugmentTParams,
        slot: int,
        op_id: int,
        rows: torch.Tensor | None,
        height: int,
        width: int,
    ) -> torch.Tensor:
        """One op on the clips ``(b, T, C, H, W)`` that drew it at ``slot`` (``rows`` of params)."""
        op = params.ops[op_id]
        if not OPS[op].has_magnitude:
            return F.apply_op(clips, op, fill=self.fill)
        mags = params.magnitudes[:, slot] if rows is None else params.magnitudes[rows, slot]
        signs = params.signs[:, slot] if rows is None else params.signs[rows, slot]
        value = magnitude_to_value(
            op, mags, num_bins=self.num_magnitude_bins, height=height, width=width
        )
        return F.apply_op(clips, op, value * signs.unsqueeze(-1), fill=self.fill)

    @staticmethod
    def _check_video(video: Any) -> torch.Tensor:
        if not isinstance(video, torch.Tensor):
            raise ValueError(f"video must be a torch.Tensor, got {type(video).__name__}")
        if video.ndim < 4:
            raise ValueError(
                "video must have shape (..., T, C, H, W) with at least 4 dims, "
                f"got shape {tuple(video.shape)}"
            )
        if not (video.dtype == torch.uint8 or video.is_floating_point()):
            raise ValueError(f"video dtype must be torch.uint8 or floating, got {video.dtype}")
        check_layout(video, "video")
        # Unwrap torchvision's Video only (other subclasses, e.g. a tracing one, stay).
        return unwrap(video)

    _input_name = "video"

    def check_videos(self, videos: list[torch.Tensor]) -> None:
        """Shape, dtype, value and ``fill`` checks, before anything is drawn."""
        for video in videos:
            self._check_video(video)
        for video in videos:  # same error on every seed
            check_unit_range(video, "video")
            check_fill_range(self.fill, video.dtype)
