"""Temporal perturbations of video clips (tests the claim of Kim et al. 2020, Section 4.6).

Section 4.6 of the paper argues that the gains of temporal augmentation are small because
UCF-101 and HMDB-51 "have little temporal perturbations". This module makes temporal
perturbation explicit: every trained model is evaluated on copies of its validation clips
corrupted by the perturbations below, each at severities 1–5, in the style of ImageNet-C
(Hendrycks & Dietterich, ICLR 2019). The evaluation lives in
:mod:`~tempaug.analysis.robustness.evaluation`, the metrics in
:mod:`~tempaug.analysis.robustness.metrics`, the severity gallery in
:mod:`~tempaug.analysis.robustness.report`.

Design (the package's one convention for random transforms, :class:`tempaug.augment.VideoTransform`):

* **Functional kernels** (:func:`flash_kernel`, :func:`exposure_kernel`, :func:`fade_kernel`,
  :func:`affine_frames_kernel`, :func:`gather_frames_kernel`, :func:`gaussian_noise_kernel`)
  are pure: explicit per-frame parameters in, a new tensor out, no RNG.
* :class:`TemporalPerturbation`, a ``torchvision.transforms.v2.Transform``, owns the randomness:
  :meth:`~TemporalPerturbation.draw_params` draws per-clip parameters from a ``torch.Generator``
  (on the generator's device, then moved to the video's device, so CPU and CUDA give the same
  perturbation; ``make_params``, torchvision's hook, calls it for a sample's video),
  :meth:`~TemporalPerturbation.transform` applies the kernel, and
  ``TemporalPerturbation(name, severity)(video, generator=g)`` does both.

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
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from tempaug.augment._transform import VideoTransform, rewrap, unwrap

__all__ = [
    "CONTROL_PERTURBATIONS",
    "PERTURBATIONS",
    "SEVERITIES",
    "SEVERITY_SCALES",
    "TEMPORAL_PERTURBATIONS",
    "TemporalPerturbation",
    "affine_frames_kernel",
    "exposure_kernel",
    "fade_kernel",
    "flash_kernel",
    "gather_frames_kernel",
    "gaussian_noise_kernel",
    "perturb",
    "perturbation_seed",
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


class TemporalPerturbation(VideoTransform):
    """A named perturbation at a fixed severity, with per-clip random parameters.

    ``draw_params`` draws per-clip parameters from a ``torch.Generator``, ``transform`` applies
    the pure kernel, ``aug(video, generator=g)`` does both (a torchvision v2 transform, so it
    composes in ``v2.Compose`` and keeps a ``tv_tensors.Video`` one). Every clip
    of a batch ``(*lead, T, C, H, W)`` — every view of every video for ``(B, V, T, C, H, W)`` —
    gets its own draw. Severity 0 is the identity (a copy, no random draws).

    Args:
        name: one of :data:`PERTURBATIONS`.
        severity: one of :data:`SEVERITIES` (0–5).
        padding_mode: ``grid_sample`` padding for ``shake`` (see :func:`affine_frames_kernel`).

    Raises:
        ValueError: unknown name or severity outside 0–5 (the message lists the allowed values).
    """

    _input_name = "video"

    def __init__(self, name: str, severity: int, padding_mode: str = "reflection") -> None:
        super().__init__()
        _check_name(name)
        _check_severity(severity)
        if padding_mode not in ("reflection", "border", "zeros"):
            raise ValueError(
                f"padding_mode must be one of 'reflection', 'border', 'zeros', got {padding_mode!r}"
            )
        self.name = name
        self.severity = severity
        self.padding_mode = padding_mode

    def extra_repr(self) -> str:
        """The constructor arguments, as the repr shows them."""
        return f"name={self.name!r}, severity={self.severity!r}, padding_mode={self.padding_mode!r}"

    def _scale(self, key: str) -> float:
        return SEVERITY_SCALES[self.name][key][self.severity - 1]

    def check_videos(self, videos: list[Tensor]) -> None:
        """Shape and dtype checks, before anything is drawn."""
        for video in videos:
            _check_video(video)

    def make_params(
        self, flat_inputs: list[Any], generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """torchvision v2 hook: :meth:`draw_params` for the sample's video, on its device."""
        self.check_videos(flat_inputs)
        if not flat_inputs:
            raise ValueError("TemporalPerturbation found no video in the sample")
        video = flat_inputs[0]
        return self.draw_params(video.shape, generator=generator, device=video.device)

    def draw_params(
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

    def transform(self, inpt: Any, params: Mapping[str, Tensor]) -> Any:
        """Apply the perturbation with given parameters (from :meth:`draw_params`).

        Args:
            inpt: ``(*lead, T, C, H, W)`` uint8 in [0, 255] or float in [0, 1] (a
                ``tv_tensors.Video`` stays one).
            params: kernel arguments as returned by :meth:`draw_params`.

        Returns:
            A new tensor with the shape, dtype and device of ``inpt``.
        """
        return rewrap(self._transform(unwrap(inpt), params), like=inpt)

    def _transform(self, video: Tensor, params: Mapping[str, Tensor]) -> Tensor:
        """:meth:`transform` on a plain tensor."""
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
# seeds
# --------------------------------------------------------------------------------------------


def perturbation_seed(seed: int, name: str) -> int:
    """Seed of the generator that
    :func:`~tempaug.analysis.robustness.evaluation.evaluate_robustness` uses for ``name``.

    Distinct per perturbation (so adding or removing one perturbation leaves the draws of the
    others unchanged) and a pure function of ``(seed, name)``.
    """
    _check_name(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    return seed * 1_000_003 + 7919 * (PERTURBATIONS.index(name) + 1)
