"""``VideoClipDataset``: split table + video root -> training clips or evaluation views.

Implements the clip pipeline of paper Section 4.1 on top of :mod:`tempaug.data.video` (PyAV,
partial decoding, resize inside the RGB conversion) and :mod:`tempaug.data.transforms`.

Randomness: there is no global RNG anywhere. Item ``i`` of epoch ``e`` draws everything (clip
start, scale, crop, flip, the optional ``transform``, the substitute of a bad video) from its own
``torch.Generator`` seeded from ``(seed, e, i)``. Items are therefore independent of the number of
DataLoader workers, of their scheduling and of the batch size, and a trainer that resumes at epoch
``e`` reproduces the same clips bit for bit. :meth:`VideoClipDataset.set_epoch` stores the epoch in
shared memory so persistent workers see it (call it before iterating the loader, as with
``DistributedSampler.set_epoch``).
"""

from __future__ import annotations

import inspect
import logging
import os
import random
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from .cache import FrameCache
from .transforms import EvalClipSpec, TrainClipSpec, crop_flip, normalize
from .video import VideoDecodeError, VideoInfo, VideoReader

__all__ = [
    "VideoClipDataset",
    "item_seed",
    "make_dataloader",
    "seed_worker",
    "set_epoch",
    "worker_init_fn",
]

log = logging.getLogger(__name__)

Mode = Literal["train", "eval"]


def item_seed(seed: int, epoch: int, index: int) -> int:
    """63-bit seed of item ``index`` in ``epoch`` (``numpy.random.SeedSequence`` mixing)."""
    if min(seed, epoch, index) < 0:
        raise ValueError(f"seed, epoch and index must be >= 0, got {seed}, {epoch}, {index}")
    state = np.random.SeedSequence([seed, epoch, index]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def _accepts_generator(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "generator" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class VideoClipDataset(Dataset):
    """Clips (train) or all evaluation views (eval) of the videos listed in a split table.

    Args:
        table: Split DataFrame (from :mod:`tempaug.data.splits`) with columns ``video`` (path
            relative to ``root``) and ``label`` (0-based). Rows are used in table order; filter
            ``subset`` beforehand. ``table.attrs["num_classes"]`` (set by the split parsers) gives
            :attr:`num_classes`, otherwise ``max(label) + 1``.
        root: Dataset root (e.g. the ``UCF-101`` folder).
        mode: ``"train"`` (one random clip per item) or ``"eval"`` (all views of the video).
        clip_len: Frames per clip (paper: 64).
        frame_stride: Temporal stride (paper: 1).
        crop_size: Square crop side (paper: 160).
        scale_range: Inclusive random short-side range for training (paper: ``(160, 200)``).
        hflip_p: Training horizontal-flip probability (paper: 0.5).
        num_clips: Evaluation clips per video, uniformly spaced (paper: 10).
        num_crops: Evaluation crops per clip: 1 = centre, 3 = left/centre/right.
        transform: Optional callable on a uint8 ``(T, C, H, W)`` clip (e.g. ``RandAugmentT``), applied
            after crop/flip and before normalization, in both modes (each eval view separately;
            pass ``None`` for the standard evaluation). It receives ``generator=`` (the item's
            generator) when its signature accepts it; otherwise its randomness is its own.
        output: ``"float"``: normalized float32 clips; ``"uint8"``: the uint8 clip, to be
            normalized on the device with :func:`tempaug.data.transforms.normalize`.
        mean, std: Normalization statistics in ``[0, 1]`` units.
        on_error: ``"raise"``: a bad video raises :class:`VideoDecodeError` (naming the file);
            ``"skip"``: it is replaced by another, randomly drawn (deterministic) item, logged as a
            warning and counted in :attr:`num_skipped` / listed in :attr:`skipped` (per process:
            DataLoader workers keep their own counts; the warnings reach the log). For evaluation
            prefer dropping bad rows with :func:`tempaug.data.video.scan` beforehand, since a
            substitute repeats another video (its ``index`` is returned, so it can be detected).
        seed: Base seed of the per-item generators.
        max_retries: Consecutive substitutions tried in ``"skip"`` mode before giving up.
        cache_bytes: Keep decoded videos in memory up to this many bytes (0: off), so each
            video is decoded once per output size instead of once per item
            (:class:`tempaug.data.cache.FrameCache`; per process, same clips as without it).
            For small datasets such as the generated one; with cache, a video is decoded in full
            on first use, so a file that is only partly readable fails on its first item.

    Items:
        train: ``(clip, label, index)`` with ``clip`` ``(T, C, crop, crop)``.
        eval: ``(views, label, index)`` with ``views`` ``(V, T, C, crop, crop)``,
        ``V = num_clips * num_crops``, clip-major (the crops of clip 0 first).
        ``label`` is an ``int``; ``index`` is the table row actually loaded (the substitute's row
        when a bad video was skipped). uint8 clips keep the decoder's channels-last memory.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        root: str | os.PathLike[str],
        *,
        mode: Mode = "train",
        clip_len: int = 64,
        frame_stride: int = 1,
        crop_size: int = 160,
        scale_range: tuple[int, int] = (160, 200),
        hflip_p: float = 0.5,
        num_clips: int = 10,
        num_crops: int = 1,
        transform: Callable[..., torch.Tensor] | None = None,
        output: Literal["float", "uint8"] = "float",
        mean: Sequence[float] = (0.45, 0.45, 0.45),
        std: Sequence[float] = (0.225, 0.225, 0.225),
        on_error: Literal["raise", "skip"] = "raise",
        seed: int = 0,
        max_retries: int = 10,
        cache_bytes: int = 0,
    ) -> None:
        missing = {"video", "label"} - set(table.columns)
        if missing:
            raise ValueError(f"table lacks column(s) {sorted(missing)}; has {list(table.columns)}")
        if len(table) == 0:
            raise ValueError("table is empty")
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        if output not in ("float", "uint8"):
            raise ValueError(f"output must be 'float' or 'uint8', got {output!r}")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        if max_retries < 1:
            raise ValueError(f"max_retries must be >= 1, got {max_retries}")
        if isinstance(cache_bytes, bool) or not isinstance(cache_bytes, int) or cache_bytes < 0:
            raise ValueError(f"cache_bytes must be an integer >= 0, got {cache_bytes!r}")
        if len(mean) != 3 or len(std) != 3 or any(s <= 0 for s in std):
            raise ValueError(f"mean/std must have 3 entries with std > 0, got {mean}/{std}")
        labels = np.asarray(table["label"])
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
            raise ValueError("table column 'label' must hold integers >= 0")
        self.root = Path(root)
        self.mode: Mode = mode
        # Fixed-width numpy arrays (no per-row Python objects: no copy-on-read in forked workers).
        self._videos = np.asarray([str(v) for v in table["video"]], dtype=np.str_)
        self._labels = labels.astype(np.int64)
        k = table.attrs.get("num_classes")
        self.num_classes = int(k) if k is not None else int(self._labels.max()) + 1
        if self._labels.max() >= self.num_classes:
            raise ValueError(
                f"labels must be < num_classes={self.num_classes}, got max {self._labels.max()}"
            )
        self.classes: list[str] | None = (
            list(table.attrs["classes"]) if "classes" in table.attrs else None
        )
        # Only the active mode's parameters are validated (an eval crop may exceed scale_range).
        self.train_spec: TrainClipSpec | None = None
        self.eval_spec: EvalClipSpec | None = None
        if mode == "train":
            self.train_spec = TrainClipSpec(
                clip_len, frame_stride, crop_size, tuple(scale_range), hflip_p
            )
        else:
            self.eval_spec = EvalClipSpec(clip_len, frame_stride, crop_size, num_clips, num_crops)
        self.clip_len, self.crop_size = int(clip_len), int(crop_size)
        self.transform = transform
        self._transform_takes_generator = transform is not None and _accepts_generator(transform)
        self.output = output
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.on_error = on_error
        self.seed = int(seed)
        self.max_retries = int(max_retries)
        self.cache = FrameCache(cache_bytes) if cache_bytes > 0 else None
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self.num_skipped = 0
        self.skipped: list[str] = []

    # ------------------------------------------------------------------ bookkeeping

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def labels(self) -> torch.Tensor:
        """Labels of all rows, int64 ``(N,)`` (a copy)."""
        return torch.from_numpy(self._labels.copy())

    @property
    def videos(self) -> list[str]:
        """Video paths relative to :attr:`root`, in row order."""
        return self._videos.tolist()

    @property
    def epoch(self) -> int:
        """Current epoch (part of every item's seed)."""
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch used in item seeds; visible to already-running (persistent) workers."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self._epoch.fill_(int(epoch))

    def generator(self, index: int, epoch: int | None = None) -> torch.Generator:
        """The per-item generator seeded from ``(seed, epoch, index)``."""
        e = self.epoch if epoch is None else epoch
        return torch.Generator().manual_seed(item_seed(self.seed, e, index))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={len(self)}, mode={self.mode!r}, root={str(self.root)!r}, "
            f"clip_len={self.clip_len}, crop_size={self.crop_size}, "
            f"output={self.output!r}, on_error={self.on_error!r}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ loading

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} items")
        index = int(index) % n
        g = self.generator(index)
        row = index
        for attempt in range(self.max_retries + 1):
            try:
                return self._load(row, g), int(self._labels[row]), row
            except VideoDecodeError as e:
                if self.on_error == "raise":
                    raise
                self.num_skipped += 1
                self.skipped.append(str(self._videos[row]))
                if attempt == self.max_retries:
                    raise VideoDecodeError(
                        e.path, f"{e.reason} (and {self.max_retries} substitutes failed)"
                    ) from e
                substitute = int(torch.randint(0, n, (1,), generator=g))
                log.warning(
                    "skipping unreadable video %s (%s); substituting row %d [%d skipped so far]",
                    e.path,
                    e.reason,
                    substitute,
                    self.num_skipped,
                )
                row = substitute
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply_transform(self, clip: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if self.transform is None:
            return clip
        if self._transform_takes_generator:
            return self.transform(clip, generator=g)
        return self.transform(clip)

    def _finish(self, clip: torch.Tensor) -> torch.Tensor:
        if self.output == "uint8":
            return clip
        return normalize(clip, self.mean, self.std)

    def _load(self, row: int, g: torch.Generator) -> torch.Tensor:
        path = self.root / str(self._videos[row])
        if self.cache is not None:
            return self._clips(self.cache.info(path), partial(self.cache.read, path), g)
        with VideoReader(path) as reader:
            return self._clips(reader.info, reader.read, g)

    def _clips(
        self, info: VideoInfo, read: Callable[..., torch.Tensor], g: torch.Generator
    ) -> torch.Tensor:
        """Sample, decode (``read(indices, size=...)``) and crop this item's clip or views."""
        if self.mode == "train":
            p = self.train_spec.sample(info.num_frames, info.height, info.width, generator=g)
            frames = read(p.indices, size=(p.out_height, p.out_width))
        else:
            views = self.eval_spec.plan(info.num_frames, info.height, info.width)
            frames = read(
                np.concatenate([v.indices for v in views[:: self.eval_spec.num_crops]]),
                size=self.eval_spec.resized(info.height, info.width),
            )
        if self.mode == "train":
            clip = crop_flip(frames, p.top, p.left, self.train_spec.crop_size, p.flip)
            return self._finish(self._apply_transform(clip, g))
        t = self.eval_spec.clip_len
        c = self.eval_spec.crop_size
        out = []
        for v in views:
            clip = crop_flip(frames[v.clip * t : (v.clip + 1) * t], v.top, v.left, c, False)
            out.append(self._finish(self._apply_transform(clip, g)))
        return torch.stack(out)


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed Python's and NumPy's global RNGs from torch's worker seed.

    tempaug itself never uses these global RNGs (every draw takes a ``torch.Generator``); this only
    makes third-party code that does (e.g. a user ``transform``) reproducible per worker.

    It deliberately does not call ``cv2.setNumThreads``: in a *forked* worker whose parent has
    already used OpenCV's thread pool that call deadlocks (seen with RandAugment-T's OpenCV path).
    """
    s = torch.initial_seed() % 2**32
    random.seed(s)
    np.random.seed(s)  # noqa: NPY002 - seeding third-party global state is the point here


#: Alias of :func:`seed_worker` under the DataLoader argument's name.
worker_init_fn = seed_worker


def make_dataloader(
    dataset: Dataset,
    *,
    batch_size: int,
    shuffle: bool,
    num_workers: int = 0,
    seed: int = 0,
    drop_last: bool = False,
    pin_memory: bool | None = None,
    sampler: Sampler | None = None,
    prefetch_factor: int | None = None,
) -> DataLoader:
    """A DataLoader wired for reproducible, resumable training.

    Shuffling uses a ``DistributedSampler(num_replicas=1, rank=0, seed=seed)`` (pass your own
    ``sampler`` under DDP), whose order depends only on ``(seed, epoch)``; call :func:`set_epoch`
    each epoch. Workers are persistent, seeded by :func:`seed_worker`, and memory is pinned when
    CUDA is available (unless ``pin_memory`` says otherwise).
    """
    if sampler is None and shuffle:
        sampler = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=seed)
    kwargs: dict = {}
    if num_workers > 0:
        kwargs.update(
            persistent_workers=True,
            worker_init_fn=seed_worker,
            prefetch_factor=prefetch_factor if prefetch_factor is not None else 2,
        )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=drop_last,
        pin_memory=torch.cuda.is_available() if pin_memory is None else pin_memory,
        generator=torch.Generator().manual_seed(seed),
        **kwargs,
    )


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Call ``set_epoch(epoch)`` on the loader's sampler and dataset where they have it."""
    for obj in (loader.sampler, loader.dataset):
        fn = getattr(obj, "set_epoch", None)
        if callable(fn):
            fn(epoch)
