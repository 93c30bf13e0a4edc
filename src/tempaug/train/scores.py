"""Per-video score files (``scores.csv``, written by the final evaluation) and top-k accuracy.

A score file has ``video``, ``label`` and one ``score_<k>`` column per class (softmax averaged
over the views of a video, Sec. 4.1).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_scores", "topk_accuracy"]


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
    check_scores(df, str(path))
    return df


def score_columns(df: pd.DataFrame) -> list[str]:
    cols = [c for c in df.columns if str(c).startswith("score_")]
    return sorted(cols, key=lambda c: int(str(c).split("_", 1)[1]))


def check_scores(df: pd.DataFrame, name: str) -> None:
    for col in ("video", "label"):
        if col not in df.columns:
            raise ValueError(f"{name}: per-video scores need a {col!r} column")
    if not score_columns(df):
        raise ValueError(f"{name}: per-video scores need 'score_<class>' columns")
    if df["video"].duplicated().any():
        raise ValueError(f"{name}: a video appears twice in the per-video scores")


def topk_accuracy(scores: pd.DataFrame, k: int) -> float:
    """Top-k accuracy in % of a per-video score table (a video is right when its label is among
    the ``k`` highest scores; ties broken towards the lower class index, as ``torch.topk``).

    Raises:
        ValueError: ``k`` < 1 or larger than the number of classes; malformed table.
    """
    check_scores(scores, "scores")
    cols = score_columns(scores)
    if not 1 <= k <= len(cols):
        raise ValueError(f"k must be in [1, {len(cols)}], got {k}")
    s = scores[cols].to_numpy(dtype=np.float64)
    labels = scores["label"].to_numpy(dtype=np.int64)
    if ((labels < 0) | (labels >= len(cols))).any():
        raise ValueError(f"labels must be in [0, {len(cols) - 1}]")
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    hit = (order == labels[:, None]).any(axis=1)
    return float(100.0 * hit.mean()) if len(hit) else math.nan
