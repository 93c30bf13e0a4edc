"""Evaluation of trained models under temporal perturbation (Kim et al. 2020, Section 4.6).

Section 4.6 of the paper argues that the gains of temporal augmentation are small because
UCF-101 and HMDB-51 "have little temporal perturbations". This module evaluates every trained
model on copies of its validation clips corrupted by the perturbations of
:mod:`tempaug.analysis.perturbations` (severities 1–5, ImageNet-C style):
:func:`evaluate_robustness` classifies clean and perturbed views of each batch,
:func:`load_trained_model` rebuilds a run's model from its checkpoint and
:func:`evaluate_checkpoint` runs the suite on a run's validation videos. Metrics live in
:mod:`tempaug.analysis.robustness_metrics`, the report in
:mod:`tempaug.analysis.robustness_report`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import pandas as pd
import torch
from torch import Tensor

from tempaug.analysis.perturbations import (
    PERTURBATIONS,
    TemporalPerturbation,
    _check_name,
    _check_severity,
    perturbation_seed,
)

__all__ = [
    "evaluate_checkpoint",
    "evaluate_robustness",
    "load_trained_model",
]


# --------------------------------------------------------------------------------------------
# evaluation under perturbation
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def evaluate_robustness(
    model: torch.nn.Module,
    loader: Iterable,
    *,
    method: str,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    seed: int = 0,
    mean: Sequence[float] = (0.45, 0.45, 0.45),
    std: Sequence[float] = (0.225, 0.225, 0.225),
    device: torch.device | str = "cpu",
    max_clips_per_forward: int = 64,
    amp: bool = False,
) -> pd.DataFrame:
    """Multi-view evaluation of ``model`` on clean and perturbed copies of every clip.

    For each batch of raw views the clean views and, for each perturbation and severity, a
    perturbed copy are normalised (:func:`tempaug.data.transforms.normalize`) and classified;
    the softmax is averaged over the ``V`` views of a video by
    :func:`tempaug.train.evaluate.average_views` (paper Section 4.1: 10 clips, averaged
    softmax) and compared with the label. Perturbations act on the raw uint8/[0, 1] frames,
    *before* normalisation.

    Batches may hold whole videos or parts of them (per-clip items, as
    ``VideoClipDataset(eval_unit="clip")`` gives): each view's logits are kept until its video
    is complete, i.e. until a later batch starts with another video (the loader must keep the
    dataset order), so batch memory does not grow with the views per video.

    Randomness: one CPU generator per perturbation, seeded from ``(seed, perturbation)``; its
    state is rewound for every severity of a batch, so all severities see the same random
    pattern (common random numbers), and every model evaluated with the same ``seed`` and the
    same (unshuffled) loader sees exactly the same perturbed clips — the comparison between
    methods is paired. The draws depend on the batch shapes: change the batch size and the
    perturbed clips change (same distribution).

    Args:
        model: classifier taking normalised ``(N, T, C, H, W)`` float clips → logits ``(N, K)``
            (e.g. :class:`tempaug.models.SlowFastVideoClassifier`); put in eval mode here.
        loader: yields eval batches as :func:`tempaug.train.evaluate.view_batch` reads them:
            ``(views, label, index[, view])`` with ``views`` ``(B, G, T, C, H, W)`` uint8 or
            float in [0, 1] (or ``(B, T, C, H, W)``, one view), ``label`` ``(B,)``, ``index``
            ``(B,)`` video ids and ``view`` ``(B,)`` first view positions (per-clip items);
            must not shuffle.
        method: name stored in the ``method`` column.
        perturbations: names from :data:`PERTURBATIONS`.
        severities: severities from 1–5 (the clean pass is always added as severity 0).
        seed: base seed of the perturbation generators.
        mean, std: normalisation statistics (the ones the model was trained with).
        device: where the model runs.
        max_clips_per_forward: chunk size of ``B·G`` clips per forward pass.
        amp: CUDA autocast (bf16) for the forward pass.

    Returns:
        Per-video records: columns ``method, perturbation, severity, video, label, pred,
        correct`` — the input of :mod:`tempaug.analysis.robustness_metrics`; the clean pass is
        perturbation ``"clean"``, severity 0.

    Raises:
        ValueError: unknown perturbation, severity outside 1–5, or malformed batches.
    """
    from tempaug.data.transforms import normalize
    from tempaug.train.evaluate import average_views, view_batch, view_ids

    perturbations = [_check_name(p) for p in perturbations]
    severities = [_check_severity(s) for s in severities]
    if any(s == 0 for s in severities):
        raise ValueError("severities must lie in [1, 5]; the clean pass (0) is always added")
    if max_clips_per_forward < 1:
        raise ValueError(f"max_clips_per_forward must be >= 1, got {max_clips_per_forward}")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    gens = {p: torch.Generator().manual_seed(perturbation_seed(seed, p)) for p in perturbations}
    conditions = [("clean", 0)] + [(p, s) for p in perturbations for s in severities]
    rows: list[dict] = []
    # per condition: the logits of the views whose video is not complete yet
    open_logits: dict[tuple[str, int], list[Tensor]] = {c: [] for c in conditions}
    open_ids: list[Tensor] = []  # (video, view) ids of those views, shape (2, n)
    labels_of: dict[int, int] = {}

    def forward(flat: Tensor) -> Tensor:
        """Float32 logits of normalised clips ``(N, T, C, H, W)``, in chunks."""
        out = []
        for chunk in flat.split(max_clips_per_forward):
            with torch.autocast(
                device_type=device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"
            ):
                out.append(model(chunk).float())
        return torch.cat(out)

    def emit(keep_video: int | None) -> None:
        """Average and record every open video except ``keep_video`` (still incomplete)."""
        if not open_ids:
            return
        ids = torch.cat(open_ids, dim=1)
        done = (
            ids[0] != keep_video
            if keep_video is not None
            else torch.ones_like(ids[0], dtype=torch.bool)
        )
        if not bool(done.any()):
            return
        for cond in conditions:
            logits = torch.cat(open_logits[cond])
            videos, scores = average_views(logits[done], ids[0][done], ids[1][done])
            open_logits[cond] = [logits[~done]]
            pert, sev = cond
            for vid, prd in zip(videos.tolist(), scores.argmax(-1).tolist(), strict=True):
                lab = labels_of[vid]
                rows.append(
                    {
                        "method": method,
                        "perturbation": pert,
                        "severity": sev,
                        "video": vid,
                        "label": lab,
                        "pred": prd,
                        "correct": int(prd == lab),
                    }
                )
        open_ids[:] = [ids[:, ~done]]

    try:
        for batch in loader:
            views, label, index, first = view_batch(batch)
            views = views.to(device, non_blocking=True)
            b, g = views.shape[:2]
            for vid, lab in zip(index.tolist(), label.tolist(), strict=True):
                labels_of[vid] = lab
            vid, view = view_ids(index.long().cpu(), first.long().cpu(), g)
            open_ids.append(torch.stack([vid, view]).to(device))
            # Conditions are queued and classified together, so small eval batches still make
            # full forward passes; the queue holds about max_clips_per_forward clips at a time.
            pending: list[tuple[tuple[str, int], Tensor]] = []

            def flush(pending=pending, b=b, g=g) -> None:
                if not pending:
                    return
                logits = forward(torch.cat([x for _, x in pending]))
                for (cond, _), part in zip(pending, logits.split(b * g), strict=True):
                    open_logits[cond].append(part)
                pending.clear()

            def queue(cond: tuple[str, int], x: Tensor, pending=pending, flush=flush) -> None:
                pending.append((cond, normalize(x.flatten(0, 1), mean, std)))
                if len(pending) * x.shape[0] * x.shape[1] >= max_clips_per_forward:
                    flush()

            queue(("clean", 0), views)
            for pert in perturbations:
                gen = gens[pert]
                state = gen.get_state()
                for sev in severities:
                    gen.set_state(state)
                    queue((pert, sev), TemporalPerturbation(pert, sev)(views, generator=gen))
            flush()
            # whole-video items are complete; per-clip items may continue in the next batch
            emit(int(index[-1]) if len(batch) == 4 else None)
        emit(None)
    finally:
        model.train(was_training)
    return pd.DataFrame(
        rows, columns=["method", "perturbation", "severity", "video", "label", "pred", "correct"]
    )


# --------------------------------------------------------------------------------------------
# trained runs
# --------------------------------------------------------------------------------------------


def load_trained_model(
    checkpoint: str | os.PathLike, *, device: torch.device | str = "cpu"
) -> torch.nn.Module:
    """Rebuild a model from a checkpoint written by :func:`tempaug.train.fit`, in eval mode.

    The architecture comes from the checkpoint's ``model_name`` / ``model_kwargs`` and is built
    with :func:`tempaug.models.build_model`.

    Args:
        checkpoint: path of a ``.pt`` file (e.g. ``runs/<run_id>/checkpoints/last.pt``).
        device: where the model goes.

    Returns:
        The model, on ``device``, in eval mode.

    Raises:
        ValueError: the file is missing or is not a tempaug checkpoint.
    """
    from tempaug.models import build_model
    from tempaug.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint, map_location="cpu")
    for key in ("model", "model_name", "model_kwargs"):
        if key not in state:
            raise ValueError(f"checkpoint {str(checkpoint)!r} has no {key!r} entry")
    kwargs = dict(state["model_kwargs"])
    num_classes = kwargs.pop("num_classes")
    model = build_model(state["model_name"], num_classes, **kwargs)
    model.load_state_dict(state["model"])
    return model.to(device).eval()


def evaluate_checkpoint(
    cfg,
    checkpoint: str | os.PathLike,
    *,
    method: str,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    seed: int = 0,
    device: torch.device | str = "cpu",
    max_videos: int = 0,
    batch_size: int | None = None,
    num_workers: int | None = None,
) -> pd.DataFrame:
    """Robustness records of one trained run on its validation videos (Section 4.6 suite).

    Loads the checkpoint (:func:`load_trained_model`), builds the run's evaluation dataset
    (``cfg.data.val_table``, ``cfg.eval.num_clips × num_crops`` views, uint8 output, one clip's
    crops per item, via :func:`tempaug.train.loaders.build_eval_dataset`; loaded by
    :func:`tempaug.data.datasets.make_loader`) and runs :func:`evaluate_robustness` with the
    run's normalisation statistics. The perturbation is applied to the raw frames before
    normalisation, which the trainer's evaluator offers no hook for — hence this loop.

    Args:
        cfg: the run's :class:`tempaug.train.TrainConfig` (``data.val_table`` and
            ``data.video_root`` set).
        checkpoint: the run's checkpoint.
        method: label for the ``method`` column.
        perturbations: perturbation names.
        severities: severities 1–5.
        seed: perturbation seed (use the same for every method: paired comparison).
        device: where the model runs.
        max_videos: evaluate at most this many videos, evenly spaced over the table
            (0 = all).
        batch_size: clips per batch, ``num_crops`` views each (default ``cfg.eval.batch_size``).
        num_workers: DataLoader workers (default ``cfg.data.num_workers``).

    Returns:
        Records as :func:`evaluate_robustness`, with ``video`` the video's path (unique id).
    """
    from tempaug.data.datasets import make_loader
    from tempaug.train.loaders import build_eval_dataset, load_tables

    if max_videos < 0:
        raise ValueError(f"max_videos must be >= 0, got {max_videos}")
    tables = load_tables(cfg.data, need_train=False)
    if tables.val is None:
        raise ValueError("cfg.data.val_table must be set to evaluate robustness")
    table = tables.val.reset_index(drop=True)
    if 0 < max_videos < len(table):
        rows = torch.linspace(0, len(table) - 1, max_videos).round().long().unique().tolist()
        table = table.iloc[rows].reset_index(drop=True)
        table.attrs = dict(tables.val.attrs)
    dataset = build_eval_dataset(
        cfg, table, num_clips=cfg.eval.num_clips, num_crops=cfg.eval.num_crops
    )
    loader = make_loader(
        dataset,
        batch_size=batch_size or cfg.eval.batch_size,
        train=False,
        seed=cfg.seed,
        num_workers=cfg.data.num_workers if num_workers is None else num_workers,
        pin_memory=torch.device(device).type == "cuda",
    )
    model = load_trained_model(checkpoint, device=device)
    records = evaluate_robustness(
        model,
        loader,
        method=method,
        perturbations=perturbations,
        severities=severities,
        seed=seed,
        mean=cfg.data.mean,
        std=cfg.data.std,
        device=device,
        amp=torch.device(device).type == "cuda" and cfg.runtime.amp,
    )
    videos = dataset.videos
    records["video"] = [videos[i] for i in records["video"]]
    return records
