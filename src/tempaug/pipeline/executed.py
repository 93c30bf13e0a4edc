"""Executed notebooks that change only when their results do.

papermill and nbclient stamp every executed notebook with wall-clock data: the run's and each
cell's start/end times and durations, the iopub timestamps of every cell, and a random id for
the injected-parameters cell. A stage rerun with identical results would still rewrite the
notebook, leave ``git status`` dirty and (for notebooks inside a run folder) make the table
stages that depend on that folder rerun. :func:`clean_executed` removes exactly that metadata,
and the ``stderr`` streams of the cells — logs (per-epoch progress lines with their speeds and
ETAs, progress bars, warnings) that also go to the stage's terminal output and to the run's
``train.log``. What a reader comes for stays: the code, parameters, printed results, tables and
figures.

Used by every notebook stage of ``dvc.yaml``: ``papermill IN OUT … && python -m
tempaug.pipeline.executed OUT``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tempaug.io import atomic_write_text

__all__ = ["clean_executed", "clean_notebook", "main"]

#: Run-level papermill metadata that is wall-clock only.
_RUN_KEYS = ("start_time", "end_time", "duration")
#: Cell-level papermill metadata that is wall-clock only.
_CELL_KEYS = ("start_time", "end_time", "duration")
#: The id given to papermill's injected-parameters cell (papermill draws a random one).
INJECTED_ID = "injected-parameters"


def clean_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """Return ``nb`` (a notebook as parsed JSON) without its volatile metadata and stderr.

    The input is modified in place and returned.
    """
    meta = nb.get("metadata", {})
    pm = meta.get("papermill")
    if isinstance(pm, dict):
        for key in _RUN_KEYS:
            pm.pop(key, None)
    for cell in nb.get("cells", []):
        cmeta = cell.get("metadata", {})
        cmeta.pop("execution", None)
        cpm = cmeta.get("papermill")
        if isinstance(cpm, dict):
            for key in _CELL_KEYS:
                cpm.pop(key, None)
        if "injected-parameters" in cmeta.get("tags", []) and "id" in cell:
            cell["id"] = INJECTED_ID
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    return nb


def clean_executed(path: str | Path) -> Path:
    """Clean the executed notebook at ``path`` in place (atomically; see the module docstring).

    Raises:
        ValueError: ``path`` is missing or is not a notebook (names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"executed notebook {str(path)!r} does not exist")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not a notebook: {exc}") from None
    if not isinstance(nb, dict) or "cells" not in nb:
        raise ValueError(f"{str(path)!r} is not a notebook (no 'cells')")
    clean_notebook(nb)
    # nbformat's own layout (indent 1, keys sorted, trailing newline) keeps diffs small.
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return atomic_write_text(path, text)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tempaug.pipeline.executed NOTEBOOK...``: clean each executed notebook."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m tempaug.pipeline.executed NOTEBOOK [NOTEBOOK ...]", file=sys.stderr)
        return 2
    for arg in args:
        clean_executed(arg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
