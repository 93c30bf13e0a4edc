"""A generated video dataset written in the real UCF-101 / HMDB-51 layouts (the embedded default).

Machines without UCF-101 or HMDB-51 run every stage on this dataset, through the *same* code as
the real data: real video files (MPEG-4 Part 2 in AVI, like UCF-101's XviD files, encoded with
PyAV and decodable by any FFmpeg build) and split lists in exactly the official formats, parsed by
:mod:`tempaug.data.splits` and decoded by :mod:`tempaug.data.video`.

Classes are defined by **temporal structure only**: each video shows one object (random shape,
colour and stripe texture) among static distractor shapes on a random textured background, with
per-frame sensor noise and brightness flicker (and optional nuisances, below). What distinguishes
the classes is how the object changes over time: direction (``MoveUp``), speed profile (``SpeedUp``), order of events
(``StartMoving``), rotation (``Spin``), appear/vanish timing (``Appear``) and so on. Six classes are
exact time reversals of six others (``MoveDown`` is ``MoveUp`` played backwards, with the same
random draws), so within such a pair the *set* of frames has the same distribution: no single
frame, and no statistic pooled over time without order, can separate them (tested). Across the
other classes, single frames show the same kinds of objects, backgrounds and distractors (no class
has its own colours or shapes), so a frame alone carries about chance-level information (tested
on the first six classes). Classes are invariant under horizontal flip (directions are vertical or random), so the paper's flip
augmentation never changes a label. Video lengths vary in ``[frames / 2, 3 * frames / 2]``, so some
are shorter than a training clip and get looped.

Deterministic: the same arguments give the same decoded frames (and, with the same FFmpeg build,
the same bytes). Each video's content depends only on ``(seed, class, clip)``, and every video
draws its own scene (background and object appearance) from a generator separate from its
dynamics. So no scene can stand in for a class and the model has as many scenes to generalise
from as videos. (Generator version 1 shared a scene per UCF-101 group and class, as real groups
share an actor and a place: small models memorised the scenes and stayed at chance on the unseen
validation groups. Sharing one scene across all classes of a group instead left only nine
training scenes, which they overfit. The group-wise split lists are unchanged.)

Natural temporal variation (generator version 4): besides the always-present sensor noise (a 4 %
per-frame gain jitter and 2 % luminance noise), every video can carry *nuisances* that real footage
has and that the paper's RandAugment-T imitates (Sec. 3.1: brightness, colour, contrast and affine
operations whose magnitude varies over the clip), chosen with :class:`Nuisances`:

* illumination ``drift`` (slow brightness change: lighting, auto-exposure) and ``flicker``
  (frame-to-frame brightness jitter: fluorescent light, compression) — RandAugment-T's temporally
  varying *Brightness*;
* camera ``shake`` (a smooth random walk of small translations: hand-held camera) and ``zoom``
  (a gradual scale change about a random centre: zooming camera) — its temporally varying
  *TranslateX/Y* and affine operations;
* an ``occluder`` (a semi-opaque bar of random colour passing through the frame during a random
  interval: someone walking past the camera) in a fraction of videos;
* static ``colour`` cast (white balance) and ``contrast`` — its *Color* and *Contrast*;
* ``partial`` action: in a fraction of videos the object's dynamics run over a random
  sub-interval only (the state is held before and after), so temporal localisation matters, as in
  untrimmed real clips.

Nuisances are drawn *independently per video* (a generator of their own, keyed on ``(seed,
class, clip)``) by one procedure that never sees the class (:func:`sample_nuisances`), so every
class has the same nuisance distribution and no nuisance statistic can reveal the label. They are applied inside the forward rendering, so a time-
reversed class is still exactly the frame reversal of its partner (its drift runs backwards); every
nuisance process is time-reversible in distribution, so running backwards reveals nothing. With
every strength zero (``Nuisances.none()``, the default) the frames are exactly those of version 3.

Idempotent: a manifest written last marks a complete dataset; calling :func:`generate` again with
the same arguments returns immediately, so DVC stages and notebooks can call it freely.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from io import BytesIO
from pathlib import Path
from typing import Literal

import av
import numpy as np
import pandas as pd
import torch

from tempaug.io import atomic_write_bytes, atomic_write_text

from . import splits

__all__ = [
    "CLASSES",
    "NUISANCE_KINDS",
    "REVERSE_OF",
    "SCENES",
    "GeneratedDataset",
    "NuisanceDraw",
    "Nuisances",
    "class_names",
    "generate",
    "object_state",
    "render",
    "sample_nuisances",
]

GENERATOR_VERSION = 4
FPS = 25
CODEC = "mpeg4"
UCF_GROUPS = 25  # g01..g25; split k tests groups 7(k-1)+1 .. 7k (as the official lists)


# --------------------------------------------------------------------------- random helpers


def _seeded(*key: int) -> torch.Generator:
    state = np.random.SeedSequence(list(key)).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed((int(state[0]) << 31) ^ int(state[1]))


def _u(g: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g, dtype=torch.float64))


def _randint(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in ``[lo, hi]``."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def _sign(g: torch.Generator) -> float:
    return 1.0 if _u(g) < 0.5 else -1.0


# --------------------------------------------------------------------------- object dynamics
# A program maps (generator, T, H, W, r0) to per-frame state arrays (T,):
#   cx, cy (pixels), r (radius, pixels), angle (radians), alpha (opacity in [0, 1]).

State = dict[str, np.ndarray]


def _tau(t: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, t)


def _still(t: int, x: float, y: float, r: float) -> State:
    return {
        "cx": np.full(t, x),
        "cy": np.full(t, y),
        "r": np.full(t, r),
        "angle": np.zeros(t),
        "alpha": np.ones(t),
    }


def _segment(
    g: torch.Generator, h: int, w: int, m: float, min_frac: float, theta: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A random segment ``a -> b`` inside the frame (margin ``m``), length >= ``min_frac`` of max."""
    bw, bh = max(w - 2 * m, 1.0), max(h - 2 * m, 1.0)
    if theta is None:
        theta = _u(g, 0.0, 2 * math.pi)
    c, s = math.cos(theta), math.sin(theta)
    lmax = min(bw / max(abs(c), 1e-6), bh / max(abs(s), 1e-6))
    length = _u(g, min_frac, 1.0) * lmax
    ex, ey = length * c, length * s
    x0 = m + _u(g) * (bw - abs(ex)) + max(-ex, 0.0)
    y0 = m + _u(g) * (bh - abs(ey)) + max(-ey, 0.0)
    return np.array([x0, y0]), np.array([x0 + ex, y0 + ey])


def _along(a: np.ndarray, b: np.ndarray, f: np.ndarray, st: State) -> State:
    st["cx"] = a[0] + (b[0] - a[0]) * f
    st["cy"] = a[1] + (b[1] - a[1]) * f
    return st


def _drift(g: torch.Generator, t: int, h: int, w: int, m: float, r: float) -> State:
    a, b = _segment(g, h, w, m, 0.0)
    b = a + (b - a) * _u(g, 0.1, 0.3)  # slow drift
    return _along(a, b, _tau(t), _still(t, 0.0, 0.0, r))


def _move_up(g, t, h, w, r):
    a, b = _segment(g, h, w, r + 2, 0.5, theta=-math.pi / 2 + _u(g, -0.15, 0.15))
    return _along(a, b, _tau(t), _still(t, 0, 0, r))


def _speed_up(g, t, h, w, r):
    a, b = _segment(g, h, w, r + 2, 0.6)
    return _along(a, b, _tau(t) ** 2, _still(t, 0, 0, r))


def _grow(g, t, h, w, r):
    lo, hi = 0.45 * r, 1.5 * r
    st = _drift(g, t, h, w, hi + 2, r)
    st["r"] = lo + (hi - lo) * _tau(t)
    return st


def _appear(g, t, h, w, r):
    st = _drift(g, t, h, w, r + 2, r)
    t0 = _u(g, 0.3, 0.7)
    st["alpha"] = (_tau(t) >= t0).astype(np.float64)
    return st


def _start_moving(g, t, h, w, r):
    a, b = _segment(g, h, w, r + 2, 0.6)
    t0 = _u(g, 0.3, 0.6)
    f = np.clip((_tau(t) - t0) / (1.0 - t0), 0.0, 1.0)
    return _along(a, b, f, _still(t, 0, 0, r))


def _fade_in(g, t, h, w, r):
    st = _drift(g, t, h, w, r + 2, r)
    st["alpha"] = 0.1 + 0.9 * _tau(t)
    return st


def _spin(g, t, h, w, r):
    st = _drift(g, t, h, w, r + 2, r)
    turns = _u(g, 0.75, 1.5)
    st["angle"] = _u(g, 0, 2 * math.pi) + _sign(g) * 2 * math.pi * turns * _tau(t)
    return st


def _swing(g, t, h, w, r):
    st = _drift(g, t, h, w, r + 2, r)
    amp, cycles, phase = _u(g, 0.5, 0.9), _u(g, 1.0, 2.0), _u(g, 0, 2 * math.pi)
    st["angle"] = _u(g, 0, 2 * math.pi) + amp * np.sin(2 * math.pi * cycles * _tau(t) + phase)
    return st


def _orbit(g, t, h, w, r):
    radius = _u(g, 0.18, 0.3) * min(h, w)
    m = r + 2 + radius
    cx, cy = _u(g, m, max(w - m, m)), _u(g, m, max(h - m, m))
    phi = _u(g, 0, 2 * math.pi) + _sign(g) * 2 * math.pi * _u(g, 0.8, 1.2) * _tau(t)
    st = _still(t, 0, 0, r)
    st["cx"], st["cy"] = cx + radius * np.cos(phi), cy + radius * np.sin(phi)
    return st


def _bounce(g, t, h, w, r):
    a, b = _segment(g, h, w, r + 2, 0.5)
    t0 = _u(g, 0.4, 0.6)
    tau = _tau(t)
    f = np.where(tau < t0, tau / t0, (1.0 - tau) / (1.0 - t0))
    return _along(a, b, f, _still(t, 0, 0, r))


def _move_across(g, t, h, w, r):
    theta = (0.0 if _u(g) < 0.5 else math.pi) + _u(g, -0.15, 0.15)
    a, b = _segment(g, h, w, r + 2, 0.5, theta=theta)
    return _along(a, b, _tau(t), _still(t, 0, 0, r))


def _zigzag(g, t, h, w, r):
    amp = _u(g, 0.12, 0.2) * h
    st = _move_across(g, t, h, w, r)
    cycles, phase = _u(g, 1.5, 2.5), _u(g)
    tri = 2.0 * np.abs(2.0 * ((cycles * _tau(t) + phase) % 1.0) - 1.0) - 1.0
    st["cy"] = np.clip(st["cy"] + amp * tri, r + 2, h - r - 2)
    return st


def _blink(g, t, h, w, r):
    st = _drift(g, t, h, w, r + 2, r)
    period, phase = _randint(g, 3, 6), _randint(g, 0, 11)
    st["alpha"] = (((np.arange(t) + phase) // period) % 2 == 0).astype(np.float64)
    return st


def _pulse(g, t, h, w, r):
    st = _drift(g, t, h, w, 1.4 * r + 2, r)
    cycles, phase = _u(g, 2.0, 3.0), _u(g, 0, 2 * math.pi)
    st["r"] = r * (1.0 + 0.4 * np.sin(2 * math.pi * cycles * _tau(t) + phase))
    return st


Program = Callable[[torch.Generator, int, int, int, float], State]

#: Class name -> dynamics program; reversed classes are listed in :data:`REVERSE_OF`.
_PROGRAMS: dict[str, Program] = {
    "MoveUp": _move_up,
    "SpeedUp": _speed_up,
    "Grow": _grow,
    "Appear": _appear,
    "StartMoving": _start_moving,
    "FadeIn": _fade_in,
    "Spin": _spin,
    "Swing": _swing,
    "Orbit": _orbit,
    "Bounce": _bounce,
    "MoveAcross": _move_across,
    "ZigZag": _zigzag,
    "Blink": _blink,
    "Pulse": _pulse,
}

#: Classes defined as the exact time reversal of another class (same random draws, frames reversed).
REVERSE_OF: dict[str, str] = {
    "MoveDown": "MoveUp",
    "SlowDown": "SpeedUp",
    "Shrink": "Grow",
    "Vanish": "Appear",
    "StopMoving": "StartMoving",
    "FadeOut": "FadeIn",
}

#: All class names in label order; the first six form three time-reversal pairs.
CLASSES: tuple[str, ...] = (
    "MoveUp",
    "MoveDown",
    "SpeedUp",
    "SlowDown",
    "Grow",
    "Shrink",
    "Appear",
    "Vanish",
    "StartMoving",
    "StopMoving",
    "FadeIn",
    "FadeOut",
    "Spin",
    "Swing",
    "Orbit",
    "Bounce",
    "MoveAcross",
    "ZigZag",
    "Blink",
    "Pulse",
)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def class_names(layout: Literal["ucf101", "hmdb51"], num_classes: int) -> list[str]:
    """The first ``num_classes`` class names, CamelCase (UCF-101) or snake_case (HMDB-51)."""
    _check_layout(layout)
    if not 1 <= num_classes <= len(CLASSES):
        raise ValueError(f"num_classes must be in [1, {len(CLASSES)}], got {num_classes}")
    names = list(CLASSES[:num_classes])
    return names if layout == "ucf101" else [_snake(n) for n in names]


# --------------------------------------------------------------------------- nuisances


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


def _partial(state: State, action: tuple[int, int], t: int) -> State:
    """Pad a state of ``stop - start`` frames to ``t`` frames, holding its first and last values."""
    s0, s1 = action
    return {
        k: np.concatenate([np.full(s0, v[0]), v, np.full(t - s1, v[-1])]) for k, v in state.items()
    }


# --------------------------------------------------------------------------- appearance + render

_SHAPES = ("disc", "square", "diamond", "ring", "cross", "triangle", "kite")


def _sdf(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance (units of the object radius, < 0 inside) of a unit-size shape."""
    if shape == "disc":
        return np.sqrt(u * u + v * v) - 1.0
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) - 0.8
    if shape == "diamond":
        return (np.abs(u) + np.abs(v) - 1.05) / math.sqrt(2.0)
    if shape == "ring":
        return np.abs(np.sqrt(u * u + v * v) - 0.72) - 0.28
    if shape == "cross":
        au, av_ = np.abs(u), np.abs(v)
        return np.minimum(np.maximum(au - 1.0, av_ - 0.32), np.maximum(au - 0.32, av_ - 1.0))
    if shape == "triangle":  # pointing to +u
        s3 = math.sqrt(3.0) / 2.0
        return np.maximum.reduce([-u - 0.5, s3 * v + 0.5 * u - 0.5, -s3 * v + 0.5 * u - 0.5])
    if shape == "kite":  # elongated, asymmetric along u
        return np.maximum(np.abs(v) * 1.6 + np.maximum(u, -u * 0.45) - 1.0, -1.0 - u)
    raise ValueError(f"unknown shape {shape!r}")  # pragma: no cover


@dataclass(frozen=True)
class _Style:
    background: np.ndarray  # (H, W, 3) float32 in [0, 1], distractors included
    colour: np.ndarray  # (3,)
    shape: str
    radius: float
    stripes: float  # stripe frequency in units of the radius (0 = plain)


def _colour(g: torch.Generator) -> np.ndarray:
    return torch.rand(3, generator=g, dtype=torch.float64).numpy()


Scene = Literal["cluttered", "plain"]
SCENES: tuple[str, ...] = ("cluttered", "plain")


def _check_scene(scene: str) -> None:
    if scene not in SCENES:
        raise ValueError(f"scene must be one of {SCENES}, got {scene!r}")


def _style(g: torch.Generator, h: int, w: int, scene: Scene = "cluttered") -> _Style:
    """Draw a scene: background (distractors included) and the object's appearance.

    ``"cluttered"``: two-colour gradient, soft colour blobs, static texture and two static
    distractor shapes; object radius 0.10-0.16 of the short side. ``"plain"``: the gradient
    alone and a larger object (radius 0.28-0.36), still with random shape, colour and stripes.
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    # Gradient between two random colours along a random direction.
    c1, c2 = _colour(g), _colour(g)
    th = _u(g, 0, 2 * math.pi)
    s = xx * math.cos(th) + yy * math.sin(th)
    s = (s - s.min()) / max(float(s.max() - s.min()), 1e-6)
    bg = c1[None, None] * (1 - s[..., None]) + c2[None, None] * s[..., None]
    if scene == "plain":
        return _object_style(g, bg.astype(np.float32), _u(g, 0.28, 0.36) * min(h, w))
    # Soft colour blobs.
    for _ in range(4):
        cx, cy, sig = _u(g, 0, w), _u(g, 0, h), _u(g, 0.1, 0.3) * min(h, w)
        wgt = 0.6 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sig * sig))[..., None]
        bg = bg * (1 - wgt) + _colour(g)[None, None] * wgt
    # Static texture: coarse noise upsampled (bilinear).
    coarse = torch.rand(1, 3, max(h // 8, 2), max(w // 8, 2), generator=g)
    tex = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    bg = bg + 0.15 * (tex[0].permute(1, 2, 0).numpy() - 0.5)
    radius = _u(g, 0.1, 0.16) * min(h, w)
    # Static distractor shapes of the same kind of size as the object.
    for _ in range(2):
        shape = _SHAPES[_randint(g, 0, len(_SHAPES) - 1)]
        r = radius * _u(g, 0.7, 1.2)
        cx, cy, ang = _u(g, r, w - r), _u(g, r, h - r), _u(g, 0, 2 * math.pi)
        dx, dy = xx - cx, yy - cy
        u = (dx * math.cos(ang) + dy * math.sin(ang)) / r
        v = (-dx * math.sin(ang) + dy * math.cos(ang)) / r
        cov = np.clip(0.5 - _sdf(shape, u, v) * r, 0.0, 1.0)[..., None]
        bg = bg * (1 - cov) + _colour(g)[None, None] * cov
    return _object_style(g, np.clip(bg, 0.0, 1.0).astype(np.float32), radius)


def _object_style(g: torch.Generator, bg: np.ndarray, radius: float) -> _Style:
    # Object colour: keep some contrast with the background (bounded number of draws).
    mean = bg.reshape(-1, 3).mean(0)
    colour = _colour(g)
    for _ in range(8):
        if np.linalg.norm(colour - mean) > 0.45:
            break
        colour = _colour(g)
    shape = _SHAPES[_randint(g, 0, len(_SHAPES) - 1)]
    stripes = 0.0 if _u(g) < 0.3 else _u(g, 1.5, 3.0)
    return _Style(bg, colour, shape, radius, stripes)


def _paint(
    state: State,
    style: _Style,
    noise_g: torch.Generator,
    chunk: int = 8,
    draw: NuisanceDraw | None = None,
) -> np.ndarray:
    """Render ``(T, H, W, 3)`` uint8 frames of the object ``state`` over ``style``.

    Works on chunks of ``chunk`` frames so the float temporaries stay cache-sized. The nuisances
    of ``draw`` (if any) apply to the clean frames, before the sensor gain and noise.
    """
    bg = style.background
    h, w = bg.shape[:2]
    t = len(state["cx"])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    colour = style.colour.astype(np.float32)
    gain = 1.0 + 0.04 * torch.randn(t, generator=noise_g).numpy().astype(np.float32)
    pivot = float(bg.mean())
    warp = None
    if draw is not None and draw.theta is not None:
        warp = _warp_matrices(draw.theta, h, w)
    out = np.empty((t, h, w, 3), dtype=np.uint8)
    for s0 in range(0, t, chunk):
        sl = slice(s0, min(s0 + chunk, t))

        def col(key: str, sl: slice = sl) -> np.ndarray:
            return state[key][sl].astype(np.float32)[:, None, None]

        r = np.maximum(col("r"), 1.0)
        ang = state["angle"][sl]
        ca = np.cos(ang).astype(np.float32)[:, None, None]
        sa = np.sin(ang).astype(np.float32)[:, None, None]
        dx, dy = xx[None] - col("cx"), yy[None] - col("cy")
        u = (dx * ca + dy * sa) / r
        v = (-dx * sa + dy * ca) / r
        cov = np.clip(0.5 - _sdf(style.shape, u, v) * r, 0.0, 1.0) * col("alpha")
        if style.stripes > 0:
            shade = 0.7 + 0.3 * (np.sin(u * (style.stripes * math.pi)) > 0)
            obj = colour * shade[..., None]
        else:
            obj = colour
        cov = cov[..., None]
        frames = bg[None] + cov * (obj - bg[None])
        if draw is not None:
            frames = _apply_nuisances(frames, draw, sl, xx, yy, pivot, warp)
        n = frames.shape[0]
        noise = torch.randn(n, h, w, 1, generator=noise_g).numpy()  # luminance noise
        frames = frames * gain[sl, None, None, None] + 0.02 * noise
        out[sl] = (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return out


def _camel(class_name: str) -> str:
    camel = {_snake(c): c for c in CLASSES}.get(class_name, class_name)
    if camel not in CLASSES:
        raise ValueError(f"unknown class {class_name!r}; known: {', '.join(CLASSES)}")
    return camel


def _derived_generator(generator: torch.Generator) -> torch.Generator:
    """A generator seeded from ``generator``'s state (which is left untouched)."""
    words = np.frombuffer(generator.get_state().numpy().tobytes(), dtype=np.uint32)
    return _seeded(0x4E55, *(int(v) for v in words))


def _forward(
    class_name: str,
    num_frames: int,
    height: int,
    width: int,
    generator: torch.Generator,
    style_generator: torch.Generator | None,
    scene: Scene,
    nuisances: Nuisances | str | Mapping[str, float],
    nuisance_generator: torch.Generator | None,
) -> tuple[str, _Style, State, NuisanceDraw | None]:
    """Validate, then draw the scene, the nuisances and the forward-time object state."""
    camel = _camel(class_name)
    if num_frames < 2 or height < 16 or width < 16:
        raise ValueError(
            f"need num_frames >= 2 and height, width >= 16, got {num_frames}, {height}x{width}"
        )
    _check_scene(scene)
    nu = Nuisances.resolve(nuisances)
    draw = None
    if nu.active:
        ng = nuisance_generator if nuisance_generator is not None else _derived_generator(generator)
        draw = sample_nuisances(nu, ng, num_frames, height, width)
    base = REVERSE_OF.get(camel, camel)
    sg = style_generator if style_generator is not None else generator
    style = _style(sg, height, width, scene)
    if draw is None or draw.action == (0, num_frames):
        state = _PROGRAMS[base](generator, num_frames, height, width, style.radius)
    else:
        s0, s1 = draw.action
        state = _PROGRAMS[base](generator, s1 - s0, height, width, style.radius)
        state = _partial(state, draw.action, num_frames)
    return camel, style, state, draw


def render(
    class_name: str,
    *,
    num_frames: int,
    height: int,
    width: int,
    generator: torch.Generator,
    style_generator: torch.Generator | None = None,
    scene: Scene = "cluttered",
    nuisances: Nuisances | str | Mapping[str, float] = "none",
    nuisance_generator: torch.Generator | None = None,
) -> np.ndarray:
    """Render one video of a generated class (CamelCase or snake_case name).

    Args:
        class_name: One of :data:`CLASSES` (or its snake_case form).
        num_frames, height, width: Video size.
        generator: Draws the dynamics and the per-frame noise.
        style_generator: Draws background, distractors and object appearance (defaults to
            ``generator``; the dataset seeds it per video, apart from the dynamics).
        scene: ``"cluttered"`` (textured background, distractor shapes, small object) or
            ``"plain"`` (gradient background, larger object): see :func:`generate`.
        nuisances: A :class:`Nuisances`, a preset name (``"none"``, ``"natural"``) or a mapping
            of field -> strength (missing fields 0). All zero: the nuisance-free frames.
        nuisance_generator: Draws the nuisances (:func:`sample_nuisances`). Defaults to one
            seeded from ``generator``'s state, which is left untouched (so the dynamics and
            noise draws do not change); the dataset seeds it per video, ``(seed, class, clip)``.

    Returns:
        uint8 array ``(T, H, W, 3)`` (RGB). A class in :data:`REVERSE_OF` returns exactly the frames
        of its partner, rendered with the same generator states, in reverse order (nuisances
        included: they apply inside the forward rendering).
    """
    camel, style, state, draw = _forward(
        class_name,
        num_frames,
        height,
        width,
        generator,
        style_generator,
        scene,
        nuisances,
        nuisance_generator,
    )
    frames = _paint(state, style, generator, draw=draw)
    return np.ascontiguousarray(frames[::-1]) if camel in REVERSE_OF else frames


def object_state(
    class_name: str,
    *,
    num_frames: int,
    height: int,
    width: int,
    generator: torch.Generator,
    style_generator: torch.Generator | None = None,
    scene: Scene = "cluttered",
    nuisances: Nuisances | str | Mapping[str, float] = "none",
    nuisance_generator: torch.Generator | None = None,
) -> dict[str, np.ndarray]:
    """The object's per-frame state that :func:`render` would draw, in display order.

    Same arguments as :func:`render` (generators in the same states give the same draws).

    Returns:
        ``{"cx", "cy", "r", "angle", "alpha"}``: ``(T,)`` float arrays (pixels, radians, opacity).
        With ``partial`` action the state is constant outside the action's frames.
    """
    camel, _, state, _ = _forward(
        class_name,
        num_frames,
        height,
        width,
        generator,
        style_generator,
        scene,
        nuisances,
        nuisance_generator,
    )
    if camel in REVERSE_OF:
        state = {k: np.ascontiguousarray(v[::-1]) for k, v in state.items()}
    return state


# --------------------------------------------------------------------------- writing files


def _encode(frames: np.ndarray, path: Path, fps: int = FPS) -> None:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames as MPEG-4 Part 2 in AVI, atomically."""
    t, h, w, _ = frames.shape
    buffer = BytesIO()
    with av.open(buffer, mode="w", format="avi") as container:
        stream = container.add_stream(CODEC, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = max(200_000, int(1.2 * w * h * fps))
        stream.codec_context.gop_size = 12
        stream.thread_count = 1  # deterministic output
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    atomic_write_bytes(path, buffer.getvalue())


@dataclass(frozen=True)
class _Job:
    path: Path
    class_name: str
    class_idx: int
    clip: int
    num_frames: int
    height: int
    width: int
    seed: int
    scene: str
    nuisances: Nuisances = field(default_factory=Nuisances)


def _job_generators(
    seed: int, class_idx: int, clip: int
) -> tuple[torch.Generator, torch.Generator, torch.Generator]:
    """Dynamics, scene and nuisance generators of a dataset video, each its own stream.

    Every video draws its nuisances independently (keyed on ``(seed, class, clip)``); they
    cannot depend on the class otherwise, because :func:`sample_nuisances` never sees it: the
    same procedure draws them for every class.
    """
    return (
        _seeded(seed, class_idx, clip, 1),
        _seeded(seed, class_idx, clip, 2),
        _seeded(seed, class_idx, clip, 0x4E55),
    )


def _run_job(job: _Job) -> None:
    dyn, sty, nui = _job_generators(job.seed, job.class_idx, job.clip)
    frames = render(
        job.class_name,
        num_frames=job.num_frames,
        height=job.height,
        width=job.width,
        generator=dyn,
        style_generator=sty,
        scene=job.scene,
        nuisances=job.nuisances,
        nuisance_generator=nui,
    )
    _encode(frames, job.path)


@dataclass(frozen=True)
class GeneratedDataset:
    """A generated dataset on disk.

    Attributes:
        root: Folder passed to :func:`generate`.
        layout: ``"ucf101"`` or ``"hmdb51"``.
        video_root: Dataset root of the split tables' ``video`` paths (``root/UCF-101`` or
            ``root/hmdb51``).
        list_dir: Folder of the official-format lists (``root/ucfTrainTestlist`` or
            ``root/testTrainMulti_7030_splits``).
        num_classes: Number of classes.
        classes: Class names in label order.
        num_videos: Number of video files.
        seed: Generator seed.
    """

    root: Path
    layout: str
    video_root: Path
    list_dir: Path
    num_classes: int
    classes: tuple[str, ...] = field(default=())
    num_videos: int = 0
    seed: int = 0

    def split(self, split: int = 1) -> pd.DataFrame:
        """The split table, parsed from the written lists by :mod:`tempaug.data.splits`."""
        if self.layout == "ucf101":
            return splits.ucf101(self.list_dir, split)
        return splits.hmdb51(self.list_dir, split)


def _check_layout(layout: str) -> None:
    if layout not in ("ucf101", "hmdb51"):
        raise ValueError(f"layout must be 'ucf101' or 'hmdb51', got {layout!r}")


def _frame_size(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        h, w = size, 2 * round(size * 4 / 3 / 2)  # 4:3 like UCF-101's 320x240
    else:
        h, w = (int(s) for s in size)
    if h < 16 or w < 16 or h % 2 or w % 2:
        raise ValueError(f"size must give an even height and width >= 16, got {size!r} -> {h}x{w}")
    return h, w


def _ucf_groups(n: int) -> list[tuple[int, int]]:
    """``(group, clip-in-group)`` (1-based) of ``n`` clips spread over the 25 UCF groups."""
    out, counts = [], {}
    for j in range(n):
        grp = j * UCF_GROUPS // n + 1
        counts[grp] = counts.get(grp, 0) + 1
        out.append((grp, counts[grp]))
    return out


def generate(
    root: str | os.PathLike[str],
    layout: Literal["ucf101", "hmdb51"] = "ucf101",
    *,
    num_classes: int = 6,
    clips_per_class: int = 8,
    frames: int = 32,
    size: int | tuple[int, int] = 64,
    seed: int = 0,
    scene: Scene = "cluttered",
    nuisances: Nuisances | str | Mapping[str, float] = "none",
    num_workers: int = 0,
) -> GeneratedDataset:
    """Write a generated video dataset in an official layout (or reuse a complete one).

    UCF-101 layout: ``root/UCF-101/<Class>/v_<Class>_gGG_cCC.avi`` and
    ``root/ucfTrainTestlist/{classInd.txt, trainlist0{1,2,3}.txt, testlist0{1,2,3}.txt}`` (CRLF
    like the official zip). Clips are spread over groups g01-g25; split ``k`` tests groups
    ``7(k-1)+1 .. 7k`` and trains on the rest, like the official lists. HMDB-51 layout:
    ``root/hmdb51/<class>/<name>.avi`` and ``root/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt``
    (``<name>.avi <flag> `` with the official trailing space; per class and split ~50 % train,
    30 % test, 20 % unused).

    Args:
        root: Output folder (created).
        layout: ``"ucf101"`` or ``"hmdb51"``.
        num_classes: Number of classes, 1..20 (the first ``num_classes`` of :data:`CLASSES`).
        clips_per_class: Videos per class (>= 3, so every split has train and test videos).
        frames: Nominal video length; lengths are drawn uniformly in ``[frames // 2, 3 * frames // 2]``.
        size: Frame height (width = 4/3 of it, even) or ``(height, width)``; even values >= 16.
        seed: Seed; the same arguments give the same decoded frames.
        scene: ``"cluttered"``: textured background with colour blobs and two static
            distractor shapes, small object (radius 0.10-0.16 of the short side) — hard for
            small models. ``"plain"``: a two-colour gradient background and a larger object
            (radius 0.28-0.36): the motion is the same, but a tiny CPU model learns it in
            seconds (the pipeline's synthetic profile uses it).
        nuisances: Class-independent natural variation over time (see :class:`Nuisances`):
            ``"none"`` (default; the frames of generator version 3), ``"natural"`` (moderate
            illumination drift and flicker, camera shake and zoom, an occluder in 40 % of the
            videos, colour cast, contrast, partial action in 50 %), a :class:`Nuisances` or a
            mapping of field -> strength. They imitate what RandAugment-T varies over a clip
            (paper Sec. 3.1: brightness, colour, contrast, affine) and what real footage has
            (camera motion, lighting change, occlusion, untrimmed actions). Each video draws
            its own, from the same distribution for every class, so they carry no label
            information. Recorded in the manifest.
        num_workers: Processes used to render and encode (0 = in this process).

    Returns:
        :class:`GeneratedDataset` describing the files.

    Raises:
        ValueError: an argument out of range, or ``root`` already holds a complete generated
            dataset of this layout made with different arguments.
    """
    _check_layout(layout)
    names = class_names(layout, num_classes)
    if clips_per_class < 3:
        raise ValueError(f"clips_per_class must be >= 3, got {clips_per_class}")
    if frames < 8:
        raise ValueError(f"frames must be >= 8, got {frames}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if num_workers < 0:
        raise ValueError(f"num_workers must be >= 0, got {num_workers}")
    _check_scene(scene)
    nu = Nuisances.resolve(nuisances)
    h, w = _frame_size(size)
    root = Path(root)
    if layout == "ucf101":
        video_root, list_dir = root / "UCF-101", root / "ucfTrainTestlist"
    else:
        video_root, list_dir = root / "hmdb51", root / "testTrainMulti_7030_splits"
    params = {
        "generator_version": GENERATOR_VERSION,
        "layout": layout,
        "num_classes": num_classes,
        "clips_per_class": clips_per_class,
        "frames": frames,
        "height": h,
        "width": w,
        "seed": seed,
        "scene": scene,
        "nuisances": asdict(nu),
        "fps": FPS,
        "codec": CODEC,
    }
    manifest_path = root / f".tempaug-generated-{layout}.json"
    result = GeneratedDataset(
        root=root,
        layout=layout,
        video_root=video_root,
        list_dir=list_dir,
        num_classes=num_classes,
        classes=tuple(names),
        num_videos=num_classes * clips_per_class,
        seed=seed,
    )
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("params") != params:
            raise ValueError(
                f"{root} already holds a generated {layout} dataset made with "
                f"{manifest.get('params')}; requested {params}. Use another root or delete it."
            )
        if all((root / f).is_file() for f in manifest.get("files", [])):
            return result  # complete: no-op
    # Plan every video (lengths drawn from a dedicated generator: independent of rendering).
    g_len = _seeded(seed, 0xC11F)
    lo, hi = max(frames // 2, 4), max(3 * frames // 2, frames // 2 + 1)
    jobs: list[_Job] = []
    per_class: list[list[str]] = []
    groups: list[list[int]] = []
    for ci, name in enumerate(names):
        vids, grps = [], []
        for j, (grp, k) in enumerate(_ucf_groups(clips_per_class)):
            if layout == "ucf101":
                rel = f"{name}/v_{name}_g{grp:02d}_c{k:02d}.avi"
            else:
                rel = f"{name}/gen{j // 3:03d}_{name}_u_nm_np1_fr_med_{j % 3}.avi"
            t = _randint(g_len, lo, hi)
            jobs.append(_Job(video_root / rel, name, ci, j, t, h, w, seed, scene, nu))
            vids.append(rel)
            grps.append(grp)
        per_class.append(vids)
        groups.append(grps)
    if num_workers > 0:
        with ProcessPoolExecutor(num_workers) as pool:
            list(pool.map(_run_job, jobs, chunksize=4))
    else:
        for job in jobs:
            _run_job(job)
    files = [str(j.path.relative_to(root)) for j in jobs]
    files += _write_lists(layout, list_dir, root, names, per_class, groups, seed)
    manifest = {"params": params, "classes": names, "files": sorted(files)}
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    return result


def _write_lists(
    layout: str,
    list_dir: Path,
    root: Path,
    names: list[str],
    per_class: list[list[str]],
    groups: list[list[int]],
    seed: int,
) -> list[str]:
    written: list[Path] = []
    if layout == "ucf101":
        class_ind = "".join(f"{i + 1} {n}\n" for i, n in enumerate(names))
        written.append(list_dir / "classInd.txt")
        atomic_write_text(written[-1], class_ind, newline="\r\n")
        for k in (1, 2, 3):
            test_groups = range(7 * (k - 1) + 1, 7 * k + 1)
            train, test = [], []
            for ci, (vids, grps) in enumerate(zip(per_class, groups, strict=True)):
                for rel, grp in zip(vids, grps, strict=True):
                    if grp in test_groups:
                        test.append(f"{rel}\n")
                    else:
                        train.append(f"{rel} {ci + 1}\n")
            written.append(list_dir / f"trainlist0{k}.txt")
            atomic_write_text(written[-1], "".join(train), newline="\r\n")
            written.append(list_dir / f"testlist0{k}.txt")
            atomic_write_text(written[-1], "".join(test), newline="\r\n")
    else:
        for ci, (name, vids) in enumerate(zip(names, per_class, strict=True)):
            n = len(vids)
            n_test = max(1, round(0.3 * n))
            n_unused = n // 5 if n >= 5 else 0
            for k in (1, 2, 3):
                perm = torch.randperm(n, generator=_seeded(seed, ci, k, 3)).tolist()
                flags = ["1"] * n
                for p in perm[:n_test]:
                    flags[p] = "2"
                for p in perm[n_test : n_test + n_unused]:
                    flags[p] = "0"
                lines = "".join(
                    f"{Path(rel).name} {f} \n" for rel, f in zip(vids, flags, strict=True)
                )
                written.append(list_dir / f"{name}_test_split{k}.txt")
                atomic_write_text(written[-1], lines)
    return [str(p.relative_to(root)) for p in written]
