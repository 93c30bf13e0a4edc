"""Atomic outputs and RNG snapshots (tempaug.train.checkpoint)."""

from __future__ import annotations

import json
import random
import stat

import numpy as np
import pytest
import torch

from tempaug.train.checkpoint import (
    atomic_write_text,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
    write_csv,
    write_json,
)


class TestAtomicWrites:
    def test_replaces_and_leaves_no_temp(self, tmp_path):
        path = tmp_path / "sub" / "a.txt"
        atomic_write_text(path, "one")
        atomic_write_text(path, "two")
        assert path.read_text() == "two"
        assert [p.name for p in path.parent.iterdir()] == ["a.txt"]
        assert path.stat().st_mode & stat.S_IRGRP  # not mkstemp's 0600

    def test_failed_write_keeps_old_file(self, tmp_path, monkeypatch):
        path = tmp_path / "m.json"
        write_json(path, {"top1": 1.0})

        def boom(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr("tempaug.io.os.replace", boom)
        with pytest.raises(OSError, match="disk full"):
            write_json(path, {"top1": 2.0})
        assert json.loads(path.read_text()) == {"top1": 1.0}
        assert [p.name for p in tmp_path.iterdir()] == ["m.json"]

    def test_csv(self, tmp_path):
        write_csv(tmp_path / "h.csv", ["a", "b"], [[1, "x"], [2, ""]])
        assert (tmp_path / "h.csv").read_text() == "a,b\n1,x\n2,\n"


class TestCheckpoint:
    def test_round_trip(self, tmp_path):
        state = {"epoch": 3, "model": {"w": torch.arange(4.0)}, "history": [{"epoch": 1}]}
        save_checkpoint(tmp_path / "c.pt", state)
        loaded = load_checkpoint(tmp_path / "c.pt")
        assert loaded["epoch"] == 3 and torch.equal(loaded["model"]["w"], torch.arange(4.0))

    def test_rejects_foreign_files(self, tmp_path):
        torch.save({"epoch": 1}, tmp_path / "other.pt")
        with pytest.raises(ValueError, match="not a tempaug checkpoint"):
            load_checkpoint(tmp_path / "other.pt")
        with pytest.raises(ValueError, match="does not exist"):
            load_checkpoint(tmp_path / "missing.pt")


class TestRngState:
    def test_restore_replays_every_stream(self):
        g_aug, g_loader = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
        gens = {"aug": g_aug, "loader": g_loader}
        snap = capture_rng_state(torch.device("cpu"), gens)

        def draw():
            return (
                torch.rand(3).tolist(),
                np.random.rand(3).tolist(),  # noqa: NPY002 - the global stream is the subject
                [random.random() for _ in range(3)],
                torch.rand(3, generator=g_aug).tolist(),
                torch.rand(3, generator=g_loader).tolist(),
            )

        first = draw()
        restore_rng_state(snap, torch.device("cpu"), gens)
        assert draw() == first

    def test_missing_generator(self):
        snap = capture_rng_state(torch.device("cpu"), {})
        with pytest.raises(ValueError, match="no generator 'aug'"):
            restore_rng_state(snap, torch.device("cpu"), {"aug": torch.Generator()})
