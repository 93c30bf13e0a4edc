"""``dvc repro`` with independent stages running side by side (``make repro``).

DVC runs a pipeline's stages one after another, and after every stage it re-reads and rewrites
``dvc.lock`` (about 7 s per stage for this pipeline's 74 stages, measured). This module runs the
same pipeline with DVC's own pieces and its own rules, only concurrently:

1. the stage graph, the stages' resolved commands and "is this stage changed?" come from DVC
   (``Repo.index.graph``, ``Stage.cmd``, ``Stage.changed``);
2. stages are taken generation by generation (``networkx.topological_generations`` of DVC's
   graph: data preparation → runs → tables and figures); within a generation every changed
   stage runs, ``jobs`` at a time (:class:`concurrent.futures.ThreadPoolExecutor`, one
   subprocess each), the ones that took longest in the last run first
   (``results/benchmarks/repro_stages.csv``), after DVC's rule of removing its outputs first
   (except ``persist`` outputs: a run's checkpoint folder, so an interrupted run resumes);
3. the stages that succeeded are recorded the way ``dvc commit`` records them
   (``Stage.save`` and one ``dump_stages`` write of ``dvc.lock`` per generation), so the next
   generation sees its inputs as DVC would, and afterwards ``dvc status`` is clean and a plain
   ``dvc repro`` has nothing to do.

A failed stage stops the pipeline after its generation; what succeeded stays recorded, so the
next ``make repro`` resumes there. Concurrency: on a GPU node one stage per visible GPU, each
pinned to its own device (``CUDA_VISIBLE_DEVICES``); on CPU ``cores ÷ profile.threads``. To
spread the run matrix over several nodes that share the repository (a network file system),
start ``python -m tempaug.pipeline.parallel --shard k/n`` on node ``k`` of ``n`` for the runs,
then ``make repro`` on one node for the rest.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
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


def _run_one(
    stage: Any,
    root: Path,
    log_dir: Path,
    slots: queue.Queue,
    echo: Callable[[str], None],
    cpu_threads: int | None = None,
) -> StageResult:
    """Run the stage's command in a free slot, streaming its output to ``echo`` and a log.

    ``cpu_threads``: the slot's share of the cores, passed as ``OMP_NUM_THREADS`` (unless the
    caller set it), so stages that do not set their own thread count (tables, CAM, robustness)
    do not oversubscribe the machine while other stages run beside them.
    """
    slot = slots.get()
    name = stage.name
    log = log_dir / (name.replace("/", "_").replace("@", "__") + ".log")
    env = dict(os.environ)
    if slot is not None:
        env["CUDA_VISIBLE_DEVICES"] = slot
    if cpu_threads is not None:
        env.setdefault("OMP_NUM_THREADS", str(cpu_threads))
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
            "(status, one `dvc.lock` write per generation) is outside the stages.",
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


def _longest_first(stages: list[Any], previous: dict[str, float]) -> list[Any]:
    """Start the stages that took longest last time first, so the generation does not end on
    one long stage while the other slots sit idle. A stage not run before is estimated by the
    median of its group's stages (the name before ``@``, e.g. every ``vipriors_test@…``); one
    of an unknown group goes first of all."""
    import statistics

    groups: dict[str, list[float]] = {}
    for name, seconds in previous.items():
        groups.setdefault(name.split("@")[0], []).append(seconds)

    def estimate(stage: Any) -> float:
        if stage.name in previous:
            return previous[stage.name]
        group = groups.get(stage.name.split("@")[0])
        return statistics.median(group) if group else float("inf")

    return sorted(stages, key=lambda s: -estimate(s))


def _generations(repo: Any) -> list[list[str]]:
    import networkx as nx

    graph = repo.index.graph.reverse(copy=True)  # DVC's edges point to the upstream stage
    return [
        sorted(s.name for s in gen if getattr(s, "cmd", None))
        for gen in nx.topological_generations(graph)
    ]


def repro(
    root: str | Path = ".",
    *,
    jobs: int | None = None,
    shard: str | None = None,
    dry: bool = False,
    echo: Callable[[str], None] = print,
) -> list[StageResult]:
    """Reproduce the DVC pipeline at ``root`` with independent stages running concurrently.

    Args:
        root: the repository (holds ``dvc.yaml``).
        jobs: stages at a time; ``None``: :func:`default_jobs`.
        shard: ``"k/n"`` — run only this node's share of the first generation that has changed
            stages (every n-th stage of the generation, starting at the k-th), then stop: for
            spreading the run matrix over ``n`` nodes that share the repository.
        dry: only print which stages would run.
        echo: where progress lines go.

    Returns:
        One :class:`StageResult` per stage run, in completion order.

    Raises:
        RuntimeError: a stage failed (the message names it and its log; the stages that
            succeeded are recorded in ``dvc.lock``).
    """
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
        names = _generations(repo)
    for gen_index in range(len(names)):
        with Repo(str(root)) as repo:  # fresh view: dvc.lock may have changed
            with repo.lock:
                by_name = {s.name: s for s in repo.index.stages}
                stale = [by_name[a] for a in names[gen_index] if by_name[a].changed()]
            if not stale:
                continue
            stale = _longest_first(stale, previous)
            if n > 1:  # this node's share: by position in the whole generation (stable)
                mine = set(names[gen_index][k::n])
                stale = [s for s in stale if s.name in mine]
                if not stale:
                    say(f"generation {gen_index + 1}: nothing left for shard {k + 1}/{n}")
                    break
            say(
                f"generation {gen_index + 1}/{len(names)}: {len(stale)} stage(s), "
                f"{min(jobs, len(stale))} at a time"
            )
            if dry:
                for s in stale:
                    say(f"  would run {s.name}")
                continue
            with repo.lock:  # DVC's rule: a stage's outputs go before it runs (not `persist`)
                for s in stale:
                    s.remove_outs(ignore_remove=False, force=False)
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [
                    pool.submit(_run_one, s, root, log_dir, slots, say, cpu_threads) for s in stale
                ]
                done = [f.result() for f in futures]
            results += done
            ok = {r.name for r in done if r.ok}
            with repo.lock:
                finished = [s for s in stale if s.name in ok]
                for s in finished:
                    s.save(run_cache=False)
                    s.commit()
                if finished:
                    finished[0].dvcfile.dump_stages(finished, update_pipeline=False)
            for r, stage in zip(done, stale, strict=True):
                r.work_seconds = _fit_seconds(root, stage)
            failed = [r for r in done if not r.ok]
            if failed:
                raise RuntimeError(
                    "stage(s) failed: "
                    + ", ".join(f"{r.name} (exit {r.returncode}, log {r.log})" for r in failed)
                    + "; the other stages are recorded, rerun to continue"
                )
            if n > 1:
                break
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tempaug.pipeline.parallel [--jobs N] [--shard k/n] [--dry]``."""
    ap = argparse.ArgumentParser(
        prog="python -m tempaug.pipeline.parallel",
        description="dvc repro with independent stages running concurrently (make repro).",
    )
    ap.add_argument("--jobs", type=int, default=None, help="stages at a time (default: auto)")
    ap.add_argument("--shard", default=None, help="k/n: this node's share of the runs")
    ap.add_argument("--dry", action="store_true", help="list the stages that would run")
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
        results = repro(args.root, jobs=args.jobs, shard=args.shard, dry=args.dry)
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(results)} stage(s) run in {time.perf_counter() - t0:.0f} s")
    if args.times and results:
        print(f"stage times: {write_stage_times(results, args.times, jobs=jobs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
