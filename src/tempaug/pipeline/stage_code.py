"""Which ``tempaug`` source files a DVC stage can run: the code its ``dvc.yaml`` deps must list.

A stage runs a notebook through papermill and then ``python -m tempaug.pipeline.executed``;
the code it can execute is every ``tempaug`` module those import, followed transitively
through every ``import`` statement — at module level *and* inside functions (a function-level
import runs when the stage calls the function) — and through the lazy exports of a package
(``tempaug.pipeline``'s ``_EXPORTS``: ``pipeline.execute_run`` imports ``pipeline.runs``).
The result is a superset of what one execution imports (a branch that is not taken still
counts), which is the safe side for a dependency list.

``tests/test_pipeline_dvc.py`` checks ``dvc.yaml`` against it in both directions: every file a
stage can run is covered by one of its deps, and every ``src/`` dep covers a file it can run.
Run ``python -m tempaug.pipeline.stage_code`` to print what each stage can run and what its
deps miss or over-declare.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["command_modules", "module_closure", "notebook_code", "stage_code_files"]


def _module_file(src: Path, module: str) -> Path | None:
    base = src / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _lazy_exports(tree: ast.Module) -> dict[str, str]:
    """A package's ``_EXPORTS = {"name": "submodule", ...}`` (empty if it has none)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    return {}


class _Graph:
    """Imports between ``tempaug`` modules under ``src``, parsed once per file."""

    def __init__(self, src: Path) -> None:
        self.src = src
        self._trees: dict[Path, ast.Module] = {}

    def tree(self, path: Path) -> ast.Module:
        if path not in self._trees:
            self._trees[path] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        return self._trees[path]

    def file(self, module: str) -> Path | None:
        return _module_file(self.src, module) if module.split(".")[0] == "tempaug" else None

    def _with_parents(self, name: str) -> set[str]:
        parts, found = name.split("."), set()
        for i in range(1, len(parts) + 1):
            if self.file(".".join(parts[:i])) is not None:
                found.add(".".join(parts[:i]))
        return found

    def _lazy(self, package: str, names: Iterable[str]) -> set[str]:
        path = self.file(package)
        if path is None or path.name != "__init__.py":
            return set()
        exports = _lazy_exports(self.tree(path))
        return {f"{package}.{exports[n]}" for n in names if n in exports}

    def imports(self, tree: ast.Module, package: str) -> set[str]:
        """Modules a source imports anywhere, with their parent packages and lazy exports."""
        found: set[str] = set()
        aliases: dict[str, str] = {}  # local name → lazily exporting package
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    found |= self._with_parents(a.name)
                    if a.asname:
                        aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                found |= self._with_parents(base)
                for a in node.names:
                    full = f"{base}.{a.name}"
                    if self.file(full) is not None:
                        found |= self._with_parents(full)
                        aliases[a.asname or a.name] = full
                    else:
                        found |= self._lazy(base, [a.name])
        # `pipeline.execute_run` on a lazily exporting package imports its submodule
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                found |= self._lazy(aliases[node.value.id], [node.attr])
        return found


def module_closure(src: str | Path, roots: Iterable[str]) -> set[str]:
    """Every ``tempaug`` module reachable from ``roots`` (module names) through imports."""
    graph = _Graph(Path(src))
    todo = [m for m in roots if graph.file(m) is not None]
    seen = set(todo)
    while todo:
        module = todo.pop()
        path = graph.file(module)
        assert path is not None
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for m in graph.imports(graph.tree(path), package) - seen:
            seen.add(m)
            todo.append(m)
    return seen


def notebook_code(path: str | Path) -> str:
    """The code cells of a notebook as one Python source (IPython magics dropped)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


_PAPERMILL_VALUES = {
    "-p": 2,
    "--parameters": 2,
    "-r": 2,
    "--parameters_raw": 2,
    "-y": 1,
    "--parameters_yaml": 1,
    "-f": 1,
    "--parameters_file": 1,
    "--cwd": 1,
    "--log-level": 1,
    "-k": 1,
    "--kernel": 1,
    "--language": 1,
    "--execution-timeout": 1,
    "--start-timeout": 1,
}


def _papermill_input(argv: list[str]) -> str:
    """The input notebook of a ``papermill`` command line (its first positional argument)."""
    i = 1
    while i < len(argv):
        if argv[i] in _PAPERMILL_VALUES:
            i += 1 + _PAPERMILL_VALUES[argv[i]]
        elif argv[i].startswith("-"):
            i += 1
        else:
            return argv[i]
    raise ValueError(f"no input notebook in {' '.join(argv)!r}")


def command_modules(cmd: str) -> tuple[list[str], list[str]]:
    """The notebooks a stage command executes (papermill inputs) and the ``python -m`` modules."""
    notebooks, modules = [], []
    for part in re.split(r"&&|;|\|\|", cmd):
        argv = shlex.split(part)
        if not argv:
            continue
        if argv[0] == "papermill":
            notebooks.append(_papermill_input(argv))
        elif argv[0].startswith("python") and len(argv) > 2 and argv[1] == "-m":
            modules.append(argv[2])
    return notebooks, modules


def stage_code_files(root: str | Path, cmd: str) -> set[Path]:
    """The ``tempaug`` source files a stage with command ``cmd`` can run (paths under ``root``)."""
    root = Path(root)
    src = root / "src"
    graph = _Graph(src)
    notebooks, roots = command_modules(cmd)
    modules: set[str] = set(roots)
    for nb in notebooks:
        modules |= graph.imports(ast.parse(notebook_code(root / nb)), "")
    return {graph.file(m) for m in module_closure(src, modules)}  # type: ignore[misc]


def _covered(path: Path, deps: Iterable[Path]) -> bool:
    return any(path == d or d in path.parents for d in deps)


def main(argv: list[str] | None = None) -> int:
    """Print, per stage of ``dvc.yaml``, the code it can run that its deps miss or over-declare."""
    from dvc.repo import Repo

    root = Path(argv[0] if argv else ".").resolve()
    repo = Repo(str(root))
    status = 0
    try:
        for stage in repo.index.stages:
            files = stage_code_files(root, stage.cmd)
            deps = [root / d.def_path for d in stage.deps if not hasattr(d, "params")]
            missing = sorted(str(f.relative_to(root)) for f in files if not _covered(f, deps))
            extra = sorted(
                str(d.relative_to(root))
                for d in deps
                if d.is_relative_to(root / "src") and not any(_covered(f, [d]) for f in files)
            )
            if missing or extra:
                status = 1
                print(f"{stage.addressing}: missing {missing} · not run {extra}")
    finally:
        repo.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
