"""The paper's published numbers (Kim et al., ECCV-W 2020, Tables 2–8), loaded from one CSV.

``results/paper_reference.csv`` is transcribed by hand from the paper text; every row names its
table and row in a ``source`` column. It is the only place in the project where numbers are typed
in. They are shown *beside* our numbers in the tables built by :mod:`tempaug.analysis.tables`,
never mixed into them.

Naming: the paper's Tables 5–7 call FrameCutMixUp / CubeCutMixUp "FrameMixUp" / "CubeMixUp"; the
``label`` column keeps the paper's wording, the ``key`` column uses the method names of
Section 3.2 (``framecutmixup``, ``cubecutmixup``), which are also our recipe names.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["REFERENCE_COLUMNS", "default_reference_path", "load_reference", "reference_for"]

#: Columns of the reference CSV, in order.
REFERENCE_COLUMNS: tuple[str, ...] = (
    "table",
    "key",
    "label",
    "split",
    "top1",
    "top5",
    "backbone",
    "two_stream",
    "ensemble",
    "source",
)

_TABLES = frozenset(range(2, 9))


def default_reference_path() -> Path:
    """``results/paper_reference.csv`` of the source checkout this package is installed from."""
    return Path(__file__).resolve().parents[3] / "results" / "paper_reference.csv"


def load_reference(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the paper's reference numbers.

    Args:
        path: CSV file; defaults to :func:`default_reference_path`.

    Returns:
        DataFrame with :data:`REFERENCE_COLUMNS`; ``table`` int in 2..8, ``top1``/``top5`` float
        percentages (NaN where the paper reports none), ``split`` a string (``""``, ``"1"``–``"3"``
        or ``"average"``), text columns with ``""`` for empty cells.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a column is missing, a table number is outside 2..8, a percentage is outside
            [0, 100], a ``source`` is empty, or a (table, key, split) triple is duplicated.
    """
    path = Path(path) if path is not None else default_reference_path()
    if not path.is_file():
        raise FileNotFoundError(f"paper reference CSV not found: {path}")
    df = pd.read_csv(
        path, dtype={"split": str}, keep_default_na=False, na_values={"top1": [""], "top5": [""]}
    )
    missing = [c for c in REFERENCE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(REFERENCE_COLUMNS)}")
    df = df[list(REFERENCE_COLUMNS)].copy()
    df["table"] = pd.to_numeric(df["table"], errors="raise").astype(int)
    bad_tables = sorted(set(df["table"]) - _TABLES)
    if bad_tables:
        raise ValueError(f"{path}: column 'table' must be in 2..8, got {bad_tables}")
    for col in ("top1", "top5"):
        df[col] = pd.to_numeric(df[col], errors="raise").astype(float)
        vals = df[col].dropna()
        if ((vals < 0) | (vals > 100)).any():
            raise ValueError(f"{path}: column {col!r} must be a percentage in [0, 100]")
    for col in ("key", "label", "split", "backbone", "two_stream", "ensemble", "source"):
        df[col] = df[col].astype(str).str.strip()
    if (df["source"] == "").any():
        raise ValueError(f"{path}: every row needs a 'source' naming the paper's table and row")
    dup = df.duplicated(["table", "key", "split"], keep=False)
    if dup.any():
        rows = df.loc[dup, ["table", "key", "split"]].to_dict("records")
        raise ValueError(f"{path}: duplicated (table, key, split) rows: {rows}")
    return df.reset_index(drop=True)


def reference_for(
    reference: pd.DataFrame, table: int, key: str, split: str = ""
) -> pd.Series | None:
    """The reference row for ``(table, key, split)``, or ``None`` when the paper has no such row."""
    hit = reference[
        (reference["table"] == table) & (reference["key"] == key) & (reference["split"] == split)
    ]
    if hit.empty:
        return None
    return hit.iloc[0]
