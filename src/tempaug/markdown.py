"""Markdown tables of the project's reports, through ``pandas.DataFrame.to_markdown``.

One renderer for every table a report writes (the data report, the per-stage times of ``make
repro``, Tables 2–8, robustness): GitHub-flavoured, cells as written.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["markdown_table"]


def markdown_table(display: pd.DataFrame, caption: str = "") -> str:
    """A GitHub-flavoured Markdown table (``DataFrame.to_markdown``) of ``display``'s cells as
    written (no number parsing), preceded by ``caption`` in italics."""

    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    cells = display.map(cell).rename(columns=cell)
    table = cells.to_markdown(index=False, tablefmt="github", disable_numparse=True)
    return "\n".join(([f"*{caption}*", ""] if caption else []) + [table]) + "\n"
