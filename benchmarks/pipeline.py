"""Per-stage overhead of the DVC pipeline, by component, and what `make repro`'s runner saves.

A training-run stage costs, besides training and evaluation:

1. **DVC's bookkeeping.** After every stage `dvc repro` re-reads and rewrites `dvc.lock` (one
   round-trip YAML load and dump per stage). `tempaug.pipeline.parallel` records the stages that
   finished together with one write. Measured here on a copy of this repository's own
   `dvc.lock`: writing the run stages' entries one stage at a time (what `dvc repro` does) vs
   in one `dump_stages` call (the runner).
2. **papermill + kernel start** of a notebook that does nothing.
3. **Imports** of what the run notebook imports (torch, torchvision, pytorchvideo, tempaug),
   and of two parts of it: `import torchvision` after torch, and the `torch._dynamo` that
   torchvision's `ops` package imports (so every stage importing torchvision pays for it).
4. **papermill on a notebook that only does those imports**, with the standard (fresh) kernel:
   what every notebook stage pays before its first cell does any work, under `dvc repro` and
   `make repro` alike.
5. **Cleaning the executed notebook** (`python -m tempaug.pipeline.executed`).

Medians over repeats, in one run, of wall time and of CPU time (user + system; it changes
little when other processes share the cores, wall time does), with the load average beside
them; writes `results/benchmarks/pipeline.{csv,md}` (`--out` for another folder). The stages'
measured overhead in a real `make repro` is in `results/benchmarks/repro_stages.md`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import atomic_write, cpu_name

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "benchmarks"


def _median_time(
    cmd: list[str], repeats: int, cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (user + system, of the command and its
    children) of ``repeats`` runs of ``cmd``. CPU time barely changes when other processes
    share the cores; wall time does."""
    import resource

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), cpu()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _minus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] - b[0], a[1] - b[1]


#: The run notebook's imports (notebooks/10_train_eval.ipynb's own: pandas, tempaug.pipeline,
#: tempaug.io, tempaug.train.history / .scores) and what execute_run imports (the trainer:
#: torch, torchvision, pytorchvideo's models; matplotlib for the learning curve).
RUN_IMPORTS = (
    "import torch, torchvision, pytorchvideo.models, pandas, matplotlib.pyplot\n"
    "import tempaug.pipeline.runs, tempaug.train, tempaug.io, tempaug.train.history, "
    "tempaug.train.scores"
)


def _notebook(path: Path, source: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def lock_writes(workdir: Path, stages: int) -> tuple[tuple[float, float], tuple[float, float], int]:
    """Seconds to record ``stages`` run stages one at a time vs in one write, and lock lines."""
    from dvc.repo import Repo

    for name in ("dvc.yaml", "dvc.lock", "params.yaml"):
        shutil.copy(REPO / name, workdir / name)
    subprocess.run(["git", "init", "-q"], cwd=workdir, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=workdir, check=True)
    with Repo(str(workdir)) as repo:
        # stages as loaded, with the lock's recorded hashes: pure bookkeeping, no hashing
        runs = [s for s in repo.index.stages if "@" in s.name][:stages]
        dvcfile = runs[0].dvcfile
        t0, c0 = time.perf_counter(), time.process_time()
        for s in runs:
            dvcfile._reset()
            dvcfile.dump_stages([s], update_pipeline=False)
        one_by_one = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        dvcfile._reset()
        dvcfile.dump_stages(runs, update_pipeline=False)
        batched = time.perf_counter() - t0, time.process_time() - c0
    lines = len((workdir / "dvc.lock").read_text().splitlines())
    return one_by_one, batched, lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--stages", type=int, default=20, help="run stages recorded in the lock test")
    ap.add_argument("--out", type=Path, default=OUT, help="folder of pipeline.{csv,md}")
    args = ap.parse_args()
    out, n = args.out, args.stages
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, float, float, str]] = []

    def row(name: str, times: tuple[float, float], note: str) -> None:
        rows.append((name, times[0], times[1], note))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "lock").mkdir()
        one_by_one, batched, lines = lock_writes(tmp / "lock", n)
        row(
            "dvc.lock write per stage, one stage at a time (dvc repro)",
            (one_by_one[0] / n, one_by_one[1] / n),
            f"{n} stages, {lines}-line lock",
        )
        row(
            "dvc.lock write per stage, one write for many stages (make repro)",
            (batched[0] / n, batched[1] / n),
            f"{n} stages in one dump_stages",
        )
        _notebook(tmp / "empty.ipynb", "x = 1")
        papermill = [
            sys.executable,
            "-m",
            "papermill",
            "--no-progress-bar",
            "--log-level",
            "WARNING",
            "empty.ipynb",
            "out.ipynb",
        ]
        row(
            "papermill + kernel start (empty notebook)",
            _median_time(papermill, args.repeats, tmp),
            "subprocess",
        )
        python = lambda code: [sys.executable, "-c", code]  # noqa: E731
        bare = _median_time(python("pass"), args.repeats, tmp)
        torch_only = _median_time(python("import torch"), args.repeats, tmp)
        row(
            "imports of the run notebook (torch, pytorchvideo, tempaug, matplotlib)",
            _minus(_median_time(python(RUN_IMPORTS), args.repeats, tmp), bare),
            "minus a bare interpreter start",
        )
        row("of which `import torch`", _minus(torch_only, bare), "minus a bare interpreter start")
        row(
            "`import torchvision` after torch",
            _minus(
                _median_time(python("import torch, torchvision"), args.repeats, tmp), torch_only
            ),
            "torchvision/__init__ imports models → ops → torch._dynamo",
        )
        row(
            "`import torch._dynamo` after torch",
            _minus(
                _median_time(python("import torch, torch._dynamo"), args.repeats, tmp), torch_only
            ),
            "what torchvision.ops.roi_align pulls in",
        )
        _notebook(tmp / "imports.ipynb", RUN_IMPORTS)
        standard = _median_time([*papermill[:-2], "imports.ipynb", "out.ipynb"], args.repeats, tmp)
        row(
            "papermill + fresh kernel + the run notebook's imports",
            standard,
            "subprocess; what every notebook stage pays",
        )
        clean = [sys.executable, "-m", "tempaug.pipeline.executed", "out.ipynb"]
        row("cleaning the executed notebook", _median_time(clean, args.repeats, tmp), "subprocess")
    load_after = os.getloadavg()[0]
    md = [
        f"# Pipeline overhead per stage — {cpu_name()}",
        "",
        f"{os.cpu_count()} cores; 1-minute load average {load_before:.1f} at the start, "
        f"{load_after:.1f} at the end (above 0: other processes shared the cores and the wall "
        f"times are longer than on an idle machine; CPU times much less so). Medians of "
        f"{args.repeats} runs.",
        "",
        "| component | wall seconds | CPU seconds | note |",
        "|---|---|---|---|",
    ]
    md += [f"| {name} | {sec:.2f} | {cpu:.2f} | {note} |" for name, sec, cpu, note in rows]
    saved = rows[0][1] - rows[1][1]
    md += [
        "",
        f"The runner saves {saved:.2f} s of DVC bookkeeping per stage "
        f"({rows[0][1] / max(rows[1][1], 1e-9):.0f}× less); papermill, a fresh kernel and the "
        f"run notebook's imports take {standard[0]:.2f} s ({standard[1]:.2f} s of CPU) per "
        "notebook stage. Whole-stage overhead measured in a real `make repro`: "
        "`repro_stages.md`.",
    ]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "pipeline.md", "\n".join(md) + "\n")
    atomic_write(
        out / "pipeline.csv",
        "component,seconds,cpu_seconds,note\n"
        + "".join(f'"{n}",{s:.4f},{c:.4f},"{note}"\n' for n, s, c, note in rows),
    )
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
