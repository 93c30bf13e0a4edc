"""Process-group setup and the few collectives the trainer needs (DDP via ``torchrun``).

``torchrun --nproc_per_node N -m tempaug.train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`setup` then joins the process group (NCCL on CUDA, gloo on CPU) and pins
the process to ``cuda:LOCAL_RANK``. Without those variables everything degrades to a single
process and the collectives are no-ops, so the trainer has one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DistContext",
    "all_gather_cat",
    "all_gather_objects",
    "all_reduce_sum",
    "barrier",
    "resolve_device",
    "setup",
    "teardown",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job.

    Attributes:
        rank: global rank (0 writes every output file).
        world_size: number of processes.
        local_rank: rank on this node (selects the CUDA device).
        device: the device this process computes on.
        owns_group: this process initialized the process group (and tears it down).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """True on rank 0."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """Map ``"auto" | "cpu" | "cuda" | "cuda:N"`` to a ``torch.device``.

    ``"auto"`` is CUDA when available; plain ``"cuda"`` means ``cuda:LOCAL_RANK``.

    Raises:
        ValueError: CUDA requested but not available, or an unknown device string.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"runtime.device={device!r} but CUDA is not available")
        index = local_rank if device == "cuda" else int(device.split(":", 1)[1])
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"runtime.device={device!r} (index {index}) but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible"
            )
        return torch.device("cuda", index)
    raise ValueError(f"runtime.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def setup(device: str = "auto", *, timeout_s: float = 1800.0) -> DistContext:
    """Join the ``torchrun`` process group if the environment asks for one.

    Args:
        device: the configured device (see :func:`resolve_device`).
        timeout_s: collective timeout.

    Returns:
        The :class:`DistContext` of this process.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(device=resolve_device(device))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    owns = False
    if not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
            dist.init_process_group("nccl", timeout=timedelta(seconds=timeout_s), device_id=dev)
        else:
            dist.init_process_group("gloo", timeout=timedelta(seconds=timeout_s))
        owns = True
    return DistContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        device=dev,
        owns_group=owns,
    )


def teardown(ctx: DistContext) -> None:
    """Destroy the process group if :func:`setup` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    """Synchronize all processes (no-op for a single process)."""
    if ctx.distributed:
        if ctx.device.type == "cuda":
            dist.barrier(device_ids=[ctx.device.index])
        else:
            dist.barrier()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over processes (returns a new tensor; the input is untouched)."""
    out = tensor.clone()
    if ctx.distributed:
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def all_gather_cat(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Concatenate equally shaped tensors from all ranks along dim 0, in rank order."""
    if not ctx.distributed:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(ctx.world_size)]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts, 0)


def all_gather_objects(obj: Any, ctx: DistContext) -> list[Any]:
    """Gather one picklable object per rank, in rank order."""
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out
