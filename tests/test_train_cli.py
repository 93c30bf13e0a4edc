"""``python -m tempaug.train`` end to end: kill + exact resume, torchrun DDP, evaluation."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from _train_helpers import (
    REPO,
    make_tiny_data,
    run_cli,
    smoke_config,
    subprocess_env,
    train_cli,
    write_yaml,
)

from tempaug.train import TrainConfig, evaluate
from tempaug.train.__main__ import main
from tempaug.train.checkpoint import load_checkpoint

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")

EPOCHS = 4
TIMING_KEYS = {"seconds", "eval_seconds"}
HISTORY_TIMING = {"seconds", "data_wait"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.getbasetemp() / "tempaug_train_data")


@pytest.fixture(scope="module")
def config_file(tiny, tmp_path_factory):
    """Every random path on: per-item data randomness (1 worker), RandAugment-T on the device
    batch, FadeMixUp, dropout, per-epoch validation."""
    root = tmp_path_factory.mktemp("cli")
    cfg = smoke_config(
        tiny,
        root / "unused",
        data={"num_workers": 1},
        model={"name": "slowfast_smoke", "kwargs": {"dropout": 0.5}},
        optim={"epochs": EPOCHS},
        aug={
            "randaugment": {"num_ops": 2, "magnitude": 9, "mode": "temporal+"},
            "augment_on": "device",
            "mix": "fademixup",
        },
    )
    return write_yaml(root / "run.yaml", cfg), root


@pytest.fixture(scope="module")
def runs(config_file):
    """The uninterrupted reference run and a run killed by SIGKILL after its first checkpoint,
    started side by side (one thread each)."""
    cfg, root = config_file
    ref, killed = root / "ref", root / "killed"
    ref_proc = subprocess.Popen(
        train_cli(cfg, f"out_dir={ref}"),
        cwd=REPO,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    marker = f"tempaug-victim-{os.getpid()}-{time.monotonic_ns()}"
    victim = subprocess.Popen(
        train_cli(cfg, f"out_dir={killed}"),
        cwd=REPO,
        env={**subprocess_env(), "TEMPAUG_TEST_MARKER": marker},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ckpt = killed / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    while not ckpt.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    # The loader workers (and their forkserver) must not outlive the killed trainer.
    deadline = time.monotonic() + 15
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = _processes_with(marker)
    out, _ = ref_proc.communicate(timeout=300)
    assert ref_proc.returncode == 0, out
    return ref, killed, victim.returncode, orphans


def _processes_with(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment holds ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() not in (proc / "environ").read_bytes():
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(proc.name))
    return found


def _metrics(path):
    m = json.loads((path / "metrics.json").read_text())
    return {k: v for k, v in m.items() if k not in TIMING_KEYS}


def _history(path):
    with (path / "history.csv").open() as fh:
        return [{k: v for k, v in r.items() if k not in HISTORY_TIMING} for r in csv.DictReader(fh)]


class TestResume:
    def test_killed_then_resumed_is_bitwise_identical(self, runs, config_file):
        cfg, _ = config_file
        ref, killed, returncode, orphans = runs
        assert returncode == -signal.SIGKILL
        assert not orphans, f"processes left behind by the killed run: {orphans}"
        interrupted_at = load_checkpoint(killed / "checkpoints" / "last.pt")["epoch"]
        assert 1 <= interrupted_at < EPOCHS, "the run was not interrupted mid-training"
        assert not (killed / "metrics.json").exists()

        res = run_cli(train_cli(cfg, f"out_dir={killed}", "runtime.resume=true"))
        assert res.returncode == 0, res.stderr + res.stdout
        assert (
            f"resumed from {killed / 'checkpoints' / 'last.pt'} after epoch {interrupted_at}"
            in (res.stdout)
        )

        a = load_checkpoint(ref / "checkpoints" / "last.pt")
        b = load_checkpoint(killed / "checkpoints" / "last.pt")
        assert a["epoch"] == b["epoch"] == EPOCHS
        assert a["model"].keys() == b["model"].keys()
        for key in a["model"]:
            assert torch.equal(a["model"][key], b["model"][key]), key
        for pa, pb in zip(
            a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True
        ):
            assert all(torch.equal(pa[k], pb[k]) for k in pa)
        assert _metrics(ref) == _metrics(killed)
        assert _history(ref) == _history(killed)
        assert (ref / "scores.csv").read_bytes() == (killed / "scores.csv").read_bytes()

    def test_evaluate_reproduces_final_metrics(self, runs, config_file, tmp_path):
        cfg_path, _ = config_file
        ref, *_ = runs
        cfg = TrainConfig.from_yaml(cfg_path, [f"out_dir={ref}", "data.num_workers=0"])
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            m = evaluate(cfg, ref / "checkpoints" / "last.pt", out_dir=tmp_path)
        finally:
            torch.set_num_threads(n)
        ref_m = _metrics(ref)
        for key in ("top1", "top5", "mean_class_acc", "num_videos"):
            assert m[key] == pytest.approx(ref_m[key]), key
        assert m["epoch"] == EPOCHS
        a = [r[2:] for r in csv.reader((ref / "scores.csv").open())][1:]
        b = [r[2:] for r in csv.reader((tmp_path / "scores.csv").open())][1:]
        assert torch.tensor([[float(v) for v in r] for r in a]) == pytest.approx(
            torch.tensor([[float(v) for v in r] for r in b]), abs=1e-5
        )


class TestDistributed:
    def test_two_gloo_processes_split_the_data(self, runs, config_file, tiny):
        cfg, root = config_file
        ref, *_ = runs
        ddp = root / "ddp"
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "tempaug.train",
            "--config",
            str(cfg),
            "--set",
            f"out_dir={ddp}",
            "runtime.debug_indices=true",
            "data.num_workers=0",
        ]
        res = run_cli(cmd, timeout=400)
        assert res.returncode == 0, res.stderr[-4000:] + res.stdout[-2000:]

        m, m_ref = json.loads((ddp / "metrics.json").read_text()), _metrics(ref)
        assert m.keys() - TIMING_KEYS == m_ref.keys()
        assert m["world_size"] == 2 and m["num_videos"] == tiny.num_val
        assert len(_history(ddp)) == EPOCHS
        assert _history(ddp)[0].keys() == _history(ref)[0].keys()
        with (ddp / "scores.csv").open() as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == next(csv.reader((ref / "scores.csv").open()))
        assert sorted(r[0] for r in rows[1:]) == sorted(
            r[0] for r in list(csv.reader((ref / "scores.csv").open()))[1:]
        )
        # Only rank 0 writes results; every rank logs the training indices it saw.
        assert sorted(p.name for p in ddp.iterdir()) == sorted(
            ["checkpoints", "config.yaml", "debug", "history.csv", "metrics.json", "scores.csv"]
        )
        seen = {}
        for rank in (0, 1):
            for line in (ddp / "debug" / f"rank{rank}_indices.txt").read_text().split("\n"):
                if line:
                    epoch, index = map(int, line.split())
                    seen.setdefault((rank, epoch), []).append(index)
        per_rank_batch = 4  # global batch 8 over 2 processes, drop_last
        expected = (tiny.num_train // 2) // per_rank_batch * per_rank_batch
        for epoch in range(EPOCHS):
            r0, r1 = seen[(0, epoch)], seen[(1, epoch)]
            assert len(r0) == len(r1) == expected
            assert len(set(r0)) == len(r0) and not set(r0) & set(r1), f"epoch {epoch} overlaps"
            assert set(r0) | set(r1) <= set(range(tiny.num_train))
        assert seen[(0, 0)] != seen[(0, 1)], "the sampler must reshuffle every epoch"


class TestCommandLine:
    """``tempaug.train.__main__.main`` in process (the subprocess path is exercised above)."""

    def test_bad_key_names_it(self, config_file, capsys):
        cfg, _ = config_file
        assert main(["--config", str(cfg), "--set", "optim.learning_rate=0.1"]) == 2
        assert "optim.learning_rate" in capsys.readouterr().err

    def test_bad_value_names_key(self, config_file, capsys):
        cfg, _ = config_file
        assert main(["--config", str(cfg), "--set", "aug.mix=shuffle"]) == 2
        assert "aug.mix" in capsys.readouterr().err

    def test_missing_config_file(self, tmp_path, capsys):
        assert main(["--config", str(tmp_path / "none.yaml")]) == 2
        assert "none.yaml" in capsys.readouterr().err

    def test_print_config_with_repeated_set(self, config_file, capsys):
        cfg, _ = config_file
        argv = [
            "-c",
            str(cfg),
            "--set",
            "optim.lr=5e-4",
            "--set",
            "aug.mix=cutmix",
            "--print-config",
        ]
        assert main(argv) == 0
        printed = yaml.safe_load(capsys.readouterr().out)
        assert printed["optim"]["lr"] == 5e-4 and printed["aug"]["mix"] == "cutmix"
        assert printed["optim"]["epochs"] == EPOCHS
