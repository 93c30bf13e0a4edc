"""Per-stage overhead of the DVC pipeline, by component, and what `make repro`'s runner saves.

A training-run stage costs, besides training and evaluation:

1. **DVC's bookkeeping.** After every stage `dvc repro` re-reads and rewrites `dvc.lock` (one
   round-trip YAML load and dump per stage). `tempaug.pipeline.parallel` records the stages that
   finished together with one write. Measured here on a copy of this repository's own
   `dvc.lock`: writing the run stages' entries one stage at a time (what `dvc repro` does) vs
   in one `dump_stages` call (the runner).
2. **papermill + kernel start** of a notebook that does nothing.
3. **Imports** of what the run notebook imports (torch, torchvision, pytorchvideo, tempaug).
4. **papermill on a notebook that only does those imports**, with the standard (fresh) kernel:
   what every notebook stage pays before its first cell does any work, under `dvc repro` and
   `make repro` alike.
5. **Cleaning the executed notebook** (`python -m tempaug.pipeline.executed`).

Medians over repeats, in one run; writes `results/benchmarks/pipeline.{csv,md}`. The stages'
measured overhead in a real `make repro` is in `results/benchmarks/repro_stages.md`.
"""

from __future__ import annotations

import argparse
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
) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


#: The run notebook's imports (notebooks/10_train_eval.ipynb and what execute_run imports).
RUN_IMPORTS = (
    "import torch, torchvision, pytorchvideo.models, pandas, matplotlib.pyplot\n"
    "import tempaug.pipeline.runs, tempaug.train, tempaug.analysis.gallery"
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


def lock_writes(workdir: Path, stages: int) -> tuple[float, float, int]:
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
        t0 = time.perf_counter()
        for s in runs:
            dvcfile._reset()
            dvcfile.dump_stages([s], update_pipeline=False)
        one_by_one = time.perf_counter() - t0
        t0 = time.perf_counter()
        dvcfile._reset()
        dvcfile.dump_stages(runs, update_pipeline=False)
        batched = time.perf_counter() - t0
    lines = len((workdir / "dvc.lock").read_text().splitlines())
    return one_by_one, batched, lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--stages", type=int, default=20, help="run stages recorded in the lock test")
    args = ap.parse_args()
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "lock").mkdir()
        one_by_one, batched, lines = lock_writes(tmp / "lock", args.stages)
        rows.append(
            (
                "dvc.lock write per stage, one stage at a time (dvc repro)",
                one_by_one / args.stages,
                f"{args.stages} stages, {lines}-line lock",
            )
        )
        rows.append(
            (
                "dvc.lock write per stage, one write for many stages (make repro)",
                batched / args.stages,
                f"{args.stages} stages in one dump_stages",
            )
        )
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, tmp / "empty.ipynb")
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
        rows.append(
            (
                "papermill + kernel start (empty notebook)",
                _median_time(papermill, args.repeats, tmp),
                "subprocess wall time",
            )
        )
        imports = [
            sys.executable,
            "-c",
            "import torch, torchvision, pytorchvideo.models, pandas, matplotlib.pyplot; "
            "import tempaug.pipeline.runs, tempaug.train, tempaug.analysis.gallery",
        ]
        bare = [sys.executable, "-c", "pass"]
        t_imports = _median_time(imports, args.repeats, tmp) - _median_time(bare, args.repeats, tmp)
        rows.append(
            (
                "imports of the run notebook (torch, pytorchvideo, tempaug, matplotlib)",
                t_imports,
                "minus a bare interpreter start",
            )
        )
        _notebook(tmp / "imports.ipynb", RUN_IMPORTS)
        standard = _median_time([*papermill[:-2], "imports.ipynb", "out.ipynb"], args.repeats, tmp)
        rows.append(
            (
                "papermill + fresh kernel + the run notebook's imports",
                standard,
                "subprocess wall time; every notebook stage",
            )
        )
        clean = [sys.executable, "-m", "tempaug.pipeline.executed", "out.ipynb"]
        rows.append(
            (
                "cleaning the executed notebook",
                _median_time(clean, args.repeats, tmp),
                "subprocess wall time",
            )
        )
    header = f"# Pipeline overhead per stage — {cpu_name()}\n\n"
    md = [header, "| component | seconds (median) | note |", "|---|---|---|"]
    md += [f"| {name} | {sec:.2f} | {note} |" for name, sec, note in rows]
    saved = rows[0][1] - rows[1][1]
    md += [
        "",
        f"The runner saves {saved:.2f} s of DVC bookkeeping per stage "
        f"({rows[0][1] / max(rows[1][1], 1e-9):.0f}× less); papermill, a fresh kernel and the "
        f"run notebook's imports take {standard:.2f} s per notebook stage. Whole-stage overhead "
        "measured in a real `make repro`: `repro_stages.md`.",
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write(OUT / "pipeline.md", "\n".join(md) + "\n")
    atomic_write(
        OUT / "pipeline.csv",
        "component,seconds,note\n" + "".join(f'"{n}",{s:.4f},"{c}"\n' for n, s, c in rows),
    )
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
