"""Evaluation of trained models under temporal perturbation (Kim et al. 2020, Section 4.6).

Section 4.6 of the paper argues that the gains of temporal augmentation are small because
UCF-101 and HMDB-51 "have little temporal perturbations". This module evaluates every trained
model on copies of its validation clips corrupted by the perturbations of
:mod:`tempaug.analysis.robustness.perturbations` (severities 1–5, ImageNet-C style):
:func:`evaluate_models` classifies clean and perturbed views of each batch with several models
in one shared pass (each batch read once, each perturbation × severity drawn and applied once,
then every model classifies it; :func:`evaluate_robustness` is the one-model case),
:func:`~tempaug.analysis.run_selection.load_trained_model` rebuilds a run's model from its
checkpoint, :func:`evaluate_checkpoints` runs the suite for several runs (:class:`RobustnessRun`) on their
shared validation videos (:func:`evaluate_checkpoint`: one run) and :func:`select_seeds` picks
the training seeds to evaluate. The cost is the forward passes (models × views × conditions);
decoding and perturbing no longer scale with the number of models. Metrics live in
:mod:`tempaug.analysis.robustness.metrics`, the report in
:mod:`tempaug.analysis.robustness.report`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import pandas as pd
import torch
from torch import Tensor

from tempaug.analysis.robustness.perturbations import (
    PERTURBATIONS,
    TemporalPerturbation,
    _check_name,
    _check_severity,
    perturbation_seed,
)
from tempaug.analysis.run_selection import load_trained_model

__all__ = [
    "RobustnessRun",
    "evaluate_checkpoint",
    "evaluate_checkpoints",
    "evaluate_models",
    "evaluate_robustness",
    "select_seeds",
]


# --------------------------------------------------------------------------------------------
# evaluation under perturbation
# --------------------------------------------------------------------------------------------


def _check_conditions(
    perturbations: Sequence[str], severities: Sequence[int], max_clips_per_forward: int
) -> tuple[list[str], list[int]]:
    """Validated perturbation names and severities (errors name the bad value)."""
    names = [_check_name(p) for p in perturbations]
    sevs = [_check_severity(s) for s in severities]
    if any(s == 0 for s in sevs):
        raise ValueError("severities must lie in [1, 5]; the clean pass (0) is always added")
    if max_clips_per_forward < 1:
        raise ValueError(f"max_clips_per_forward must be >= 1, got {max_clips_per_forward}")
    return names, sevs


def _forward(
    model: torch.nn.Module, flat: Tensor, *, chunk: int, device: torch.device, amp: bool
) -> Tensor:
    """Float32 logits of normalised clips ``(N, T, C, H, W)``, in chunks of ``chunk`` clips."""
    out = []
    for part in flat.split(chunk):
        with torch.autocast(
            device_type=device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"
        ):
            out.append(model(part).float())
    return torch.cat(out)


class _OpenViews:
    """Logits of views whose video is not complete yet, per model × condition.

    Views arrive batch by batch (:meth:`add`); :meth:`emit` averages the views of every
    complete video (:func:`tempaug.train.evaluate.average_views`) and appends one record per
    model × condition × video to ``rows``.
    """

    def __init__(self, n_models: int, conditions: list[tuple[str, int]]) -> None:
        self.conditions = conditions
        self.logits: list[dict[tuple[str, int], list[Tensor]]] = [
            {c: [] for c in conditions} for _ in range(n_models)
        ]
        self.ids: list[Tensor] = []  # (video, view) ids of the open views, shape (2, n)
        self.labels: dict[int, int] = {}
        self.rows: list[dict] = []

    def emit(self, keep_video: int | None) -> None:
        """Record every open video except ``keep_video`` (whose views may continue)."""
        from tempaug.train.evaluate import average_views

        if not self.ids:
            return
        ids = torch.cat(self.ids, dim=1)
        done = (
            ids[0] != keep_video
            if keep_video is not None
            else torch.ones_like(ids[0], dtype=torch.bool)
        )
        if not bool(done.any()):
            return
        for model_idx, per_cond in enumerate(self.logits):
            for cond in self.conditions:
                logits = torch.cat(per_cond[cond])
                videos, scores = average_views(logits[done], ids[0][done], ids[1][done])
                per_cond[cond] = [logits[~done]]
                self._record(model_idx, cond, videos.tolist(), scores.argmax(-1).tolist())
        self.ids[:] = [ids[:, ~done]]

    def _record(
        self, model_idx: int, cond: tuple[str, int], videos: list[int], preds: list[int]
    ) -> None:
        pert, sev = cond
        for vid, prd in zip(videos, preds, strict=True):
            lab = self.labels[vid]
            self.rows.append(
                {
                    "model": model_idx,
                    "perturbation": pert,
                    "severity": sev,
                    "video": vid,
                    "label": lab,
                    "pred": prd,
                    "correct": int(prd == lab),
                }
            )


def _perturbed_views(
    views: Tensor,
    perturbations: Sequence[str],
    severities: Sequence[int],
    gens: dict[str, torch.Generator],
) -> Iterator[tuple[tuple[str, int], Tensor]]:
    """The clean views, then each perturbation × severity of them (common random numbers).

    Each perturbation's generator is rewound for every severity, so all severities of a clip
    share one random pattern; the generator then moves on to the next batch.
    """
    yield ("clean", 0), views
    for pert in perturbations:
        gen = gens[pert]
        state = gen.get_state()
        for sev in severities:
            gen.set_state(state)
            yield (pert, sev), TemporalPerturbation(pert, sev)(views, generator=gen)


@torch.no_grad()
def evaluate_models(
    models: Mapping[str, torch.nn.Module],
    loader: Iterable,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    seed: int = 0,
    mean: Sequence[float] = (0.45, 0.45, 0.45),
    std: Sequence[float] = (0.225, 0.225, 0.225),
    device: torch.device | str = "cpu",
    max_clips_per_forward: int = 64,
    amp: bool = False,
) -> pd.DataFrame:
    """Multi-view evaluation of several models on clean and perturbed copies of every clip.

    The shared pass of the robustness suite: each batch of raw views is read (decoded) once,
    each perturbation × severity is drawn and applied once and normalised once
    (:func:`tempaug.data.transforms.normalize`), and **every** model classifies that same
    perturbed batch before the next one is read. The cost of decoding, perturbing and
    normalising therefore does not grow with the number of models, and all models see
    exactly the same perturbed clips (the comparison is paired by construction). The softmax
    is averaged over the ``V`` views of a video by :func:`tempaug.train.evaluate.average_views`
    (paper Section 4.1) and compared with the label. Perturbations act on the raw
    uint8/[0, 1] frames, *before* normalisation.

    Each model's records equal those of :func:`evaluate_robustness` run on that model alone
    with the same loader and arguments (same forward chunks, hence the same logits).

    Batches may hold whole videos or parts of them (per-clip items, as
    ``VideoClipDataset(eval_unit="clip")`` gives): each view's logits are kept until its video
    is complete, i.e. until a later batch starts with another video (the loader must keep the
    dataset order), so batch memory does not grow with the views per video.

    Randomness: one CPU generator per perturbation, seeded from ``(seed, perturbation)``
    (:func:`~tempaug.analysis.robustness.perturbations.perturbation_seed`); its state is rewound for
    every severity of a batch, so all severities see the same random pattern (common random
    numbers). The draws depend on the batch shapes: change the batch size and the perturbed
    clips change (same distribution).

    Args:
        models: label → classifier taking normalised ``(N, T, C, H, W)`` float clips → logits
            ``(N, K)`` (e.g. :class:`tempaug.models.SlowFastVideoClassifier`); put in eval
            mode here (and restored after). The label goes to the ``method`` column.
        loader: yields eval batches as :func:`tempaug.train.evaluate.view_batch` reads them:
            ``(views, label, index[, view])`` with ``views`` ``(B, G, T, C, H, W)`` uint8 or
            float in [0, 1] (or ``(B, T, C, H, W)``, one view), ``label`` ``(B,)``, ``index``
            ``(B,)`` video ids and ``view`` ``(B,)`` first view positions (per-clip items);
            must not shuffle.
        perturbations: names from :data:`PERTURBATIONS`.
        severities: severities from 1–5 (the clean pass is always added as severity 0).
        seed: base seed of the perturbation generators.
        mean, std: normalisation statistics (the ones the models were trained with).
        device: where the models run.
        max_clips_per_forward: chunk size of ``B·G`` clips per forward pass.
        amp: CUDA autocast (bf16) for the forward pass.

    Returns:
        Per-video records: columns ``method, perturbation, severity, video, label, pred,
        correct`` — the input of :mod:`tempaug.analysis.robustness.metrics`; the clean pass is
        perturbation ``"clean"``, severity 0. Rows are grouped by model, in ``models`` order.

    Raises:
        ValueError: no models, unknown perturbation, severity outside 1–5, or malformed
            batches.
    """
    from tempaug.data.transforms import normalize
    from tempaug.train.evaluate import view_batch, view_ids

    if not models:
        raise ValueError("models must hold at least one model")
    perturbations, severities = _check_conditions(perturbations, severities, max_clips_per_forward)
    device = torch.device(device)
    labels, nets = list(models), list(models.values())
    modes = [m.training for m in nets]
    for m in nets:
        m.eval()
    gens = {p: torch.Generator().manual_seed(perturbation_seed(seed, p)) for p in perturbations}
    state = _OpenViews(
        len(nets), [("clean", 0)] + [(p, s) for p in perturbations for s in severities]
    )

    def flush(pending: list[tuple[tuple[str, int], Tensor]], n: int) -> None:
        """Classify the queued conditions with every model, in one pass per model."""
        if not pending:
            return
        flat = torch.cat([x for _, x in pending])
        for per_cond, net in zip(state.logits, nets, strict=True):
            logits = _forward(net, flat, chunk=max_clips_per_forward, device=device, amp=amp)
            for (cond, _), part in zip(pending, logits.split(n), strict=True):
                per_cond[cond].append(part)
        pending.clear()

    try:
        for batch in loader:
            views, label, index, first = view_batch(batch)
            views = views.to(device, non_blocking=True)
            b, g = views.shape[:2]
            state.labels.update(zip(index.tolist(), label.tolist(), strict=True))
            vid, view = view_ids(index.long().cpu(), first.long().cpu(), g)
            state.ids.append(torch.stack([vid, view]).to(device))
            # Conditions are queued and classified together, so small eval batches still make
            # full forward passes; the queue holds about max_clips_per_forward clips at a time.
            pending: list[tuple[tuple[str, int], Tensor]] = []
            for cond, x in _perturbed_views(views, perturbations, severities, gens):
                pending.append((cond, normalize(x.flatten(0, 1), mean, std)))
                if len(pending) * b * g >= max_clips_per_forward:
                    flush(pending, b * g)
            flush(pending, b * g)
            # whole-video items are complete; per-clip items may continue in the next batch
            state.emit(int(index[-1]) if len(batch) == 4 else None)
        state.emit(None)
    finally:
        for m, mode in zip(nets, modes, strict=True):
            m.train(mode)
    records = pd.DataFrame(
        state.rows,
        columns=["model", "perturbation", "severity", "video", "label", "pred", "correct"],
    )
    records = records.sort_values("model", kind="stable").reset_index(drop=True)
    records.insert(0, "method", [labels[i] for i in records.pop("model")])
    return records


class _PassOptions(TypedDict, total=False):
    """The keyword arguments of :func:`evaluate_models` besides the models and the loader
    (documented and defaulted there), which :func:`evaluate_robustness` passes on."""

    perturbations: Sequence[str]
    severities: Sequence[int]
    seed: int
    mean: Sequence[float]
    std: Sequence[float]
    device: torch.device | str
    max_clips_per_forward: int
    amp: bool


def evaluate_robustness(
    model: torch.nn.Module, loader: Iterable, *, method: str, **options: Unpack[_PassOptions]
) -> pd.DataFrame:
    """Multi-view evaluation of one model on clean and perturbed copies of every clip.

    :func:`evaluate_models` with ``{method: model}``; see there for the ``options`` (the same
    keywords, the same defaults), the randomness (every model evaluated with the same ``seed``
    and the same unshuffled loader sees exactly the same perturbed clips) and the returned
    records.

    Raises:
        ValueError: unknown perturbation, severity outside 1–5, or malformed batches.
        TypeError: a keyword that :func:`evaluate_models` does not take.
    """
    return evaluate_models({method: model}, loader, **options)


# --------------------------------------------------------------------------------------------
# trained runs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobustnessRun:
    """One trained run to evaluate: its label, training seed, config and checkpoint."""

    method: str
    seed: int
    cfg: Any
    checkpoint: str | os.PathLike


def _eval_signature(cfg) -> tuple:
    """What fixes a run's evaluation views and normalisation (must agree to share a pass)."""
    d, e = cfg.data, cfg.eval
    return (
        str(d.eval_table),
        str(d.video_root),
        d.clip_len,
        d.frame_stride,
        d.crop_size,
        tuple(d.mean),
        tuple(d.std),
        e.num_clips,
        e.num_crops,
        e.batch_size,
    )


def _check_runs(runs: Sequence[RobustnessRun]) -> None:
    """Runs must be non-empty, uniquely labelled and share their evaluation setting."""
    if not runs:
        raise ValueError("runs must hold at least one run")
    keys = [(r.method, r.seed) for r in runs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"runs has repeated (method, seed) pairs {dup}")
    ref = _eval_signature(runs[0].cfg)
    for r in runs[1:]:
        if _eval_signature(r.cfg) != ref:
            raise ValueError(
                f"run ({r.method!r}, seed {r.seed}) evaluates different views than "
                f"({runs[0].method!r}, seed {runs[0].seed}): {_eval_signature(r.cfg)} != {ref}"
            )


def _select_videos(table: pd.DataFrame, max_videos: int) -> pd.DataFrame:
    """``max_videos`` evenly spaced rows of ``table`` (0, or at least its length: all)."""
    if isinstance(max_videos, bool) or not isinstance(max_videos, int) or max_videos < 0:
        raise ValueError(f"max_videos must be an int >= 0, got {max_videos!r}")
    table = table.reset_index(drop=True)
    if not 0 < max_videos < len(table):
        return table
    rows = torch.linspace(0, len(table) - 1, max_videos).round().long().unique().tolist()
    out = table.iloc[rows].reset_index(drop=True)
    out.attrs = dict(table.attrs)
    return out


def select_seeds(specs: Sequence[Any], seeds: str | Sequence[int]) -> list[Any]:
    """The runs of ``specs`` whose training ``seed`` is chosen (order kept).

    Args:
        specs: runs with a ``seed`` attribute (e.g. :class:`tempaug.pipeline.RunSpec`).
        seeds: ``"all"`` (every seed found), ``"first"`` (the smallest seed found: one model
            per recipe), or seeds as a comma-separated string or a list of ints.

    Returns:
        The selected runs.

    Raises:
        ValueError: a seed is not an int ``>= 0`` or no run has it (the message names it).
    """
    found = sorted({int(sp.seed) for sp in specs})
    if isinstance(seeds, str) and seeds.strip() in ("all", "first"):
        wanted = found if seeds.strip() == "all" else found[:1]
    else:
        items = seeds.split(",") if isinstance(seeds, str) else list(seeds)
        wanted = []
        for item in items:
            text = str(item).strip()
            if isinstance(item, bool) or not text.isdigit():
                raise ValueError(
                    f"seeds must be 'all', 'first' or ints >= 0 separated by commas, got {item!r}"
                )
            wanted.append(int(text))
        unknown = sorted(set(wanted) - set(found))
        if unknown:
            raise ValueError(f"seeds {unknown} have no run; seeds found: {found}")
    return [sp for sp in specs if int(sp.seed) in set(wanted)]


def evaluate_checkpoints(
    runs: Sequence[RobustnessRun],
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    seed: int = 0,
    device: torch.device | str = "cpu",
    max_videos: int = 0,
    num_clips: int | None = None,
    batch_size: int | None = None,
    num_workers: int | None = None,
) -> pd.DataFrame:
    """Robustness records of several trained runs on their (shared) validation videos.

    Loads every checkpoint (:func:`~tempaug.analysis.run_selection.load_trained_model`; the
    models are small and stay in memory), builds the evaluation dataset once from the first run's config
    (``cfg.data.eval_table``, ``cfg.eval.num_clips × num_crops`` views, uint8 output, one
    clip's crops per item, via :func:`tempaug.train.loaders.build_eval_dataset`; loaded by
    :func:`tempaug.data.datasets.make_loader`) and runs :func:`evaluate_models`: each video
    is decoded once, each perturbation × severity applied once, and all models classify it.
    The perturbation is applied to the raw frames before normalisation, which the trainer's
    evaluator offers no hook for — hence this loop.

    Args:
        runs: the runs; all must share the evaluation setting (validation table, video root,
            clip geometry, normalisation, views and eval batch size) and have distinct
            ``(method, seed)``.
        perturbations: perturbation names.
        severities: severities 1–5.
        seed: perturbation seed (the same draws for every model: paired comparison).
        device: where the models run.
        max_videos: evaluate at most this many videos, evenly spaced over the table
            (0 = all).
        num_clips: temporal views per video (default ``cfg.eval.num_clips``, the runs'
            evaluation protocol; fewer views cost proportionally less).
        batch_size: clips per batch, ``num_crops`` views each (default ``cfg.eval.batch_size``).
        num_workers: DataLoader workers (default ``cfg.data.num_workers``).

    Returns:
        Records as :func:`evaluate_models` plus the run's training ``seed`` column (after
        ``method``), with ``video`` the video's path (unique id); grouped by run, in order.

    Raises:
        ValueError: no runs, repeated runs, runs with different evaluation settings, a bad
            ``max_videos``, perturbation or severity, or no validation table.
    """
    from tempaug.data.datasets import make_loader
    from tempaug.train.loaders import build_eval_dataset, load_tables

    _check_runs(runs)
    _check_conditions(perturbations, severities, 1)
    cfg = runs[0].cfg
    tables = load_tables(cfg.data, need_train=False)
    if tables.eval is None:
        raise ValueError("cfg.data.eval_table must be set to evaluate robustness")
    table = _select_videos(tables.eval, max_videos)
    if num_clips is not None and (
        isinstance(num_clips, bool) or not isinstance(num_clips, int) or num_clips < 1
    ):
        raise ValueError(f"num_clips must be an int >= 1 (or None), got {num_clips!r}")
    dataset = build_eval_dataset(
        cfg, table, num_clips=num_clips or cfg.eval.num_clips, num_crops=cfg.eval.num_crops
    )
    loader = make_loader(
        dataset,
        batch_size=batch_size or cfg.eval.batch_size,
        train=False,
        seed=cfg.seed,
        num_workers=cfg.data.num_workers if num_workers is None else num_workers,
        pin_memory=torch.device(device).type == "cuda",
    )
    models = {str(i): load_trained_model(r.checkpoint, device=device) for i, r in enumerate(runs)}
    records = evaluate_models(
        models,
        loader,
        perturbations=perturbations,
        severities=severities,
        seed=seed,
        mean=cfg.data.mean,
        std=cfg.data.std,
        device=device,
        amp=torch.device(device).type == "cuda" and cfg.runtime.amp,
    )
    run_of = records["method"].astype(int)
    records["method"] = [runs[i].method for i in run_of]
    records.insert(1, "seed", [int(runs[i].seed) for i in run_of])
    videos = dataset.videos
    records["video"] = [videos[i] for i in records["video"]]
    return records


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

    :func:`evaluate_checkpoints` with the single run ``(method, cfg, checkpoint)``; see there.
    Several runs on the same videos are much cheaper through :func:`evaluate_checkpoints`
    (decoding and perturbing are shared).

    Args:
        cfg: the run's :class:`tempaug.train.TrainConfig` (``data.eval_table`` and
            ``data.video_root`` set).
        checkpoint: the run's checkpoint.
        method: label for the ``method`` column.
        perturbations, severities, seed, device, max_videos, batch_size, num_workers: as
            :func:`evaluate_checkpoints`.

    Returns:
        Records as :func:`evaluate_robustness`, with ``video`` the video's path (unique id).
    """
    records = evaluate_checkpoints(
        [RobustnessRun(method, int(getattr(cfg, "seed", 0)), cfg, checkpoint)],
        perturbations=perturbations,
        severities=severities,
        seed=seed,
        device=device,
        max_videos=max_videos,
        batch_size=batch_size,
        num_workers=num_workers,
    )
    return records.drop(columns="seed")
