"""ImageNet-C style metrics for the temporal-perturbation suite (Kim et al. 2020, Section 4.6).

Input is one row per *(method, perturbation, severity, video)* — the per-video correctness
produced by :func:`tempaug.analysis.robustness.evaluation.evaluate_robustness` — with the clean
evaluation stored as perturbation ``"clean"``, severity 0. From it:

* **accuracy** per method × perturbation × severity (top-1, per video after view averaging);
* **corruption accuracy** of a perturbation: mean accuracy over its severities (1–5 by default);
* **mCA** (mean corruption accuracy): mean over all perturbations of the corruption accuracy
  (ImageNet-C's mean over corruptions and severities, with accuracy instead of error and no
  AlexNet normalisation, since there is no reference model here); ``mCA (temporal)`` excludes the
  stationary control;
* **relative drop** vs clean: ``1 - acc / clean_acc`` — the fraction of clean accuracy lost
  (0 = unaffected; the ImageNet-C "relative" idea, normalised per model by its own clean score);
* 95 % percentile intervals from the analysis' one bootstrap,
  :func:`tempaug.analysis.statistics.bootstrap_means`: hierarchical, the training seeds (an
  optional ``seed`` column; none means one seed) are the replicates and share their test videos,
  so each draw resamples the seeds, then one set of videos for all of them. The point estimate is
  the mean over seeds and videos. All conditions of a method are resampled together, methods with
  the same numbers of seeds and videos get the same draws (the bootstrap's seed is shared), and
  :func:`paired_difference` resamples its two methods in one call, so drops, aggregates and
  method differences are paired (seeds by value, videos by id).

Tables are pandas DataFrames; :func:`write_csv` / :func:`write_markdown` write them atomically.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tempaug.analysis.robustness.perturbations import CONTROL_PERTURBATIONS, PERTURBATIONS
from tempaug.analysis.statistics import bootstrap_means, percentile_interval
from tempaug.io import atomic_write_text
from tempaug.markdown import markdown_table

__all__ = [
    "CLEAN",
    "RECORD_COLUMNS",
    "describe_comparison",
    "paired_difference",
    "plot_robustness_heatmap",
    "robustness_markdown",
    "severity_table",
    "summary_table",
    "write_csv",
    "write_markdown",
]

CLEAN = "clean"
"""Perturbation name of the unperturbed evaluation (severity 0)."""

RECORD_COLUMNS: tuple[str, ...] = ("method", "perturbation", "severity", "video", "correct")
"""Columns required in the per-video records."""

MCA = "mCA"
MCA_TEMPORAL = "mCA (temporal)"


def _check_records(records: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(records, pd.DataFrame):
        raise ValueError(f"records must be a pandas DataFrame, got {type(records).__name__}")
    missing = [c for c in RECORD_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(
            f"records is missing columns {missing}; required columns are {list(RECORD_COLUMNS)}"
        )
    if records.empty:
        raise ValueError("records is empty")
    bad = set(records["perturbation"]) - set(PERTURBATIONS) - {CLEAN}
    if bad:
        raise ValueError(
            f"records has unknown perturbations {sorted(bad)}; allowed: {[CLEAN, *PERTURBATIONS]}"
        )
    correct = pd.to_numeric(records["correct"], errors="coerce")
    if correct.isna().any() or not correct.between(0, 1).all():
        raise ValueError("records column 'correct' must hold 0/1 (or a fraction in [0, 1])")
    sev = records["severity"]
    if not sev.between(0, 5).all():
        raise ValueError("records severity must lie in [0, 5]")
    clean_rows = records["perturbation"] == CLEAN
    if not (sev[clean_rows] == 0).all() or (sev[~clean_rows] == 0).any():
        raise ValueError("records: severity 0 must be (only) the 'clean' perturbation")
    keys = ["method", "perturbation", "severity", "video"]
    if "seed" in records.columns:
        keys.insert(1, "seed")
    if records.duplicated(keys).any():
        raise ValueError(f"records has duplicate rows for {keys}")
    return records


def _seed_column(sub: pd.DataFrame) -> pd.DataFrame:
    """``sub`` with a ``seed`` column (a single seed 0 when the records have none)."""
    return sub if "seed" in sub.columns else sub.assign(seed=0)


def _method_matrix(
    records: pd.DataFrame, method: str
) -> tuple[list[tuple[str, int]], list, np.ndarray]:
    """Correctness ``(n_conditions, n_seeds, n_videos)`` of one method; conditions, seeds sorted.

    Returns:
        ``(conditions, seeds, matrix)``; records without a ``seed`` column have one seed, 0.
    """
    sub = _seed_column(records[records["method"] == method])
    seeds = sorted(pd.unique(sub["seed"]).tolist())
    videos = pd.unique(sub["video"])
    wide = sub.pivot(
        index=["perturbation", "severity"], columns=["seed", "video"], values="correct"
    )
    if wide.isna().any().any() or wide.shape[1] != len(seeds) * len(videos):
        raise ValueError(
            f"records for method {method!r}: every condition (and seed) must cover the same videos"
        )
    if (CLEAN, 0) not in wide.index:
        raise ValueError(f"records for method {method!r} has no 'clean' (severity 0) rows")
    order = [(CLEAN, 0)] + [
        (p, s) for p in PERTURBATIONS for s in range(1, 6) if (p, s) in wide.index
    ]
    wide = wide.loc[order].sort_index(axis=1)
    mat = wide.to_numpy(dtype=np.float64).reshape(len(order), len(seeds), len(videos))
    return order, seeds, mat


def _relative_drop(acc: np.ndarray, clean: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(clean > 0, 1.0 - acc / clean, np.nan)


def _check_boot_args(n_boot: int, confidence: float) -> None:
    if not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be an int >= 1, got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _method_stats(
    records: pd.DataFrame, method: str, *, n_boot: int, seed: int
) -> tuple[list[tuple[str, int]], np.ndarray, np.ndarray, int]:
    """Conditions, point accuracies ``(n_cond,)``, bootstrap accuracies ``(n_boot, n_cond)`` and
    the number of videos of one method (seeds are the replicates, sharing their videos)."""
    conds, _, mat = _method_matrix(records, method)
    draws = bootstrap_means(
        list(mat.transpose(1, 0, 2)), shared_videos=True, n_boot=n_boot, seed=seed
    )
    return conds, mat.mean(axis=(1, 2)), draws, mat.shape[2]


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------


def severity_table(
    records: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """Accuracy and relative drop per method × perturbation × severity, with bootstrap CIs.

    Args:
        records: per-video rows with :data:`RECORD_COLUMNS` (``correct`` is 0/1 or bool; an
            optional ``seed`` column adds training seeds to the bootstrap).
        n_boot: bootstrap replicates (resampling test videos).
        seed: seed of the bootstrap generator.
        confidence: interval level (0.95 → 2.5 % and 97.5 % percentiles).

    Returns:
        DataFrame with columns ``method, perturbation, severity, n_videos, accuracy, acc_low,
        acc_high, relative_drop, drop_low, drop_high``; the clean row has severity 0 and
        relative drop 0.

    Raises:
        ValueError: missing columns, unknown perturbations, conditions with different videos.
    """
    _check_records(records)
    _check_boot_args(n_boot, confidence)
    rows = []
    for method in pd.unique(records["method"]):
        conds, point, reps, n = _method_stats(records, method, n_boot=n_boot, seed=seed)
        lo, hi = percentile_interval(reps, confidence)
        drop = _relative_drop(point, point[0])
        drop_reps = _relative_drop(reps, reps[:, :1])
        dlo, dhi = percentile_interval(drop_reps, confidence)
        for i, (pert, sev) in enumerate(conds):
            rows.append(
                {
                    "method": method,
                    "perturbation": pert,
                    "severity": int(sev),
                    "n_videos": n,
                    "accuracy": point[i],
                    "acc_low": lo[i],
                    "acc_high": hi[i],
                    "relative_drop": drop[i],
                    "drop_low": dlo[i],
                    "drop_high": dhi[i],
                }
            )
    return pd.DataFrame(rows)


def summary_table(
    records: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """Per method: clean accuracy, corruption accuracy per perturbation, mCA, with CIs.

    The corruption accuracy of a perturbation is its mean accuracy over the severities present
    (1–5 in the pipeline); ``mCA`` averages those over all perturbations present, ``mCA (temporal)`` over all but the control
    (:data:`~tempaug.analysis.robustness.perturbations.CONTROL_PERTURBATIONS`). Relative drop is
    ``1 - acc / clean_acc``, bootstrapped paired with the clean accuracy.

    Args:
        records: per-video rows with :data:`RECORD_COLUMNS` (and optionally ``seed``).
        n_boot: bootstrap replicates.
        seed: seed of the bootstrap generator.
        confidence: interval level.

    Returns:
        Long DataFrame with columns ``method, perturbation, n_videos, accuracy, acc_low,
        acc_high, relative_drop, drop_low, drop_high``; ``perturbation`` runs over ``"clean"``,
        the perturbations present, ``"mCA"`` and ``"mCA (temporal)"``.
    """
    _check_records(records)
    _check_boot_args(n_boot, confidence)
    rows = []
    for method in pd.unique(records["method"]):
        conds, point, reps, n = _method_stats(records, method, n_boot=n_boot, seed=seed)
        perts = [p for p in PERTURBATIONS if any(c[0] == p for c in conds)]
        # aggregation matrix: columns = clean, each perturbation, mCA, mCA (temporal)
        names = [CLEAN, *perts, MCA, MCA_TEMPORAL]
        agg = np.zeros((len(conds), len(names)))
        agg[0, 0] = 1.0
        for j, p in enumerate(perts, start=1):
            idx = [i for i, c in enumerate(conds) if c[0] == p]
            agg[idx, j] = 1.0 / len(idx)
        agg[:, -2] = agg[:, 1 : 1 + len(perts)].mean(axis=1) if perts else np.nan
        temporal = [j for j, p in enumerate(perts, start=1) if p not in CONTROL_PERTURBATIONS]
        agg[:, -1] = agg[:, temporal].mean(axis=1) if temporal else np.nan
        p_point, p_reps = point @ agg, reps @ agg
        lo, hi = percentile_interval(p_reps, confidence)
        drop = _relative_drop(p_point, p_point[0])
        dlo, dhi = percentile_interval(_relative_drop(p_reps, p_reps[:, :1]), confidence)
        for j, name in enumerate(names):
            rows.append(
                {
                    "method": method,
                    "perturbation": name,
                    "n_videos": n,
                    "accuracy": p_point[j],
                    "acc_low": lo[j],
                    "acc_high": hi[j],
                    "relative_drop": drop[j],
                    "drop_low": dlo[j],
                    "drop_high": dhi[j],
                }
            )
    return pd.DataFrame(rows)


def paired_difference(
    records: pd.DataFrame,
    method_a: str,
    method_b: str,
    *,
    perturbations: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Paired bootstrap of ``relative_drop(a) - relative_drop(b)`` per perturbation.

    Both methods must be evaluated on the same videos; each replicate resamples videos once
    and recomputes both methods' drops, so the interval accounts for the pairing. A negative
    difference means ``method_a`` loses a smaller fraction of its clean accuracy.

    Args:
        records: per-video rows with :data:`RECORD_COLUMNS` (and optionally ``seed``).
        method_a: first method (e.g. ``"randaugment_temporal+"``).
        method_b: second method (e.g. ``"randaugment_spatial"``).
        perturbations: names to compare (default: every perturbation present, then mCA rows).
        n_boot: bootstrap replicates.
        seed: seed of the bootstrap generator.
        confidence: interval level.

    Returns:
        DataFrame with columns ``perturbation, drop_a, drop_b, difference, diff_low, diff_high,
        prob_a_better`` (share of replicates with a smaller drop for ``a``).

    Raises:
        ValueError: unknown method, or the methods were not evaluated on the same videos.
    """
    _check_records(records)
    _check_boot_args(n_boot, confidence)
    methods = set(records["method"])
    for m, arg in ((method_a, "method_a"), (method_b, "method_b")):
        if m not in methods:
            raise ValueError(f"{arg}={m!r} is not in records; methods: {sorted(methods)}")
    videos_a = set(records.loc[records["method"] == method_a, "video"])
    videos_b = set(records.loc[records["method"] == method_b, "video"])
    if videos_a != videos_b:
        raise ValueError(f"{method_a!r} and {method_b!r} must be evaluated on the same videos")
    seeds_a, seeds_b = (
        set(_seed_column(records[records["method"] == m])["seed"]) for m in (method_a, method_b)
    )
    if seeds_a != seeds_b:
        raise ValueError(
            f"{method_a!r} and {method_b!r} must be evaluated with the same training seeds, "
            f"got {sorted(seeds_a)} and {sorted(seeds_b)}"
        )
    (conds_a, _, mat_a), (conds_b, _, mat_b) = (
        _method_matrix(records, m) for m in (method_a, method_b)
    )
    if conds_a != conds_b:
        raise ValueError(f"{method_a!r} and {method_b!r} must share perturbations and severities")
    # one replicate per training seed holding both methods: every draw resamples both alike
    both = np.concatenate([mat_a, mat_b]).transpose(1, 0, 2)  # (seeds, 2·n_cond, videos)
    draws = bootstrap_means(list(both), shared_videos=True, n_boot=n_boot, seed=seed)
    k = len(conds_a)
    summaries = {
        method_a: (mat_a.mean(axis=(1, 2)), draws[:, :k]),
        method_b: (mat_b.mean(axis=(1, 2)), draws[:, k:]),
    }
    present = [p for p in PERTURBATIONS if any(c[0] == p for c in conds_a)]
    names = list(perturbations) if perturbations is not None else [*present, MCA, MCA_TEMPORAL]
    for p in names:
        if p not in (*present, MCA, MCA_TEMPORAL):
            raise ValueError(
                f"perturbation {p!r} not evaluated; allowed: {[*present, MCA, MCA_TEMPORAL]}"
            )
    agg = np.zeros((len(conds_a), len(names)))
    for j, p in enumerate(names):
        if p == MCA:
            members = present
        elif p == MCA_TEMPORAL:
            members = [q for q in present if q not in CONTROL_PERTURBATIONS]
        else:
            members = [p]
        for q in members:
            idx = [i for i, c in enumerate(conds_a) if c[0] == q]
            agg[idx, j] += 1.0 / (len(idx) * len(members))
    out = {}
    for m, (point, reps) in summaries.items():
        out[m] = (
            _relative_drop(point @ agg, point[0]),
            _relative_drop(reps @ agg, reps[:, :1]),
        )
    diff_point = out[method_a][0] - out[method_b][0]
    diff_reps = out[method_a][1] - out[method_b][1]
    lo, hi = percentile_interval(diff_reps, confidence)
    prob = np.nanmean(diff_reps < 0, axis=0)
    return pd.DataFrame(
        {
            "perturbation": names,
            "drop_a": out[method_a][0],
            "drop_b": out[method_b][0],
            "difference": diff_point,
            "diff_low": lo,
            "diff_high": hi,
            "prob_a_better": prob,
        }
    )


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a DataFrame as CSV atomically (temp file in the same folder + ``os.replace``).

    Args:
        df: the table.
        path: destination; parent folders are created.

    Returns:
        The destination path.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    return atomic_write_text(path, df.to_csv(index=False, lineterminator="\n"))


def _markdown(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """:func:`~tempaug.markdown.markdown_table` of ``df`` with its floats
    formatted by ``floatfmt`` and NaN shown as "–"."""

    def fmt(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "–" if np.isnan(value) else format(float(value), floatfmt)
        return str(value)

    return markdown_table(df.map(fmt))


def write_markdown(text: str, path: str | os.PathLike) -> Path:
    """Write Markdown text atomically.

    Args:
        text: the Markdown (e.g. from :func:`robustness_markdown`).
        path: destination; parent folders are created.

    Returns:
        The destination path.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return atomic_write_text(path, text)


def robustness_markdown(
    summary: pd.DataFrame,
    *,
    caption: str,
    comparisons: pd.DataFrame | None = None,
    comparison_caption: str = "",
    percent: bool = True,
) -> str:
    """Render :func:`summary_table` output as methods × perturbations Markdown tables.

    Two tables: corruption accuracy ``acc [lo, hi]`` and relative drop ``drop [lo, hi]``,
    rows = methods, columns = clean, perturbations, mCA; optionally a third with a
    :func:`paired_difference` result.

    Args:
        summary: the output of :func:`summary_table`.
        caption: text printed above the tables (say which dataset produced them).
        comparisons: optional output of :func:`paired_difference`.
        comparison_caption: heading for the comparison table.
        percent: show values in percent.

    Returns:
        Markdown text.
    """
    need = {"method", "perturbation", "accuracy", "acc_low", "acc_high", "relative_drop"}
    if not isinstance(summary, pd.DataFrame) or not need <= set(summary.columns):
        raise ValueError(f"summary must be a summary_table() DataFrame with columns {sorted(need)}")
    k = 100.0 if percent else 1.0
    unit = " (%)" if percent else ""

    def num(x: float) -> str:
        return f"{round(k * x, 1) + 0.0:.1f}"  # + 0.0: no "-0.0"

    def cell(v: float, lo: float, hi: float) -> str:
        if np.isnan(v):
            return "–"
        return f"{num(v)} [{num(lo)}, {num(hi)}]"

    cols = list(pd.unique(summary["perturbation"]))
    methods = list(pd.unique(summary["method"]))
    out = [caption.strip(), ""]
    for title, (v, lo, hi) in (
        (
            f"Accuracy{unit} (perturbations: mean over the evaluated severities), 95 % bootstrap CI",
            ("accuracy", "acc_low", "acc_high"),
        ),
        (
            f"Relative drop vs clean{unit} (1 − acc / clean acc), 95 % bootstrap CI",
            ("relative_drop", "drop_low", "drop_high"),
        ),
    ):
        records = []
        for m in methods:
            row = {"method": m}
            for r in summary[summary["method"] == m].itertuples(index=False):
                rec = r._asdict()
                row[rec["perturbation"]] = cell(rec[v], rec[lo], rec[hi])
            records.append(row)
        table = pd.DataFrame(records, columns=["method", *cols]).fillna("–")
        if v == "relative_drop" and CLEAN in table.columns:
            table = table.drop(columns=[CLEAN])
        out += [f"**{title}**", "", _markdown(table)]
    if comparisons is not None:
        comp = comparisons.copy()
        for c in ("drop_a", "drop_b", "difference", "diff_low", "diff_high"):
            comp[c] = comp[c] * k
        comp["prob_a_better"] = comp["prob_a_better"].map(lambda q: f"{q:.2f}")
        out += [
            f"**{comparison_caption}**" if comparison_caption else "",
            "",
            _markdown(comp, floatfmt=".1f"),
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# figure
# --------------------------------------------------------------------------------------------


def plot_robustness_heatmap(
    summary: pd.DataFrame, *, value: str = "relative_drop", title: str | None = None
):
    """Heat map methods × perturbations (seaborn) of a :func:`summary_table` column.

    Args:
        summary: the output of :func:`summary_table`.
        value: ``"relative_drop"`` (default, in %) or ``"accuracy"`` (in %).
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if value not in ("relative_drop", "accuracy"):
        raise ValueError(f"value must be 'relative_drop' or 'accuracy', got {value!r}")
    data = summary if value == "accuracy" else summary[summary["perturbation"] != CLEAN]
    cols = list(pd.unique(data["perturbation"]))
    grid = data.pivot(index="method", columns="perturbation", values=value)
    grid = grid.loc[list(pd.unique(data["method"])), cols] * 100.0
    labels = grid.map(lambda v: "–" if np.isnan(v) else f"{round(v, 1) + 0.0:.1f}")  # no "-0.0"
    fig, ax = plt.subplots(figsize=(1.1 * len(cols) + 2.5, 0.55 * len(grid) + 1.6))
    if value == "relative_drop":
        # diverging, centred on "no change": red = accuracy lost, blue = accuracy gained
        style = {"cmap": "RdBu_r", "center": 0.0, "cbar_kws": {"label": "relative drop (%)"}}
    else:
        style = {
            "cmap": "rocket",
            "vmin": 0.0,
            "vmax": 100.0,
            "cbar_kws": {"label": "accuracy (%)"},
        }
    with warnings.catch_warnings():
        # seaborn 0.13 recentres the colormap with Colormap.set_bad, which matplotlib ≥ 3.10
        # marks as pending deprecation; nothing to change on our side.
        warnings.filterwarnings("ignore", message=".*set_bad.*", category=PendingDeprecationWarning)
        sns.heatmap(grid, annot=labels.to_numpy(), fmt="", ax=ax, **style)
    if value == "relative_drop":
        clean = summary[summary["perturbation"] == CLEAN].set_index("method")["accuracy"]
        ax.set_yticklabels(
            [f"{m}\n(clean {100.0 * clean.get(m, np.nan):.1f} %)" for m in grid.index],
            rotation=0,
            fontsize=8,
        )
    ax.set_xlabel("perturbation (mean over the evaluated severities)")
    ax.set_ylabel("method")
    ax.set_xticklabels(ax.get_xticklabels(), rotation=35, ha="right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def describe_comparison(comparison: pd.DataFrame, method_a: str, method_b: str) -> str:
    """One sentence per row of a :func:`paired_difference` table, with a verdict.

    The verdict is *"a degrades less"* / *"b degrades less"* when the 95 % interval of the
    difference excludes 0, and *"no clear difference"* otherwise.

    Args:
        comparison: output of :func:`paired_difference`.
        method_a, method_b: the two method names (as passed to :func:`paired_difference`).

    Returns:
        Markdown bullet lines.
    """
    need = {"perturbation", "drop_a", "drop_b", "difference", "diff_low", "diff_high"}
    if not isinstance(comparison, pd.DataFrame) or not need <= set(comparison.columns):
        raise ValueError(f"comparison must be a paired_difference() DataFrame with {sorted(need)}")
    lines = []
    for r in comparison.itertuples(index=False):
        if r.diff_high < 0:
            verdict = f"**{method_a} degrades less**"
        elif r.diff_low > 0:
            verdict = f"**{method_b} degrades less**"
        else:
            verdict = "no clear difference (the interval contains 0)"
        lines.append(
            f"- {r.perturbation}: relative drop {100 * r.drop_a:.1f} % ({method_a}) vs "
            f"{100 * r.drop_b:.1f} % ({method_b}); difference {100 * r.difference:+.1f} points, "
            f"95 % CI [{100 * r.diff_low:+.1f}, {100 * r.diff_high:+.1f}] → {verdict}"
        )
    return "\n".join(lines)
