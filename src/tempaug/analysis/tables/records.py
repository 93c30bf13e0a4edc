"""Reading run records (``run.json``) into a run table, and statistics over seeds.

Every training run of the pipeline leaves a run record naming what was trained — ``benchmark``
(``ucf101_val``: VIPriors mod-UCF101 train → validation; ``hmdb51``: an official HMDB-51 split;
``vipriors_test``: train+validation → test), ``split``, ``recipe`` (our name for the paper's row,
e.g. ``cutmix``, ``framecutmix_a5``), ``seed`` and, for the RandAugment grid of Table 2
(Sec. 4.2), ``randaug_num_ops`` / ``randaug_magnitude`` — and the run's ``top1`` / ``top5``
accuracy in %. Beside it, ``metrics.json`` gives the running training top-1 of the last epoch
(``train_top1``) and the class count (``num_classes``), used by the captions' train–validation gap.
:func:`collect_runs` reads them; :func:`summarize` gives mean, sample std and seed count per
configuration (used to pick Table 2's grid points; the tables' intervals and tests are in
:mod:`tempaug.analysis.statistics`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tempaug.analysis.tables.rows import BENCHMARKS

__all__ = [
    "RUN_COLUMNS",
    "MissingRunsError",
    "collect_runs",
    "summarize",
]

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
    "unreadable_videos",
    "decode_failures",
    "train_top1",
    "num_classes",
)
"""``train_top1``: running training top-1 (%) over the last training epoch (``metrics.json``; NaN
when absent); ``num_classes``: the classifier's class count (0 when unknown).
``unreadable_videos``: videos of the run's dataset left out at preparation (undecodable);
``decode_failures``: videos that failed to decode during the run (training clips replaced,
evaluation videos blanked). Both 0 for records written before they existed."""

_METRICS = ("top1", "top5")


class MissingRunsError(ValueError):
    """A table needs runs that are not in the run table (names them)."""


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
        row["unreadable_videos"] = int(rec.get("unreadable_videos") or 0)  # type: ignore[arg-type]
        failures = rec.get("decode_failures") or 0
        row["decode_failures"] = int(
            sum(failures.values()) if isinstance(failures, Mapping) else failures  # type: ignore[arg-type]
        )
        train = rec.get("train_top1")
        row["train_top1"] = np.nan if train is None else float(train)  # type: ignore[arg-type]
        row["num_classes"] = int(rec.get("num_classes") or 0)  # type: ignore[arg-type]
        if not row["num_classes"] and row["scores_path"] and Path(row["scores_path"]).is_file():
            header = pd.read_csv(row["scores_path"], nrows=0).columns
            row["num_classes"] = sum(str(c).startswith("score_") for c in header)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def _with_metrics(rec: dict[str, object], folder: Path) -> dict[str, object]:
    """Add ``train_top1`` / ``num_classes`` from ``folder/metrics.json`` where the record lacks them."""
    path = folder / "metrics.json"
    if not path.is_file():
        return rec
    try:
        metrics = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    for key in ("train_top1", "num_classes"):
        if rec.get(key) is None and isinstance(metrics, dict) and metrics.get(key) is not None:
            rec[key] = metrics[key]
    return rec


def collect_runs(
    root: str | Path | None = None,
    *,
    records: Iterable[Mapping[str, object]] | None = None,
    filename: str = "run.json",
) -> pd.DataFrame:
    """Build the run table from run records on disk (``root/**/run.json``) or given directly.

    A record is a JSON object with ``benchmark``, ``split``, ``recipe``, ``seed``, ``top1``,
    ``top5`` (percent), optionally ``run_id``, ``randaug_num_ops``, ``randaug_magnitude`` and
    ``scores_path`` (per-video scores, relative to the record's folder when read from disk),
    ``train_top1`` and ``num_classes`` (read from ``metrics.json`` beside ``run.json`` when the
    record lacks them). Folder names are not parsed: any layout under ``root`` works (e.g. HMDB-51's
    ``hmdb51/<recipe>/split<k>/seed<s>`` or the older ``hmdb51-split<k>/<recipe>/seed<s>``).

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

    A record that disappears between listing and reading is left out: ``make repro`` removes a
    stage's run folders when that stage starts again, possibly beside this reader; the runs a
    table needs are its DVC dependencies, finished before it starts (and a missing one is an
    error of the table builder, :class:`MissingRunsError`).
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
            except FileNotFoundError:  # removed since the listing: a stage rerunning beside us
                continue
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not valid JSON ({exc})") from exc
            if not isinstance(rec, dict):
                raise ValueError(f"{path}: a run record must be a JSON object")
            rec = dict(rec)
            rec.setdefault("run_id", str(path.parent.relative_to(root)))
            if rec.get("scores_path"):
                rec["scores_path"] = str(path.parent / str(rec["scores_path"]))
            try:
                recs.append(_with_metrics(rec, path.parent))
            except FileNotFoundError:
                continue
        records = recs
    df = _run_frame(records)
    dup = df["run_id"].duplicated(keep=False)
    if dup.any():
        raise ValueError(f"duplicated run_id values: {sorted(set(df.loc[dup, 'run_id']))}")
    return df.sort_values("run_id", kind="stable").reset_index(drop=True)


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


def _raise_missing(missing: list[str], table: str) -> None:
    if missing:
        raise MissingRunsError(f"{table}: no runs for {', '.join(missing)}")
