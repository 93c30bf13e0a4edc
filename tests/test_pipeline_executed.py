"""Executed notebooks lose exactly their wall-clock metadata and stderr logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tempaug.pipeline import executed


def _execute(tmp_path: Path, name: str) -> Path:
    """A notebook run through papermill (parameters injected, a stderr log line, a result)."""
    src = tmp_path / "in.ipynb"
    if not src.exists():
        _write_source(src)
    out = tmp_path / name
    subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "--no-progress-bar",
            "--log-level",
            "WARNING",
            str(src),
            str(out),
            "-p",
            "x",
            "21",
        ],
        check=True,
        capture_output=True,
    )
    return out


def _write_source(src: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import sys, time\nprint('epoch 1 clips/s', time.time(), file=sys.stderr)\n"
            "print('result', x * 2)"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, src)


def test_two_identical_executions_are_byte_identical_after_cleaning(tmp_path: Path):
    a = _execute(tmp_path, "run.ipynb")
    first = tmp_path / "first.ipynb"
    a.rename(first)
    b = _execute(tmp_path, "run.ipynb")  # the same stage run again
    assert first.read_bytes() != b.read_bytes()  # papermill stamps times and a random cell id
    executed.main([str(first), str(b)])
    first_text = first.read_text().replace("first.ipynb", "run.ipynb")  # only the moved path
    assert first_text == b.read_text()
    a = b
    nb = nbformat.read(a, as_version=4)
    nbformat.validate(nb)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    assert "result 42" in text  # results stay
    assert "clips/s" not in text  # the stderr log goes
    assert nb.metadata.papermill.parameters == {"x": 21}
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert [c.id for c in injected] == [executed.INJECTED_ID]
    assert all("execution" not in c.metadata for c in nb.cells)


def test_cleaning_is_idempotent(tmp_path: Path):
    a = _execute(tmp_path, "a.ipynb")
    executed.clean_executed(a)
    once = a.read_bytes()
    executed.clean_executed(a)
    assert a.read_bytes() == once


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"a": 1})])
def test_bad_input_is_named(tmp_path: Path, content: str | None):
    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=r"x\.ipynb"):
        executed.clean_executed(path)
    if content is not None:
        assert path.read_text() == content  # nothing half-written


def test_cli_without_arguments_is_a_usage_error(capsys):
    assert executed.main([]) == 2
    assert "usage" in capsys.readouterr().err
