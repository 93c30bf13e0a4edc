"""Multi-view evaluation (paper Section 4.1): softmax averaged over views, top-1/5, per class.

"For evaluation, we sample 10 clips uniformly along the temporal axis and average softmax
predictions. For the challenge, following [12], we sample 30 clips" (10 clips × 3 crops).
Evaluation batches views, not videos: a dataset item is one clip's ``num_crops`` views
(``VideoClipDataset(eval_unit="clip")``) and ``eval.batch_size`` counts such items, so a batch's
memory does not grow with ``num_clips × num_crops`` (a 4-video batch of the 30-view test was
≈ 590 MB, ×(workers × prefetch) in shared memory). Each process scores its shard of the views
and keeps each view's logits; they are gathered, duplicates from the sampler's padding removed,
and :func:`average_views` (the one multi-view average) gives the per-video scores. Rank 0
writes ``metrics.json`` and the per-video ``scores.csv`` (``video, label, score_0 …
score_{K-1}``), which the ensemble tables average.
"""

from __future__ import annotations

import os
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
    DECODE_FAILURES,
    build_eval_dataset,
    device_batches,
    load_tables,
    loader_placement,
    make_loader,
    prepare_clips,
)
from tempaug.train.runtime import autocast_dtype, build_network, configure_backends

__all__ = [
    "Predictions",
    "average_views",
    "compute_metrics",
    "evaluate",
    "predict",
    "view_batch",
    "view_ids",
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


def view_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Normalize an eval batch to ``(views, labels, videos, first_view)``.

    Accepts per-clip items ``(views (B, G, T, C, H, W), label, index, view)`` (``G`` views from
    view ``view`` on, see ``VideoClipDataset(eval_unit="clip")``), per-video items
    ``(views (B, V, T, C, H, W), label, index)`` (``first_view`` 0) and ``(B, T, C, H, W)``
    clips (one view each).

    Raises:
        ValueError: the batch has another structure or its fields disagree in length.
    """
    if not isinstance(batch, list | tuple) or len(batch) not in (3, 4):
        raise ValueError("loader must yield (views, label, index[, view]) batches")
    views = batch[0]
    if views.ndim == 5:
        views = views[:, None]
    if views.ndim != 6:
        raise ValueError(
            f"views must be (B, V, T, C, H, W) or (B, T, C, H, W), got {tuple(views.shape)}"
        )
    b = views.shape[0]
    labels = torch.as_tensor(batch[1]).reshape(-1)
    videos = torch.as_tensor(batch[2]).reshape(-1)
    first = torch.as_tensor(batch[3]).reshape(-1) if len(batch) == 4 else torch.zeros_like(videos)
    if not len(labels) == len(videos) == len(first) == b:
        raise ValueError(f"label, index and view must have B={b} entries")
    return views, labels, videos, first


def view_ids(
    videos: torch.Tensor, first: torch.Tensor, g: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-view ``(video, view)`` ids of a batch of ``B`` items holding ``g`` views each."""
    offsets = torch.arange(g, device=first.device)
    return videos.repeat_interleave(g), (first[:, None] + offsets).reshape(-1)


def average_views(
    logits: torch.Tensor, videos: torch.Tensor, views: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax of every view's logits, averaged over the views of each video (Section 4.1).

    The one place where multi-view scores are averaged (:func:`predict`,
    :func:`tempaug.analysis.robustness.evaluate_robustness`). The softmax is taken in float32
    and the mean over a video's ``V`` views is that of a ``(N, V, K)`` tensor in view order, so
    the scores do not depend on how the views were batched.

    Args:
        logits: ``(M, K)`` per-view logits (any float dtype).
        videos: ``(M,)`` video ids.
        views: ``(M,)`` view positions ``0 … V-1`` within the video. Repeated ``(video, view)``
            rows (a sampler's padding) count once.

    Returns:
        ``(ids, scores)``: ascending unique video ids ``(N,)`` and float32 scores ``(N, K)``.

    Raises:
        ValueError: shapes disagree, or a video lacks some of the views ``0 … V-1``
            (``V = max(views) + 1``).
    """
    m = logits.shape[0]
    if logits.ndim != 2 or videos.shape != (m,) or views.shape != (m,):
        raise ValueError(
            f"logits must be (M, K) and videos, views (M,), got {tuple(logits.shape)}, "
            f"{tuple(videos.shape)}, {tuple(views.shape)}"
        )
    if m == 0:
        return videos.new_zeros(0), logits.new_zeros(0, logits.shape[1], dtype=torch.float32)
    videos, views = videos.long(), views.long()
    v = int(views.max()) + 1
    if int(views.min()) < 0:
        raise ValueError("view positions must be >= 0")
    key = videos * v + views
    order = torch.argsort(key, stable=True)
    key = key[order]
    keep = torch.ones_like(key, dtype=torch.bool)
    keep[1:] = key[1:] != key[:-1]
    sel, key = order[keep], key[keep]
    ids, counts = torch.unique_consecutive(key // v, return_counts=True)
    if bool((counts != v).any()):
        bad = int(ids[(counts != v).nonzero()[0]])
        raise ValueError(f"video {bad} does not have all of its {v} views (0 … {v - 1})")
    probs = logits.float().softmax(-1)[sel].view(len(ids), v, -1).mean(1)
    return ids, probs


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
    """Score every video of ``loader`` (eval items, see :func:`view_batch`).

    Batches hold views, not videos (``VideoClipDataset(eval_unit="clip")``): the logits of
    each view are kept (``K`` floats) and :func:`average_views` averages them per video once
    all ranks' views are gathered, so batch memory does not grow with the views per video.

    Args:
        model: classifier taking normalized ``(N, T, C, H, W)`` clips; put in eval mode here
            (and left there).
        loader: yields uint8 views ``(B, G, T, C, H, W)``, labels ``(B,)``, video indices
            ``(B,)`` and (per-clip items) first view positions ``(B,)``.
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
    all_logits, all_vid, all_view, all_lab = [], [], [], []
    batches = device_batches(loader, device)
    for batch in tqdm(batches, total=len(loader), desc=desc, leave=False, disable=not progress):
        views, labels, videos, first = view_batch(batch)
        x = prepare_clips(views.flatten(0, 1), device, data)
        with autocast:
            logits = model(x)
        vid, view = view_ids(videos.to(device), first.to(device), views.shape[1])
        all_logits.append(logits.float())
        all_vid.append(vid)
        all_view.append(view)
        all_lab.append(labels.to(device).repeat_interleave(views.shape[1]))
    gathered = [
        D.all_gather_cat(torch.cat(t), ctx).cpu() for t in (all_logits, all_vid, all_view, all_lab)
    ]
    logits, vid, view, lab = gathered
    indices, scores = average_views(logits, vid, view)
    labels = torch.zeros(int(indices.max()) + 1 if len(indices) else 0, dtype=torch.int64)
    labels[vid] = lab.long()
    return Predictions(indices=indices, labels=labels[indices], scores=scores)


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
        cfg,
        table,
        num_clips=cfg.eval.num_clips,
        num_crops=cfg.eval.num_crops,
        # In-process loading reads through the shared frame cache (data.cache_mb), so the runs
        # of a stage evaluated on the same videos decode them once; workers would fill copies.
        cache=cfg.data.num_workers == 0,
        failure_log=Path(out_dir) / DECODE_FAILURES,
    )
    loader = make_loader(
        dataset,
        batch_size=cfg.eval.batch_size,
        train=False,
        **loader_placement(ctx),
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


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message on one line, at most ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load_model_state(checkpoint: str | Path) -> dict[str, Any]:
    """:func:`load_checkpoint` for evaluation: every failure is a :class:`ConfigError` naming
    the file, and the entries evaluation needs (``model``, ``model_name``, ``model_kwargs``
    with ``num_classes``, ``epoch``) are checked before anything is built."""
    if not isinstance(checkpoint, str | os.PathLike):
        raise ConfigError(f"checkpoint must be a path, got {checkpoint!r}")
    try:
        state = load_checkpoint(checkpoint, map_location="cpu")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    kwargs = state.get("model_kwargs")
    problems = [
        f"{key!r} missing" for key in ("model", "model_name", "model_kwargs", "epoch")
        if key not in state
    ]  # fmt: skip
    if not problems and not (isinstance(kwargs, dict) and "num_classes" in kwargs):
        problems.append(f"model_kwargs {kwargs!r} lacks num_classes")
    if not problems and not (isinstance(state["model"], dict) and state["model"]):
        problems.append("no model weights")
    if problems:
        raise ConfigError(
            f"checkpoint {str(checkpoint)!r} cannot be evaluated: {', '.join(problems)}"
        )
    return state


def evaluate(
    cfg: TrainConfig, checkpoint: str | Path, *, out_dir: str | Path | None = None
) -> dict[str, Any]:
    """Evaluate a checkpoint on ``cfg.data.eval_table`` with multi-view testing.

    The model architecture comes from the checkpoint (``model_name``/``model_kwargs``); the
    data geometry and views from ``cfg``. Works under ``torchrun`` (the videos are sharded).

    Args:
        cfg: run configuration (``data.eval_table`` and ``data.video_root`` must be set).
        checkpoint: a ``.pt`` file written by :func:`tempaug.train.fit`.
        out_dir: where ``metrics.json`` and ``scores.csv`` go (default ``cfg.out_dir``).

    Returns:
        ``{"top1", "top5", "mean_class_acc", "num_videos", "num_clips", "num_crops",
        "num_classes", "epoch", "checkpoint", ...}`` (accuracies in percent).

    Raises:
        ConfigError: the checkpoint is missing, unreadable, not a tempaug checkpoint, lacks
            model entries or does not fit its own model (the message names the file), missing
            validation table or a class-count mismatch with the checkpoint; all before any
            video is read.
    """
    cfg.validate()
    state = _load_model_state(checkpoint)
    ctx = D.setup(cfg.runtime.device)
    try:
        configure_backends(cfg, ctx.device)
        tables = load_tables(cfg.data, need_train=False)
        if tables.eval is None:
            raise ConfigError("data.eval_table must be set to evaluate")
        spec_kwargs = dict(state["model_kwargs"])
        if spec_kwargs["num_classes"] != tables.num_classes:
            raise ConfigError(
                f"checkpoint has {spec_kwargs['num_classes']} classes but data has "
                f"{tables.num_classes}"
            )
        where = f"checkpoint {str(checkpoint)!r}: model {state['model_name']!r} {spec_kwargs}"
        try:
            model = build_network(
                state["model_name"],
                spec_kwargs,
                ctx.device,
                channels_last=cfg.runtime.channels_last,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} cannot be built: {_one_line(exc)}") from None
        try:
            model.load_state_dict(state["model"])
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} does not fit its weights: {_one_line(exc)}") from None
        out = Path(out_dir) if out_dir is not None else Path(cfg.out_dir)
        return run_final_evaluation(
            model,
            cfg,
            tables.eval,
            ctx,
            out,
            extra={"epoch": int(state["epoch"]), "checkpoint": str(checkpoint)},
        )
    finally:
        D.teardown(ctx)
