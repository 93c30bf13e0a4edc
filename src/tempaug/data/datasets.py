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

import csv
import inspect
import io
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .cache import FrameCache
from .transforms import EvalClipSpec, TrainClipSpec, crop_flip, normalize
from .video import VideoDecodeError, VideoInfo, VideoReader

__all__ = [
    "VideoClipDataset",
    "WorkerInit",
    "item_seed",
    "make_loader",
    "seed_worker",
    "set_epoch",
    "worker_init_fn",
]

log = logging.getLogger(__name__)

Mode = Literal["train", "eval"]


def item_seed(seed: int, epoch: int, index: int) -> int:
    """63-bit seed of item ``index`` in ``epoch`` (``numpy.random.SeedSequence`` mixing)."""
    values = (seed, epoch, index)
    if (
        any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in values)
        or min(values) < 0
    ):
        raise ValueError(
            f"seed, epoch and index must be integers >= 0, got {seed!r}, {epoch!r}, {index!r}"
        )
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
        eval_unit: What an eval item holds: ``"video"``, all ``num_clips * num_crops`` views of a
            video; ``"clip"``, the ``num_crops`` views of one clip (``len = videos * num_clips``),
            so a batch's memory does not grow with the number of clips (the 30-view test).
        transform: Optional callable on a uint8 ``(T, C, H, W)`` clip (e.g. ``RandAugmentT``), applied
            after crop/flip and before normalization, in both modes (each eval view separately;
            pass ``None`` for the standard evaluation). It receives ``generator=`` (the item's
            generator) when its signature accepts it; otherwise its randomness is its own.
        output: ``"float"``: normalized float32 clips; ``"uint8"``: the uint8 clip, to be
            normalized on the device with :func:`tempaug.data.transforms.normalize`.
        mean, std: Normalization statistics in ``[0, 1]`` units.
        on_error: ``"raise"``: a bad video raises :class:`VideoDecodeError` (naming the file);
            ``"skip"``: a training item is replaced by another, randomly drawn (deterministic)
            item; an evaluation item keeps its place with blank (black) views, so the video stays
            in the denominator and its score is never another video's. Either way the failure
            is logged as a warning, counted in :attr:`num_skipped` / listed in :attr:`skipped`
            (per process) and appended to ``failure_log``.
        failure_log: CSV file (``mode,epoch,row,video,reason`` lines, appended) shared by the
            DataLoader workers and ranks, so the trainer can count failures across processes.
        seed: Base seed of the per-item generators.
        max_retries: Consecutive substitutions tried in ``"skip"`` mode before giving up.
        cache_bytes: Keep decoded videos in memory up to this many bytes (0: off), so each
            video is decoded once per output size instead of once per item
            (:class:`tempaug.data.cache.FrameCache`; per process, same clips as without it).
            For small datasets such as the generated one; with cache, a video is decoded in full
            on first use, so a file that is only partly readable fails on its first item.
        cache: A :class:`tempaug.data.cache.FrameCache` to read through instead of a private
            one (e.g. :func:`tempaug.data.cache.shared_frame_cache`, shared by every dataset of
            a process); exclusive with ``cache_bytes``.

    Items:
        train: ``(clip, label, index)`` with ``clip`` ``(T, C, crop, crop)``.
        eval, ``eval_unit="video"``: ``(views, label, index)`` with ``views``
        ``(V, T, C, crop, crop)``, ``V = num_clips * num_crops``, clip-major (the crops of clip 0
        first).
        eval, ``eval_unit="clip"``: ``(views, label, index, view)``, item ``i`` holding the
        ``num_crops`` views of clip ``i % num_clips`` of row ``i // num_clips``; ``view`` is the
        position of its first view in the video's clip-major order. The frames are those of the
        ``"video"`` item (same decoded pixels); a random ``transform`` draws from the item's own
        generator, so only without one are the two units' views identical.
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
        eval_unit: Literal["video", "clip"] = "video",
        transform: Callable[..., torch.Tensor] | None = None,
        output: Literal["float", "uint8"] = "float",
        mean: Sequence[float] = (0.45, 0.45, 0.45),
        std: Sequence[float] = (0.225, 0.225, 0.225),
        on_error: Literal["raise", "skip"] = "raise",
        seed: int = 0,
        max_retries: int = 10,
        cache_bytes: int = 0,
        failure_log: str | Path | None = None,
        cache: FrameCache | None = None,
    ) -> None:
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"table must be a pandas DataFrame, got {type(table).__name__}")
        missing = {"video", "label"} - set(table.columns)
        if missing:
            raise ValueError(f"table lacks column(s) {sorted(missing)}; has {list(table.columns)}")
        if len(table) == 0:
            raise ValueError("table is empty")
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        if eval_unit not in ("video", "clip"):
            raise ValueError(f"eval_unit must be 'video' or 'clip', got {eval_unit!r}")
        if output not in ("float", "uint8"):
            raise ValueError(f"output must be 'float' or 'uint8', got {output!r}")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if not isinstance(root, str | os.PathLike) or not Path(root).is_dir():
            raise ValueError(f"root must be an existing directory, got {root!r}")
        for name, value, low in (("seed", seed, 0), ("max_retries", max_retries, 1)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if transform is not None and not callable(transform):
            raise ValueError(f"transform must be None or callable, got {transform!r}")
        if not (isinstance(scale_range, Sequence) and len(scale_range) == 2):
            raise ValueError(f"scale_range must be a pair (min, max), got {scale_range!r}")
        if isinstance(cache_bytes, bool) or not isinstance(cache_bytes, int) or cache_bytes < 0:
            raise ValueError(f"cache_bytes must be an integer >= 0, got {cache_bytes!r}")
        if cache is not None and (cache_bytes or not isinstance(cache, FrameCache)):
            raise ValueError(
                "cache must be a FrameCache and excludes cache_bytes, got "
                f"cache={cache!r}, cache_bytes={cache_bytes!r}"
            )
        stats = (mean, std)
        if not all(isinstance(v, Sequence) and len(v) == 3 for v in stats) or not all(
            isinstance(x, int | float | np.number) and not isinstance(x, bool) and np.isfinite(x)
            for v in stats
            for x in v
        ):
            raise ValueError(f"mean/std must have 3 entries with std > 0, got {mean}/{std}")
        if any(s <= 0 for s in std):
            raise ValueError(f"mean/std must have 3 entries with std > 0, got {mean}/{std}")
        labels = np.asarray(table["label"])
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"table column 'label' must hold integers >= 0, got dtype {labels.dtype} "
                f"(first values {labels[:3].tolist()})"
            )
        if labels.min() < 0:
            row = int(np.argmin(labels))
            raise ValueError(
                f"table column 'label' must hold integers >= 0, got {labels[row]} at row {row}"
            )
        bad_video = [
            i
            for i, v in enumerate(table["video"])
            if not isinstance(v, str | os.PathLike) or not str(v)
        ]
        if bad_video:
            i = bad_video[0]
            raise ValueError(
                f"table column 'video' must hold non-empty relative paths (str), got "
                f"{table['video'].iloc[i]!r} at row {i} ({len(bad_video)} such rows)"
            )
        self.root = Path(root)
        self.mode: Mode = mode
        # Fixed-width numpy arrays (no per-row Python objects: no copy-on-read in forked workers).
        self._videos = np.asarray([str(v) for v in table["video"]], dtype=np.str_)
        self._labels = labels.astype(np.int64)
        k = table.attrs.get("num_classes")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1):
            raise ValueError(f"table.attrs['num_classes'] must be an integer >= 1, got {k!r}")
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
        self.eval_unit = eval_unit
        self.clip_len, self.crop_size = int(clip_len), int(crop_size)
        self.transform = transform
        self._transform_takes_generator = transform is not None and _accepts_generator(transform)
        self.output = output
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.on_error = on_error
        self.seed = int(seed)
        self.max_retries = int(max_retries)
        self.cache = (
            cache if cache is not None else (FrameCache(cache_bytes) if cache_bytes > 0 else None)
        )
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self.num_skipped = 0
        self.skipped: list[str] = []
        self.failure_log = None if failure_log is None else Path(failure_log)

    # ------------------------------------------------------------------ bookkeeping

    def __len__(self) -> int:
        return len(self._labels) * self._clips_per_row

    @property
    def _clips_per_row(self) -> int:
        """Items per table row: ``num_clips`` for per-clip eval items, else 1."""
        if self.mode == "eval" and self.eval_unit == "clip":
            return self.eval_spec.num_clips
        return 1

    @property
    def num_views(self) -> int:
        """Views per video: ``num_clips * num_crops`` in eval mode, 1 in train mode."""
        return self.eval_spec.num_views if self.eval_spec is not None else 1

    @property
    def labels(self) -> torch.Tensor:
        """Labels of all table rows (not items), int64 ``(N,)`` (a copy)."""
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
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
            raise ValueError(f"epoch must be an integer >= 0, got {epoch!r}")
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

    def __getitem__(self, index: int) -> tuple:
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise ValueError(f"dataset index must be an integer, got {index!r}")
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} items")
        index = int(index) % n
        g = self.generator(index)
        per_clip = self.mode == "eval" and self.eval_unit == "clip"
        row, clip = divmod(index, self._clips_per_row) if per_clip else (index, None)
        for attempt in range(self.max_retries + 1):
            try:
                views = self._load(row, g, clip)
                if clip is None:
                    return views, int(self._labels[row]), row
                return views, int(self._labels[row]), row, clip * self.eval_spec.num_crops
            except VideoDecodeError as e:
                if self.on_error == "raise":
                    raise
                self.num_skipped += 1
                self.skipped.append(str(self._videos[row]))
                self._record_failure(row, e)
                if self.mode == "eval":
                    # The video keeps its place (and its label) in the evaluation: blank views,
                    # counted as a failure, never another video's clip under its name.
                    log.warning("unreadable video %s (%s): blank views", e.path, e.reason)
                    views = self._blank_views(clip)
                    if clip is None:
                        return views, int(self._labels[row]), row
                    return views, int(self._labels[row]), row, clip * self.eval_spec.num_crops
                if attempt == self.max_retries:
                    raise VideoDecodeError(
                        e.path, f"{e.reason} (and {self.max_retries} substitutes failed)"
                    ) from e
                substitute = int(torch.randint(0, len(self._labels), (1,), generator=g))
                log.warning(
                    "skipping unreadable video %s (%s); substituting row %d [%d skipped so far]",
                    e.path,
                    e.reason,
                    substitute,
                    self.num_skipped,
                )
                row = substitute
        raise AssertionError("unreachable")  # pragma: no cover

    def _record_failure(self, row: int, error: VideoDecodeError) -> None:
        """Append ``mode,epoch,row,video,reason`` to :attr:`failure_log` (one short line: an
        ``O_APPEND`` write, so DataLoader workers and ranks can share the file)."""
        if self.failure_log is None:
            return
        buf = io.StringIO()
        reason = " ".join(str(error.reason).split())
        csv.writer(buf, lineterminator="\n").writerow(
            [self.mode, self.epoch, row, str(self._videos[row]), reason[:200]]
        )
        self.failure_log.parent.mkdir(parents=True, exist_ok=True)
        with self.failure_log.open("a", encoding="utf-8") as fh:
            fh.write(buf.getvalue())

    def _blank_views(self, clip: int | None) -> torch.Tensor:
        """Black views in place of an unreadable video's (eval mode)."""
        views = (
            self.eval_spec.num_crops
            if clip is not None
            else (self.eval_spec.num_clips * self.eval_spec.num_crops)
        )
        blank = torch.zeros(self.clip_len, 3, self.crop_size, self.crop_size, dtype=torch.uint8)
        return torch.stack([self._finish(blank)] * views)

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

    def _load(self, row: int, g: torch.Generator, clip: int | None = None) -> torch.Tensor:
        path = self.root / str(self._videos[row])
        if self.cache is not None:
            return self._clips(self.cache.info(path), partial(self.cache.read, path), g, clip)
        with VideoReader(path) as reader:
            return self._clips(reader.info, reader.read, g, clip)

    def _clips(
        self,
        info: VideoInfo,
        read: Callable[..., torch.Tensor],
        g: torch.Generator,
        clip: int | None = None,
    ) -> torch.Tensor:
        """Sample, decode (``read(indices, size=...)``) and crop this item's clip or views.

        ``clip``: in eval mode, only that clip's crops (``None``: every view of the video).
        """
        if self.mode == "train":
            p = self.train_spec.draw_params(info.num_frames, info.height, info.width, generator=g)
            frames = read(p.indices, size=(p.out_height, p.out_width))
            out = crop_flip(frames, p.top, p.left, self.train_spec.crop_size, p.flip)
            return self._finish(self._apply_transform(out, g))
        spec = self.eval_spec
        views = spec.plan(info.num_frames, info.height, info.width)
        if clip is not None:
            views = views[clip * spec.num_crops : (clip + 1) * spec.num_crops]
        first = views[0].clip
        frames = read(
            np.concatenate([v.indices for v in views[:: spec.num_crops]]),
            size=spec.resized(info.height, info.width),
        )
        t, c = spec.clip_len, spec.crop_size
        out = []
        for v in views:
            k = v.clip - first
            x = crop_flip(frames[k * t : (k + 1) * t], v.top, v.left, c, False)
            out.append(self._finish(self._apply_transform(x, g)))
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


def _worker_context(preload: Sequence[str]) -> Any:
    """Workers start from a clean forkserver (with ``preload`` imported), not a fork of the caller.

    A plain ``fork`` copies the caller's library state: after OpenCV ran in the main process
    (RandAugment-T on a CPU device batch), ``cv2.setNumThreads`` in a forked worker deadlocks.
    The forkserver is a fresh interpreter that imports the dataset and augmentation modules
    once; forking workers from it is cheap. (Preloading names modules; nothing is imported here.)
    """
    ctx = torch.multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))
    return ctx


def _exit_when_gone(pid: int, interval_s: float) -> None:
    while True:
        time.sleep(interval_s)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # pragma: no cover - pid reused by another user's process
            os._exit(0)


class WorkerInit:
    """``worker_init_fn``: :func:`seed_worker`, one OpenCV thread, and a watchdog on the owner.

    PyTorch gives each worker one intra-op thread; OpenCV would still start a pool of one thread
    per core in every worker (resizes and RandAugment-T ops), oversubscribing the machine by
    ``num_workers × cores``. ``cv2.setNumThreads(1)`` is safe here because the worker is a fresh
    child of the forkserver, whose OpenCV pool never ran (unlike a plain fork of the trainer).
    A forkserver worker's parent is the forkserver, so PyTorch's own watchdog (which watches
    the parent) would keep it alive after the trainer is killed (SIGKILL, OOM): a daemon thread
    exits the worker as soon as the owner process is gone.
    """

    def __init__(self, owner_pid: int, interval_s: float = 1.0) -> None:
        self.owner_pid = owner_pid
        self.interval_s = interval_s

    def __call__(self, worker_id: int) -> None:
        seed_worker(worker_id)
        import cv2

        cv2.setNumThreads(1)
        threading.Thread(
            target=_exit_when_gone,
            args=(self.owner_pid, self.interval_s),
            name="tempaug-loader-watchdog",
            daemon=True,
        ).start()


def make_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    train: bool,
    seed: int,
    num_workers: int = 0,
    rank: int = 0,
    world_size: int = 1,
    pin_memory: bool = False,
    preload: Sequence[str] = ("tempaug.data.datasets", "tempaug.augment"),
) -> DataLoader:
    """The project's one DataLoader factory: this rank's shard of ``dataset``.

    Sampling is a ``DistributedSampler(num_replicas=world_size, rank=rank, seed=seed)`` in every
    case, so an epoch's order depends only on ``(seed, epoch)`` (call :func:`set_epoch`).
    Training shuffles and drops the last incomplete batch; evaluation keeps the dataset order and
    pads the shards to equal length (callers remove the duplicates after gathering). Workers
    start from a forkserver (:func:`_worker_context`), run :class:`WorkerInit` and persist
    across epochs when training. The loader's own generator (which seeds the workers) is
    ``seed + 7919 * rank``; the trainer checkpoints it.

    Args:
        dataset: e.g. a :class:`VideoClipDataset`.
        batch_size: items per batch on this rank (views for ``eval_unit="clip"`` items of one
            view; ``num_crops`` views per item otherwise).
        train: shuffle, drop the last batch and keep workers alive across epochs.
        seed: sampler and generator seed.
        num_workers: worker processes (0 = load in this process).
        rank, world_size: this process's place in a DDP job.
        pin_memory: page-locked batches (for CUDA).
        preload: modules the forkserver imports once for all workers.
    """
    sampler = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=train, seed=seed, drop_last=False
    )
    kwargs: dict[str, Any] = {}
    if num_workers > 0:
        kwargs["multiprocessing_context"] = _worker_context(preload)
        # Training workers persist across epochs: VideoClipDataset keeps its epoch in shared
        # memory, so set_epoch reaches them, and item randomness is f(seed, epoch, index).
        kwargs.update(
            worker_init_fn=WorkerInit(os.getpid()), prefetch_factor=2, persistent_workers=train
        )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        drop_last=train,
        pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(seed + 7919 * rank),
        **kwargs,
    )


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Call ``set_epoch(epoch)`` on the loader's sampler and dataset where they have it."""
    for obj in (loader.sampler, loader.dataset):
        fn = getattr(obj, "set_epoch", None)
        if callable(fn):
            fn(epoch)
