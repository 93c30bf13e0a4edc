"""``make repro`` with ``--executor slurm``: each stage a SLURM job (submitit), recorded by the head.

The same runs go through submitit's local executor (``cluster="local"``: the jobs are local
processes started the way submitit starts them, pickled function and all) in every ``make
test``, and through a real SLURM when ``sbatch`` is on the PATH and a partition answers
(``tools/slurm/start_single_node.sh`` starts a single-node one; skipped otherwise).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from _pipeline_helpers import dvc, toy_project

from tempaug.pipeline import parallel
from tempaug.pipeline.executors import SlurmExecutor, SlurmOptions


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return toy_project(tmp_path, run_seconds=3.0)


def status(project: Path) -> str:
    return dvc(project, "status")


def _slurm_partition() -> str | None:
    """The default partition of a SLURM that answers, or None (no SLURM here)."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return None
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%P %a"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        name, _, avail = line.partition(" ")
        if name.endswith("*") and avail.strip() == "up":
            return name.rstrip("*")
    return None


CLUSTERS = [
    pytest.param("local", id="submitit-local"),
    pytest.param(
        "slurm",
        id="slurm",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(_slurm_partition() is None, reason="no SLURM (sbatch) here"),
        ],
    ),
]


def executor(project: Path, cluster: str, lines: list[str], jobs: int | None = None):
    return parallel.slurm_executor(
        project,
        jobs=jobs,
        cluster=cluster,
        echo=lines.append,
        poll_s=0.2,
        cpus_per_task=1,
        timeout_min=10,
        partition=_slurm_partition() if cluster == "slurm" else None,
    )


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_stages_run_as_jobs_and_the_head_records_them(project: Path, cluster: str):
    lines: list[str] = []
    results = parallel.repro(
        project, executor=executor(project, cluster, lines), echo=lambda _: None
    )
    assert sorted(r.name for r in results) == ["prepare", "run@a", "run@b", "run@c", "table"]
    assert all(r.ok and r.job_id for r in results)
    assert all(r.job_log is not None and r.job_log.is_file() for r in results)
    # the three runs were ready together: submitted together, and they overlapped in time
    # (at least two of them: a 2-CPU node runs two 1-CPU jobs at once)
    submitted = [line for line in lines if line.startswith("submitted run@")]
    assert len(submitted) == 3 and lines.index(submitted[0]) + 2 == lines.index(submitted[2])
    t = {i: (float((project / f"start_{i}").read_text()), float((project / f"end_{i}").read_text()))
         for i in "abc"}  # fmt: skip
    assert any(t[i][0] < t[j][1] and t[j][0] < t[i][1] for i in "abc" for j in "abc" if i < j)
    assert (project / "table.txt").read_text() == "xaxbxc"
    # the job's output went to the stage's log, with the job's CPUs as its thread count
    log = (project / "runs" / "logs" / "run__a.log").read_text()
    assert log.endswith(" threads 1\n")
    assert ("job None" in log) == (cluster == "local")  # a real job knows its SLURM id
    if cluster == "slurm":  # one job array for the runs: <array id>_<index>
        ids = {r.name: r.job_id for r in results}
        assert len({ids[f"run@{x}"].split("_")[0] for x in "abc"}) == 1
    assert "up to date" in status(project)
    assert parallel.repro(project, executor=executor(project, cluster, lines)) == []


@pytest.mark.parametrize("cluster", CLUSTERS)
@pytest.mark.parametrize("keep_going", [False, True])
def test_a_failed_job_is_reported_with_its_logs(project: Path, cluster: str, keep_going: bool):
    (project / "fail_b").write_text("")
    lines: list[str] = []
    # one job at a time: a, b, c one after another, so after b fails only keep-going starts c
    ex = executor(project, cluster, lines, jobs=1)
    with pytest.raises(RuntimeError, match=r"run@b \(exit 3, log .*run__b\.log; SLURM job") as err:
        parallel.repro(project, executor=ex, keep_going=keep_going, echo=lambda _: None)
    message = str(err.value)
    job_log = Path(message.split("job log ")[1].split(")")[0])
    assert job_log.is_file()
    assert ("1 stage(s) not started" if keep_going else "2 stage(s) not started") in message
    assert any(line.startswith("FAILED run@b") and "run__b.log" in line for line in lines)
    assert (project / "out_c.txt").exists() == keep_going
    st = status(project)
    assert "prepare:" not in st and "run@a:" not in st and "run@b:" in st
    assert ("run@c:" in st) != keep_going
    # the rerun does the rest
    (project / "fail_b").unlink()
    again = parallel.repro(project, executor=executor(project, cluster, lines))
    assert sorted(r.name for r in again) == (["run@b", "table"] if keep_going else
                                             ["run@b", "run@c", "table"])  # fmt: skip
    assert "up to date" in status(project)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_a_job_that_dies_without_a_result_is_a_failed_stage(
    project: Path, cluster: str, monkeypatch
):
    """SLURM's own ends of a job (time limit, memory, node failure) leave no result: the
    stage fails with submitit's message and the job's log. Here the job's Python process is
    killed; on a SLURM without accounting (no sacct) only squeue tells that the job is gone."""
    kill = "kill -9 $PPID; sleep 60"  # $PPID: submitit's process in the job
    (project / "dvc.yaml").write_text(
        f"stages:\n  dies:\n    cmd: {kill}\n    outs:\n      - x.txt:\n          cache: false\n"
    )
    monkeypatch.setattr(SlurmExecutor, "FORCE_CHECK_S", 1.0)
    monkeypatch.setattr(SlurmExecutor, "RESULT_GRACE_S", 1.0)
    lines: list[str] = []
    with pytest.raises(
        RuntimeError, match=r"dies \(exit -1: the job ended without a result.*SLURM job .*job log"
    ):
        parallel.repro(project, executor=executor(project, cluster, lines), echo=lambda _: None)
    assert any(line.startswith("FAILED dies") for line in lines)


@pytest.fixture
def no_srun_needed(monkeypatch):
    """submitit's SLURM executor refuses to start without ``srun`` on the PATH, which only a
    submission needs: the sbatch text is built and checked on machines without SLURM too."""
    from submitit.slurm import slurm

    monkeypatch.setattr(slurm.SlurmExecutor, "affinity", classmethod(lambda cls: 1))


def test_resources_from_params_and_options(tmp_path: Path, no_srun_needed):
    gpu_profile = {
        "profile": {
            "threads": 0,
            "nproc_per_node": 2,
            "train": {"runtime": {"device": "auto"}, "data": {"num_workers": 8}},
        }
    }
    opts = SlurmOptions.from_params(gpu_profile)
    # defaults: the run's GPUs, a loader worker per CPU plus one, per GPU; one day
    assert (opts.partition, opts.gpus_per_node, opts.cpus_per_task) == (None, 2, 18)
    assert (opts.mem_gb, opts.timeout_min) == (None, 24 * 60)
    gpu_profile["profile"]["slurm"] = {
        "partition": "gpu",
        "gpus_per_node": 1,
        "cpus_per_task": 10,
        "mem_gb": 64,
        "timeout_min": 600,
        "slurm_qos": "high",  # anything else goes to submitit as it stands
    }
    opts = SlurmOptions.from_params(gpu_profile, timeout_min=30, mem_gb=None)
    assert (opts.partition, opts.gpus_per_node, opts.cpus_per_task) == ("gpu", 1, 10)
    assert (opts.mem_gb, opts.timeout_min, opts.extra) == (64, 30, {"slurm_qos": "high"})
    cpu = SlurmOptions.from_params({"profile": {"threads": 2, "train": {"runtime": {}}}})
    assert (cpu.gpus_per_node, cpu.cpus_per_task) == (0, 2)
    # what sbatch gets
    import submitit

    ex = submitit.AutoExecutor(folder=tmp_path / "%j", cluster="slurm")
    ex.update_parameters(**opts.submitit_parameters())
    text = ex._executor._make_submission_file_text("true", "uid")
    for line in (
        "#SBATCH --partition=gpu",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --cpus-per-task=10",
        "#SBATCH --mem=64GB",
        "#SBATCH --time=30",
        "#SBATCH --qos=high",
        "#SBATCH --nodes=1",
    ):
        assert line in text, line


def test_command_line_reads_the_slurm_options(project: Path, monkeypatch):
    seen = {}

    def fake_repro(root, *, executor, dry, keep_going):
        seen.update(executor=executor, keep_going=keep_going)
        return []

    monkeypatch.setattr(parallel, "repro", fake_repro)
    (project / "params.yaml").write_text(
        "profile:\n  threads: 1\n  train: {runtime: {device: cpu}}\n"
        "  slurm: {partition: cpu, mem_gb: 4}\n"
    )
    argv = ["--root", str(project), "--executor", "slurm", "--slurm-cluster", "local"]
    assert parallel.main([*argv, "--slurm-timeout-min", "7", "--keep-going", "--jobs", "5"]) == 0
    ex = seen["executor"]
    assert isinstance(ex, SlurmExecutor) and ex.capacity == 5 and seen["keep_going"]
    assert (ex.options.partition, ex.options.mem_gb, ex.options.timeout_min) == ("cpu", 4, 7)
    assert ex.folder == project.resolve() / "runs" / "logs" / "slurm" and ex.folder.is_dir()


def test_job_logs_go_to_a_folder_that_exists_before_submission(tmp_path: Path, no_srun_needed):
    """sbatch's --output folder must exist when the job starts, which on an idle cluster is
    milliseconds after sbatch returns: a per-job folder made after submission (submitit's
    ``%j`` folders) lost that race on the single-node SLURM, and the job died without a log."""
    ex = SlurmExecutor(tmp_path, SlurmOptions(), cluster="slurm")
    text = ex._executor._executor._make_submission_file_text("true", "uid")
    [output] = [line.split("=", 1)[1] for line in text.splitlines() if "--output=" in line]
    assert "%j" not in str(Path(output).parent) and Path(output).parent.is_dir()
