"""Atomic outputs and RNG snapshots (tempaug.train.checkpoint)."""

from __future__ import annotations

import io
import json
import random
import stat

import numpy as np
import pytest
import torch

from tempaug.train.checkpoint import (
    CHECKPOINT_FORMAT,
    atomic_write_text,
    capture_rng_state,
    export_weights,
    load_checkpoint,
    load_weights,
    restore_rng_state,
    save_checkpoint,
    write_csv,
    write_json,
)


class _Payload:
    """Unpickling this object creates ``marker`` (a stand-in for running arbitrary code)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


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
        (tmp_path / "junk.pt").write_bytes(b"not a zip file")
        with pytest.raises(ValueError, match=r"junk\.pt"):
            load_checkpoint(tmp_path / "junk.pt")

    def test_malicious_pickle_is_refused_without_running(self, tmp_path):
        marker = tmp_path / "pwned"
        path = tmp_path / "shared.pt"
        torch.save({"format": CHECKPOINT_FORMAT, "model": {}, "x": _Payload(marker)}, path)
        with pytest.raises(ValueError, match=r"refusing to load .*shared\.pt"):
            load_checkpoint(path)
        assert not marker.exists(), "loading the checkpoint ran code"
        # The payload is real: the full unpickler does run it.
        torch.load(path, weights_only=False)
        assert marker.exists()

    def test_old_pickled_rng_format_is_refused(self, tmp_path):
        rng = {"numpy": np.random.get_state()}  # noqa: NPY002 - format 1 stored the ndarray tuple
        torch.save({"format": 1, "rng": [rng]}, tmp_path / "v1.pt")
        with pytest.raises(ValueError, match=r"refusing to load .*v1\.pt"):
            load_checkpoint(tmp_path / "v1.pt")
        torch.save({"format": 1, "epoch": 2}, tmp_path / "v1_plain.pt")
        with pytest.raises(ValueError, match="found format 1"):
            load_checkpoint(tmp_path / "v1_plain.pt")

    def test_rng_state_survives_weights_only(self, tmp_path):
        gens = {"aug": torch.Generator().manual_seed(3)}
        random.gauss(0, 1)  # leaves a cached gaussian in the Python state
        np.random.standard_normal()  # noqa: NPY002 - and in NumPy's
        save_checkpoint(tmp_path / "c.pt", {"rng": [capture_rng_state(torch.device("cpu"), gens)]})
        snap = load_checkpoint(tmp_path / "c.pt")["rng"][0]
        first = (np.random.standard_normal(3).tolist(), random.gauss(0, 1), torch.rand(2).tolist())  # noqa: NPY002
        restore_rng_state(snap, torch.device("cpu"), gens)
        again = (np.random.standard_normal(3).tolist(), random.gauss(0, 1), torch.rand(2).tolist())  # noqa: NPY002
        assert again == first


class TestExportWeights:
    def test_round_trip_without_pickle(self, tmp_path):
        from tempaug.models import build_model

        model = build_model("slowfast_smoke", 3, clip_len=16, crop_size=32, seed=0)
        kwargs = {"num_classes": 3, "clip_len": 16, "crop_size": 32, "seed": 0}
        state = {"epoch": 4, "model_name": "slowfast_smoke", "model_kwargs": kwargs}
        save_checkpoint(tmp_path / "c.pt", {**state, "model": model.state_dict()})
        out = export_weights(tmp_path / "c.pt", tmp_path / "w.safetensors")
        assert out.read_bytes()[:8] != b"PK\x03\x04"  # not a torch (zip + pickle) file
        tensors, info = load_weights(out)
        assert info == {"model_name": "slowfast_smoke", "model_kwargs": kwargs, "epoch": 4}
        again = build_model(info["model_name"], **info["model_kwargs"])
        again.load_state_dict(tensors)
        for key, value in model.state_dict().items():
            assert torch.equal(again.state_dict()[key], value), key

    def test_rejects_other_files(self, tmp_path):
        with pytest.raises(ValueError, match="does not exist"):
            load_weights(tmp_path / "none.safetensors")
        buf = io.BytesIO()
        torch.save({"w": torch.zeros(1)}, buf)
        (tmp_path / "x.safetensors").write_bytes(buf.getvalue())
        with pytest.raises(ValueError, match=r"x\.safetensors"):
            load_weights(tmp_path / "x.safetensors")
        with pytest.raises(ValueError, match="no model weights"):
            export_weights({"epoch": 1}, tmp_path / "y.safetensors")


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
