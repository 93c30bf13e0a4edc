"""Atomic outputs and checkpoints with every RNG state (exact resume).

Every file the trainer writes goes to a temporary file in the same directory first and is then
renamed into place with ``os.replace``, so a run killed at any moment leaves either the old or
the new file, never a torn one. A checkpoint holds the model, optimizer, scheduler and grad
scaler state, the number of finished epochs, the history so far and the RNG states of every
rank (torch CPU, CUDA, NumPy, Python ``random``, the augmentation generator and the
data-loader generator). Data randomness itself is a function of ``(seed, epoch, index)``
(``dataset.set_epoch``) and the sampler is seeded with ``seed + epoch``, so restoring these
states makes a resumed run bitwise identical to an uninterrupted one on the CPU.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tempaug.io import atomic_write_bytes, atomic_write_text

__all__ = [
    "CHECKPOINT_FORMAT",
    "atomic_write_bytes",
    "atomic_write_text",
    "capture_rng_state",
    "load_checkpoint",
    "restore_rng_state",
    "save_checkpoint",
    "write_csv",
    "write_json",
]

CHECKPOINT_FORMAT = 1


def write_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON (keys in insertion order)."""
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=True) + "\n")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Atomically write a CSV file with ``header`` and ``rows``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow(list(row))
    return atomic_write_text(path, buf.getvalue())


def save_checkpoint(path: str | Path, state: Mapping[str, Any]) -> Path:
    """Atomically ``torch.save`` ``state`` (with ``format`` added) to ``path``."""
    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Raises:
        ValueError: the file is missing or is not a tempaug checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist")
    # Our checkpoints hold RNG state tuples/ndarrays, so the full unpickler is needed; only
    # load checkpoints you wrote yourself.
    state = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not a tempaug checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def capture_rng_state(
    device: torch.device, generators: Mapping[str, torch.Generator]
) -> dict[str, Any]:
    """Snapshot the global RNGs of this process plus the named CPU generators.

    Args:
        device: the compute device (its CUDA RNG is saved when it is a CUDA device).
        generators: e.g. ``{"aug": g_aug, "loader": g_loader}``.

    Returns:
        A picklable dict: ``torch``, ``cuda`` (or ``None``), ``numpy``, ``python`` and one
        entry per generator.
    """
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy": np.random.get_state(),  # noqa: NPY002 - saving global state of third-party code
        "python": random.getstate(),
        "generators": {name: g.get_state() for name, g in generators.items()},
    }


def restore_rng_state(
    state: Mapping[str, Any], device: torch.device, generators: Mapping[str, torch.Generator]
) -> None:
    """Restore a snapshot taken by :func:`capture_rng_state` (the inverse operation).

    Raises:
        ValueError: a named generator is missing from the snapshot.
    """
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"], device)
    np.random.set_state(state["numpy"])  # noqa: NPY002 - restoring, not drawing
    random.setstate(state["python"])
    saved = state["generators"]
    for name, g in generators.items():
        if name not in saved:
            raise ValueError(f"checkpoint RNG state has no generator {name!r}")
        g.set_state(saved[name])
