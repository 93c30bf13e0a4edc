"""Assemble per-run results into the paper's Tables 2–8, our numbers beside the paper's.

The builders pick the paper's rows (:mod:`tempaug.analysis.tables.rows`), compute each cell's mean
over replicates with its 95 % hierarchical bootstrap interval and the paired tests of each method
against the baseline and against its spatial counterpart
(:mod:`tempaug.analysis.statistics`, from the runs' per-video scores), and put the paper's numbers
(:mod:`~tempaug.analysis.tables.reference`) in separate ``paper_*`` columns: they are shown beside
ours, never used in place of a missing run. A table whose runs are missing raises
:class:`~tempaug.analysis.tables.records.MissingRunsError` instead of printing an incomplete table.

Columns of our numbers (Table 6 prefixes them with ``split<k>_`` / ``avg_``): ``top1``,
``top1_ci_lo``, ``top1_ci_hi``, the same for ``top5``, ``n_replicates``, ``train_top1`` (running
training top-1 of the last epoch, mean over replicates), ``num_classes``, ``counterpart`` (row key
or empty), and for ``vs`` in ``baseline`` / ``counterpart``: ``delta_vs_<vs>`` (top-1 points),
``delta_vs_<vs>_ci_lo``, ``delta_vs_<vs>_ci_hi``, ``p_vs_<vs>``. Runs without per-video scores
(hand-written records) give the mean of their ``top1``/``top5`` and NaN intervals and tests.

* Table 2 — RandAugment ranges on UCF-101 validation; each range is the best grid point (highest
  mean top-1) of its ``N × M`` grid (Sec. 4.2).
* Tables 3, 4, 5 — deleting, cut-and-paste and blending methods (Sec. 4.3).
* Table 6 — HMDB-51 splits 1–3 and their average (Sec. 4.4).
* Table 7 — VIPriors models, train → validation and train+validation → test, including the
  ensemble (Sec. 4.5).
* Table 8 — challenge entries (the paper's numbers only) next to our single model and ensemble.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tempaug.analysis.statistics import N_BOOT, Replicates, compare, correctness, estimate
from tempaug.analysis.tables.records import _METRICS, _raise_missing, summarize
from tempaug.analysis.tables.reference import reference_for
from tempaug.analysis.tables.rows import (
    COUNTERPARTS,
    RANDAUG_MODES,
    TABLE6_ROWS,
    TABLE7_ROWS,
    TABLE_ROWS,
)
from tempaug.analysis.tables.scores import ensemble_by_seed, ensemble_runs, run_replicates

__all__ = [
    "ablation_table",
    "randaug_grid_table",
    "table2",
    "table6",
    "table7",
    "table8",
]


@dataclass(frozen=True)
class _Cell:
    """A table cell's runs and, when they have per-video scores, their replicates (top-1, -5)."""

    runs: pd.DataFrame
    top1: Replicates | None
    top5: Replicates | None


def _cell(runs: pd.DataFrame, cache: dict, key: str = "seed") -> _Cell | None:
    if runs.empty:
        return None
    return _Cell(
        runs,
        run_replicates(runs, key=key, k=1, cache=cache),
        run_replicates(runs, key=key, k=5, cache=cache),
    )


def _select(
    runs: pd.DataFrame, *, benchmark: str, recipe: str, split: str = "", **extra
) -> pd.DataFrame:
    mask = (runs["benchmark"] == benchmark) & (runs["recipe"] == recipe) & (runs["split"] == split)
    for k, v in extra.items():
        mask &= runs[k] == v if not (isinstance(v, float) and np.isnan(v)) else runs[k].isna()
    return runs[mask]


def _ours(cell: _Cell | None, prefix: str = "", *, n_boot: int, seed: int) -> dict[str, object]:
    """Mean, 95 % interval and replicate count of top-1 / top-5, training top-1, class count."""
    out: dict[str, object] = {}
    for m in _METRICS:
        reps = None if cell is None else getattr(cell, m)
        if cell is None:
            mean = lo = hi = np.nan
        elif reps is None:
            mean, lo, hi = float(cell.runs[m].mean()), np.nan, np.nan
        else:
            e = estimate(reps, n_boot=n_boot, seed=seed)
            mean, lo, hi = e.mean, e.lo, e.hi
        out.update({f"{prefix}{m}": mean, f"{prefix}{m}_ci_lo": lo, f"{prefix}{m}_ci_hi": hi})
    out[f"{prefix}n_replicates"] = 0 if cell is None else len(cell.runs)
    train = np.nan if cell is None else cell.runs["train_top1"].astype(float)
    out[f"{prefix}train_top1"] = np.nan if cell is None or train.isna().all() else train.mean()
    out[f"{prefix}num_classes"] = 0 if cell is None else int(cell.runs["num_classes"].max())
    return out


def _versus(
    a: _Cell | None,
    b: _Cell | None,
    vs: str,
    prefix: str = "",
    *,
    n_boot: int,
    seed: int,
    what: str,
) -> dict[str, float]:
    """Paired test of top-1 of ``a`` − ``b`` (NaN when either is missing or lacks scores)."""
    names = [f"{prefix}delta_vs_{vs}{s}" for s in ("", "_ci_lo", "_ci_hi")] + [f"{prefix}p_vs_{vs}"]
    if a is None or b is None or a is b:
        return dict.fromkeys(names, np.nan)
    if a.top1 is None or b.top1 is None:
        delta = float(a.runs["top1"].mean() - b.runs["top1"].mean())
        return dict(zip(names, (delta, np.nan, np.nan, np.nan), strict=True))
    try:
        c = compare(a.top1, b.top1, n_boot=n_boot, seed=seed)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from exc
    return dict(zip(names, (c.delta, c.lo, c.hi, c.p_value), strict=True))


def _statistics(
    cells: Mapping[str, _Cell | None],
    baselines: Mapping[str, str],
    counterparts: Mapping[str, str],
    prefix: str = "",
    *,
    n_boot: int,
    seed: int,
    table: str,
) -> dict[str, dict[str, object]]:
    """Per row key: our statistics and the paired tests against baseline and counterpart."""
    out = {}
    for key, cell in cells.items():
        row = _ours(cell, prefix, n_boot=n_boot, seed=seed)
        partner = counterparts.get(key, "")
        partner = partner if partner in cells else ""
        row[f"{prefix}counterpart"] = partner
        for vs, other in (("baseline", baselines.get(key, "")), ("counterpart", partner)):
            ref = cells.get(other) if other and other != key else None
            row.update(
                _versus(
                    cell,
                    ref,
                    vs,
                    prefix,
                    n_boot=n_boot,
                    seed=seed,
                    what=f"{table}: {key} vs {other}",
                )
            )
        out[key] = row
    return out


def _paper(
    reference: pd.DataFrame | None, table: int, key: str, split: str = "", prefix: str = ""
) -> dict[str, float]:
    ref = None if reference is None else reference_for(reference, table, key, split)
    return {
        f"{prefix}paper_top1": np.nan if ref is None else float(ref["top1"]),
        f"{prefix}paper_top5": np.nan if ref is None else float(ref["top5"]),
    }


def _grid_summary(runs: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Mean top-1/top-5 of every RandAugment grid point (the ranking behind Table 2's rows)."""
    recipes = {recipe: mode for mode, recipe, _ in RANDAUG_MODES}
    sub = runs[(runs["benchmark"] == benchmark) & runs["recipe"].isin(recipes)]
    summary = summarize(sub, ["recipe", "randaug_num_ops", "randaug_magnitude"])
    summary.insert(0, "mode", summary["recipe"].map(recipes))
    order = {recipe: i for i, (_, recipe, _) in enumerate(RANDAUG_MODES)}
    summary = summary.assign(_o=summary["recipe"].map(order))
    summary = summary.sort_values(["_o", "randaug_num_ops", "randaug_magnitude"]).drop(columns="_o")
    return summary.reset_index(drop=True)


def randaug_grid_table(
    runs: pd.DataFrame,
    *,
    benchmark: str = "ucf101_val",
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Every RandAugment grid point of Table 2 (Sec. 4.2: N ∈ {1,2,3}, M ∈ {3,5,10} in the paper).

    Returns:
        Columns ``mode``, ``recipe``, ``randaug_num_ops``, ``randaug_magnitude`` and our
        statistics (``top1``, ``top1_ci_lo``, ``top1_ci_hi``, the same for ``top5``,
        ``n_replicates``, ``train_top1``, ``num_classes``), in the paper's mode order then by N, M.
    """
    grid = _grid_summary(runs, benchmark)
    cache: dict = {}
    rows = []
    for _, g in grid.iterrows():
        cell = _cell(
            _select(
                runs,
                benchmark=benchmark,
                recipe=g["recipe"],
                randaug_num_ops=g["randaug_num_ops"],
                randaug_magnitude=g["randaug_magnitude"],
            ),
            cache,
        )
        rows.append(
            {
                "mode": g["mode"],
                "recipe": g["recipe"],
                "randaug_num_ops": g["randaug_num_ops"],
                "randaug_magnitude": g["randaug_magnitude"],
                **_ours(cell, n_boot=n_boot, seed=seed),
            }
        )
    cols = ["mode", "recipe", "randaug_num_ops", "randaug_magnitude"]
    return pd.DataFrame(rows, columns=None if rows else cols)


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


def _best_grid_runs(
    runs: pd.DataFrame, grid: pd.DataFrame, recipe: str, benchmark: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    best = _best_grid_point(grid, recipe)
    if best is None:
        return runs.iloc[:0], None
    sel = _select(
        runs,
        benchmark=benchmark,
        recipe=recipe,
        randaug_num_ops=best["randaug_num_ops"],
        randaug_magnitude=best["randaug_magnitude"],
    )
    return sel, best


def _plain(runs: pd.DataFrame, benchmark: str, recipe: str, split: str = "") -> pd.DataFrame:
    """Runs of one configuration of a recipe; grid points (``N``, ``M`` given) are left out
    where the recipe also has runs without them.

    Raises:
        ValueError: several grid points match and none is a plain run.
    """
    sel = _select(runs, benchmark=benchmark, recipe=recipe, split=split)
    configs = sel[["randaug_num_ops", "randaug_magnitude"]].drop_duplicates()
    if len(configs) <= 1:
        return sel
    plain = sel[sel["randaug_num_ops"].isna()]
    if plain.empty:
        raise ValueError(
            f"{len(configs)} run groups match benchmark={benchmark!r} recipe={recipe!r} "
            f"split={split!r}; give the grid point (randaug_num_ops, randaug_magnitude)"
        )
    return plain


def table2(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    benchmark: str = "ucf101_val",
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Table 2: baseline and the best grid point of each RandAugment range (Sec. 4.2).

    Each temporal range is tested against the baseline and against RandAugment spatial
    (:data:`~tempaug.analysis.tables.rows.COUNTERPARTS`).

    Args:
        runs: run table; RandAugment runs carry ``randaug_num_ops`` / ``randaug_magnitude``.
        reference: the paper's numbers (:func:`~tempaug.analysis.tables.reference.load_reference`).
        benchmark: which benchmark's runs to use.
        n_boot: bootstrap draws of every interval and test.
        seed: the bootstrap's seed.

    Returns:
        Rows ``baseline`` then the four ranges; columns ``key``, ``method``, ``N``, ``M``, our
        statistics (module notes), ``paper_top1``, ``paper_top5``.

    Raises:
        MissingRunsError: the baseline or a range has no runs.
        ValueError: a method's seeds differ from the baseline's or counterpart's.
    """
    grid = _grid_summary(runs, benchmark)
    cache: dict = {}
    info, cells, missing = {}, {}, []
    base = _plain(runs, benchmark, "baseline")
    cells["baseline"] = _cell(base, cache)
    info["baseline"] = {"key": "baseline", "method": "Baseline", "N": np.nan, "M": np.nan}
    for _, recipe, label in RANDAUG_MODES:
        sel, best = _best_grid_runs(runs, grid, recipe, benchmark)
        cells[recipe] = _cell(sel, cache)
        info[recipe] = {
            "key": recipe,
            "method": label,
            "N": np.nan if best is None else best["randaug_num_ops"],
            "M": np.nan if best is None else best["randaug_magnitude"],
        }
    missing = [k for k, c in cells.items() if c is None]
    _raise_missing(missing, "Table 2")
    stats = _statistics(
        cells,
        dict.fromkeys(cells, "baseline"),
        COUNTERPARTS[2],
        n_boot=n_boot,
        seed=seed,
        table="Table 2",
    )
    return pd.DataFrame([{**info[k], **stats[k], **_paper(reference, 2, k)} for k in cells])


def ablation_table(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    table: int,
    benchmark: str = "ucf101_val",
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Tables 3 (deleting), 4 (cut-and-paste) and 5 (blending) on UCF-101 validation (Sec. 4.3).

    Each method is tested against the baseline and against its spatial counterpart
    (FrameCutOut/CubeCutOut → CutOut, Frame/CubeCutMix → CutMix, Frame/CubeCutMixUp → CutMixUp,
    FadeMixUp → MixUp).

    Args:
        runs: run table.
        reference: the paper's numbers.
        table: 3, 4 or 5.
        benchmark: which benchmark's runs to use.
        n_boot: bootstrap draws of every interval and test.
        seed: the bootstrap's seed.

    Returns:
        One row per :data:`TABLE_ROWS` entry; columns ``key``, ``method``, our statistics,
        ``paper_top1``, ``paper_top5``.

    Raises:
        ValueError: ``table`` not in {3, 4, 5}; a method's seeds differ from the baseline's.
        MissingRunsError: a row has no runs.
    """
    if table not in TABLE_ROWS:
        raise ValueError(f"table must be one of {sorted(TABLE_ROWS)}, got {table!r}")
    cache: dict = {}
    cells = {r: _cell(_plain(runs, benchmark, r), cache) for r, _ in TABLE_ROWS[table]}
    _raise_missing([k for k, c in cells.items() if c is None], f"Table {table}")
    stats = _statistics(
        cells,
        dict.fromkeys(cells, "baseline"),
        COUNTERPARTS[table],
        n_boot=n_boot,
        seed=seed,
        table=f"Table {table}",
    )
    return pd.DataFrame(
        [
            {"key": r, "method": label, **stats[r], **_paper(reference, table, r)}
            for r, label in TABLE_ROWS[table]
        ]
    )


def table6(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    recipes: Mapping[str, str] | None = None,
    splits: Sequence[int] = (1, 2, 3),
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Table 6: HMDB-51 splits 1–3 and the per-method average over splits (Sec. 4.4).

    A split's cell: replicates = seeds on that split (one seed: a bootstrap over its test
    videos). The Average: the mean over splits of the per-split means, as in the paper's Average
    column; its interval and tests treat each (split, seed) run as a replicate (the splits' test
    videos differ, so videos are resampled within each drawn replicate) and pair by split and
    seed. Runs are found by their records' ``benchmark``/``split``/``recipe``/``seed`` only.

    Args:
        runs: run table (``benchmark == "hmdb51"``, ``split`` "1".."3").
        reference: the paper's numbers.
        recipes: reference key → our recipe for rows whose run uses another name (e.g.
            ``{"framecutmix": "framecutmix_a5"}``); by default the key itself.
        splits: the split numbers to show.
        n_boot: bootstrap draws of every interval and test.
        seed: the bootstrap's seed.

    Returns:
        Columns ``key``, ``method``, ``recipe``, then for ``s`` in ``split1`` … and ``avg``: our
        statistics prefixed ``{s}_`` (module notes) and ``{s}_paper_top1``, ``{s}_paper_top5``.

    Raises:
        MissingRunsError: a (method, split) cell has no runs.
    """
    recipes = dict(recipes or {})
    cache: dict = {}
    keys = [k for k, _ in TABLE6_ROWS]
    bench = runs[runs["benchmark"] == "hmdb51"]
    missing, per_split = [], {}
    for s in splits:
        cells = {}
        for key in keys:
            cells[key] = _cell(_plain(bench, "hmdb51", recipes.get(key, key), str(s)), cache)
            if cells[key] is None:
                missing.append(f"{recipes.get(key, key)} (split {s})")
        per_split[s] = cells
    _raise_missing(missing, "Table 6")
    avg_cells = {}
    for key in keys:
        sel = pd.concat([per_split[s][key].runs for s in splits])  # type: ignore[union-attr]
        avg_cells[key] = _cell(sel, cache, key="split_seed")
    base = dict.fromkeys(keys, "baseline")
    stats = {
        f"split{s}_": _statistics(
            per_split[s],
            base,
            COUNTERPARTS[6],
            f"split{s}_",
            n_boot=n_boot,
            seed=seed,
            table=f"Table 6 split {s}",
        )
        for s in splits
    }
    stats["avg_"] = _statistics(
        avg_cells, base, COUNTERPARTS[6], "avg_", n_boot=n_boot, seed=seed, table="Table 6 average"
    )
    rows = []
    for key, label in TABLE6_ROWS:
        row: dict[str, object] = {"key": key, "method": label, "recipe": recipes.get(key, key)}
        for s in splits:
            row.update(stats[f"split{s}_"][key])
            row.update(_paper(reference, 6, key, str(s), prefix=f"split{s}_"))
        avg = stats["avg_"][key]
        for m in _METRICS:  # the paper's Average: mean over splits of the per-split means
            avg[f"avg_{m}"] = float(np.mean([row[f"split{s}_{m}"] for s in splits]))
        row.update(avg)
        row.update(_paper(reference, 6, key, "average", prefix="avg_"))
        rows.append(row)
    return pd.DataFrame(rows)


def _ensemble_cell(runs: pd.DataFrame, members: Sequence[str]) -> _Cell | None:
    """The ensemble's pseudo-runs (one per seed) and its per-video correctness per seed."""
    ens = ensemble_runs(runs, members=members)
    if ens.empty:
        return None
    blocks = ensemble_by_seed(runs, members)
    reps = {
        k: {int(s): correctness(b.drop(columns="seed"), k) for s, b in blocks.groupby("seed")}
        for k in (1, 5)
    }
    return _Cell(ens, reps[1], reps[5])


def table7(
    runs: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    ensemble_members: Sequence[str],
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Table 7: VIPriors models, train → validation and train+validation → test (Sec. 4.5).

    Validation rows reuse the UCF-101 validation runs (RandAug / RandAug-T are the best
    spatial / temporal+ grid points of :func:`table2`); test rows use ``vipriors_test`` runs; the
    ensemble row averages the per-video scores of ``ensemble_members`` (:func:`ensemble_runs`).
    Validation rows are tested against ``val/baseline``, test rows against ``test/baseline``;
    RandAug-T against RandAug, and RandAug-T + X (and the ensemble) against RandAug-T alone.

    Returns:
        Columns ``key``, ``train_data``, ``test_data``, ``augmentation``, ``regularization``,
        ``others``, our statistics (module notes), ``paper_top1``, ``paper_top5``.

    Raises:
        MissingRunsError: a row has no runs.
    """
    grid = _grid_summary(runs, "ucf101_val")
    cache: dict = {}
    cells: dict[str, _Cell | None] = {}
    for key, *_ in TABLE7_ROWS:
        where, recipe = key.split("/", 1)
        if key in ("val/randaug", "val/randaugt"):
            mode = "randaug_spatial" if key == "val/randaug" else "randaug_temporal_plus"
            sel = _best_grid_runs(runs, grid, mode, "ucf101_val")[0]
        elif key == "test/ensemble":
            cells[key] = _ensemble_cell(runs, ensemble_members)
            continue
        else:
            bench = "ucf101_val" if where == "val" else "vipriors_test"
            sel = _plain(runs, bench, recipe)
        cells[key] = _cell(sel, cache)
    _raise_missing([k for k, c in cells.items() if c is None], "Table 7")
    baselines = {k: f"{k.split('/', 1)[0]}/baseline" for k in cells}
    stats = _statistics(
        cells, baselines, COUNTERPARTS[7], n_boot=n_boot, seed=seed, table="Table 7"
    )
    rows = []
    for key, train, tst, aug, reg, others in TABLE7_ROWS:
        rows.append(
            {
                "key": key,
                "train_data": train,
                "test_data": tst,
                "augmentation": aug,
                "regularization": reg,
                "others": others,
                **stats[key],
                **_paper(reference, 7, key),
            }
        )
    return pd.DataFrame(rows)


#: Table 7's columns carried into Table 8's rows of ours.
_T8_OURS = (
    "top1",
    "top1_ci_lo",
    "top1_ci_hi",
    "n_replicates",
    "train_top1",
    "num_classes",
    "counterpart",
    "delta_vs_baseline",
    "delta_vs_baseline_ci_lo",
    "delta_vs_baseline_ci_hi",
    "p_vs_baseline",
    "delta_vs_counterpart",
    "delta_vs_counterpart_ci_lo",
    "delta_vs_counterpart_ci_hi",
    "p_vs_counterpart",
)


def table8(t7: pd.DataFrame, reference: pd.DataFrame, *, backbone: str) -> pd.DataFrame:
    """Table 8: the challenge entries (paper's numbers only) and our two final models (Sec. 4.5).

    Our rows are Table 7's ``test/randaugt_fademixup`` (single model; the paper's 82.2) and
    ``test/ensemble`` (the paper's 86.0), with their intervals and tests (against our test
    baseline and RandAug-T). Table 7's ``test/baseline`` row is kept in ``attrs["baseline"]``
    for the caption's train–test gap.

    Args:
        t7: output of :func:`table7`.
        reference: the paper's numbers (the Table 8 rows are required).
        backbone: our model's name for the Backbone column.

    Returns:
        Columns ``key``, ``entry``, ``backbone``, ``two_stream``, ``ensemble``, Table 7's
        statistics of ours (NaN / 0 / empty for other teams) and ``paper_top1``.

    Raises:
        ValueError: the reference lacks Table 8 or ``t7`` lacks our rows.
    """
    ref8 = reference[reference["table"] == 8]
    if ref8.empty:
        raise ValueError("reference has no Table 8 rows")
    ours = {"ours_single": "test/randaugt_fademixup", "ours_ensemble": "test/ensemble"}
    empty = {c: (0 if c in ("n_replicates", "num_classes") else np.nan) for c in _T8_OURS}
    empty["counterpart"] = ""
    rows = []
    for _, ref in ref8.iterrows():
        row = {
            "key": ref["key"],
            "entry": ref["label"],
            "backbone": ref["backbone"],
            "two_stream": ref["two_stream"],
            "ensemble": ref["ensemble"],
            **empty,
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
                **{c: hit.iloc[0][c] for c in _T8_OURS if c in hit.columns},
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    base = t7[t7["key"] == "test/baseline"]
    if not base.empty:
        out.attrs["baseline"] = {c: base.iloc[0][c] for c in ("top1", "train_top1", "n_replicates")}
    return out
