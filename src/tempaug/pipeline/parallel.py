"""``dvc repro`` with independent stages running side by side (``make repro``).

DVC runs a pipeline's stages one after another, and after every stage it re-reads and rewrites
``dvc.lock`` (about 7 s per stage for this pipeline's 74 stages, measured). This module runs the
same pipeline with DVC's own pieces and its own rules, only concurrently:

1. the stage graph, the stages' resolved commands and "is this stage changed?" come from DVC
   (``Repo.index.graph``, ``Stage.cmd``, ``Stage.changed``);
2. a stage starts as soon as every stage it depends on has finished, ``jobs`` at a time
   (:class:`concurrent.futures.ThreadPoolExecutor`, one subprocess each): no barrier between
   data, runs and tables, so the robustness and table stages overlap the last training runs.
   Among the stages ready to start, the one with the longest critical path goes first (its own
   time in the last run, ``results/benchmarks/repro_stages.csv``, plus the longest chain of
   stages waiting for it). Before a stage runs, its outputs are removed (DVC's rule; not
   ``persist`` outputs: a run's checkpoint folder, so an interrupted run resumes);
3. the stages that succeeded are recorded the way ``dvc commit`` records them
   (``Stage.save``, ``Stage.commit`` and ``dump_stages``: one ``dvc.lock`` write for the stages
   finished in the last 30 s, and at the end), so afterwards ``dvc status`` is clean and a plain
   ``dvc repro`` has nothing to do.

Notebook stages get kernels forked from one server that has imported the pipeline once
(:mod:`tempaug.pipeline.warm_kernel`; the stages' commands are unchanged, ``--standard-kernels``
turns it off): 3.7 s less per notebook stage than a fresh kernel's start and imports
(``benchmarks/pipeline.py``).

After a failed stage nothing new starts; the stages already running finish and what succeeded
is recorded, so the next ``make repro`` resumes there. With ``keep_going`` (``--keep-going``,
``make repro KEEP_GOING=1``; DVC's ``dvc repro --keep-going``, make's ``-k``) every stage that
does not depend on a failed one still runs: a failed run of a multi-day matrix then costs only
its own descendants. Concurrency: on a GPU node one stage per
visible GPU, each pinned to its own device (``CUDA_VISIBLE_DEVICES``); on CPU
``cores ÷ profile.threads``. To
spread the run matrix over several nodes that share the repository (a network file system),
start ``python -m tempaug.pipeline.parallel --shard k/n`` on node ``k`` of ``n`` for the runs,
then ``make repro`` on one node for the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["StageResult", "default_jobs", "main", "repro", "write_stage_times"]


@dataclass
class StageResult:
    """What happened to one stage: ``ok``, its wall time, the log file of its output, and
    (for a training run) the seconds spent inside ``fit`` (``timings.json``)."""

    name: str
    ok: bool
    seconds: float
    log: Path
    returncode: int = 0
    work_seconds: float | None = None

    @property
    def overhead_seconds(self) -> float | None:
        """Stage wall time not spent training or evaluating: process and kernel start,
        imports, data preparation for the run, publishing its files."""
        return None if self.work_seconds is None else self.seconds - self.work_seconds


@dataclass
class _Plan:
    generations: list[list[Any]] = field(default_factory=list)


def default_jobs(root: str | Path = ".") -> tuple[int, list[str]]:
    """Concurrent stages for this machine and the active profile, and the devices to pin.

    Returns ``(jobs, devices)``: with a CUDA profile (``runtime.device`` ``auto``/``cuda``)
    and visible GPUs, one job per ``profile.nproc_per_node`` GPUs and ``devices`` the
    ``CUDA_VISIBLE_DEVICES`` value of each job's slot (``"0"``, ``"1"``, … or ``"0,1"``, …);
    otherwise ``os.cpu_count() // profile.threads`` jobs (at least 1) and no devices.
    """
    import yaml

    params = yaml.safe_load((Path(root) / "params.yaml").read_text(encoding="utf-8"))
    profile = params.get("profile", {})
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


def _shard(spec: str | None) -> tuple[int, int]:
    if spec is None:
        return 0, 1
    try:
        k, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like k/n (e.g. 1/3), got {spec!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard k/n needs 1 <= k <= n, got {spec!r}")
    return k - 1, n


def _stage_env(cpu_threads: int | None) -> dict[str, str]:
    """The environment of every stage command (a slot adds its ``CUDA_VISIBLE_DEVICES``).

    ``cpu_threads``: the slot's share of the cores, passed as ``OMP_NUM_THREADS`` (unless the
    caller set it), so stages that do not set their own thread count (tables, CAM, robustness)
    do not oversubscribe the machine while other stages run beside them.
    """
    env = dict(os.environ)
    if cpu_threads is not None:
        env.setdefault("OMP_NUM_THREADS", str(cpu_threads))
    return env


def _run_one(
    stage: Any,
    root: Path,
    log_dir: Path,
    slots: queue.Queue,
    echo: Callable[[str], None],
    env: dict[str, str],
) -> StageResult:
    """Run the stage's command in a free slot with ``env``, streaming its output to ``echo``
    and a log."""
    slot = slots.get()
    name = stage.name
    log = log_dir / (name.replace("/", "_").replace("@", "__") + ".log")
    env = dict(env)
    if slot is not None:
        env["CUDA_VISIBLE_DEVICES"] = slot
    t0 = time.perf_counter()
    try:
        with log.open("w", encoding="utf-8") as fh:
            proc = subprocess.Popen(
                stage.cmd,
                shell=True,
                cwd=root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                executable="/bin/bash",
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                fh.write(line)
                fh.flush()
                echo(f"[{name}] {line.rstrip()}")
            rc = proc.wait()
    finally:
        slots.put(slot)
    result = StageResult(name, rc == 0, time.perf_counter() - t0, log, rc)
    echo(f"{'done' if result.ok else 'FAILED'} {name} ({result.seconds:.1f} s)")
    return result


def _fit_seconds(root: Path, stage: Any) -> float | None:
    """Seconds inside ``fit`` of a run stage: the sum over its runs' training folders
    (``runs/<stage>/**/timings.json``; one per seed or split)."""
    import json

    total, found = 0.0, False
    for out in stage.outs:
        folder = root / str(out.def_path)
        if not str(out.def_path).startswith("runs/") or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("timings.json")):
            total += float(json.loads(path.read_text(encoding="utf-8"))["session_seconds"])
            found = True
    return total if found else None


def write_stage_times(results: Sequence[StageResult], path: str | Path, *, jobs: int) -> Path:
    """Per-stage wall time, time inside ``fit`` and overhead as CSV, plus a Markdown summary
    beside it (medians over the training runs): how the pipeline's time is spent."""
    import csv
    import io
    import statistics

    from tempaug.io import atomic_write_text

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
        f"# make repro: where the time goes ({jobs} stage(s) at a time)",
        "",
        f"Stages run: {len(results)} ({len(runs)} training stages); stage time summed "
        f"{sum(r.seconds for r in results) / 60:.1f} min.",
    ]
    if runs:
        med = statistics.median
        lines += [
            "",
            "| per training stage (median) | seconds |",
            "|---|---|",
            f"| wall time of the stage | {med(r.seconds for r in runs):.1f} |",
            f"| inside `fit` (training + evaluation) | {med(r.work_seconds for r in runs):.1f} |",
            f"| overhead (papermill, kernel, imports, data tables, publishing) | "
            f"{med(r.overhead_seconds for r in runs):.1f} |",
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


def _generations(repo: Any) -> list[list[str]]:
    import networkx as nx

    graph = repo.index.graph.reverse(copy=True)  # DVC's edges point to the upstream stage
    return [
        sorted(s.name for s in gen if getattr(s, "cmd", None))
        for gen in nx.topological_generations(graph)
    ]


def _command(stage: Any) -> str:
    cmd = getattr(stage, "cmd", "") or ""
    return cmd if isinstance(cmd, str) else " && ".join(cmd)


#: Seconds the kernel server may take to import the pipeline before stages start without it.
KERNEL_SERVER_START_S = 300.0


@contextlib.contextmanager
def _kernel_server(
    scratch: Path,
    env: dict[str, str],
    echo: Callable[[str], None],
    preload: Sequence[str] | None = None,
) -> Iterator[None]:
    """Run a :mod:`tempaug.pipeline.warm_kernel` server for the block; ``env`` (the stages'
    environment, changed in place) points ``JUPYTER_PATH`` at its kernel spec. If the server
    does not come up, the stages run with standard kernels (and say so)."""
    import tempfile

    from tempaug.pipeline import warm_kernel

    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tempaug-kernels-") as tmp:
        spec_root = warm_kernel.write_kernel_spec(Path(tmp) / "jupyter")
        sock, ready = str(Path(tmp) / "server.sock"), Path(tmp) / "ready"
        env["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(spec_root), env.get("JUPYTER_PATH", "")) if p
        )
        env[warm_kernel.ENV_SERVER] = sock
        log = (scratch / "logs" / "kernel_server.log").open("w", encoding="utf-8")
        command = ["-m", "tempaug.pipeline.warm_kernel", "serve", "--socket", sock]
        if preload is not None:
            command += ["--preload", ",".join(preload)]
        server = subprocess.Popen(
            [sys.executable, *command, "--ready", str(ready)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        t0 = time.perf_counter()
        while not ready.exists() and server.poll() is None:
            if time.perf_counter() - t0 > KERNEL_SERVER_START_S:
                break
            time.sleep(0.05)
        if ready.exists():
            echo(f"kernel server ready ({time.perf_counter() - t0:.1f} s to import the pipeline)")
        else:
            echo(f"kernel server did not start (see {log.name}); standard kernels")
        try:
            yield
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()


#: Seconds between ``dvc.lock`` writes while stages run (finished stages are also written at the
#: end and before a failure is raised), so an interrupted ``make repro`` keeps what finished.
LOCK_WRITE_INTERVAL_S = 30.0


def repro(
    root: str | Path = ".",
    *,
    jobs: int | None = None,
    shard: str | None = None,
    dry: bool = False,
    keep_going: bool = False,
    warm_kernels: bool = True,
    kernel_preload: Sequence[str] | None = None,
    echo: Callable[[str], None] = print,
) -> list[StageResult]:
    """Reproduce the DVC pipeline at ``root`` with independent stages running concurrently.

    A stage starts as soon as every stage it depends on has finished (no barrier between the
    data, run and table stages); among the stages ready to start, the one with the longest
    critical path (its own expected time plus the longest chain waiting for it) goes first.
    Whether a ready stage is changed is DVC's ``Stage.changed()``; unchanged stages are skipped.

    Args:
        root: the repository (holds ``dvc.yaml``).
        jobs: stages at a time; ``None``: :func:`default_jobs`.
        shard: ``"k/n"`` — run only this node's share of the first generation that has changed
            stages (every n-th stage of the generation, starting at the k-th), then stop: for
            spreading the run matrix over ``n`` nodes that share the repository.
        dry: only print the stages DVC sees as changed now (stages downstream of them rerun
            too when their inputs change).
        keep_going: after a failure, go on with every stage that does not depend on a failed
            one (default: start nothing new).
        warm_kernels: notebook stages get kernels forked from one process that has imported
            the pipeline (:mod:`tempaug.pipeline.warm_kernel`) instead of a fresh kernel each;
            started only when a stage to run calls ``papermill``.
        kernel_preload: the modules that server imports (default:
            :data:`tempaug.pipeline.warm_kernel.PRELOAD`).
        echo: where progress lines go.

    Returns:
        One :class:`StageResult` per stage run, in completion order.

    Raises:
        RuntimeError: a stage failed (the message names it and its log, and how many stages
            were not started; nothing downstream of it starts, the stages already running
            finish, and those that succeeded are recorded in ``dvc.lock``).
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from dvc.repo import Repo

    root = Path(root).resolve()
    k, n = _shard(shard)
    devices: list[str] = []
    if jobs is None:
        jobs, devices = default_jobs(root)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    slots: queue.Queue = queue.Queue()
    for i in range(jobs):
        slots.put(devices[i % len(devices)] if devices else None)
    cpu_threads = None if devices else max(1, (os.cpu_count() or 1) // jobs)
    log_dir = root / "runs" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            echo(line)

    results: list[StageResult] = []
    previous = _previous_times(root / "results" / "benchmarks" / "repro_stages.csv")
    with Repo(str(root)) as repo:
        with repo.lock:
            by_name = {s.name: s for s in repo.index.stages}
            upstream = _stage_graph(repo)
            generations = _generations(repo)
        if dry:
            with repo.lock:
                for a in (a for gen in generations for a in gen if by_name[a].changed()):
                    say(f"  would run {a}")
            return []
        if n > 1:  # the first generation with changed stages (this node's share)
            with repo.lock:
                for gen in generations:
                    stale = [a for a in gen if by_name[a].changed()]
                    if stale:
                        break
                else:
                    return []
            mine = set(gen[k::n])
            stale = [a for a in stale if a in mine]
            if not stale:
                say(f"nothing left for shard {k + 1}/{n} in the first changed generation")
                return []
            candidates = set(stale)
        else:
            candidates = set(upstream)
        priority = _critical_path(upstream, _estimates(list(upstream), previous))
        waiting = set(candidates)  # not yet started or skipped
        finished: set[str] = set(upstream) - candidates if n > 1 else set()
        unrecorded: list[Any] = []
        last_write = time.perf_counter()

        def record() -> None:
            nonlocal last_write
            if unrecorded:
                with repo.lock:  # as `dvc commit` records a stage, one lock write for all
                    unrecorded[0].dvcfile.dump_stages(list(unrecorded), update_pipeline=False)
                unrecorded.clear()
            last_write = time.perf_counter()

        running: dict[Any, Any] = {}
        queued: list[str] = []  # changed, ready, waiting for a free slot
        failed: list[StageResult] = []
        env = _stage_env(cpu_threads)
        notebooks = any("papermill" in _command(by_name[a]) for a in candidates)
        with (
            (
                _kernel_server(root / "runs", env, say, kernel_preload)
                if warm_kernels and notebooks
                else contextlib.nullcontext()
            ),
            ThreadPoolExecutor(max_workers=jobs) as pool,
        ):
            while True:
                stopped = bool(failed) and not keep_going
                ready = [] if stopped else [a for a in waiting if upstream[a] <= finished]
                while ready:
                    with repo.lock:
                        changed = [a for a in ready if by_name[a].changed()]
                    waiting -= set(ready)
                    finished |= set(ready) - set(changed)  # unchanged: nothing to do
                    queued += changed
                    # skipping a stage may make the ones after it ready
                    ready = [a for a in waiting if upstream[a] <= finished]
                # Start only into free slots, so a stage that becomes ready later (robustness,
                # after the Table 2-5 runs) still goes before the runs of lower priority.
                queued.sort(key=lambda a: (-priority[a], a))
                while queued and len(running) < jobs and not stopped:
                    stage = by_name[queued.pop(0)]
                    with repo.lock:  # DVC's rule: outputs go before a stage runs (not
                        stage.remove_outs(ignore_remove=False, force=False)  # `persist` ones)
                    say(f"start {stage.name} ({len(queued) + len(waiting)} to go)")
                    future = pool.submit(_run_one, stage, root, log_dir, slots, say, env)
                    running[future] = stage
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    stage = running.pop(future)
                    result = future.result()
                    result.work_seconds = _fit_seconds(root, stage)
                    results.append(result)
                    if not result.ok:
                        failed.append(result)
                        continue
                    with repo.lock:
                        stage.save(run_cache=False)
                        stage.commit()
                    unrecorded.append(stage)
                    finished.add(stage.name)
                if time.perf_counter() - last_write > LOCK_WRITE_INTERVAL_S:
                    record()
        record()
    if failed:
        not_started = len(waiting) + len(queued)
        raise RuntimeError(
            "stage(s) failed: "
            + ", ".join(f"{r.name} (exit {r.returncode}, log {r.log})" for r in failed)
            + f"; {not_started} stage(s) not started"
            + (" (all downstream of a failure)" if keep_going else "")
            + "; the stages that finished are recorded, rerun to continue"
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tempaug.pipeline.parallel [--jobs N] [--shard k/n] [--dry]
    [--keep-going] [--standard-kernels]``."""
    ap = argparse.ArgumentParser(
        prog="python -m tempaug.pipeline.parallel",
        description="dvc repro with independent stages running concurrently (make repro).",
    )
    ap.add_argument("--jobs", type=int, default=None, help="stages at a time (default: auto)")
    ap.add_argument("--shard", default=None, help="k/n: this node's share of the runs")
    ap.add_argument("--dry", action="store_true", help="list the stages that would run")
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="after a failure, run every stage that does not depend on a failed one",
    )
    ap.add_argument(
        "--standard-kernels",
        action="store_true",
        help="a fresh kernel per notebook stage instead of kernels forked from a warm server",
    )
    ap.add_argument("--root", default=".", help="repository root (default: .)")
    ap.add_argument(
        "--times",
        default=None,
        help="write per-stage times here (.csv + .md), e.g. results/benchmarks/repro_stages",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    jobs = args.jobs if args.jobs is not None else default_jobs(args.root)[0]
    try:
        results = repro(
            args.root,
            jobs=args.jobs,
            shard=args.shard,
            dry=args.dry,
            keep_going=args.keep_going,
            warm_kernels=not args.standard_kernels,
        )
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(results)} stage(s) run in {time.perf_counter() - t0:.0f} s")
    if args.times and results:
        print(f"stage times: {write_stage_times(results, args.times, jobs=jobs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
