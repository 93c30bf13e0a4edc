"""Typed training configuration (paper Section 4.1 recipe) with YAML loading and validation.

A :class:`TrainConfig` is a tree of small dataclasses, one per ``params.yaml`` section
(``data``, ``model``, ``optim``, ``aug``, ``eval``, ``runtime``) plus ``seed`` and ``out_dir``.
Defaults are the paper's recipe: SlowFast-50, 64×160² clips, scale jitter [160, 200], batch 16,
Adam lr 1e-4, weight decay 1e-5, linear warm-up then cosine decay, 150 epochs, 10-clip test.

Every value is checked against its field's type and range; a bad key or value raises
:class:`ConfigError` (a ``ValueError``) whose message names the dotted key, e.g.
``optim.lr``. ``from_yaml(path, ["optim.lr=1e-3", "aug.mix=fademixup"])`` applies
command-line style overrides (values are parsed as YAML, so lists and dicts work).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "MIX_METHODS",
    "RESUME_IGNORED_KEYS",
    "AugConfig",
    "ConfigError",
    "DataConfig",
    "EvalConfig",
    "ModelConfig",
    "OptimConfig",
    "RuntimeConfig",
    "TrainConfig",
    "run_differences",
]

MIX_METHODS = (
    "none",
    "cutout",
    "framecutout",
    "cubecutout",
    "cutmix",
    "framecutmix",
    "cubecutmix",
    "mixup",
    "fademixup",
    "cutmixup",
    "framecutmixup",
    "cubecutmixup",
)
"""Names accepted by ``tempaug.augment.build`` (paper Table 1, plus ``"none"``)."""

_RANDAUG_KEYS = ("num_ops", "magnitude", "mode", "ops", "num_magnitude_bins", "fill")


RESUME_IGNORED_KEYS = frozenset(
    {
        "out_dir",
        "data.num_workers",
        "data.cache_mb",
        "runtime.save_every",
        "runtime.keep_every",
        "runtime.resume",
        "runtime.progress",
        "runtime.debug_indices",
    }
)
"""Keys that do not change a run's results, so ``runtime.resume="auto"`` ignores them: where the
run lives, how data is loaded (data randomness is a function of ``(seed, epoch, index)``, not
of the worker count; the frame cache only saves decoding), checkpoint cadence and reporting.
Every other key — the data tables and geometry, model, optimizer, augmentation, evaluation,
seed, device and numerics (``amp``, ``compile``, ``channels_last``, ``deterministic``,
``cudnn_benchmark``, ``sync_bn``) — defines the run."""


class ConfigError(ValueError):
    """A configuration key or value is invalid; the message names the dotted key."""


@dataclass
class DataConfig:
    """Dataset tables and clip sampling (paper Section 4.1, "basic data augmentation").

    Attributes:
        train_table: training split, a CSV path or a ``pandas.DataFrame`` with columns
            ``video, label`` (``tempaug.data.splits`` tables also carry ``class_name, subset``).
        eval_table: the split the run is evaluated on (VIPriors validation, or the test split of
            HMDB-51 and VIPriors-test runs), same format.
        video_root: directory the ``video`` column is relative to.
        num_classes: number of classes; ``None`` → ``max(label) + 1`` over both tables.
        clip_len: frames per clip (64 in the paper).
        frame_stride: temporal stride when sampling a clip from the video.
        crop_size: square crop size (160).
        scale_range: random short-side scale jitter ``(min, max)`` ([160, 200]).
        hflip_p: horizontal-flip probability (0.5).
        mean: per-channel normalization mean (applied on the device batch).
        std: per-channel normalization std.
        num_workers: DataLoader worker processes (0 = load in the main process).
        on_error: ``"skip"`` (default): a video that fails to decode during a run never stops
            it — a training clip is replaced by another, an evaluation video gets blank views —
            and every failure is recorded in ``decode_failures.csv`` and counted in
            ``metrics.json``; ``"raise"`` stops at the first one (for debugging a dataset).
            Videos unreadable at preparation time never reach a run
            (:func:`tempaug.pipeline.prepare_data` leaves them out).
        cache_mb: decoded-frame cache per loading process, in MiB; 0 = off
            (:func:`tempaug.data.cache.shared_frame_cache`). The training and periodic
            validation sets read through it, and the final evaluation too when loading in the
            main process (``num_workers=0``); one cache serves every run of the process, so each
            video is decoded once per scale instead of once per epoch and run: for small datasets.
    """

    train_table: Any = None
    eval_table: Any = None
    video_root: str = ""
    num_classes: int | None = None
    clip_len: int = 64
    frame_stride: int = 1
    crop_size: int = 160
    scale_range: tuple[int, int] = (160, 200)
    hflip_p: float = 0.5
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    num_workers: int = 4
    on_error: Literal["raise", "skip"] = "skip"
    cache_mb: int = 0


@dataclass
class ModelConfig:
    """Model name (a key of ``tempaug.models.MODEL_BUILDERS``) and builder arguments.

    ``num_classes``, ``clip_len`` and ``crop_size`` are filled in from :class:`DataConfig`
    unless given in ``kwargs``.
    """

    name: str = "slowfast50"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimConfig:
    """Adam + linear warm-up + cosine decay, stepped per iteration (Section 4.1).

    Attributes:
        epochs: training epochs (150).
        batch_size: global batch size, split evenly over DDP processes (16).
        lr: peak learning rate (1e-4).
        weight_decay: Adam's (L2) weight decay (1e-5).
        warmup_epochs: warm-up length; ``None`` → ``epochs // 10`` as in the authors' code.
        warmup_start_factor: learning-rate factor at the first warm-up iteration.
        min_lr: final learning rate of the cosine decay.
    """

    epochs: int = 150
    batch_size: int = 16
    lr: float = 1e-4
    weight_decay: float = 1e-5
    warmup_epochs: int | None = None
    warmup_start_factor: float = 0.01
    min_lr: float = 0.0


@dataclass
class AugConfig:
    """Data-level (RandAugment-T) and batch-level (delete/mix) augmentation (Section 3).

    Attributes:
        randaugment: ``None`` or keyword arguments of ``tempaug.augment.RandAugmentT``
            (``num_ops``, ``magnitude``, ``mode``, ``ops``, ``num_magnitude_bins``, ``fill``).
        augment_on: apply RandAugment-T per clip in the loader workers (``"worker"``) or on
            the uint8 device batch before normalization (``"device"``).
        mix: a name of :data:`MIX_METHODS`; applied to the normalized full-rate device batch
            before the model splits it into pathways.
        mix_kwargs: keyword arguments for ``tempaug.augment.build(mix, ...)``.
    """

    randaugment: dict[str, Any] | None = None
    augment_on: Literal["worker", "device"] = "worker"
    mix: str = "none"
    mix_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalConfig:
    """Multi-view evaluation (Section 4.1: 10 clips; 30 views for the challenge).

    Attributes:
        num_clips: clips sampled uniformly along time per video in the final evaluation.
        num_crops: spatial crops per clip (1 = centre, 3 = left/centre/right → 30 views).
        batch_size: clips per evaluation batch, each with its ``num_crops`` views (so a batch holds
            ``batch_size * num_crops`` views however many clips a video has: the 30-view test
            does not multiply memory).
        every: validate every N epochs during training (0 = only the final evaluation).
        epoch_num_clips: clips per video in the per-epoch validation (centre crop).
    """

    num_clips: int = 10
    num_crops: int = 1
    batch_size: int = 4
    every: int = 1
    epoch_num_clips: int = 1


@dataclass
class RuntimeConfig:
    """Device, precision, checkpointing and logging.

    Attributes:
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        amp: CUDA autocast (bf16 where supported, else fp16 with a grad scaler).
        compile: wrap the training step's model in ``torch.compile`` (evaluation stays eager).
        channels_last: ``channels_last_3d`` weights and inputs (CUDA only).
        cudnn_benchmark: ``torch.backends.cudnn.benchmark`` (ignored if ``deterministic``).
        deterministic: ``torch.use_deterministic_algorithms(True)``.
        sync_bn: ``SyncBatchNorm`` across processes under DDP on CUDA (the paper trained on
            one GPU with batch 16; syncing keeps BatchNorm statistics over the global batch).
        save_every: write ``checkpoints/last.pt`` every N epochs (and always at the end).
        keep_every: also keep ``checkpoints/epoch_XXXX.pt`` every N epochs (0 = never).
        resume: ``False`` starts from scratch (overwriting); ``True`` continues from
            ``checkpoints/last.pt`` when it exists and refuses (``ConfigError``) when the
            optimizer, model, augmentation or seed changed; ``"auto"`` continues only when the
            checkpoint's configuration equals this one in every key that defines the run
            (:func:`run_differences`), else logs the differing keys, removes the stale
            checkpoints and results and starts from scratch (for pipelines: rerun = resume).
        progress: tqdm bars (only on rank 0 and only when stderr is a TTY); the one-line
            epoch report on stdout and in ``train.log`` is always written.
        debug_indices: every rank appends ``epoch index`` lines of the training samples it
            saw to ``debug/rank{r}_indices.txt`` and, after training, writes the SHA-256 of
            its model parameters to ``debug/rank{r}_params.sha256`` (used to test DDP).
    """

    device: str = "auto"
    amp: bool = True
    compile: bool = False
    channels_last: bool = True
    cudnn_benchmark: bool = True
    deterministic: bool = False
    sync_bn: bool = True
    save_every: int = 1
    keep_every: int = 0
    resume: bool | Literal["auto"] = False
    progress: bool = True
    debug_indices: bool = False


_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "optim": OptimConfig,
    "aug": AugConfig,
    "eval": EvalConfig,
    "runtime": RuntimeConfig,
}


@dataclass
class TrainConfig:
    """The whole training run: one section per ``params.yaml`` section plus seed and output.

    Attributes:
        seed: seeds model init, the sampler, the per-item data randomness and augmentation.
        out_dir: where ``metrics.json``, ``history.csv``, ``scores.csv``, ``config.yaml`` and
            ``checkpoints/`` are written.
    """

    seed: int = 0
    out_dir: str = "runs/train"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    aug: AugConfig = field(default_factory=AugConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None = None) -> TrainConfig:
        """Build from a nested mapping (``{"optim": {"lr": 1e-3}, "seed": 1, ...}``).

        Raises:
            ConfigError: unknown key or invalid value (the message names the dotted key).
        """
        values = dict(values or {})
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key in _SECTIONS:
                section_cls = _SECTIONS[key]
                if value is None:
                    value = {}
                if isinstance(value, section_cls):
                    value = dataclasses.asdict(value) if not _has_frames(value) else vars(value)
                if not isinstance(value, Mapping):
                    raise ConfigError(f"config section {key!r} must be a mapping, got {value!r}")
                kwargs[key] = _build_section(key, section_cls, value)
            elif key in ("seed", "out_dir"):
                kwargs[key] = _coerce(key, _hints(cls)[key], value)
            else:
                raise ConfigError(
                    f"unknown config key {key!r}; allowed top-level keys: "
                    f"{sorted(['seed', 'out_dir', *_SECTIONS])}"
                )
        return cls(**kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path | None, overrides: Sequence[str] = ()) -> TrainConfig:
        """Load a YAML file (sections as in :class:`TrainConfig`) and apply overrides.

        Args:
            path: YAML file, or ``None`` to start from the defaults.
            overrides: ``"section.key=value"`` strings (``value`` parsed as YAML; a string
                that looks like a float, e.g. ``1e-4``, is accepted for float fields).

        Raises:
            ConfigError: unreadable file, malformed override, unknown key or bad value.
        """
        values: dict[str, Any] = {}
        if path is not None:
            path = Path(path)
            if not path.is_file():
                raise ConfigError(f"config file {str(path)!r} does not exist")
            loaded = yaml.safe_load(path.read_text())
            if loaded is None:
                loaded = {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"config file {str(path)!r} must hold a mapping at top level")
            values = loaded
        return cls.from_dict(apply_overrides(values, overrides))

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """A plain nested dict (DataFrame tables become ``"<DataFrame: N rows>"``)."""
        out: dict[str, Any] = {"seed": self.seed, "out_dir": self.out_dir}
        for name in _SECTIONS:
            section = getattr(self, name)
            sec: dict[str, Any] = {}
            for f in dataclasses.fields(section):
                value = getattr(section, f.name)
                if _is_frame(value):
                    value = f"<DataFrame: {len(value)} rows>"
                elif isinstance(value, tuple):
                    value = list(value)
                elif isinstance(value, dict):
                    value = _plain(value)
                sec[f.name] = value
            out[name] = sec
        return out

    def replace(self, **changes: Any) -> TrainConfig:
        """A validated copy with dotted-key changes, e.g. ``cfg.replace(**{"optim.lr": 1e-3})``."""
        values = self.to_dict()
        # keep DataFrames (to_dict replaced them by a description)
        values["data"]["train_table"] = self.data.train_table
        values["data"]["eval_table"] = self.data.eval_table
        for key, value in changes.items():
            _set_dotted(values, key, value)
        return TrainConfig.from_dict(values)

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check types and ranges of every field.

        Raises:
            ConfigError: naming the first bad dotted key and its allowed range.
        """
        for name, section_cls in _SECTIONS.items():
            section = getattr(self, name)
            if not isinstance(section, section_cls):
                raise ConfigError(f"config section {name!r} must be a {section_cls.__name__}")
            hints = _hints(section_cls)
            for f in dataclasses.fields(section):
                setattr(
                    section,
                    f.name,
                    _coerce(f"{name}.{f.name}", hints[f.name], getattr(section, f.name)),
                )
        self.seed = _coerce("seed", int, self.seed)
        self.out_dir = _coerce("out_dir", str, self.out_dir)
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        _validate_ranges(self)


# ---------------------------------------------------------------------- helpers
def run_differences(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    ignore: frozenset[str] = RESUME_IGNORED_KEYS,
) -> list[str]:
    """Dotted keys whose values differ between two ``TrainConfig.to_dict()`` trees.

    Keys in ``ignore`` (and keys below them) are skipped; a key present in one tree only
    counts as a difference. Used by ``runtime.resume="auto"``.

    Returns:
        Sorted ``"key: saved -> current"`` strings (empty when the runs are the same).
    """
    out: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        if prefix in ignore:
            return
        # Sections recurse; dict-valued fields (model.kwargs, aug.mix_kwargs) compare whole.
        if isinstance(a, Mapping) and isinstance(b, Mapping) and prefix.count(".") < 1:
            for key in sorted(set(a) | set(b), key=str):
                walk(
                    a.get(key, _MISSING),
                    b.get(key, _MISSING),
                    f"{prefix}.{key}" if prefix else str(key),
                )
        elif a != b or (type(a) is not type(b) and not _same_number(a, b)):
            out.append(f"{prefix}: {_show(a)} -> {_show(b)}")

    walk(saved, current, "")
    return sorted(out)


_MISSING = object()


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def _show(value: Any) -> str:
    return "<missing>" if value is _MISSING else repr(value)


def _validate_ranges(cfg: TrainConfig) -> None:
    d, o, a, e, r = cfg.data, cfg.optim, cfg.aug, cfg.eval, cfg.runtime

    def need(cond: bool, key: str, msg: str) -> None:
        if not cond:
            raise ConfigError(f"{key} {msg}, got {_get_dotted(cfg, key)!r}")

    for key in ("train_table", "eval_table"):
        value = getattr(d, key)
        need(
            value is None or isinstance(value, str) or _is_frame(value),
            f"data.{key}",
            "must be a CSV path or a pandas DataFrame",
        )
    need(d.num_classes is None or d.num_classes >= 2, "data.num_classes", "must be >= 2")
    need(d.clip_len >= 1, "data.clip_len", "must be >= 1")
    need(d.frame_stride >= 1, "data.frame_stride", "must be >= 1")
    need(d.crop_size >= 1, "data.crop_size", "must be >= 1")
    need(
        d.crop_size <= d.scale_range[0] <= d.scale_range[1],
        "data.scale_range",
        f"must satisfy crop_size ({d.crop_size}) <= min <= max",
    )
    need(0.0 <= d.hflip_p <= 1.0, "data.hflip_p", "must be in [0, 1]")
    need(all(math.isfinite(m) for m in d.mean), "data.mean", "must be finite")
    need(all(math.isfinite(s) and s > 0 for s in d.std), "data.std", "must be finite and > 0")
    need(d.num_workers >= 0, "data.num_workers", "must be >= 0")
    need(d.cache_mb >= 0, "data.cache_mb", "must be >= 0")

    from tempaug.models import MODEL_BUILDERS  # light import: the model module only

    need(cfg.model.name in MODEL_BUILDERS, "model.name", f"must be one of {sorted(MODEL_BUILDERS)}")

    need(o.epochs >= 1, "optim.epochs", "must be >= 1")
    need(o.batch_size >= 2, "optim.batch_size", "must be >= 2 (BatchNorm, batch mixing)")
    need(o.lr > 0, "optim.lr", "must be > 0")
    need(o.weight_decay >= 0, "optim.weight_decay", "must be >= 0")
    need(
        o.warmup_epochs is None or 0 <= o.warmup_epochs < o.epochs,
        "optim.warmup_epochs",
        f"must be None or in [0, epochs={o.epochs})",
    )
    need(0 < o.warmup_start_factor <= 1, "optim.warmup_start_factor", "must be in (0, 1]")
    need(0 <= o.min_lr <= o.lr, "optim.min_lr", f"must be in [0, lr={o.lr}]")

    if a.randaugment is not None:
        bad = sorted(set(a.randaugment) - set(_RANDAUG_KEYS))
        if bad:
            raise ConfigError(
                f"aug.randaugment has unknown key(s) {bad}; allowed: {list(_RANDAUG_KEYS)}"
            )
    need(a.mix in MIX_METHODS, "aug.mix", f"must be one of {list(MIX_METHODS)}")
    if "num_classes" in a.mix_kwargs:
        raise ConfigError("aug.mix_kwargs must not set num_classes (taken from data.num_classes)")
    _validate_augmentations(cfg)

    need(e.num_clips >= 1, "eval.num_clips", "must be >= 1")
    need(e.num_crops in (1, 3), "eval.num_crops", "must be 1 or 3")
    need(e.batch_size >= 1, "eval.batch_size", "must be >= 1")
    need(e.every >= 0, "eval.every", "must be >= 0")
    need(e.epoch_num_clips >= 1, "eval.epoch_num_clips", "must be >= 1")

    need(
        r.device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", r.device) is not None,
        "runtime.device",
        "must be 'auto', 'cpu', 'cuda' or 'cuda:N'",
    )
    need(r.save_every >= 1, "runtime.save_every", "must be >= 1")
    need(r.keep_every >= 0, "runtime.keep_every", "must be >= 0")


def _validate_augmentations(cfg: TrainConfig) -> None:
    """Build RandAugment-T and the batch method as a run does, and draw the method's parameters
    once for a dummy ``(2, clip_len, 3, crop, crop)`` batch with a private generator (no global
    RNG is touched), so kwargs that cannot fit the clip fail here, not after training starts."""
    import torch

    from tempaug.augment import RandAugmentT, build

    a, d = cfg.aug, cfg.data

    if a.randaugment is not None:
        try:
            RandAugmentT(**a.randaugment)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"aug.randaugment {a.randaugment!r}: {exc}") from None
    shape = (2, d.clip_len, 3, d.crop_size, d.crop_size)
    try:
        method = build(a.mix, num_classes=d.num_classes or 2, **a.mix_kwargs)
        method.draw_params(shape, generator=torch.Generator().manual_seed(0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"aug.mix_kwargs {a.mix_kwargs!r} do not work for aug.mix={a.mix!r} on clips of "
            f"data.clip_len={d.clip_len} frames of data.crop_size={d.crop_size}: {exc}"
        ) from None


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def _has_frames(section: Any) -> bool:
    return any(_is_frame(getattr(section, f.name)) for f in dataclasses.fields(section))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


#: Keys of earlier versions and their names now (``val_table`` held the test split of HMDB-51
#: and VIPriors-test runs too).
_RENAMED = {"data.val_table": "data.eval_table"}


def _build_section(name: str, section_cls: type, values: Mapping[str, Any]) -> Any:
    hints = _hints(section_cls)
    names = [f.name for f in dataclasses.fields(section_cls)]
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            hint = _RENAMED.get(f"{name}.{key}")
            renamed = f" (renamed to '{hint}')" if hint else ""
            raise ConfigError(
                f"unknown config key '{name}.{key}'{renamed}; allowed keys in {name!r}: {names}"
            )
        kwargs[key] = _coerce(f"{name}.{key}", hints[key], value)
    return section_cls(**kwargs)


def _coerce(key: str, tp: Any, value: Any) -> Any:
    """Check ``value`` against annotation ``tp`` (lenient for YAML scalars); name ``key``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(key, arg, value)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{key}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key} must be one of {list(args)}, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise ConfigError(f"{key} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{key} must be a list of {len(args)} values, got {value!r}")
        return tuple(
            _coerce(f"{key}[{i}]", t, v) for i, (t, v) in enumerate(zip(args, value, strict=True))
        )
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return dict(value)
    raise ConfigError(f"{key}: unsupported type {tp!r}")  # pragma: no cover


def _set_dotted(values: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(f"malformed config key {key!r}")
    node = values
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = {}
            node[part] = child
        if not isinstance(child, dict):
            # a dict-valued field such as model.kwargs.width: descend into it
            raise ConfigError(f"config key {key!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = value


def _get_dotted(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def apply_overrides(values: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``"a.b=value"`` overrides to a nested dict (a copy; the input is not mutated).

    ``value`` is parsed with ``yaml.safe_load`` (``3`` → int, ``[1, 2]`` → list, ``null`` →
    None). Keys may reach into dict-valued fields: ``model.kwargs.width=32``.

    Raises:
        ConfigError: an override without ``=`` or with an empty key.
    """
    out = _deepcopy_plain(values)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override {item!r} has an empty key")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {key}: cannot parse value {raw!r}: {exc}") from None
        _set_dotted(out, key, value)
    return out


def _deepcopy_plain(values: Any) -> Any:
    if isinstance(values, Mapping):
        return {k: _deepcopy_plain(v) for k, v in values.items()}
    if isinstance(values, list):
        return [_deepcopy_plain(v) for v in values]
    return values
