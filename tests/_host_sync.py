"""A CPU stand-in for "the GPU": tensors that raise wherever CUDA would make the host wait.

``DeviceTensor`` marks tensors that live "on the device" (the subclass propagates through every
op). Inside :class:`HostSyncDetector` the code under test may not

* read a device tensor on the host: ``item``, ``bool``, ``int``, ``float``, ``index``,
  ``tolist``, ``numpy``, ``cpu``, ``to("cpu")`` (``aten._local_scalar_dense`` and D2H copies);
* run an op whose output size depends on device values (``nonzero``, ``unique``,
  ``masked_select``, boolean-mask indexing): these synchronise on CUDA;
* combine a device tensor with a host tensor of rank >= 1 (on CUDA an error or an implicit,
  blocking host→device copy; 0-dim host tensors are fine, as on CUDA);
* copy a host tensor to the device without ``non_blocking=True`` (``tensor.to(device)``,
  ``torch.tensor(data, device=...)``, ``torch.as_tensor(data, device=...)``).

A device tensor reports ``device == cuda:0`` (so library code takes its GPU branches, and
factories given that device create device tensors; they run on the CPU), and ``host.to(device, non_blocking=True)``
is the one allowed transfer (counted in ``transfers``). The detector cannot see pinning (CPU
builds cannot pin); the CUDA tests under ``torch.cuda.set_sync_debug_mode("error")`` do.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten


class HostSyncError(AssertionError):
    """The code under test made the host wait for (what would be) the GPU."""


_READS = {
    torch.Tensor.item,
    torch.Tensor.__bool__,
    torch.Tensor.__int__,
    torch.Tensor.__float__,
    torch.Tensor.__index__,
    torch.Tensor.tolist,
    torch.Tensor.numpy,
    torch.Tensor.cpu,
}
_DATA_DEPENDENT = {
    torch.nonzero,
    torch.Tensor.nonzero,
    torch.unique,
    torch.Tensor.unique,
    torch.unique_consecutive,
    torch.masked_select,
    torch.Tensor.masked_select,
    torch.argwhere,
    torch.Tensor.argwhere,
}
_FACTORIES_FROM_DATA = {torch.tensor, torch.as_tensor}
FAKE_DEVICE = torch.device("cuda", 0)
_DEVICE_GET = torch.Tensor.device.__get__  # type: ignore[attr-defined]
_METADATA = {
    torch.Tensor.shape.__get__,  # type: ignore[attr-defined]
    torch.Tensor.dtype.__get__,  # type: ignore[attr-defined]
    torch.Tensor.ndim.__get__,  # type: ignore[attr-defined]
    torch.Tensor.size,
    torch.Tensor.dim,
    torch.Tensor.numel,
    torch.Tensor.__len__,
    torch.Tensor.is_floating_point,
    torch.Tensor.__repr__,
    torch.Tensor.__format__,
}


def _is_host(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and not isinstance(t, DeviceTensor) and t.ndim > 0


class DeviceTensor(torch.Tensor):
    """A CPU tensor standing for one on the GPU (see the module docstring)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func == _DEVICE_GET:
            return FAKE_DEVICE  # library code branches on device.type exactly as on a GPU
        if func in _METADATA:
            return super().__torch_function__(func, types, args, kwargs)
        if func in _READS:
            raise HostSyncError(f"host read of a device tensor: {func.__name__}")
        if func in _DATA_DEPENDENT:
            raise HostSyncError(f"data-dependent output size on the device: {func.__name__}")
        if func is torch.Tensor.to and _to_host(args, kwargs):
            raise HostSyncError("device -> host copy: .to('cpu')")
        if func in (torch.Tensor.__getitem__, torch.Tensor.__setitem__):
            index = args[1]
            flat, _ = tree_flatten(index if isinstance(index, tuple) else (index,))
            if any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in flat):
                raise HostSyncError("boolean-mask indexing of a device tensor")
        flat, _ = tree_flatten((args, kwargs))
        host = [t for t in flat if _is_host(t)]
        if host:
            raise HostSyncError(
                f"{getattr(func, '__name__', func)} mixes a device tensor with a host tensor "
                f"of shape {tuple(host[0].shape)} (an implicit blocking host->device copy)"
            )
        return super().__torch_function__(func, types, args, kwargs)


def _device_arg(args: tuple, kwargs: dict) -> torch.device | None:
    if kwargs.get("device") is not None:
        return torch.device(kwargs["device"])
    if len(args) > 1 and isinstance(args[1], torch.device | str):
        return torch.device(args[1])
    return None


def _to_host(args: tuple, kwargs: dict) -> bool:
    target = _device_arg(args, kwargs)
    return target is not None and target.type == "cpu"


def _on_cpu(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The same call with every fake-device argument replaced by the CPU."""
    if isinstance(kwargs.get("device"), torch.device | str):
        kwargs = {**kwargs, "device": "cpu"}
    if len(args) > 1 and isinstance(args[1], torch.device | str):
        args = (args[0], "cpu", *args[2:])
    return args, kwargs


_PINNED: dict[int, weakref.ref] = {}


def as_device(t: torch.Tensor) -> DeviceTensor:
    """Put ``t`` "on the device" (as the loader's pinned, non-blocking copy would)."""
    return t.clone().as_subclass(DeviceTensor)


def as_host(t: torch.Tensor) -> torch.Tensor:
    """The plain CPU tensor behind a device tensor (for comparisons after the step)."""
    return t.as_subclass(torch.Tensor)


class HostSyncDetector(TorchFunctionMode):
    """Raise :class:`HostSyncError` where CUDA would block the host (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.transfers = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.pin_memory:
            out = args[0].clone()  # CPU builds cannot pin; the copy stands for the pinned one
            _PINNED[id(out)] = weakref.ref(out)
            return out
        if func is torch.Tensor.is_pinned:
            ref = _PINNED.get(id(args[0]))
            return ref is not None and ref() is args[0]
        device = _device_arg(args, kwargs)
        on_device = device is not None and device.type != "cpu"
        if func is torch.Tensor.to and on_device and not isinstance(args[0], DeviceTensor):
            ref = _PINNED.get(id(args[0]))
            if not kwargs.get("non_blocking", False) or ref is None or ref() is not args[0]:
                raise HostSyncError(
                    f"host -> device copy of a {tuple(args[0].shape)} tensor that is not a "
                    "pinned, non_blocking copy (it blocks the host on CUDA)"
                )
            self.transfers += 1
            args, kwargs = _on_cpu(args, kwargs)
            return func(*args, **kwargs).as_subclass(DeviceTensor)
        if func in _FACTORIES_FROM_DATA and on_device:
            data = args[0] if args else kwargs.get("data")
            if not isinstance(data, DeviceTensor):
                raise HostSyncError(
                    f"torch.{func.__name__}(data, device=...) is a blocking host -> device copy"
                )
        if func is torch.Tensor.to and on_device:  # device -> same device: drop the device
            kwargs = {k: v for k, v in kwargs.items() if k != "device"}
            if len(args) > 1 and isinstance(args[1], torch.device | str):
                args = (args[0], *args[2:])
            if len(args) == 1 and not set(kwargs) - {"non_blocking", "copy"}:
                return args[0].clone() if kwargs.get("copy") else args[0]
        elif on_device:
            args, kwargs = _on_cpu(args, kwargs)
        out = func(*args, **kwargs)
        if on_device and isinstance(out, torch.Tensor) and not isinstance(out, DeviceTensor):
            return out.as_subclass(DeviceTensor)  # a factory on the device
        return out
