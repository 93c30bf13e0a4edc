"""The columns of paper Figs. 5–6: each model's mixture of clips A and B and its CAMs (Sec. 4.6).

Each column is one trained model shown the mixture of its own training method (B pasted or
blended into A, mixing draws from a seed, A's share kept visible by
:func:`mix_pair`), with the CAM of class A and of class B on the
mixture and the CAM of class A on pure clip A (:func:`~tempaug.analysis.cam.maps.mixture_cams`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tempaug.analysis.cam.maps import mixture_cams
from tempaug.analysis.cam.overlay import MixingColumn
from tempaug.analysis.run_selection import (
    RunLike,
    checkpoint_path,
    first_seed_runs,
    load_trained_model,
)
from tempaug.analysis.tables.rows import recipe_labels
from tempaug.augment import build

__all__ = [
    "figure_mixer",
    "figure_models",
    "mix_pair",
    "mixing_column",
    "mixing_columns",
    "resolution_note",
    "where_clips",
]


def mix_pair(
    mixer: Any,
    clip_a: Tensor,
    clip_b: Tensor,
    *,
    generator: torch.Generator | None = None,
    lam_range: tuple[float, float] = (0.3, 0.7),
    max_tries: int = 200,
) -> tuple[Tensor, float]:
    """Mix clip A with clip B (B pasted/blended into A) for a figure, with a visible share of both.

    Draws ``mixer.draw_params`` for the batch ``[A, B]`` until the clip is mixed and its own
    fraction ``lam`` lies in ``lam_range`` (deterministic for a seeded ``generator``), forces the
    pairing A <- B, and applies the mixer's pure ``transform``.

    Args:
        mixer: a :mod:`tempaug.augment` mixing transform (``draw_params`` / ``transform``).
        clip_a: ``(T, C, H, W)`` float clip A.
        clip_b: ``(T, C, H, W)`` float clip B.
        generator: CPU ``torch.Generator``.
        lam_range: accepted range of A's fraction in the mixture.
        max_tries: draws before giving up.

    Returns:
        ``(mixed (T, C, H, W), lam)``.

    Raises:
        ValueError: mismatched clips, or no draw in ``lam_range`` after ``max_tries``.
    """
    if clip_a.ndim != 4 or clip_a.shape != clip_b.shape:
        raise ValueError(
            f"clip_a and clip_b must be (T, C, H, W) of the same shape, got {tuple(clip_a.shape)} "
            f"and {tuple(clip_b.shape)}"
        )
    lo, hi = lam_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"lam_range must satisfy 0 <= low <= high <= 1, got {lam_range}")
    pair = torch.stack([clip_a, clip_b])
    for _ in range(max_tries):
        params = mixer.draw_params(pair.shape, generator=generator)
        params = dataclasses.replace(params, perm=torch.tensor([1, 0]))
        lam = float(params.lam[0])
        if bool(params.mixed[0]) and lo <= lam <= hi:
            mixed = mixer.transform(pair, params)
            return mixed[0], lam
    raise ValueError(
        f"{mixer!r} gave no mixture with lam in {lam_range} in {max_tries} draws; widen lam_range"
    )


def figure_mixer(recipe: Mapping[str, Any], num_classes: int) -> Any:
    """The mixing method of a recipe (``params["recipes"][name]``), gated to always mix (p = 1).

    Raises:
        ValueError: the recipe has no mixing method.
    """
    if not recipe.get("mix"):
        raise ValueError(f"recipe {dict(recipe)!r} has no mixing method to draw")
    kwargs = dict(recipe["mix"])
    method = kwargs.pop("method")
    kwargs["p"] = 1.0  # always mix for the figure
    return build(method, num_classes=num_classes, **kwargs)


def mixing_column(
    model: torch.nn.Module,
    mixer: Any,
    clip_a: Tensor,
    clip_b: Tensor,
    label_a: int,
    label_b: int,
    *,
    title: str,
    transform: Callable[[Tensor], Tensor],
    seed: int,
    pathways: str = "both",
    device: str | torch.device = "cpu",
) -> MixingColumn:
    """One model's column: its mixture of A and B (seeded), CAMs of A and B, λ and p(A), p(B).

    Args:
        model: the trained SlowFast wrapper.
        mixer: from :func:`figure_mixer`.
        clip_a: ``(T, C, H, W)`` clip A in ``[0, 1]``.
        clip_b: ``(T, C, H, W)`` clip B in ``[0, 1]``.
        label_a: class index of A.
        label_b: class index of B.
        title: the column title (the model).
        transform: ``[0, 1]`` clips → the model's input (normalisation).
        seed: seed of the mixing draws (the same for every column).
        pathways: CAM pathways drawn: ``slow`` (the paper), ``fast`` or ``both``.
        device: where the model runs.
    """
    mixed, lam = mix_pair(mixer, clip_a, clip_b, generator=torch.Generator().manual_seed(seed))
    cams = mixture_cams(
        model,
        transform(mixed).to(device),
        transform(clip_a).to(device),
        label_a,
        label_b,
        pathways=pathways,
    )
    p = cams["prob_mixed"]
    note = f"λ_A = {lam:.2f}; p(A) = {float(p[label_a]):.2f}, p(B) = {float(p[label_b]):.2f}"
    return MixingColumn(
        title,
        mixed,
        cams["a_on_mixed"].cpu(),
        cams["b_on_mixed"].cpu(),
        cams["a_on_a"].cpu(),
        note,
    )


def mixing_columns(
    models: Mapping[str, torch.nn.Module],
    recipes: Sequence[str],
    recipe_params: Mapping[str, Mapping[str, Any]],
    clip_a: Tensor,
    clip_b: Tensor,
    label_a: int,
    label_b: int,
    **kwargs: Any,
) -> list[MixingColumn]:
    """One :func:`mixing_column` per recipe, in order: its model, mixed by its own method, titled
    ``"<the paper's label> model"``.

    Args:
        models: recipe → trained model.
        recipes: the figure's columns.
        recipe_params: ``params["recipes"]``.
        clip_a, clip_b, label_a, label_b: as :func:`mixing_column`.
        **kwargs: :func:`mixing_column`'s ``transform``, ``seed``, ``pathways``, ``device``.
    """
    labels = recipe_labels()
    return [
        mixing_column(
            models[r],
            figure_mixer(recipe_params[r], models[r].num_classes),
            clip_a,
            clip_b,
            label_a,
            label_b,
            title=f"{labels.get(r, r)} model",
            **kwargs,
        )
        for r in recipes
    ]


def where_clips(profile: Mapping[str, Any]) -> str:
    """Where the figures' clips come from, for their titles."""
    if profile["name"] == "synthetic":
        return "generated clips (synthetic profile)"
    return "UCF-101 validation clips"


def figure_models(
    specs: Iterable[RunLike],
    recipes: Sequence[str],
    checkpoints: str | Path,
    *,
    first_seed: int,
    device: str | torch.device = "cpu",
) -> dict[str, torch.nn.Module]:
    """Recipe → the trained model of its first-seed run (the profile's RandAugment setting).

    Raises:
        KeyError: a recipe has no such run among ``specs``.
    """
    by_recipe = first_seed_runs(specs, first_seed)
    return {
        r: load_trained_model(checkpoint_path(checkpoints, by_recipe[r]), device=device)
        for r in recipes
    }


def resolution_note(
    num_frames: int, size: int, *, slow_stride: int, fast_stride: int, pathways: str
) -> str:
    """The temporal and spatial resolution of the last feature maps, which bounds what a CAM
    can show; notes when the slow pathway alone cannot vary in time."""
    t = num_frames
    note = (
        f"temporal resolution of the last feature maps: slow {t // slow_stride} step(s) of "
        f"{slow_stride} frames, fast {t // fast_stride} steps of {fast_stride} frames; spatial "
        f"{size // 32}×{size // 32} cells"
    )
    if pathways == "slow" and t // slow_stride < 2:
        note += (
            "\nnote: the slow pathway has a single time step here, so its CAM cannot vary in time"
        )
    return note
