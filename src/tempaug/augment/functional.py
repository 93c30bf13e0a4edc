"""Pure per-frame RandAugment kernels for videos (no randomness).

These are the operations of RandAugment-T (paper Section 3.1, Fig. 2; Section 4.2), applied with a
value that may change from frame to frame. Every kernel reproduces, frame by frame, the operation
that ``torchvision.transforms.v2.RandAugment`` applies to a tensor for the same value (nearest
interpolation, same fill): ``out[..., t, :, :, :] == torchvision_op(video[..., t, :, :, :], value[t])``
up to a mean absolute difference of at most 1 on the uint8 scale (in practice far less: ShearX,
ShearY and TranslateX/Y are bit-exact at every value, and so is every frame whose source
coordinates hit half-pixel ties; elsewhere ``cv2.warpAffine`` (Rotate) can round a source
coordinate that lies within 1/1000 of a pixel centre boundary differently).

Layout and types:
    ``video`` is ``(..., T, C, H, W)`` — any leading dims, frames are the last leading dim — uint8 in
    ``[0, 255]`` or floating in ``[0, 1]``. ``value`` is a number, or a tensor broadcastable to the
    leading shape ``video.shape[:-3]`` (a 1-D tensor of length ``T`` gives one value per frame, a
    ``(B, T)`` tensor one per clip and frame). The output has the input's shape, dtype and device and
    is a new tensor; the input is never modified.

Values are in each operation's own units, exactly as torchvision's RandAugment passes them on:
Rotate in degrees (counter-clockwise), TranslateX/Y in pixels (truncated to an integer), ShearX/Y as
the shear coefficient, Brightness/Color/Contrast/Sharpness as the offset from the factor 1, Posterize
as bits (truncated), Solarize as the threshold's fraction of the dtype's maximum.

Backends:
    ``backend="torch"`` is batched PyTorch over all frames and clips (one ``grid_sample`` call for
    the geometric operations), for any device and dtype: the GPU path. ``backend="opencv"`` runs
    OpenCV per frame (``cv2.LUT``, ``cv2.warpAffine`` nearest, ``cv2.filter2D``, ``cv2.addWeighted``,
    ``cv2.calcHist``; slice copies for TranslateX/Y, one row gather for ShearX and row gathers of
    transposed frames for ShearY, whose lines move by whole pixels; torchvision's own nearest
    picks where source coordinates hit half-pixel ties) on CPU uint8 videos with 1 or 3
    channels: on one CPU thread it is faster than per-frame PIL for every operation and much faster than torch's uint8 kernels (measured in
    ``results/benchmarks/augment.md`` by ``benchmarks/augment.py``). It reads decoder clips —
    ``(T, H, W, C)`` arrays viewed as ``(T, C, H, W)``, i.e. channels-last strides — without
    copying and returns channels-last output; other layouts are visited plane by plane (Color and
    Contrast convert them once). ``backend="auto"`` (default) picks OpenCV where it applies and torch
    otherwise; for float32 CPU videos the geometric operations, Sharpness and Equalize (which
    quantises to uint8 as torchvision does) also run per frame through OpenCV, where the data stays
    in cache, while the other operations stay batched torch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as tnf
from torchvision import tv_tensors

try:  # OpenCV is a dependency; the torch path stays usable without it.
    import cv2
except ImportError:  # pragma: no cover - exercised only where OpenCV is missing
    cv2 = None

from ._device import to_device
from ._ops_table import OP_NAMES

__all__ = [
    "OP_NAMES",
    "affine",
    "apply_op",
    "autocontrast",
    "brightness",
    "color",
    "contrast",
    "equalize",
    "identity",
    "posterize",
    "rotate",
    "sharpness",
    "shear_x",
    "shear_y",
    "solarize",
    "translate_x",
    "translate_y",
]

Backend = Literal["auto", "torch", "opencv"]
Fill = float | int | Sequence[float] | None
Value = float | int | torch.Tensor

_BACKENDS = ("auto", "torch", "opencv")
# Grayscale weights of torchvision's ``rgb_to_grayscale`` (ITU-R 601-2 luma, rounded).
_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)
# OpenCV rounds to nearest when it writes uint8; torchvision truncates (float -> uint8 cast after
# clamping to [0, 255], i.e. floor). Adding this bias first turns OpenCV's rounding into a floor
# except for values within 1e-3 below an integer.
_FLOOR_BIAS = -0.5 + 1e-3
# Normalised 3x3 smoothing kernel of PIL's ImageFilter.SMOOTH, used by Sharpness.
_SMOOTH = ((1.0, 1.0, 1.0), (1.0, 5.0, 1.0), (1.0, 1.0, 1.0))


# ----------------------------------------------------------------------------------------------
# Validation and shared helpers
# ----------------------------------------------------------------------------------------------


def _check_video(video: torch.Tensor) -> torch.Tensor:
    if not isinstance(video, torch.Tensor):
        raise ValueError(f"video must be a torch.Tensor, got {type(video).__name__}")
    if video.ndim < 3:
        raise ValueError(
            f"video must have shape (..., T, C, H, W) (at least (C, H, W)), "
            f"got shape {tuple(video.shape)}"
        )
    if not (video.dtype == torch.uint8 or video.is_floating_point()):
        raise ValueError(f"video dtype must be torch.uint8 or floating, got {video.dtype}")
    # Strip tv_tensors subclasses: kernels return plain tensors (the transform re-wraps).
    # Other subclasses (e.g. the tests' host-sync tracer) are kept.
    return video.as_subclass(torch.Tensor) if isinstance(video, tv_tensors.TVTensor) else video


def _check_backend(backend: str) -> str:
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {list(_BACKENDS)}, got {backend!r}")
    return backend


def _bound(dtype: torch.dtype) -> float:
    return 255.0 if dtype == torch.uint8 else 1.0


def _work_dtype(video: torch.Tensor) -> torch.dtype:
    return video.dtype if video.is_floating_point() else torch.float32


def _frame_values(value: Value, video: torch.Tensor, name: str) -> torch.Tensor:
    """``value`` as float64 broadcast to the leading shape ``video.shape[:-3]``, on CPU."""
    lead = video.shape[:-3]
    if isinstance(value, bool) or not isinstance(value, int | float | torch.Tensor):
        raise ValueError(
            f"{name} must be a number or a tensor broadcastable to {tuple(lead)}, "
            f"got {type(value).__name__}"
        )
    v = torch.as_tensor(value).detach().to(device="cpu", dtype=torch.float64)
    try:
        v = torch.broadcast_to(v, lead)
    except RuntimeError:
        raise ValueError(
            f"{name} must be a number or a tensor broadcastable to the leading (..., T) shape "
            f"{tuple(lead)} of the video, got shape {tuple(v.shape)}"
        ) from None
    if v.numel() and not bool(torch.isfinite(v).all()):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _check_range(v: torch.Tensor, name: str, low: float | None, high: float | None) -> None:
    if not v.numel():
        return
    lo, hi = float(v.min()), float(v.max())
    if (low is not None and lo < low) or (high is not None and hi > high):
        allowed = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be in {allowed}, got values in [{lo}, {hi}]")


def _fill_list(fill: Fill, channels: int) -> list[float]:
    if fill is None:
        return [0.0] * channels
    if isinstance(fill, int | float) and not isinstance(fill, bool):
        return [float(fill)] * channels
    if isinstance(fill, Sequence) and all(
        isinstance(f, int | float) and not isinstance(f, bool) for f in fill
    ):
        if len(fill) == 1:
            return [float(fill[0])] * channels
        if len(fill) == channels:
            return [float(f) for f in fill]
    raise ValueError(
        f"fill must be a number or a sequence of 1 or {channels} (channels) numbers, got {fill!r}"
    )


def _view_frames(values: torch.Tensor, like: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Per-frame values ``(...)`` as ``(..., 1, 1, 1)`` on ``like``'s device."""
    (moved,) = to_device(values.to(dtype), device=like.device)  # pinned, non-blocking
    return moved.reshape(*values.shape, 1, 1, 1)


def _opencv_applies(video: torch.Tensor, dtypes: tuple[torch.dtype, ...] = (torch.uint8,)) -> bool:
    return (
        cv2 is not None
        and video.device.type == "cpu"
        and video.dtype in dtypes
        and video.shape[-3] in (1, 3)
        and video.numel() > 0
        and video.shape[-3:].numel() < 2**31
    )


def _use_opencv(
    video: torch.Tensor, backend: str, dtypes: tuple[torch.dtype, ...] = (torch.uint8,)
) -> bool:
    """Whether to take the OpenCV path; ``backend="opencv"`` raises where it cannot."""
    if _check_backend(backend) == "torch":
        return False
    applies = _opencv_applies(video, dtypes)
    if backend == "opencv" and not applies:
        names = " or ".join(str(d).removeprefix("torch.") for d in dtypes)
        raise ValueError(
            f"backend='opencv' needs OpenCV and a non-empty CPU {names} video with 1 or 3 "
            f"channels, got dtype={video.dtype}, device={video.device}, "
            f"shape={tuple(video.shape)}"
        )
    return applies


def _to_uint8(video: torch.Tensor) -> torch.Tensor:
    """Float in [0, 1] -> uint8 exactly like ``torchvision``'s ``to_dtype(scale=True)``."""
    return video.mul(255.0 + 1.0 - 1e-3).to(torch.uint8)


def _from_uint8(video: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return video.to(dtype).mul_(1.0 / 255.0)


# ----------------------------------------------------------------------------------------------
# OpenCV per-frame plumbing
# ----------------------------------------------------------------------------------------------


class _Frames:
    """NumPy views of a CPU video's frames for OpenCV, plus the output buffer to fill.

    ``interleaved`` frames are ``(H, W, C)`` arrays: free for channels-last clips (decoder output);
    other 3-channel clips are either converted once (``need_interleaved``) or visited as ``C``
    separate ``(H, W)`` planes per frame, which needs no copy for contiguous clips.
    """

    def __init__(
        self, video: torch.Tensor, *, need_interleaved: bool = False, allocate: bool = True
    ) -> None:
        self.shape = video.shape
        c, h, w = video.shape[-3:]
        x = video.reshape(-1, c, h, w)
        self.channels = c
        self.num_frames = x.shape[0]
        if c > 1 and (need_interleaved or x.is_contiguous(memory_format=torch.channels_last)):
            x = x.contiguous(memory_format=torch.channels_last)
            self.interleaved = True
            self.src = x.permute(0, 2, 3, 1).numpy()  # (N, H, W, C), a view
        else:
            self.interleaved = False
            self.src = x.contiguous().numpy().reshape(-1, h, w)  # (N * C, H, W)
        # allocate=False: the caller sets dst to an array it builds (an unused clip-sized buffer
        # still costs the allocator, and can make the next call's output fresh memory).
        self.dst = np.empty_like(self.src) if allocate else self.src[:0]

    def __len__(self) -> int:
        return self.src.shape[0]

    def frame(self, i: int) -> int:
        """Frame index (into the flattened leading dims) of image ``i``."""
        return i if self.interleaved else i // self.channels

    def channel(self, i: int) -> int | None:
        """Channel of image ``i``, ``None`` for interleaved frames (all channels)."""
        return None if self.interleaved else i % self.channels

    def output(self) -> torch.Tensor:
        out = torch.from_numpy(self.dst)
        if self.interleaved:
            return out.permute(0, 3, 1, 2).reshape(self.shape)
        return out.reshape(self.shape)


def _cv_lut(video: torch.Tensor, luts: torch.Tensor) -> torch.Tensor:
    """Apply uint8 look-up tables per frame ``(N, 256)`` or per frame and channel ``(N, C, 256)``."""
    frames = _Frames(video)
    luts_np = luts.to(torch.uint8).numpy()
    per_channel = luts_np.ndim == 3
    if per_channel and frames.interleaved:
        # One (1, 256, C) table per frame: OpenCV maps channel c through table c.
        luts_np = np.ascontiguousarray(luts_np.transpose(0, 2, 1)).reshape(
            -1, 1, 256, frames.channels
        )
    for i, (src, dst) in enumerate(zip(frames.src, frames.dst, strict=True)):
        f = frames.frame(i)
        if per_channel and not frames.interleaved:
            cv2.LUT(src, luts_np[f, frames.channel(i)], dst=dst)
        else:
            cv2.LUT(src, luts_np[f], dst=dst)
    return frames.output()


def _cv_gray_floor(frame: np.ndarray) -> np.ndarray:
    """``floor(0.2989 R + 0.587 G + 0.114 B)`` of an ``(H, W, 3)`` uint8 frame, as ``(H, W)``."""
    matrix = np.array([[*_GRAY_WEIGHTS, _FLOOR_BIAS]], dtype=np.float64)
    return cv2.transform(frame, matrix)


# ----------------------------------------------------------------------------------------------
# Colour operations
# ----------------------------------------------------------------------------------------------


def _blend(video: torch.Tensor, other: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    """``clamp(ratio * video + (1 - ratio) * other)`` with per-frame ``ratio`` ``(...)``."""
    dt = _work_dtype(video)
    r = _view_frames(ratio, video, dt)
    one_minus = _view_frames(1.0 - ratio, video, dt)
    out = video.mul(r).addcmul_(other.to(dt), one_minus).clamp_(0, _bound(video.dtype))
    return out if video.is_floating_point() else out.to(video.dtype)


def _gray(video: torch.Tensor) -> torch.Tensor:
    """torchvision's luma ``(..., 1, H, W)`` in the work dtype, floored for uint8 input."""
    r, g, b = video.unbind(dim=-3)
    gray = r.mul(_GRAY_WEIGHTS[0]).add_(g, alpha=_GRAY_WEIGHTS[1])  # a new tensor
    gray = gray.add_(b, alpha=_GRAY_WEIGHTS[2])
    if not video.is_floating_point():
        gray = gray.floor_()
    return gray.unsqueeze(-3)


def brightness(video: torch.Tensor, value: Value, *, backend: Backend = "auto") -> torch.Tensor:
    """Multiply every frame by ``1 + value[t]`` and clamp (torchvision ``adjust_brightness``).

    Paper Fig. 3(b): a temporally varying brightness. ``value >= -1``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: offset from factor 1, a number or a tensor broadcastable to ``(..., T)``.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"`` (see the module docstring).

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value")
    _check_range(v, "Brightness value (factor - 1)", -1.0, None)
    factor = 1.0 + v
    if _use_opencv(video, backend):
        luts = torch.arange(256, dtype=torch.float32) * factor.reshape(-1, 1).to(torch.float32)
        return _cv_lut(video, luts.clamp_(0, 255).to(torch.uint8))
    dt = _work_dtype(video)
    out = video.mul(_view_frames(factor, video, dt)).clamp_(0, _bound(video.dtype))
    return out if video.is_floating_point() else out.to(video.dtype)


def color(video: torch.Tensor, value: Value, *, backend: Backend = "auto") -> torch.Tensor:
    """Blend every frame with its grayscale by factor ``1 + value[t]`` (``adjust_saturation``).

    Single-channel videos are returned unchanged (as a copy), as in torchvision. ``value >= -1``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float, ``C`` in {1, 3}.
        value: offset from factor 1, a number or a tensor broadcastable to ``(..., T)``.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    _check_color_channels(video, "Color")
    v = _frame_values(value, video, "value")
    _check_range(v, "Color value (factor - 1)", -1.0, None)
    factor = 1.0 + v
    if video.shape[-3] == 1:
        return video.clone()
    if _use_opencv(video, backend):
        frames = _Frames(video, need_interleaved=True)
        f = factor.reshape(-1).tolist()
        for i in range(len(frames)):
            src = frames.src[i]
            gray = cv2.cvtColor(_cv_gray_floor(src), cv2.COLOR_GRAY2RGB)
            cv2.addWeighted(src, f[i], gray, 1.0 - f[i], _FLOOR_BIAS, dst=frames.dst[i])
        return frames.output()
    return _blend(video, _gray(video), factor)


def contrast(video: torch.Tensor, value: Value, *, backend: Backend = "auto") -> torch.Tensor:
    """Blend every frame with its mean gray level by factor ``1 + value[t]`` (``adjust_contrast``).

    The mean is taken per frame over (C, H, W), as torchvision does on a video. ``value >= -1``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float, ``C`` in {1, 3}.
        value: offset from factor 1, a number or a tensor broadcastable to ``(..., T)``.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    _check_color_channels(video, "Contrast")
    v = _frame_values(value, video, "value")
    _check_range(v, "Contrast value (factor - 1)", -1.0, None)
    factor = 1.0 + v
    if _use_opencv(video, backend):
        c = video.shape[-3]
        frames = _Frames(video, need_interleaved=c == 3)
        means = torch.tensor(
            [
                cv2.mean(_cv_gray_floor(frames.src[i]) if c == 3 else frames.src[i])[0]
                for i in range(len(frames))
            ],
            dtype=torch.float64,
        ).to(torch.float32)
        f = factor.reshape(-1, 1).to(torch.float32)
        one_minus = (1.0 - factor).reshape(-1, 1).to(torch.float32)
        luts = torch.arange(256, dtype=torch.float32) * f + (means.reshape(-1, 1) * one_minus)
        return _cv_lut(video, luts.clamp_(0, 255).to(torch.uint8))
    if video.shape[-3] == 3:
        gray = _gray(video)
    else:
        gray = video.to(_work_dtype(video))
    mean = gray.mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(video, mean, factor)


def sharpness(video: torch.Tensor, value: Value, *, backend: Backend = "auto") -> torch.Tensor:
    """Blend every frame with its smoothed version by factor ``1 + value[t]`` (``adjust_sharpness``).

    The one-pixel border is left unchanged, as in PIL and torchvision. ``value >= -1``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: offset from factor 1, a number or a tensor broadcastable to ``(..., T)``.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value")
    _check_range(v, "Sharpness value (factor - 1)", -1.0, None)
    factor = 1.0 + v
    c, h, w = video.shape[-3:]
    if video.numel() == 0 or h <= 2 or w <= 2:
        return video.clone()
    # Per frame the 3x3 filter stays in cache; a batched float conv is memory-bound on a CPU.
    if _use_opencv(video, backend, (torch.uint8, torch.float32)):
        kernel = np.array(_SMOOTH, dtype=np.float32) / 13.0
        frames = _Frames(video)
        is_float = video.is_floating_point()
        bias = 0.0 if is_float else _FLOOR_BIAS
        f = factor.reshape(-1).tolist()
        for i in range(len(frames)):
            src, dst = frames.src[i], frames.dst[i]
            fi = f[frames.frame(i)]
            blurred = cv2.filter2D(src, -1, kernel, borderType=cv2.BORDER_REPLICATE)
            cv2.addWeighted(src, fi, blurred, 1.0 - fi, bias, dst=dst)
            if is_float:
                np.clip(dst, 0.0, 1.0, out=dst)
            dst[0], dst[-1], dst[:, 0], dst[:, -1] = src[0], src[-1], src[:, 0], src[:, -1]
        return frames.output()
    dt = _work_dtype(video)
    out = video.reshape(-1, c, h, w).to(dt, copy=True)
    kernel, one_minus = to_device(  # one pinned, non-blocking copy of both
        torch.tensor(_SMOOTH, dtype=dt) / 13.0,
        (1.0 - factor).reshape(-1).to(dt),
        device=video.device,
    )
    one_minus = one_minus.view(-1, 1, 1, 1)
    blurred = tnf.conv2d(out, kernel.expand(c, 1, 3, 3), groups=c)
    if not video.is_floating_point():
        blurred = blurred.round_()
    inner = out[..., 1:-1, 1:-1]
    inner.add_(blurred.sub_(inner).mul_(one_minus))
    out = out.clamp_(0, _bound(video.dtype)).reshape(video.shape)
    return out if video.is_floating_point() else out.to(video.dtype)


def posterize(video: torch.Tensor, value: Value, *, backend: Backend = "auto") -> torch.Tensor:
    """Keep the ``int(value[t])`` most significant bits of every frame (``posterize``).

    For float videos this quantises to ``2**bits`` levels, as torchvision does. Bits in ``[0, 8]``.
    A broadcast bit-mask is the fastest form on every backend, so ``backend`` only validates.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: bits (truncated to an integer), a number or a tensor broadcastable to ``(..., T)``.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    _check_backend(backend)
    bits = _frame_values(value, video, "value").trunc()
    _check_range(bits, "Posterize bits", 0, 8)
    if video.is_floating_point():
        levels = _view_frames(torch.pow(2.0, bits), video, video.dtype)
        out = video.mul(levels).floor_().clamp_(min=0)
        return torch.minimum(out, levels - 1, out=out).mul_(1.0 / levels)
    mask = torch.bitwise_left_shift(torch.full_like(bits, 255, dtype=torch.int64), 8 - bits.long())
    mask = (mask & 255).to(torch.uint8)
    (mask,) = to_device(mask, device=video.device)
    return video & mask.reshape(*bits.shape, 1, 1, 1)


def solarize(video: torch.Tensor, value: Value, *, backend: Backend = "auto") -> torch.Tensor:
    """Invert the pixels at or above ``value[t] * max`` (torchvision ``solarize``).

    ``max`` is 255 for uint8 and 1 for float videos; ``value <= 1``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: threshold as a fraction of the maximum, a number or a tensor broadcastable to
            ``(..., T)``.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value")
    _check_range(v, "Solarize value (threshold / max)", None, 1.0)
    threshold = v * _bound(video.dtype)
    if _use_opencv(video, backend):
        levels = torch.arange(256, dtype=torch.float32)
        thr = threshold.reshape(-1, 1).to(torch.float32)
        luts = torch.where(levels >= thr, 255 - levels, levels)
        return _cv_lut(video, luts.to(torch.uint8))
    thr = _view_frames(threshold, video, _work_dtype(video))
    out = video.bitwise_not() if video.dtype == torch.uint8 else torch.rsub(video, 1.0)
    # Written into the one new tensor: on a CPU, fresh large temporaries cost page faults.
    return torch.where(video >= thr, out, video, out=out)


def autocontrast(video: torch.Tensor, *, backend: Backend = "auto") -> torch.Tensor:
    """Stretch every frame's channels to the full range (torchvision ``autocontrast``).

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float, ``C`` in {1, 3}.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    _check_color_channels(video, "AutoContrast")
    bound = _bound(video.dtype)
    if _use_opencv(video, backend):
        frames = _Frames(video)
        c = video.shape[-3]
        found: list[tuple[float, float]] = []  # a list: item writes into a tensor cost ~us each
        for i in range(len(frames)):
            planes = cv2.split(frames.src[i]) if frames.interleaved else (frames.src[i],)
            found.extend(cv2.minMaxLoc(plane)[:2] for plane in planes)
        extrema = torch.tensor(found, dtype=torch.float32)
        minimum, maximum = extrema.reshape(-1, c, 2).unbind(-1)
        luts = _autocontrast_map(torch.arange(256, dtype=torch.float32), minimum, maximum, bound)
        return _cv_lut(video, luts.to(torch.uint8))
    xf = video.to(_work_dtype(video))
    minimum = xf.amin(dim=(-2, -1))
    maximum = xf.amax(dim=(-2, -1))
    return _autocontrast_map(xf, minimum, maximum, bound, spatial=True).to(video.dtype)


def _autocontrast_map(
    x: torch.Tensor,
    minimum: torch.Tensor,
    maximum: torch.Tensor,
    bound: float,
    *,
    spatial: bool = False,
) -> torch.Tensor:
    """``(x - min) / ((max - min) / bound)`` clamped; identity where ``max == min``.

    ``minimum``/``maximum`` are ``(..., C)``; ``x`` is ``(..., C, H, W)`` when ``spatial`` else the
    256 uint8 levels, giving look-up tables ``(..., C, 256)``.
    """
    flat = maximum == minimum
    inv_scale = (maximum - minimum) * (1.0 / bound)
    minimum = torch.where(flat, torch.zeros_like(minimum), minimum)
    inv_scale = torch.where(flat, torch.ones_like(inv_scale), inv_scale)
    shape = (*minimum.shape, 1, 1) if spatial else (*minimum.shape, 1)
    return (x - minimum.reshape(shape)).div_(inv_scale.reshape(shape)).clamp_(0, bound)


def _equalize_luts(hist: torch.Tensor, num_pixels: int) -> torch.Tensor:
    """PIL's histogram-equalisation tables ``(..., 256)`` uint8 from int64 histograms ``(..., 256)``.

    ``step = (num_pixels - count of the highest occupied level) // 255`` and
    ``lut[k] = (step // 2 + sum_{j<k} hist[j]) // step`` (identity where ``step == 0``).
    """
    levels = torch.arange(256, device=hist.device)
    top = torch.where(hist > 0, levels, torch.full_like(levels, -1)).amax(dim=-1, keepdim=True)
    top_count = hist.gather(-1, top.clamp(min=0))
    step = (num_pixels - top_count) // 255
    before = hist.cumsum(-1) - hist
    lut = ((before + step // 2) // step.clamp(min=1)).clamp_(0, 255)
    return torch.where(step > 0, lut, levels.expand_as(lut)).to(torch.uint8)


def equalize(video: torch.Tensor, *, backend: Backend = "auto") -> torch.Tensor:
    """Histogram-equalise every frame's channels (torchvision ``equalize``, PIL's rule).

    Float videos are quantised to uint8 and back, as torchvision does.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    _check_backend(backend)
    if video.numel() == 0:
        return video.clone()
    if _use_opencv(video, backend, (torch.uint8, torch.float32)):
        return _equalize_opencv(video)
    if video.is_floating_point():
        # The float path is the uint8 path between two conversions (what torchvision does).
        return _from_uint8(equalize(_to_uint8(video), backend="torch"), video.dtype)
    h, w = video.shape[-2:]
    flat = video.reshape(-1, h * w).long()
    hist = torch.zeros(flat.shape[0], 256, dtype=torch.int64, device=video.device)
    hist.scatter_add_(1, flat, torch.ones_like(flat))
    luts = _equalize_luts(hist, h * w)
    return luts.gather(1, flat).reshape(video.shape)


def _equalize_opencv(video: torch.Tensor) -> torch.Tensor:
    """Per-frame OpenCV equalisation of a CPU uint8 or float32 video (float: via uint8)."""
    c, h, w = video.shape[-3:]
    frames = _Frames(video)
    is_float = video.is_floating_point()
    if is_float:
        # torchvision's float -> uint8 conversion, one image at a time so it stays in cache; it
        # is redone in the second pass rather than storing a uint8 copy of the whole video.
        scale = np.float32(255.0 + 1.0 - 1e-3)
        scratch = np.empty(frames.src.shape[1:], dtype=np.float32)
        image_u8 = np.empty(frames.src.shape[1:], dtype=np.uint8)

        def as_uint8(image: np.ndarray) -> np.ndarray:
            np.multiply(image, scale, out=scratch)
            np.copyto(image_u8, scratch, casting="unsafe")  # truncates, like Tensor.to(uint8)
            return image_u8

    else:

        def as_uint8(image: np.ndarray) -> np.ndarray:
            return image

    hists = np.empty((frames.num_frames * c, 256), dtype=np.float32)
    row = 0
    for image in frames.src:
        image = as_uint8(image)
        for ch in range(c) if frames.interleaved else (0,):
            hists[row] = cv2.calcHist([image], [ch], None, [256], [0, 256]).reshape(-1)
            row += 1
    hist = torch.from_numpy(hists).round_().to(torch.int64).reshape(-1, c, 256)
    luts = _equalize_luts(hist, h * w)
    if is_float:
        luts = _from_uint8(luts, torch.float32)  # back to [0, 1] as torchvision does
    luts_np = luts.numpy()
    if frames.interleaved:
        # One (1, 256, C) table per frame: OpenCV maps channel c through table c.
        luts_np = np.ascontiguousarray(luts_np.transpose(0, 2, 1)).reshape(-1, 1, 256, c)
    for i, (src, dst) in enumerate(zip(frames.src, frames.dst, strict=True)):
        f = frames.frame(i)
        lut = luts_np[f] if frames.interleaved else luts_np[f, frames.channel(i)]
        cv2.LUT(as_uint8(src), lut, dst=dst)
    return frames.output()


def _check_color_channels(video: torch.Tensor, op: str) -> None:
    if video.shape[-3] not in (1, 3):
        raise ValueError(f"{op} needs 1 or 3 channels (dim -3), got {video.shape[-3]}")


# ----------------------------------------------------------------------------------------------
# Geometric operations
# ----------------------------------------------------------------------------------------------


def _inverse_affine(
    lead: torch.Size,
    *,
    angle: torch.Tensor | np.ndarray | float = 0.0,
    translate: tuple[torch.Tensor | float, torch.Tensor | float] = (0.0, 0.0),
    shear: tuple[torch.Tensor | float, torch.Tensor | float] = (0.0, 0.0),
    center: tuple[float, float] = (0.0, 0.0),
) -> torch.Tensor:
    """Output->input affine maps ``(..., 2, 3)`` float64 in centred pixel coordinates.

    Same convention as torchvision's ``affine``: the forward map is
    ``p' = A (p - c) + c + t`` with ``A = R(angle) · ShearY(sy) · ShearX(sx)`` (angles in degrees,
    clockwise-positive, image y pointing down), ``c`` the centre relative to the image centre. Its
    inverse ``p = A^{-1} (p' - c - t) + c`` is returned; ``det A == 1``.
    """

    def frames(x: torch.Tensor | np.ndarray | float) -> np.ndarray:
        arr = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        return np.broadcast_to(arr.astype(np.float64, copy=False), tuple(lead))

    columns = [frames(angle), frames(translate[0]), frames(translate[1]), *map(frames, shear)]
    params = list(zip(*(col.reshape(-1).tolist() for col in columns), strict=True))
    # Python floats, one distinct frame value at a time: the same libm calls in the same order as
    # torchvision, so the float64 matrix (and the float32 one it becomes) is bit-identical.
    rows = {p: None for p in params}
    for p in rows:
        rows[p] = _torchvision_inverse(*p, center)
    out = np.array([rows[p] for p in params], dtype=np.float64).reshape(*lead, 2, 3)
    return torch.from_numpy(out)


def _torchvision_inverse(
    angle: float, tx: float, ty: float, sx: float, sy: float, center: tuple[float, float]
) -> list[list[float]]:
    """torchvision's ``_get_inverse_affine_matrix`` (scale 1) for one frame, as ``2x3`` rows."""
    rot, sx, sy = math.radians(angle), math.radians(sx), math.radians(sy)
    cx, cy = center
    cos_sy = math.cos(sy)
    tan_sx = math.tan(sx)
    a = math.cos(rot - sy) / cos_sy
    b = -(a * tan_sx + math.sin(rot))
    c = math.sin(rot - sy) / cos_sy
    d = math.cos(rot) - c * tan_sx
    # A = [[a, b], [c, d]]  =>  A^{-1} = [[d, -b], [-c, a]]; offsets in torchvision's order.
    ux, uy = cx + tx, cy + ty
    m0, m1, m3, m4 = d / 1.0, -b / 1.0, -c / 1.0, a / 1.0
    return [[m0, m1, 0.0 + cx - m0 * ux - m1 * uy], [m3, m4, 0.0 + cy - m3 * ux - m4 * uy]]


def affine(
    video: torch.Tensor, inverse: torch.Tensor, *, fill: Fill = 0, backend: Backend = "auto"
) -> torch.Tensor:
    """Warp every frame with its own affine map, nearest neighbour, constant ``fill`` outside.

    The geometric RandAugment operations (paper Fig. 3(a)) are this kernel with maps built per
    frame. Coordinates follow torchvision's tensor ``affine``: the map sends an output pixel
    centre, measured from the image centre, to the input point sampled there.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        inverse: float ``(2, 3)`` or ``(..., T, 2, 3)`` output->input maps (broadcast over frames).
        fill: value(s) for pixels mapped from outside the frame: a number or one per channel.
        backend: ``"auto"``, ``"torch"`` (one batched ``grid_sample``) or ``"opencv"``
            (``cv2.warpAffine`` per frame).

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    c = video.shape[-3]
    lead = video.shape[:-3]
    fills = _fill_list(fill, c)
    inverse = torch.as_tensor(inverse).detach().to(device="cpu", dtype=torch.float64)
    try:
        inverse = torch.broadcast_to(inverse, (*lead, 2, 3))
    except RuntimeError:
        raise ValueError(
            f"inverse must have shape (2, 3) or broadcast to {(*lead, 2, 3)}, "
            f"got {tuple(inverse.shape)}"
        ) from None
    if video.numel() == 0:
        return video.clone()
    # Nearest warps only move values, so OpenCV serves float32 frames as well as uint8 ones.
    if _use_opencv(video, backend, (torch.uint8, torch.float32)):
        return _affine_opencv(video, inverse, fills)
    return _affine_torch(video, inverse, fills)


def _affine_torch(video: torch.Tensor, inverse: torch.Tensor, fills: list[float]) -> torch.Tensor:
    c, h, w = video.shape[-3:]
    dt = _work_dtype(video)
    grid = _torchvision_grid(inverse, h, w, dt, video.device)
    frames = video.reshape(-1, c, h, w).to(dt)
    constant_fill = any(f != 0.0 for f in fills)
    if constant_fill:
        frames = torch.cat([frames, torch.ones_like(frames[:, :1])], dim=1)
    out = tnf.grid_sample(frames, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    if constant_fill:
        out, inside = out[:, :c], out[:, c:]
        (fill_t,) = to_device(torch.tensor(fills, dtype=dt), device=video.device)
        fill_t = fill_t.view(1, c, 1, 1)
        out = torch.where(inside < 0.5, fill_t, out)
    out = out.reshape(video.shape)
    return out if video.is_floating_point() else out.round_().to(video.dtype)


def _torchvision_grid(
    inverse: torch.Tensor, h: int, w: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """``grid_sample`` grids ``(N, H, W, 2)`` of maps ``(..., 2, 3)``, built as torchvision does.

    Same float operations in the same order as torchvision's ``_affine_grid`` (default-dtype
    ``linspace`` pixel centres, ``theta^T / (w/2, h/2)``, one ``bmm`` per map), so every grid
    value — and hence every nearest-neighbour pick, half-pixel ties included — is bit-identical.
    """
    theta, half = to_device(  # one pinned, non-blocking copy (same values as torchvision's)
        inverse.reshape(-1, 2, 3).to(dtype),
        torch.tensor([0.5 * w, 0.5 * h], dtype=dtype),
        device=device,
    )
    base = torch.empty(1, h, w, 3, dtype=dtype, device=device)
    base[..., 0].copy_(torch.linspace((1.0 - w) * 0.5, (w - 1.0) * 0.5, steps=w, device=device))
    ys = torch.linspace((1.0 - h) * 0.5, (h - 1.0) * 0.5, steps=h, device=device)
    base[..., 1].copy_(ys.unsqueeze_(-1))
    base[..., 2].fill_(1)
    scaled = theta.transpose(1, 2).div(half)
    grid = base.view(1, h * w, 3).expand(theta.shape[0], h * w, 3).bmm(scaled)
    return grid.view(-1, h, w, 2)


def _affine_opencv(video: torch.Tensor, inverse: torch.Tensor, fills: list[float]) -> torch.Tensor:
    h, w = video.shape[-2:]
    maps = _pixel_maps(inverse.reshape(-1, 2, 3).numpy(), h, w)
    ties = _exact_ties(maps, h, w)
    shifts = _integer_shifts(maps)
    frames = _Frames(video)
    fill_px = _fill_pixels(fills, frames.src.dtype)
    # Frames with half-pixel ties take torchvision's own nearest picks (one pair of maps per
    # distinct affine map: a value shared by all frames costs one), through cv2.remap (about as
    # fast as cv2.warpAffine).
    remaps: dict[int, np.ndarray] = {}
    if ties.any():
        tied = np.flatnonzero(ties)
        flat = inverse.reshape(-1, 6)[torch.from_numpy(tied)]
        unique, which = torch.unique(flat, dim=0, return_inverse=True)
        xy = _nearest_source_maps(unique.reshape(-1, 2, 3), h, w)
        remaps = {f: xy[k] for f, k in zip(tied.tolist(), which.tolist(), strict=True)}
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    for i, (src, dst) in enumerate(zip(frames.src, frames.dst, strict=True)):
        f, ch = frames.frame(i), frames.channel(i)
        border = tuple(fills) if ch is None else (fills[ch],) * 4
        if f in remaps:
            cv2.remap(
                src,
                remaps[f][0],
                remaps[f][1],
                cv2.INTER_NEAREST,
                dst=dst,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=border,
            )
        elif shifts[f] is not None:
            _shift_copy(
                src, dst, *shifts[f], fill_px if ch is None or fill_px.ndim == 0 else fill_px[ch]
            )
        else:
            cv2.warpAffine(
                src,
                maps[f],
                (w, h),
                dst=dst,
                flags=flags,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=border,
            )
    return frames.output()


def _pixel_maps(inverse: np.ndarray, h: int, w: int) -> np.ndarray:
    """Centred-coordinate maps ``(N, 2, 3)`` -> pixel-index maps (a new float64 array).

    ``p_pix = p_centred + ((W - 1) / 2, (H - 1) / 2)`` on both sides of the map.
    """
    maps = np.array(inverse, dtype=np.float64)
    half = np.array([(w - 1) * 0.5, (h - 1) * 0.5])
    maps[:, :, 2] += half - maps[:, :, :2] @ half
    return maps


def _shear_opencv(
    video: torch.Tensor, v: torch.Tensor, fills: list[float], vertical: bool
) -> torch.Tensor:
    """ShearX (``vertical=False``) / ShearY of a CPU uint8/float32 video, bit-exact, per frame.

    With nearest interpolation a shear moves whole lines by whole pixels: torchvision samples
    output row ``y`` of a ShearX at ``x + round(s y + c)`` (ShearY: column ``x`` at
    ``y + round(s x + c)``), ``fill`` where that leaves the frame. The integer shift of every line
    is computed once per distinct value (float64; exact wherever the source coordinate is not
    within float32 noise of a half-pixel tie). ShearX applies them as one row gather for the
    whole clip (:func:`_shear_rows`), ShearY as row shifts of transposed images
    (:func:`_shift_columns`). Values with a near-tie line take torchvision's own picks
    (:func:`_shear_picks`: its float32 grid decides ties, also column by column): ShearY remaps
    with them (``cv2.remap``), ShearX rewrites the pixels where they differ from the plain shift
    (:func:`_row_patch`).
    """
    c, h, w = video.shape[-3:]
    groups: dict[float, list[int]] = {}  # distinct value -> its frames
    for f, x in enumerate(v.reshape(-1).tolist()):
        groups.setdefault(x, []).append(f)
    # torchvision RandAugment's shear angle and inverse map, one distinct value at a time.
    center = (-0.5 * w, -0.5 * h)
    inverse = np.array(
        [
            _torchvision_inverse(0.0, 0.0, 0.0, *((0.0, d) if vertical else (d, 0.0)), center)
            for d in (math.degrees(math.atan(x)) for x in groups)
        ],
        dtype=np.float64,
    )
    maps = _pixel_maps(inverse, h, w)
    # Source offset a * line + b of every output line (ShearY: columns, ShearX: rows).
    lines = np.arange(w if vertical else h)
    a, b = (maps[:, 1, 0], maps[:, 1, 2]) if vertical else (maps[:, 0, 1], maps[:, 0, 2])
    offset = a[:, None] * lines + b[:, None]
    along = h if vertical else w  # shifts beyond the frame only fill
    shift = np.clip(np.rint(offset), -along - 1, along + 1)
    tol = 1e-4 * max(1.0, max(h, w) / 256)  # float32 noise, as in _exact_ties
    tied = np.flatnonzero((np.abs(offset - np.floor(offset) - 0.5) < tol).any(axis=1))
    shift = shift.astype(np.int64)
    frames = _Frames(video, allocate=vertical)  # ShearX builds its output by one gather
    if not vertical:
        which = np.empty(frames.num_frames, dtype=np.int64)
        for k, group in enumerate(groups.values()):
            which[group] = k
        patches = {
            k: _row_patch(tuple(inverse[k].reshape(-1).tolist()), tuple(shift[k].tolist()), h, w)
            for k in tied.tolist()
        }
        _shear_rows(frames, shift, which, patches, _fill_pixels(fills, frames.src.dtype))
        return frames.output()
    # ShearY: column shifts through transposed frames (uint8 / float32 pixels of 1 or 3 channels,
    # all of which cv2.transpose moves); values with a near-tie column take torchvision's picks.
    by_value = dict(enumerate(groups.values()))
    tie_values = set(tied.tolist())
    _shift_columns(frames, shift, {k: g for k, g in by_value.items() if k not in tie_values}, fills)
    if not tie_values:
        return frames.output()
    per_frame = 1 if frames.interleaved else c
    borders = [tuple(fills)] if frames.interleaved else [(fill,) * 4 for fill in fills]
    for k in sorted(tie_values):
        mx, my = _shear_picks(tuple(inverse[k].reshape(-1).tolist()), h, w)
        for f in by_value[k]:
            for ch, border in enumerate(borders):
                i = f * per_frame + ch
                cv2.remap(
                    frames.src[i],
                    mx,
                    my,
                    cv2.INTER_NEAREST,
                    dst=frames.dst[i],
                    borderMode=cv2.BORDER_CONSTANT,
                    borderValue=border,
                )
    return frames.output()


def _shift_columns(
    frames: _Frames, shift: np.ndarray, groups: dict[int, list[int]], fills: list[float]
) -> None:
    """ShearY as column shifts: ``dst[y, x] = src[y + shift[k, x], x]``, ``fill`` outside.

    ``groups[k]`` lists the frames of distinct value ``k``. A column is not contiguous in memory,
    so every image is transposed (``cv2.transpose``: columns become rows) into the middle of a
    buffer whose rows carry ``fill`` on both ends, as far as the largest shift reaches; the shifted
    columns are then one NumPy gather of row windows of that buffer (the padding supplies the
    fill), transposed back into the output. One image at a time: the buffers stay in cache, and
    are small enough for the allocator to reuse (fresh clip-sized memory costs page faults on
    every call).
    """
    if not groups:
        return
    h, w = frames.src.shape[1:3]
    pixel = frames.src.shape[3:]  # (C,) for interleaved frames, () for planes
    reach = int(np.abs(shift[list(groups)]).max())  # the largest shift: padding on each end
    length = h + 2 * reach
    fill_px = _fill_pixels(fills, frames.src.dtype)
    per_frame = 1 if frames.interleaved else frames.channels
    shared_fill = frames.interleaved or fill_px.ndim == 0  # one buffer serves every image
    windows, middles = [], []
    for ch in range(1 if shared_fill else per_frame):  # else one per channel plane
        padded = np.empty((w, length, *pixel), dtype=frames.src.dtype)
        padded[...] = fill_px if shared_fill else fill_px[ch]
        flat = padded.reshape(w * length, -1)
        step, item = flat.strides
        windows.append(
            np.lib.stride_tricks.as_strided(
                flat,
                shape=(flat.shape[0] - h + 1, h, flat.shape[1]),
                strides=(step, step, item),
                writeable=False,
            )
        )
        middles.append(padded[:, reach : reach + h])
    row_starts = np.arange(w) * length + reach
    for k, group in groups.items():
        starts = row_starts + shift[k]
        for f in group:
            for ch in range(per_frame):
                i, b = f * per_frame + ch, 0 if shared_fill else ch
                cv2.transpose(frames.src[i], middles[b])
                cv2.transpose(windows[b][starts].reshape(w, h, *pixel), frames.dst[i])


def _shear_rows(
    frames: _Frames,
    shift: np.ndarray,
    which: np.ndarray,
    patches: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    fill: np.ndarray,
) -> None:
    """ShearX as one row gather: ``dst[y, x] = src[y, x + shift[which[f], y]]``, ``fill`` outside.

    Every output row is one window of ``W`` pixels of the flat source buffer (a strided view), so
    one NumPy gather copies all rows of all images; the part of each row that came from outside
    its own source row is then overwritten with ``fill``, one indexed slice assignment per
    distinct shift. Nothing but the output is allocated at the clip's size (fresh memory costs
    page faults on every call). Distinct values with near-tie rows carry ``patches[k]``
    (:func:`_row_patch`): the pixels where torchvision's picks differ from the plain shift,
    rewritten by :func:`_patch_rows`.
    """
    images, h, w = frames.src.shape[:3]
    per_frame = images // frames.num_frames
    flat = frames.src.reshape(images * h * w, -1)  # pixels (channels interleaved or one plane)
    pixel = flat.shape[1]
    step, item = flat.strides
    windows = np.lib.stride_tricks.as_strided(
        flat, shape=(flat.shape[0] - w + 1, w, pixel), strides=(step, step, item), writeable=False
    )
    k = np.clip(np.repeat(shift[which], per_frame, axis=0).reshape(-1), -w, w)  # per image row
    rows = np.arange(k.size)
    starts = rows * w + k
    clipped = np.clip(starts, 0, windows.shape[0] - 1)
    out = windows[clipped]  # (images * H, W, pixel), a new array
    # The first / last rows of the buffer have no window there: copy their inside part.
    src_rows = flat.reshape(-1, w, pixel)
    for r in np.flatnonzero((clipped != starts) & (np.abs(k) < w)).tolist():
        x0, x1 = max(0, -k[r]), min(w, w - k[r])
        out[r, x0:x1] = src_rows[r, x0 + k[r] : x1 + k[r]]
    # Outside pixels: the last k of a row shifted by k > 0, the first -k of one shifted by
    # k < 0; rows with the same shift are filled by one indexed slice assignment.
    per_row = fill.ndim == 1 and pixel == 1  # planes with their own fills
    row_fill = np.repeat(np.tile(fill, frames.num_frames), h)[:, None] if per_row else fill
    order = np.argsort(k, kind="stable")
    sorted_k = k[order]
    bounds = np.flatnonzero(np.diff(sorted_k, prepend=sorted_k[0] - 1)).tolist()
    for a, b in zip(bounds, [*bounds[1:], k.size], strict=True):
        kk = int(sorted_k[a])
        if kk == 0:
            continue
        r = order[a:b]
        cols = slice(w - kk, None) if kk > 0 else slice(0, -kk)
        out[r, cols] = row_fill[r][:, :, None] if per_row else fill
    out_px = _pixel_items(out.reshape(-1, pixel))
    if patches:
        _patch_rows(_pixel_items(flat), out_px, which, patches, per_frame, fill, pixel, h * w)
    frames.dst = out.reshape(frames.src.shape)


def _pixel_items(pixels: np.ndarray) -> np.ndarray:
    """``(N, pixel)`` C-contiguous pixels as ``(N,)`` opaque items (1-D gathers are fast)."""
    return pixels.view(np.dtype((np.void, pixels.shape[1] * pixels.itemsize))).reshape(-1)


def _scatter_fill(
    out: np.ndarray, where: np.ndarray, fill: np.ndarray, pixel: int, image: int, per_frame: int
) -> None:
    """``out[where] = fill`` on pixel items; planes with their own fills take their channel's."""
    if fill.ndim == 1 and pixel == 1:  # one plane per channel, fills differ
        values = fill[(where // image) % per_frame]
        out[where] = _pixel_items(np.ascontiguousarray(values.reshape(-1, 1)))
    else:
        one = np.broadcast_to(fill, (pixel,)).astype(fill.dtype, copy=True).reshape(1, pixel)
        out[where] = _pixel_items(one)[0]


def _patch_rows(
    src: np.ndarray,
    out: np.ndarray,
    which: np.ndarray,
    patches: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    per_frame: int,
    fill: np.ndarray,
    pixel: int,
    image: int,
) -> None:
    """Rewrite the pixel items ``out`` ``(images * H * W,)`` where torchvision's picks differ.

    ``patches[k]`` (:func:`_row_patch`) lists, for distinct value ``k``, the pixels of an image
    whose torchvision pick is another source pixel, those sources, and the pixels it fills. They
    are the same in every image of a value, so each value costs one gather over (its images) x
    (those pixels) from ``src`` (pixel items); a value shared by the whole clip indexes the
    images with a slice.
    """
    src_img, out_img = src.reshape(-1, image), out.reshape(-1, image)
    for k, (pos, source, gone) in patches.items():
        if not pos.size and not gone.size:
            continue
        frames = np.flatnonzero(which == k)
        images: slice | np.ndarray
        if frames.size == which.size:
            images = slice(None)
        else:
            images = (frames[:, None] * per_frame + np.arange(per_frame)).reshape(-1, 1)
        if pos.size:
            out_img[images, pos] = src_img[images, source]
        if gone.size:
            image_ids = np.arange(out_img.shape[0])[images].reshape(-1, 1)
            _scatter_fill(
                out, (image_ids * image + gone).reshape(-1), fill, pixel, image, per_frame
            )


#: Distinct shear maps whose torchvision picks are kept (spatial RandAugment has 61 values).
TIE_CACHE_SIZE = 64


@functools.lru_cache(maxsize=TIE_CACHE_SIZE)
def _shear_picks(inverse: tuple[float, ...], h: int, w: int) -> np.ndarray:
    """torchvision's nearest picks ``(2, H, W)`` (read-only) for one centred shear map.

    A pure function of the map and the frame size (:func:`_nearest_source_maps` on that map
    alone, as torchvision warps one frame at a time), kept for the values that recur: a
    RandAugment magnitude bin is one of 31 values.
    """
    maps = torch.tensor(inverse, dtype=torch.float64).reshape(1, 2, 3)
    xy = _nearest_source_maps(maps, h, w)[0]
    xy.setflags(write=False)
    return xy


@functools.lru_cache(maxsize=TIE_CACHE_SIZE)
def _row_patch(
    inverse: tuple[float, ...], shift: tuple[int, ...], h: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where torchvision's ShearX picks differ from the row shifts ``shift`` ``(H,)``.

    Returns flat pixel indices into one image (read-only): the pixels whose pick is another
    source pixel, those source pixels, and the pixels torchvision fills instead.
    """
    px, py = _shear_picks(inverse, h, w).astype(np.int64)  # exact integers stored as float32
    ys, xs = np.mgrid[0:h, 0:w]
    expect = xs + np.asarray(shift)[:, None]
    expect[(expect < 0) | (expect >= w)] = -1
    inside = px >= 0
    differ = ((expect != px) | (inside & (py != ys))).reshape(-1)
    pos = np.flatnonzero(differ & inside.reshape(-1))
    source = (py * w + px).reshape(-1)[pos]
    gone = np.flatnonzero(differ & ~inside.reshape(-1))
    for array in (pos, source, gone):
        array.setflags(write=False)
    return pos, source, gone


def _nearest_source_maps(inverse: torch.Tensor, h: int, w: int) -> np.ndarray:
    """Source pixel ``x`` and ``y`` maps ``(N, 2, H, W)`` float32 for affine maps ``(N, 2, 3)``.

    These are torchvision's nearest-neighbour picks bit for bit: its grid (float32, see
    :func:`_torchvision_grid`) is sampled by ``grid_sample`` itself (``align_corners=False``,
    round half to even) from an image holding each pixel's own coordinates. Pixels sampled from
    outside the frame get ``-1``, which ``cv2.remap`` fills. The maps hold exact integers; two
    float32 maps are ``cv2.remap``'s fastest nearest form.
    """
    n = inverse.shape[0]
    grid = _torchvision_grid(inverse, h, w, torch.float32, torch.device("cpu"))
    # Channel 0 holds x + 1, channel 1 y + 1: zero padding then reads (-1, -1) after the shift.
    coords = torch.empty(1, 2, h, w, dtype=torch.float32)
    coords[0, 0].copy_(torch.arange(1, w + 1, dtype=torch.float32))
    coords[0, 1].copy_(torch.arange(1, h + 1, dtype=torch.float32).unsqueeze_(-1))
    picked = tnf.grid_sample(
        coords.expand(n, 2, h, w), grid, mode="nearest", padding_mode="zeros", align_corners=False
    )
    return picked.sub_(1.0).numpy()


def _integer_shifts(maps: np.ndarray) -> list[tuple[int, int] | None]:
    """Per frame, the integer source offset ``(dx, dy)`` of a pure translation map, else None."""
    offset = maps[:, :, 2]
    pure = (np.abs(maps[:, :, :2] - np.eye(2)) < 1e-12).all(axis=(1, 2))
    pure &= (np.abs(offset - np.rint(offset)) < 1e-9).all(axis=1)
    offsets = np.rint(offset).astype(np.int64).tolist()
    return [(dx, dy) if p else None for p, (dx, dy) in zip(pure.tolist(), offsets, strict=True)]


def _shift_copy(src: np.ndarray, dst: np.ndarray, dx: int, dy: int, fill: np.ndarray) -> None:
    """``dst[y, x] = src[y + dy, x + dx]`` where that lies inside ``src``, else ``fill``.

    Plain NumPy slice copies (row blocks for a vertical shift, row segments for a horizontal one):
    an integer translation needs no interpolation, and the border is written once.
    """
    h, w = src.shape[:2]
    x0, x1 = max(0, -dx), min(w, w - dx)
    y0, y1 = max(0, -dy), min(h, h - dy)
    if x0 >= x1 or y0 >= y1:
        dst[...] = fill
        return
    dst[y0:y1, x0:x1] = src[y0 + dy : y1 + dy, x0 + dx : x1 + dx]
    if y0:
        dst[:y0] = fill
    if y1 < h:
        dst[y1:] = fill
    if x0:
        dst[y0:y1, :x0] = fill
    if x1 < w:
        dst[y0:y1, x1:] = fill


def _shift_frames(
    video: torch.Tensor, dx: list[int], dy: list[int], fills: list[float]
) -> torch.Tensor:
    """Integer translation per frame (``dst = src[y + dy, x + dx]``) of a CPU uint8/float32 video."""
    frames = _Frames(video)
    fill_px = _fill_pixels(fills, frames.src.dtype)
    for i, (src, dst) in enumerate(zip(frames.src, frames.dst, strict=True)):
        f = frames.frame(i)
        fill_value = (
            fill_px if frames.interleaved or fill_px.ndim == 0 else fill_px[frames.channel(i)]
        )
        _shift_copy(src, dst, dx[f], dy[f], fill_value)
    return frames.output()


def _fill_pixels(fills: list[float], dtype: np.dtype) -> np.ndarray:
    """Per-channel fill values as pixels of ``dtype`` (uint8: rounded and clipped).

    One value for all channels comes back as a 0-d array: NumPy then fills a region like
    ``memset`` instead of broadcasting a short pixel over it.
    """
    if dtype == np.uint8:
        pixels = np.clip(np.rint(fills), 0, 255).astype(np.uint8)
    else:
        pixels = np.asarray(fills, dtype=dtype)
    return pixels[:1].reshape(()) if (pixels == pixels[0]).all() else pixels


def _exact_ties(maps: np.ndarray, h: int, w: int) -> np.ndarray:
    """Frames ``(N,)`` (bool) whose pixel-space map ``(N, 2, 3)`` hits half-pixel ties.

    A source coordinate ``a*j + b*i + c`` that lies exactly (or within float32 noise) half-way
    between two pixels (e.g. a shear of 0.2 on every fifth row) is rounded by torchvision according
    to its float32 arithmetic, while ``cv2.warpAffine`` always rounds it up; such frames take
    torchvision's own picks (:func:`_nearest_source_maps`, then ``cv2.remap``) instead. Only
    maps with an integer coefficient can tie on a whole row or column (shears, translations,
    quarter turns); for rotations by other angles exact ties do not occur.
    """
    # float32 grids put a source coordinate up to ~1e-5 px (more on big frames) off its exact
    # value: near-ties are treated as ties, so the other paths may round in float64.
    tol = 1e-4 * max(1.0, max(h, w) / 256)
    ties = np.zeros(maps.shape[0], dtype=bool)
    integer = np.abs(maps[:, :, :2] - np.rint(maps[:, :, :2])) < 1e-9  # (N, 2, 2)
    for r in range(2):
        # Both coefficients integer: the offset alone decides the fractional part.
        both = integer[:, r].all(axis=1)
        offset = maps[both, r, 2]
        ties[both] |= np.abs(offset - np.floor(offset) - 0.5) < tol
        # Coefficient k varies along an output line of `size` pixels (k=0: x over the width,
        # k=1: y over the height); where the other coefficient is an integer, only this one
        # decides the fractional part, so scanning that line finds every tie.
        for k, size in ((0, w), (1, h)):
            which = integer[:, r, 1 - k] & ~both
            if not which.any():
                continue
            line = maps[which, r, k : k + 1] * np.arange(size) + maps[which, r, 2:3]
            ties[which] |= (np.abs(line - np.floor(line) - 0.5) < tol).any(axis=1)
    return ties


def _shear_degrees(v: torch.Tensor) -> torch.Tensor:
    """``degrees(atan(v))`` per frame with Python's ``math``, as torchvision's RandAugment does."""
    flat = [math.degrees(math.atan(x)) for x in v.reshape(-1).tolist()]
    return torch.tensor(flat, dtype=torch.float64).reshape(v.shape)


def _use_shear_opencv(video: torch.Tensor, backend: str) -> bool:
    """Whether a shear takes :func:`_shear_opencv` (``cv2.remap`` needs sides below 32767)."""
    return (
        _use_opencv(video, backend, (torch.uint8, torch.float32))
        and max(video.shape[-2:]) < 2**15 - 1
    )


def shear_x(
    video: torch.Tensor, value: Value, *, fill: Fill = 0, backend: Backend = "auto"
) -> torch.Tensor:
    """Shear every frame horizontally by coefficient ``value[t]`` about the top-left corner.

    torchvision RandAugment's ShearX: ``affine(shear=[degrees(atan(value)), 0], center=[0, 0])``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: shear coefficient, a number or a tensor broadcastable to ``(..., T)``.
        fill: outside value(s), a number or one per channel.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value")
    h, w = video.shape[-2:]
    if _use_shear_opencv(video, backend):
        return _shear_opencv(video, v, _fill_list(fill, video.shape[-3]), vertical=False)
    inv = _inverse_affine(v.shape, shear=(_shear_degrees(v), 0.0), center=(-0.5 * w, -0.5 * h))
    return affine(video, inv, fill=fill, backend=backend)


def shear_y(
    video: torch.Tensor, value: Value, *, fill: Fill = 0, backend: Backend = "auto"
) -> torch.Tensor:
    """Shear every frame vertically by coefficient ``value[t]`` about the top-left corner.

    torchvision RandAugment's ShearY: ``affine(shear=[0, degrees(atan(value))], center=[0, 0])``.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: shear coefficient, a number or a tensor broadcastable to ``(..., T)``.
        fill: outside value(s), a number or one per channel.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value")
    h, w = video.shape[-2:]
    if _use_shear_opencv(video, backend):
        return _shear_opencv(video, v, _fill_list(fill, video.shape[-3]), vertical=True)
    inv = _inverse_affine(v.shape, shear=(0.0, _shear_degrees(v)), center=(-0.5 * w, -0.5 * h))
    return affine(video, inv, fill=fill, backend=backend)


def translate_x(
    video: torch.Tensor, value: Value, *, fill: Fill = 0, backend: Backend = "auto"
) -> torch.Tensor:
    """Shift every frame right by ``int(value[t])`` pixels (torchvision RandAugment's TranslateX).

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: pixels (truncated toward zero), a number or a tensor broadcastable to ``(..., T)``.
        fill: outside value(s), a number or one per channel.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value").trunc()
    if _use_opencv(video, backend, (torch.uint8, torch.float32)):
        fills = _fill_list(fill, video.shape[-3])
        shift = [-int(x) for x in v.reshape(-1).tolist()]
        zero = [0] * len(shift)
        return _shift_frames(video, shift, zero, fills)
    return affine(video, _inverse_affine(v.shape, translate=(v, 0.0)), fill=fill, backend=backend)


def translate_y(
    video: torch.Tensor, value: Value, *, fill: Fill = 0, backend: Backend = "auto"
) -> torch.Tensor:
    """Shift every frame down by ``int(value[t])`` pixels (torchvision RandAugment's TranslateY).

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: pixels (truncated toward zero), a number or a tensor broadcastable to ``(..., T)``.
        fill: outside value(s), a number or one per channel.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value").trunc()
    if _use_opencv(video, backend, (torch.uint8, torch.float32)):
        fills = _fill_list(fill, video.shape[-3])
        shift = [-int(x) for x in v.reshape(-1).tolist()]
        zero = [0] * len(shift)
        return _shift_frames(video, zero, shift, fills)
    return affine(video, _inverse_affine(v.shape, translate=(0.0, v)), fill=fill, backend=backend)


def rotate(
    video: torch.Tensor, value: Value, *, fill: Fill = 0, backend: Backend = "auto"
) -> torch.Tensor:
    """Rotate every frame counter-clockwise by ``value[t]`` degrees about its centre.

    torchvision ``rotate(angle=value, expand=False)``; the frame size is kept.

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.
        value: degrees, a number or a tensor broadcastable to ``(..., T)``.
        fill: outside value(s), a number or one per channel.
        backend: ``"auto"``, ``"torch"`` or ``"opencv"``.

    Returns:
        A new tensor like ``video``.
    """
    video = _check_video(video)
    v = _frame_values(value, video, "value")
    # torchvision reduces the angle to [0, 360) (Python's %) and builds the map with the opposite
    # sign; NumPy's remainder is Python's.
    inv = _inverse_affine(v.shape, angle=-np.remainder(v.numpy(), 360.0))
    return affine(video, inv, fill=fill, backend=backend)


def identity(video: torch.Tensor) -> torch.Tensor:
    """Return a copy of ``video`` (RandAugment's Identity).

    Args:
        video: ``(..., T, C, H, W)`` uint8 or float.

    Returns:
        A new tensor equal to ``video``.
    """
    return _check_video(video).clone()


# ----------------------------------------------------------------------------------------------
# Dispatch
# ----------------------------------------------------------------------------------------------

_GEOMETRIC: dict[str, Callable[..., torch.Tensor]] = {
    "ShearX": shear_x,
    "ShearY": shear_y,
    "TranslateX": translate_x,
    "TranslateY": translate_y,
    "Rotate": rotate,
}
_PHOTOMETRIC: dict[str, Callable[..., torch.Tensor]] = {
    "Brightness": brightness,
    "Color": color,
    "Contrast": contrast,
    "Sharpness": sharpness,
    "Posterize": posterize,
    "Solarize": solarize,
}
_NO_VALUE: dict[str, Callable[..., torch.Tensor]] = {
    "AutoContrast": autocontrast,
    "Equalize": equalize,
}


def apply_op(
    video: torch.Tensor,
    op: str,
    value: Value = 0.0,
    *,
    fill: Fill = 0,
    backend: Backend = "auto",
) -> torch.Tensor:
    """Apply one RandAugment operation with a per-frame value (RandAugment-T, paper Section 3.1).

    Frame ``t`` of the result equals torchvision v2's operation on frame ``t`` with ``value[t]``
    (as ``torchvision.transforms.v2.RandAugment`` calls it, nearest interpolation, same ``fill``).

    Args:
        video: ``(..., T, C, H, W)`` uint8 ``[0, 255]`` or float ``[0, 1]``; plain tensor or
            ``tv_tensors.Video`` (the result is a plain tensor).
        op: one of :data:`OP_NAMES` (torchvision v2's names).
        value: the operation's value in its own units (see the module docstring), a number or a
            tensor broadcastable to ``video.shape[:-3]``, e.g. ``(T,)``; ignored by Identity,
            AutoContrast and Equalize.
        fill: outside value(s) of the geometric operations, a number or one per channel, in the
            video's units.
        backend: ``"auto"`` (fastest available), ``"torch"`` (batched, any device) or
            ``"opencv"`` (CPU uint8, per frame).

    Returns:
        A new tensor with the shape, dtype and device of ``video``.

    Raises:
        ValueError: unknown ``op`` or ``backend``, a bad shape/dtype, or a value out of the
            operation's range (the message names it and the allowed range).
    """
    _check_backend(backend)
    if op == "Identity":
        return identity(video)
    if op in _GEOMETRIC:
        return _GEOMETRIC[op](video, value, fill=fill, backend=backend)
    if op in _PHOTOMETRIC:
        return _PHOTOMETRIC[op](video, value, backend=backend)
    if op in _NO_VALUE:
        return _NO_VALUE[op](video, backend=backend)
    raise ValueError(f"op must be one of {list(OP_NAMES)}, got {op!r}")
