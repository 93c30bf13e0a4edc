"""Split tables → datasets → DataLoaders, and the device-side batch preparation.

Clips leave the workers as uint8 ``(B, T, C, H, W)`` (4× less host→device traffic than float) and
are normalized on the device (:func:`tempaug.data.transforms.normalize`). RandAugment-T runs
either inside the dataset (``augment_on="worker"``: per clip, with the item's own generator
seeded from ``(seed, epoch, index)``) or on the uint8 device batch (``augment_on="device"``: with
the trainer's augmentation generator), always before normalization.

DataLoaders come from :func:`tempaug.data.datasets.make_loader` (re-exported here; the one
factory): a ``DistributedSampler`` in every case (one replica without DDP), so the order of an
epoch depends only on ``(seed, epoch)`` and the ranks of a DDP job see disjoint shards;
:func:`loader_placement` turns a :class:`DistContext` into its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import torch

from tempaug.data.cache import FrameCache, shared_frame_cache
from tempaug.data.datasets import VideoClipDataset, make_loader
from tempaug.data.splits import read_table
from tempaug.data.transforms import normalize
from tempaug.train.config import ConfigError, DataConfig, TrainConfig
from tempaug.train.distributed import DistContext

__all__ = [
    "DECODE_FAILURES",
    "Tables",
    "build_eval_dataset",
    "build_randaugment",
    "build_train_dataset",
    "device_batches",
    "load_tables",
    "loader_placement",
    "make_loader",
    "prepare_clips",
]


@dataclass(frozen=True)
class Tables:
    """The training and evaluation tables of a run and the class count."""

    train: pd.DataFrame | None
    eval: pd.DataFrame | None
    num_classes: int


def _read(value: Any, key: str) -> pd.DataFrame | None:
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        df = value
    else:
        path = Path(value)
        if not path.is_file():
            raise ConfigError(f"{key}: table file {str(path)!r} does not exist")
        df = read_table(path)
    missing = {"video", "label"} - set(df.columns)
    if missing:
        raise ConfigError(f"{key}: table lacks column(s) {sorted(missing)}")
    if len(df) == 0:
        raise ConfigError(f"{key}: table is empty")
    return df


def load_tables(data: DataConfig, *, need_train: bool = True) -> Tables:
    """Read ``data.train_table`` / ``data.eval_table`` and settle the number of classes.

    ``num_classes`` is ``data.num_classes`` if set, else the largest
    ``table.attrs["num_classes"]`` (set by :mod:`tempaug.data.splits`), else ``max(label) + 1``
    over both tables.

    Raises:
        ConfigError: a table is missing, unreadable or lacks ``video``/``label`` columns, or a
            label is out of range (the message names the config key).
    """
    train = _read(data.train_table, "data.train_table")
    val = _read(data.eval_table, "data.eval_table")
    if need_train and train is None:
        raise ConfigError("data.train_table must be set (a CSV path or a DataFrame)")
    if not data.video_root:
        raise ConfigError("data.video_root must be set")
    if not Path(data.video_root).is_dir():
        raise ConfigError(f"data.video_root {data.video_root!r} is not a directory")
    tables = [t for t in (train, val) if t is not None]
    if data.num_classes is not None:
        k = data.num_classes
    else:
        attrs = [int(t.attrs["num_classes"]) for t in tables if "num_classes" in t.attrs]
        k = max([*attrs, *(int(t["label"].max()) + 1 for t in tables)])
    for name, t in (("data.train_table", train), ("data.eval_table", val)):
        if t is not None and (int(t["label"].min()) < 0 or int(t["label"].max()) >= k):
            raise ConfigError(f"{name}: labels must lie in [0, num_classes={k})")
    if train is not None:
        train = train.copy()
        train.attrs["num_classes"] = k
    if val is not None:
        val = val.copy()
        val.attrs["num_classes"] = k
    return Tables(train=train, eval=val, num_classes=k)


def build_randaugment(cfg: TrainConfig) -> Any | None:
    """``tempaug.augment.RandAugmentT(**cfg.aug.randaugment)`` or ``None`` (paper Section 3.1)."""
    if cfg.aug.randaugment is None:
        return None
    from tempaug.augment import RandAugmentT

    try:
        return RandAugmentT(**cfg.aug.randaugment)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"aug.randaugment: {exc}") from exc


DECODE_FAILURES = "decode_failures.csv"
"""File in a run's ``out_dir`` where unreadable videos met during the run are recorded
(``mode,epoch,row,video,reason``); ``metrics.json`` counts them (``decode_failures``)."""


def _dataset_kwargs(data: DataConfig, seed: int) -> dict[str, Any]:
    return {
        "clip_len": data.clip_len,
        "frame_stride": data.frame_stride,
        "crop_size": data.crop_size,
        "output": "uint8",
        "mean": data.mean,
        "std": data.std,
        "on_error": data.on_error,
        "seed": seed,
    }


def _cache(cfg: TrainConfig) -> FrameCache | None:
    """The process's shared frame cache at ``data.cache_mb`` (``None`` when 0): the runs of a
    stage, one after another in one process, decode each video once between them."""
    return shared_frame_cache(cfg.data.cache_mb * 2**20) if cfg.data.cache_mb > 0 else None


def build_train_dataset(
    cfg: TrainConfig, table: pd.DataFrame, *, failure_log: str | Path | None = None
) -> VideoClipDataset:
    """The training dataset: random clip, scale jitter, crop, flip (+ RandAugment-T in workers).

    ``failure_log``: where unreadable videos are recorded (see :class:`VideoClipDataset`).
    """
    transform = build_randaugment(cfg) if cfg.aug.augment_on == "worker" else None
    return VideoClipDataset(
        table,
        cfg.data.video_root,
        mode="train",
        scale_range=cfg.data.scale_range,
        hflip_p=cfg.data.hflip_p,
        transform=transform,
        cache=_cache(cfg),
        failure_log=failure_log,
        **_dataset_kwargs(cfg.data, cfg.seed),
    )


def build_eval_dataset(
    cfg: TrainConfig,
    table: pd.DataFrame,
    *,
    num_clips: int,
    num_crops: int,
    cache: bool = False,
    eval_unit: Literal["video", "clip"] = "clip",
    failure_log: str | Path | None = None,
) -> VideoClipDataset:
    """An evaluation dataset: ``num_clips`` uniform clips × ``num_crops`` crops per video.

    Items are the ``num_crops`` views of one clip (``eval_unit="clip"``, what
    :func:`tempaug.train.evaluate.predict` batches) or all views of a video (``"video"``).
    ``cache=True`` reads through the process's shared ``data.cache_mb`` frame cache (for a
    dataset read every epoch, or videos other runs of the process read too).
    """
    return VideoClipDataset(
        table,
        cfg.data.video_root,
        mode="eval",
        num_clips=num_clips,
        num_crops=num_crops,
        eval_unit=eval_unit,
        cache=_cache(cfg) if cache else None,
        failure_log=failure_log,
        **_dataset_kwargs(cfg.data, cfg.seed),
    )


def loader_placement(ctx: DistContext) -> dict[str, Any]:
    """``rank``, ``world_size`` and ``pin_memory`` arguments of :func:`make_loader` for ``ctx``."""
    return {
        "rank": ctx.rank,
        "world_size": ctx.world_size,
        "pin_memory": ctx.device.type == "cuda",
    }


def device_batches(batches: Iterable[Any], device: torch.device) -> Iterator[Any]:
    """Yield ``(clips, labels, *rest)`` batches with clips and labels already on ``device``.

    On CUDA each batch is copied (non-blocking, from pinned memory) on a side stream when it
    is requested, i.e. while the GPU still runs the previous iteration's kernels, so the
    host→device copy overlaps compute instead of queueing before it; the compute stream then
    waits for the copy. Elsewhere batches pass through unchanged.
    """
    if device.type != "cuda":
        yield from batches
        return
    copy_stream = torch.cuda.Stream(device=device)
    for clips, labels, *rest in batches:
        with torch.cuda.stream(copy_stream):
            clips = clips.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
        compute = torch.cuda.current_stream(device)
        compute.wait_stream(copy_stream)
        clips.record_stream(compute)  # memory allocated on copy_stream, used on compute
        labels.record_stream(compute)
        yield (clips, labels, *rest)


def prepare_clips(
    clips: torch.Tensor,
    device: torch.device,
    data: DataConfig,
    *,
    randaugment: Any | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Move a uint8 batch to ``device``, optionally RandAugment-T it, and normalize.

    Args:
        clips: uint8 ``(B, T, C, H, W)`` (or ``(N, T, C, H, W)`` flattened eval views), on the
            host (non-blocking copy from pinned memory) or already on ``device``.
        device: target device.
        data: gives ``mean`` and ``std``.
        randaugment: device-side RandAugment-T, applied to the uint8 batch.
        generator: CPU generator for RandAugment-T's draws.

    Returns:
        float32 normalized clips on ``device``, same shape.
    """
    x = clips.to(device, non_blocking=True)
    if randaugment is not None:
        x = randaugment(x, generator=generator)
    return normalize(x, data.mean, data.std)
