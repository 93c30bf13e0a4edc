"""Device-side set-up shared by training and evaluation: backends, precision, model placement.

CUDA path (paper-scale runs): ``torch.autocast`` in bf16 where the GPU supports it, else fp16
(training then uses a ``GradScaler``), ``channels_last_3d`` weights and inputs, ``cudnn.benchmark``
and optional ``torch.compile``. The CPU path is the same minus autocast and memory-format
changes, and can be made fully deterministic (``runtime.deterministic``).
"""

from __future__ import annotations

import os
from typing import Any

import torch

from tempaug.models import SlowFastVideoClassifier, build_model
from tempaug.train.config import ConfigError, TrainConfig

__all__ = ["autocast_dtype", "build_network", "configure_backends", "model_spec"]


def configure_backends(cfg: TrainConfig, device: torch.device) -> None:
    """Set determinism and cuDNN flags for this process (call before building the model)."""
    if cfg.runtime.deterministic:
        if device.type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = (
            cfg.runtime.cudnn_benchmark and not cfg.runtime.deterministic
        )
        torch.backends.cudnn.deterministic = cfg.runtime.deterministic
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def autocast_dtype(device: torch.device, amp: bool) -> torch.dtype | None:
    """The autocast dtype: bf16 on CUDA when supported, else fp16; ``None`` on CPU or if off."""
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def model_spec(cfg: TrainConfig, num_classes: int) -> tuple[str, dict[str, Any]]:
    """Model name and full builder kwargs: ``cfg.model.kwargs`` + data geometry + seed.

    ``num_classes``, ``clip_len`` and ``crop_size`` come from the data section unless
    ``model.kwargs`` sets them; the weights are initialized from ``cfg.seed``.

    Raises:
        ConfigError: ``model.kwargs`` disagrees with the data geometry.
    """
    kwargs = dict(cfg.model.kwargs)
    if "num_classes" in kwargs and kwargs["num_classes"] != num_classes:
        raise ConfigError(
            f"model.kwargs.num_classes={kwargs['num_classes']} but the tables have {num_classes}"
        )
    kwargs.pop("num_classes", None)
    for key in ("clip_len", "crop_size"):
        if key in kwargs and kwargs[key] != getattr(cfg.data, key):
            raise ConfigError(
                f"model.kwargs.{key}={kwargs[key]} disagrees with data.{key}="
                f"{getattr(cfg.data, key)}"
            )
        kwargs[key] = getattr(cfg.data, key)
    kwargs.setdefault("seed", cfg.seed)
    return cfg.model.name, {"num_classes": num_classes, **kwargs}


def build_network(
    name: str,
    kwargs: dict[str, Any],
    device: torch.device,
    *,
    channels_last: bool,
) -> SlowFastVideoClassifier:
    """Build the model, move it to ``device`` and, on CUDA, to ``channels_last_3d``.

    Raises:
        ConfigError: the builder rejects an argument (names ``model.kwargs``).
    """
    kwargs = dict(kwargs)
    num_classes = kwargs.pop("num_classes")
    try:
        model = build_model(name, num_classes, **kwargs)
    except ValueError as exc:
        raise ConfigError(f"model.kwargs: {exc}") from exc
    model = model.to(device)
    if channels_last and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last_3d)
    return model
