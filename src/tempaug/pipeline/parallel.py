"""``dvc repro`` with independent stages running side by side (``make repro``).

DVC runs a pipeline's stages one after another, and after every stage it re-reads and rewrites
``dvc.lock`` (``benchmarks/pipeline.py`` measures that write). This module is a small loop over
DVC's own stage graph with DVC's own rules, only concurrent:

1. the stage graph, the stages' resolved commands and "is this stage changed?" come from DVC
   (``Repo.index.graph``, ``Stage.cmd``, ``Stage.changed``);
2. a stage starts as soon as every stage it depends on has finished: no barrier between data,
   runs and tables, so the robustness and table stages overlap the last training runs. Among
   the stages ready to start, the one with the longest critical path goes first (its own time
   in the last run, ``results/benchmarks/repro_stages.csv``, plus the longest chain of stages
   waiting for it). Before a stage runs, its outputs are removed (DVC's rule; not ``persist``
   outputs: a run's checkpoint folder, so an interrupted run resumes);
3. an executor (:mod:`tempaug.pipeline.executors`) runs the commands: local slots (default;
   on a GPU node one stage per visible GPU, pinned with ``CUDA_VISIBLE_DEVICES``, on CPU
   ``cores ÷ profile.threads``), or SLURM jobs through submitit (``--executor slurm``; the
   stages ready together are one job array, resources from ``profile.slurm`` in params.yaml
   or the ``--slurm-*`` options);
4. this process records the stages that succeeded the way ``dvc commit`` records them
   (``Stage.save``, ``Stage.commit`` and ``dump_stages``: one ``dvc.lock`` write for the stages
   finished in the last 30 s, and at the end), so afterwards ``dvc status`` is clean and a plain
   ``dvc repro`` has nothing to do.

After a failed stage nothing new starts; the stages already running finish and what succeeded
is recorded, so the next ``make repro`` resumes there. With ``keep_going`` (``--keep-going``,
``make repro KEEP_GOING=1``; DVC's ``dvc repro --keep-going``, make's ``-k``) every stage that
does not depend on a failed one still runs: a failed run of a multi-day matrix then costs only
its own descendants. Notebook stages run their ``papermill`` command as it stands in dvc.yaml,
with the standard kernel.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tempaug.pipeline.executors import (
    LocalExecutor,
    SlurmExecutor,
    SlurmOptions,
    StageResult,
    Task,
    _thread_safe,
    log_path,
)

__all__ = [
    "StageResult",
    "default_jobs",
    "local_executor",
    "main",
    "repro",
    "slurm_executor",
    "write_stage_times",
]


def _params(root: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(root) / "params.yaml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def default_jobs(root: str | Path = ".") -> tuple[int, list[str]]:
    """Concurrent stages for this machine and the active profile, and the devices to pin.

    Returns ``(jobs, devices)``: with a CUDA profile (``runtime.device`` ``auto``/``cuda``)
    and visible GPUs, one job per ``profile.nproc_per_node`` GPUs and ``devices`` the
    ``CUDA_VISIBLE_DEVICES`` value of each job's slot (``"0"``, ``"1"``, … or ``"0,1"``, …);
    otherwise ``os.cpu_count() // profile.threads`` jobs (at least 1) and no devices.
    """
    profile = _params(root).get("profile", {}) or {}
    device = str(profile.get("train", {}).get("runtime", {}).get("device", "cpu"))
    if device != "cpu":
        gpus = _visible_gpus()
        per_run = max(1, int(profile.get("nproc_per_node", 1)))
        if len(gpus) >= per_run:
            slots = [
                ",".join(gpus[i : i + per_run]) for i in range(0, len(gpus) - per_run + 1, per_run)
            ]
            return len(slots), slots
    threads = int(profile.get("threads", 0)) or (os.cpu_count() or 1)
    return max(1, (os.cpu_count() or 1) // threads), []


def _visible_gpus() -> list[str]:
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d for d in env.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def _stage_env(cpu_threads: int | None) -> dict[str, str]:
    """The environment of every local stage command (a slot adds its ``CUDA_VISIBLE_DEVICES``).

    ``cpu_threads``: the slot's share of the cores, passed as ``OMP_NUM_THREADS`` (unless the
    caller set it), so stages that do not set their own thread count (tables, CAM, robustness)
    do not oversubscribe the machine while other stages run beside them.
    """
    env = dict(os.environ)
    if cpu_threads is not None:
        env.setdefault("OMP_NUM_THREADS", str(cpu_threads))
    return env


def local_executor(
    root: str | Path, jobs: int | None = None, echo: Callable[[str], None] = print
) -> LocalExecutor:
    """Local slots: ``jobs`` at a time (``None``: :func:`default_jobs`, with its GPU pinning);
    on CPU each slot's share of the cores goes to ``OMP_NUM_THREADS``."""
    devices: list[str] = []
    if jobs is None:
        jobs, devices = default_jobs(root)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    cpu_threads = None if devices else max(1, (os.cpu_count() or 1) // jobs)
    return LocalExecutor(root, jobs, devices, _stage_env(cpu_threads), echo)


def slurm_executor(
    root: str | Path,
    *,
    jobs: int | None = None,
    cluster: str = "slurm",
    echo: Callable[[str], None] = print,
    poll_s: float = 2.0,
    **overrides: Any,
) -> SlurmExecutor:
    """SLURM jobs with the resources of ``profile.slurm`` in params.yaml, ``overrides``
    (:class:`~tempaug.pipeline.executors.SlurmOptions` fields; ``None`` keeps the file's) on
    top; ``jobs``: at most this many jobs queued at once (default: no limit)."""
    options = SlurmOptions.from_params(_params(root), **overrides)
    return SlurmExecutor(root, options, cluster=cluster, capacity=jobs, poll_s=poll_s, echo=echo)


def _papermill_parameters(cmd: str) -> dict[str, str]:
    """The ``-p name value`` notebook parameters of a stage command (papermill's syntax)."""
    import shlex

    try:
        words = shlex.split(cmd)
    except ValueError:  # unbalanced quotes: not a papermill command line
        return {}
    return {
        words[i + 1]: words[i + 2]
        for i in range(len(words) - 2)
        if words[i] in ("-p", "--parameters")
    }


def _fit_seconds(root: Path, stage: Any) -> float | None:
    """Seconds inside ``fit`` of a training stage, summed over its runs (one per seed or split).

    A training stage's notebook gets ``-p results_dir R -p scratch_dir S``: it publishes each
    run's ``run.json`` in the stage's outputs under ``R`` and trains in ``S/<run_id>/``, where
    the trainer writes ``timings.json`` (``session_seconds``). The training folders are no DVC
    outputs (checkpoints stay out of DVC), so they are found through the published run records.
    ``None`` for a stage that publishes no run record.
    """
    import json

    args = _papermill_parameters(_command(stage))
    if "results_dir" not in args or "scratch_dir" not in args:
        return None
    results_dir, scratch_dir = Path(args["results_dir"]), root / args["scratch_dir"]
    total, found = 0.0, False
    for out in stage.outs:
        rel = Path(str(out.def_path))
        folder = root / rel
        if not rel.is_relative_to(results_dir) or not folder.is_dir():
            continue
        for record in sorted(folder.rglob("run.json")):
            run_id = json.loads(record.read_text(encoding="utf-8"))["run_id"]
            timings = scratch_dir / run_id / "timings.json"
            if timings.is_file():
                total += float(json.loads(timings.read_text(encoding="utf-8"))["session_seconds"])
                found = True
    return total if found else None


def write_stage_times(
    results: Sequence[StageResult],
    path: str | Path,
    *,
    jobs: int | None = None,
    runner: str | None = None,
) -> Path:
    """Per-stage wall time, time inside ``fit`` and overhead as CSV, plus a Markdown summary
    beside it (medians over the training runs): how the pipeline's time is spent. The title
    says how the stages ran: ``runner``, or ``jobs`` stages at a time."""
    import csv
    import io
    import statistics

    import pandas as pd

    from tempaug.io import atomic_write_text
    from tempaug.markdown import markdown_table

    path = Path(path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["stage", "ok", "seconds", "fit_seconds", "overhead_seconds"])
    for r in results:
        fmt = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
        w.writerow(
            [r.name, int(r.ok), f"{r.seconds:.2f}", fmt(r.work_seconds), fmt(r.overhead_seconds)]
        )
    atomic_write_text(path.with_suffix(".csv"), buf.getvalue())
    runs = [r for r in results if r.work_seconds is not None]
    lines = [
        f"# make repro: where the time goes ({runner or f'{jobs} stage(s) at a time'})",
        "",
        f"Stages run: {len(results)} ({len(runs)} training stages); stage time summed "
        f"{sum(r.seconds for r in results) / 60:.1f} min.",
    ]
    if runs:
        med = statistics.median
        medians = pd.DataFrame(
            {
                "per training stage (median)": [
                    "wall time of the stage",
                    "inside `fit` (training + evaluation)",
                    "overhead (papermill, kernel, imports, data tables, publishing)",
                ],
                "seconds": [
                    f"{med(r.seconds for r in runs):.1f}",
                    f"{med(r.work_seconds for r in runs):.1f}",
                    f"{med(r.overhead_seconds for r in runs):.1f}",
                ],
            }
        )
        lines += [
            "",
            markdown_table(medians).rstrip("\n"),
            "",
            "Measured from the stages' own clocks: the runner times each stage's command, the "
            "trainer writes the time inside `fit` to the run's `timings.json`. DVC's own work "
            "(status, one `dvc.lock` write per 30 s) is outside the stages.",
        ]
    atomic_write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    return path.with_suffix(".md")


def _previous_times(path: Path) -> dict[str, float]:
    """Stage → seconds of the last ``make repro`` (``--times`` CSV), if there is one."""
    import csv

    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["stage"]: float(row["seconds"]) for row in csv.DictReader(fh)}


def _estimates(names: Sequence[str], previous: dict[str, float]) -> dict[str, float]:
    """Expected seconds of each stage: its time in the last ``make repro``; a stage not run
    before gets the median of its group (the name before ``@``, e.g. every ``vipriors_test@…``),
    and one of an unknown group the longest time known (so it is not started last)."""
    import statistics

    groups: dict[str, list[float]] = {}
    for name, seconds in previous.items():
        groups.setdefault(name.split("@")[0], []).append(seconds)
    longest = max(previous.values(), default=1.0)
    out = {}
    for name in names:
        group = groups.get(name.split("@")[0])
        out[name] = previous.get(name, statistics.median(group) if group else longest)
    return out


def _critical_path(upstream: dict[str, set[str]], estimates: dict[str, float]) -> dict[str, float]:
    """Each stage's priority: its own expected time plus the longest chain of stages that wait
    for it (the classic critical-path rule of list scheduling). Starting the highest first
    keeps a long downstream stage (robustness after the Table 2–5 runs) off the end."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(upstream)
    graph.add_edges_from((u, name) for name, ups in upstream.items() for u in ups)
    level: dict[str, float] = {}
    for name in reversed(list(nx.topological_sort(graph))):
        below = max((level[d] for d in graph.successors(name)), default=0.0)
        level[name] = estimates.get(name, 0.0) + below
    return level


def _stage_graph(repo: Any) -> dict[str, set[str]]:
    """Stage name → names of the stages it depends on (stages with a command only)."""
    graph = repo.index.graph  # DVC's edges point from a stage to its upstream stages
    out: dict[str, set[str]] = {}
    for stage in graph.nodes:
        if getattr(stage, "cmd", None):
            out[stage.name] = {u.name for u in graph.successors(stage) if getattr(u, "cmd", None)}
    return out


def _command(stage: Any) -> str:
    cmd = getattr(stage, "cmd", "") or ""
    return cmd if isinstance(cmd, str) else " && ".join(cmd)


#: Seconds between ``dvc.lock`` writes while stages run (finished stages are also written at the
#: end, also after a failure or an interruption), so an interrupted ``make repro`` keeps what
#: finished.
LOCK_WRITE_INTERVAL_S = 30.0

WAITING, QUEUED, RUNNING, DONE, FAILED = "waiting", "queued", "running", "done", "failed"


class _Lock:
    """Stages saved and committed since the last ``dvc.lock`` write; written in one
    ``dump_stages`` call every :data:`LOCK_WRITE_INTERVAL_S` and at the end."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo
        self.pending: list[Any] = []
        self.last = time.monotonic()

    def add(self, stage: Any) -> None:
        with self.repo.lock:  # as `dvc commit` records a stage
            stage.save(run_cache=False)
            stage.commit()
        self.pending.append(stage)

    def write(self, *, due_only: bool = False) -> None:
        if due_only and time.monotonic() - self.last < LOCK_WRITE_INTERVAL_S:
            return
        if self.pending:
            with self.repo.lock:
                self.pending[0].dvcfile.dump_stages(list(self.pending), update_pipeline=False)
            self.pending.clear()
        self.last = time.monotonic()


def _topological(upstream: dict[str, set[str]]) -> list[str]:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(upstream))
    graph.add_edges_from((u, name) for name, ups in upstream.items() for u in ups)
    return list(nx.lexicographical_topological_sort(graph))


def _queue_ready(
    state: dict[str, str], upstream: dict[str, set[str]], stages: dict[str, Any], repo: Any
) -> None:
    """Waiting stages whose inputs are all done: DVC's ``changed()`` queues them, or marks them
    done (nothing to do), which may make the stages after them ready in turn."""
    while True:
        ready = [
            a
            for a, s in state.items()
            if s == WAITING and all(state[u] == DONE for u in upstream[a])
        ]
        if not ready:
            return
        with repo.lock:
            changed = {a for a in ready if stages[a].changed()}
        for a in ready:
            state[a] = QUEUED if a in changed else DONE
        if len(changed) == len(ready):
            return


def repro(
    root: str | Path = ".",
    *,
    jobs: int | None = None,
    executor: Any = None,
    dry: bool = False,
    keep_going: bool = False,
    echo: Callable[[str], None] = print,
) -> list[StageResult]:
    """Reproduce the DVC pipeline at ``root`` with independent stages running concurrently.

    A stage starts as soon as every stage it depends on has finished (no barrier between the
    data, run and table stages); among the stages ready to start, the one with the longest
    critical path (its own expected time plus the longest chain waiting for it) goes first,
    as many at a time as the executor's ``capacity``. Whether a ready stage is changed is DVC's
    ``Stage.changed()``; unchanged stages are skipped.

    Args:
        root: the repository (holds ``dvc.yaml``).
        jobs: stages at a time of the default executor; ``None``: :func:`default_jobs`.
        executor: what runs the commands (:mod:`tempaug.pipeline.executors`); default:
            :func:`local_executor` ``(root, jobs)``. Closed at the end.
        dry: only print the stages DVC sees as changed now (stages downstream of them rerun
            too when their inputs change).
        keep_going: after a failure, go on with every stage that does not depend on a failed
            one (default: start nothing new).
        echo: where progress lines go.

    Returns:
        One :class:`StageResult` per stage run, in completion order.

    Raises:
        RuntimeError: a stage failed (the message names it and its log, and how many stages
            were not started; nothing downstream of it starts, the stages already running
            finish, and those that succeeded are recorded in ``dvc.lock``).
    """
    from dvc.repo import Repo

    root = Path(root).resolve()
    say = _thread_safe(echo)
    log_dir = root / "runs" / "logs"
    with Repo(str(root)) as repo:
        with repo.lock:
            stages = {s.name: s for s in repo.index.stages if getattr(s, "cmd", None)}
            upstream = _stage_graph(repo)
        if dry:
            with repo.lock:
                for name in _topological(upstream):
                    if stages[name].changed():
                        say(f"  would run {name}")
            return []
        if executor is None:
            executor = local_executor(root, jobs, say)
        previous = _previous_times(root / "results" / "benchmarks" / "repro_stages.csv")
        priority = _critical_path(upstream, _estimates(list(upstream), previous))
        state = dict.fromkeys(upstream, WAITING)
        lock_file = _Lock(repo)
        results: list[StageResult] = []
        try:
            while True:
                if keep_going or FAILED not in state.values():
                    _queue_ready(state, upstream, stages, repo)
                    # only into free slots, so a stage that becomes ready later (robustness,
                    # after the Table 2-5 runs) still goes before the runs of lower priority
                    free = executor.capacity - list(state.values()).count(RUNNING)
                    queued = sorted((a for a, s in state.items() if s == QUEUED),
                                    key=lambda a: (-priority[a], a))  # fmt: skip
                    tasks = []
                    for name in queued[: max(0, free)]:
                        with repo.lock:  # DVC's rule: outputs go before a stage runs
                            stages[name].remove_outs(ignore_remove=False, force=False)
                        state[name] = RUNNING
                        to_go = sum(s in (WAITING, QUEUED) for s in state.values())
                        say(f"start {name} ({to_go} to go)")
                        tasks.append(Task(name, _command(stages[name]), log_path(log_dir, name)))
                    executor.start(tasks)
                if RUNNING not in state.values():
                    break
                for result in executor.wait(timeout=LOCK_WRITE_INTERVAL_S):
                    result.work_seconds = _fit_seconds(root, stages[result.name])
                    results.append(result)
                    state[result.name] = DONE if result.ok else FAILED
                    if result.ok:
                        lock_file.add(stages[result.name])
                lock_file.write(due_only=True)
        finally:
            try:
                executor.close()
            finally:
                lock_file.write()
    failed = [r for r in results if not r.ok]
    if failed:
        not_started = sum(s in (WAITING, QUEUED) for s in state.values())
        raise RuntimeError(
            "stage(s) failed: "
            + ", ".join(r.describe() for r in failed)
            + f"; {not_started} stage(s) not started"
            + (" (all downstream of a failure)" if keep_going else "")
            + "; the stages that finished are recorded, rerun to continue"
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tempaug.pipeline.parallel [--jobs N] [--dry] [--keep-going]
    [--executor local|slurm] [--slurm-partition P] [--slurm-gpus-per-node G]
    [--slurm-cpus-per-task C] [--slurm-mem-gb M] [--slurm-timeout-min T] [--times PATH]``."""
    ap = argparse.ArgumentParser(
        prog="python -m tempaug.pipeline.parallel",
        description="dvc repro with independent stages running concurrently (make repro).",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="stages at a time (local default: one per GPU, or cores / profile.threads; "
        "slurm: jobs queued at once, default no limit)",
    )
    ap.add_argument("--dry", action="store_true", help="list the stages that would run")
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="after a failure, run every stage that does not depend on a failed one",
    )
    ap.add_argument(
        "--executor",
        choices=["local", "slurm"],
        default="local",
        help="local slots (default) or one SLURM job per stage (submitit)",
    )
    slurm = ap.add_argument_group("SLURM (--executor slurm; default: profile.slurm in params.yaml)")
    slurm.add_argument("--slurm-partition", default=None)
    slurm.add_argument("--slurm-gpus-per-node", type=int, default=None, help="GPUs per stage")
    slurm.add_argument("--slurm-cpus-per-task", type=int, default=None, help="CPUs per stage")
    slurm.add_argument("--slurm-mem-gb", type=float, default=None, help="memory per stage")
    slurm.add_argument("--slurm-timeout-min", type=int, default=None, help="time limit per stage")
    slurm.add_argument(
        "--slurm-cluster",
        choices=["slurm", "local"],
        default="slurm",
        help="'local': submitit's local executor (the same jobs as local processes; for trying)",
    )
    ap.add_argument("--root", default=".", help="repository root (default: .)")
    ap.add_argument(
        "--times",
        default=None,
        help="write per-stage times here (.csv + .md), e.g. results/benchmarks/repro_stages",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.executor == "slurm":
            executor: Any = slurm_executor(
                args.root,
                jobs=args.jobs,
                cluster=args.slurm_cluster,
                partition=args.slurm_partition,
                gpus_per_node=args.slurm_gpus_per_node,
                cpus_per_task=args.slurm_cpus_per_task,
                mem_gb=args.slurm_mem_gb,
                timeout_min=args.slurm_timeout_min,
            )
            o = executor.options
            described = f"SLURM jobs of {o.cpus_per_task} CPU(s), {o.gpus_per_node} GPU(s)"
        else:
            executor = local_executor(args.root, args.jobs)
            described = f"{executor.capacity} stage(s) at a time"
        results = repro(args.root, executor=executor, dry=args.dry, keep_going=args.keep_going)
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(results)} stage(s) run in {time.perf_counter() - t0:.0f} s")
    if args.times and results:
        print(f"stage times: {write_stage_times(results, args.times, runner=described)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
