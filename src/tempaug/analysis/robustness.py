"""Temporal-perturbation robustness suite (tests the claim of Kim et al. 2020, Section 4.6).

Section 4.6 of the paper argues that the gains of temporal augmentation are small because
UCF-101 and HMDB-51 "have little temporal perturbations". This module makes temporal
perturbation explicit: every trained model is evaluated on copies of its validation clips
corrupted by the perturbations below, each at severities 1–5, in the style of ImageNet-C
(Hendrycks & Dietterich, ICLR 2019). Metrics live in :mod:`tempaug.analysis.robustness_metrics`.

Design (torchvision v2's ``make_params`` / ``transform`` split):

* **Functional kernels** (:func:`flash_kernel`, :func:`exposure_kernel`, :func:`fade_kernel`,
  :func:`affine_frames_kernel`, :func:`gather_frames_kernel`, :func:`gaussian_noise_kernel`)
  are pure: explicit per-frame parameters in, a new tensor out, no RNG.
* :class:`TemporalPerturbation` owns the randomness: :meth:`~TemporalPerturbation.make_params`
  draws per-clip parameters from a ``torch.Generator`` (on the generator's device, then moved to
  the video's device, so CPU and CUDA give the same perturbation) and
  :meth:`~TemporalPerturbation.transform` applies the kernel.

Input: an eval batch ``(B, T, C, H, W)`` or a multi-view batch ``(B, V, T, C, H, W)`` (any
number of leading dims before ``T``), uint8 in ``[0, 255]`` or float in ``[0, 1]``, on any device.
Perturbations act on raw frames, i.e. *before* mean/std normalisation. Every clip (every view of
every video) gets its own draw; there is no Python loop over frames or clips. The output has the
input's shape, dtype and device; the input is never modified. Severity 0 returns an exact copy.

Common random numbers: the random draws are *unit* quantities (uniforms in ``[0, 1)`` or
``[-1, 1)``, standard normals) that each severity only rescales, so one seed gives the same
flash position, the same shake pattern, the same dropped frames at every severity, and a
perturbation's effect grows monotonically with severity. Parameters are drawn on the
generator's device and moved to the video's, so CPU and CUDA perturb identically, except the
control's full-size noise field, which is drawn on the video's device from a seed taken from the
generator (same distribution, different numbers on CPU and CUDA).

Severity scales (``T`` frames per clip; ``u`` a per-clip or per-frame uniform draw):

=================  =====================================================  ==========================================
name               what it simulates / kernel                             severity 1, 2, 3, 4, 5
=================  =====================================================  ==========================================
``flash``          camera flash: ``L`` consecutive frames around a random  intensity ``a`` = .30, .45, .60, .75, .90;
                   frame blended towards white, ``x + a (1 - x)``          ``L = ceil(f T)``, f = 1/32, 1/16, 1/16,
                                                                           3/32, 1/8 (T = 16: 1, 1, 1, 2, 2
                                                                           frames; T = 64: 2, 4, 4, 6, 8)
``exposure_drift`` auto-exposure drift: gain ramps linearly from 1 to      ``d`` = .20, .35, .50, .65, .80;
                   ``1 ± d`` (sign per clip) and contrast from 1 to        ``c`` = .10, .20, .30, .40, .50
                   ``1 - c`` about the frame mean; the ramp runs forward
                   or backward in time (per clip)
``fade``           fade to black (or from black, per clip): a linear       depth = .40, .55, .70, .85, 1.0;
                   ramp to ``depth`` over the last fraction ``f`` of the   f = .25, .375, .50, .625, .75
                   clip, ``x (1 - w_t)``
``shake``          camera shake: i.i.d. per-frame translation             shift = .02, .04, .06, .08, .10 of the side;
                   ``u·shift`` and rotation ``u·rot``, ``u ~ U(-1, 1)``;  rot = 1.5, 3, 4.5, 6, 7.5 degrees
                   bilinear ``grid_sample``, reflection padding
``zoom_drift``     zoom drift: scale ramps linearly from 1 to ``1 + z``   ``z`` = .10, .20, .30, .45, .60
                   (zoom in) or from ``1 + z`` to 1 (zoom out), about
                   the centre; stays inside the frame (no padding)
``frame_jitter``   frame drop/duplicate: each frame is dropped with       ``p`` = .10, .20, .30, .40, .50
                   probability ``p`` (one frame per clip always kept)
                   and replaced by the nearest kept frame — the first
                   half of a gap repeats the frame before it (freeze),
                   the second half the frame after it (skip ahead);
                   index gathering, frame order stays non-decreasing
``gaussian_noise`` control (temporally stationary, not a temporal         σ = .08, .12, .18, .26, .38
                   perturbation): i.i.d. pixel noise ``N(0, σ²)``, same   (ImageNet-C's Gaussian noise scale)
                   σ at every frame and pixel, fresh draw per frame
=================  =====================================================  ==========================================

Fidelity notes: the paper defines no perturbation suite; the scales above are our choice, picked
so that severity 5 is strong but the action stays visible (see ``figures/robustness_gallery.png``).
The control is the "spatially constant" perturbation of the robustness issue: its statistics are
the same at every frame and location, so temporal augmentation has no specific reason to help
against it, unlike flash, drift, fade, shake, zoom and jitter.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "CONTROL_PERTURBATIONS",
    "PERTURBATIONS",
    "SEVERITIES",
    "SEVERITY_SCALES",
    "TEMPORAL_PERTURBATIONS",
    "TemporalPerturbation",
    "affine_frames_kernel",
    "evaluate_checkpoint",
    "evaluate_robustness",
    "exposure_kernel",
    "fade_kernel",
    "flash_kernel",
    "gather_frames_kernel",
    "gaussian_noise_kernel",
    "load_trained_model",
    "perturb",
    "perturbation_seed",
    "plot_perturbation_gallery",
]

TEMPORAL_PERTURBATIONS: tuple[str, ...] = (
    "flash",
    "exposure_drift",
    "fade",
    "shake",
    "zoom_drift",
    "frame_jitter",
)
"""Perturbations whose strength varies over time (the ones Section 4.6 is about)."""

CONTROL_PERTURBATIONS: tuple[str, ...] = ("gaussian_noise",)
"""Temporally stationary control perturbation(s)."""

PERTURBATIONS: tuple[str, ...] = TEMPORAL_PERTURBATIONS + CONTROL_PERTURBATIONS
"""All perturbation names, in table order."""

SEVERITIES: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
"""Allowed severities; 0 is the identity."""

# Per-severity constants (index 0 = severity 1). See the table in the module docstring.
SEVERITY_SCALES: Mapping[str, Mapping[str, tuple[float, ...]]] = {
    "flash": {
        "intensity": (0.30, 0.45, 0.60, 0.75, 0.90),
        "length_fraction": (1 / 32, 1 / 16, 1 / 16, 3 / 32, 1 / 8),
    },
    "exposure_drift": {
        "gain_delta": (0.20, 0.35, 0.50, 0.65, 0.80),
        "contrast_delta": (0.10, 0.20, 0.30, 0.40, 0.50),
    },
    "fade": {
        "depth": (0.40, 0.55, 0.70, 0.85, 1.00),
        "length_fraction": (0.25, 0.375, 0.50, 0.625, 0.75),
    },
    "shake": {
        "max_shift": (0.02, 0.04, 0.06, 0.08, 0.10),
        "max_rotation_deg": (1.5, 3.0, 4.5, 6.0, 7.5),
    },
    "zoom_drift": {"zoom": (0.10, 0.20, 0.30, 0.45, 0.60)},
    "frame_jitter": {"probability": (0.10, 0.20, 0.30, 0.40, 0.50)},
    "gaussian_noise": {"sigma": (0.08, 0.12, 0.18, 0.26, 0.38)},
}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _check_video(video: Tensor, name: str = "video") -> None:
    if not isinstance(video, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(video).__name__}")
    if video.ndim < 4:
        raise ValueError(
            f"{name} must have shape (..., T, C, H, W) with at least 4 dims, got {tuple(video.shape)}"
        )
    if not (video.dtype == torch.uint8 or video.is_floating_point()):
        raise ValueError(f"{name} must be uint8 in [0, 255] or float in [0, 1], got {video.dtype}")


def _to_float(video: Tensor) -> Tensor:
    """uint8 → float32 in [0, 1]; floats are returned as they are (no copy)."""
    if video.dtype == torch.uint8:
        return video.to(torch.float32).div_(255.0)
    return video


def _from_float(out: Tensor, like: Tensor) -> Tensor:
    """Back to ``like``'s dtype: uint8 by rounding and clamping, floats by casting."""
    if like.dtype == torch.uint8:
        return out.mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
    return out.to(like.dtype)


def _check_frame_param(param: Tensor, video: Tensor, name: str) -> Tensor:
    """Check a per-frame parameter of shape ``video.shape[:-3]`` (i.e. ``(..., T)``)."""
    if not isinstance(param, Tensor):
        raise ValueError(f"{name} must be a tensor of shape {tuple(video.shape[:-3])}")
    try:
        ok = torch.broadcast_shapes(param.shape, video.shape[:-3]) == video.shape[:-3]
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} must broadcast to the per-frame shape (..., T) = {tuple(video.shape[:-3])}, "
            f"got {tuple(param.shape)}"
        )
    return param


def _frame_view(param: Tensor, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(..., T) → (..., T, 1, 1, 1) for broadcasting against ``(..., T, C, H, W)``."""
    return param.to(device=device, dtype=dtype)[..., None, None, None]


# --------------------------------------------------------------------------------------------
# functional kernels (pure, no RNG)
# --------------------------------------------------------------------------------------------


def flash_kernel(video: Tensor, weight: Tensor) -> Tensor:
    """Blend frames towards white: ``x + w_t (1 - x)`` (a camera flash; Section 4.6 suite).

    Args:
        video: ``(..., T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
        weight: per-frame flash weight in [0, 1], broadcastable to ``(..., T)``; 0 keeps a frame.

    Returns:
        A new tensor with the shape, dtype and device of ``video``.
    """
    _check_video(video)
    _check_frame_param(weight, video, "weight")
    x = _to_float(video)
    w = _frame_view(weight, x.dtype, x.device)
    return _from_float(x + w * (1.0 - x), video)


def exposure_kernel(video: Tensor, gain: Tensor, contrast: Tensor) -> Tensor:
    """Per-frame exposure: gain, then contrast about the frame mean, then clamp to [0, 1].

    ``y = x g_t``; ``out = clamp(m_t + c_t (y - m_t), 0, 1)`` with ``m_t`` the mean of ``y``
    over ``(C, H, W)`` (torchvision's ``adjust_contrast`` uses the grayscale mean; the channel
    mean is used here so the kernel is channel-agnostic).

    Args:
        video: ``(..., T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
        gain: per-frame brightness gain ≥ 0, broadcastable to ``(..., T)``; 1 keeps a frame.
        contrast: per-frame contrast factor ≥ 0, broadcastable to ``(..., T)``; 1 keeps a frame.

    Returns:
        A new tensor with the shape, dtype and device of ``video``.
    """
    _check_video(video)
    _check_frame_param(gain, video, "gain")
    _check_frame_param(contrast, video, "contrast")
    x = _to_float(video)
    y = x * _frame_view(gain, x.dtype, x.device)
    mean = y.mean(dim=(-3, -2, -1), keepdim=True)
    out = mean + _frame_view(contrast, x.dtype, x.device) * (y - mean)
    return _from_float(out.clamp(0.0, 1.0), video)


def fade_kernel(video: Tensor, weight: Tensor) -> Tensor:
    """Fade towards black: ``x (1 - w_t)`` (fade in/out; Section 4.6 suite).

    Args:
        video: ``(..., T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
        weight: per-frame fade weight in [0, 1], broadcastable to ``(..., T)``; 1 is black.

    Returns:
        A new tensor with the shape, dtype and device of ``video``.
    """
    _check_video(video)
    _check_frame_param(weight, video, "weight")
    x = _to_float(video)
    return _from_float(x * (1.0 - _frame_view(weight, x.dtype, x.device)), video)


def affine_frames_kernel(
    video: Tensor,
    *,
    angle_deg: Tensor,
    shift: Tensor,
    scale: Tensor,
    padding_mode: str = "reflection",
) -> Tensor:
    """Per-frame similarity transform (rotation, zoom, translation) by one ``grid_sample``.

    The output pixel at normalised position ``p`` samples the input at
    ``D⁻¹ R(angle) D p / scale + 2 shift``, with ``D = diag(W, H)`` so that rotations are not
    sheared on non-square frames. ``shift`` is a fraction of the frame's width/height. All
    ``prod(...)·T`` frames go through a single batched ``affine_grid`` / ``grid_sample`` call
    (bilinear, ``align_corners=False``).

    Args:
        video: ``(..., T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
        angle_deg: rotation in degrees, broadcastable to ``(..., T)``.
        shift: translation ``(dx, dy)`` as fractions of the frame side, shape broadcastable to
            ``(..., T, 2)``.
        scale: magnification (> 0; > 1 zooms in), broadcastable to ``(..., T)``.
        padding_mode: ``grid_sample`` padding for samples outside the frame
            (``"reflection"``, ``"border"`` or ``"zeros"``).

    Returns:
        A new tensor with the shape, dtype and device of ``video``.
    """
    _check_video(video)
    if padding_mode not in ("reflection", "border", "zeros"):
        raise ValueError(
            f"padding_mode must be one of 'reflection', 'border', 'zeros', got {padding_mode!r}"
        )
    frame_shape = video.shape[:-3]
    _check_frame_param(angle_deg, video, "angle_deg")
    _check_frame_param(scale, video, "scale")
    if not isinstance(shift, Tensor) or shift.shape[-1:] != (2,):
        raise ValueError(
            f"shift must be a tensor of shape (..., T, 2), got {getattr(shift, 'shape', shift)}"
        )
    _check_frame_param(shift[..., 0], video, "shift[..., 0]")
    if bool((scale <= 0).any()):
        raise ValueError("scale must be > 0 everywhere")

    *lead, c, h, w = video.shape
    x = _to_float(video)
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()  # sample in float32; cast back on return
    n = math.prod(frame_shape)
    dev, dt = x.device, x.dtype
    theta_dtype = torch.float64 if dt == torch.float64 else torch.float32
    ang = torch.deg2rad(angle_deg.to(device=dev, dtype=theta_dtype)).expand(frame_shape).reshape(n)
    sc = scale.to(device=dev, dtype=theta_dtype).expand(frame_shape).reshape(n)
    sh = shift.to(device=dev, dtype=theta_dtype).expand(*frame_shape, 2).reshape(n, 2)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    aspect = w / h
    # D^-1 R D / s with D = diag(W, H): off-diagonals pick up the aspect ratio.
    theta = torch.stack(
        [
            torch.stack([cos, -sin / aspect, 2.0 * sh[:, 0]], dim=-1),
            torch.stack([sin * aspect, cos, 2.0 * sh[:, 1]], dim=-1),
        ],
        dim=-2,
    )
    flat = x.reshape(n, c, h, w)
    grid = F.affine_grid(theta.to(dt), [n, c, h, w], align_corners=False)
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)
    return _from_float(out.reshape(*lead, c, h, w).clamp(0.0, 1.0), video)


def gather_frames_kernel(video: Tensor, index: Tensor) -> Tensor:
    """Re-time a clip by gathering frames: ``out[..., t] = video[..., index[..., t]]``.

    Frame drops and duplicates (temporal jitter) are index sequences that repeat or skip
    entries of ``0..T-1``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        index: int64 tensor of shape ``(..., T)`` (exactly ``video.shape[:-3]``), values in
            ``[0, T-1]``.

    Returns:
        A new tensor with the shape, dtype and device of ``video``.
    """
    _check_video(video)
    frame_shape = video.shape[:-3]
    if not isinstance(index, Tensor) or tuple(index.shape) != tuple(frame_shape):
        raise ValueError(
            f"index must have shape (..., T) = {tuple(frame_shape)}, got {getattr(index, 'shape', index)}"
        )
    if index.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise ValueError(f"index must be an integer tensor, got {index.dtype}")
    t = frame_shape[-1]
    if index.numel() and (int(index.min()) < 0 or int(index.max()) > t - 1):
        raise ValueError(f"index values must lie in [0, T-1] = [0, {t - 1}]")
    c, h, w = video.shape[-3:]
    n = math.prod(frame_shape[:-1])
    flat = video.reshape(n, t, c * h * w)
    idx = index.to(device=video.device, dtype=torch.int64).reshape(n, t, 1).expand(n, t, c * h * w)
    return torch.gather(flat, 1, idx).reshape(video.shape)


def gaussian_noise_kernel(video: Tensor, noise: Tensor) -> Tensor:
    """Add pixel noise and clamp: ``clamp(x + noise, 0, 1)`` (the stationary control).

    Args:
        video: ``(..., T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
        noise: float tensor of ``video``'s shape, in [0, 1] units (already scaled by σ).

    Returns:
        A new tensor with the shape, dtype and device of ``video``.
    """
    _check_video(video)
    if not isinstance(noise, Tensor) or noise.shape != video.shape:
        raise ValueError(
            f"noise must have the video's shape {tuple(video.shape)}, got {getattr(noise, 'shape', noise)}"
        )
    x = _to_float(video)
    return _from_float((x + noise.to(device=x.device, dtype=x.dtype)).clamp(0.0, 1.0), video)


# --------------------------------------------------------------------------------------------
# parameter sampling + application
# --------------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    if name not in PERTURBATIONS:
        raise ValueError(f"perturbation name must be one of {list(PERTURBATIONS)}, got {name!r}")
    return name


def _check_severity(severity: int) -> int:
    if isinstance(severity, bool) or not isinstance(severity, int) or severity not in SEVERITIES:
        raise ValueError(f"severity must be an int in {list(SEVERITIES)}, got {severity!r}")
    return severity


def _linear_ramp(t: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``t/(T-1)`` for ``t = 0..T-1`` (zeros when T == 1)."""
    if t == 1:
        return torch.zeros(1, dtype=dtype)
    return torch.linspace(0.0, 1.0, t, dtype=dtype)


@dataclass(frozen=True)
class TemporalPerturbation:
    """A named perturbation at a fixed severity, with per-clip random parameters.

    ``make_params`` draws per-clip parameters from a ``torch.Generator`` (torchvision v2's
    ``make_params``), ``transform`` applies the pure kernel. ``__call__`` does both. Every clip
    of a batch ``(*lead, T, C, H, W)`` — every view of every video for ``(B, V, T, C, H, W)`` —
    gets its own draw. Severity 0 is the identity (a copy, no random draws).

    Args:
        name: one of :data:`PERTURBATIONS`.
        severity: one of :data:`SEVERITIES` (0–5).
        padding_mode: ``grid_sample`` padding for ``shake`` (see :func:`affine_frames_kernel`).

    Raises:
        ValueError: unknown name or severity outside 0–5 (the message lists the allowed values).
    """

    name: str
    severity: int
    padding_mode: str = "reflection"

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_severity(self.severity)
        if self.padding_mode not in ("reflection", "border", "zeros"):
            raise ValueError(
                "padding_mode must be one of 'reflection', 'border', 'zeros', "
                f"got {self.padding_mode!r}"
            )

    def _scale(self, key: str) -> float:
        return SEVERITY_SCALES[self.name][key][self.severity - 1]

    def make_params(
        self,
        shape: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> dict[str, Tensor]:
        """Draw per-clip parameters for a batch of the given shape.

        Draws happen on the generator's device (CPU by default) and are then moved to
        ``device``, so a seeded CPU generator gives the same perturbation on CPU and CUDA —
        except ``gaussian_noise``, whose full-size noise field is drawn directly on ``device``
        from a seed taken from ``generator`` (deterministic per seed and device type).

        Args:
            shape: the batch shape ``(*lead, T, C, H, W)``.
            generator: source of randomness (``None``: torch's default generator).
            device: where the returned tensors live (default: CPU).

        Returns:
            The kernel arguments, per frame (``(*lead, T)`` tensors; ``shift`` is
            ``(*lead, T, 2)``; ``noise`` is the full shape). Empty for severity 0.
        """
        shape = tuple(int(s) for s in shape)
        if len(shape) < 4:
            raise ValueError(f"shape must be (..., T, C, H, W) with at least 4 dims, got {shape}")
        if self.severity == 0:
            return {}
        frame_shape, t = shape[:-3], shape[-4]
        lead = shape[:-4]
        gdev = generator.device if generator is not None else torch.device("cpu")

        def rand(*size: int) -> Tensor:
            return torch.rand(size, generator=generator, device=gdev).cpu()

        name = self.name
        if name == "flash":
            length = min(t, max(1, math.ceil(self._scale("length_fraction") * t)))
            # The flash is centred on a random frame; windows of growing L are nested.
            centre = (rand(*lead) * t).floor().clamp_max(t - 1)
            start = (centre - (length - 1) // 2).clamp(0, t - length)
            tt = torch.arange(t, dtype=torch.float32)
            on = (tt >= start[..., None]) & (tt < start[..., None] + length)
            params = {"weight": on.float() * self._scale("intensity")}
        elif name == "exposure_drift":
            ramp = _linear_ramp(t)
            backward = rand(*lead) < 0.5
            prof = torch.where(backward[..., None], ramp.flip(0), ramp)
            sign = torch.where(rand(*lead) < 0.5, -1.0, 1.0)[..., None]
            params = {
                "gain": 1.0 + sign * self._scale("gain_delta") * prof,
                "contrast": 1.0 - self._scale("contrast_delta") * prof,
            }
        elif name == "fade":
            frac = self._scale("length_fraction")
            ramp = ((_linear_ramp(t) - (1.0 - frac)) / frac).clamp(0.0, 1.0)  # fade out
            fade_in = rand(*lead) < 0.5
            prof = torch.where(fade_in[..., None], ramp.flip(0), ramp)
            params = {"weight": self._scale("depth") * prof}
        elif name == "shake":
            u_rot = rand(*frame_shape) * 2.0 - 1.0
            u_shift = rand(*frame_shape, 2) * 2.0 - 1.0
            params = {
                "angle_deg": u_rot * self._scale("max_rotation_deg"),
                "shift": u_shift * self._scale("max_shift"),
                "scale": torch.ones(frame_shape),
            }
        elif name == "zoom_drift":
            ramp = _linear_ramp(t)
            zoom_out = rand(*lead) < 0.5
            prof = torch.where(zoom_out[..., None], ramp.flip(0), ramp)
            params = {
                "angle_deg": torch.zeros(frame_shape),
                "shift": torch.zeros(*frame_shape, 2),
                "scale": 1.0 + self._scale("zoom") * prof,
            }
        elif name == "frame_jitter":
            u = rand(*frame_shape)
            # A frame is dropped when u < p; the clip's largest-u frame is always kept. The
            # dropped sets are nested across severities, so each frame's lag only grows.
            kept = (u >= self._scale("probability")) | (u == u.amax(dim=-1, keepdim=True))
            tt = torch.arange(t).expand(frame_shape)
            prev = torch.where(kept, tt, -1).cummax(dim=-1).values
            nxt = torch.where(kept, tt, t).flip(-1).cummin(dim=-1).values.flip(-1)
            d_prev = torch.where(prev >= 0, tt - prev, t + 1)
            d_next = torch.where(nxt < t, nxt - tt, t + 1)
            tie_next = rand(*frame_shape) < 0.5
            use_next = (d_next < d_prev) | ((d_next == d_prev) & tie_next)
            params = {"index": torch.where(use_next, nxt, prev)}
        else:  # gaussian_noise
            # The full-size noise field is drawn where the video lives, from a seed drawn from
            # ``generator``: a CPU draw plus host→device copy of a paper-size batch would cost
            # more than the model. Same seed and device type → same noise; CPU and CUDA draw
            # different numbers from the same distribution.
            sub_seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=gdev))
            ndev = torch.device(device) if device is not None else torch.device("cpu")
            g_noise = torch.Generator(device=ndev).manual_seed(sub_seed)
            noise = torch.randn(shape, generator=g_noise, device=ndev)
            params = {"noise": noise.mul_(self._scale("sigma"))}
        if device is not None:
            params = {k: v.to(device) for k, v in params.items()}
        return params

    def transform(self, video: Tensor, params: Mapping[str, Tensor]) -> Tensor:
        """Apply the perturbation with given parameters (from :meth:`make_params`).

        Args:
            video: ``(*lead, T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
            params: kernel arguments as returned by :meth:`make_params`.

        Returns:
            A new tensor with the shape, dtype and device of ``video``.
        """
        _check_video(video)
        if self.severity == 0:
            return video.clone()
        name = self.name
        if name == "flash":
            return flash_kernel(video, params["weight"])
        if name == "exposure_drift":
            return exposure_kernel(video, params["gain"], params["contrast"])
        if name == "fade":
            return fade_kernel(video, params["weight"])
        if name in ("shake", "zoom_drift"):
            return affine_frames_kernel(
                video,
                angle_deg=params["angle_deg"],
                shift=params["shift"],
                scale=params["scale"],
                padding_mode=self.padding_mode,
            )
        if name == "frame_jitter":
            return gather_frames_kernel(video, params["index"])
        return gaussian_noise_kernel(video, params["noise"])

    def __call__(self, video: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Draw per-clip parameters and apply them (``transform(video, make_params(...))``)."""
        _check_video(video)
        params = self.make_params(video.shape, generator=generator, device=video.device)
        return self.transform(video, params)


def perturb(
    video: Tensor, name: str, severity: int, *, generator: torch.Generator | None = None
) -> Tensor:
    """Functional shortcut: ``TemporalPerturbation(name, severity)(video, generator=generator)``.

    Args:
        video: ``(*lead, T, C, H, W)`` uint8 in [0, 255] or float in [0, 1].
        name: one of :data:`PERTURBATIONS`.
        severity: 0–5 (0 returns a copy).
        generator: source of randomness.

    Returns:
        The perturbed copy, same shape, dtype and device.
    """
    return TemporalPerturbation(name, severity)(video, generator=generator)


# --------------------------------------------------------------------------------------------
# gallery figure
# --------------------------------------------------------------------------------------------


def plot_perturbation_gallery(
    clip: Tensor,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (0, 1, 2, 3, 4, 5),
    num_frames: int | None = None,
    frames_per_row: int = 8,
    seed: int = 0,
):
    """Draw each perturbation at each severity on one clip (the severity-scale gallery).

    Rows are perturbations, columns severities; each cell is a mosaic of ``num_frames`` evenly
    spaced frames (``frames_per_row`` per line, in reading order), so short events such as a
    one-frame flash are visible. One seed is used for every cell, so columns differ only by
    severity (common random numbers).

    Args:
        clip: ``(T, C, H, W)`` uint8 or float in [0, 1], C = 1 or 3.
        perturbations: names to show (rows).
        severities: severities to show (columns).
        num_frames: frames per cell (≤ T); default ``min(T, 16)`` (every frame when T ≤ 16).
        frames_per_row: frames per line of a cell's mosaic.
        seed: generator seed for every cell.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt

    _check_video(clip, "clip")
    if clip.ndim != 4:
        raise ValueError(f"clip must have shape (T, C, H, W), got {tuple(clip.shape)}")
    for p in perturbations:
        _check_name(p)
    for s in severities:
        _check_severity(s)
    t, c, h, w = clip.shape
    k = min(t, 16) if num_frames is None else num_frames
    if not 1 <= k <= t:
        raise ValueError(f"num_frames must be in [1, T={t}], got {num_frames}")
    if frames_per_row < 1:
        raise ValueError(f"frames_per_row must be >= 1, got {frames_per_row}")
    per_row = min(frames_per_row, k)
    rows = math.ceil(k / per_row)
    frame_idx = torch.linspace(0, t - 1, k).round().long()
    fig, axes = plt.subplots(
        len(perturbations),
        len(severities),
        figsize=(
            0.32 * per_row * len(severities) * w / h + 0.6,
            0.32 * rows * len(perturbations) + 0.5 * len(perturbations) + 0.4,
        ),
        squeeze=False,
    )
    g = torch.Generator()
    for i, name in enumerate(perturbations):
        for j, sev in enumerate(severities):
            out = perturb(clip[None].cpu(), name, sev, generator=g.manual_seed(seed))[0]
            frames = _to_float(out[frame_idx]).float().clamp(0, 1)  # (k, C, H, W)
            pad = torch.ones(rows * per_row - k, c, h, w)  # white fill for the last line
            mosaic = torch.cat([frames, pad]).reshape(rows, per_row, c, h, w)
            mosaic = mosaic.permute(0, 3, 1, 4, 2).reshape(rows * h, per_row * w, c)
            ax = axes[i][j]
            if c == 1:
                ax.imshow(mosaic[..., 0].numpy(), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(mosaic.numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"severity {sev}", fontsize=9)
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
    shown = "all frames" if k == t else f"frames {frame_idx.tolist()}"
    fig.suptitle(
        f"Temporal perturbations by severity — {shown} of a {t}-frame clip, left to right, "
        "top to bottom",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# evaluation under perturbation
# --------------------------------------------------------------------------------------------


def perturbation_seed(seed: int, name: str) -> int:
    """Seed of the generator that :func:`evaluate_robustness` uses for perturbation ``name``.

    Distinct per perturbation (so adding or removing one perturbation leaves the draws of the
    others unchanged) and a pure function of ``(seed, name)``.
    """
    _check_name(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    return seed * 1_000_003 + 7919 * (PERTURBATIONS.index(name) + 1)


@torch.no_grad()
def evaluate_robustness(
    model: torch.nn.Module,
    loader: Iterable,
    *,
    method: str,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    seed: int = 0,
    mean: Sequence[float] = (0.45, 0.45, 0.45),
    std: Sequence[float] = (0.225, 0.225, 0.225),
    device: torch.device | str = "cpu",
    max_clips_per_forward: int = 64,
    amp: bool = False,
) -> pd.DataFrame:
    """Multi-view evaluation of ``model`` on clean and perturbed copies of every clip.

    For each batch of raw views the clean views and, for each perturbation and severity, a
    perturbed copy are normalised (:func:`tempaug.data.transforms.normalize`) and classified;
    the softmax is averaged over the ``V`` views of a video by
    :func:`tempaug.train.evaluate.average_views` (paper Section 4.1: 10 clips, averaged
    softmax) and compared with the label. Perturbations act on the raw uint8/[0, 1] frames,
    *before* normalisation.

    Batches may hold whole videos or parts of them (per-clip items, as
    ``VideoClipDataset(eval_unit="clip")`` gives): each view's logits are kept until its video
    is complete, i.e. until a later batch starts with another video (the loader must keep the
    dataset order), so batch memory does not grow with the views per video.

    Randomness: one CPU generator per perturbation, seeded from ``(seed, perturbation)``; its
    state is rewound for every severity of a batch, so all severities see the same random
    pattern (common random numbers), and every model evaluated with the same ``seed`` and the
    same (unshuffled) loader sees exactly the same perturbed clips — the comparison between
    methods is paired. The draws depend on the batch shapes: change the batch size and the
    perturbed clips change (same distribution).

    Args:
        model: classifier taking normalised ``(N, T, C, H, W)`` float clips → logits ``(N, K)``
            (e.g. :class:`tempaug.models.SlowFastVideoClassifier`); put in eval mode here.
        loader: yields eval batches as :func:`tempaug.train.evaluate.view_batch` reads them:
            ``(views, label, index[, view])`` with ``views`` ``(B, G, T, C, H, W)`` uint8 or
            float in [0, 1] (or ``(B, T, C, H, W)``, one view), ``label`` ``(B,)``, ``index``
            ``(B,)`` video ids and ``view`` ``(B,)`` first view positions (per-clip items);
            must not shuffle.
        method: name stored in the ``method`` column.
        perturbations: names from :data:`PERTURBATIONS`.
        severities: severities from 1–5 (the clean pass is always added as severity 0).
        seed: base seed of the perturbation generators.
        mean, std: normalisation statistics (the ones the model was trained with).
        device: where the model runs.
        max_clips_per_forward: chunk size of ``B·G`` clips per forward pass.
        amp: CUDA autocast (bf16) for the forward pass.

    Returns:
        Per-video records: columns ``method, perturbation, severity, video, label, pred,
        correct`` — the input of :mod:`tempaug.analysis.robustness_metrics`; the clean pass is
        perturbation ``"clean"``, severity 0.

    Raises:
        ValueError: unknown perturbation, severity outside 1–5, or malformed batches.
    """
    from tempaug.data.transforms import normalize
    from tempaug.train.evaluate import average_views, view_batch, view_ids

    perturbations = [_check_name(p) for p in perturbations]
    severities = [_check_severity(s) for s in severities]
    if any(s == 0 for s in severities):
        raise ValueError("severities must lie in [1, 5]; the clean pass (0) is always added")
    if max_clips_per_forward < 1:
        raise ValueError(f"max_clips_per_forward must be >= 1, got {max_clips_per_forward}")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    gens = {p: torch.Generator().manual_seed(perturbation_seed(seed, p)) for p in perturbations}
    conditions = [("clean", 0)] + [(p, s) for p in perturbations for s in severities]
    rows: list[dict] = []
    # per condition: the logits of the views whose video is not complete yet
    open_logits: dict[tuple[str, int], list[Tensor]] = {c: [] for c in conditions}
    open_ids: list[Tensor] = []  # (video, view) ids of those views, shape (2, n)
    labels_of: dict[int, int] = {}

    def forward(flat: Tensor) -> Tensor:
        """Float32 logits of normalised clips ``(N, T, C, H, W)``, in chunks."""
        out = []
        for chunk in flat.split(max_clips_per_forward):
            with torch.autocast(
                device_type=device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"
            ):
                out.append(model(chunk).float())
        return torch.cat(out)

    def emit(keep_video: int | None) -> None:
        """Average and record every open video except ``keep_video`` (still incomplete)."""
        if not open_ids:
            return
        ids = torch.cat(open_ids, dim=1)
        done = (
            ids[0] != keep_video
            if keep_video is not None
            else torch.ones_like(ids[0], dtype=torch.bool)
        )
        if not bool(done.any()):
            return
        for cond in conditions:
            logits = torch.cat(open_logits[cond])
            videos, scores = average_views(logits[done], ids[0][done], ids[1][done])
            open_logits[cond] = [logits[~done]]
            pert, sev = cond
            for vid, prd in zip(videos.tolist(), scores.argmax(-1).tolist(), strict=True):
                lab = labels_of[vid]
                rows.append(
                    {
                        "method": method,
                        "perturbation": pert,
                        "severity": sev,
                        "video": vid,
                        "label": lab,
                        "pred": prd,
                        "correct": int(prd == lab),
                    }
                )
        open_ids[:] = [ids[:, ~done]]

    try:
        for batch in loader:
            views, label, index, first = view_batch(batch)
            views = views.to(device, non_blocking=True)
            b, g = views.shape[:2]
            for vid, lab in zip(index.tolist(), label.tolist(), strict=True):
                labels_of[vid] = lab
            vid, view = view_ids(index.long().cpu(), first.long().cpu(), g)
            open_ids.append(torch.stack([vid, view]).to(device))
            # Conditions are queued and classified together, so small eval batches still make
            # full forward passes; the queue holds about max_clips_per_forward clips at a time.
            pending: list[tuple[tuple[str, int], Tensor]] = []

            def flush(pending=pending, b=b, g=g) -> None:
                if not pending:
                    return
                logits = forward(torch.cat([x for _, x in pending]))
                for (cond, _), part in zip(pending, logits.split(b * g), strict=True):
                    open_logits[cond].append(part)
                pending.clear()

            def queue(cond: tuple[str, int], x: Tensor, pending=pending, flush=flush) -> None:
                pending.append((cond, normalize(x.flatten(0, 1), mean, std)))
                if len(pending) * x.shape[0] * x.shape[1] >= max_clips_per_forward:
                    flush()

            queue(("clean", 0), views)
            for pert in perturbations:
                gen = gens[pert]
                state = gen.get_state()
                for sev in severities:
                    gen.set_state(state)
                    queue((pert, sev), TemporalPerturbation(pert, sev)(views, generator=gen))
            flush()
            # whole-video items are complete; per-clip items may continue in the next batch
            emit(int(index[-1]) if len(batch) == 4 else None)
        emit(None)
    finally:
        model.train(was_training)
    return pd.DataFrame(
        rows, columns=["method", "perturbation", "severity", "video", "label", "pred", "correct"]
    )


# --------------------------------------------------------------------------------------------
# trained runs
# --------------------------------------------------------------------------------------------


def load_trained_model(
    checkpoint: str | os.PathLike, *, device: torch.device | str = "cpu"
) -> torch.nn.Module:
    """Rebuild a model from a checkpoint written by :func:`tempaug.train.fit`, in eval mode.

    The architecture comes from the checkpoint's ``model_name`` / ``model_kwargs`` and is built
    with :func:`tempaug.models.build_model`.

    Args:
        checkpoint: path of a ``.pt`` file (e.g. ``runs/<run_id>/checkpoints/last.pt``).
        device: where the model goes.

    Returns:
        The model, on ``device``, in eval mode.

    Raises:
        ValueError: the file is missing or is not a tempaug checkpoint.
    """
    from tempaug.models import build_model
    from tempaug.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint, map_location="cpu")
    for key in ("model", "model_name", "model_kwargs"):
        if key not in state:
            raise ValueError(f"checkpoint {str(checkpoint)!r} has no {key!r} entry")
    kwargs = dict(state["model_kwargs"])
    num_classes = kwargs.pop("num_classes")
    model = build_model(state["model_name"], num_classes, **kwargs)
    model.load_state_dict(state["model"])
    return model.to(device).eval()


def evaluate_checkpoint(
    cfg,
    checkpoint: str | os.PathLike,
    *,
    method: str,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    seed: int = 0,
    device: torch.device | str = "cpu",
    max_videos: int = 0,
    batch_size: int | None = None,
    num_workers: int | None = None,
) -> pd.DataFrame:
    """Robustness records of one trained run on its validation videos (Section 4.6 suite).

    Loads the checkpoint (:func:`load_trained_model`), builds the run's evaluation dataset
    (``cfg.data.val_table``, ``cfg.eval.num_clips × num_crops`` views, uint8 output, one clip's
    crops per item, via :func:`tempaug.train.loaders.build_eval_dataset`; loaded by
    :func:`tempaug.data.datasets.make_loader`) and runs :func:`evaluate_robustness` with the
    run's normalisation statistics. The perturbation is applied to the raw frames before
    normalisation, which the trainer's evaluator offers no hook for — hence this loop.

    Args:
        cfg: the run's :class:`tempaug.train.TrainConfig` (``data.val_table`` and
            ``data.video_root`` set).
        checkpoint: the run's checkpoint.
        method: label for the ``method`` column.
        perturbations: perturbation names.
        severities: severities 1–5.
        seed: perturbation seed (use the same for every method: paired comparison).
        device: where the model runs.
        max_videos: evaluate at most this many videos, evenly spaced over the table
            (0 = all).
        batch_size: clips per batch, ``num_crops`` views each (default ``cfg.eval.batch_size``).
        num_workers: DataLoader workers (default ``cfg.data.num_workers``).

    Returns:
        Records as :func:`evaluate_robustness`, with ``video`` the video's path (unique id).
    """
    from tempaug.data.datasets import make_loader
    from tempaug.train.loaders import build_eval_dataset, load_tables

    if max_videos < 0:
        raise ValueError(f"max_videos must be >= 0, got {max_videos}")
    tables = load_tables(cfg.data, need_train=False)
    if tables.val is None:
        raise ValueError("cfg.data.val_table must be set to evaluate robustness")
    table = tables.val.reset_index(drop=True)
    if 0 < max_videos < len(table):
        rows = torch.linspace(0, len(table) - 1, max_videos).round().long().unique().tolist()
        table = table.iloc[rows].reset_index(drop=True)
        table.attrs = dict(tables.val.attrs)
    dataset = build_eval_dataset(
        cfg, table, num_clips=cfg.eval.num_clips, num_crops=cfg.eval.num_crops
    )
    loader = make_loader(
        dataset,
        batch_size=batch_size or cfg.eval.batch_size,
        train=False,
        seed=cfg.seed,
        num_workers=cfg.data.num_workers if num_workers is None else num_workers,
        pin_memory=torch.device(device).type == "cuda",
    )
    model = load_trained_model(checkpoint, device=device)
    records = evaluate_robustness(
        model,
        loader,
        method=method,
        perturbations=perturbations,
        severities=severities,
        seed=seed,
        mean=cfg.data.mean,
        std=cfg.data.std,
        device=device,
        amp=torch.device(device).type == "cuda" and cfg.runtime.amp,
    )
    videos = dataset.videos
    records["video"] = [videos[i] for i in records["video"]]
    return records
