"""Typed training configuration (paper Section 4.1 recipe) on OmegaConf structured configs.

A :class:`TrainConfig` is a tree of small dataclasses, one per ``params.yaml`` section
(``data``, ``model``, ``optim``, ``aug``, ``eval``, ``runtime``) plus ``seed`` and ``out_dir``.
Defaults are the paper's recipe: SlowFast-50, 64×160² clips, scale jitter [160, 200], batch 16,
Adam lr 1e-4, weight decay 1e-5, linear warm-up then cosine decay, 150 epochs, 10-clip test.

The dataclasses are the OmegaConf schema: values are merged onto ``OmegaConf.structured``
(which checks keys and types) and turned back into the dataclasses with
``OmegaConf.to_object``; the ranges OmegaConf cannot express (``choices`` in a field's
metadata, bounds, clip geometry) are checked here. A bad key or value raises
:class:`ConfigError` (a ``ValueError``) whose message names the dotted key, e.g. ``optim.lr``.
``from_yaml(path, ["optim.lr=1e-3", "aug.mix=fademixup"])`` applies command-line style
overrides (values are parsed as YAML, so lists and dicts work). The split tables may be
``pandas.DataFrame`` objects; they never enter OmegaConf (held beside the tree, put back on the
dataclass).
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

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
    "apply_overrides",
    "run_differences",
    "run_identity",
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
    on_error: str = field(default="skip", metadata={"choices": ("raise", "skip")})
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
    augment_on: str = field(default="worker", metadata={"choices": ("worker", "device")})
    mix: str = field(default="none", metadata={"choices": MIX_METHODS})
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
            ``checkpoints/last.pt`` when it exists and refuses (``ConfigError``) when it holds
            a different run; ``"auto"`` continues when it holds the same run, else logs the
            differing keys, removes the stale checkpoints and results and starts from scratch
            (for pipelines: rerun = resume). Both use one definition of the same run: every
            key of :func:`run_identity` (all but :data:`RESUME_IGNORED_KEYS`), the tables'
            contents and the resolved model; ``"auto"`` also wants the same number of
            processes (``True`` continues on another with a warning: other RNG streams).
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
    resume: bool | str = field(default=False, metadata={"choices": (False, True, "auto")})
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
_TABLES = ("train_table", "eval_table")
#: Keys of earlier versions and their names now (``val_table`` held the test split of HMDB-51
#: and VIPriors-test runs too).
_RENAMED = {"data.val_table": "data.eval_table"}


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
        """Build from a nested mapping (``{"optim": {"lr": 1e-3}, "seed": 1, ...}``); a section
        may also be given as its dataclass, and ``None`` stands for an empty section.

        Raises:
            ConfigError: unknown key or invalid value (the message names the dotted key).
        """
        plain, tables = _split_tables(values or {})
        return _build(_checked(OmegaConf.merge, _SCHEMA, plain), tables)

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
        out = OmegaConf.to_container(self._node())
        for key, table in self._frames().items():
            out["data"][key] = f"<DataFrame: {len(table)} rows>"
        return out

    def replace(self, **changes: Any) -> TrainConfig:
        """A validated copy with dotted-key changes, e.g. ``cfg.replace(**{"optim.lr": 1e-3})``."""
        node, tables = self._node(), self._frames()
        for key, value in changes.items():
            table = key.removeprefix("data.")
            if key.startswith("data.") and table in _TABLES:
                tables.pop(table, None)
                if _is_frame(value):
                    tables[table], value = value, None
            _checked(OmegaConf.update, node, key, value, merge=False)
        return _build(node, tables)

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check types (through the OmegaConf schema, which also converts, e.g. ``1`` to
        ``1.0`` for a float field) and ranges of every field.

        Raises:
            ConfigError: naming the first bad dotted key and what is allowed.
        """
        for name, section_cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), section_cls):
                raise ConfigError(
                    f"config section {name!r} must be a {section_cls.__name__}, "
                    f"got {getattr(self, name)!r}"
                )
        checked = OmegaConf.to_container(self._node())
        self.seed, self.out_dir = checked["seed"], checked["out_dir"]
        for name, section_cls in _SECTIONS.items():
            section = getattr(self, name)
            hints = typing.get_type_hints(section_cls)
            for f in dataclasses.fields(section_cls):
                key, value = f"{name}.{f.name}", checked[name][f.name]
                if name == "data" and _is_frame(getattr(section, f.name)):
                    continue
                if typing.get_origin(hints[f.name]) is tuple:
                    n = len(typing.get_args(hints[f.name]))
                    if len(value) != n:
                        raise ConfigError(f"{key} must be a list of {n} values, got {value!r}")
                    value = tuple(value)
                choices = f.metadata.get("choices")
                if choices is not None and value not in choices:
                    raise ConfigError(f"{key} must be one of {list(choices)}, got {value!r}")
                setattr(section, f.name, value)
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        _validate_ranges(self)

    # ------------------------------------------------------------------ OmegaConf view
    def _frames(self) -> dict[str, Any]:
        return {k: getattr(self.data, k) for k in _TABLES if _is_frame(getattr(self.data, k))}

    def _node(self) -> DictConfig:
        """This config as an OmegaConf tree on the schema (DataFrame tables left out)."""
        values: dict[str, Any] = {"seed": self.seed, "out_dir": self.out_dir}
        for name in _SECTIONS:
            values[name] = dict(vars(getattr(self, name)))
        for key in self._frames():
            values["data"][key] = None
        return _checked(OmegaConf.merge, _SCHEMA, values)


_SCHEMA = OmegaConf.structured(TrainConfig)


# ---------------------------------------------------------------------- OmegaConf glue
def _build(node: DictConfig, tables: Mapping[str, Any]) -> TrainConfig:
    """The validated dataclasses of ``node`` (``OmegaConf.to_object``), tables put back."""
    cfg = _checked(OmegaConf.to_object, node)
    for key, table in tables.items():
        setattr(cfg.data, key, table)
    return cfg


def _split_tables(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``values`` without its DataFrame tables (OmegaConf holds no DataFrames), and those."""
    out = dict(values)
    for name in set(out) & set(_SECTIONS):
        section = out[name]
        if section is None:
            section = {}
        elif isinstance(section, _SECTIONS[name]):
            section = dict(vars(section))
        if not isinstance(section, Mapping):
            raise ConfigError(f"config section {name!r} must be a mapping, got {section!r}")
        out[name] = dict(section)
    data = out.get("data", {})
    tables = {k: data.pop(k) for k in _TABLES if _is_frame(data.get(k))}
    return out, tables


def _checked(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with OmegaConf's errors turned into :class:`ConfigError`."""
    try:
        return fn(*args, **kwargs)
    except OmegaConfBaseException as exc:
        raise _config_error(exc) from None


def _config_error(exc: OmegaConfBaseException) -> ConfigError:
    """The project's wording for an OmegaConf error: the dotted key, the value, what is allowed."""
    key = exc.full_key or ""
    if isinstance(exc, (ConfigKeyError, ConfigAttributeError)) and "." not in key:
        allowed = sorted(f.name for f in dataclasses.fields(TrainConfig))
        return ConfigError(f"unknown config key {key!r}; allowed top-level keys: {allowed}")
    section, _, name = key.partition(".")
    if isinstance(exc, (ConfigKeyError, ConfigAttributeError)) and section in _SECTIONS:
        if "." not in name:
            hint = _RENAMED.get(key)
            renamed = f" (renamed to '{hint}')" if hint else ""
            allowed = [f.name for f in dataclasses.fields(_SECTIONS[section])]
            return ConfigError(
                f"unknown config key {key!r}{renamed}; allowed keys in {section!r}: {allowed}"
            )
    expected = _expected(key)
    if expected is None:
        return ConfigError(f"{key or 'config'}: {str(exc.msg).splitlines()[0]}")
    return ConfigError(f"{key} must be {expected}, got {exc.value!r}")


def _expected(key: str) -> str | None:
    """What the schema allows at dotted ``key`` (``None`` for keys inside dict-valued fields)."""
    parts = re.sub(r"\[\d+\]$", "", key).split(".")
    cls: Any = TrainConfig
    for i, part in enumerate(parts):
        hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
        if part not in hints:
            return None
        cls = hints[part]
        if i < len(parts) - 1 and not dataclasses.is_dataclass(cls):
            return None
    return _describe(cls, indexed=key.endswith("]"))


def _describe(tp: Any, *, indexed: bool = False) -> str:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple:
        return _describe(args[0]) if indexed else f"a list of {len(args)} values"
    if len(args) > 1 and typing.get_origin(tp) is not dict:  # a union
        return " or ".join("null" if a is type(None) else _describe(a) for a in args)
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if tp in names:
        return names[tp]
    if typing.get_origin(tp) is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    return f"a {getattr(tp, '__name__', tp)}"


# ---------------------------------------------------------------------- the same run
def run_identity(
    config: Mapping[str, Any], ignore: frozenset[str] = RESUME_IGNORED_KEYS
) -> dict[str, Any]:
    """The values that define a run, by dotted key, from a ``TrainConfig.to_dict()`` tree.

    Sections are flattened one level (dict-valued fields such as ``model.kwargs`` stay whole);
    keys in ``ignore`` (and keys below them) are left out. The one definition of "the same run"
    that both ``runtime.resume=true`` and ``runtime.resume="auto"`` use (through
    :func:`run_differences`).
    """
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[str(key)] = value
    return {k: v for k, v in out.items() if k not in ignore and k.split(".")[0] not in ignore}


def run_differences(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    ignore: frozenset[str] = RESUME_IGNORED_KEYS,
) -> list[str]:
    """Dotted keys whose values differ between the :func:`run_identity` of two configs.

    A key present in one tree only counts as a difference; ``1`` and ``1.0`` are the same
    number, ``True`` and ``1`` are not.

    Returns:
        Sorted ``"key: saved -> current"`` strings (empty when the runs are the same).
    """
    a, b = run_identity(saved, ignore), run_identity(current, ignore)
    missing = object()

    def show(value: Any) -> str:
        return "<missing>" if value is missing else repr(value)

    def same(x: Any, y: Any) -> bool:
        numbers = type(x) in (int, float) and type(y) in (int, float)
        return x == y and (type(x) is type(y) or numbers)

    return sorted(
        f"{k}: {show(a.get(k, missing))} -> {show(b.get(k, missing))}"
        for k in a.keys() | b.keys()
        if not same(a.get(k, missing), b.get(k, missing))
    )


def _validate_ranges(cfg: TrainConfig) -> None:
    d, o, a, e, r = cfg.data, cfg.optim, cfg.aug, cfg.eval, cfg.runtime

    def need(cond: bool, key: str, msg: str) -> None:
        if not cond:
            raise ConfigError(f"{key} {msg}, got {operator.attrgetter(key)(cfg)!r}")

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


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def apply_overrides(values: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``"a.b=value"`` overrides to a nested dict (a copy; the input is not mutated).

    ``value`` is parsed with ``yaml.safe_load`` (``3`` → int, ``[1, 2]`` → list, ``null`` →
    None). Keys may reach into dict-valued fields: ``model.kwargs.width=32``. An override
    replaces the value at its key (``OmegaConf.update(..., merge=False)``): a dict given for
    ``aug.randaugment`` is the whole new value, not merged into the file's.

    Raises:
        ConfigError: an override without ``=``, with an empty key, or below a non-mapping value.
    """
    node = _checked(OmegaConf.create, dict(values))
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        if not key or not all(key.split(".")):
            raise ConfigError(f"override {item!r} has an empty or malformed key")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {key}: cannot parse value {raw!r}: {exc}") from None
        try:
            OmegaConf.update(node, key, value, merge=False)
        except OmegaConfBaseException as exc:
            msg = str(exc.msg).splitlines()[0]
            raise ConfigError(f"override {key}={raw}: {msg}") from None
    return OmegaConf.to_container(node)
