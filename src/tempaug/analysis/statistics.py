"""The analysis' one bootstrap, its intervals and paired tests (Kim et al., Sec. 4).

:func:`bootstrap_means` is the single resampling scheme behind the intervals of Tables 2–8, of
the robustness tables and of the CAM localisation scores. A table cell is an accuracy averaged
over *replicates*: training runs that differ only in their seed (UCF-101, Tables 2–5 and 7) or,
for HMDB-51's Average column (Table 6), in their split. Two sources of variation make a cell
uncertain: the replicate (initialisation, data order, split) and the finite set of evaluation
videos. Both are resampled by a **hierarchical percentile bootstrap**:

1. draw the replicates with replacement;
2. within each drawn replicate, draw its videos with replacement. Where every replicate is
   evaluated on the same videos (UCF-101: one validation set for every seed) one set of video
   indices is drawn per bootstrap draw and applied to all replicates of that draw, so the
   video-level error is not averaged away across seeds; where the videos differ (HMDB-51 splits)
   each drawn replicate gets its own draw.

With one replicate the procedure degenerates to a bootstrap over videos only (the interval then
says nothing about seed-to-seed variation; :attr:`Estimate.method` says so).

Two methods are compared by the **paired** version: replicates are paired by key (same seed ⇒ same
initialisation and data order in this trainer; for HMDB-51 the same split), videos by identity,
and each bootstrap draw applies the *same* resampled replicates and videos to both methods. The
difference of the two accuracies is reported with its 95 % percentile interval and the two-sided
bootstrap p-value ``2·min(P(Δ* ≤ 0), P(Δ* ≥ 0))``, floored at ``1 / n_boot``.

Everything is seeded (``numpy.random.default_rng(seed)``): the same inputs and seed give the
same numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ALPHA",
    "CELL_INTERVAL",
    "N_BOOT",
    "PAIRED_TEST",
    "Comparison",
    "Estimate",
    "bootstrap_means",
    "compare",
    "correctness",
    "estimate",
    "holm_adjust",
    "nan_estimate",
    "percentile_interval",
]

#: Bootstrap draws per interval or test.
N_BOOT = 2000

#: Significance level of the paired tests (two-sided).
ALPHA = 0.05

#: The paired test, as named in every table caption.
PAIRED_TEST = (
    f"paired hierarchical bootstrap over seeds (HMDB-51: splits) and videos ({N_BOOT} draws), "
    f"two-sided, α = {ALPHA}"
)

#: The interval of every table cell, as named in the captions.
CELL_INTERVAL = (
    f"95 % hierarchical percentile bootstrap CI ({N_BOOT} draws: replicates with replacement, "
    "then videos within each; where all replicates share the evaluation videos, as UCF-101's "
    "seeds do, one video resample per draw is applied to all of them)"
)

#: Replicate key (seed, or ``"split<k>/seed<s>"``) → per-video correctness (bool Series indexed
#: by video id).
Replicates = Mapping[Hashable, pd.Series]

# Bootstrap draws are made in chunks of about this many resampling counts each.
_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """A cell: mean accuracy over replicates (%) and its 95 % bootstrap interval."""

    mean: float
    lo: float
    hi: float
    n_replicates: int
    n_videos: int
    method: str

    @property
    def half_width(self) -> float:
        """Half the interval's width (the ``±`` of a cell)."""
        return (self.hi - self.lo) / 2.0


@dataclass(frozen=True)
class Comparison:
    """Method A − method B (points): observed difference, 95 % interval, two-sided p-value."""

    delta: float
    lo: float
    hi: float
    p_value: float
    n_replicates: int
    method: str

    def significant(self, alpha: float = ALPHA) -> bool:
        """Whether ``p_value < alpha``."""
        return bool(self.p_value < alpha)


def correctness(scores: pd.DataFrame, k: int = 1) -> pd.Series:
    """Per-video top-``k`` correctness of a score table (``video``, ``label``, ``score_<c>``).

    Ties are broken towards the lower class index, as :func:`~tempaug.train.scores.topk_accuracy`
    (``k`` is capped at the number of classes).

    Returns:
        Bool Series indexed by ``video`` (sorted), named ``correct``.
    """
    cols = sorted(
        (c for c in scores.columns if str(c).startswith("score_")),
        key=lambda c: int(str(c).split("_", 1)[1]),
    )
    if not cols or "video" not in scores or "label" not in scores:
        raise ValueError("scores need 'video', 'label' and 'score_<class>' columns")
    k = min(int(k), len(cols))
    s = scores[cols].to_numpy(dtype=np.float64)
    labels = scores["label"].to_numpy(dtype=np.int64)
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    hit = (top == labels[:, None]).any(axis=1)
    out = pd.Series(hit, index=scores["video"].astype(str).to_numpy(), name="correct")
    return out.sort_index()


def _arrays(
    groups: Sequence[Replicates], keys: Sequence[Hashable]
) -> tuple[list[np.ndarray], bool, int]:
    """Per key, an ``(m, n_videos)`` bool array (one row per method), whether all keys share
    their videos, and the number of videos of the first key."""
    arrays, index0, shared = [], None, True
    for key in keys:
        first = groups[0][key]
        rows = [first.to_numpy(dtype=bool)]
        for g in groups[1:]:
            other = g[key]
            if len(other) != len(first) or not other.index.sort_values().equals(
                first.index.sort_values()
            ):
                raise ValueError(f"replicate {key!r}: the two methods were scored on other videos")
            rows.append(other.reindex(first.index).to_numpy(dtype=bool))
        if index0 is None:
            index0 = first.index
        elif len(first) != len(index0) or not first.index.equals(index0):
            shared = False
        arrays.append(np.stack(rows))
    if any(a.shape[1] == 0 for a in arrays):
        raise ValueError("a replicate has no videos")
    return arrays, shared, arrays[0].shape[1]


def _counts(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """``(rows, n)`` resampling counts: row ``b`` counts how often each of ``n`` items is drawn in
    ``n`` draws with replacement."""
    idx = rng.integers(0, n, size=(rows, n)) + n * np.arange(rows)[:, None]
    return np.bincount(idx.ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)


def bootstrap_means(
    replicates: Sequence[np.ndarray],
    *,
    shared_videos: bool,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> np.ndarray:
    """Hierarchical, paired bootstrap of a mean over replicates of a mean over videos.

    The one bootstrap of the analysis (tables, robustness, localisation). Each draw

    1. draws the replicates (seeds, splits) with replacement;
    2. draws videos with replacement within each drawn replicate — one video draw applied to all
       replicates when ``shared_videos`` (every replicate scored the same videos, in the same
       order), an independent draw per drawn replicate otherwise;

    and returns the mean over the drawn replicates of their mean over the drawn videos. The
    leading axes of a replicate's array (methods, conditions, scores) are resampled together, so
    any statistic computed from one draw is **paired** across them. With one replicate this is a
    plain bootstrap over videos. Draws come from two streams spawned from
    ``numpy.random.default_rng(seed)``, one for the replicates, one for the videos, and depend
    only on ``seed``, ``n_boot``, the number of replicates and their numbers of videos: two calls
    that agree on those resample the same replicates and videos, and with shared videos the video
    draws do not depend on the number of replicates.

    Args:
        replicates: one array per replicate, ``(*stat, n_videos)``, all with the same ``stat``
            shape; values are per-video scores (0/1 correctness, fractions).
        shared_videos: whether all replicates hold the same videos in the same order.
        n_boot: bootstrap draws.
        seed: seed of the ``numpy.random.Generator``.

    Returns:
        ``(n_boot, *stat)`` float64.

    Raises:
        ValueError: no replicates, a replicate without videos, mismatched shapes, ``n_boot < 1``.
    """
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    xs = [np.asarray(x, dtype=np.float64) for x in replicates]
    if not xs:
        raise ValueError("no replicates to bootstrap")
    stat = xs[0].shape[:-1]
    if any(x.ndim == 0 or x.shape[:-1] != stat for x in xs):
        raise ValueError(f"replicates must share their leading shape, got {[x.shape for x in xs]}")
    if any(x.shape[-1] == 0 for x in xs):
        raise ValueError("a replicate has no videos")
    if shared_videos and len({x.shape[-1] for x in xs}) != 1:
        raise ValueError("shared_videos needs the same number of videos in every replicate")
    n_boot, r, k = int(n_boot), len(xs), int(np.prod(stat, dtype=np.int64))
    flat = [x.reshape(k, -1) for x in xs]
    rep_rng, rng = np.random.default_rng(seed).spawn(2)  # replicates; videos
    reps = rep_rng.integers(0, r, size=(n_boot, r))
    total = np.zeros((n_boot, k))
    if shared_videos:
        n = flat[0].shape[1]
        stacked = np.concatenate(flat)  # (r·k, n)
        chunk = max(1, _CHUNK_ELEMENTS // n)
        for start in range(0, n_boot, chunk):
            c = min(chunk, n_boot - start)
            acc = (_counts(rng, c, n) @ stacked.T / n).reshape(c, r, k)
            picked = np.take_along_axis(acc, reps[start : start + c, :, None], axis=1)
            total[start : start + c] = picked.sum(axis=1)
    else:
        for i, x in enumerate(flat):  # every slot drawing replicate i resamples its videos anew
            rows = np.flatnonzero((reps == i).ravel()) // r
            n = x.shape[1]
            chunk = max(1, _CHUNK_ELEMENTS // n)
            for start in range(0, len(rows), chunk):
                part = rows[start : start + chunk]
                np.add.at(total, part, _counts(rng, len(part), n) @ x.T / n)
    return (total / r).reshape(n_boot, *stat)


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` percentile interval of bootstrap ``draws`` along axis 0 (NaN draws ignored)."""
    tail = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN
        lo, hi = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
    return lo, hi


def _method(n_rep: int, shared: bool, paired: bool) -> str:
    what = "paired " if paired else ""
    if n_rep == 1:
        return f"{what}video bootstrap (1 replicate: no seed/split variation in the interval)"
    videos = "one video resample per draw shared by all" if shared else "videos resampled within"
    return f"{what}hierarchical bootstrap ({n_rep} replicates; {videos} replicates)"


def _check(n_boot: int, level: float) -> None:
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")


def estimate(
    replicates: Replicates, *, n_boot: int = N_BOOT, seed: int = 0, level: float = 0.95
) -> Estimate:
    """Mean accuracy (%) over replicates with its hierarchical percentile bootstrap interval.

    Args:
        replicates: key → per-video correctness (:func:`correctness`).
        n_boot: bootstrap draws.
        seed: seed of the ``numpy.random.Generator``.
        level: interval coverage.

    Raises:
        ValueError: no replicates, a replicate without videos, bad ``n_boot`` / ``level``.
    """
    _check(n_boot, level)
    keys = list(replicates)
    if not keys:
        raise ValueError("no replicates to estimate from")
    arrays, shared, n = _arrays([replicates], keys)
    mean = float(np.mean([100.0 * a[0].mean() for a in arrays]))
    draws = 100.0 * bootstrap_means(arrays, shared_videos=shared, n_boot=n_boot, seed=seed)[:, 0]
    lo, hi = percentile_interval(draws, level)
    return Estimate(mean, float(lo), float(hi), len(keys), n, _method(len(keys), shared, False))


def compare(
    a: Replicates,
    b: Replicates,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = 0.95,
) -> Comparison:
    """Paired hierarchical bootstrap test of accuracy(A) − accuracy(B) (see the module notes).

    Replicates are paired by key, videos by id; each draw resamples replicates and videos once
    and applies them to both methods.

    Returns:
        :class:`Comparison` with the observed mean difference (points), its percentile interval
        and the two-sided p-value ``2·min(P(Δ* ≤ 0), P(Δ* ≥ 0))`` floored at ``1/n_boot``.

    Raises:
        ValueError: A and B do not share their replicate keys (names the missing ones), or a
            replicate's videos differ between A and B.
    """
    _check(n_boot, level)
    only_a = [k for k in a if k not in b]
    only_b = [k for k in b if k not in a]
    if only_a or only_b:
        raise ValueError(
            f"paired test needs the same replicates for both methods: missing from B "
            f"{sorted(map(str, only_a))}, missing from A {sorted(map(str, only_b))}"
        )
    keys = list(a)
    if not keys:
        raise ValueError("no replicates to compare")
    arrays, shared, _ = _arrays([a, b], keys)
    delta = float(np.mean([100.0 * (x[0].mean() - x[1].mean()) for x in arrays]))
    draws = 100.0 * bootstrap_means(arrays, shared_videos=shared, n_boot=n_boot, seed=seed)
    d = draws[:, 0] - draws[:, 1]
    lo, hi = percentile_interval(d, level)
    p = 2.0 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0)))
    p = min(1.0, max(p, 1.0 / int(n_boot)))
    return Comparison(delta, float(lo), float(hi), p, len(keys), _method(len(keys), shared, True))


def nan_estimate(n_replicates: int = 0) -> Estimate:
    """An :class:`Estimate` with NaN numbers (a cell whose runs have no per-video scores)."""
    return Estimate(math.nan, math.nan, math.nan, n_replicates, 0, "no per-video scores")


def holm_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), controlling the family-wise error rate.

    The ``m`` finite p-values are sorted, the ``i``-th smallest multiplied by ``m - i`` (0-based),
    made monotone by a running maximum and capped at 1; a comparison is significant after the
    correction when its adjusted p is ≤ α. NaN entries (no comparison made) stay NaN and do not
    count in ``m``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return out
    if ((p[finite] < 0) | (p[finite] > 1)).any():
        raise ValueError(f"p-values must be in [0, 1], got {p[finite].tolist()}")
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out
