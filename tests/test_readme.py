"""The README's Python examples run as written (issue: "the README's example runs as written")."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)
    assert namespace["targets"].shape == (8, 10)
    assert namespace["clip"].shape == (16, 3, 64, 64)
