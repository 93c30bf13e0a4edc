"""Rendering a generated video: the scene (background, distractors, object) and its frames.

:func:`render` draws the scene, the nuisances and the object's forward-time state, paints the
frames (nuisances applied to the clean frames, then sensor gain and noise) and reverses them for
the time-reversed classes; :func:`object_state` returns the state it would draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .motions import _PROGRAMS, REVERSE_OF, State, _camel, _partial
from .nuisances import NuisanceDraw, Nuisances, _apply_nuisances, _warp_matrices, sample_nuisances
from .rng import _colour, _randint, _seeded, _u

__all__ = ["SCENES", "Scene", "object_state", "render"]


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
