"""Figures of the generated dataset (:mod:`tempaug.data.synthetic`).

* :func:`plot_nuisance_examples` shows one video under each nuisance kind of
  :class:`~tempaug.data.synthetic.Nuisances` (illumination drift and flicker, camera shake and
  zoom, an occluder, colour cast, contrast, partial action): one row per kind, the same video
  (same class, scene and dynamics draws) in every row, so each row isolates one kind.

Save with :func:`tempaug.io.save_figure` (``.jpg`` for frame galleries).
"""

from __future__ import annotations

import numpy as np
import torch

from tempaug.analysis.gallery import clip_grid
from tempaug.data import synthetic
from tempaug.data.synthetic import NUISANCE_KINDS, Nuisances, motions, writing

__all__ = ["PROBABILITY_KINDS", "plot_nuisance_examples"]

#: Kinds whose strength is a probability: shown with probability 1, so the row shows the effect.
PROBABILITY_KINDS: tuple[str, ...] = ("occluder", "partial")


def _row_label(kind: str) -> str:
    natural = getattr(Nuisances.natural(), kind)
    if kind in PROBABILITY_KINDS:
        return f"{kind}\np=1 (natural {natural:g})"
    return f"{kind}\n{natural:g}"


def plot_nuisance_examples(
    *,
    layout_class: str = "MoveUp",
    frames: int = 8,
    size: int = 64,
    seed: int = 0,
    scene: synthetic.Scene = "plain",
    num_frames: int = 32,
):
    """One video of the generated dataset under each nuisance kind, one row per kind.

    The first row has no nuisance; each further row renders the same video (class
    ``layout_class``, the scene, dynamics and noise draws of clip 0 with ``seed``, the nuisance
    draws of clip 0) with :meth:`Nuisances.only` of one kind at its natural strength; kinds that
    are probabilities (:data:`PROBABILITY_KINDS`) are shown with probability 1. Row labels name
    the kind and its strength.

    Args:
        layout_class: A class of :data:`tempaug.data.synthetic.CLASSES` (or its snake_case form).
        frames: Columns: evenly spaced frames of the video (>= 2).
        size: Frame height in pixels (width 4/3 of it, as :func:`~tempaug.data.synthetic.generate`).
        seed: Dataset seed the video's generators are keyed on.
        scene: ``"plain"`` or ``"cluttered"``.
        num_frames: Length of the rendered video (>= ``frames``).

    Returns:
        A ``matplotlib.figure.Figure`` with ``1 + len(NUISANCE_KINDS)`` rows of ``frames`` axes.

    Raises:
        ValueError: an unknown class or scene, or ``frames``/``num_frames``/``size`` out of range.
    """
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    if num_frames < frames:
        raise ValueError(f"num_frames must be >= frames ({frames}), got {num_frames}")
    h, w = writing._frame_size(size)
    camel = motions._camel(layout_class)
    ci = synthetic.CLASSES.index(camel)
    idx = np.linspace(0, num_frames - 1, frames).round().astype(int)
    specs = {"none": Nuisances.none()}
    for kind in NUISANCE_KINDS:
        specs[_row_label(kind)] = Nuisances.only(kind, 1.0 if kind in PROBABILITY_KINDS else None)
    rows = {}
    for label, nu in specs.items():
        dyn, sty, nui = writing._job_generators(seed, ci, 0)  # fresh: same draws in every row
        video = synthetic.render(
            camel,
            num_frames=num_frames,
            height=h,
            width=w,
            generator=dyn,
            style_generator=sty,
            scene=scene,
            nuisances=nu,
            nuisance_generator=nui,
        )
        rows[label] = torch.from_numpy(np.ascontiguousarray(video[idx])).permute(0, 3, 1, 2)
    return clip_grid(
        rows,
        title=f"Generated {camel}: one nuisance kind per row (natural strengths)",
        frame_labels=[f"t={i}" for i in idx],
    )
