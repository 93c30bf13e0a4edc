"""tempaug.markdown: the one Markdown table renderer of the reports."""

from __future__ import annotations

import pandas as pd

from tempaug.markdown import markdown_table


def test_markdown_table_keeps_cells_as_written_and_escapes_pipes():
    display = pd.DataFrame({"a|b": ["1.50", "x|y"], "n": ["007", "two\nlines"]})
    md = markdown_table(display, "Cap")
    lines = md.splitlines()
    assert lines[0] == "*Cap*" and lines[1] == "" and md.endswith("|\n")
    assert [c.strip() for c in lines[2].strip("|").split(" | ")] == ["a\\|b", "n"]
    assert set(lines[3]) <= {"|", "-", ":"}
    assert "1.50" in lines[4] and "007" in lines[4]  # no number parsing: "1.5", "7" would be
    assert "x\\|y" in lines[5] and "two lines" in lines[5]
    assert not markdown_table(display).startswith("*")
