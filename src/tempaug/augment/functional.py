"""Pure per-frame RandAugment kernels for videos (no randomness).

These are the operations of RandAugment-T (paper Section 3.1, Fig. 2; Section 4.2), applied with a
value that may change from frame to frame. Every kernel reproduces, frame by frame, the operation
that ``torchvision.transforms.v2.RandAugment`` applies to a tensor for the same value (nearest
interpolation, same fill): ``out[..., t, :, :, :] == torchvision_op(video[..., t, :, :, :], value[t])``
up to a mean absolute difference of at most 1 on the uint8 scale (in practice far less; the
geometric OpenCV path can round a source coordinate that lies within 1/1000 of a pixel centre
boundary differently).

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
    ``cv2.calcHist``) on CPU uint8 videos with 1 or 3 channels: on one CPU thread it is faster than
    per-frame PIL for every operation and much faster than torch's uint8 kernels (measured in
    ``results/benchmarks/augment.md`` by ``benchmarks/augment.py``). It reads decoder clips —
    ``(T, H, W, C)`` arrays viewed as ``(T, C, H, W)``, i.e. channels-last strides — without
    copying and returns channels-last output; other layouts are visited plane by plane (Color and
    Contrast convert them once). ``backend="auto"`` (default) picks OpenCV where it applies and torch
    otherwise; for float32 CPU videos the geometric operations, Sharpness and Equalize (which
    quantises to uint8 as torchvision does) also run per frame through OpenCV, where the data stays
    in cache, while the other operations stay batched torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as tnf

try:  # OpenCV is a dependency; the torch path stays usable without it.
    import cv2
except ImportError:  # pragma: no cover - exercised only where OpenCV is missing
    cv2 = None

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
    return video.as_subclass(torch.Tensor)


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
    return values.to(device=like.device, dtype=dtype).reshape(*values.shape, 1, 1, 1)


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

    def __init__(self, video: torch.Tensor, *, need_interleaved: bool = False) -> None:
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
        self.dst = np.empty_like(self.src)

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
    kernel = torch.tensor(_SMOOTH, dtype=dt, device=video.device) / 13.0
    blurred = tnf.conv2d(out, kernel.expand(c, 1, 3, 3), groups=c)
    if not video.is_floating_point():
        blurred = blurred.round_()
    inner = out[..., 1:-1, 1:-1]
    one_minus = (1.0 - factor).reshape(-1).to(device=video.device, dtype=dt).view(-1, 1, 1, 1)
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
    return video & mask.to(video.device).reshape(*bits.shape, 1, 1, 1)


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
        extrema = torch.empty(frames.num_frames * c, 2, dtype=torch.float32)
        row = 0
        for i in range(len(frames)):
            planes = cv2.split(frames.src[i]) if frames.interleaved else (frames.src[i],)
            for plane in planes:
                low, high, _, _ = cv2.minMaxLoc(plane)
                extrema[row, 0], extrema[row, 1] = low, high
                row += 1
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
    angle: torch.Tensor | float = 0.0,
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

    # NumPy: these are a few values per frame, where torch's per-op overhead would dominate.
    def frames(x: torch.Tensor | float) -> np.ndarray:
        arr = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        return np.broadcast_to(arr.astype(np.float64, copy=False), tuple(lead))

    rot = np.deg2rad(frames(angle))
    sx, sy = np.deg2rad(frames(shear[0])), np.deg2rad(frames(shear[1]))
    tx, ty = frames(translate[0]), frames(translate[1])
    cx, cy = center
    tan_sx = np.tan(sx)
    a = np.cos(rot - sy) / np.cos(sy)
    c = np.sin(rot - sy) / np.cos(sy)
    b = -(a * tan_sx + np.sin(rot))
    d = np.cos(rot) - c * tan_sx
    # A = [[a, b], [c, d]]  =>  A^{-1} = [[d, -b], [-c, a]]
    ux, uy = cx + tx, cy + ty
    row0 = np.stack([d, -b, cx - (d * ux - b * uy)], axis=-1)
    row1 = np.stack([-c, a, cy - (-c * ux + a * uy)], axis=-1)
    return torch.from_numpy(np.stack([row0, row1], axis=-2))


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
    dev = video.device
    theta = inverse.reshape(-1, 2, 3).to(device=dev, dtype=dt)
    # Output pixel centres relative to the image centre, as homogeneous rows (H*W, 3).
    xs = torch.linspace((1.0 - w) * 0.5, (w - 1.0) * 0.5, w, device=dev, dtype=dt)
    ys = torch.linspace((1.0 - h) * 0.5, (h - 1.0) * 0.5, h, device=dev, dtype=dt)
    base = torch.stack(
        [xs.expand(h, w), ys.unsqueeze(-1).expand(h, w), torch.ones(h, w, device=dev, dtype=dt)],
        dim=-1,
    ).reshape(1, h * w, 3)
    # grid_sample wants input coordinates normalised by the half extent (align_corners=False).
    scaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], device=dev, dtype=dt)
    grid = torch.matmul(base, scaled).reshape(-1, h, w, 2)
    frames = video.reshape(-1, c, h, w).to(dt)
    constant_fill = any(f != 0.0 for f in fills)
    if constant_fill:
        frames = torch.cat([frames, torch.ones_like(frames[:, :1])], dim=1)
    out = tnf.grid_sample(frames, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    if constant_fill:
        out, inside = out[:, :c], out[:, c:]
        fill_t = torch.tensor(fills, device=dev, dtype=dt).view(1, c, 1, 1)
        out = torch.where(inside < 0.5, fill_t, out)
    out = out.reshape(video.shape)
    return out if video.is_floating_point() else out.round_().to(video.dtype)


def _affine_opencv(video: torch.Tensor, inverse: torch.Tensor, fills: list[float]) -> torch.Tensor:
    c, h, w = video.shape[-3:]
    # Centred coordinates -> pixel indices: p_pix = p_centred + ((W - 1) / 2, (H - 1) / 2).
    maps = inverse.reshape(-1, 2, 3).numpy().copy()
    half = np.array([(w - 1) * 0.5, (h - 1) * 0.5])
    maps[:, :, 2] += half - maps[:, :, :2] @ half
    ties = _exact_ties(maps, h, w)
    shifts = _integer_shifts(maps)
    frames = _Frames(video)
    if video.dtype == torch.uint8:
        fill_px = np.clip(np.rint(fills), 0, 255).astype(np.uint8)
    else:
        fill_px = np.asarray(fills, dtype=frames.src.dtype)
    if frames.interleaved:
        per_image = [(f, fill_px, tuple(fills)) for f in range(frames.num_frames)]
    else:
        per_image = [
            (f, fill_px[ch], (fills[ch],) * 4) for f in range(frames.num_frames) for ch in range(c)
        ]
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    for src, dst, (f, fill_value, border) in zip(frames.src, frames.dst, per_image, strict=True):
        if ties[f]:
            continue
        if shifts[f] is not None:
            _shift_copy(src, dst, *shifts[f], fill_value, border)
            continue
        cv2.warpAffine(
            src,
            maps[f],
            (w, h),
            dst=dst,
            flags=flags,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=border,
        )
    out = frames.output()
    if ties.any():
        idx = torch.from_numpy(np.flatnonzero(ties))
        sub = video.reshape(-1, c, h, w)[idx]
        out.view(-1, c, h, w)[idx] = _affine_torch(sub, inverse.reshape(-1, 2, 3)[idx], fills)
    return out


def _integer_shifts(maps: np.ndarray) -> list[tuple[int, int] | None]:
    """Per frame, the integer source offset ``(dx, dy)`` of a pure translation map, else None."""
    offset = maps[:, :, 2]
    pure = (np.abs(maps[:, :, :2] - np.eye(2)) < 1e-12).all(axis=(1, 2))
    pure &= (np.abs(offset - np.rint(offset)) < 1e-9).all(axis=1)
    offsets = np.rint(offset).astype(np.int64).tolist()
    return [(dx, dy) if p else None for p, (dx, dy) in zip(pure.tolist(), offsets, strict=True)]


def _shift_copy(
    src: np.ndarray, dst: np.ndarray, dx: int, dy: int, fill: np.ndarray, border: tuple
) -> None:
    """``dst[y, x] = src[y + dy, x + dx]`` where that lies inside ``src``, else ``fill``."""
    h, w = src.shape[:2]
    x0, x1 = max(0, -dx), min(w, w - dx)
    y0, y1 = max(0, -dy), min(h, h - dy)
    if x0 >= x1 or y0 >= y1:
        dst[...] = fill
        return
    inner = src[y0 + dy : y1 + dy, x0 + dx : x1 + dx]
    cv2.copyMakeBorder(inner, y0, h - y1, x0, w - x1, cv2.BORDER_CONSTANT, dst=dst, value=border)


def _exact_ties(maps: np.ndarray, h: int, w: int) -> np.ndarray:
    """Frames ``(N,)`` (bool) whose pixel-space map ``(N, 2, 3)`` hits exact half-pixel ties.

    A source coordinate ``a*j + b*i + c`` that lies exactly half-way between two pixels (e.g. a
    shear of 0.2 on every fifth row) is rounded by torchvision according to float32 noise, while
    ``cv2.warpAffine`` always rounds it up; such frames go through the torch path instead. Only
    maps with an integer coefficient can tie on a whole row or column (shears, translations,
    quarter turns); for rotations by other angles exact ties do not occur.
    """
    ties = np.zeros(maps.shape[0], dtype=bool)
    integer = np.abs(maps[:, :, :2] - np.rint(maps[:, :, :2])) < 1e-9  # (N, 2, 2)
    for r in range(2):
        # Coefficient k varies along an output line of `size` pixels (k=0: x over the width,
        # k=1: y over the height); where the other coefficient is an integer, only this one
        # decides the fractional part, so scanning that line finds every tie.
        for k, size in ((0, w), (1, h)):
            which = integer[:, r, 1 - k]
            if not which.any():
                continue
            line = maps[which, r, k : k + 1] * np.arange(size) + maps[which, r, 2:3]
            ties[which] |= (np.abs(line - np.floor(line) - 0.5) < 1e-6).any(axis=1)
    return ties


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
    inv = _inverse_affine(
        v.shape, shear=(torch.rad2deg(torch.atan(v)), 0.0), center=(-0.5 * w, -0.5 * h)
    )
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
    inv = _inverse_affine(
        v.shape, shear=(0.0, torch.rad2deg(torch.atan(v))), center=(-0.5 * w, -0.5 * h)
    )
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
    # torchvision reduces the angle to [0, 360) and builds the map with the opposite sign.
    inv = _inverse_affine(v.shape, angle=-torch.remainder(v, 360.0))
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
