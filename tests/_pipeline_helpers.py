"""The toy DVC project of the runner's tests (``tempaug.pipeline.parallel`` and its executors).

``prepare`` writes ``data.txt``; the matrix stage ``run@{a,b,c}`` is a stand-in for a training
run: it keeps a persistent checkpoint folder ``ckpt_<x>`` (an output DVC never removes, so a
rerun resumes: its output then ends in ``r``), records its start and end times, sleeps, prints
its SLURM job id and thread count last, and fails with exit 3 when ``fail_<x>`` exists;
``table`` joins the three outputs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PY = sys.executable

_TOY_DVC_YAML = """\
stages:
  prepare:
    cmd: @PY@ -c "import pathlib; pathlib.Path('data.txt').write_text('x')"
    outs:
      - data.txt:
          cache: false
  run:
    matrix:
      x: [a, b, c]
    cmd: >-
      @PY@ -c "import os, pathlib, sys, time;
      pathlib.Path('ckpt_${item.x}').mkdir(exist_ok=True);
      marker = pathlib.Path('ckpt_${item.x}/started');
      resumed = marker.exists(); marker.write_text('1');
      pathlib.Path('start_${item.x}').write_text(str(time.time()));
      time.sleep(@SECONDS@);
      pathlib.Path('end_${item.x}').write_text(str(time.time()));
      fail = pathlib.Path('fail_${item.x}').exists();
      pathlib.Path('out_${item.x}.txt').write_text(
          open('data.txt').read() + '${item.x}' + ('r' if resumed else ''));
      print('job', os.environ.get('SLURM_JOB_ID'), 'threads', os.environ.get('OMP_NUM_THREADS'));
      sys.exit(3 if fail else 0)"
    deps:
      - data.txt
    outs:
      - out_${item.x}.txt:
          cache: false
      - ckpt_${item.x}:
          cache: false
          persist: true
  table:
    cmd: @PY@ -c "import pathlib; pathlib.Path('table.txt').write_text(
      ''.join(open(f'out_{i}.txt').read() for i in 'abc'))"
    deps:
      - out_a.txt
      - out_b.txt
      - out_c.txt
    outs:
      - table.txt:
          cache: false
"""


def toy_dvc_yaml(run_seconds: float) -> str:
    """The toy project's ``dvc.yaml``, each run sleeping ``run_seconds``."""
    if not run_seconds > 0:
        raise ValueError(f"run_seconds must be > 0, got {run_seconds!r}")
    return _TOY_DVC_YAML.replace("@PY@", PY).replace("@SECONDS@", repr(float(run_seconds)))


def sh(cwd: Path, *args: str) -> str:
    """Run a command in ``cwd`` (it must succeed) and return its standard output."""
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True).stdout


def dvc(cwd: Path, *args: str) -> str:
    """Run ``dvc <args>`` in ``cwd`` with this interpreter."""
    return sh(cwd, PY, "-m", "dvc", *args)


def init_project(root: Path, dvc_yaml: str) -> Path:
    """Make ``root`` a git + DVC project with ``dvc_yaml``; returns ``root``."""
    sh(root, "git", "init", "-q")
    dvc(root, "init", "-q")
    (root / "dvc.yaml").write_text(dvc_yaml)
    return root


def toy_project(root: Path, run_seconds: float) -> Path:
    """The toy project (:func:`toy_dvc_yaml`) in ``root``."""
    return init_project(root, toy_dvc_yaml(run_seconds))
