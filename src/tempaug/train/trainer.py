"""The training loop of paper Section 4.1, with AMP, DDP, exact resume and multi-view testing.

Recipe (defaults of :class:`~tempaug.train.config.TrainConfig`): SlowFast-50 from scratch on
64×160² clips, batch 16, Adam (lr 1e-4, weight decay 1e-5), linear warm-up then cosine decay
(``SequentialLR(LinearLR, CosineAnnealingLR)`` stepped every iteration), 150 epochs, 10-clip
evaluation. The authors' code warms up for ``epochs // 10`` epochs and steps its scheduler per
epoch; we keep their warm-up length and step per iteration (smoother, same shape).

One iteration: uint8 clips → device → [RandAugment-T on the device batch] → normalize →
[delete/mix on the full-rate clip, soft targets] → model (which only then splits the clip into
the slow and fast pathways — PySlowFast's loop mixes the slow pathway alone) → soft-target
cross-entropy → backward → Adam → scheduler. Training top-1 counts a prediction as correct when
it hits the dominant target (``argmax`` of the soft target), as in the official code.

Outputs (rank 0 only) in ``out_dir``: ``config.yaml``, ``history.csv`` (one row per epoch),
``checkpoints/last.pt`` (+ ``epoch_XXXX.pt``), ``metrics.json`` and ``scores.csv`` (final
multi-view evaluation) — results only, identical when an identical run is repeated — and, apart
from them, ``timings.json`` (wall-clock: per-epoch seconds, data-wait fraction, clips/s, train
and evaluation totals) and ``train.log`` (the one-line epoch reports, also printed to the
process's stderr so that a run without a terminal — DVC, papermill — shows progress). All but ``train.log`` (appended)
are written atomically.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, LRScheduler, SequentialLR
from tqdm import tqdm

from tempaug.augment._labels import check_label_values, one_hot_unchecked
from tempaug.train import distributed as D
from tempaug.train.checkpoint import (
    atomic_write_text,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
    write_csv,
    write_json,
)
from tempaug.train.config import ConfigError, DataConfig, TrainConfig, run_differences
from tempaug.train.evaluate import compute_metrics, predict, run_final_evaluation
from tempaug.train.loaders import (
    DECODE_FAILURES,
    build_eval_dataset,
    build_randaugment,
    build_train_dataset,
    device_batches,
    load_tables,
    loader_placement,
    make_loader,
    prepare_clips,
)
from tempaug.train.runtime import autocast_dtype, build_network, configure_backends, model_spec

__all__ = [
    "HISTORY_COLUMNS",
    "TIMING_COLUMNS",
    "NonFiniteLossError",
    "build_scheduler",
    "count_decode_failures",
    "fit",
    "soft_target_loss",
    "training_batch",
]

log = logging.getLogger("tempaug.train")

HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "train_top1",
    "eval_top1",
    "eval_top5",
    "lr",
)
"""Columns of ``history.csv``: accuracies in percent (``eval_*`` empty when not evaluated),
``lr`` of the epoch's last iteration. Wall-clock timings are in ``timings.json`` instead."""

TIMING_COLUMNS = ("epoch", "seconds", "train_seconds", "data_wait", "clips_per_s")
"""Per-epoch entries of ``timings.json``: epoch wall time (training + validation), the training
loop's wall time, ``data_wait`` = fraction of it spent blocked on the DataLoader (rank 0),
training clips per second over all processes."""

_RESULT_FILES = ("history.csv", "metrics.json", "scores.csv", "timings.json", DECODE_FAILURES)
_TIMING_KEYS = ("seconds", "eval_seconds")


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the message names the epoch and step."""


def count_decode_failures(path: Path) -> dict[str, int]:
    """Videos that failed to decode during a run, by phase: ``{"train": n, "eval": m}``.

    Read from the run's ``decode_failures.csv`` (one line per failed item, written by the
    datasets of every worker and rank); a run never stops on such a failure (``data.on_error``
    ``"skip"``), so this count is how it becomes visible (``metrics.json``).
    """
    counts = {"train": 0, "eval": 0}
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                if row and row[0] in counts:
                    counts[row[0]] += 1
    return counts


def soft_target_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with probability targets, ``mean_b sum_k -t_bk log softmax(z_b)_k``.

    Args:
        logits: ``(B, K)`` (computed in float32 whatever the autocast dtype).
        targets: ``(B, K)`` rows summing to 1 (one-hot or mixed, paper Section 3.2).

    Returns:
        Scalar float32 loss.
    """
    return F.cross_entropy(logits.float(), targets.float())


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    *,
    total_steps: int,
    warmup_steps: int,
    start_factor: float,
    min_lr: float,
) -> LRScheduler:
    """Linear warm-up to the base lr, then cosine decay to ``min_lr``, per iteration.

    Args:
        optimizer: the optimizer (its lr is the peak lr).
        total_steps: iterations of the whole run.
        warmup_steps: warm-up iterations (0 = cosine only).
        start_factor: lr factor at the first warm-up iteration.
        min_lr: lr reached at the last iteration.

    Returns:
        ``SequentialLR(LinearLR, CosineAnnealingLR)`` (or a bare ``CosineAnnealingLR``).
    """
    if total_steps < 1 or not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"need 0 <= warmup_steps < total_steps, got {warmup_steps} and {total_steps}"
        )
    cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    if warmup_steps == 0:
        return cosine
    warm = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    return SequentialLR(optimizer, [warm, cosine], milestones=[warmup_steps])


def training_batch(
    clips: torch.Tensor,
    labels: torch.Tensor,
    *,
    device: torch.device,
    data: DataConfig,
    num_classes: int,
    randaugment: Any | None = None,
    mixer: Any | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn a loader batch into model input and soft targets (one training iteration's prep).

    uint8 clips go to ``device`` → optional RandAugment-T on the device batch → normalization →
    optional delete/mix method (paper Section 3.2) on the *full-rate* clip. The model splits
    pathways only afterwards, so both pathways see the same mixed video.

    Args:
        clips: uint8 ``(B, T, C, H, W)``.
        labels: int64 ``(B,)``.
        device: compute device.
        data: normalization statistics.
        num_classes: ``K``.
        randaugment: device-side RandAugment-T or ``None``.
        mixer: an object from ``tempaug.augment.build`` or ``None``.
        generator: CPU generator for RandAugment-T and the mixer.

    Returns:
        ``(x, targets)``: float32 ``(B, T, C, H, W)`` on ``device`` and float32 ``(B, K)`` rows
        summing to 1.
    """
    x = prepare_clips(clips, device, data, randaugment=randaugment, generator=generator)
    if labels.device.type == "cpu":  # validate while the values are still on the host
        check_label_values(labels, num_classes)
    y = labels.to(device, non_blocking=True)
    targets = y
    if mixer is not None:
        x, targets = mixer(x, y, generator=generator)
    if targets.ndim == 1:
        targets = one_hot_unchecked(targets, num_classes)
    return x, targets


def _derived_seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1, dtype=np.uint64)[0] >> 1)


def _host_checked(batches: Iterable[Any], num_classes: int) -> Iterator[Any]:
    """Validate each batch's labels on the host, before ``device_batches`` moves them.

    Mixing then uses the unchecked one-hot on the device (no ``labels.min()`` host sync).
    """
    for batch in batches:
        labels = batch[1]
        if isinstance(labels, torch.Tensor):
            check_label_values(labels, num_classes)
        yield batch


def _table_fingerprint(table: Any) -> str | None:
    """SHA-256 of a split table's ``video`` and ``label`` columns (``None`` without a table)."""
    if table is None:
        return None
    import pandas as pd

    cols = [c for c in ("video", "label") if c in table.columns] or list(table.columns)
    hashed = pd.util.hash_pandas_object(table[cols], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def _format_eta(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


class _Trainer:
    """Holds the state of one training run (one process of a possibly distributed job)."""

    def __init__(self, cfg: TrainConfig, ctx: D.DistContext) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.out_dir = Path(cfg.out_dir)
        self.ckpt_dir = self.out_dir / "checkpoints"
        self.device = ctx.device
        configure_backends(cfg, self.device)
        self._seed_globals()

        tables = load_tables(cfg.data)
        self.num_classes = tables.num_classes
        self.eval_table = tables.eval
        self.data_fingerprint = {
            "train": _table_fingerprint(tables.train),
            "eval": _table_fingerprint(tables.eval),
        }
        self.train_ds = build_train_dataset(
            cfg, tables.train, failure_log=self.out_dir / DECODE_FAILURES
        )
        if cfg.optim.batch_size % ctx.world_size:
            raise ConfigError(
                f"optim.batch_size={cfg.optim.batch_size} must be divisible by the number of "
                f"processes ({ctx.world_size})"
            )
        self.batch_per_rank = cfg.optim.batch_size // ctx.world_size
        self.train_loader = make_loader(
            self.train_ds,
            batch_size=self.batch_per_rank,
            train=True,
            **loader_placement(ctx),
            seed=cfg.seed,
            num_workers=cfg.data.num_workers,
        )
        self.steps_per_epoch = len(self.train_loader)
        if self.steps_per_epoch < 1:
            raise ConfigError(
                f"data.train_table has {len(self.train_ds)} videos, fewer than one batch per "
                f"process (optim.batch_size={cfg.optim.batch_size}, {ctx.world_size} process(es))"
            )
        self.val_loader = None
        if self.eval_table is not None and cfg.eval.every > 0:
            val_ds = build_eval_dataset(
                cfg,
                self.eval_table,
                num_clips=cfg.eval.epoch_num_clips,
                num_crops=1,
                cache=True,
                failure_log=self.out_dir / DECODE_FAILURES,
            )
            self.val_loader = make_loader(
                val_ds,
                batch_size=cfg.eval.batch_size,
                train=False,
                **loader_placement(ctx),
                seed=cfg.seed,
                num_workers=cfg.data.num_workers,
            )

        self.model_name, self.model_kwargs = model_spec(cfg, self.num_classes)
        self.model = build_network(
            self.model_name,
            self.model_kwargs,
            self.device,
            channels_last=cfg.runtime.channels_last,
        )
        if ctx.distributed and self.device.type == "cuda" and cfg.runtime.sync_bn:
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        train_model: nn.Module = self.model
        if ctx.distributed:
            train_model = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        # Only the training step is compiled: evaluation runs eager, so train/eval mode,
        # grad mode and the last (smaller) evaluation batch do not trigger recompilations.
        self.train_model = torch.compile(train_model) if cfg.runtime.compile else train_model
        self.eval_model = self.model

        o = cfg.optim
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=o.lr, weight_decay=o.weight_decay
        )
        warmup_epochs = o.warmup_epochs if o.warmup_epochs is not None else o.epochs // 10
        self.scheduler = build_scheduler(
            self.optimizer,
            total_steps=o.epochs * self.steps_per_epoch,
            warmup_steps=warmup_epochs * self.steps_per_epoch,
            start_factor=o.warmup_start_factor,
            min_lr=o.min_lr,
        )
        self.amp_dtype = autocast_dtype(self.device, cfg.runtime.amp)
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=self.amp_dtype == torch.float16
        )

        self.randaug = build_randaugment(cfg) if cfg.aug.augment_on == "device" else None
        self.mixer = None
        if cfg.aug.mix != "none":
            from tempaug.augment import build

            try:
                self.mixer = build(cfg.aug.mix, num_classes=self.num_classes, **cfg.aug.mix_kwargs)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"aug.mix_kwargs: {exc}") from exc
        self.aug_gen = torch.Generator().manual_seed(_derived_seed(cfg.seed, 0xA06, ctx.rank))

        self.start_epoch = 0
        self.history: list[dict[str, Any]] = []
        self.timings: list[dict[str, Any]] = []
        self.last_saved: tuple[Path, int] | None = None
        self.progress = cfg.runtime.progress and ctx.is_main and sys.stderr.isatty()
        if cfg.runtime.resume == "auto":
            self._auto_resume()
        elif cfg.runtime.resume:
            self._maybe_resume()

    # ------------------------------------------------------------------ state
    def _seed_globals(self) -> None:
        s = _derived_seed(self.cfg.seed, 0x61B, self.ctx.rank)
        torch.manual_seed(s)  # also seeds every CUDA device (dropout)
        np.random.seed(s % 2**32)  # noqa: NPY002 - third-party code only; saved in checkpoints
        import random

        random.seed(s)

    def _generators(self) -> dict[str, torch.Generator]:
        return {"aug": self.aug_gen, "loader": self.train_loader.generator}

    def _checkpoint_state(self, epoch: int, rng: list[Any]) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "model_name": self.model_name,
            "model_kwargs": self.model_kwargs,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng,
            "world_size": self.ctx.world_size,
            "steps_per_epoch": self.steps_per_epoch,
            "history": list(self.history),
            "timings": list(self.timings),
            "config": self.cfg.to_dict(),
            "data_fingerprint": dict(self.data_fingerprint),
        }

    def _save(self, epoch: int) -> None:
        # Collective: every rank contributes its RNG state; rank 0 writes.
        rng = D.all_gather_objects(capture_rng_state(self.device, self._generators()), self.ctx)
        if self.ctx.is_main:
            state = self._checkpoint_state(epoch, rng)
            path = save_checkpoint(self.ckpt_dir / "last.pt", state)
            keep = self.cfg.runtime.keep_every
            if keep and epoch % keep == 0:
                save_checkpoint(self.ckpt_dir / f"epoch_{epoch:04d}.pt", state)
            self.last_saved = (path, epoch)
        D.barrier(self.ctx)

    def _report(self, message: str) -> None:
        """Rank 0: write ``message`` to the process's stderr and append it to ``train.log``.

        The process's own stderr (``sys.__stderr__``), not a notebook kernel's replacement: a
        run inside papermill under ``dvc repro`` shows its progress on the stage's terminal
        (ipykernel forwards the file descriptor's output to the notebook as well, where
        :mod:`tempaug.pipeline.executed` strips it, so that the executed notebook holds no
        speeds or ETAs). Time-stamped in ``train.log``.
        """
        if not self.ctx.is_main:
            return
        log.debug("%s", message)
        stream = sys.__stderr__ or sys.stderr
        if self.progress:
            tqdm.write(message, file=stream)
        else:
            print(message, file=stream, flush=True)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with (self.out_dir / "train.log").open("a") as fh:  # a log, not a result file
            fh.write(f"{stamp} {message}\n")

    def _run_differences(self, state: dict[str, Any]) -> list[str]:
        """Why checkpoint ``state`` is not this run (empty: the same run). The one definition
        both resume modes use: the run-defining config keys (:func:`run_differences`), the data
        tables' contents, the resolved model and the steps per epoch."""
        reasons = run_differences(state.get("config", {}), self.cfg.to_dict())
        if state.get("data_fingerprint") != self.data_fingerprint:
            reasons.append("data tables: contents changed")
        if (state.get("model_name"), state.get("model_kwargs")) != (
            self.model_name,
            self.model_kwargs,
        ):
            reasons.append("model: the resolved architecture changed")
        if not reasons and state.get("steps_per_epoch") != self.steps_per_epoch:
            reasons.append(
                f"steps_per_epoch: {state.get('steps_per_epoch')} -> {self.steps_per_epoch}"
            )
        return reasons

    def _auto_resume(self) -> None:
        """``runtime.resume="auto"``: resume when the saved run is this run, else start fresh."""
        path = self.ckpt_dir / "last.pt"
        if not path.is_file():
            self._report(f"resume=auto: no checkpoint at {path}, starting from scratch")
            return
        reasons: list[str]
        try:
            state = load_checkpoint(path, map_location="cpu")
        except ValueError as exc:
            reasons = [f"cannot load it ({exc})"]
        else:
            reasons = self._run_differences(state)
            if state.get("world_size") != self.ctx.world_size:  # auto: bit-identical or fresh
                reasons.append(f"world_size: {state.get('world_size')} -> {self.ctx.world_size}")
        if not reasons:
            self._resume_from(path, state)
            return
        self._report(
            f"resume=auto: {path} is from a different run, starting from scratch "
            f"(removing its checkpoints and results); differences: {'; '.join(reasons)}"
        )
        D.barrier(self.ctx)  # every rank has read the checkpoint before rank 0 removes it
        if self.ctx.is_main:
            shutil.rmtree(self.ckpt_dir, ignore_errors=True)
            shutil.rmtree(self.out_dir / "debug", ignore_errors=True)
            for name in _RESULT_FILES:
                (self.out_dir / name).unlink(missing_ok=True)
        D.barrier(self.ctx)

    def _maybe_resume(self) -> None:
        path = self.ckpt_dir / "last.pt"
        if not path.is_file():
            self._report(f"runtime.resume: no checkpoint at {path}, starting from scratch")
            return
        state = load_checkpoint(path, map_location="cpu")
        reasons = self._run_differences(state)
        if reasons:
            raise ConfigError(
                f"cannot resume from {path}: it holds a different run ({'; '.join(reasons)}); "
                "runtime.resume=auto starts such a run afresh, false overwrites it"
            )
        self._resume_from(path, state)

    def _resume_from(self, path: Path, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"]
        if state["world_size"] != self.ctx.world_size:
            log.warning(
                "resuming a %d-process run with %d processes: RNG streams are not identical",
                state["world_size"],
                self.ctx.world_size,
            )
        restore_rng_state(rng[min(self.ctx.rank, len(rng) - 1)], self.device, self._generators())
        self.start_epoch = int(state["epoch"])
        self.history = list(state["history"])
        self.timings = list(state.get("timings", []))
        self.last_saved = (path, self.start_epoch)
        self._report(f"resumed from {path} after epoch {self.start_epoch}")

    # ------------------------------------------------------------------ loop
    def _check_finite(
        self, pending: list[tuple[int, int, torch.Tensor, Any]], *, wait: bool
    ) -> None:
        """Raise :class:`NonFiniteLossError` for the first non-finite loss of ``pending``.

        Each entry is ``(epoch, step, host_loss, ready)``: on CUDA ``host_loss`` is a pinned host
        copy of the step's loss made with a non-blocking copy and ``ready`` the CUDA event
        recorded after it; on the CPU ``ready`` is the pending all-reduce (or ``None``). Without
        ``wait`` only the losses that have already arrived are read, so the loop never waits for
        the GPU or the other ranks (issue 26); the epoch end passes ``wait=True``. Checked
        entries are removed.
        """
        while pending:
            epoch, step, host_loss, ready = pending[0]
            if isinstance(ready, torch.cuda.Event):
                if not wait and not ready.query():
                    return
                ready.synchronize()
            elif ready is not None:  # an async all-reduce of a CPU loss (gloo)
                if not wait and not ready.is_completed():
                    return
                ready.wait()
            pending.pop(0)
            value = float(host_loss)
            if not np.isfinite(value):
                kept = (
                    f"the last good checkpoint {self.last_saved[0]} (epoch {self.last_saved[1]}) "
                    "is kept"
                    if self.last_saved is not None
                    else "no checkpoint had been written yet"
                )
                raise NonFiniteLossError(
                    f"non-finite training loss ({value}) at epoch {epoch + 1}, step {step + 1} of "
                    f"{self.steps_per_epoch}; training stopped and {kept}"
                )

    def _queue_loss(
        self, pending: list[tuple[int, int, torch.Tensor, Any]], epoch: int, step: int, loss: Any
    ) -> None:
        """Queue a non-blocking host copy of the (all-reduced) step loss for ``_check_finite``."""
        global_loss = loss.detach().float().clone()
        handle = None
        if self.ctx.distributed:
            handle = torch.distributed.all_reduce(global_loss, async_op=True)
        if global_loss.device.type != "cuda":
            pending.append((epoch, step, global_loss, handle))
            return
        if handle is not None:
            handle.wait()  # NCCL: the current stream waits for the all-reduce, the host does not
        host = torch.empty((), dtype=torch.float32, pin_memory=True)
        host.copy_(global_loss, non_blocking=True)
        ready = torch.cuda.Event()
        ready.record()
        pending.append((epoch, step, host, ready))

    def _train_epoch(self, epoch: int, batches: Iterable[Any] | None = None) -> dict[str, float]:
        """One epoch over ``self.train_loader`` (or over ``batches``, for benchmarks)."""
        cfg, ctx, device = self.cfg, self.ctx, self.device
        self.train_model.train()
        self.train_loader.sampler.set_epoch(epoch)
        self.train_ds.set_epoch(epoch)
        autocast = (
            torch.autocast(device.type, dtype=self.amp_dtype)
            if self.amp_dtype is not None
            else nullcontext()
        )
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        count = 0
        lr = self.optimizer.param_groups[0]["lr"]
        pending: list[tuple[int, int, torch.Tensor, Any]] = []
        seen: list[torch.Tensor] = []
        bar = tqdm(
            device_batches(
                _host_checked(self.train_loader if batches is None else batches, self.num_classes),
                device,
            ),
            total=self.steps_per_epoch if batches is None else None,
            desc=f"epoch {epoch + 1}",
            leave=False,
            disable=not self.progress,
            dynamic_ncols=True,
        )
        wait = 0.0
        loop_start = ready = time.perf_counter()
        for step, (clips, labels, index) in enumerate(bar):
            wait += time.perf_counter() - ready  # blocked on the loader
            if cfg.runtime.debug_indices:
                seen.append(index.clone())
            x, targets = training_batch(
                clips,
                labels,
                device=device,
                data=cfg.data,
                num_classes=self.num_classes,
                randaugment=self.randaug,
                mixer=self.mixer,
                generator=self.aug_gen,
            )
            with autocast:
                logits = self.train_model(x)
            loss = soft_target_loss(logits, targets)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            lr = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
            batch = x.shape[0]
            with torch.no_grad():
                loss_sum += loss.detach().double() * batch
                correct += (logits.argmax(1) == targets.argmax(1)).sum()
            count += batch
            # Finiteness is read from non-blocking host copies once they have arrived (the
            # loop never waits for the GPU); the epoch end waits for the last ones.
            self._queue_loss(pending, epoch, step, loss)
            self._check_finite(pending, wait=False)
            ready = time.perf_counter()
        self._check_finite(pending, wait=True)
        loop_seconds = time.perf_counter() - loop_start
        if cfg.runtime.debug_indices:
            self._write_debug_indices(epoch, seen)
        totals = D.all_reduce_sum(
            torch.stack(
                [loss_sum, correct.double(), torch.tensor(float(count), device=device).double()]
            ),
            ctx,
        ).tolist()
        return {
            "train_loss": totals[0] / totals[2],
            "train_top1": 100.0 * totals[1] / totals[2],
            "lr": lr,
            "data_wait": wait / loop_seconds if loop_seconds > 0 else 0.0,
            "train_seconds": loop_seconds,
            "clips_per_s": totals[2] / loop_seconds if loop_seconds > 0 else 0.0,
        }

    def _write_debug_indices(self, epoch: int, seen: list[torch.Tensor]) -> None:
        path = self.out_dir / "debug" / f"rank{self.ctx.rank}_indices.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        values = torch.cat(seen).tolist() if seen else []
        with path.open("a") as fh:  # debug aid, appended per epoch (not a result file)
            fh.writelines(f"{epoch} {v}\n" for v in values)

    def _validate(self, epoch: int) -> dict[str, float]:
        every = self.cfg.eval.every
        due = self.val_loader is not None and (
            (epoch + 1) % every == 0 or epoch + 1 == self.cfg.optim.epochs
        )
        if not due:
            return {"eval_top1": float("nan"), "eval_top5": float("nan")}
        preds = predict(
            self.eval_model,
            self.val_loader,
            ctx=self.ctx,
            data=self.cfg.data,
            amp_dtype=self.amp_dtype,
            progress=self.progress,
            desc="val",
        )
        m = compute_metrics(preds.scores, preds.labels)
        return {"eval_top1": m["top1"], "eval_top5": m["top5"]}

    def _write_history(self) -> None:
        def fmt(v: Any) -> Any:
            if isinstance(v, float):
                return "" if not np.isfinite(v) else format(v, ".8g")
            return v

        write_csv(
            self.out_dir / "history.csv",
            HISTORY_COLUMNS,
            ([fmt(row[c]) for c in HISTORY_COLUMNS] for row in self.history),
        )

    def run(self) -> dict[str, Any]:
        cfg, ctx = self.cfg, self.ctx
        t0 = time.perf_counter()
        if ctx.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(
                self.out_dir / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False)
            )
        self._report(
            f"training {self.model_name} ({self.num_classes} classes) on {len(self.train_ds)} "
            f"videos, {self.steps_per_epoch} steps/epoch, {ctx.world_size} process(es), "
            f"device {self.device}, epochs {self.start_epoch + 1}-{cfg.optim.epochs}"
        )
        epochs = cfg.optim.epochs
        bar = tqdm(
            range(self.start_epoch, epochs),
            desc="epochs",
            initial=self.start_epoch,
            total=epochs,
            disable=not self.progress,
            dynamic_ncols=True,
        )
        session: list[float] = []
        for epoch in bar:
            e0 = time.perf_counter()
            stats = self._train_epoch(epoch)
            row: dict[str, Any] = {"epoch": epoch + 1}
            row.update(stats)
            row.update(self._validate(epoch))
            session.append(time.perf_counter() - e0)
            self.history.append({c: row[c] for c in HISTORY_COLUMNS})
            self.timings.append({**{c: stats.get(c) for c in TIMING_COLUMNS}, "epoch": epoch + 1})
            self.timings[-1]["seconds"] = session[-1]
            if ctx.is_main:
                self._write_history()
                self._write_timings(t0)
            if (epoch + 1) % cfg.runtime.save_every == 0 or epoch + 1 == epochs:
                self._save(epoch + 1)
            eta = sum(session) / len(session) * (epochs - epoch - 1)
            val = f" eval_top1={row['eval_top1']:.2f}" if np.isfinite(row["eval_top1"]) else ""
            self._report(
                f"epoch {epoch + 1}/{epochs} train_loss={row['train_loss']:.4f}{val} "
                f"lr={row['lr']:.3g} clips/s={row['clips_per_s']:.1f} "
                f"data_wait={100 * row['data_wait']:.0f}% eta={_format_eta(eta)}"
            )
        if cfg.runtime.debug_indices:
            self._write_param_hash()
        last = self.history[-1] if self.history else {}
        extra = {
            "epochs": epochs,
            "train_loss": last.get("train_loss"),
            "train_top1": last.get("train_top1"),
            "world_size": ctx.world_size,
            "model": self.model_name,
            "num_params": sum(p.numel() for p in self.model.parameters()),
        }
        eval_seconds = None
        if self.eval_table is not None:
            e0 = time.perf_counter()
            metrics = run_final_evaluation(
                self.eval_model,
                cfg,
                self.eval_table,
                ctx,
                self.out_dir,
                extra=extra,
                write_metrics=False,
            )
            eval_seconds = time.perf_counter() - e0
        else:
            metrics = dict(extra)
        for key in _TIMING_KEYS:  # wall-clock values go to timings.json only
            metrics.pop(key, None)
        D.barrier(ctx)  # every rank's failures are in the log
        metrics["decode_failures"] = count_decode_failures(self.out_dir / DECODE_FAILURES)
        if ctx.is_main:
            write_json(self.out_dir / "metrics.json", metrics)
            self._write_timings(t0, eval_seconds=eval_seconds)
            shown = " ".join(f"{k}={metrics[k]:.2f}" for k in ("top1", "top5") if k in metrics)
            self._report(
                f"final: {shown or 'no validation table'} ({_format_eta(time.perf_counter() - t0)})"
            )
        return metrics

    def _write_timings(self, t0: float, *, eval_seconds: float | None = None) -> None:
        write_json(
            self.out_dir / "timings.json",
            {
                "device": str(self.device),
                "world_size": self.ctx.world_size,
                "resumed_after_epoch": self.start_epoch,
                "train_seconds": sum(t["seconds"] for t in self.timings),
                "eval_seconds": eval_seconds,
                "session_seconds": time.perf_counter() - t0,
                "epochs": self.timings,
            },
        )

    def _write_param_hash(self) -> None:
        """Debug aid: SHA-256 of this rank's parameters (DDP keeps them identical on all ranks)."""
        h = hashlib.sha256()
        for name, p in self.model.named_parameters():
            h.update(name.encode())
            h.update(p.detach().cpu().contiguous().numpy().tobytes())
        path = self.out_dir / "debug" / f"rank{self.ctx.rank}_params.sha256"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, h.hexdigest() + "\n")


def fit(cfg: TrainConfig) -> dict[str, Any]:
    """Train (or resume) a model as configured and evaluate it with multi-view testing.

    Launched plainly it uses one process; under ``torchrun`` it joins the process group (DDP,
    NCCL on CUDA, gloo on CPU), shards the data, all-reduces metrics and writes outputs from
    rank 0 only.

    Args:
        cfg: the run configuration (validated again here).

    Returns:
        The final metrics (also in ``out_dir/metrics.json``): ``top1``, ``top5``,
        ``mean_class_acc`` (percent), ``num_videos``, ``num_clips``, ``num_crops``, ``epochs``,
        ``train_loss``, ``train_top1``, ``world_size``, ``model``, ``num_params`` (the
        evaluation keys only when ``data.eval_table`` is set). Deterministic given the config:
        wall-clock timings are in ``out_dir/timings.json``.

    Note:
        With ``data.num_workers > 0`` the loader workers start from a ``forkserver``, so a
        plain script calling ``fit`` needs the usual ``if __name__ == "__main__":`` guard (not
        needed in notebooks or with ``python -m tempaug.train``).

    Raises:
        ConfigError: invalid configuration (names the key).
        NonFiniteLossError: the loss became NaN/inf (names epoch and step; the last good
            checkpoint is kept).
    """
    cfg.validate()
    ctx = D.setup(cfg.runtime.device)
    try:
        return _Trainer(cfg, ctx).run()
    finally:
        D.teardown(ctx)
