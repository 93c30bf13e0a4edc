"""Atomic outputs, code-free checkpoints with every RNG state (exact resume), weight export.

Every file the trainer writes goes to a temporary file in the same directory first and is then
renamed into place with ``os.replace``, so a run killed at any moment leaves either the old or
the new file, never a torn one. A checkpoint holds the model, optimizer, scheduler and grad
scaler state, the number of finished epochs, the history so far and the RNG states of every
rank (torch CPU, CUDA, NumPy, Python ``random``, the augmentation generator and the
data-loader generator). Data randomness itself is a function of ``(seed, epoch, index)``
(``dataset.set_epoch``) and the sampler is seeded with ``seed + epoch``, so restoring these
states makes a resumed run bitwise identical to an uninterrupted one on the CPU.

Checkpoints hold tensors and plain Python values only (the NumPy and ``random`` states are
stored as a tensor and lists of ints), so :func:`load_checkpoint` always uses
``torch.load(weights_only=True)``: opening a checkpoint someone shared cannot run code, and a
file that needs the full unpickler is refused. :func:`export_weights` writes the model weights
alone as ``safetensors`` (no pickle at all); :func:`load_weights` reads them back.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tempaug.io import atomic_write_bytes, atomic_write_text

__all__ = [
    "CHECKPOINT_FORMAT",
    "WEIGHTS_FORMAT",
    "atomic_write_bytes",
    "atomic_write_text",
    "capture_rng_state",
    "export_weights",
    "load_checkpoint",
    "load_weights",
    "restore_rng_state",
    "save_checkpoint",
    "write_csv",
    "write_json",
]

CHECKPOINT_FORMAT = 2
"""2: RNG states as tensors/ints (``weights_only=True`` loadable); 1 (pickled ndarrays) is refused."""

WEIGHTS_FORMAT = "tempaug-weights-1"
"""``format`` entry of the metadata of an exported ``safetensors`` weights file."""


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
    """Load a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Only tensors and plain containers are unpickled, so a tampered or foreign file cannot run
    code; anything else is refused.

    Raises:
        ValueError: the file is missing, needs the full unpickler (an old-format or untrusted
            file), or is not a tempaug checkpoint; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise ValueError(f"checkpoint {str(path)!r} {what}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"refusing to load {str(path)!r}: it holds objects other than tensors and plain "
            f"Python values, which could run code when unpickled (a checkpoint from an older "
            f"tempaug, format < {CHECKPOINT_FORMAT}, or not a tempaug checkpoint). Detail: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable checkpoint: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        raise ValueError(
            f"{str(path)!r} is not a tempaug checkpoint of format {CHECKPOINT_FORMAT} "
            f"(found format {found!r})"
        )
    return state


def export_weights(checkpoint: str | Path | Mapping[str, Any], path: str | Path) -> Path:
    """Write the model weights of a checkpoint alone, as ``safetensors`` (no code, no pickle).

    The metadata records ``format`` (:data:`WEIGHTS_FORMAT`), ``model_name``, ``model_kwargs``
    (JSON) and ``epoch``, enough to rebuild the network with ``tempaug.models.build_model``.

    Args:
        checkpoint: a checkpoint path (loaded with :func:`load_checkpoint`) or a loaded state.
        path: the output file (conventionally ``*.safetensors``), written atomically.

    Returns:
        ``path``.

    Raises:
        ValueError: ``path`` is the checkpoint itself (it would be replaced by the weights), the
            checkpoint cannot be loaded or has no model weights.
    """
    from safetensors.torch import save

    if isinstance(checkpoint, str | Path) and Path(path).resolve() == Path(checkpoint).resolve():
        raise ValueError(
            f"path {str(path)!r} is the checkpoint itself: exporting would replace the checkpoint "
            "by its weights; choose another output file"
        )
    state = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
    model = state.get("model")
    if not isinstance(model, Mapping) or not model:
        raise ValueError(f"checkpoint {checkpoint!s:.200} holds no model weights")
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.items()}
    metadata = {
        "format": WEIGHTS_FORMAT,
        "model_name": str(state.get("model_name", "")),
        "model_kwargs": json.dumps(state.get("model_kwargs", {}), sort_keys=True),
        "epoch": str(int(state.get("epoch", 0))),
    }
    return atomic_write_bytes(path, save(tensors, metadata=metadata))


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by :func:`export_weights`.

    Returns:
        ``(state_dict, info)`` with ``info = {"model_name", "model_kwargs", "epoch"}``; load
        with ``build_model(info["model_name"], **info["model_kwargs"]).load_state_dict(...)``
        (``num_classes`` is the first positional argument of ``build_model``).

    Raises:
        ValueError: the file is missing or is not a tempaug weights file (names the file).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"weights file {str(path)!r} does not exist")
    data = path.read_bytes()
    try:
        tensors = load(data)
        header_len = int.from_bytes(data[:8], "little")
        meta = json.loads(data[8 : 8 + header_len]).get("__metadata__") or {}
    except (SafetensorError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not a safetensors file: {exc}") from None
    if meta.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{str(path)!r} is not a tempaug weights file ({WEIGHTS_FORMAT})")
    info = {
        "model_name": meta["model_name"],
        "model_kwargs": json.loads(meta["model_kwargs"]),
        "epoch": int(meta["epoch"]),
    }
    return tensors, info


def capture_rng_state(
    device: torch.device, generators: Mapping[str, torch.Generator]
) -> dict[str, Any]:
    """Snapshot the global RNGs of this process plus the named CPU generators.

    Args:
        device: the compute device (its CUDA RNG is saved when it is a CUDA device).
        generators: e.g. ``{"aug": g_aug, "loader": g_loader}``.

    Returns:
        A dict of tensors and plain values (``weights_only`` loadable): ``torch``, ``cuda``
        (or ``None``), ``numpy`` (``{"kind", "key", "pos", "has_gauss", "cached_gaussian"}``
        with ``key`` an int64 tensor), ``python`` (``{"version", "state", "gauss_next"}`` with
        ``state`` a list of ints) and ``generators`` (one state tensor per name).
    """
    kind, key, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 - global state
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy": {
            "kind": str(kind),
            "key": torch.from_numpy(np.asarray(key, dtype=np.int64).copy()),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {
            "version": int(version),
            "state": [int(v) for v in internal],
            "gauss_next": gauss_next,
        },
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
    n = state["numpy"]
    np.random.set_state(  # noqa: NPY002 - restoring, not drawing
        (
            n["kind"],
            n["key"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))
    saved = state["generators"]
    for name, g in generators.items():
        if name not in saved:
            raise ValueError(f"checkpoint RNG state has no generator {name!r}")
        g.set_state(saved[name])
