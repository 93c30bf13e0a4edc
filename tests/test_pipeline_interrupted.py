"""An interrupted `dvc repro` resumes the interrupted run (a preempted node loses no epochs).

A DVC stage trains like the pipeline's run stages do: its training folder is a `persist`
output (DVC keeps it before rerunning the stage) and `runtime.resume: auto`. The whole `dvc
repro` process group is SIGKILLed after the first checkpoint; the next `dvc repro` continues from
that checkpoint and publishes the same `scores.csv`, bit for bit, as an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from _train_helpers import make_tiny_data, run_cli, smoke_config, subprocess_env, train_cli

from tempaug.train.checkpoint import load_checkpoint

EPOCHS = 4

DVC_YAML = f"""\
stages:
  run:
    cmd: {sys.executable} -m tempaug.train --config cfg.yaml
    deps:
      - cfg.yaml
    outs:
      - run:
          cache: false
          persist: true
"""

DVCIGNORE = "/run/timings.json\n/run/train.log\n/run/checkpoints/\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.getbasetemp() / "tempaug_train_data")


def _dvc(cwd: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        **kw,
    )


@pytest.mark.slow
def test_sigkilled_dvc_repro_resumes_and_matches_an_uninterrupted_run(tiny, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    cfg = smoke_config(
        tiny,
        Path("run"),
        optim={"epochs": EPOCHS, "warmup_epochs": 1},
        eval={"every": 0},
        runtime={"device": "cpu", "save_every": 1, "progress": False, "resume": "auto"},
    )
    (project / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    (project / "dvc.yaml").write_text(DVC_YAML)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    assert _dvc(project, "init", "-q").returncode == 0
    (project / ".dvcignore").write_text(DVCIGNORE)

    # the reference: the same configuration, uninterrupted, outside DVC
    ref_cfg = project.parent / "ref.yaml"
    ref_cfg.write_text(yaml.safe_dump({**cfg, "out_dir": str(tmp_path / "ref")}))
    assert run_cli(train_cli(ref_cfg)).returncode == 0

    victim = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro"],
        cwd=project,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill DVC and the trainer together
    )
    last = project / "run" / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and victim.poll() is None:
        if last.is_file():
            try:
                if load_checkpoint(last)["epoch"] >= 1:
                    break
            except ValueError:
                pass  # being written
        time.sleep(0.2)
    assert victim.poll() is None, "the stage finished before it could be interrupted"
    os.killpg(victim.pid, signal.SIGKILL)  # a preempted node
    victim.wait(timeout=30)
    interrupted_at = load_checkpoint(last)["epoch"]
    assert 1 <= interrupted_at < EPOCHS
    assert not (project / "run" / "scores.csv").exists()

    res = _dvc(project, "repro", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    log = (project / "run" / "train.log").read_text()
    assert f"resumed from {Path('run') / 'checkpoints' / 'last.pt'} after epoch" in log
    for name in ("scores.csv", "metrics.json", "history.csv"):
        assert (project / "run" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    assert "up to date" in _dvc(project, "status").stdout
