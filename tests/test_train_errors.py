"""Bad input to the training config, ``evaluate`` and ``python -m tempaug.train`` (issue 28).

Each case fails before any training or evaluation starts, with a one-line message naming the
key or file; the CLI exits 2 (its docstring's promise) instead of printing a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from _train_helpers import TinyData, smoke_config, write_yaml

from tempaug.augment import METHODS
from tempaug.data.splits import write_table
from tempaug.train import TrainConfig, distributed, evaluate
from tempaug.train.__main__ import main
from tempaug.train.checkpoint import save_checkpoint
from tempaug.train.config import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")


@pytest.fixture
def tables(tmp_path) -> TinyData:
    """Valid CSV tables of two classes over an (empty) video root: enough for every check that
    runs before a video is opened."""
    root = tmp_path / "videos"
    root.mkdir()
    frame = pd.DataFrame({"video": [f"c/v{i}.avi" for i in range(4)], "label": [0, 1, 0, 1]})
    train = write_table(frame, tmp_path / "train.csv")
    val = write_table(frame, tmp_path / "val.csv")
    return TinyData(root, train, val, 4, 4, 2)


@pytest.fixture
def config(tables, tmp_path) -> Path:
    return write_yaml(tmp_path / "run.yaml", smoke_config(tables, tmp_path / "out"))


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


# ------------------------------------------------------------------ --evaluate CHECKPOINT


class TestEvaluateCheckpoint:
    def test_missing_checkpoint_exits_2(self, config, tmp_path, capsys):
        """Bug: a traceback and exit 1 (load_checkpoint's ValueError was not caught)."""
        missing = tmp_path / "nope.pt"
        assert main(["-c", str(config), "--evaluate", str(missing)]) == 2
        _one_line_error(capsys, str(missing), "does not exist")

    def test_directory_as_checkpoint(self, config, tmp_path, capsys):
        """Bug: a run folder passed instead of its ``checkpoints/last.pt`` was reported as
        'does not exist'."""
        assert main(["-c", str(config), "--evaluate", str(tmp_path)]) == 2
        _one_line_error(capsys, str(tmp_path), "is a directory, not a file")

    def test_garbage_checkpoint_exits_2(self, config, tmp_path, capsys):
        bad = tmp_path / "garbage.pt"
        bad.write_bytes(b"not a checkpoint at all" * 50)
        assert main(["-c", str(config), "--evaluate", str(bad)]) == 2
        _one_line_error(capsys, str(bad))

    def test_truncated_checkpoint_exits_2(self, config, tmp_path, capsys):
        """A checkpoint cut short (a copy interrupted): torch's multi-line zip error becomes
        one line naming the file."""
        good = save_checkpoint(tmp_path / "good.pt", {"model": {"w": torch.zeros(1000)}})
        cut = tmp_path / "cut.pt"
        cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        assert main(["-c", str(config), "--evaluate", str(cut)]) == 2
        _one_line_error(capsys, str(cut), "not a readable checkpoint")

    def test_checkpoint_without_model_entries_exits_2(self, config, tmp_path, capsys):
        """Bug: ``KeyError: 'model_kwargs'`` traceback for a tempaug file that is not a model
        checkpoint (e.g. a trimmed one)."""
        ckpt = save_checkpoint(tmp_path / "trimmed.pt", {"model": {"w": torch.zeros(1)}})
        assert main(["-c", str(config), "--evaluate", str(ckpt)]) == 2
        _one_line_error(capsys, str(ckpt), "cannot be evaluated", "'model_kwargs' missing")

    def test_weights_that_do_not_fit_exit_2(self, config, tmp_path, capsys):
        """Bug: ``RuntimeError: Error(s) in loading state_dict`` traceback over many lines."""
        ckpt = save_checkpoint(
            tmp_path / "foreign.pt",
            {
                "model": {"w": torch.zeros(1)},
                "model_name": "slowfast_smoke",
                "model_kwargs": {"num_classes": 2, "clip_len": 16, "crop_size": 32},
                "epoch": 1,
            },
        )
        assert main(["-c", str(config), "--evaluate", str(ckpt)]) == 2
        _one_line_error(capsys, str(ckpt), "does not fit its weights")

    def test_api_raises_before_any_work(self, tables, tmp_path, monkeypatch):
        """``evaluate()`` refuses the checkpoint before the process group, model or loader."""

        def no_setup(*args, **kwargs):
            raise AssertionError("D.setup must not be reached")

        monkeypatch.setattr(distributed, "setup", no_setup)
        cfg = TrainConfig.from_dict(smoke_config(tables, tmp_path / "out"))
        with pytest.raises(ConfigError, match=r"nope\.pt.*does not exist"):
            evaluate(cfg, tmp_path / "nope.pt")
        assert not (tmp_path / "out").exists()

    def test_eval_out_without_evaluate(self, config, tmp_path, capsys):
        """Bug: ``--eval-out`` alone was ignored and a full training run started."""
        assert main(["-c", str(config), "--eval-out", str(tmp_path / "e")]) == 2
        _one_line_error(capsys, "--eval-out needs --evaluate")


# ------------------------------------------------------------------ tables and export


def test_malformed_table_exits_2(tables, tmp_path, capsys):
    """Bug: a CSV with non-integer labels raised read_table's ValueError as a traceback."""
    bad = tmp_path / "bad.csv"
    bad.write_text("video,label\nc/v0.avi,zero\nc/v1.avi,1\n")
    cfg = write_yaml(
        tmp_path / "bad.yaml",
        smoke_config(tables, tmp_path / "out", data={"train_table": str(bad)}),
    )
    assert main(["-c", str(cfg)]) == 2
    _one_line_error(capsys, str(bad), "must hold integers")


def test_table_with_an_empty_video_exits_2(tables, tmp_path, capsys):
    """Bug: the dataset's ValueError (a row without a video path) came as a traceback after
    the model was built; the CLI builds the datasets first."""
    bad = tmp_path / "holes.csv"
    bad.write_text("video,label\nc/v0.avi,0\n,1\n")
    cfg = write_yaml(
        tmp_path / "holes.yaml",
        smoke_config(tables, tmp_path / "out", data={"eval_table": str(bad)}),
    )
    assert main(["-c", str(cfg)]) == 2
    _one_line_error(capsys, "'video' must hold non-empty", "row 1")


def test_resume_from_a_corrupt_checkpoint_exits_2(config, tmp_path, capsys):
    """Bug: ``runtime.resume=true`` over a damaged ``last.pt`` built the model, then died with
    load_checkpoint's ValueError as a traceback (exit 1)."""
    last = tmp_path / "out" / "checkpoints" / "last.pt"
    last.parent.mkdir(parents=True)
    last.write_bytes(b"PK\x03\x04 torn copy")
    assert main(["-c", str(config), "--set", "runtime.resume=true"]) == 2
    _one_line_error(capsys, "runtime.resume=true", str(last))


def test_export_weights_onto_the_checkpoint_is_refused(tmp_path, capsys):
    """Bug: ``--export-weights last.pt last.pt`` replaced the checkpoint by its weights."""
    ckpt = save_checkpoint(tmp_path / "last.pt", {"model": {"w": torch.zeros(2)}, "epoch": 1})
    before = ckpt.read_bytes()
    alias = tmp_path / "." / "last.pt"
    assert main(["--export-weights", str(ckpt), str(alias)]) == 2
    _one_line_error(capsys, "is the checkpoint itself")
    assert ckpt.read_bytes() == before


def test_export_weights_to_unwritable_path_exits_2(tmp_path, capsys):
    """Bug: an output folder that cannot be created raised ``NotADirectoryError``."""
    ckpt = save_checkpoint(tmp_path / "c.pt", {"model": {"w": torch.zeros(2)}, "epoch": 1})
    (tmp_path / "file").write_text("x")
    dst = tmp_path / "file" / "w.safetensors"
    assert main(["--export-weights", str(ckpt), str(dst)]) == 2
    _one_line_error(capsys, "file")


# ------------------------------------------------------------------ aug.mix_kwargs / randaugment


def _cfg(tables: TinyData, tmp_path: Path, **aug) -> TrainConfig:
    return TrainConfig.from_dict(smoke_config(tables, tmp_path / "out", aug=aug))


class TestAugmentationKwargs:
    """The smoke geometry is 16 frames of 32x32: kwargs that cannot fit it fail at config time
    (they failed at the first training batch, after the model and loaders were built)."""

    @pytest.mark.parametrize(
        ("mix", "kwargs", "match"),
        [
            ("framecutout", {"length": 100}, r"length as an int must be in \[1, 16\]"),
            ("cubecutout", {"length": 17}, r"length as an int must be in \[1, 16\]"),
            ("cutout", {"size": 200}, r"size \(height\) as an int must be in \[1, 32\]"),
            ("cutout", {"size": [8, 40]}, r"size \(width\) as an int must be in \[1, 32\]"),
        ],
    )
    def test_region_larger_than_the_clip(self, tables, tmp_path, mix, kwargs, match):
        with pytest.raises(ConfigError, match=rf"aug\.mix_kwargs .*data\.clip_len=16.*{match}"):
            _cfg(tables, tmp_path, mix=mix, mix_kwargs=kwargs)

    @pytest.mark.parametrize(
        ("mix", "kwargs"),
        [("cutmix", {"length": 0.25}), ("framecutmix", {"size": 0.5}), ("none", {"alpha": 1})],
    )
    def test_unknown_kwarg_for_the_method(self, tables, tmp_path, mix, kwargs):
        """Bug: ``mix=none`` with kwargs was silently ignored, others failed in the trainer."""
        with pytest.raises(ConfigError, match=r"unexpected keyword argument"):
            _cfg(tables, tmp_path, mix=mix, mix_kwargs=kwargs)

    def test_bad_value(self, tables, tmp_path):
        with pytest.raises(ConfigError, match=r"aug\.mix_kwargs \{'alpha': -1\}.*alpha"):
            _cfg(tables, tmp_path, mix="fademixup", mix_kwargs={"alpha": -1})

    @pytest.mark.parametrize(
        "ra", [{"magnitude": 100}, {"num_ops": -1}, {"mode": "sideways"}, {"ops": ["Warp"]}]
    )
    def test_bad_randaugment_values(self, tables, tmp_path, ra):
        """Bug: only the keys were checked; values failed when the trainer built RandAugment-T."""
        with pytest.raises(ConfigError, match=r"aug\.randaugment"):
            _cfg(tables, tmp_path, randaugment=ra)

    def test_print_config_runs_the_same_validation(self, config, capsys):
        """Bug: ``--print-config`` printed (exit 0) a config that the run then rejected."""
        argv = ["-c", str(config), "--set", "aug.mix=framecutout", "aug.mix_kwargs={length: 99}"]
        assert main([*argv, "--print-config"]) == 2
        _one_line_error(capsys, "aug.mix_kwargs", "length")

    @pytest.mark.parametrize("mix", METHODS)
    def test_every_method_with_its_defaults_passes(self, tables, tmp_path, mix):
        """Valid input is unchanged: each method's defaults fit the smoke and paper clips."""
        assert _cfg(tables, tmp_path, mix=mix).aug.mix == mix
        paper = TrainConfig.from_dict({"aug": {"mix": mix}})
        assert (paper.data.clip_len, paper.data.crop_size) == (64, 160)

    def test_validation_leaves_the_global_rng_alone(self, tables, tmp_path):
        """Training stays bit-identical: the dummy draw uses a private generator only."""
        torch.manual_seed(123)
        before = torch.get_rng_state()
        _cfg(tables, tmp_path, mix="framecutmixup", randaugment={"num_ops": 2, "magnitude": 9})
        assert torch.equal(torch.get_rng_state(), before)


# ------------------------------------------------------------------ other config values


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("runtime.device=cuda:zero", "runtime.device"),
        ("runtime.device=cuda:-1", "runtime.device"),
        ("data.mean=[0.4, .nan, 0.4]", "data.mean"),
        ("data.std=[0.2, .inf, 0.2]", "data.std"),
    ],
)
def test_bad_values_name_the_key(config, override, key, capsys):
    """Bug: ``cuda:zero`` passed the ``startswith("cuda:")`` check and failed in torch; a NaN
    mean trained on NaN clips."""
    assert main(["-c", str(config), "--set", override, "--print-config"]) == 2
    _one_line_error(capsys, key)
