"""``make repro``'s concurrent runner on a toy DVC project: same records as ``dvc repro``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from _pipeline_helpers import dvc, init_project, toy_project

from tempaug.pipeline import parallel
from tempaug.pipeline.executors import LocalExecutor, StageResult, Task


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return toy_project(tmp_path, run_seconds=1.0)


def test_runs_independent_stages_concurrently_and_records_them(project: Path):
    lines: list[str] = []
    results = parallel.repro(project, jobs=3, echo=lines.append)
    assert sorted(r.name for r in results) == ["prepare", "run@a", "run@b", "run@c", "table"]
    assert all(r.ok for r in results)
    # the three runs overlapped in time (each sleeps 1 s): concurrency, not a serial loop
    starts = [float((project / f"start_{i}").read_text()) for i in "abc"]
    ends = [float((project / f"end_{i}").read_text()) for i in "abc"]
    assert max(starts) < min(ends)
    assert (project / "table.txt").read_text() == "xaxbxc"
    # recorded as DVC records: nothing is stale, and dvc repro has nothing to do
    assert "up to date" in dvc(project, "status")
    assert "is cached - skipping" in dvc(project, "repro") or "didn't change" in dvc(
        project, "repro"
    )
    assert (project / "table.txt").read_text() == "xaxbxc"
    assert parallel.repro(project, jobs=2, echo=lines.append) == []


def test_a_failed_stage_stops_downstream_and_the_rest_is_kept(project: Path):
    (project / "fail_b").write_text("")
    # three slots: the runs start together, so the ones beside the failure finish and are
    # recorded (after a failure nothing new starts)
    with pytest.raises(RuntimeError, match=r"run@b \(exit 3"):
        parallel.repro(project, jobs=3, echo=lambda _: None)
    assert not (project / "table.txt").exists()
    status = dvc(project, "status")
    assert "run@b" in status and "run@a:" not in status and "run@c:" not in status
    # rerun: only the failed run (resuming from its persistent folder) and the table
    (project / "fail_b").unlink()
    results = parallel.repro(project, jobs=2, echo=lambda _: None)
    assert sorted(r.name for r in results) == ["run@b", "table"]
    assert (project / "out_b.txt").read_text() == "xbr"  # kept its checkpoint folder
    assert (project / "table.txt").read_text() == "xaxbrxc"
    assert "up to date" in dvc(project, "status")


def test_a_changed_dependency_reruns_exactly_its_descendants(project: Path):
    parallel.repro(project, jobs=2, echo=lambda _: None)
    text = (project / "dvc.yaml").read_text().replace("write_text('x')", "write_text('y')")
    (project / "dvc.yaml").write_text(text)
    results = parallel.repro(project, jobs=2, echo=lambda _: None)
    assert sorted(r.name for r in results) == ["prepare", "run@a", "run@b", "run@c", "table"]
    assert (project / "table.txt").read_text() == "yarybrycr"


def test_shard_option_is_gone(project: Path):
    # one node spreading the runs over others is the SLURM executor's job now
    with pytest.raises(SystemExit):
        parallel.main(["--root", str(project), "--shard", "1/2"])
    with pytest.raises(TypeError):
        parallel.repro(project, jobs=1, shard="1/2", echo=lambda _: None)  # type: ignore[call-arg]


def test_dry_lists_changed_stages_in_dependency_order(project: Path):
    lines: list[str] = []
    assert parallel.repro(project, dry=True, echo=lines.append) == []
    assert lines[0] == "  would run prepare" and lines[-1] == "  would run table"
    assert sorted(lines[1:4]) == [f"  would run run@{x}" for x in "abc"]
    assert not (project / "data.txt").exists()


def test_default_jobs_from_profile_threads(tmp_path: Path, monkeypatch):
    (tmp_path / "params.yaml").write_text(
        textwrap.dedent(
            """\
            profile:
              threads: 1
              train: {runtime: {device: cpu}}
            """
        )
    )
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 4)
    assert parallel.default_jobs(tmp_path) == (4, [])
    (tmp_path / "params.yaml").write_text(
        "profile:\n  threads: 2\n  train: {runtime: {device: auto}}\n"
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert parallel.default_jobs(tmp_path) == (2, [])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    assert parallel.default_jobs(tmp_path) == (3, ["0", "1", "2"])
    (tmp_path / "params.yaml").write_text(
        "profile:\n  threads: 0\n  nproc_per_node: 2\n  train: {runtime: {device: cuda}}\n"
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3,4")
    assert parallel.default_jobs(tmp_path) == (2, ["0,1", "2,3"])  # one DDP run per GPU pair


def test_stage_times_report_the_overhead_of_training_runs(tmp_path: Path):
    results = [
        parallel.StageResult("prepare", True, 20.0, tmp_path / "a.log"),
        parallel.StageResult("run@a", True, 30.0, tmp_path / "b.log", work_seconds=26.0),
        parallel.StageResult("run@b", True, 50.0, tmp_path / "c.log", work_seconds=44.0),
        parallel.StageResult("run@c", True, 40.0, tmp_path / "d.log", work_seconds=35.0),
    ]
    md = parallel.write_stage_times(results, tmp_path / "times", jobs=2)
    text = md.read_text()
    assert markdown_rows(text) == [
        ["per training stage (median)", "seconds"],
        ["wall time of the stage", "40.0"],
        ["inside `fit` (training + evaluation)", "35.0"],
        ["overhead (papermill, kernel, imports, data tables, publishing)", "5.0"],
    ]
    assert "3 training stages" in text
    rows = (tmp_path / "times.csv").read_text().splitlines()
    assert rows[0] == "stage,ok,seconds,fit_seconds,overhead_seconds"
    assert rows[1] == "prepare,1,20.00,," and rows[3] == "run@b,1,50.00,44.00,6.00"


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of a Markdown table's header and rows (its separator line left out)."""
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]


#: A toy training stage: its notebook-style ``-p results_dir R -p scratch_dir S`` arguments,
#: run records published under R (its output) and ``timings.json`` in S/<run_id>/ (no output),
#: as ``tempaug.pipeline.runs.execute_run`` writes them; S also holds a stale run it did not
#: publish, which must not count.
TRAIN_PY = """\
import json, pathlib
for seed, seconds in ((0, 1.5), (1, 2.25)):
    run_id = f"bench/recipe/seed{seed}"
    out = pathlib.Path("res", run_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps({"run_id": run_id}))
    scratch = pathlib.Path("ckpt", run_id)
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "timings.json").write_text(json.dumps({"session_seconds": seconds}))
stale = pathlib.Path("ckpt", "bench/recipe/seed9")
stale.mkdir(parents=True, exist_ok=True)
(stale / "timings.json").write_text(json.dumps({"session_seconds": 100.0}))
"""

TRAIN_YAML = """\
stages:
  train:
    cmd: python train.py -p splits_dir data -p results_dir res -p scratch_dir ckpt
    outs:
      - res/bench/recipe:
          cache: false
  table:
    cmd: python -c "import pathlib; pathlib.Path('table.txt').write_text('t')"
    deps:
      - res/bench/recipe
    outs:
      - table.txt:
          cache: false
"""


def test_fit_time_is_read_from_the_training_folders_of_the_published_runs(tmp_path: Path):
    """A training stage's fit time comes from ``<scratch_dir>/<run_id>/timings.json`` of the
    runs it published under ``results_dir``: the training folders are no DVC outputs, so
    looking only at outputs under ``runs/`` found nothing (0 training stages, empty columns)."""
    init_project(tmp_path, TRAIN_YAML)
    (tmp_path / "train.py").write_text(TRAIN_PY)
    results = parallel.repro(tmp_path, jobs=1, echo=lambda _: None)
    work = {r.name: r.work_seconds for r in results}
    assert work == {"train": 3.75, "table": None}
    md = parallel.write_stage_times(results, tmp_path / "times", jobs=1).read_text()
    assert "Stages run: 2 (1 training stages)" in md
    assert markdown_rows(md)[2] == ["inside `fit` (training + evaluation)", "3.8"]
    rows = (tmp_path / "times.csv").read_text().splitlines()
    train = next(r for r in rows if r.startswith("train,"))
    assert train.split(",")[3] == "3.75"


def test_estimates_and_critical_path_order(tmp_path: Path):
    csv_path = tmp_path / "repro_stages.csv"
    csv_path.write_text(
        "stage,ok,seconds,fit_seconds,overhead_seconds\nrun@a,1,10.0,,\nrun@b,1,140.0,,\n"
        "robust,1,300.0,,\n"
    )
    previous = parallel._previous_times(csv_path)
    assert parallel._previous_times(tmp_path / "missing.csv") == {}
    est = parallel._estimates(["run@a", "run@b", "run@new", "new", "robust"], previous)
    # a new member of a known group: the group's median; an unknown stage: the longest known
    assert est == {"run@a": 10.0, "run@b": 140.0, "run@new": 75.0, "new": 300.0, "robust": 300.0}
    # run@a is short, but the 300 s robustness stage waits for it: it goes before run@b
    upstream = {"run@a": set(), "run@b": set(), "robust": {"run@a"}, "table": {"run@a", "run@b"}}
    level = parallel._critical_path(upstream, {**est, "table": 5.0})
    assert level == {"run@a": 310.0, "run@b": 145.0, "robust": 300.0, "table": 5.0}


def test_a_stage_starts_when_its_own_inputs_are_done(tmp_path: Path):
    """No barrier between generations: with a long run@c, the table of a and b (and only it)
    starts before c ends."""
    init_project(tmp_path, DAG_YAML)
    results = parallel.repro(tmp_path, jobs=2, echo=lambda _: None)
    assert sorted(r.name for r in results) == ["run@a", "run@b", "run@c", "table_ab"]
    t = lambda name: float((tmp_path / name).read_text())  # noqa: E731
    assert t("start_table_ab") < t("end_c")
    assert "up to date" in dvc(tmp_path, "status")
    assert parallel.repro(tmp_path, jobs=2, echo=lambda _: None) == []


DAG_YAML = """\
stages:
  run:
    matrix:
      x: [a, b, c]
    cmd: >-
      python -c "import pathlib, time;
      time.sleep(4.0 if '${item.x}' == 'c' else 0.2);
      pathlib.Path('end_${item.x}').write_text(str(time.time()));
      pathlib.Path('out_${item.x}.txt').write_text('${item.x}')"
    outs:
      - out_${item.x}.txt:
          cache: false
  table_ab:
    cmd: python -c "import pathlib, time;
      pathlib.Path('start_table_ab').write_text(str(time.time()));
      pathlib.Path('ab.txt').write_text(open('out_a.txt').read() + open('out_b.txt').read())"
    deps:
      - out_a.txt
      - out_b.txt
    outs:
      - ab.txt:
          cache: false
"""


def _printing(tmp_path: Path, name: str, expr: str) -> Task:
    cmd = f'{sys.executable} -c "import os, time; time.sleep(0.3); print({expr})"'
    return Task(name, cmd, tmp_path / "missing" / "logs" / f"{name}.log")  # folder not there yet


def _collect(executor, n: int) -> list[StageResult]:
    results: list[StageResult] = []
    while len(results) < n:
        results += executor.wait(timeout=30)
    return results


def test_cpu_slots_pass_their_share_of_the_cores(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 6)
    lines: list[str] = []
    ex = parallel.local_executor(tmp_path, 2, lines.append)  # 6 cores, 2 slots: 3 threads each
    ex.start([_printing(tmp_path, "s", "os.environ.get('OMP_NUM_THREADS')")])
    [result] = _collect(ex, 1)
    ex.close()
    assert result.ok and "[s] 3" in lines
    assert result.log.read_text() == "3\n"  # the log's folder was created
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the caller's own setting wins
    lines.clear()
    ex = parallel.local_executor(tmp_path, 2, lines.append)
    ex.start([_printing(tmp_path, "s", "os.environ.get('OMP_NUM_THREADS')")])
    assert _collect(ex, 1)[0].ok and "[s] 7" in lines
    ex.close()


def test_gpu_slots_pin_one_device_each(tmp_path: Path, monkeypatch):
    """Each slot is its own device: stages running together never share a GPU."""
    (tmp_path / "params.yaml").write_text(
        "profile:\n  threads: 0\n  train: {runtime: {device: auto}}\n"
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    lines: list[str] = []
    ex = parallel.local_executor(tmp_path, None, lines.append)
    assert ex.capacity == 2
    ex.start([_printing(tmp_path, f"s{i}", "os.environ['CUDA_VISIBLE_DEVICES']") for i in range(4)])
    results = _collect(ex, 4)
    ex.close()
    assert all(r.ok for r in results)
    seen = sorted(r.log.read_text().strip() for r in results)
    assert seen == ["0", "0", "1", "1"]  # 4 stages over 2 slots; no "0,1", never unset


def test_a_command_that_cannot_start_is_a_failed_stage(tmp_path: Path):
    ex = LocalExecutor(tmp_path / "no-such-dir", 1, echo=lambda _: None)  # cwd missing
    ex.start([Task("s", "true", tmp_path / "s.log")])
    [result] = _collect(ex, 1)
    ex.close()
    assert not result.ok and result.returncode == -1 and "s (exit -1" in result.describe()


@pytest.mark.parametrize("keep_going", [False, True])
def test_keep_going_runs_what_does_not_depend_on_the_failure(project: Path, keep_going: bool):
    (project / "fail_b").write_text("")
    # One slot: the runs start one after another (a, b, c), so after b fails only keep-going
    # still starts c; the table depends on b and never starts.
    with pytest.raises(RuntimeError, match=r"run@b \(exit 3.*not started") as err:
        parallel.repro(project, jobs=1, keep_going=keep_going, echo=lambda _: None)
    assert (project / "out_a.txt").exists()
    assert (project / "out_c.txt").exists() == keep_going
    assert not (project / "table.txt").exists()
    assert ("1 stage(s) not started" if keep_going else "2 stage(s) not started") in str(err.value)
    status = dvc(project, "status")
    assert ("run@c:" in status) != keep_going  # c recorded only when it ran


NOTEBOOK_YAML = """\
stages:
  notebook:
    cmd: {python} -m papermill --log-level WARNING nb.ipynb out.ipynb
    deps:
      - nb.ipynb
    outs:
      - out.ipynb:
          cache: false
"""


def test_notebook_stages_run_with_the_standard_kernel(project: Path, monkeypatch):
    import json

    import nbformat
    import psutil

    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    (project / "dvc.yaml").write_text(NOTEBOOK_YAML.format(python=sys.executable))
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    nb.cells = [
        nbformat.v4.new_code_cell("import os, sys\nprint(os.environ.get('JUPYTER_PATH'))\n")
    ]
    nbformat.write(nb, project / "nb.ipynb")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    results = parallel.repro(project, jobs=1, echo=lambda _: None)
    assert [r.ok for r in results] == [True]
    out = json.loads((project / "out.ipynb").read_text(encoding="utf-8"))
    assert "".join(out["cells"][0]["outputs"][0]["text"]) == "None\n"  # no kernel spec of ours
    assert "Data and pipelines are up to date." in dvc(project, "status")
    # nothing left running beside the stages (no kernel server)
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


def test_dvc_lock_is_written_while_stages_run(tmp_path: Path, monkeypatch):
    """Finished stages reach dvc.lock before the end (every LOCK_WRITE_INTERVAL_S): the table
    starts after a and b, and by then their entries are in the lock."""
    yaml_text = DAG_YAML.replace(
        "pathlib.Path('start_table_ab')",
        "import shutil; shutil.copy('dvc.lock', 'lock_seen.txt'); pathlib.Path('start_table_ab')",
    )
    init_project(tmp_path, yaml_text)
    monkeypatch.setattr(parallel, "LOCK_WRITE_INTERVAL_S", 0.0)
    parallel.repro(tmp_path, jobs=2, echo=lambda _: None)
    seen = (tmp_path / "lock_seen.txt").read_text()
    assert "run@a:" in seen and "run@b:" in seen and "table_ab:" not in seen
    assert "up to date" in dvc(tmp_path, "status")


class _Interrupted(LocalExecutor):
    """Local slots whose second wait is a Ctrl-C."""

    waits = 0

    def wait(self, timeout=None):
        self.waits += 1
        if self.waits > 1:
            raise KeyboardInterrupt
        return super().wait(timeout=None)


def test_an_interrupted_repro_records_what_finished(project: Path):
    ex = _Interrupted(project, 1, echo=lambda _: None)
    with pytest.raises(KeyboardInterrupt):
        parallel.repro(project, executor=ex, echo=lambda _: None)
    status = dvc(project, "status")
    assert "prepare:" not in status and "run@a:" in status  # prepare recorded, the rest not
    # the run that was running when interrupted finished (the slot is waited for), so the
    # rerun does the rest
    results = parallel.repro(project, jobs=2, echo=lambda _: None)
    assert "prepare" not in [r.name for r in results]
    assert "up to date" in dvc(project, "status")
