"""Multi-view evaluation (paper Section 4.1): softmax averaged over views, top-1/5, per class.

"For evaluation, we sample 10 clips uniformly along the temporal axis and average softmax
predictions. For the challenge, following [12], we sample 30 clips" (10 clips × 3 crops).
Each process scores its shard of the videos; the scores are gathered, duplicates from the
sampler's padding removed, and rank 0 writes ``metrics.json`` and the per-video ``scores.csv``
(``video, label, score_0 … score_{K-1}``), which the ensemble tables average.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from tempaug.train import distributed as D
from tempaug.train.checkpoint import load_checkpoint, write_csv, write_json
from tempaug.train.config import ConfigError, DataConfig, TrainConfig
from tempaug.train.loaders import (
    build_eval_dataset,
    device_batches,
    load_tables,
    make_loader,
    prepare_clips,
)
from tempaug.train.runtime import autocast_dtype, build_network, configure_backends

__all__ = [
    "Predictions",
    "compute_metrics",
    "evaluate",
    "predict",
    "write_scores",
]


@dataclass(frozen=True)
class Predictions:
    """Per-video predictions, sorted by dataset index.

    Attributes:
        indices: int64 ``(N,)`` dataset row indices (unique, ascending).
        labels: int64 ``(N,)`` ground-truth labels.
        scores: float32 ``(N, K)`` softmax averaged over the views of each video.
    """

    indices: torch.Tensor
    labels: torch.Tensor
    scores: torch.Tensor


@torch.inference_mode()
def predict(
    model: nn.Module,
    loader: DataLoader,
    *,
    ctx: D.DistContext,
    data: DataConfig,
    amp_dtype: torch.dtype | None = None,
    progress: bool = False,
    desc: str = "eval",
) -> Predictions:
    """Score every video of ``loader`` (eval-mode items ``(views, label, index)``).

    Args:
        model: classifier taking normalized ``(N, T, C, H, W)`` clips; put in eval mode here
            (and left there).
        loader: yields uint8 views ``(B, V, T, C, H, W)``, labels ``(B,)``, indices ``(B,)``.
        ctx: process context; shards of all ranks are gathered.
        data: normalization statistics.
        amp_dtype: autocast dtype on CUDA, or ``None``.
        progress: show a tqdm bar.
        desc: bar label.

    Returns:
        :class:`Predictions` over the whole dataset (identical on every rank).
    """
    model.eval()
    device = ctx.device
    autocast = (
        torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None else nullcontext()
    )
    all_idx, all_lab, all_scores = [], [], []
    batches = device_batches(loader, device)
    for views, labels, index in tqdm(
        batches, total=len(loader), desc=desc, leave=False, disable=not progress
    ):
        b, v = views.shape[:2]
        x = prepare_clips(views.flatten(0, 1), device, data)
        with autocast:
            logits = model(x)
        probs = logits.float().softmax(-1).view(b, v, -1).mean(1)
        all_scores.append(probs)
        all_lab.append(labels.to(device))
        all_idx.append(index.to(device))
    scores = torch.cat(all_scores)
    labels = torch.cat(all_lab)
    indices = torch.cat(all_idx)
    scores = D.all_gather_cat(scores, ctx)
    labels = D.all_gather_cat(labels, ctx)
    indices = D.all_gather_cat(indices, ctx)
    indices = indices.cpu()
    order = torch.argsort(indices, stable=True)
    indices = indices[order]
    keep = torch.ones_like(indices, dtype=torch.bool)
    keep[1:] = indices[1:] != indices[:-1]  # padding duplicates from DistributedSampler
    sel = order[keep]
    return Predictions(indices=indices[keep], labels=labels.cpu()[sel], scores=scores.cpu()[sel])


def compute_metrics(scores: torch.Tensor, labels: torch.Tensor) -> dict[str, float | int]:
    """Top-1, top-5 and mean per-class accuracy, in percent.

    Args:
        scores: ``(N, K)`` class scores (any monotone score: logits or probabilities).
        labels: ``(N,)`` int labels in ``[0, K)``.

    Returns:
        ``{"top1", "top5", "mean_class_acc", "num_videos"}``; top-5 is top-min(5, K); the
        per-class mean is over the classes present in ``labels``.

    Raises:
        ValueError: shapes disagree or ``N == 0``.
    """
    if scores.ndim != 2 or labels.ndim != 1 or scores.shape[0] != labels.shape[0]:
        raise ValueError(
            f"scores must be (N, K) and labels (N,), got {tuple(scores.shape)} and "
            f"{tuple(labels.shape)}"
        )
    n, k = scores.shape
    if n == 0:
        raise ValueError("cannot compute metrics of 0 videos")
    labels = labels.long()
    topk = scores.topk(min(5, k), dim=1).indices
    hit1 = topk[:, 0] == labels
    hit5 = (topk == labels[:, None]).any(1)
    present = labels.unique()
    per_class = torch.stack([hit1[labels == c].float().mean() for c in present])
    return {
        "top1": 100.0 * hit1.float().mean().item(),
        "top5": 100.0 * hit5.float().mean().item(),
        "mean_class_acc": 100.0 * per_class.mean().item(),
        "num_videos": n,
    }


def write_scores(
    path: str | Path, videos: Sequence[str], labels: torch.Tensor, scores: torch.Tensor
) -> Path:
    """Atomically write ``video,label,score_0..score_{K-1}`` (float32 round-trip precision)."""
    k = scores.shape[1]
    header = ["video", "label", *(f"score_{j}" for j in range(k))]
    rows = (
        [video, int(label), *(format(float(s), ".9g") for s in row)]
        for video, label, row in zip(videos, labels.tolist(), scores.tolist(), strict=True)
    )
    return write_csv(path, header, rows)


def _progress_enabled(cfg: TrainConfig, ctx: D.DistContext) -> bool:
    return cfg.runtime.progress and ctx.is_main and sys.stderr.isatty()


def run_final_evaluation(
    model: nn.Module,
    cfg: TrainConfig,
    table: Any,
    ctx: D.DistContext,
    out_dir: Path,
    *,
    extra: dict[str, Any] | None = None,
    write_metrics: bool = True,
) -> dict[str, Any]:
    """Evaluate with ``cfg.eval.num_clips × num_crops`` views; rank 0 writes the outputs.

    Returns:
        The metrics dict (with ``extra`` merged in; written to ``out_dir/metrics.json`` when
        ``write_metrics``); per-video scores always go to ``out_dir/scores.csv``.
    """
    start = time.perf_counter()
    dataset = build_eval_dataset(
        cfg, table, num_clips=cfg.eval.num_clips, num_crops=cfg.eval.num_crops
    )
    loader = make_loader(
        dataset,
        batch_size=cfg.eval.batch_size,
        train=False,
        ctx=ctx,
        seed=cfg.seed,
        num_workers=cfg.data.num_workers,
    )
    preds = predict(
        model,
        loader,
        ctx=ctx,
        data=cfg.data,
        amp_dtype=autocast_dtype(ctx.device, cfg.runtime.amp),
        progress=_progress_enabled(cfg, ctx),
        desc="test",
    )
    metrics: dict[str, Any] = compute_metrics(preds.scores, preds.labels)
    metrics.update(
        num_clips=cfg.eval.num_clips,
        num_crops=cfg.eval.num_crops,
        num_classes=int(preds.scores.shape[1]),
        eval_seconds=time.perf_counter() - start,
    )
    if extra:
        metrics.update(extra)
    if ctx.is_main:
        videos = dataset.videos
        write_scores(
            out_dir / "scores.csv",
            [videos[i] for i in preds.indices.tolist()],
            preds.labels,
            preds.scores,
        )
        if write_metrics:
            write_json(out_dir / "metrics.json", metrics)
    return metrics


def evaluate(
    cfg: TrainConfig, checkpoint: str | Path, *, out_dir: str | Path | None = None
) -> dict[str, Any]:
    """Evaluate a checkpoint on ``cfg.data.val_table`` with multi-view testing.

    The model architecture comes from the checkpoint (``model_name``/``model_kwargs``); the
    data geometry and views from ``cfg``. Works under ``torchrun`` (the videos are sharded).

    Args:
        cfg: run configuration (``data.val_table`` and ``data.video_root`` must be set).
        checkpoint: a ``.pt`` file written by :func:`tempaug.train.fit`.
        out_dir: where ``metrics.json`` and ``scores.csv`` go (default ``cfg.out_dir``).

    Returns:
        ``{"top1", "top5", "mean_class_acc", "num_videos", "num_clips", "num_crops",
        "num_classes", "epoch", "checkpoint", ...}`` (accuracies in percent).

    Raises:
        ConfigError: missing validation table or a class-count mismatch with the checkpoint.
        ValueError: the checkpoint file is missing or not a tempaug checkpoint.
    """
    cfg.validate()
    ctx = D.setup(cfg.runtime.device)
    try:
        configure_backends(cfg, ctx.device)
        state = load_checkpoint(checkpoint, map_location="cpu")
        tables = load_tables(cfg.data, need_train=False)
        if tables.val is None:
            raise ConfigError("data.val_table must be set to evaluate")
        spec_kwargs = dict(state["model_kwargs"])
        if spec_kwargs["num_classes"] != tables.num_classes:
            raise ConfigError(
                f"checkpoint has {spec_kwargs['num_classes']} classes but data has "
                f"{tables.num_classes}"
            )
        model = build_network(
            state["model_name"],
            spec_kwargs,
            ctx.device,
            channels_last=cfg.runtime.channels_last,
        )
        model.load_state_dict(state["model"])
        out = Path(out_dir) if out_dir is not None else Path(cfg.out_dir)
        return run_final_evaluation(
            model,
            cfg,
            tables.val,
            ctx,
            out,
            extra={"epoch": int(state["epoch"]), "checkpoint": str(checkpoint)},
        )
    finally:
        D.teardown(ctx)
