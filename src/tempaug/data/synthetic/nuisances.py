"""Class-independent nuisances of a generated video: strengths, draws and their application.

The nuisances imitate what RandAugment-T varies over a clip (Kim et al., Sec. 3.1: brightness,
colour, contrast and affine operations whose magnitude varies over time) and what real footage
has (camera motion, lighting change, occlusion, untrimmed actions). :func:`sample_nuisances`
never sees the class, so every class has the same nuisance distribution.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import torch

from .motions import _tau
from .rng import _colour, _seeded, _u

__all__ = ["NUISANCE_KINDS", "NuisanceDraw", "Nuisances", "sample_nuisances"]


@dataclass(frozen=True)
class Nuisances:
    """Strengths of the class-independent nuisances of a generated video (all >= 0).

    Each video draws its own realisation from its nuisance generator; a strength sets the range
    of those draws (0 switches the kind off). Brightness and colour units are relative gains
    (1 unit = 100 % of the pixel value); geometric units are fractions of the frame's short side.

    Attributes:
        drift: Slow illumination change. The brightness gain follows a smooth (cosine-interpolated)
            curve through three knots at the start, middle and end of the video, each drawn
            uniformly in ``[1 - drift, 1 + drift]``. At most 0.9.
        flicker: Frame-to-frame brightness jitter: each frame's gain is multiplied by
            ``1 + s * N(0, 1)`` (clipped at 3 sigma), with the video's ``s`` drawn in
            ``[flicker / 2, flicker]``; on top of the always-present 4 % sensor gain noise. At
            most 0.3.
        shake: Camera shake: a smooth random walk (AR(1), coefficient 0.75) of whole-frame
            translations whose RMS per axis is drawn in ``[shake / 2, shake]`` of the short side
            (clipped at 2.5 RMS; borders are replicated). At most 0.2.
        zoom: Gradual zoom: the frame is magnified about a random centre by a scale moving smoothly
            between two values drawn in ``[1, 1 + zoom]`` (``0.2``: up to 1.2x). At most 1.
        occluder: Probability that a semi-opaque bar (opacity 0.6-1, random colour, 10-25 % of
            the frame wide and 50-100 % long, so it covers at most 1/4 of it) crosses the frame,
            horizontally or vertically in either direction, during a random 30-60 % of the video
            (placed uniformly inside it).
        colour: Static colour cast: per-channel gains drawn in ``[1 - colour, 1 + colour]``.
            At most 0.9.
        contrast: Static contrast change about the background's mean: factor drawn in
            ``[1 - contrast, 1 + contrast]``. At most 0.9.
        partial: Probability that the action fills only part of the clip: the object's
            dynamics run over a random sub-interval covering 40-80 % of the video, and its
            state is held constant before and after.
    """

    drift: float = 0.0
    flicker: float = 0.0
    shake: float = 0.0
    zoom: float = 0.0
    occluder: float = 0.0
    colour: float = 0.0
    contrast: float = 0.0
    partial: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            hi = _NUISANCE_MAX[f.name]
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
                or not 0.0 <= value <= hi
            ):
                raise ValueError(
                    f"nuisance {f.name!r} must be a number in [0, {hi}], got {value!r}"
                )
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def none(cls) -> Nuisances:
        """Every strength zero: the nuisance-free rendering (generator version 3's frames)."""
        return cls()

    @classmethod
    def natural(cls) -> Nuisances:
        """The documented moderate default strengths (classes stay recognisable at 32x42 px).

        ``drift=0.25, flicker=0.05, shake=0.03, zoom=0.2, occluder=0.4, colour=0.15,
        contrast=0.3, partial=0.5``.
        """
        return cls(**_NATURAL)

    @classmethod
    def only(cls, kind: str, value: float | None = None) -> Nuisances:
        """One kind at its natural strength (or at ``value``), every other kind off."""
        if kind not in _NATURAL:
            raise ValueError(f"unknown nuisance kind {kind!r}; known: {', '.join(NUISANCE_KINDS)}")
        return cls(**{kind: _NATURAL[kind] if value is None else value})

    @classmethod
    def resolve(cls, spec: Nuisances | str | Mapping[str, float]) -> Nuisances:
        """A :class:`Nuisances` from itself, a preset name or a mapping (missing fields are 0).

        Raises:
            ValueError: an unknown preset or field, or a value out of range.
        """
        if isinstance(spec, Nuisances):
            return spec
        if isinstance(spec, str):
            if spec not in _PRESETS:
                raise ValueError(f"nuisances preset must be one of {_PRESETS}, got {spec!r}")
            return cls.none() if spec == "none" else cls.natural()
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - set(NUISANCE_KINDS))
            if unknown:
                raise ValueError(
                    f"unknown nuisance field(s) {unknown}; known: {', '.join(NUISANCE_KINDS)}"
                )
            return cls(**spec)
        raise ValueError(
            f"nuisances must be a Nuisances, a preset name {_PRESETS} or a mapping, got {spec!r}"
        )

    @property
    def active(self) -> bool:
        """Whether any strength is non-zero."""
        return any(getattr(self, k) > 0 for k in NUISANCE_KINDS)


#: Nuisance kinds, in the order of :class:`Nuisances`' fields.
NUISANCE_KINDS: tuple[str, ...] = (
    "drift",
    "flicker",
    "shake",
    "zoom",
    "occluder",
    "colour",
    "contrast",
    "partial",
)
_NUISANCE_MAX = {
    "drift": 0.9,
    "flicker": 0.3,
    "shake": 0.2,
    "zoom": 1.0,
    "occluder": 1.0,
    "colour": 0.9,
    "contrast": 0.9,
    "partial": 1.0,
}
_NATURAL = {
    "drift": 0.25,
    "flicker": 0.05,
    "shake": 0.03,
    "zoom": 0.2,
    "occluder": 0.4,
    "colour": 0.15,
    "contrast": 0.3,
    "partial": 0.5,
}
_PRESETS = ("none", "natural")


@dataclass(frozen=True)
class NuisanceDraw:
    """One video's nuisance realisation (see :func:`sample_nuisances`), in forward time order.

    Attributes:
        gain: ``(T,)`` brightness gain per frame (drift times flicker; ones when both are off).
        colour: ``(3,)`` per-channel gain of the colour cast.
        contrast: Contrast factor about the background's mean.
        theta: ``(T, 2, 3)`` affine matrices of ``torch.nn.functional.affine_grid`` (shake and
            zoom; output to input, normalised coordinates), or ``None`` when both are off.
        occluder: The bar's parameters when one crosses this video, else ``None``: ``axis``
            (0: a vertical bar moving along x, 1: a horizontal bar moving along y), ``pos``
            ``(T,)`` centre along the motion axis (pixels; far outside when absent), ``cross``
            centre across it, ``half_width``, ``half_length`` (pixels), ``opacity``, ``rgb``
            ``(3,)``.
        action: ``(start, stop)``: frames ``start .. stop - 1`` show the action (the whole video
            unless ``partial`` chose a sub-interval).
    """

    gain: np.ndarray
    colour: np.ndarray
    contrast: float
    theta: np.ndarray | None
    occluder: dict[str, object] | None
    action: tuple[int, int]

    @property
    def photometric(self) -> bool:
        """Whether any brightness, colour or contrast change applies."""
        return bool(self.contrast != 1.0 or np.any(self.colour != 1.0) or np.any(self.gain != 1.0))


def _smooth(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)


def sample_nuisances(
    nuisances: Nuisances | str | Mapping[str, float],
    generator: torch.Generator,
    num_frames: int,
    height: int,
    width: int,
) -> NuisanceDraw:
    """Draw one video's nuisances (no class argument: the draws cannot depend on the class).

    Every kind draws from its own sub-generator, seeded from one draw of ``generator``, and draws
    the same values whatever the strengths (a strength only scales them). So ``Nuisances.only(k)``
    and ``Nuisances.natural()`` give kind ``k`` the same realisation, and the scalar draws do not
    depend on ``num_frames``.

    Every process is *time-reversible in distribution* (i.i.d. knots and jitter, a stationary
    AR(1) walk, symmetric ramps, an occluder interval and a partial-action interval placed
    uniformly inside the video, either crossing direction): a time-reversed class, which shows
    its partner's nuisances backwards, therefore sees the same nuisance distribution as every
    other class.
    """
    nu = Nuisances.resolve(nuisances)
    t, h, w = num_frames, height, width
    base = int(torch.randint(0, 2**62, (1,), generator=generator))
    gens = {k: _seeded(base & 0xFFFFFFFF, base >> 32, i) for i, k in enumerate(NUISANCE_KINDS)}
    tau = _tau(t)

    # Illumination: drift (three knots, cosine-interpolated) times flicker.
    g = gens["drift"]
    knots = np.array([_u(g, -1.0, 1.0) for _ in range(3)]) * nu.drift
    half = np.minimum(tau / 0.5, 1.0), np.clip((tau - 0.5) / 0.5, 0.0, 1.0)
    ease = [(1.0 - np.cos(math.pi * x)) / 2.0 for x in half]
    drift = np.where(
        tau <= 0.5,
        knots[0] + (knots[1] - knots[0]) * ease[0],
        knots[1] + (knots[2] - knots[1]) * ease[1],
    )
    g = gens["flicker"]
    flick_s = nu.flicker * _u(g, 0.5, 1.0)
    eps = torch.randn(t, generator=g, dtype=torch.float64).numpy().clip(-3.0, 3.0)
    gain = ((1.0 + drift) * (1.0 + flick_s * eps)).astype(np.float32)

    # Camera: shake (AR(1) random walk, pixels) and zoom (scale about a random centre).
    g = gens["shake"]
    rms = nu.shake * _u(g, 0.5, 1.0) * min(h, w)
    rho = 0.75
    e = torch.randn(t, 2, generator=g, dtype=torch.float64).numpy()
    walk = np.empty((t, 2))
    walk[0] = e[0]
    for i in range(1, t):
        walk[i] = rho * walk[i - 1] + math.sqrt(1.0 - rho * rho) * e[i]
    shift = np.clip(walk, -2.5, 2.5) * rms  # pixels, (dx, dy)
    g = gens["zoom"]
    za, zb = _u(g), _u(g)
    centre = np.array([_u(g, -1.0, 1.0), _u(g, -1.0, 1.0)])
    scale = 1.0 + nu.zoom * (za + (zb - za) * _smooth(tau))
    theta = None
    if nu.shake > 0 or nu.zoom > 0:
        inv = 1.0 / scale
        theta = np.zeros((t, 2, 3), dtype=np.float32)
        theta[:, 0, 0] = theta[:, 1, 1] = inv
        theta[:, 0, 2] = centre[0] * (1.0 - inv) + 2.0 * shift[:, 0] / w
        theta[:, 1, 2] = centre[1] * (1.0 - inv) + 2.0 * shift[:, 1] / h

    # Occluder: a bar crossing the frame during a random interval.
    g = gens["occluder"]
    present = _u(g) < nu.occluder
    axis = 0 if _u(g) < 0.5 else 1
    forward = _u(g) < 0.5
    along, across = (w, h) if axis == 0 else (h, w)
    half_width = 0.5 * _u(g, 0.1, 0.25) * along
    half_length = 0.5 * _u(g, 0.5, 1.0) * across
    cross = _u(g, half_length, across - half_length)
    opacity, rgb = _u(g, 0.6, 1.0), _colour(g).astype(np.float32)
    dur = _u(g, 0.3, 0.6)
    start = _u(g, 0.0, 1.0 - dur)  # interval inside the video, symmetric under time reversal
    f = (tau - start) / dur
    pos = -half_width + f * (along + 2.0 * half_width)
    pos = np.where((f >= 0.0) & (f <= 1.0), pos if forward else along - pos, -1e4)
    occluder = None
    if present:
        occluder = {
            "axis": axis,
            "pos": pos.astype(np.float32),
            "cross": cross,
            "half_width": half_width,
            "half_length": half_length,
            "opacity": opacity,
            "rgb": rgb,
        }

    # Static colour cast and contrast.
    g = gens["colour"]
    r3 = torch.rand(3, generator=g, dtype=torch.float64).numpy()
    colour = (1.0 + nu.colour * (2.0 * r3 - 1.0)).astype(np.float32)
    g = gens["contrast"]
    contrast = 1.0 + nu.contrast * _u(g, -1.0, 1.0)

    # Partial action: the dynamics run over frames start .. stop - 1 only.
    g = gens["partial"]
    partial = _u(g) < nu.partial
    frac, where = _u(g, 0.4, 0.8), _u(g)
    action = (0, t)
    if partial:
        n = min(max(2, round(frac * t)), t)
        s0 = round(where * (t - n))
        action = (s0, s0 + n)
    return NuisanceDraw(gain, colour, float(contrast), theta, occluder, action)


def _apply_nuisances(
    frames: np.ndarray,
    draw: NuisanceDraw,
    sl: slice,
    xx: np.ndarray,
    yy: np.ndarray,
    pivot: float,
    warp: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Occluder, camera (shake, zoom) then illumination/colour/contrast on float frames.

    ``warp``: the video's ``(ry, rx)`` resampling matrices (:func:`_warp_matrices`), if known.
    """
    occ = draw.occluder
    if occ is not None and np.any(occ["pos"][sl] > -1e3):
        pos = occ["pos"][sl][:, None, None]
        a, b = (xx, yy) if occ["axis"] == 0 else (yy, xx)
        cov_a = np.clip(0.5 + occ["half_width"] - np.abs(a[None] - pos), 0.0, 1.0)
        cov_b = np.clip(0.5 + occ["half_length"] - np.abs(b - occ["cross"]), 0.0, 1.0)
        cov = (cov_a * cov_b[None] * occ["opacity"]).astype(np.float32)[..., None]
        frames = frames + cov * (occ["rgb"] - frames)
    if draw.theta is not None:
        n, h, w, c = frames.shape
        ry, rx = warp if warp is not None else _warp_matrices(draw.theta, h, w)
        ry, rx = ry[sl].astype(frames.dtype), rx[sl].astype(frames.dtype)
        tmp = np.matmul(ry, frames.reshape(n, h, w * c)).reshape(n, h, w, c)
        tmp = np.ascontiguousarray(tmp.transpose(0, 2, 1, 3)).reshape(n, w, h * c)
        frames = np.matmul(rx, tmp).reshape(n, w, h, c).transpose(0, 2, 1, 3)
    if draw.photometric:  # ((x - pivot) * contrast + pivot) * colour * gain, fused
        n, h, w, c = frames.shape
        k = draw.contrast
        # per-frame, per-channel gain tiled along rows (long inner loops, not 3-channel ones)
        g = np.tile(draw.colour[None, :] * draw.gain[sl, None], (1, w))[:, None, :]
        frames = frames.reshape(n, h, w * c) * (k * g) + (pivot * (1.0 - k)) * g
        frames = frames.reshape(n, h, w, c)
    return frames


def _warp_matrices(theta: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """``(T, H, H)`` and ``(T, W, W)`` resampling matrices of axis-aligned affine maps."""
    th = theta.astype(np.float64)
    return _resampler(th[:, 1, 1], th[:, 1, 2], h), _resampler(th[:, 0, 0], th[:, 0, 2], w)


def _resampler(scale: np.ndarray, shift: np.ndarray, size: int) -> np.ndarray:
    """``(n, size, size)`` bilinear resampling matrices along one axis.

    Output pixel ``i`` (normalised coordinate ``x``) reads the input at ``scale * x + shift``, with
    ``affine_grid``/``grid_sample`` conventions (``align_corners=False``, border padding): the
    separable equivalent of ``grid_sample`` for an axis-aligned affine map, as matrix products.
    """
    x = (2.0 * np.arange(size) + 1.0) / size - 1.0
    src = scale[:, None] * x[None] + shift[:, None]
    pix = np.clip(((src + 1.0) * size - 1.0) / 2.0, 0.0, size - 1.0)
    i0 = np.floor(pix).astype(np.int64)
    frac = pix - i0
    i1 = np.minimum(i0 + 1, size - 1)
    n = len(scale)
    m = np.zeros((n, size, size), dtype=np.float32)
    tt, ii = np.arange(n)[:, None], np.arange(size)[None, :]
    m[tt, ii, i1] = frac
    m[tt, ii, i0] += 1.0 - frac  # i0 == i1 at the clamped border: weights add up to 1
    return m
