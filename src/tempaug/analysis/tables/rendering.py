"""Tables as Markdown and CSV, with captions that say which profile and data made them.

A finished table (:class:`RenderedTable`) pairs the numeric data (CSV: means, interval bounds,
replicate counts, differences and p-values, so a reader can recompute every mark) with its string
form (Markdown): our numbers and the paper's in separate, labelled columns. A cell of ours reads
``mean [lo, hi]`` — the mean over replicates and its 95 % hierarchical bootstrap interval
(:mod:`tempaug.analysis.statistics`) — followed by :data:`MARK_BASELINE` when the method differs
from the baseline and :data:`MARK_COUNTERPART` when it differs from its spatial counterpart
(paired test, top-1). Every caption names the profile, the dataset (generated or real), the
paper's table, the class count, the replicates, the test, how many comparisons it makes and which
survive Holm's correction, and the baseline's train–evaluation gap (:func:`evidence`), so a
reader can judge a number where it stands. Top-5 columns are kept only where
top-5 chance (5/K) is below 50 %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tempaug.analysis.statistics import ALPHA, CELL_INTERVAL, PAIRED_TEST, holm_adjust
from tempaug.analysis.tables.rows import RANDAUG_MODES
from tempaug.analysis.tables.scores import _score_columns, read_scores
from tempaug.io import atomic_write_text
from tempaug.markdown import markdown_table

__all__ = [
    "MARK_BASELINE",
    "MARK_COUNTERPART",
    "RenderedTable",
    "caption",
    "data_note",
    "evaluation_summary",
    "evidence",
    "format_value",
    "publish_table",
    "render_grid_table",
    "render_table",
    "show_top5",
    "write_table",
]

#: Appended to a cell of ours whose top-1 differs from the baseline's (p < α).
MARK_BASELINE = "†"
#: Appended to a cell of ours whose top-1 differs from its spatial counterpart's (p < α).
MARK_COUNTERPART = "‡"


@dataclass(frozen=True)
class RenderedTable:
    """A finished table: numeric ``data`` (CSV) and its string ``display`` form (Markdown)."""

    data: pd.DataFrame
    display: pd.DataFrame
    caption: str


def format_value(
    mean: float,
    lo: float = math.nan,
    hi: float = math.nan,
    n: int = 1,
    *,
    decimals: int = 2,
    marks: str = "",
) -> str:
    """``"12.34 [10.10, 14.50] †"``: mean, 95 % interval, marks; ``"12.34"`` without an interval;
    ``"—"`` for no value (``n == 0`` or NaN mean)."""
    if mean is None or _nan(mean) or n == 0:
        return "—"
    text = f"{mean:.{decimals}f}"
    if not (_nan(lo) or _nan(hi)):
        text += f" [{lo:.{decimals}f}, {hi:.{decimals}f}]"
    return f"{text} {marks}" if marks else text


def _nan(v: object) -> bool:
    try:
        return math.isnan(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def _marks(row: Mapping[str, Any], prefix: str = "") -> str:
    out = ""
    for vs, mark in (("baseline", MARK_BASELINE), ("counterpart", MARK_COUNTERPART)):
        p = row.get(f"{prefix}p_vs_{vs}", math.nan)
        if not _nan(p) and float(p) < ALPHA:
            out += mark
    return out


def _cells(df: pd.DataFrame, metric: str, prefix: str = "", *, marks: bool = True) -> list[str]:
    """Display strings of our ``metric`` column (marks on top-1 only: the tests are on top-1)."""
    out = []
    for _, row in df.iterrows():
        out.append(
            format_value(
                row[f"{prefix}{metric}"],
                row.get(f"{prefix}{metric}_ci_lo", math.nan),
                row.get(f"{prefix}{metric}_ci_hi", math.nan),
                int(row.get(f"{prefix}n_replicates", 1)),
                marks=_marks(row, prefix) if marks and metric == "top1" else "",
            )
        )
    return out


def _paper_str(v: float, decimals: int = 2) -> str:
    return "—" if v is None or math.isnan(v) else f"{v:.{decimals}f}"


def _num_classes(df: pd.DataFrame) -> int:
    """The class count of a table's runs (0 when unknown)."""
    cols = [c for c in df.columns if str(c).endswith("num_classes")]
    k = [int(v) for c in cols for v in df[c] if not _nan(v) and int(v) > 0]
    return max(k) if k else 0


def show_top5(df: pd.DataFrame) -> bool:
    """Whether a table keeps its top-5 columns: top-5 chance 5/K below 50 % (or K unknown)."""
    k = _num_classes(df)
    return k == 0 or 5 / k < 0.5


def _metrics(df: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    both = (("top1", "Top-1"), ("top5", "Top-5"))
    return both if show_top5(df) else both[:1]


def _display(table: int, df: pd.DataFrame) -> pd.DataFrame:
    """String form of a numeric table: ours and paper in separate, labelled columns."""
    out = pd.DataFrame()
    if table == 8:
        out["Entry"] = df["entry"]
        out["Backbone"] = df["backbone"]
        out["Two-stream"] = df["two_stream"]
        out["Ensemble"] = df["ensemble"]
        out["Top-1 (ours)"] = _cells(df, "top1")
        out["Top-1 (paper)"] = [_paper_str(v, 1) for v in df["paper_top1"]]
        return out
    if table == 6:
        out["Method"] = df["method"]
        for s in [
            c[: -len("_top1")]
            for c in df.columns
            if c.endswith("_top1") and not c.endswith(("paper_top1", "train_top1"))
        ]:
            name = "Average" if s == "avg" else f"Split-{s.removeprefix('split')}"
            for m, mlabel in _metrics(df):
                out[f"{name} {mlabel} (ours)"] = _cells(df, m, f"{s}_")
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
    for m, mlabel in _metrics(df):
        out[f"{mlabel} (ours)"] = _cells(df, m)
        out[f"{mlabel} (paper)"] = [_paper_str(v) for v in df[f"paper_{m}"]]
    return out


def _drop_top5(df: pd.DataFrame) -> pd.DataFrame:
    """The numeric table without top-5 columns where they are not shown (:func:`show_top5`)."""
    if show_top5(df):
        return df
    out = df.drop(columns=[c for c in df.columns if "top5" in str(c)])
    out.attrs = dict(df.attrs)
    return out


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
        params: the pipeline parameters the runs used (``profile``, ``seeds``; for HMDB-51
            ``experiments.hmdb51.seeds`` / ``splits``). The statistics
            (class count, replicates, intervals, tests, baseline gap) are appended by
            :func:`render_table` (:func:`evidence`), from the table's data.
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
    if benchmark == "hmdb51":  # HMDB-51's replicates are its splits, each with its own seeds
        hmdb = params.get("experiments", {}).get("hmdb51", {})
        seeds = list(hmdb.get("seeds", [0]))
        splits = list(hmdb.get("splits", [1, 2, 3]))
    grid = profile.get("randaug_grid", {})
    points = len(grid.get("num_ops", [])) * len(grid.get("magnitude", []))
    selection = (
        f" N and M of each RandAugment row are the best of {points} grid points on these same "
        "validation videos, so its marks are optimistic (chosen where they are tested)."
        if table == 2 and benchmark == "ucf101_val" and points > 1
        else ""
    )
    runs = f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})"
    if benchmark == "hmdb51":
        runs += f" on each of {len(splits)} split{'s' if len(splits) > 1 else ''}"
    return (
        f"Table {table} — {title}. {_DATASETS.get(benchmark, benchmark)}. "
        f"Ours: profile `{profile['name']}`, {data}; {profile['backbone']}, {epochs} epochs, {runs}."
        + selection
        + (f" {evaluation}" if evaluation else "")
        + f" Paper: Kim et al., ECCV-W 2020, Table {table} (SlowFast-50 trained from scratch on the "
        "real data), transcribed in results/paper_reference.csv and shown beside ours, never mixed in. "
        "Accuracies in %."
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
    text = f"Evaluated on {', '.join(parts)}, {'/'.join(map(str, k))} classes: chance is {chance}."
    if "unreadable_videos" in runs and "decode_failures" in runs:
        datasets = runs.assign(
            dataset=runs["benchmark"].map(lambda b: "HMDB-51" if b == "hmdb51" else "UCF-101")
        )
        unreadable = datasets.groupby("dataset", sort=True)["unreadable_videos"].max()
        left_out = ", ".join(f"{n} ({d})" for d, n in unreadable.items())
        text += (
            f" Unreadable videos left out at preparation: {left_out}; videos that failed to "
            f"decode during these runs: {int(runs['decode_failures'].sum())}."
        )
    return text


def render_table(table: int, data: pd.DataFrame, caption: str) -> RenderedTable:
    """Pair a numeric table from the builders with its display form and caption.

    The caption gets :func:`evidence` appended; top-5 columns leave both the display and the
    data where :func:`show_top5` says so.

    Raises:
        ValueError: ``table`` not in 2..8 or an empty caption (every table names its source).
    """
    if table not in range(2, 9):
        raise ValueError(f"table must be in 2..8, got {table!r}")
    if not caption.strip():
        raise ValueError("caption must name the profile and dataset that produced the table")
    data = with_holm(data)
    full = f"{caption.rstrip()} {evidence(table, data)}"
    return RenderedTable(data=_drop_top5(data), display=_display(table, data), caption=full)


#: The two families of comparisons a table makes, by the column of their p-values.
_FAMILIES = (("vs_baseline", "the baseline"), ("vs_counterpart", "a spatial counterpart"))


def with_holm(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with a Holm-adjusted ``p_holm_<family>`` beside every ``p_<family>`` column.

    Each column of p-values (``p_vs_baseline``, ``p_vs_counterpart``, and Table 6's
    ``split<k>_`` / ``avg_`` versions) is one family: Holm's correction runs over the rows of
    that column (:func:`tempaug.analysis.statistics.holm_adjust`).
    """
    out = data.copy()
    for col in [c for c in data.columns if "p_vs_" in c and not c.startswith("p_holm")]:
        holm = col.replace("p_vs_", "p_holm_vs_")
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        out.insert(out.columns.get_loc(col) + 1, holm, holm_adjust(values))
    out.attrs = dict(data.attrs)
    return out


def _multiplicity(table: int, data: pd.DataFrame) -> str:
    """How many comparisons the marks make and which survive Holm's correction (caption)."""
    prefix = "avg_" if table == 6 else ""
    parts = []
    for family, against in _FAMILIES:
        col = f"{prefix}p_holm_{family}"
        if col not in data:
            continue
        p = pd.to_numeric(data[col], errors="coerce")
        m = int(p.notna().sum())
        if not m:
            continue
        label = "method" if "method" in data else "entry" if "entry" in data else "key"
        kept = [str(x) for x in data.loc[p <= ALPHA, label]] if label in data else []
        names = f" ({', '.join(kept)})" if kept else ""
        parts.append(f"{m} against {against}, {len(kept)} significant after Holm{names}")
    if not parts:
        return ""
    where = " (Average columns)" if table == 6 else ""
    return (
        f"Comparisons made{where}: " + "; ".join(parts) + f" (Holm's correction within each "
        f"family at α = {ALPHA}; adjusted p in the CSV's p_holm_* columns)."
    )


def render_grid_table(grid: pd.DataFrame, caption: str) -> RenderedTable:
    """Render :func:`randaug_grid_table` (every N, M of Table 2's search) with its caption.

    Cells read ``mean [95 % CI]`` (no tests: the grid is the search, Table 2 the comparison).
    """
    if not caption.strip():
        raise ValueError("caption must name the profile and dataset that produced the table")
    labels = {mode: label for mode, _, label in RANDAUG_MODES}
    display = pd.DataFrame(
        {
            "Range": grid["mode"].map(labels),
            "N": grid["randaug_num_ops"].astype(int),
            "M": grid["randaug_magnitude"].astype(int),
        }
    )
    for m, mlabel in _metrics(grid):
        display[f"{mlabel} (ours)"] = _cells(grid, m, marks=False)
    full = f"{caption.rstrip()} {_classes_and_replicates(grid, 'seed')} {_interval_note(grid)}"
    return RenderedTable(data=_drop_top5(grid), display=display, caption=full)


def _classes_and_replicates(df: pd.DataFrame, unit: str, prefix: str = "") -> str:
    k = _num_classes(df)
    col = f"{prefix}n_replicates"
    ns = sorted({int(n) for n in df[col] if int(n) > 0}) if col in df else []
    n = "–".join(map(str, (ns[0], ns[-1]) if len(ns) > 1 else ns)) or "0"
    one = " (one replicate: the interval is a bootstrap over videos only)" if ns == [1] else ""
    classes = f"K = {k} classes" if k else "class count unknown"
    return f"{classes}; n = {n} {unit}{'s' if ns != [1] else ''} per cell{one}."


def _interval_note(df: pd.DataFrame) -> str:
    top5 = "" if show_top5(df) else f" Top-5 omitted: chance 5/K = 5/{_num_classes(df)} ≥ 50 %."
    return f"Cells of ours: mean [lo, hi] = {CELL_INTERVAL}.{top5}"


def _test_note() -> str:
    return (
        f"{MARK_BASELINE}: top-1 differs from the baseline; {MARK_COUNTERPART}: from its spatial "
        "counterpart (Frame/Cube → the spatial method, FadeMixUp → MixUp, RandAugment-T → "
        "RandAugment, RandAug-T + X → RandAug-T); "
        f"{PAIRED_TEST}, no correction for multiple comparisons; Δ, its CI and p in the CSV."
    )


def _gap(label: str, eval_name: str, row: Mapping[str, Any], prefix: str = "") -> str:
    n = int(row.get(f"{prefix}n_replicates", 0) or 0)
    top1 = row.get(f"{prefix}top1", math.nan)
    train = row.get(f"{prefix}train_top1", math.nan)
    over = f"mean over {n} replicate{'s' if n != 1 else ''}"
    if _nan(train):
        return f"{label}: {eval_name} top-1 {float(top1):.2f}; training top-1 not recorded."
    return (
        f"{label}: running training top-1 of the last epoch {float(train):.2f}, {eval_name} "
        f"top-1 {float(top1):.2f}, gap (train − {eval_name}) {float(train) - float(top1):+.2f} "
        f"points ({over})."
    )


def _baseline_gaps(table: int, data: pd.DataFrame) -> str:
    rows = {str(k): r for k, r in zip(data.get("key", []), data.to_dict("records"), strict=False)}
    if table == 8:
        base = data.attrs.get("baseline")
        return _gap("Our test baseline", "test", base) if base else ""
    if table == 7:
        parts = [
            _gap(f"Baseline ({name})", name, rows[k])
            for k, name in (("val/baseline", "validation"), ("test/baseline", "test"))
            if k in rows
        ]
        return " ".join(parts)
    if "baseline" not in rows:
        return ""
    if table == 6:
        return _gap("Baseline (all splits)", "test", rows["baseline"], "avg_")
    return _gap("Baseline", "validation", rows["baseline"])


def evidence(table: int, data: pd.DataFrame) -> str:
    """The statistical part of a table's caption, read from the table's data.

    Class count; replicates per cell (seeds; HMDB-51: seeds per split and split × seed in the
    Average); the interval; the marks and the paired test; the baseline's running training top-1
    of the last epoch, its evaluation top-1 and their gap; whether top-5 is omitted.
    """
    if table == 6:
        cols = [c for c in data.columns if c.startswith("split") and c.endswith("_n_replicates")]
        splits = pd.DataFrame({"n_replicates": pd.concat([data[c] for c in cols])})
        splits["num_classes"] = _num_classes(data)
        per_split = _classes_and_replicates(splits, "seed")
        avg = _classes_and_replicates(data, "split × seed replicate", "avg_")
        head = per_split.rstrip(".") + " in a split's columns; Average: " + avg.split("; ", 1)[1]
    else:
        head = _classes_and_replicates(data, "seed")
    parts = [head, _interval_note(data)]
    if table != 8 or data["p_vs_baseline"].notna().any():
        parts.append(_test_note())
        parts.append(_multiplicity(table, data))
    parts.append(_baseline_gaps(table, data))
    return " ".join(p for p in parts if p)


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


def publish_table(rendered: RenderedTable, out_dir: str | Path, stem: str) -> str:
    """Write ``rendered`` (:func:`write_table`) and return its Markdown, for the notebook to show."""
    write_table(rendered, out_dir, stem)
    return markdown_table(rendered.display, rendered.caption)


def data_note(profile: Mapping[str, Any]) -> str:
    """What the UCF-101 validation numbers of ``profile`` were computed on, for a caption."""
    if profile["name"] == "synthetic":
        return (
            "generated videos in the official UCF-101 layout (tempaug.data.synthetic), NOT the "
            "real dataset — compare trends, not absolute numbers"
        )
    return "the real UCF-101 (VIPriors mod-UCF101 validation split)"
