"""Per-video scores over runs: the replicates of a cell and the ensemble of Table 7.

Reading a ``scores.csv`` and its top-k accuracy live with the evaluation that writes it
(:mod:`tempaug.train.scores`).

A score file has ``video``, ``label`` and one ``score_<k>`` column per class (softmax averaged
over the views of a video, Sec. 4.1). The ensemble of Sec. 4.5 averages these scores over models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tempaug.analysis.statistics import correctness
from tempaug.analysis.tables.records import RUN_COLUMNS, _raise_missing
from tempaug.io import atomic_write_text
from tempaug.train.scores import check_scores as _check_scores
from tempaug.train.scores import read_scores, topk_accuracy
from tempaug.train.scores import score_columns as _score_columns

__all__ = [
    "ensemble_by_seed",
    "ensemble_runs",
    "ensemble_scores",
    "run_replicates",
    "write_scores",
]


def ensemble_scores(members: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Average the per-video scores of several models (Sec. 4.5, "ensembled version").

    Args:
        members: per-video score tables over the same videos with the same labels and classes.

    Returns:
        Table with ``video``, ``label`` and the mean of each ``score_<k>``, sorted by ``video``.

    Raises:
        ValueError: fewer than two members, or members disagree on videos, labels or classes.
    """
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
    prepared = []
    for i, m in enumerate(members):
        _check_scores(m, f"member {i}")
        prepared.append(m.sort_values("video", kind="stable").reset_index(drop=True))
    first = prepared[0]
    cols = _score_columns(first)
    for i, m in enumerate(prepared[1:], start=1):
        if _score_columns(m) != cols:
            raise ValueError(f"member {i} has classes {_score_columns(m)}, member 0 has {cols}")
        if not m["video"].astype(str).equals(first["video"].astype(str)):
            raise ValueError(f"member {i} scores other videos than member 0")
        if not m["label"].equals(first["label"]):
            raise ValueError(f"member {i} gives other labels than member 0")
    stacked = np.stack([m[cols].to_numpy(dtype=np.float64) for m in prepared])
    out = first[["video", "label"]].copy()
    out[cols] = stacked.mean(axis=0)
    return out


def ensemble_runs(
    runs: pd.DataFrame, *, members: Sequence[str], benchmark: str = "vipriors_test"
) -> pd.DataFrame:
    """Ensemble the runs of ``members`` (recipes) seed by seed; one pseudo-run per seed.

    Each seed's ensemble averages the per-video scores (``scores_path``) of that seed's member
    runs. The result has :data:`RUN_COLUMNS` with ``recipe == "ensemble"``, ready for
    :func:`summarize` (mean ± std over seeds when there are several).

    Raises:
        MissingRunsError: a member has no run for a seed that another member has, or no runs.
        ValueError: a member run has no per-video scores.
    """
    if len(members) < 2:
        raise ValueError(f"'members' needs at least 2 recipes, got {list(members)}")
    sub = runs[(runs["benchmark"] == benchmark) & runs["recipe"].isin(members)]
    seeds = sorted(set(sub["seed"]))
    missing = [
        f"{r} (seed {s})"
        for s in seeds
        for r in members
        if sub[(sub["recipe"] == r) & (sub["seed"] == s)].empty
    ]
    if not seeds:
        missing = list(members)
    _raise_missing(missing, "ensemble")
    out = []
    for s in seeds:
        member_runs = sub[sub["seed"] == s].set_index("recipe").loc[list(members)]
        tables = []
        for recipe, run in member_runs.iterrows():
            if not run["scores_path"]:
                raise ValueError(
                    f"run {run['run_id']} ({recipe}) has no per-video scores for the ensemble"
                )
            tables.append(read_scores(run["scores_path"]))
        ens = ensemble_scores(tables)
        out.append(
            {
                "run_id": f"{benchmark}/ensemble/seed{s}",
                "benchmark": benchmark,
                "split": "",
                "recipe": "ensemble",
                "seed": s,
                "randaug_num_ops": np.nan,
                "randaug_magnitude": np.nan,
                "top1": topk_accuracy(ens, 1),
                "top5": topk_accuracy(ens, min(5, len(_score_columns(ens)))),
                "scores_path": "",
                "unreadable_videos": int(member_runs["unreadable_videos"].max()),
                "decode_failures": int(member_runs["decode_failures"].sum()),
                "train_top1": np.nan,
                "num_classes": len(_score_columns(ens)),
            }
        )
    return pd.DataFrame(out, columns=list(RUN_COLUMNS))


def ensemble_by_seed(
    runs: pd.DataFrame, members: Sequence[str], *, benchmark: str = "vipriors_test"
) -> pd.DataFrame:
    """The ensemble's per-video scores (Sec. 4.5), one block per seed with a ``seed`` column.

    Each seed's block averages the per-video scores of that seed's ``members`` runs
    (:func:`ensemble_scores`), in the order of ``runs``.

    Raises:
        ValueError: no runs of ``benchmark``, or a seed's members cannot be ensembled.
    """
    bench = runs[runs["benchmark"] == benchmark]
    if bench.empty:
        raise ValueError(f"no {benchmark} runs to ensemble")
    blocks = []
    for seed in sorted(set(bench["seed"])):
        member_runs = bench[(bench["seed"] == seed) & bench["recipe"].isin(members)]
        ens = ensemble_scores([read_scores(p) for p in member_runs["scores_path"]])
        blocks.append(ens.assign(seed=seed))
    return pd.concat(blocks, ignore_index=True)


def run_replicates(
    runs: pd.DataFrame,
    *,
    key: str = "seed",
    k: int = 1,
    cache: dict[tuple[str, int], pd.Series] | None = None,
) -> dict[object, pd.Series] | None:
    """Per-replicate per-video top-``k`` correctness of one table cell's runs, from their scores.

    Args:
        runs: the cell's runs (one per replicate).
        key: ``"seed"`` (a replicate = a seed) or ``"split_seed"`` (``"split<k>/seed<s>"``: HMDB-51's
            Average over splits, whose videos differ per split).
        k: top-k.
        cache: reused between calls, keyed by (score file, k), so each file is read once per k.

    Returns:
        Replicate key → bool Series indexed by video (:func:`tempaug.analysis.statistics.correctness`),
        or ``None`` when a run has no per-video scores (hand-written records).

    Raises:
        ValueError: two runs share a replicate key, or ``key`` is unknown.
    """
    if key not in ("seed", "split_seed"):
        raise ValueError(f"key must be 'seed' or 'split_seed', got {key!r}")
    cache = {} if cache is None else cache
    out: dict[object, pd.Series] = {}
    for _, run in runs.iterrows():
        path = str(run["scores_path"] or "")
        if not path:
            return None
        rep = int(run["seed"]) if key == "seed" else f"split{run['split']}/seed{int(run['seed'])}"
        if rep in out:
            raise ValueError(f"two runs of one cell share the replicate {rep!r}: {run['run_id']}")
        if (path, k) not in cache:
            cache[(path, k)] = correctness(read_scores(path), k)
        out[rep] = cache[(path, k)]
    return out


def write_scores(scores: pd.DataFrame, path: str | Path) -> Path:
    """Write a per-video score table as CSV (6 decimals), atomically."""
    return atomic_write_text(path, scores.to_csv(index=False, float_format="%.6f"))
