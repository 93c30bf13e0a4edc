"""Assemble per-run results into the paper's Tables 2–8, our numbers beside the paper's.

The builders group runs over seeds (:func:`~tempaug.analysis.run_records.summarize`), pick the
paper's rows (:mod:`tempaug.analysis.table_rows`) and put the paper's numbers
(:mod:`tempaug.analysis.reference`) in separate ``paper_*`` columns: they are shown beside ours,
never used in place of a missing run. A table whose runs are missing raises
:class:`~tempaug.analysis.run_records.MissingRunsError` instead of printing an incomplete table.

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

import numpy as np
import pandas as pd

from tempaug.analysis.reference import reference_for
from tempaug.analysis.run_records import _GROUP, _METRICS, _raise_missing, summarize
from tempaug.analysis.scores import ensemble_runs
from tempaug.analysis.table_rows import RANDAUG_MODES, TABLE6_ROWS, TABLE7_ROWS, TABLE_ROWS

__all__ = [
    "ablation_table",
    "randaug_grid_table",
    "table2",
    "table6",
    "table7",
    "table8",
]


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
