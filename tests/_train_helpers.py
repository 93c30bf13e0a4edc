"""Helpers for the tempaug.train tests: a tiny generated dataset and smoke configurations.

Run as a script (under ``torchrun``) it is ``python -m tempaug.train`` with gradient
synchronisation switched off (DistributedDataParallel replaced by the bare module): the negative
control of the DDP test.

The dataset is written once per session by ``tempaug.data.synthetic.generate`` in the HMDB-51
layout (real AVI files + official split lists) and its split tables are saved as CSV so that
subprocess runs (``python -m tempaug.train``, ``torchrun``) read the same files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tempaug.data.splits import write_table
from tempaug.data.synthetic import generate

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TinyData:
    """A generated dataset and its train/val tables (CSV paths)."""

    video_root: Path
    train_csv: Path
    val_csv: Path
    num_train: int
    num_val: int
    num_classes: int


#: Generated classes kept for the tests: ``move_up`` (0) and ``appear`` (6), relabelled 0 and 1.
#: A pair a small SlowFast separates in ~300 steps (92-97 % validation top-1 over seeds 0-2 in
#: 20 epochs on 120 training videos), unlike the time-reversal pairs, which need far more
#: training. Every video has its own scene, so fewer videos are memorised, not generalised from
#: (40 training videos: 62-71 %).
CLASSES = (0, 6)


def make_tiny_data(root: Path, *, clips_per_class: int = 120) -> TinyData:
    """Generate (or reuse) a small HMDB-51-layout dataset of 32×42 videos and write its tables.

    HMDB-51 layout, split 1, ``plain`` scenes: ~50 % of each class trains, ~30 % validates;
    120 / 72 videos.
    """
    ds = generate(
        root / "videos",
        "hmdb51",
        num_classes=max(CLASSES) + 1,
        clips_per_class=clips_per_class,
        frames=32,
        size=32,
        seed=0,
        scene="plain",
    )
    table = ds.split(1)
    table = table[table.label.isin(CLASSES)].copy()
    table["label"] = table["label"].map({c: i for i, c in enumerate(CLASSES)}).astype("int64")
    table.attrs = {}
    train = table[table.subset == "train"].reset_index(drop=True)
    val = table[table.subset == "test"].reset_index(drop=True)
    train_csv = write_table(train, root / "train.csv")
    val_csv = write_table(val, root / "val.csv")
    return TinyData(ds.video_root, train_csv, val_csv, len(train), len(val), len(CLASSES))


def smoke_config(tiny: TinyData, out_dir: Path, /, **sections: dict[str, Any]) -> dict[str, Any]:
    """A nested config dict for a seconds-long CPU run of the smoke model on ``tiny``."""
    cfg: dict[str, Any] = {
        "seed": 0,
        "out_dir": str(out_dir),
        "data": {
            "train_table": str(tiny.train_csv),
            "eval_table": str(tiny.val_csv),
            "video_root": str(tiny.video_root),
            "clip_len": 16,
            "frame_stride": 2,
            "crop_size": 32,
            "scale_range": [32, 36],
            "num_workers": 0,
        },
        "model": {"name": "slowfast_smoke", "kwargs": {"dropout": 0.0}},
        "optim": {"epochs": 3, "batch_size": 8, "lr": 2e-3, "warmup_epochs": 1},
        "eval": {"num_clips": 2, "num_crops": 1, "batch_size": 8, "every": 1},
        "runtime": {"device": "cpu", "save_every": 1, "progress": False},
    }
    for name, values in sections.items():
        if isinstance(cfg.get(name), dict):
            cfg[name] = {**cfg[name], **values}
        else:
            cfg[name] = values
    return cfg


def write_yaml(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def subprocess_env() -> dict[str, str]:
    """Environment for child runs: one intra-op thread each (deterministic, no oversubscription)."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


def train_cli(config: Path, *overrides: str) -> list[str]:
    """``python -m tempaug.train --config CONFIG --set ...`` as an argv list."""
    cmd = [sys.executable, "-m", "tempaug.train", "--config", str(config)]
    if overrides:
        cmd += ["--set", *overrides]
    return cmd


def run_cli(cmd: list[str], *, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=timeout
    )


def _main_without_gradient_sync(argv: list[str]) -> int:
    """``tempaug.train``'s CLI with DDP replaced by the bare module (no gradient all-reduce)."""
    import tempaug.train.trainer as trainer_mod
    from tempaug.train.__main__ import main

    trainer_mod.DistributedDataParallel = lambda module, **kwargs: module
    return main(argv)


if __name__ == "__main__":
    sys.exit(_main_without_gradient_sync(sys.argv[1:]))
