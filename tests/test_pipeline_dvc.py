"""dvc.yaml agrees with params.yaml, the run matrix and the notebooks' parameters."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import papermill
import pytest
import yaml

from tempaug import pipeline
from tempaug.pipeline.stage_code import stage_code_files

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
        # only the committed run folders (one per replicate): the training folders with the
        # checkpoints (runs/<stage_id>) are no output, so a fresh clone, which lacks them, is
        # up to date, and DVC never removes them (an interrupted run resumes)
        assert set(outs) == {folder}, name
        assert not outs[folder].persist
        assert all(not o.use_cache for o in outs.values()), "small outputs are committed to git"
    assert set(seen) == set(planned)


def test_the_runner_finds_the_fit_time_of_every_run_stage(stages, params, tmp_path):
    """``make repro --times`` reads each run's ``timings.json`` from its training folder
    (``scratch_dir/<run_id>``, no DVC output) through the run records the stage publishes."""
    import json

    from tempaug.pipeline import parallel

    for name, stage in run_stages(stages).items():
        root = tmp_path / name.replace("@", "_")
        _, _, values = papermill_args(stage.cmd)
        specs = specs_of(values, params)
        for i, spec in enumerate(specs):
            published = root / values["results_dir"] / spec.run_id / "run.json"
            published.parent.mkdir(parents=True)
            published.write_text(json.dumps({"run_id": spec.run_id}))
            timings = root / values["scratch_dir"] / spec.run_id / "timings.json"
            timings.parent.mkdir(parents=True)
            timings.write_text(json.dumps({"session_seconds": 10.0 + i}))
        expected = sum(10.0 + i for i in range(len(specs)))
        assert parallel._fit_seconds(root, stage) == expected, name
    assert parallel._fit_seconds(tmp_path / "empty", stages["tables_ucf101"]) is None


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


def _src_deps(stage) -> list[Path]:
    return [REPO / d.def_path for d in stage.deps if not hasattr(d, "params")]


def _covered(path: Path, deps) -> bool:
    return any(path == d or d in path.parents for d in deps)


def test_stages_depend_on_all_the_code_they_run(stages):
    """A change to any module a stage can run (its notebook's imports and the ``python -m``
    modules of its command, followed through function-level imports and lazy exports) reruns
    the stage; and every ``src/`` dep is code the stage can run (no rerun for nothing)."""
    missing, unused = {}, {}
    for name, stage in stages.items():
        files = stage_code_files(REPO, stage.cmd)
        deps = _src_deps(stage)
        missing[name] = sorted(str(f.relative_to(REPO)) for f in files if not _covered(f, deps))
        unused[name] = sorted(
            str(d.relative_to(REPO))
            for d in deps
            if d.is_relative_to(REPO / "src") and not any(_covered(f, [d]) for f in files)
        )
    assert not {k: v for k, v in missing.items() if v}, "stages run code they do not depend on"
    assert not {k: v for k, v in unused.items() if v}, "stages depend on code they never run"


def test_no_training_stage_depends_on_analysis_or_other_notebooks(stages):
    """Editing a caption, a plot or a table notebook must never retrain a model."""
    for name, stage in run_stages(stages).items():
        for dep in _src_deps(stage):
            rel = dep.relative_to(REPO)
            assert not rel.is_relative_to("src/tempaug/analysis"), (name, str(rel))
            assert rel.parts[0] != "notebooks" or rel.name == "10_train_eval.ipynb", (name, rel)
        # and not on the video bytes (they differ between CPU types): on what generates them
        assert "data/prepared" not in {d.def_path for d in stage.deps}, name
        assert "profile.data" in {p for d in stage.deps if hasattr(d, "params") for p in d.params}


def test_stage_code_follows_function_imports_and_lazy_exports(tmp_path):
    """The closure is the one a stage can execute, not only what it imports at start."""
    src = tmp_path / "src" / "tempaug"
    (src / "pkg").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "pkg" / "__init__.py").write_text('_EXPORTS = {"run": "runner"}\n')
    (src / "pkg" / "runner.py").write_text("def run():\n    from tempaug import deep\n")
    (src / "deep.py").write_text("")
    (src / "unused.py").write_text("")
    nb = tmp_path / "nb.ipynb"
    cell = {
        "cell_type": "code",
        "source": ["%matplotlib inline\n", "from tempaug import pkg\n", "pkg.run()\n"],
        "metadata": {},
        "outputs": [],
    }
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    files = stage_code_files(tmp_path, "papermill --cwd . -p a b nb.ipynb out.ipynb")
    rel = {str(f.relative_to(src)) for f in files}
    assert rel == {"__init__.py", "pkg/__init__.py", "pkg/runner.py", "deep.py"}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_analysis_edit_in_a_fresh_clone_stales_no_training_stage(tmp_path):
    """On a fresh clone (no videos, no checkpoints) the committed runs are up to date, and a
    comment appended to an analysis module marks only analysis stages as changed."""
    if subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "diff",
            "--quiet",
            "HEAD",
            "--",
            "dvc.yaml",
            "dvc.lock",
            "params.yaml",
            "src",
            "notebooks",
            "results",
        ]
    ).returncode:
        pytest.skip("the checkout has uncommitted pipeline changes: a clone would not show them")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)

    def changed() -> set[str]:
        from dvc.repo import Repo

        with Repo(str(clone)) as r:  # keys are "<path of dvc.yaml>:<stage>" from another cwd
            return {name.rsplit(":", 1)[-1] for name in r.status()}

    training = {n for n in changed() if "@" in n}
    assert not training, f"a fresh clone retrains {sorted(training)}"
    with open(clone / "src/tempaug/analysis/tables/rendering.py", "a") as fh:
        fh.write("# a reader's comment\n")
    now = changed()
    assert not {n for n in now if "@" in n}, sorted(now)
    assert {"tables_ucf101", "tables_hmdb51", "tables_vipriors"} <= now
