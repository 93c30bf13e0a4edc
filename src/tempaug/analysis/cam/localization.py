"""A quantitative temporal-localization score for class activation maps (beyond the paper).

The paper (Section 4.6, Figs. 5-6) argues from pictures that models trained with temporal
augmentations (FadeMixUp, FrameCutMix, CubeCutMix) localize *in time* better than MixUp/CutMix
models. This module turns that into a number on spliced test clips:

1. **Spliced clips** (:func:`sample_splice_params`, :func:`splice_clips`,
   :func:`build_spliced_set`; :func:`sources_used` names the sources to decode): clip ``i`` shows
   frames ``[0, cut_i)`` of a source clip of class ``A`` and frames ``[cut_i, T)`` of a source
   clip of another class ``B`` (same frame index, no re-timing). The cut, the number of ``A``
   frames, is uniform over the integers of the middle half ``{ceil(T/4), ..., floor(3T/4)}``
   (always within ``[1, T-1]``). Everything is drawn from one ``torch.Generator``, so a seed
   fixes the test set.
2. **Temporal profile** of the class-``A`` CAM: ``p_t = sum_{h,w} M_A[t, h, w]`` for a
   non-negative (min-max normalised) map ``M_A`` upsampled to the clip's ``T`` frames, each
   pathway step placed on the frame it was sliced from (:mod:`tempaug.analysis.cam.maps`).
3. **Scores** per clip (:func:`score_profiles`):

   (a) *mass in A*: ``sum_{t < cut} p_t / sum_t p_t``. An oracle map (``1`` on A's frames, ``0``
       on B's) scores 1; a temporally uniform map scores ``cut / T``, reported beside it as the
       *chance* level. A map with zero total mass counts as uniform.
   (b) *cut hit*: the cut recovered from the profile, ``t_hat``, is the split with the largest
       drop of the class-A activation, measured by the standardised mean shift (the CUSUM /
       least-squares single change-point statistic)::

           D(s) = sqrt(s (T - s) / T) * (mean_{t < s} p_t - mean_{t >= s} p_t),  s = 1..T-1
           t_hat = argmax_s D(s)   (smallest s on ties; t_hat = -1 if max_s D(s) <= 0)

       This is the "argmax of the change" of the profile made robust to noise and to the
       piecewise-linear ramps of upsampled slow-pathway maps (a plain largest one-frame drop ties
       over a whole ramp). ``D`` is invariant to a positive affine rescaling of ``p``, so min-max
       normalisation does not change ``t_hat``. The clip is a hit when ``|t_hat - cut| <=
       tolerance`` frames; a profile without any drop (``t_hat = -1``, e.g. a constant map) is a
       miss. An oracle map always hits (``D`` has its unique maximum at the cut); a uniform map
       always misses.
4. **Intervals** (:func:`summarize`): the analysis' one bootstrap
   (:func:`tempaug.analysis.statistics.bootstrap_means`) over clips, both scores paired; one
   table row with the chance levels.
5. **A model's score** (:func:`evaluate_localization`): splices batch by batch from the source
   clips, one CAM forward per batch, scores several pathway selections at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tempaug.analysis.statistics import bootstrap_means, percentile_interval

__all__ = [
    "LocalizationScores",
    "SpliceParams",
    "SplicedClips",
    "build_spliced_set",
    "cut_range",
    "estimate_cut",
    "evaluate_localization",
    "mass_fraction",
    "oracle_profile",
    "sample_splice_params",
    "score_maps",
    "score_profiles",
    "sources_used",
    "splice_clips",
    "summarize",
    "temporal_profile",
]


# --------------------------------------------------------------------------- spliced test set


def cut_range(num_frames: int) -> tuple[int, int]:
    """Inclusive range ``(lo, hi)`` of the cut (number of A frames): the middle half of ``T``.

    ``lo = ceil(T/4)`` and ``hi = floor(3T/4)``, both clamped to ``[1, T-1]``.

    Args:
        num_frames: clip length ``T >= 2``.

    Raises:
        ValueError: if ``T < 2``.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 2:
        raise ValueError(f"num_frames must be an int >= 2, got {num_frames!r}")
    lo = max(1, math.ceil(num_frames / 4))
    hi = min(num_frames - 1, (3 * num_frames) // 4)
    return lo, max(lo, hi)


@dataclass(frozen=True)
class SpliceParams:
    """Random parameters of a spliced test set.

    Attributes:
        index_a: ``(N,)`` long, source clip providing the first ``cut`` frames (class A).
        index_b: ``(N,)`` long, source clip providing the rest (class B != A).
        cut: ``(N,)`` long, number of frames taken from A, in :func:`cut_range`.
    """

    index_a: Tensor
    index_b: Tensor
    cut: Tensor


def sample_splice_params(
    labels: Tensor,
    num_clips: int,
    num_frames: int,
    *,
    generator: torch.Generator | None = None,
) -> SpliceParams:
    """Draw ``num_clips`` (A, B, cut) triples with ``label[A] != label[B]``.

    A is uniform over the source clips, B uniform over the source clips of any other class, the cut
    uniform over :func:`cut_range`. All draws use ``generator`` on the CPU.

    Args:
        labels: ``(M,)`` integer labels of the source clips.
        num_clips: ``N >= 1`` spliced clips to draw (sources are reused when ``N > M``).
        num_frames: clip length ``T >= 2``.
        generator: CPU ``torch.Generator``; the same state gives the same parameters.

    Returns:
        :class:`SpliceParams` of CPU long tensors.

    Raises:
        ValueError: bad shapes/counts, or fewer than two distinct classes.
    """
    if labels.ndim != 1 or labels.numel() == 0:
        raise ValueError(f"labels must be a non-empty 1-D tensor, got shape {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if isinstance(num_clips, bool) or not isinstance(num_clips, int) or num_clips < 1:
        raise ValueError(f"num_clips must be an int >= 1, got {num_clips!r}")
    lo, hi = cut_range(num_frames)
    labels = labels.detach().to("cpu", torch.long)
    if labels.unique().numel() < 2:
        raise ValueError("labels must contain at least two distinct classes to splice A|B clips")
    index_a = torch.randint(0, labels.numel(), (num_clips,), generator=generator)
    allowed = (labels.unsqueeze(0) != labels[index_a].unsqueeze(1)).double()  # (N, M)
    index_b = torch.multinomial(allowed, 1, generator=generator).squeeze(1)
    cut = torch.randint(lo, hi + 1, (num_clips,), generator=generator)
    return SpliceParams(index_a=index_a, index_b=index_b, cut=cut)


def sources_used(params: SpliceParams) -> tuple[Tensor, SpliceParams]:
    """The sources a spliced set reads, and the set re-indexed into them.

    Lets a caller decode only those sources: ``evaluate_localization(model, clips[used],
    labels[used], local)`` scores exactly what ``evaluate_localization(model, clips, labels,
    params)`` does, with ``used, local = sources_used(params)``.

    Returns:
        ``used``: sorted unique ``(K,)`` long indices into the original sources;
        ``local``: :class:`SpliceParams` whose ``index_a`` / ``index_b`` point into ``used``.
    """
    used = torch.unique(torch.cat([params.index_a, params.index_b]), sorted=True)
    local = SpliceParams(
        index_a=torch.searchsorted(used, params.index_a),
        index_b=torch.searchsorted(used, params.index_b),
        cut=params.cut,
    )
    return used, local


def splice_clips(clips_a: Tensor, clips_b: Tensor, cut: Tensor) -> Tensor:
    """Pure kernel: frames ``[0, cut)`` from ``clips_a``, frames ``[cut, T)`` from ``clips_b``.

    Args:
        clips_a: ``(N, T, C, H, W)`` any dtype.
        clips_b: same shape and dtype as ``clips_a``.
        cut: ``(N,)`` integer cut per clip, in ``[0, T]``.

    Returns:
        New ``(N, T, C, H, W)`` tensor (inputs are not modified).

    Raises:
        ValueError: on shape mismatch or a cut outside ``[0, T]``.
    """
    if clips_a.ndim != 5 or clips_a.shape != clips_b.shape:
        raise ValueError(
            "clips_a and clips_b must be (N, T, C, H, W) of the same shape, got "
            f"{tuple(clips_a.shape)} and {tuple(clips_b.shape)}"
        )
    n, t = clips_a.shape[:2]
    if cut.shape != (n,):
        raise ValueError(f"cut must have shape (N={n},), got {tuple(cut.shape)}")
    cut = cut.to(clips_a.device, torch.long)
    if n and (cut.min() < 0 or cut.max() > t):
        raise ValueError(f"cut must lie in [0, T={t}], got [{int(cut.min())}, {int(cut.max())}]")
    in_a = torch.arange(t, device=clips_a.device).unsqueeze(0) < cut.unsqueeze(1)  # (N, T)
    return torch.where(in_a.view(n, t, 1, 1, 1), clips_a, clips_b)


@dataclass(frozen=True)
class SplicedClips:
    """A spliced A|B test set.

    Attributes:
        clips: ``(N, T, C, H, W)`` spliced clips (dtype of the sources).
        label_a: ``(N,)`` long, class of the first part.
        label_b: ``(N,)`` long, class of the second part.
        params: the :class:`SpliceParams` used (``cut`` = number of A frames).
    """

    clips: Tensor
    label_a: Tensor
    label_b: Tensor
    params: SpliceParams

    @property
    def cut(self) -> Tensor:
        """``(N,)`` number of frames from A."""
        return self.params.cut


def build_spliced_set(
    clips: Tensor,
    labels: Tensor,
    num_clips: int,
    *,
    generator: torch.Generator | None = None,
) -> SplicedClips:
    """Build a spliced A|B test set from source clips (see the module docstring).

    Args:
        clips: ``(M, T, C, H, W)`` source clips (e.g. one centre view per validation video).
        labels: ``(M,)`` integer labels.
        num_clips: ``N`` spliced clips.
        generator: CPU ``torch.Generator`` fixing the set.

    Returns:
        :class:`SplicedClips` on the device of ``clips``.
    """
    if clips.ndim != 5:
        raise ValueError(f"clips must be (M, T, C, H, W), got shape {tuple(clips.shape)}")
    if labels.shape != (clips.shape[0],):
        raise ValueError(f"labels must have shape (M={clips.shape[0]},), got {tuple(labels.shape)}")
    params = sample_splice_params(labels, num_clips, clips.shape[1], generator=generator)
    dev = clips.device
    spliced = splice_clips(
        clips[params.index_a.to(dev)], clips[params.index_b.to(dev)], params.cut.to(dev)
    )
    labels = labels.detach().to("cpu", torch.long)
    return SplicedClips(
        clips=spliced,
        label_a=labels[params.index_a],
        label_b=labels[params.index_b],
        params=params,
    )


# --------------------------------------------------------------------------- scores


def temporal_profile(maps: Tensor) -> Tensor:
    """Temporal profile ``p_t = sum_{h,w} M[t, h, w]`` of non-negative maps.

    Args:
        maps: ``(N, T, H, W)`` float, ``>= 0``.

    Returns:
        ``(N, T)`` float64.
    """
    if maps.ndim != 4:
        raise ValueError(f"maps must be (N, T, H, W), got shape {tuple(maps.shape)}")
    if maps.numel() and maps.min() < 0:
        raise ValueError("maps must be non-negative (apply ReLU / min-max normalisation first)")
    return maps.detach().double().sum(dim=(-2, -1))


def _check_profile_cut(profile: Tensor, cut: Tensor) -> tuple[Tensor, Tensor]:
    if profile.ndim != 2 or profile.shape[1] < 2:
        raise ValueError(f"profile must be (N, T>=2), got shape {tuple(profile.shape)}")
    n, t = profile.shape
    if cut.shape != (n,):
        raise ValueError(f"cut must have shape (N={n},), got {tuple(cut.shape)}")
    cut = cut.detach().to(profile.device, torch.long)
    if n and (cut.min() < 1 or cut.max() > t - 1):
        raise ValueError(
            f"cut must lie in [1, T-1={t - 1}], got [{int(cut.min())}, {int(cut.max())}]"
        )
    if profile.numel() and profile.min() < 0:
        raise ValueError("profile must be non-negative")
    return profile.detach().double(), cut


def mass_fraction(profile: Tensor, cut: Tensor) -> Tensor:
    """Score (a): fraction of the profile's mass on A's frames ``[0, cut)``.

    Args:
        profile: ``(N, T)`` non-negative temporal profiles.
        cut: ``(N,)`` number of A frames, in ``[1, T-1]``.

    Returns:
        ``(N,)`` float64 in ``[0, 1]``; a zero-mass profile scores ``cut / T`` (uniform).
    """
    profile, cut = _check_profile_cut(profile, cut)
    _n, t = profile.shape
    in_a = torch.arange(t, device=profile.device).unsqueeze(0) < cut.unsqueeze(1)
    total = profile.sum(dim=1)
    mass_a = (profile * in_a).sum(dim=1)
    uniform = cut.double() / t
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, mass_a / safe, uniform)


def estimate_cut(profile: Tensor, *, rtol: float = 1e-9) -> Tensor:
    """Score (b), first half: the cut recovered as the largest standardised drop of the profile.

    ``t_hat = argmax_{s=1..T-1} sqrt(s (T-s) / T) * (mean(p[:s]) - mean(p[s:]))``; the smallest
    ``s`` wins ties (values within ``rtol`` of the profile's scale); ``-1`` when no split shows a
    drop (``max D <= rtol * scale``).

    Args:
        profile: ``(N, T)`` temporal profiles, ``T >= 2``.
        rtol: relative tolerance for ties and for "no drop".

    Returns:
        ``(N,)`` long in ``{-1} ∪ [1, T-1]``.
    """
    if profile.ndim != 2 or profile.shape[1] < 2:
        raise ValueError(f"profile must be (N, T>=2), got shape {tuple(profile.shape)}")
    p = profile.detach().double()
    _n, t = p.shape
    s = torch.arange(1, t, device=p.device, dtype=torch.float64)  # (T-1,)
    csum = p.cumsum(dim=1)
    total = csum[:, -1:]
    before = csum[:, :-1] / s
    after = (total - csum[:, :-1]) / (t - s)
    stat = torch.sqrt(s * (t - s) / t) * (before - after)  # (N, T-1)
    scale = p.abs().amax(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    best = stat.amax(dim=1, keepdim=True)
    is_best = stat >= best - rtol * scale
    first = torch.argmax(is_best.to(torch.int8), dim=1) + 1
    no_drop = best.squeeze(1) <= rtol * scale.squeeze(1)
    return torch.where(no_drop, torch.full_like(first, -1), first)


@dataclass(frozen=True)
class LocalizationScores:
    """Per-clip localization scores.

    Attributes:
        mass_in_a: ``(N,)`` float64, score (a).
        chance: ``(N,)`` float64, ``cut / T`` (what a temporally uniform map scores for (a)).
        cut_hat: ``(N,)`` long, recovered cut or ``-1``.
        cut_hit: ``(N,)`` bool, ``|cut_hat - cut| <= tolerance``.
        cut_chance: ``(N,)`` float64, hit probability of a guess drawn uniformly from
            :func:`cut_range` (the chance level of ``cut_hit``).
        tolerance: frames of slack allowed for a hit.
    """

    mass_in_a: Tensor
    chance: Tensor
    cut_hat: Tensor
    cut_hit: Tensor
    cut_chance: Tensor
    tolerance: int


def score_profiles(profile: Tensor, cut: Tensor, *, tolerance: int = 0) -> LocalizationScores:
    """Scores (a) and (b) for a batch of class-A temporal profiles.

    Args:
        profile: ``(N, T)`` non-negative class-A temporal profiles.
        cut: ``(N,)`` true number of A frames, in ``[1, T-1]``.
        tolerance: ``>= 0`` frames of slack for a cut hit.

    Returns:
        :class:`LocalizationScores` on the CPU.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(f"tolerance must be an int >= 0 (frames), got {tolerance!r}")
    p, c = _check_profile_cut(profile, cut)
    t = p.shape[1]
    mass = mass_fraction(p, c)
    cut_hat = estimate_cut(p)
    hit = (cut_hat >= 0) & ((cut_hat - c).abs() <= tolerance)
    lo, hi = cut_range(t)
    window = (
        torch.minimum(c + tolerance, torch.full_like(c, hi))
        - torch.maximum(c - tolerance, torch.full_like(c, lo))
        + 1
    ).clamp_min(0)
    return LocalizationScores(
        mass_in_a=mass.cpu(),
        chance=(c.double() / t).cpu(),
        cut_hat=cut_hat.cpu(),
        cut_hit=hit.cpu(),
        cut_chance=(window.double() / (hi - lo + 1)).cpu(),
        tolerance=tolerance,
    )


def score_maps(maps_a: Tensor, cut: Tensor, *, tolerance: int = 0) -> LocalizationScores:
    """Scores (a) and (b) for a batch of class-A CAMs (see the module docstring).

    Args:
        maps_a: ``(N, T, H, W)`` non-negative CAMs of class A (e.g. ``CAMOutput.maps[:, 0]``
            for targets ``label_a[:, None]``), upsampled to the clip's ``T`` frames.
        cut: ``(N,)`` true number of A frames.
        tolerance: frames of slack for a cut hit.

    Returns:
        :class:`LocalizationScores`.
    """
    return score_profiles(temporal_profile(maps_a), cut, tolerance=tolerance)


def oracle_profile(cut: Tensor, num_frames: int) -> Tensor:
    """The ideal class-A profile: ``1`` on frames ``[0, cut)``, ``0`` after. ``(N, T)`` float64."""
    if cut.ndim != 1:
        raise ValueError(f"cut must be 1-D (N,), got shape {tuple(cut.shape)}")
    t = torch.arange(num_frames, device=cut.device)
    return (t.unsqueeze(0) < cut.long().unsqueeze(1)).double()


# --------------------------------------------------------------------------- intervals


def summarize(
    scores: LocalizationScores,
    *,
    num_resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float | int]:
    """One table row: means of both scores and their paired 95 % bootstrap intervals over clips.

    The intervals come from :func:`tempaug.analysis.statistics.bootstrap_means` with the clips
    as the videos of one replicate (one model): a bootstrap over clips, both scores resampled
    with the same clips.

    Args:
        scores: per-clip :class:`LocalizationScores`.
        num_resamples: bootstrap draws ``>= 1``.
        level: interval level in ``(0, 1)``.
        seed: the bootstrap's seed.

    Returns:
        ``{"n_clips", "tolerance", "mass_in_a", "mass_in_a_lo", "mass_in_a_hi", "mass_chance",
        "cut_acc", "cut_acc_lo", "cut_acc_hi", "cut_chance"}`` (NaN numbers for no clips); the
        ``*_chance`` entries are what a temporally uniform map (mass) and a uniformly random cut
        guess (accuracy) score.
    """
    if isinstance(num_resamples, bool) or not isinstance(num_resamples, int) or num_resamples < 1:
        raise ValueError(f"num_resamples must be an int >= 1, got {num_resamples!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    values = torch.stack([scores.mass_in_a.double(), scores.cut_hit.double()]).cpu().numpy()
    n = values.shape[1]
    if n:
        means = values.mean(axis=1)
        draws = bootstrap_means([values], shared_videos=True, n_boot=num_resamples, seed=seed)
        lo, hi = percentile_interval(draws, level)
    else:
        means = lo = hi = np.full(2, math.nan)
    row: dict[str, float | int] = {"n_clips": n, "tolerance": int(scores.tolerance)}
    for i, (name, chance, key) in enumerate(
        (("mass_in_a", scores.chance, "mass_chance"), ("cut_acc", scores.cut_chance, "cut_chance"))
    ):
        row[name], row[f"{name}_lo"], row[f"{name}_hi"] = (
            float(means[i]),
            float(lo[i]),
            float(hi[i]),
        )
        row[key] = float(chance.mean()) if chance.numel() else math.nan
    return row


# --------------------------------------------------------------------------- a model's score


def evaluate_localization(
    model: torch.nn.Module,
    sources: Tensor,
    labels: Tensor,
    params: SpliceParams,
    *,
    transform: Callable[[Tensor], Tensor] | None = None,
    pathways: Sequence[str] = ("slow", "both"),
    tolerance: int = 0,
    batch_size: int = 16,
    device: str | torch.device | None = None,
) -> dict[str, LocalizationScores]:
    """Score a model's class-A CAMs on a spliced test set, for several pathway selections.

    The spliced clips are built batch by batch from ``sources`` (so only the sources are held in
    memory), passed through ``transform`` (e.g. normalisation) on ``device``, and explained with
    :func:`tempaug.analysis.cam.maps.class_activation_maps` for the per-clip target ``label_a``: one
    forward pass per batch; every pathway selection is recombined from the same raw maps.

    Args:
        model: SlowFast wrapper taking ``(B, T, C, H, W)``.
        sources: ``(M, T, C, H, W)`` source clips (any dtype ``transform`` accepts).
        labels: ``(M,)`` integer labels of the sources.
        params: from :func:`sample_splice_params` (``label[index_a] != label[index_b]``).
        transform: maps a spliced ``(B, T, C, H, W)`` batch to the model's input, or ``None``.
        pathways: selections to score (``"slow"``, ``"fast"``, ``"both"``).
        tolerance: frames of slack for a cut hit.
        batch_size: clips per forward pass.
        device: where to run (default: the model's device).

    Returns:
        ``{selection: LocalizationScores}``, clips in the order of ``params``.

    Raises:
        ValueError: bad arguments or a pair of the same class.
    """
    from tempaug.analysis.cam.maps import class_activation_maps

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if not pathways:
        raise ValueError("pathways must name at least one selection")
    if sources.ndim != 5 or labels.shape != (sources.shape[0],):
        raise ValueError(
            f"sources must be (M, T, C, H, W) and labels (M,), got {tuple(sources.shape)} and "
            f"{tuple(labels.shape)}"
        )
    labels = labels.detach().to("cpu", torch.long)
    label_a, label_b = labels[params.index_a], labels[params.index_b]
    if bool((label_a == label_b).any()):
        raise ValueError("params pairs clips of the same class; draw them with these labels")
    if device is None:
        device = next(model.parameters()).device
    n = params.cut.numel()
    profiles: dict[str, list[Tensor]] = {p: [] for p in pathways}
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        a = sources[params.index_a[sl]].to(device)
        b = sources[params.index_b[sl]].to(device)
        x = splice_clips(a, b, params.cut[sl].to(device))
        if transform is not None:
            x = transform(x)
        out = class_activation_maps(model, x, label_a[sl].unsqueeze(1), pathways="both")
        for p in pathways:
            maps = out.maps if p == "both" else out.recombine(p)
            profiles[p].append(temporal_profile(maps[:, 0]).cpu())
    return {
        p: score_profiles(torch.cat(v), params.cut, tolerance=tolerance)
        for p, v in profiles.items()
    }
