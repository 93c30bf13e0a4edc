"""dvc.yaml agrees with params.yaml, the run matrix and the notebooks' parameters."""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path

import papermill
import pytest
import yaml

from tempaug import pipeline

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def repo():
    from dvc.repo import Repo

    r = Repo(str(REPO))
    yield r
    r.close()


@pytest.fixture(scope="module")
def stages(repo):
    return {s.name: s for s in repo.index.stages}


@pytest.fixture(scope="module")
def params():
    return pipeline.load_params(REPO / "params.yaml")


def papermill_args(cmd: str) -> tuple[str, str, dict[str, str]]:
    """(input notebook, output notebook, {-p name: value}) of a stage's papermill command.

    The command is ``mkdir -p <folder of the output notebook> && papermill … && python -m
    tempaug.pipeline.executed <output notebook>`` (papermill does not create the output folder,
    DVC removes a stage's outputs before running it, and the last step strips wall-clock data).
    """
    mkdir, papermill_cmd, clean = (part.strip() for part in cmd.split("&&"))
    argv = shlex.split(papermill_cmd)
    assert argv[0] == "papermill", cmd
    positional, values, i = [], {}, 1
    while i < len(argv):
        a = argv[i]
        if a == "-p":
            values[argv[i + 1]] = argv[i + 2]
            i += 3
        elif a in ("--cwd", "--log-level"):
            i += 2
        elif a.startswith("--"):
            i += 1
        else:
            positional.append(a)
            i += 1
    assert len(positional) == 2, cmd
    assert shlex.split(mkdir) == ["mkdir", "-p", positional[1].rsplit("/", 1)[0]], cmd
    # the executed notebook is stripped of wall-clock metadata (tempaug.pipeline.executed)
    assert shlex.split(clean) == ["python", "-m", "tempaug.pipeline.executed", positional[1]], cmd
    return positional[0], positional[1], values


def run_stages(stages):
    return {n: s for n, s in stages.items() if "@" in n}


def specs_of(values: dict[str, str], params) -> list[pipeline.RunSpec]:
    n = int(values.get("num_ops", 0))
    return pipeline.stage_runs(
        params,
        values["benchmark"],
        values["recipe"],
        num_ops=n or None,
        magnitude=int(values["magnitude"]) if n else None,
    )


def test_run_stages_are_exactly_the_planned_runs(stages, params):
    planned = {r.run_id: r for r in pipeline.planned_runs(params)}
    seen = {}
    for name, stage in run_stages(stages).items():
        nb_in, nb_out, values = papermill_args(stage.cmd)
        assert nb_in == "notebooks/10_train_eval.ipynb", name
        specs = specs_of(values, params)
        (stage_id,) = {s.stage_id for s in specs}
        for spec in specs:
            assert spec.run_id not in seen, f"{name} and {seen.get(spec.run_id)} train the same run"
            seen[spec.run_id] = name
        folder = f"results/runs/{stage_id}"
        assert nb_out == f"{folder}/10_train_eval.ipynb"
        assert values["results_dir"] == "results/runs" and values["smoke"] == "False"
        assert values["scratch_dir"] == "runs"
        outs = {o.def_path: o for o in stage.outs}
        # the stage's run folders (one per replicate) and its training folders: the latter are
        # missing in a fresh clone, so the runs rerun, and persist across reruns (resume)
        assert set(outs) == {folder, f"runs/{stage_id}"}, name
        assert outs[f"runs/{stage_id}"].persist and not outs[folder].persist
        assert all(not o.use_cache for o in outs.values()), "small outputs are committed to git"
    assert set(seen) == set(planned)


def test_run_stage_params_are_the_ones_the_run_reads(stages, params):
    from dvc.dependency.param import ParamsDependency

    for name, stage in run_stages(stages).items():
        spec = specs_of(papermill_args(stage.cmd)[2], params)[0]
        declared = {p for d in stage.deps if isinstance(d, ParamsDependency) for p in d.params}
        replicates = (
            {"experiments.hmdb51.splits", "experiments.hmdb51.seeds"}
            if spec.benchmark == "hmdb51"
            else {"seeds"}
        )
        assert replicates <= declared, name
        recipe = params["recipes"][spec.recipe]
        assert f"recipes.{spec.recipe}" in declared, name
        assert {"profile.name", "profile.train"} <= declared, name
        uses_profile_randaug = recipe["randaug"] is not None and not spec.grid_point
        assert ("profile.randaug" in declared) == uses_profile_randaug, name
        assert ("profile.test_eval" in declared) == (spec.benchmark == "vipriors_test"), name
        # no run depends on the whole methods section (one method's change must rerun only its runs)
        assert "methods" not in declared and "recipes" not in declared, name


def test_notebook_parameters_exist(stages):
    cache: dict[str, dict] = {}
    for name, stage in stages.items():
        nb_in, nb_out, values = papermill_args(stage.cmd)
        if nb_in not in cache:
            cache[nb_in] = papermill.inspect_notebook(str(REPO / nb_in))
        unknown = set(values) - set(cache[nb_in])
        assert not unknown, (
            f"stage {name} passes {sorted(unknown)} not in {nb_in}'s parameters cell"
        )
        assert nb_out.startswith("results/") and nb_out.endswith(".ipynb")
        assert any(
            nb_out.startswith(o.def_path + "/") or o.def_path == nb_out for o in stage.outs
        ), f"{name}: executed notebook is not an output"
        assert any(d.def_path == nb_in for d in stage.deps), f"{name}: {nb_in} is not a dependency"
        # every output folder the stage declares is the one passed to the notebook
        for o in stage.outs:
            top = o.def_path.split("/")[0]
            if top == "figures":
                assert values.get("figures_dir") == "figures", f"{name}: figures_dir not passed"
            if o.def_path.startswith("results/tables/"):
                assert values.get("tables_dir") == "results/tables", (
                    f"{name}: tables_dir not passed"
                )
    for nb_in, params in cache.items():  # the pipeline's notebooks
        assert {"params_path", "project_root", "smoke"} <= set(params), nb_in
        assert params["smoke"]["default"] == "True", f"{nb_in}: nbval must run the tiny default"


def test_table_stages_depend_on_every_run_they_read(stages, params):
    deps = {
        n: {d.def_path for d in stages[n].deps}
        for n in ("tables_ucf101", "tables_hmdb51", "tables_vipriors")
    }
    for spec in pipeline.planned_runs(params):
        top = "results/runs/" + spec.run_id.split("/")[0]  # the benchmark's folder
        if spec.benchmark == "ucf101_val":
            assert top in deps["tables_ucf101"] and top in deps["tables_vipriors"]
        elif spec.benchmark == "hmdb51":
            assert top in deps["tables_hmdb51"]
        else:
            assert top in deps["tables_vipriors"]
    for n in deps:
        assert "results/paper_reference.csv" in deps[n]


def test_every_output_is_small_and_committed(stages):
    for name, stage in stages.items():
        for o in stage.outs:
            assert not o.use_cache, f"{name}: {o.def_path} should have cache: false"


def test_status_parses_and_names_only_declared_stages(repo, stages):
    status = repo.status()
    assert isinstance(status, dict)
    assert set(status) <= set(stages)
    lock = REPO / "dvc.lock"
    if lock.is_file():
        locked = yaml.safe_load(lock.read_text())["stages"]
        assert set(locked) <= set(stages), "dvc.lock names stages that dvc.yaml no longer has"


def test_dvcignore_keeps_bytecode_out_of_hashes(repo):
    ignored = REPO / "src" / "tempaug" / "__pycache__" / "x.cpython-311.pyc"
    assert repo.dvcignore.is_ignored_file(str(ignored))
    assert not repo.dvcignore.is_ignored_file(str(REPO / "src" / "tempaug" / "__init__.py"))


# --------------------------------------------------------------------------- code dependencies


def _module_file(module: str) -> Path | None:
    """The source file of a ``tempaug`` module or package, or ``None`` if it is not one."""
    base = REPO / "src" / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_time_nodes(tree: ast.AST):
    """Statements that run at import: everything outside function bodies."""
    for node in ast.iter_child_nodes(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield node
            yield from _import_time_nodes(node)


def _imported_modules(source: str, package: str) -> set[str]:
    """``tempaug`` modules a source imports when it runs (function-level imports not followed:
    the stages that call those functions list their modules themselves)."""
    found: set[str] = set()
    for node in _import_time_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            # the module itself and every package above it (their __init__ runs first)
            for i in range(1, len(parts) + 1):
                if parts[0] == "tempaug" and _module_file(".".join(parts[:i])) is not None:
                    found.add(".".join(parts[:i]))
    return found


def _closure(modules: set[str]) -> set[Path]:
    todo, seen = list(modules), set(modules)
    while todo:
        module = todo.pop()
        path = _module_file(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for m in _imported_modules(path.read_text(), package) - seen:
            seen.add(m)
            todo.append(m)
    return {_module_file(m) for m in seen}


def test_stages_depend_on_all_the_code_they_run(stages):
    """A change to any module a stage's notebook imports (transitively) reruns the stage."""
    cache: dict[str, set[Path]] = {}
    bad: dict[str, list[str]] = {}
    for name, stage in stages.items():
        nb_in, _, _ = papermill_args(stage.cmd)
        if nb_in not in cache:
            nb = json.loads((REPO / nb_in).read_text())
            code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
            code = "\n".join(line for line in code.splitlines() if not line.startswith("%"))
            cache[nb_in] = _closure(_imported_modules(code, ""))
        deps = [REPO / d.def_path for d in stage.deps if not hasattr(d, "params")]
        missing = sorted(
            str(f.relative_to(REPO))
            for f in cache[nb_in]
            # an __init__ that imports nothing (docstring, __version__) changes no output
            if f.name != "__init__.py" or _imported_modules(f.read_text(), "tempaug")
            if not any(f == d or d in f.parents for d in deps)
        )
        bad[name] = missing
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"stages run code they do not depend on: {bad}"
