"""``python -m tempaug.train`` end to end: kill + exact resume, torchrun DDP, evaluation."""

from __future__ import annotations

import csv
import json
import os
import shutil
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
from tempaug.train.checkpoint import load_checkpoint, load_weights

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")

EPOCHS = 4
TIMING_KEYS = {"seconds", "eval_seconds"}
RESULTS = ("metrics.json", "history.csv", "scores.csv")


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
    started side by side (one thread each); ``killed_auto`` is a copy of the killed run's folder
    (for ``runtime.resume=auto``)."""
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
    shutil.copytree(killed, root / "killed_auto")
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
    assert not TIMING_KEYS & m.keys(), "wall-clock timings belong in timings.json"
    return m


def _history(path):
    with (path / "history.csv").open() as fh:
        return list(csv.DictReader(fh))


def _same_results(a: Path, b: Path) -> None:
    for name in RESULTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


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
            in res.stderr  # the progress report goes to the process's stderr
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
        _same_results(ref, killed)  # results only: byte-identical files
        timings = json.loads((killed / "timings.json").read_text())
        assert timings["resumed_after_epoch"] == interrupted_at
        assert [e["epoch"] for e in timings["epochs"]] == list(range(1, EPOCHS + 1))

    def test_auto_resume_of_the_same_run_is_bitwise_identical(self, runs, config_file):
        cfg, root = config_file
        ref, *_ = runs
        out = root / "killed_auto"  # another folder than the saved config's out_dir: ignored
        ckpt = out / "checkpoints" / "last.pt"
        interrupted_at = load_checkpoint(ckpt)["epoch"]
        res = run_cli(
            train_cli(cfg, f"out_dir={out}", "runtime.resume=auto", "runtime.save_every=2")
        )
        assert res.returncode == 0, res.stderr + res.stdout
        assert f"resumed from {ckpt} after epoch {interrupted_at}" in res.stderr
        epochs = [line for line in res.stderr.splitlines() if line.startswith("epoch ")]
        assert len(epochs) == EPOCHS - interrupted_at
        _same_results(ref, out)

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
        assert m.keys() == m_ref.keys()
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
            [
                "checkpoints",
                "config.yaml",
                "debug",
                "history.csv",
                "metrics.json",
                "scores.csv",
                "timings.json",
                "train.log",
            ]
        )
        # Gradients are all-reduced: both ranks end with the same parameters.
        hashes = [(ddp / "debug" / f"rank{r}_params.sha256").read_text() for r in (0, 1)]
        assert len(hashes[0].strip()) == 64 and hashes[0] == hashes[1]
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

    def test_without_gradient_sync_the_ranks_diverge(self, config_file):
        """Negative control: the same two-process run with DDP replaced by the bare module
        (``_train_helpers`` run as a script) ends with different parameters on the two ranks,
        so the equality asserted above does test the gradient all-reduce."""
        cfg, root = config_file
        out = root / "ddp_nosync"
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(REPO / "tests" / "_train_helpers.py"),
            "--config",
            str(cfg),
            "--set",
            f"out_dir={out}",
            "runtime.debug_indices=true",
            "data.num_workers=0",
            "optim.epochs=1",
            "optim.warmup_epochs=0",
            "eval.every=0",
            "eval.num_clips=1",
        ]
        res = run_cli(cmd, timeout=400)
        assert res.returncode == 0, res.stderr[-4000:] + res.stdout[-2000:]
        hashes = [(out / "debug" / f"rank{r}_params.sha256").read_text() for r in (0, 1)]
        assert hashes[0] != hashes[1]


class TestExportWeights:
    def test_cli_exports_code_free_weights(self, runs, tmp_path, capsys):
        ref, *_ = runs
        ckpt = ref / "checkpoints" / "last.pt"
        dst = tmp_path / "model.safetensors"
        assert main(["--export-weights", str(ckpt), str(dst)]) == 0
        assert json.loads(capsys.readouterr().out)["weights"] == str(dst)
        tensors, info = load_weights(dst)
        state = load_checkpoint(ckpt)
        assert info["epoch"] == EPOCHS and info["model_kwargs"] == state["model_kwargs"]
        assert tensors.keys() == state["model"].keys()
        assert all(torch.equal(tensors[k], state["model"][k]) for k in tensors)

    def test_cli_refuses_a_pickle_that_runs_code(self, tmp_path, capsys):
        from test_train_checkpoint import _Payload

        marker = tmp_path / "pwned"
        evil = tmp_path / "evil.pt"
        torch.save({"format": 2, "model": {"w": torch.zeros(1)}, "x": _Payload(marker)}, evil)
        assert main(["--export-weights", str(evil), str(tmp_path / "w.safetensors")]) == 2
        err = capsys.readouterr().err
        assert "refusing to load" in err and str(evil) in err
        assert not marker.exists() and not (tmp_path / "w.safetensors").exists()


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
