"""The generated classes: object dynamics programs and class names.

Each class is a *program* mapping ``(generator, T, H, W, r0)`` to per-frame object state arrays
``(T,)``: ``cx``, ``cy`` (pixels), ``r`` (radius, pixels), ``angle`` (radians) and ``alpha``
(opacity in ``[0, 1]``). Classes differ only in how the state changes over time; six classes
(:data:`REVERSE_OF`) are exact time reversals of six others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from .rng import _randint, _sign, _u

__all__ = ["CLASSES", "REVERSE_OF", "State", "class_names"]


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


def _camel(class_name: str) -> str:
    camel = {_snake(c): c for c in CLASSES}.get(class_name, class_name)
    if camel not in CLASSES:
        raise ValueError(f"unknown class {class_name!r}; known: {', '.join(CLASSES)}")
    return camel


def _partial(state: State, action: tuple[int, int], t: int) -> State:
    """Pad a state of ``stop - start`` frames to ``t`` frames, holding its first and last values."""
    s0, s1 = action
    return {
        k: np.concatenate([np.full(s0, v[0]), v, np.full(t - s1, v[-1])]) for k, v in state.items()
    }


def _check_layout(layout: str) -> None:
    if layout not in ("ucf101", "hmdb51"):
        raise ValueError(f"layout must be 'ucf101' or 'hmdb51', got {layout!r}")
