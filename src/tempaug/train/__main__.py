"""Command line: ``python -m tempaug.train --config run.yaml [--set key=value ...]``.

Trains (``fit``) by default, or evaluates a checkpoint with ``--evaluate PATH``, or writes a
checkpoint's model weights alone as code-free ``safetensors`` with
``--export-weights CHECKPOINT OUT.safetensors`` (no config needed). Works under
``torchrun --nproc_per_node N -m tempaug.train ...`` (DDP). Configuration errors (including
``aug.mix_kwargs`` or ``aug.randaugment`` that cannot work on the configured clips, and split
tables that are missing or malformed), unreadable or refused checkpoints and contradictory
options exit with status 2 and a one-line message naming the bad key or file, before any
training or evaluation starts; ``--print-config`` runs the same configuration checks. A
non-finite loss exits with status 3.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

import yaml

from tempaug.train.config import ConfigError, TrainConfig

__all__ = ["main"]


def _error(exc: BaseException) -> str:
    """``error: <message>`` on one line (multi-line messages are joined)."""
    return "error: " + " ".join(str(exc).split())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tempaug.train",
        description="Train or evaluate SlowFast with the paper's recipe (Kim et al. 2020, §4.1).",
    )
    p.add_argument("--config", "-c", help="YAML file with data/model/optim/aug/eval/runtime")
    p.add_argument(
        "--set",
        "-s",
        dest="overrides",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. optim.lr=1e-3 aug.mix=fademixup (repeatable)",
    )
    p.add_argument("--evaluate", metavar="CHECKPOINT", help="evaluate this checkpoint instead")
    p.add_argument("--eval-out", metavar="DIR", help="output folder for --evaluate")
    p.add_argument(
        "--export-weights",
        nargs=2,
        metavar=("CHECKPOINT", "OUT"),
        help="write CHECKPOINT's model weights alone to OUT as safetensors (shareable) and exit",
    )
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    return p


def _check_data(cfg: TrainConfig, *, train: bool) -> None:
    """Read the tables and build (without reading a video) the datasets a run builds, so a
    malformed table or clip geometry is a :class:`ConfigError` (exit 2) before the model is."""
    from tempaug.train.loaders import build_eval_dataset, build_train_dataset, load_tables

    try:
        tables = load_tables(cfg.data, need_train=train)
        if train and tables.train is not None:
            build_train_dataset(cfg, tables.train)
        if tables.eval is not None:
            n = cfg.eval.num_clips
            build_eval_dataset(cfg, tables.eval, num_clips=n, num_crops=cfg.eval.num_crops)
    except ConfigError:
        raise
    except ValueError as exc:  # read_table / VideoClipDataset errors name the file or column
        raise ConfigError(f"data: {exc}") from None


def _check_resume(cfg: TrainConfig) -> None:
    """``runtime.resume=true``: the checkpoint the trainer will continue from must load
    (``"auto"`` starts afresh from an unreadable one by design)."""
    from pathlib import Path

    from tempaug.train.checkpoint import load_checkpoint

    path = Path(cfg.out_dir) / "checkpoints" / "last.pt"
    if cfg.runtime.resume is True and path.exists():
        try:
            load_checkpoint(path, map_location="cpu")
        except ValueError as exc:
            raise ConfigError(f"runtime.resume=true: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    args = _parser().parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING,
        format="%(asctime)s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    if args.export_weights:
        from tempaug.train.checkpoint import export_weights

        src, dst = args.export_weights
        try:
            path = export_weights(src, dst)
        except (ValueError, OSError) as exc:
            print(_error(exc), file=sys.stderr)
            return 2
        print(json.dumps({"checkpoint": src, "weights": str(path)}))
        return 0
    try:
        if args.eval_out and not args.evaluate:
            raise ConfigError("--eval-out needs --evaluate CHECKPOINT (it is where that writes)")
        cfg = TrainConfig.from_yaml(args.config, args.overrides)
        if args.print_config:
            print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
            return 0
        from tempaug.train.evaluate import evaluate
        from tempaug.train.trainer import NonFiniteLossError, fit

        _check_data(cfg, train=not args.evaluate)
        if not args.evaluate:
            _check_resume(cfg)
        try:
            if args.evaluate:
                metrics = evaluate(cfg, args.evaluate, out_dir=args.eval_out)
            else:
                metrics = fit(cfg)
        except NonFiniteLossError as exc:
            print(_error(exc), file=sys.stderr)
            return 3
    except ConfigError as exc:
        print(_error(exc), file=sys.stderr)
        return 2
    if rank == 0:
        print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
