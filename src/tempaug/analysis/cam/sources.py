"""The validation clips the CAM figures and the localization score draw (Sec. 4.6, Figs. 5–6).

The sources are the validation videos in an order drawn with a seed (:func:`source_order`);
clips A and B of the figures are the first source of a named class, or the first source and the
first one of another class (:func:`pick_pair`) — chosen by the seed, not by looking at the maps.
:func:`draw_clips` draws the figures' pair and the localization score's spliced set from the
labels alone, then decodes only the clips that are drawn (:func:`decode_clips`): stacking one clip of every
validation video would hold about 23 GB at 64 × 160² on the real split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from tempaug.analysis.cam.localization import SpliceParams, sample_splice_params, sources_used

__all__ = [
    "ClipDataset",
    "DrawnClips",
    "ValidationSources",
    "decode_clips",
    "describe",
    "draw_clips",
    "pick_clip",
    "pick_pair",
    "source_order",
    "validation_sources",
]


class ClipDataset(Protocol):
    """An evaluation dataset whose item ``i`` is ``(views (V, T, C, H, W), label, ...)``."""

    def __getitem__(self, index: int) -> Any: ...

    def __len__(self) -> int: ...


def source_order(num_videos: int, *, seed: int, max_videos: int = 0) -> Tensor:
    """A seeded permutation of the ``num_videos`` validation videos, cut to ``max_videos`` (> 0).

    Raises:
        ValueError: no videos.
    """
    if num_videos < 1:
        raise ValueError(f"num_videos must be >= 1, got {num_videos}")
    order = torch.randperm(num_videos, generator=torch.Generator().manual_seed(int(seed)))
    return order[: int(max_videos)] if int(max_videos) > 0 else order


def pick_clip(
    class_names: Sequence[str], labels: Tensor, name: str = "", *, exclude: int | None = None
) -> int:
    """Index of the first source of class ``name``; without a name, the first source whose label
    differs from source ``exclude``'s (the first source when ``exclude`` is ``None``).

    Raises:
        ValueError: ``name`` has no source, or every source has ``exclude``'s label.
    """
    if name:
        hits = [i for i, c in enumerate(class_names) if c == name]
        if not hits:
            raise ValueError(
                f"class {name!r} has no validation video; classes: {sorted(set(class_names))}"
            )
        return hits[0]
    for i in range(len(labels)):
        if exclude is None or labels[i] != labels[exclude]:
            return i
    raise ValueError("every source has the same class; clips A and B need two classes")


def pick_pair(
    class_names: Sequence[str], labels: Tensor, class_a: str = "", class_b: str = ""
) -> tuple[int, int]:
    """Clips A and B of the figures (:func:`pick_clip`); they must be of different classes.

    Raises:
        ValueError: a named class has no source, or A and B have the same class.
    """
    ia = pick_clip(class_names, labels, class_a)
    ib = pick_clip(class_names, labels, class_b, exclude=ia)
    if int(labels[ia]) == int(labels[ib]):
        raise ValueError(
            f"clips A and B must come from different classes, both are {class_names[ia]!r}"
        )
    return ia, ib


def decode_clips(dataset: ClipDataset, indices: Sequence[int] | Tensor) -> Tensor:
    """Decode the first view of items ``indices`` only: ``(len(indices), T, C, H, W)``.

    Raises:
        ValueError: no indices.
    """
    idx = [int(i) for i in indices]
    if not idx:
        raise ValueError("indices must name at least one clip to decode")
    return torch.stack([dataset[i][0][0] for i in idx])


@dataclass(frozen=True)
class DrawnClips:
    """The clips the CAM stage draws, decoded.

    Attributes:
        index_a: source index of the figures' clip A.
        index_b: source index of the figures' clip B.
        clip_a: ``(T, C, H, W)`` float clip A in ``[0, 1]``.
        clip_b: ``(T, C, H, W)`` float clip B in ``[0, 1]``.
        splice: the spliced set over all sources (:func:`sample_splice_params`).
        used: ``(K,)`` sorted source indices the spliced set reads.
        local_splice: ``splice`` re-indexed into ``used`` (:func:`sources_used`).
        sources: ``(K, T, C, H, W)`` uint8 decoded ``used`` sources, or ``None`` when not asked.
    """

    index_a: int
    index_b: int
    clip_a: Tensor
    clip_b: Tensor
    splice: SpliceParams
    used: Tensor
    local_splice: SpliceParams
    sources: Tensor | None


def draw_clips(
    dataset: ClipDataset,
    labels: Tensor,
    class_names: Sequence[str],
    *,
    num_spliced: int,
    seed: int,
    class_a: str = "",
    class_b: str = "",
    decode_spliced: bool = True,
) -> DrawnClips:
    """Draw clips A, B (:func:`pick_pair`) and the spliced set, then decode only those clips.

    The spliced set is drawn exactly as over stacked sources — ``sample_splice_params(labels,
    num_spliced, T)`` with a generator seeded by ``seed`` — so scores do not change; only its
    ``used`` sources are decoded (none when ``decode_spliced`` is false).

    Args:
        dataset: the sources, item ``i`` of class ``labels[i]`` named ``class_names[i]``.
        labels: ``(M,)`` integer labels of the sources.
        class_names: class name of each source.
        num_spliced: spliced A|B clips to draw.
        seed: seed of the spliced set.
        class_a: class of clip A (empty: the first source).
        class_b: class of clip B (empty: the first source of another class).
        decode_spliced: decode the spliced set's sources.

    Raises:
        ValueError: see :func:`pick_pair` and :func:`sample_splice_params`.
    """
    ia, ib = pick_pair(class_names, labels, class_a, class_b)
    clip_a, clip_b = decode_clips(dataset, [ia, ib]).float().div(255).unbind(0)
    splice = sample_splice_params(
        labels, num_spliced, clip_a.shape[0], generator=torch.Generator().manual_seed(int(seed))
    )
    used, local = sources_used(splice)
    sources = decode_clips(dataset, used) if decode_spliced else None
    return DrawnClips(ia, ib, clip_a, clip_b, splice, used, local, sources)


@dataclass(frozen=True)
class ValidationSources:
    """The validation videos in the seeded source order, not decoded.

    Attributes:
        table: the split table's rows (``video``, ``label``, ``class_name``) in source order.
        dataset: one centre view per video (the runs' evaluation clip geometry), decoded on access.
        labels: ``(M,)`` long labels of the sources.
        class_names: label → class name, over the whole validation split.
    """

    table: Any
    dataset: ClipDataset
    labels: Tensor
    class_names: dict[int, str]


def validation_sources(cfg: Any, *, seed: int, max_videos: int = 0) -> ValidationSources:
    """The validation split of a run's configuration as CAM sources (:func:`source_order`).

    Args:
        cfg: a run's ``tempaug.train.TrainConfig`` (its data section and clip geometry).
        seed: seed of the source order.
        max_videos: keep the first ``max_videos`` of the order (0: all).
    """
    from tempaug.train.loaders import build_eval_dataset, load_tables

    val = load_tables(cfg.data, need_train=False).eval.reset_index(drop=True)
    order = source_order(len(val), seed=seed, max_videos=max_videos)
    table = val.iloc[order.tolist()].reset_index(drop=True)
    return ValidationSources(
        table=table,
        dataset=build_eval_dataset(cfg, table, num_clips=1, num_crops=1),
        labels=torch.tensor(table["label"].tolist(), dtype=torch.long),
        class_names=dict(zip(val["label"], val["class_name"], strict=False)),
    )


def describe(sources: ValidationSources, drawn: DrawnClips) -> str:
    """Two lines: how many videos, classes and decoded clips; which videos clips A and B are."""
    clip = drawn.clip_a
    decoded = 2 + (0 if drawn.sources is None else len(drawn.used))
    names = [
        f"{sources.table['video'][i]} ({sources.class_names[int(sources.labels[i])]})"
        for i in (drawn.index_a, drawn.index_b)
    ]
    return (
        f"{len(sources.table)} source videos, {sources.labels.unique().numel()} classes; decoded "
        f"{decoded} clips of {clip.shape[0]} frames, {clip.shape[-1]}² px\n"
        f"clip A: {names[0]}; clip B: {names[1]}"
    )
