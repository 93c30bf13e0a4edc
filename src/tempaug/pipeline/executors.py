"""Where ``make repro``'s stages run: local slots, or SLURM jobs submitted through submitit.

:func:`tempaug.pipeline.parallel.repro` decides which stage starts when and records what
finished; an executor only runs stage commands. Both executors here have the same three calls:

* ``start(tasks)`` — run these :class:`Task` s (a stage's name, its shell command, its log);
* ``wait(timeout)`` — the :class:`StageResult` s of the tasks that finished (blocks until at
  least one did, or ``timeout`` seconds passed: then ``[]``);
* ``close()`` — at the end; stops what is still running (after an interruption).

``capacity`` is how many tasks may run at once. :class:`LocalExecutor` runs each command in a
subprocess on this machine, ``capacity`` at a time, each in a slot of its own (on a GPU node a
slot is a device: ``CUDA_VISIBLE_DEVICES``). :class:`SlurmExecutor` submits each command as a
SLURM job (submitit, the engine pytorchvideo's trainer launches with), several tasks started at
once as one job array; the job runs the command on a compute node that sees the repository
(a shared file system) and returns its exit status and wall time.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "LocalExecutor",
    "SlurmExecutor",
    "SlurmOptions",
    "StageResult",
    "Task",
    "log_path",
    "run_command",
]


@dataclass(frozen=True)
class Task:
    """One stage to run: its name, its shell command (run from the repository root) and the
    file its output goes to."""

    name: str
    cmd: str
    log: Path


@dataclass
class StageResult:
    """What happened to one stage: ``ok``, its wall time, the log file of its output, and
    (for a training run) the seconds spent inside ``fit`` (``timings.json``). A SLURM job adds
    its id and submitit's log of the job (where SLURM's own errors go: time limit, memory)."""

    name: str
    ok: bool
    seconds: float
    log: Path
    returncode: int = 0
    work_seconds: float | None = None
    job_id: str | None = None
    job_log: Path | None = None
    error: str = ""

    @property
    def overhead_seconds(self) -> float | None:
        """Stage wall time not spent training or evaluating: process and kernel start,
        imports, data preparation for the run, publishing its files."""
        return None if self.work_seconds is None else self.seconds - self.work_seconds

    def describe(self) -> str:
        """``name (exit N, log PATH)``, plus the SLURM job and its log: for failure messages."""
        what = f"exit {self.returncode}" + (f": {self.error}" if self.error else "")
        text = f"{self.name} ({what}, log {self.log}"
        if self.job_id is not None:
            text += f"; SLURM job {self.job_id}, job log {self.job_log}"
        return text + ")"


def log_path(log_dir: Path, name: str) -> Path:
    """The log file of stage ``name`` in ``log_dir`` (``run@a`` → ``run__a.log``)."""
    return Path(log_dir) / (name.replace("/", "_").replace("@", "__") + ".log")


def run_command(
    cmd: str,
    cwd: str | Path,
    log: Path,
    env: dict[str, str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> tuple[int, float]:
    """Run ``cmd`` with bash in ``cwd``, its output (stdout and stderr) to ``log`` — its folder
    is created — and, line by line prefixed with the log's stage name, to ``echo``.

    Returns ``(exit status, wall seconds)``.
    """
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            cmd,
            shell=True,
            cwd=cwd,
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
            if echo is not None:
                echo(line.rstrip())
        rc = proc.wait()
    return rc, time.perf_counter() - t0


class LocalExecutor:
    """Stage commands as subprocesses on this machine, ``jobs`` at a time.

    Args:
        root: the repository (the commands' working directory).
        jobs: slots, i.e. commands at a time.
        devices: the ``CUDA_VISIBLE_DEVICES`` of each slot (``"0"``, ``"1"`` or ``"0,1"``, …),
            reused round-robin when fewer than ``jobs``; empty: no pinning.
        env: the commands' environment (default: this process's).
        echo: where the commands' output lines go (``[stage] line``) and ``done``/``FAILED``
            lines; called from the slots' threads, so it should be thread-safe.
    """

    def __init__(
        self,
        root: str | Path,
        jobs: int,
        devices: Sequence[str] = (),
        env: dict[str, str] | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.root = Path(root)
        self.capacity = jobs
        self.env = dict(os.environ) if env is None else dict(env)
        self.echo = echo
        self._slots: queue.Queue[str | None] = queue.Queue()
        for i in range(jobs):
            self._slots.put(devices[i % len(devices)] if devices else None)
        self._done: queue.Queue[StageResult] = queue.Queue()
        self._pool = ThreadPoolExecutor(max_workers=jobs)

    def start(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            self._pool.submit(self._run, task)

    def _run(self, task: Task) -> None:
        slot = self._slots.get()
        env = dict(self.env)
        if slot is not None:
            env["CUDA_VISIBLE_DEVICES"] = slot
        t0 = time.perf_counter()
        try:
            rc, seconds = run_command(
                task.cmd, self.root, task.log, env, lambda line: self.echo(f"[{task.name}] {line}")
            )
            result = StageResult(task.name, rc == 0, seconds, task.log, rc)
        except Exception as exc:  # the command could not be started (or its log written)
            result = StageResult(
                task.name, False, time.perf_counter() - t0, task.log, -1, error=repr(exc)
            )
        finally:
            self._slots.put(slot)
        self.echo(f"{'done' if result.ok else 'FAILED'} {task.name} ({result.seconds:.1f} s)")
        self._done.put(result)

    def wait(self, timeout: float | None = None) -> list[StageResult]:
        try:
            finished = [self._done.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                finished.append(self._done.get_nowait())
            except queue.Empty:
                return finished

    def close(self) -> None:
        """Wait for the commands still running (after Ctrl-C they got the SIGINT too)."""
        self._pool.shutdown(wait=True)


@dataclass
class SlurmOptions:
    """Resources of each stage's SLURM job (``sbatch`` options through submitit).

    ``partition`` ``None``: the cluster's default partition; ``mem_gb`` ``None``: the
    partition's default memory; ``array_parallelism``: tasks of one job array running at once.
    """

    partition: str | None = None
    gpus_per_node: int = 0
    cpus_per_task: int = 1
    mem_gb: float | None = None
    timeout_min: int = 24 * 60
    array_parallelism: int = 256
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: dict[str, Any], **overrides: Any) -> SlurmOptions:
        """From params.yaml: ``profile.slurm.{partition, gpus_per_node, cpus_per_task, mem_gb,
        timeout_min, array_parallelism}``, then ``overrides`` (those not ``None``).

        Absent keys: the GPUs of one run (``profile.nproc_per_node``) on a CUDA profile
        (``profile.train.runtime.device`` not ``cpu``), none otherwise; CPUs ``profile.threads``
        when set, else one per loader worker (``profile.train.data.num_workers``) plus one, per
        GPU; a 24-hour limit; the cluster's default partition and that partition's default
        memory.
        """
        profile = params.get("profile", {}) or {}
        slurm = dict(profile.get("slurm", {}) or {})
        train = profile.get("train", {}) or {}
        device = str((train.get("runtime", {}) or {}).get("device", "cpu"))
        gpus = max(1, int(profile.get("nproc_per_node", 1))) if device != "cpu" else 0
        threads = int(profile.get("threads", 0) or 0)
        workers = int((train.get("data", {}) or {}).get("num_workers", 0) or 0)
        values: dict[str, Any] = {
            "gpus_per_node": gpus,
            "cpus_per_task": threads if threads > 0 else (workers + 1) * max(1, gpus),
        }
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values.update({k: v for k, v in slurm.items() if k in known})
        extra = {k: v for k, v in slurm.items() if k not in known}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values, extra=extra)

    def submitit_parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": "tempaug",
            "timeout_min": int(self.timeout_min),
            "cpus_per_task": int(self.cpus_per_task),
            "gpus_per_node": int(self.gpus_per_node),
            "nodes": 1,
            "tasks_per_node": 1,
            "stderr_to_stdout": True,
            "slurm_array_parallelism": int(self.array_parallelism),
        }
        if self.mem_gb is not None:
            params["mem_gb"] = float(self.mem_gb)
        if self.partition:
            params["slurm_partition"] = str(self.partition)
        params.update(self.extra)
        return params


def _slurm_job(cmd: str, cwd: str, log: str, env: dict[str, str]) -> tuple[int, float]:
    """What a SLURM job runs: the stage command in the node's environment plus ``env``
    (variables the node has already, e.g. ``OMP_NUM_THREADS``, are kept)."""
    full = dict(os.environ)
    for key, value in env.items():
        full.setdefault(key, value)
    return run_command(cmd, cwd, Path(log), full)


class SlurmExecutor:
    """Stage commands as SLURM jobs, through submitit.

    Tasks started together are one job array (``sbatch --array``). Each job runs the stage
    command from ``root`` (which the compute nodes must see at the same path), its output to
    the task's log; submitit's own log of the job is
    ``runs/logs/slurm/<job id>_0_log.out``
    (where a time limit or an out-of-memory kill shows).

    Args:
        root: the repository.
        options: the jobs' resources.
        cluster: ``"slurm"``; ``"local"`` runs the same jobs as local processes
            (``submitit.LocalExecutor``, for tests and for trying a setup without a cluster).
        folder: submitit's folder (default ``runs/logs/slurm`` under ``root``; created).
        capacity: jobs in the queue at once (default: no limit, the scheduler queues them).
        poll_s: seconds between checks for finished jobs.
        echo: where ``submitted``/``done``/``FAILED`` lines go.
    """

    #: Seconds between queries of SLURM (submitit's ``sacct``, and ``squeue``: a cluster without
    #: accounting has no ``sacct``) for jobs that ended without writing a result (time limit,
    #: memory, cancel); between them a finished job is seen by its result file.
    FORCE_CHECK_S = 60.0
    #: Seconds a job that SLURM no longer lists gets for its result file to appear.
    RESULT_GRACE_S = 15.0

    def __init__(
        self,
        root: str | Path,
        options: SlurmOptions,
        *,
        cluster: str = "slurm",
        folder: str | Path | None = None,
        capacity: int | None = None,
        poll_s: float = 2.0,
        echo: Callable[[str], None] = print,
    ) -> None:
        import submitit

        self.root = Path(root).resolve()
        self.options = options
        self.folder = Path(folder) if folder is not None else self.root / "runs" / "logs" / "slurm"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity if capacity is not None else 1_000_000
        if self.capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {self.capacity}")
        self.poll_s = poll_s
        self.echo = echo
        self.cluster = cluster
        # One folder for every job's files, made before any submission: with a per-job folder
        # (submitit's "%j") a job that starts within milliseconds of sbatch (an idle cluster)
        # finds no folder for its log and dies at once (seen on the single-node SLURM).
        self._executor = submitit.AutoExecutor(folder=self.folder, cluster=cluster)
        self._executor.update_parameters(**options.submitit_parameters())
        self._env = {"OMP_NUM_THREADS": str(max(1, int(options.cpus_per_task)))}
        self._running: dict[Any, Task] = {}
        self._last_force = time.monotonic()

    def start(self, tasks: Sequence[Task]) -> None:
        if not tasks:
            return
        for task in tasks:
            task.log.parent.mkdir(parents=True, exist_ok=True)
        cmds = [t.cmd for t in tasks]
        logs = [str(t.log) for t in tasks]
        n = len(tasks)
        jobs = self._executor.map_array(
            _slurm_job, cmds, [str(self.root)] * n, logs, [self._env] * n
        )
        for task, job in zip(tasks, jobs, strict=True):
            self._running[job] = task
            self.echo(f"submitted {task.name}: SLURM job {job.job_id}")

    def _result(self, job: Any, task: Task) -> StageResult:
        job_log = Path(job.paths.stdout)
        pickle = Path(job.paths.result_pickle)
        deadline = time.monotonic() + self.RESULT_GRACE_S
        while not pickle.exists() and time.monotonic() < deadline:
            time.sleep(0.5)  # a shared file system may show the result late
        rc, seconds, error = -1, float("nan"), ""
        if not pickle.exists():  # not job.result(): without sacct it would wait forever
            error = "the job ended without a result (time limit, memory, cancel, node failure?)"
        else:
            try:
                rc, seconds = job.result()
            except Exception as exc:  # the job's function raised
                error = " ".join(str(exc).strip().splitlines()[:2]) or repr(exc)
        result = StageResult(
            task.name, rc == 0, seconds, task.log, rc, job_id=str(job.job_id), job_log=job_log,
            error=error,
        )  # fmt: skip
        self.echo(
            f"{'done' if result.ok else 'FAILED'} {task.name} ({result.seconds:.1f} s, "
            f"SLURM job {job.job_id})"
            + ("" if result.ok else f": log {task.log}, job log {job_log}")
        )
        return result

    def wait(self, timeout: float | None = None) -> list[StageResult]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._running:
            force = time.monotonic() - self._last_force > self.FORCE_CHECK_S
            if force:
                self._last_force = time.monotonic()
            active = self._queued() if force and self.cluster == "slurm" else None
            done = [
                job
                for job in self._running
                if job.done(force_check=force) or (active is not None and job.job_id not in active)
            ]
            if done:
                return [self._result(job, self._running.pop(job)) for job in done]
            if deadline is not None and time.monotonic() >= deadline:
                return []
            time.sleep(self.poll_s)
        return []

    @staticmethod
    def _queued() -> set[str] | None:
        """Ids of this user's jobs SLURM still has pending or running (array tasks as
        ``<array>_<index>``), or ``None`` if ``squeue`` does not answer."""
        try:
            out = subprocess.run(
                ["squeue", "-h", "-r", "-o", "%i", "-u", str(os.getuid())],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            return None
        return {line.strip() for line in out.stdout.splitlines() if line.strip()}

    def close(self) -> None:
        """Cancel the jobs still queued or running (the head was interrupted): nobody would
        record them, and a rerun would start the same stages again beside them."""
        for job, task in list(self._running.items()):
            self.echo(f"cancelling {task.name} (SLURM job {job.job_id})")
            try:
                job.cancel(check=False)
            except Exception as exc:  # already gone
                self.echo(f"  could not cancel SLURM job {job.job_id}: {exc}")
        self._running.clear()


def _thread_safe(echo: Callable[[str], None]) -> Callable[[str], None]:
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            echo(line)

    return say
