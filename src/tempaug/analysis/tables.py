"""Assemble per-run results into the paper's Tables 2–8, our numbers beside the paper's.

Every training run of the pipeline leaves a run record (``run.json``, see
:func:`collect_runs`) naming what was trained — ``benchmark`` (``ucf101_val``: VIPriors
mod-UCF101 train → validation; ``hmdb51``: an official HMDB-51 split; ``vipriors_test``:
train+validation → test), ``split``, ``recipe`` (our name for the paper's row, e.g. ``cutmix``,
``framecutmix_a5``, ``randaugt_fademixup``), ``seed`` and, for the RandAugment grid of Table 2,
``randaug_num_ops`` / ``randaug_magnitude`` — and the run's ``top1`` / ``top5`` accuracy in %.

The builders below group runs over seeds (mean, sample std and the seed count), pick the paper's
rows, and put the paper's numbers (:mod:`tempaug.analysis.reference`) in separate ``paper_*``
columns: they are shown beside ours, never used in place of a missing run. A table whose runs are
missing raises :class:`MissingRunsError` instead of printing an incomplete table.

Paper mapping (Kim et al., ECCV-W 2020, Section 4):

* Table 2 — RandAugment ranges on UCF-101 validation; each range is the best grid point (highest
  mean top-1) of its ``N × M`` grid (Sec. 4.2).
* Tables 3, 4, 5 — deleting, cut-and-paste and blending methods (Sec. 4.3).
* Table 6 — HMDB-51 splits 1–3 and their average (Sec. 4.4).
* Table 7 — VIPriors models, train → validation and train+validation → test, including the
  ensemble: the average of the per-video scores of several RandAug-T + mixing runs (Sec. 4.5).
* Table 8 — challenge entries (the paper's numbers only) next to our single model and ensemble.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tempaug.analysis.reference import reference_for
from tempaug.io import atomic_write_text

__all__ = [
    "BENCHMARKS",
    "RANDAUG_MODES",
    "RUN_COLUMNS",
    "TABLE6_ROWS",
    "TABLE7_ROWS",
    "TABLE_ROWS",
    "MissingRunsError",
    "RenderedTable",
    "ablation_table",
    "caption",
    "collect_runs",
    "ensemble_runs",
    "ensemble_scores",
    "evaluation_summary",
    "format_value",
    "markdown_table",
    "randaug_grid_table",
    "read_scores",
    "render_grid_table",
    "render_table",
    "summarize",
    "table2",
    "table6",
    "table7",
    "table7_val_recipes",
    "table8",
    "topk_accuracy",
    "write_table",
]

#: Benchmarks a run can belong to.
BENCHMARKS: tuple[str, ...] = ("ucf101_val", "hmdb51", "vipriors_test")

#: RandAugment ranges of Table 2, in the paper's row order: (mode, recipe, label).
RANDAUG_MODES: tuple[tuple[str, str, str], ...] = (
    ("spatial", "randaug_spatial", "RandAugment Spatial"),
    ("temporal", "randaug_temporal", "RandAugment Temporal"),
    ("temporal_plus", "randaug_temporal_plus", "RandAugment Temporal+"),
    ("mix", "randaug_mix", "RandAugment Mix"),
)

#: Rows of Tables 3–5: (recipe, label), in the paper's order; the recipe is also the reference key.
TABLE_ROWS: dict[int, tuple[tuple[str, str], ...]] = {
    3: (
        ("baseline", "Baseline"),
        ("cutout", "CutOut"),
        ("framecutout", "FrameCutOut"),
        ("cubecutout", "CubeCutOut"),
    ),
    4: (
        ("baseline", "Baseline"),
        ("cutmix", "CutMix (α = 2)"),
        ("framecutmix_a2", "FrameCutMix (α = 2)"),
        ("framecutmix_a5", "FrameCutMix (α = 5)"),
        ("cubecutmix_a2", "CubeCutMix (α = 2)"),
        ("cubecutmix_a5", "CubeCutMix (α = 5)"),
    ),
    5: (
        ("baseline", "Baseline"),
        ("mixup", "MixUp"),
        ("fademixup", "FadeMixUp"),
        ("cutmixup", "CutMixUp"),
        ("framecutmixup", "FrameCutMixUp"),
        ("cubecutmixup", "CubeCutMixUp"),
    ),
}

#: Rows of Table 6: (reference key, label). The recipe of each row is given by the caller
#: (``recipes``), because the paper does not say which α its HMDB-51 cut-and-paste rows use.
TABLE6_ROWS: tuple[tuple[str, str], ...] = (
    ("baseline", "Baseline"),
    ("randaug", "RandAug"),
    ("randaugt", "RandAug-T"),
    ("cutout", "CutOut"),
    ("framecutout", "FrameCutOut"),
    ("cubecutout", "CubeCutOut"),
    ("cutmix", "CutMix"),
    ("framecutmix", "FrameCutMix"),
    ("cubecutmix", "CubeCutMix"),
    ("mixup", "MixUp"),
    ("cutmixup", "CutMixUp"),
    ("framecutmixup", "FrameCutMixUp"),
    ("cubecutmixup", "CubeCutMixUp"),
    ("fademixup", "FadeMixUp"),
)

#: Rows of Table 7: (reference key, train data, test data, augmentation, regularization, others).
TABLE7_ROWS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("val/baseline", "Train", "Val", "", "", ""),
    ("val/framecutmixup", "Train", "Val", "", "FrameCutMixUp", ""),
    ("val/randaug", "Train", "Val", "RandAug", "", ""),
    ("val/randaugt", "Train", "Val", "RandAug-T", "", ""),
    ("val/randaugt_fademixup", "Train", "Val", "RandAug-T", "FadeMixUp", ""),
    ("val/randaugt_framecutmixup", "Train", "Val", "RandAug-T", "FrameCutMixUp", ""),
    ("test/baseline", "Train+Val", "Test", "", "", ""),
    ("test/randaugt", "Train+Val", "Test", "RandAug-T", "", ""),
    ("test/randaugt_fademixup", "Train+Val", "Test", "RandAug-T", "FadeMixUp", ""),
    ("test/ensemble", "Train+Val", "Test", "RandAug-T", "", "All Methods Ensemble"),
)

#: Columns of the run table returned by :func:`collect_runs`.
RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "benchmark",
    "split",
    "recipe",
    "seed",
    "randaug_num_ops",
    "randaug_magnitude",
    "top1",
    "top5",
    "scores_path",
)

_METRICS = ("top1", "top5")
#: A run configuration, up to the seed.
_GROUP = ["benchmark", "split", "recipe", "randaug_num_ops", "randaug_magnitude"]


class MissingRunsError(ValueError):
    """A table needs runs that are not in the run table (names them)."""


@dataclass(frozen=True)
class RenderedTable:
    """A finished table: numeric ``data`` (CSV) and its string ``display`` form (Markdown)."""

    data: pd.DataFrame
    display: pd.DataFrame
    caption: str


# --------------------------------------------------------------------------------------------
# Reading runs
# --------------------------------------------------------------------------------------------


def _run_frame(records: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    rows = []
    for i, rec in enumerate(records):
        for key in ("benchmark", "recipe", "seed", "top1", "top5"):
            if key not in rec:
                raise ValueError(
                    f"run record {i} ({rec.get('run_id', '?')}): missing field {key!r}"
                )
        if rec["benchmark"] not in BENCHMARKS:
            raise ValueError(
                f"run record {i}: 'benchmark' must be one of {BENCHMARKS}, got {rec['benchmark']!r}"
            )
        row = {c: rec.get(c) for c in RUN_COLUMNS}
        row["split"] = "" if rec.get("split") in (None, "") else str(rec["split"])
        row["seed"] = int(rec["seed"])  # type: ignore[arg-type]
        for m in _METRICS:
            val = float(rec[m])  # type: ignore[arg-type]
            if not 0.0 <= val <= 100.0:
                raise ValueError(
                    f"run record {i}: {m!r} must be a percentage in [0, 100], got {val}"
                )
            row[m] = val
        for k in ("randaug_num_ops", "randaug_magnitude"):
            v = rec.get(k)
            row[k] = np.nan if v is None else float(v)  # type: ignore[arg-type]
        row["run_id"] = str(rec.get("run_id") or f"run{i}")
        row["scores_path"] = "" if rec.get("scores_path") in (None, "") else str(rec["scores_path"])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def collect_runs(
    root: str | Path | None = None,
    *,
    records: Iterable[Mapping[str, object]] | None = None,
    filename: str = "run.json",
) -> pd.DataFrame:
    """Build the run table from run records on disk (``root/**/run.json``) or given directly.

    A record is a JSON object with ``benchmark``, ``split``, ``recipe``, ``seed``, ``top1``,
    ``top5`` (percent), optionally ``run_id``, ``randaug_num_ops``, ``randaug_magnitude`` and
    ``scores_path`` (per-video scores, relative to the record's folder when read from disk).

    Args:
        root: folder searched recursively for ``filename``.
        records: records to use instead of reading ``root``.
        filename: record file name.

    Returns:
        DataFrame with :data:`RUN_COLUMNS`, one row per run, sorted by ``run_id``.

    Raises:
        ValueError: neither/both of ``root`` and ``records`` given, a record is malformed (the
            message names the file and field), or two records share a ``run_id``.
        FileNotFoundError: ``root`` does not exist.
    """
    if (root is None) == (records is None):
        raise ValueError("collect_runs: give exactly one of 'root' or 'records'")
    if records is None:
        root = Path(root)  # type: ignore[arg-type]
        if not root.is_dir():
            raise FileNotFoundError(f"run folder not found: {root}")
        recs = []
        for path in sorted(root.rglob(filename)):
            try:
                rec = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not valid JSON ({exc})") from exc
            if not isinstance(rec, dict):
                raise ValueError(f"{path}: a run record must be a JSON object")
            rec = dict(rec)
            rec.setdefault("run_id", str(path.parent.relative_to(root)))
            if rec.get("scores_path"):
                rec["scores_path"] = str(path.parent / str(rec["scores_path"]))
            recs.append(rec)
        records = recs
    df = _run_frame(records)
    dup = df["run_id"].duplicated(keep=False)
    if dup.any():
        raise ValueError(f"duplicated run_id values: {sorted(set(df.loc[dup, 'run_id']))}")
    return df.sort_values("run_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Aggregation over seeds
# --------------------------------------------------------------------------------------------


def summarize(runs: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean, sample standard deviation and seed count of ``top1``/``top5`` over seeds.

    Args:
        runs: run table (:func:`collect_runs`).
        by: grouping columns, e.g. ``["benchmark", "split", "recipe"]``.

    Returns:
        One row per group: ``by`` columns, ``top1``, ``top1_std``, ``top5``, ``top5_std``
        (std is NaN for a single seed) and ``n_seeds``.

    Raises:
        ValueError: a group holds the same seed twice (two runs of one configuration).
    """
    by = list(by)
    dup = runs.duplicated([*by, "seed"], keep=False)
    if dup.any():
        raise ValueError(
            f"runs {sorted(runs.loc[dup, 'run_id'])} repeat the same seed within one {by} group"
        )
    grouped = runs.groupby(by, sort=False, dropna=False)
    out = grouped.agg(
        top1=("top1", "mean"),
        top1_std=("top1", lambda s: s.std(ddof=1) if len(s) > 1 else np.nan),
        top5=("top5", "mean"),
        top5_std=("top5", lambda s: s.std(ddof=1) if len(s) > 1 else np.nan),
        n_seeds=("seed", "size"),
    )
    return out.reset_index()


def _pick(
    summary: pd.DataFrame, *, benchmark: str, recipe: str, split: str = "", **extra: float
) -> pd.Series | None:
    mask = (summary["benchmark"] == benchmark) & (summary["recipe"] == recipe)
    if "split" in summary.columns:
        mask &= summary["split"] == split
    for k, v in extra.items():
        mask &= summary[k] == v
    hit = summary[mask]
    if hit.empty:
        return None
    if len(hit) > 1:
        raise ValueError(
            f"{len(hit)} run groups match benchmark={benchmark!r} recipe={recipe!r} split={split!r};"
            " give the grid point (randaug_num_ops, randaug_magnitude)"
        )
    return hit.iloc[0]


def _ours(row: pd.Series | None, prefix: str = "") -> dict[str, float]:
    keys = ("top1", "top1_std", "top5", "top5_std", "n_seeds")
    if row is None:
        return {f"{prefix}{k}": (0 if k == "n_seeds" else np.nan) for k in keys}
    return {f"{prefix}{k}": row[k] for k in keys}


def _paper(
    reference: pd.DataFrame | None, table: int, key: str, split: str = "", prefix: str = ""
) -> dict[str, float]:
    ref = None if reference is None else reference_for(reference, table, key, split)
    return {
        f"{prefix}paper_top1": np.nan if ref is None else float(ref["top1"]),
        f"{prefix}paper_top5": np.nan if ref is None else float(ref["top5"]),
    }


def _raise_missing(missing: list[str], table: str) -> None:
    if missing:
        raise MissingRunsError(f"{table}: no runs for {', '.join(missing)}")


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def randaug_grid_table(runs: pd.DataFrame, *, benchmark: str = "ucf101_val") -> pd.DataFrame:
    """Every RandAugment grid point of Table 2 (Sec. 4.2: N ∈ {1,2,3}, M ∈ {3,5,10} in the paper).

    Returns:
        Columns ``mode``, ``recipe``, ``randaug_num_ops``, ``randaug_magnitude`` and the
        :func:`summarize` statistics, in the paper's mode order then by N, M.
    """
    recipes = {recipe: mode for mode, recipe, _ in RANDAUG_MODES}
    sub = runs[(runs["benchmark"] == benchmark) & runs["recipe"].isin(recipes)]
    summary = summarize(sub, ["recipe", "randaug_num_ops", "randaug_magnitude"])
    summary.insert(0, "mode", summary["recipe"].map(recipes))
    order = {recipe: i for i, (_, recipe, _) in enumerate(RANDAUG_MODES)}
    summary = summary.assign(_o=summary["recipe"].map(order))
    summary = summary.sort_values(["_o", "randaug_num_ops", "randaug_magnitude"]).drop(columns="_o")
    return summary.reset_index(drop=True)


def _best_grid_point(grid: pd.DataFrame, recipe: str) -> pd.Series | None:
    sub = grid[grid["recipe"] == recipe]
    if sub.empty:
        return None
    # Highest mean top-1; ties broken by top-5, then by the smaller N and M (stable order).
    ranked = sub.sort_values(
        ["top1", "top5", "randaug_num_ops", "randaug_magnitude"],
        ascending=[False, False, True, True],
        kind="stable",
    )
    return ranked.iloc[0]


def table2(
    runs: pd.DataFrame, reference: pd.DataFrame | None = None, *, benchmark: str = "ucf101_val"
) -> pd.DataFrame:
    """Table 2: baseline and the best grid point of each RandAugment range (Sec. 4.2).

    Args:
        runs: run table; RandAugment runs carry ``randaug_num_ops`` / ``randaug_magnitude``.
        reference: the paper's numbers (:func:`~tempaug.analysis.reference.load_reference`).
        benchmark: which benchmark's runs to use.

    Returns:
        Rows ``baseline`` then the four ranges; columns ``key``, ``method``, ``N``, ``M``,
        ``top1``, ``top1_std``, ``top5``, ``top5_std``, ``n_seeds``, ``paper_top1``, ``paper_top5``.

    Raises:
        MissingRunsError: the baseline or a range has no runs.
    """
    summary = summarize(runs[runs["benchmark"] == benchmark], _GROUP)
    grid = randaug_grid_table(runs, benchmark=benchmark)
    rows, missing = [], []
    base = _pick(summary, benchmark=benchmark, recipe="baseline")
    if base is None:
        missing.append("baseline")
    rows.append(
        {
            "key": "baseline",
            "method": "Baseline",
            "N": np.nan,
            "M": np.nan,
            **_ours(base),
            **_paper(reference, 2, "baseline"),
        }
    )
    for _, recipe, label in RANDAUG_MODES:
        best = _best_grid_point(grid, recipe)
        if best is None:
            missing.append(recipe)
        rows.append(
            {
                "key": recipe,
                "method": label,
                "N": np.nan if best is None else best["randaug_num_ops"],
                "M": np.nan if best is None else best["randaug_magnitude"],
                **_ours(best),
                **_paper(reference, 2, recipe),
            }
        )
    _raise_missing(missing, "Table 2")
    return pd.DataFrame(rows)


def ablation_table(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    table: int,
    benchmark: str = "ucf101_val",
) -> pd.DataFrame:
    """Tables 3 (deleting), 4 (cut-and-paste) and 5 (blending) on UCF-101 validation (Sec. 4.3).

    Args:
        runs: run table.
        reference: the paper's numbers.
        table: 3, 4 or 5.
        benchmark: which benchmark's runs to use.

    Returns:
        One row per :data:`TABLE_ROWS` entry; columns ``key``, ``method``, our statistics,
        ``paper_top1``, ``paper_top5``.

    Raises:
        ValueError: ``table`` not in {3, 4, 5}.
        MissingRunsError: a row has no runs.
    """
    if table not in TABLE_ROWS:
        raise ValueError(f"table must be one of {sorted(TABLE_ROWS)}, got {table!r}")
    summary = summarize(runs[runs["benchmark"] == benchmark], _GROUP)
    rows, missing = [], []
    for recipe, label in TABLE_ROWS[table]:
        got = _pick(summary, benchmark=benchmark, recipe=recipe)
        if got is None:
            missing.append(recipe)
        rows.append(
            {"key": recipe, "method": label, **_ours(got), **_paper(reference, table, recipe)}
        )
    _raise_missing(missing, f"Table {table}")
    return pd.DataFrame(rows)


def table6(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    recipes: Mapping[str, str] | None = None,
    splits: Sequence[int] = (1, 2, 3),
) -> pd.DataFrame:
    """Table 6: HMDB-51 splits 1–3 and the per-method average over splits (Sec. 4.4).

    The average of a method is the mean over splits of its per-split means, as in the paper's
    Average column; ``avg_n_seeds`` is the smallest per-split seed count.

    Args:
        runs: run table (``benchmark == "hmdb51"``, ``split`` "1".."3").
        reference: the paper's numbers.
        recipes: reference key → our recipe for rows whose run uses another name (e.g.
            ``{"framecutmix": "framecutmix_a5"}``); by default the key itself.
        splits: the split numbers to show.

    Returns:
        Columns ``key``, ``method``, then for each split ``s`` and for ``avg``: ``{s}_top1``,
        ``{s}_top1_std``, ``{s}_top5``, ``{s}_top5_std``, ``{s}_n_seeds``, ``{s}_paper_top1``,
        ``{s}_paper_top5`` with ``s`` = ``split1`` … and ``avg``.

    Raises:
        MissingRunsError: a (method, split) cell has no runs.
    """
    recipes = dict(recipes or {})
    summary = summarize(runs[runs["benchmark"] == "hmdb51"], _GROUP)
    rows, missing = [], []
    for key, label in TABLE6_ROWS:
        recipe = recipes.get(key, key)
        row: dict[str, object] = {"key": key, "method": label, "recipe": recipe}
        means = {"top1": [], "top5": []}
        counts = []
        for s in splits:
            got = _pick(summary, benchmark="hmdb51", recipe=recipe, split=str(s))
            if got is None:
                missing.append(f"{recipe} (split {s})")
            row.update(_ours(got, prefix=f"split{s}_"))
            row.update(_paper(reference, 6, key, str(s), prefix=f"split{s}_"))
            for m in _METRICS:
                means[m].append(np.nan if got is None else got[m])
            counts.append(0 if got is None else int(got["n_seeds"]))
        row.update(
            {
                "avg_top1": float(np.mean(means["top1"])),
                "avg_top1_std": np.nan,
                "avg_top5": float(np.mean(means["top5"])),
                "avg_top5_std": np.nan,
                "avg_n_seeds": min(counts),
            }
        )
        row.update(_paper(reference, 6, key, "average", prefix="avg_"))
        rows.append(row)
    _raise_missing(missing, "Table 6")
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Per-video scores and the ensemble of Table 7
# --------------------------------------------------------------------------------------------


def read_scores(path: str | Path) -> pd.DataFrame:
    """Read a per-video score file: columns ``video``, ``label`` and one ``score_<k>`` per class.

    Raises:
        FileNotFoundError: missing file.
        ValueError: no ``video``/``label`` column or no ``score_*`` columns.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"per-video score file not found: {path}")
    df = pd.read_csv(path)
    _check_scores(df, str(path))
    return df


def _score_columns(df: pd.DataFrame) -> list[str]:
    cols = [c for c in df.columns if str(c).startswith("score_")]
    return sorted(cols, key=lambda c: int(str(c).split("_", 1)[1]))


def _check_scores(df: pd.DataFrame, name: str) -> None:
    for col in ("video", "label"):
        if col not in df.columns:
            raise ValueError(f"{name}: per-video scores need a {col!r} column")
    if not _score_columns(df):
        raise ValueError(f"{name}: per-video scores need 'score_<class>' columns")
    if df["video"].duplicated().any():
        raise ValueError(f"{name}: a video appears twice in the per-video scores")


def topk_accuracy(scores: pd.DataFrame, k: int) -> float:
    """Top-k accuracy in % of a per-video score table (a video is right when its label is among
    the ``k`` highest scores; ties broken towards the lower class index, as ``torch.topk``).

    Raises:
        ValueError: ``k`` < 1 or larger than the number of classes; malformed table.
    """
    _check_scores(scores, "scores")
    cols = _score_columns(scores)
    if not 1 <= k <= len(cols):
        raise ValueError(f"k must be in [1, {len(cols)}], got {k}")
    s = scores[cols].to_numpy(dtype=np.float64)
    labels = scores["label"].to_numpy(dtype=np.int64)
    if ((labels < 0) | (labels >= len(cols))).any():
        raise ValueError(f"labels must be in [0, {len(cols) - 1}]")
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    hit = (order == labels[:, None]).any(axis=1)
    return float(100.0 * hit.mean()) if len(hit) else math.nan


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
            }
        )
    return pd.DataFrame(out, columns=list(RUN_COLUMNS))


def table7(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    ensemble_members: Sequence[str],
) -> pd.DataFrame:
    """Table 7: VIPriors models, train → validation and train+validation → test (Sec. 4.5).

    Validation rows reuse the UCF-101 validation runs (RandAug / RandAug-T are the best
    spatial / temporal+ grid points of :func:`table2`); test rows use ``vipriors_test`` runs; the
    ensemble row averages the per-video scores of ``ensemble_members`` (:func:`ensemble_runs`).

    Returns:
        Columns ``key``, ``train_data``, ``test_data``, ``augmentation``, ``regularization``,
        ``others``, our statistics, ``paper_top1``, ``paper_top5``.

    Raises:
        MissingRunsError: a row has no runs.
    """
    val = summarize(runs[runs["benchmark"] == "ucf101_val"], _GROUP)
    test_runs = runs[runs["benchmark"] == "vipriors_test"]
    ens = ensemble_runs(runs, members=ensemble_members)
    test = summarize(
        pd.concat([test_runs, ens], ignore_index=True), ["benchmark", "split", "recipe"]
    )
    grid = randaug_grid_table(runs)
    rows, missing = [], []
    for key, train, tst, aug, reg, others in TABLE7_ROWS:
        where, recipe = key.split("/", 1)
        if key == "val/randaug":
            got = _best_grid_point(grid, "randaug_spatial")
        elif key == "val/randaugt":
            got = _best_grid_point(grid, "randaug_temporal_plus")
        elif where == "val":
            got = _pick(val, benchmark="ucf101_val", recipe=recipe)
        else:
            got = _pick(test, benchmark="vipriors_test", recipe=recipe)
        if got is None:
            missing.append(key)
        rows.append(
            {
                "key": key,
                "train_data": train,
                "test_data": tst,
                "augmentation": aug,
                "regularization": reg,
                "others": others,
                **_ours(got),
                **_paper(reference, 7, key),
            }
        )
    _raise_missing(missing, "Table 7")
    return pd.DataFrame(rows)


def table8(t7: pd.DataFrame, reference: pd.DataFrame, *, backbone: str) -> pd.DataFrame:
    """Table 8: the challenge entries (paper's numbers only) and our two final models (Sec. 4.5).

    Our rows are Table 7's ``test/randaugt_fademixup`` (single model; the paper's 82.2) and
    ``test/ensemble`` (the paper's 86.0).

    Args:
        t7: output of :func:`table7`.
        reference: the paper's numbers (the Table 8 rows are required).
        backbone: our model's name for the Backbone column.

    Returns:
        Columns ``key``, ``entry``, ``backbone``, ``two_stream``, ``ensemble``, ``top1``,
        ``top1_std``, ``n_seeds`` (ours, NaN/0 for other teams) and ``paper_top1``.

    Raises:
        ValueError: the reference lacks Table 8 or ``t7`` lacks our rows.
    """
    ref8 = reference[reference["table"] == 8]
    if ref8.empty:
        raise ValueError("reference has no Table 8 rows")
    ours = {"ours_single": "test/randaugt_fademixup", "ours_ensemble": "test/ensemble"}
    rows = []
    for _, ref in ref8.iterrows():
        row = {
            "key": ref["key"],
            "entry": ref["label"],
            "backbone": ref["backbone"],
            "two_stream": ref["two_stream"],
            "ensemble": ref["ensemble"],
            "top1": np.nan,
            "top1_std": np.nan,
            "n_seeds": 0,
            "paper_top1": float(ref["top1"]),
        }
        if ref["key"] in ours:
            hit = t7[t7["key"] == ours[ref["key"]]]
            if hit.empty:
                raise ValueError(
                    f"Table 7 has no row {ours[ref['key']]!r} for Table 8's {ref['key']!r}"
                )
            row.update(
                entry="Ours (RandAug-T + FadeMixUp)"
                if ref["key"] == "ours_single"
                else "Ours (ensemble)",
                backbone=backbone,
                top1=hit.iloc[0]["top1"],
                top1_std=hit.iloc[0]["top1_std"],
                n_seeds=int(hit.iloc[0]["n_seeds"]),
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def format_value(mean: float, std: float = math.nan, n: int = 1, *, decimals: int = 2) -> str:
    """``"12.34"`` for one seed, ``"12.34 ± 0.56 (n=3)"`` for several, ``"—"`` for no value."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)) or n == 0:
        return "—"
    if n > 1 and std is not None and not math.isnan(std):
        return f"{mean:.{decimals}f} ± {std:.{decimals}f} (n={int(n)})"
    return f"{mean:.{decimals}f}"


def _paper_str(v: float, decimals: int = 2) -> str:
    return "—" if v is None or math.isnan(v) else f"{v:.{decimals}f}"


def _display(table: int, df: pd.DataFrame) -> pd.DataFrame:
    """String form of a numeric table: ours and paper in separate, labelled columns."""
    out = pd.DataFrame()
    if table == 8:
        out["Entry"] = df["entry"]
        out["Backbone"] = df["backbone"]
        out["Two-stream"] = df["two_stream"]
        out["Ensemble"] = df["ensemble"]
        out["Top-1 (ours)"] = [
            format_value(m, s, n, decimals=2)
            for m, s, n in zip(df["top1"], df["top1_std"], df["n_seeds"], strict=True)
        ]
        out["Top-1 (paper)"] = [_paper_str(v, 1) for v in df["paper_top1"]]
        return out
    if table == 6:
        out["Method"] = df["method"]
        for s in [
            c[: -len("_top1")]
            for c in df.columns
            if c.endswith("_top1") and not c.endswith("paper_top1")
        ]:
            name = "Average" if s == "avg" else f"Split-{s.removeprefix('split')}"
            for m, mlabel in (("top1", "Top-1"), ("top5", "Top-5")):
                out[f"{name} {mlabel} (ours)"] = [
                    format_value(a, b, c)
                    for a, b, c in zip(
                        df[f"{s}_{m}"], df[f"{s}_{m}_std"], df[f"{s}_n_seeds"], strict=True
                    )
                ]
                out[f"{name} {mlabel} (paper)"] = [_paper_str(v) for v in df[f"{s}_paper_{m}"]]
        return out
    if table == 7:
        out["Train Data"] = df["train_data"]
        out["Test Data"] = df["test_data"]
        out["Augmentation"] = df["augmentation"]
        out["Regularization"] = df["regularization"]
        out["Others"] = df["others"]
    else:
        out["Method"] = df["method"]
        if table == 2:
            out["N, M"] = [
                "" if math.isnan(n) else f"{int(n)}, {int(m)}"
                for n, m in zip(df["N"], df["M"], strict=True)
            ]
    for m, mlabel in (("top1", "Top-1"), ("top5", "Top-5")):
        out[f"{mlabel} (ours)"] = [
            format_value(a, b, c)
            for a, b, c in zip(df[m], df[f"{m}_std"], df["n_seeds"], strict=True)
        ]
        out[f"{mlabel} (paper)"] = [_paper_str(v) for v in df[f"paper_{m}"]]
    return out


def markdown_table(display: pd.DataFrame, caption: str = "") -> str:
    """A GitHub-flavoured Markdown table of string cells, preceded by ``caption`` in italics."""

    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in display.columns) + " |"
    rule = "|" + "|".join("---" for _ in display.columns) + "|"
    body = [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in display.itertuples(index=False)
    ]
    lines = ([f"*{caption}*", ""] if caption else []) + [header, rule, *body]
    return "\n".join(lines) + "\n"


_DATASETS = {
    "ucf101_val": "UCF-101, VIPriors mod-UCF101 split, train → validation",
    "hmdb51": "HMDB-51, official splits, train → test",
    "vipriors_test": "UCF-101, VIPriors mod-UCF101 split, train → validation and train+validation → test",
    "challenge": "1st VIPriors action-recognition challenge",
}


def caption(
    params: Mapping[str, Any], table: int, title: str, benchmark: str, evaluation: str = ""
) -> str:
    """The caption of a table: what it reproduces and which profile and data produced our numbers.

    Args:
        params: the pipeline parameters the runs used (``profile``, ``seeds``).
        table: the paper's table number.
        title: the paper's title of the table.
        benchmark: ``ucf101_val``, ``hmdb51``, ``vipriors_test`` or ``challenge`` (Table 8).
        evaluation: optional sentence on the evaluation set (:func:`evaluation_summary`).

    Returns:
        One paragraph, e.g. ``"Table 4 — Data Cut-and-paste Results. … Ours: profile `synthetic` …"``.
    """
    profile = params["profile"]
    seeds = list(params["seeds"])
    epochs = profile["train"].get("optim", {}).get("epochs", "?")
    if profile["name"] == "synthetic":
        data = (
            "generated videos written in the official on-disk layout (tempaug.data.synthetic), "
            "NOT the real dataset: our absolute numbers are not comparable with the paper's"
        )
    else:
        data = "the real dataset"
    runs = (
        f"{len(seeds)} seeds, mean ± sample std (n = seeds)"
        if len(seeds) > 1
        else f"1 seed ({seeds[0]})"
    )
    return (
        f"Table {table} — {title}. {_DATASETS.get(benchmark, benchmark)}. "
        f"Ours: profile `{profile['name']}`, {data}; {profile['backbone']}, {epochs} epochs, {runs}."
        + (f" {evaluation}" if evaluation else "")
        + f" Paper: Kim et al., ECCV-W 2020, Table {table} (SlowFast-50 trained from scratch on the "
        "real data), transcribed in results/paper_reference.csv and shown beside ours, never mixed in. "
        "Top-1 / Top-5 in %."
    )


def evaluation_summary(runs: pd.DataFrame) -> str:
    """One sentence on the evaluation sets behind ``runs``: videos, classes and chance level.

    Read from the runs' per-video score files (one per benchmark and split), e.g.
    ``"Evaluated on 30 videos (ucf101_val), 6 classes: chance is 16.7 % top-1, 83.3 % top-5."``

    Raises:
        ValueError: a run has no per-video scores.
    """
    parts, classes = [], set()
    for (bench, split), group in runs.groupby(["benchmark", "split"], sort=True):
        path = group["scores_path"].iloc[0]
        if not path:
            raise ValueError(f"run {group['run_id'].iloc[0]} has no per-video scores")
        scores = read_scores(path)
        classes.add(len(_score_columns(scores)))
        parts.append(f"{len(scores)} videos ({bench}{f' split {split}' if split else ''})")
    k = sorted(classes)
    chance = "; ".join(f"{100 / n:.1f} % top-1, {100 * min(5, n) / n:.1f} % top-5" for n in k)
    return f"Evaluated on {', '.join(parts)}, {'/'.join(map(str, k))} classes: chance is {chance}."


def render_table(table: int, data: pd.DataFrame, caption: str) -> RenderedTable:
    """Pair a numeric table from the builders above with its display form and caption.

    Raises:
        ValueError: ``table`` not in 2..8 or an empty caption (every table names its source).
    """
    if table not in range(2, 9):
        raise ValueError(f"table must be in 2..8, got {table!r}")
    if not caption.strip():
        raise ValueError("caption must name the profile and dataset that produced the table")
    return RenderedTable(data=data, display=_display(table, data), caption=caption)


def render_grid_table(grid: pd.DataFrame, caption: str) -> RenderedTable:
    """Render :func:`randaug_grid_table` (every N, M of Table 2's search) with its caption."""
    if not caption.strip():
        raise ValueError("caption must name the profile and dataset that produced the table")
    labels = {mode: label for mode, _, label in RANDAUG_MODES}
    display = pd.DataFrame(
        {
            "Range": grid["mode"].map(labels),
            "N": grid["randaug_num_ops"].astype(int),
            "M": grid["randaug_magnitude"].astype(int),
            "Top-1 (ours)": [
                format_value(a, b, c)
                for a, b, c in zip(grid["top1"], grid["top1_std"], grid["n_seeds"], strict=True)
            ],
            "Top-5 (ours)": [
                format_value(a, b, c)
                for a, b, c in zip(grid["top5"], grid["top5_std"], grid["n_seeds"], strict=True)
            ],
        }
    )
    return RenderedTable(data=grid, display=display, caption=caption)


def table7_val_recipes(ucf101_randaug: Sequence[str] = ()) -> list[str]:
    """UCF-101 validation recipes whose runs Table 7's train → validation rows read.

    ``val/randaug`` and ``val/randaugt`` are the best ``randaug_spatial`` / ``randaug_temporal_plus``
    grid points; the other ``val/<recipe>`` rows name their recipe.
    """
    out = []
    for key, *_ in TABLE7_ROWS:
        where, recipe = key.split("/", 1)
        if where != "val":
            continue
        out.append(
            {"randaug": "randaug_spatial", "randaugt": "randaug_temporal_plus"}.get(recipe, recipe)
        )
    return list(dict.fromkeys([*out, *ucf101_randaug]))


def write_table(rendered: RenderedTable, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.csv`` (numeric data, with a ``# caption`` first line) and ``<stem>.md``.

    Both files are written atomically (temp file + ``os.replace``).

    Returns:
        The CSV and Markdown paths.
    """
    out_dir = Path(out_dir)
    csv_text = f"# {rendered.caption}\n" + rendered.data.to_csv(
        index=False, float_format="%.4f", lineterminator="\n"
    )
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    atomic_write_text(csv_path, csv_text)
    atomic_write_text(md_path, markdown_table(rendered.display, rendered.caption))
    return csv_path, md_path
