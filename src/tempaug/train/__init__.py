"""Training and evaluation of the paper's SlowFast-50 recipe (Kim et al., ECCV-W 2020, §4.1).

Python API (used by the notebooks)::

    from tempaug.train import TrainConfig, fit, evaluate
    cfg = TrainConfig.from_yaml("run.yaml", ["optim.epochs=3"])
    metrics = fit(cfg)                      # out_dir/{metrics.json, history.csv, scores.csv, ...}
    metrics = evaluate(cfg, "out/checkpoints/last.pt")
    export_weights("out/checkpoints/last.pt", "model.safetensors")  # weights only, no pickle

Besides the results, ``out_dir`` gets ``timings.json`` (wall-clock, kept apart so results are
identical across reruns) and ``train.log`` (the epoch lines also printed to stdout).

Command line: ``python -m tempaug.train --config run.yaml [--set key=value ...]``, or under
``torchrun --nproc_per_node N -m tempaug.train ...`` for DDP.
"""

from tempaug.train.checkpoint import export_weights, load_weights
from tempaug.train.config import (
    AugConfig,
    ConfigError,
    DataConfig,
    EvalConfig,
    ModelConfig,
    OptimConfig,
    RuntimeConfig,
    TrainConfig,
)
from tempaug.train.evaluate import Predictions, compute_metrics, evaluate, predict
from tempaug.train.trainer import (
    HISTORY_COLUMNS,
    TIMING_COLUMNS,
    NonFiniteLossError,
    build_scheduler,
    fit,
    soft_target_loss,
    training_batch,
)

__all__ = [
    "HISTORY_COLUMNS",
    "TIMING_COLUMNS",
    "AugConfig",
    "ConfigError",
    "DataConfig",
    "EvalConfig",
    "ModelConfig",
    "NonFiniteLossError",
    "OptimConfig",
    "Predictions",
    "RuntimeConfig",
    "TrainConfig",
    "build_scheduler",
    "compute_metrics",
    "evaluate",
    "export_weights",
    "fit",
    "load_weights",
    "predict",
    "soft_target_loss",
    "training_batch",
]
