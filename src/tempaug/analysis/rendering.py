"""Tables as Markdown and CSV, with captions that say which profile and data made them.

A finished table (:class:`RenderedTable`) pairs the numeric data (CSV) with its string form
(Markdown): our numbers and the paper's in separate, labelled columns, mean ± sample std over
seeds. Every caption names the profile, the dataset (generated or real) and the paper's table,
as DESIGN.md's "honesty of results" asks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tempaug.analysis.scores import _score_columns, read_scores
from tempaug.analysis.table_rows import RANDAUG_MODES
from tempaug.io import atomic_write_text

__all__ = [
    "RenderedTable",
    "caption",
    "data_note",
    "evaluation_summary",
    "format_value",
    "markdown_table",
    "publish_table",
    "render_grid_table",
    "render_table",
    "write_table",
]


@dataclass(frozen=True)
class RenderedTable:
    """A finished table: numeric ``data`` (CSV) and its string ``display`` form (Markdown)."""

    data: pd.DataFrame
    display: pd.DataFrame
    caption: str


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
