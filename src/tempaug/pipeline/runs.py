"""The experiment matrix and one run: :class:`RunSpec` → ``TrainConfig`` → published run record.

:func:`planned_runs` enumerates the experiment matrix of Tables 2–7 (the same runs ``dvc.yaml``
declares; a test checks they agree); :func:`train_config` turns a run into a
:class:`tempaug.train.TrainConfig` and :func:`execute_run` trains and evaluates it, then
publishes ``metrics.json``, ``history.csv``, ``scores.csv`` and the run record ``run.json``
(read by :mod:`tempaug.analysis.tables`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tempaug.io import atomic_write_bytes, atomic_write_text
from tempaug.pipeline.params import BENCHMARK_DIRS, PipelineError
from tempaug.pipeline.prepare import load_prepared, prepare_data

__all__ = [
    "RunSpec",
    "SmokeRuns",
    "ensure_runs",
    "execute_run",
    "inputs_fingerprint",
    "planned_runs",
    "run_dir",
    "smoke_runs",
    "stage_runs",
    "train_config",
]

_RUN_FILES = ("metrics.json", "history.csv", "scores.csv", "config.yaml")
_FINGERPRINT = "inputs.sha256"


@dataclass(frozen=True)
class RunSpec:
    """One training run of the matrix: benchmark, split, recipe, seed (and grid point).

    Attributes:
        benchmark: ``ucf101_val`` (VIPriors train → validation), ``hmdb51`` (official split) or
            ``vipriors_test`` (train+validation → test).
        recipe: a key of ``params.yaml:recipes``.
        seed: the run's seed.
        split: HMDB-51 split 1..3 (``None`` for the UCF-101 benchmarks).
        num_ops: RandAugment N of a Table 2 grid point (``None``: the profile's ``randaug``).
        magnitude: RandAugment M of a Table 2 grid point.
    """

    benchmark: str
    recipe: str
    seed: int
    split: int | None = None
    num_ops: int | None = None
    magnitude: int | None = None

    def __post_init__(self) -> None:
        if self.benchmark not in BENCHMARK_DIRS:
            raise PipelineError(
                f"benchmark must be one of {list(BENCHMARK_DIRS)}, got {self.benchmark!r}"
            )
        if not re.fullmatch(r"[a-z0-9_]+", str(self.recipe)):
            raise PipelineError(f"recipe must be a lowercase identifier, got {self.recipe!r}")
        if self.benchmark == "hmdb51":
            if self.split not in (1, 2, 3):
                raise PipelineError(f"split must be 1, 2 or 3 for hmdb51, got {self.split!r}")
        elif self.split is not None:
            raise PipelineError(f"split must be None for {self.benchmark}, got {self.split!r}")
        if (self.num_ops is None) != (self.magnitude is None):
            raise PipelineError("num_ops and magnitude must be given together (a grid point)")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise PipelineError(f"seed must be an int >= 0, got {self.seed!r}")

    @property
    def grid_point(self) -> bool:
        """Whether this run is a Table 2 grid point (explicit N and M)."""
        return self.num_ops is not None

    @property
    def stage_id(self) -> str:
        """``<benchmark>/<recipe>[-n<N>-m<M>]``: the DVC stage (and folder) training this run.

        One stage trains every replicate of a configuration — its seeds, and for HMDB-51 its
        splits — in one process, so the kernel start and imports are paid once per
        configuration instead of once per run.
        """
        recipe = self.recipe + (f"-n{self.num_ops}-m{self.magnitude}" if self.grid_point else "")
        return f"{BENCHMARK_DIRS[self.benchmark]}/{recipe}"

    @property
    def run_id(self) -> str:
        """``<stage_id>/[split<k>/]seed<s>`` — also its folder."""
        split = f"split{self.split}/" if self.split else ""
        return f"{self.stage_id}/{split}seed{self.seed}"


def planned_runs(
    params: Mapping[str, Any], benchmarks: Sequence[str] | None = None
) -> list[RunSpec]:
    """Every run of the experiment matrix (Tables 2–7), in ``dvc.yaml`` order.

    ``ucf101_val``: the Table 2 grid (``grid`` recipes × N × M), ``plain`` and ``randaug``
    recipes; ``vipriors_test``: ``plain`` + ``randaug``; each × ``seeds``. ``hmdb51``:
    (``plain`` + ``randaug``) × splits × ``experiments.hmdb51.seeds`` (default ``[0]``: the
    three official splits are HMDB-51's replicates).

    Args:
        params: from :func:`load_params`.
        benchmarks: restrict to these benchmarks.
    """
    exps = params["experiments"]
    seeds = params["seeds"]
    grid = params["profile"]["randaug_grid"]
    runs: list[RunSpec] = []
    wanted = list(BENCHMARK_DIRS) if benchmarks is None else list(benchmarks)
    for bench in wanted:
        if bench not in BENCHMARK_DIRS:
            raise PipelineError(f"benchmarks must be among {list(BENCHMARK_DIRS)}, got {bench!r}")
    if "ucf101_val" in wanted and "ucf101_val" in exps:
        e = exps["ucf101_val"]
        for r in e.get("grid", []):
            for n in grid["num_ops"]:
                for m in grid["magnitude"]:
                    runs += [RunSpec("ucf101_val", r, s, num_ops=n, magnitude=m) for s in seeds]
        for r in e.get("plain", []) + e.get("randaug", []):
            runs += [RunSpec("ucf101_val", r, s) for s in seeds]
    if "hmdb51" in wanted and "hmdb51" in exps:
        e = exps["hmdb51"]
        for r in e.get("plain", []) + e.get("randaug", []):
            for k in e.get("splits", [1, 2, 3]):
                runs += [RunSpec("hmdb51", r, int(s), split=int(k)) for s in e.get("seeds", [0])]
    if "vipriors_test" in wanted and "vipriors_test" in exps:
        e = exps["vipriors_test"]
        for r in e.get("plain", []) + e.get("randaug", []):
            runs += [RunSpec("vipriors_test", r, s) for s in seeds]
    return runs


def stage_runs(
    params: Mapping[str, Any],
    benchmark: str,
    recipe: str,
    *,
    num_ops: int | None = None,
    magnitude: int | None = None,
) -> list[RunSpec]:
    """The runs one DVC stage trains: every replicate (seed, HMDB-51 split) of a configuration.

    Raises:
        PipelineError: the configuration is not in the experiment matrix of ``params``.
    """
    probe = RunSpec(
        benchmark,
        recipe,
        0,
        split=1 if benchmark == "hmdb51" else None,
        num_ops=num_ops,
        magnitude=magnitude,
    )
    runs = [r for r in planned_runs(params, [benchmark]) if r.stage_id == probe.stage_id]
    if not runs:
        raise PipelineError(
            f"{probe.stage_id} is not in the experiment matrix of params.yaml (experiments)"
        )
    return runs


def run_dir(results_root: str | Path, spec: RunSpec) -> Path:
    """Folder of a run's published files: ``results_root/<run_id>``."""
    return Path(results_root) / spec.run_id


def _run_tables(
    prepared: Mapping[str, Any], spec: RunSpec
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    tables = prepared["tables"]
    if spec.benchmark == "hmdb51":
        t = tables[f"hmdb51_split{spec.split}"]
        return t[t["subset"] == "train"], t[t["subset"] == "test"], "hmdb51"
    t = tables["ucf101_vipriors"]
    if spec.benchmark == "ucf101_val":
        return t[t["subset"] == "train"], t[t["subset"] == "validation"], "ucf101"
    return t[t["subset"].isin(["train", "validation"])], t[t["subset"] == "test"], "ucf101"


def train_config(
    params: Mapping[str, Any],
    spec: RunSpec,
    *,
    splits_dir: str | Path,
    out_dir: str | Path,
    project_root: str | Path = ".",
) -> Any:
    """The :class:`tempaug.train.TrainConfig` of one run.

    Shared sections come from ``profile.train``; the run adds the split tables of its benchmark
    (Sec. 4.1: VIPriors train → validation, train+validation → test with
    ``profile.test_eval`` views; HMDB-51 train → test), the recipe's RandAugment-T range and
    N, M (the grid point, or ``profile.randaug``) and its deleting/mixing method with the
    method's hyper-parameters (``params.yaml:methods``), the seed and ``out_dir``. A recipe's
    ``eval_every`` (epochs) evaluates on the evaluation set during training too, for its learning
    curve; the final multi-view evaluation is the same either way.

    Raises:
        PipelineError: unknown recipe, or a grid point on a recipe without RandAugment.
    """
    from tempaug.train import TrainConfig

    recipes = params["recipes"]
    if spec.recipe not in recipes:
        raise PipelineError(
            f"recipe {spec.recipe!r} is not in params.yaml:recipes ({sorted(recipes)})"
        )
    recipe = recipes[spec.recipe]
    profile = params["profile"]
    prepared = load_prepared(splits_dir)
    train_t, val_t, dataset = _run_tables(prepared, spec)
    meta = prepared["datasets"][dataset]
    values: dict[str, Any] = copy.deepcopy(dict(profile["train"]))
    data = dict(values.get("data", {}))
    data.update(
        train_table=train_t.reset_index(drop=True),
        eval_table=val_t.reset_index(drop=True),
        video_root=str(Path(project_root) / meta["video_root"]),
        num_classes=int(meta["num_classes"]),
    )
    values["data"] = data
    if spec.benchmark == "vipriors_test":
        values["eval"] = {**values.get("eval", {}), **profile["test_eval"]}
    if recipe.get("eval_every"):  # a learning curve with the evaluation set (the baseline's)
        values["eval"] = {**values.get("eval", {}), "every": int(recipe["eval_every"])}
    ra = recipe["randaug"]
    if ra is None:
        if spec.grid_point:
            raise PipelineError(f"recipe {spec.recipe!r} has no RandAugment, so no grid point N, M")
        randaugment = None
    else:
        n, m = (
            (spec.num_ops, spec.magnitude)
            if spec.grid_point
            else (profile["randaug"]["num_ops"], profile["randaug"]["magnitude"])
        )
        randaugment = {**ra, "num_ops": int(n), "magnitude": int(m)}
    mix = dict(recipe["mix"])
    method = mix.pop("method")
    values["aug"] = {
        **values.get("aug", {}),
        "randaugment": randaugment,
        "mix": method,
        "mix_kwargs": mix,
    }
    values["seed"] = int(spec.seed)
    values["out_dir"] = str(out_dir)
    return TrainConfig.from_dict(values)


def execute_run(
    params: Mapping[str, Any],
    spec: RunSpec,
    *,
    splits_dir: str | Path,
    results_dir: str | Path,
    scratch_dir: str | Path,
    project_root: str | Path = ".",
) -> dict[str, Any]:
    """Train and evaluate one run, then publish its small files and its run record.

    Training runs in this process, or — with ``profile.nproc_per_node`` > 1 — as one DDP run
    over that many processes launched with ``torchrun`` (one per GPU of the node; gloo on
    CPU), while the calling notebook stays the record of the run. The training folder
    persists across calls: a rerun resumes from its last checkpoint when the code, the data
    (:func:`inputs_fingerprint`) and the configuration are unchanged, and starts afresh
    otherwise.

    Training writes everything (checkpoints included) to ``scratch_dir/<run_id>``; the files a
    reader and the tables need — ``metrics.json``, ``history.csv``, ``scores.csv`` (per-video
    scores) and ``config.yaml`` — are copied atomically to ``results_dir/<run_id>`` together
    with ``run.json``, the record :func:`tempaug.analysis.tables.collect_runs` reads.

    Returns:
        The run record (also written to ``run.json``): the :class:`RunSpec` fields, the profile,
        the RandAugment and mixing settings, ``top1`` / ``top5`` (%, final multi-view evaluation),
        ``scores_path``, ``unreadable_videos`` (the dataset's videos left out at preparation) and
        ``decode_failures`` (``{"train": n, "eval": m}`` during the run), which the table
        captions report.
    """
    from tempaug.train import fit

    scratch = Path(scratch_dir) / spec.run_id
    cfg = train_config(
        params, spec, splits_dir=splits_dir, out_dir=scratch, project_root=project_root
    )
    _keep_scratch_only_for(scratch, inputs_fingerprint(splits_dir))
    nproc = int(params["profile"].get("nproc_per_node", 1))
    if nproc > 1:
        metrics = _launch_torchrun(cfg, scratch, nproc, int(params["profile"].get("threads", 0)))
    else:
        with _cpu_threads(int(params["profile"].get("threads", 0))):
            metrics = fit(cfg)
    dst = run_dir(results_dir, spec)
    for name in _RUN_FILES:
        src = scratch / name
        if not src.is_file():
            raise PipelineError(f"training did not write {src}")
        atomic_write_bytes(dst / name, src.read_bytes())
    top1, top5 = _final_accuracy(metrics, scratch / "metrics.json")
    prepared = load_prepared(splits_dir)
    dataset = _run_tables(prepared, spec)[2]
    record = {
        "run_id": spec.run_id,
        "benchmark": spec.benchmark,
        "split": spec.split,
        "recipe": spec.recipe,
        "seed": spec.seed,
        "profile": params["profile"]["name"],
        "randaug_num_ops": None if cfg.aug.randaugment is None else cfg.aug.randaugment["num_ops"],
        "randaug_magnitude": None
        if cfg.aug.randaugment is None
        else cfg.aug.randaugment["magnitude"],
        "randaug_mode": None if cfg.aug.randaugment is None else cfg.aug.randaugment["mode"],
        "mix": cfg.aug.mix,
        "mix_kwargs": cfg.aug.mix_kwargs,
        "views": cfg.eval.num_clips * cfg.eval.num_crops,
        "top1": top1,
        "top5": top5,
        "scores_path": "scores.csv",
        "unreadable_videos": int(prepared["datasets"][dataset].get("unreadable", 0)),
        "decode_failures": dict(metrics.get("decode_failures", {"train": 0, "eval": 0})),
    }
    atomic_write_text(dst / "run.json", json.dumps(record, indent=2) + "\n")
    return record


def ensure_runs(
    params: Mapping[str, Any],
    specs: Sequence[RunSpec],
    *,
    splits_dir: str | Path,
    results_dir: str | Path,
    scratch_dir: str | Path,
    project_root: str | Path = ".",
) -> list[dict[str, Any]]:
    """Execute the runs of ``specs`` whose ``run.json`` is missing (used by the smoke previews).

    The DVC pipeline never calls this: there every run is its own stage, and a table notebook
    fails on a missing run instead of training it.

    Returns:
        The run records of ``specs``, in order.
    """
    records = []
    for spec in specs:
        path = run_dir(results_dir, spec) / "run.json"
        if path.is_file():
            records.append(json.loads(path.read_text(encoding="utf-8")))
        else:
            records.append(
                execute_run(
                    params,
                    spec,
                    splits_dir=splits_dir,
                    results_dir=results_dir,
                    scratch_dir=scratch_dir,
                    project_root=project_root,
                )
            )
    return records


@dataclass(frozen=True)
class SmokeRuns:
    """Where :func:`smoke_runs` put a notebook's tiny stand-in for the pipeline's runs."""

    splits_dir: Path
    results_dir: Path
    scratch_dir: Path


def smoke_runs(
    params: Mapping[str, Any],
    specs: Sequence[RunSpec],
    folder: str | Path,
    *,
    project_root: str | Path = ".",
) -> SmokeRuns:
    """Prepare a tiny dataset and train ``specs`` under ``folder`` (a notebook's smoke default).

    What a table, CAM or robustness notebook does when it runs outside the pipeline (nbval,
    JupyterLab): ``params`` should come from :func:`smoke_params`. Runs already there are
    reused (:func:`ensure_runs`).

    Returns:
        The split tables' folder (``folder/splits``), the run records' (``folder/runs``) and
        the training folders with checkpoints (``folder/checkpoints``).
    """
    folder = Path(folder)
    out = SmokeRuns(folder / "splits", folder / "runs", folder / "checkpoints")
    prepare_data(
        params,
        data_dir=folder / "data",
        splits_dir=out.splits_dir,
        project_root=project_root,
        full_scan=False,
    )
    ensure_runs(
        params,
        specs,
        splits_dir=out.splits_dir,
        results_dir=out.results_dir,
        scratch_dir=out.scratch_dir,
        project_root=project_root,
    )
    return out


@contextmanager
def _cpu_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch and OpenCV CPU threads (``0``: leave the defaults).

    On a machine shared with other work, tiny CPU runs with more threads than free cores spend
    most of their time waiting for descheduled threads (measured: a RandAugment-T run took 75 s
    with 2 threads and 7 s with 1 thread next to one busy process), so the synthetic profile
    uses one thread per run. The previous settings are restored afterwards.
    """
    if n < 0:
        raise PipelineError(f"params: profile.threads must be >= 0, got {n}")
    if n == 0:
        yield
        return
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(n)
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def _final_accuracy(metrics: Mapping[str, Any], path: Path) -> tuple[float, float]:
    """Top-1 / top-5 (%) of the final multi-view evaluation returned by ``fit``."""
    try:
        return float(metrics["top1"]), float(metrics["top5"])
    except KeyError as exc:
        raise PipelineError(
            f"{path}: the final evaluation has no {exc.args[0]!r} (was data.eval_table set?)"
        ) from None


def inputs_fingerprint(splits_dir: str | Path) -> str:
    """SHA-256 of what a run's result depends on besides its configuration.

    The ``tempaug`` source files and the prepared split tables (``splits_dir``). A run's
    training folder persists across ``dvc repro`` so that an interrupted run resumes from its
    last checkpoint (the trainer's ``runtime.resume="auto"`` compares the configuration); this
    fingerprint makes sure a checkpoint is reused only by the same code on the same data.
    """
    h = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    files = sorted(package.rglob("*.py"))
    files += sorted(p for p in Path(splits_dir).glob("*") if p.suffix in (".csv", ".json"))
    for path in files:
        name = path.relative_to(package) if path.is_relative_to(package) else path.name
        h.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _keep_scratch_only_for(scratch: Path, fingerprint: str) -> None:
    """Empty ``scratch`` unless it was written by the same code on the same data."""
    stamp = scratch / _FINGERPRINT
    if scratch.exists():
        old = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else None
        if old == fingerprint:
            return
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, fingerprint + "\n")


def _launch_torchrun(cfg: Any, scratch: Path, nproc: int, threads: int) -> dict[str, Any]:
    """Train ``cfg`` as one DDP run of ``nproc`` processes (``torchrun --standalone``).

    The configuration goes to ``scratch/launch/config.yaml`` with the split tables as CSV
    files beside it; the processes' output is streamed to this process's stdout (and so to
    the notebook and the stage's log). Returns the ``metrics.json`` the run wrote.

    Raises:
        PipelineError: the launched run failed (names its exit status and the command).
    """
    import yaml

    launch = scratch / "launch"
    launch.mkdir(parents=True, exist_ok=True)
    values = cfg.to_dict()
    for key, name in (("train_table", "train.csv"), ("eval_table", "eval.csv")):
        table = getattr(cfg.data, key)
        if table is not None:
            atomic_write_text(launch / name, table.to_csv(index=False))
            values["data"][key] = str(launch / name)
    atomic_write_text(launch / "config.yaml", yaml.safe_dump(values, sort_keys=False))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "tempaug.train",
        "--config",
        str(launch / "config.yaml"),
    ]
    env = dict(os.environ)
    if threads > 0:
        env["OMP_NUM_THREADS"] = str(threads)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
    if proc.wait() != 0:
        raise PipelineError(f"torchrun exited with status {proc.returncode}: {' '.join(cmd)}")
    return json.loads((scratch / "metrics.json").read_text(encoding="utf-8"))
