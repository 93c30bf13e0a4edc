"""Class activation maps (CAM) for the SlowFast network (paper Section 4.6, Figs. 5-6).

CAM (Zhou et al., CVPR 2016, the paper's reference [59]) weights the last convolutional feature
maps by the classifier weights of one class. For the pytorchvideo SlowFast built with an adaptive
average head pool (``create_slowfast(head_pool=nn.AdaptiveAvgPool3d, head_output_size=(1, 1, 1))``)
the network ends in

    res5 -> [slow (B, C_s, T_s, h, w), fast (B, C_f, T_f, h, w)]      # blocks[4] (fusion = Identity)
         -> PoolConcatPathway: cat([mean_s, mean_f], dim=1)  (B, C_s + C_f, 1, 1, 1)   # blocks[5]
         -> ResNetBasicHead: dropout -> proj Linear(C_s + C_f, N) -> global mean        # blocks[6]

so the ``proj`` weight ``W (N, C_s + C_f)`` splits, in concatenation order, into a slow block
``W[:, :C_s]`` and a fast block ``W[:, C_s:]`` (2048 | 256 for SlowFast-50; the sizes are read off
the captured feature maps, never hard-coded, so smaller models work too). The CAM of class ``k`` on
pathway ``i`` is ``CAM_i[k] = sum_c W[k, slice_i][c] * feat_i[c]``, a ``(T_i, h, w)`` map.

Identity (checked in the tests). Pooling and projection are linear, and dropout is the identity in
eval mode, hence, for every class ``k`` and with each mean taken over that pathway's *own* grid
(the pathways have different ``T_i``)::

    mean_{T_s,h,w}(CAM_slow[k]) + mean_{T_f,h,w}(CAM_fast[k]) + bias[k] == logit[k].

The paper (Section 4.6) uses the slow pathway only; ``pathways="both"`` adds the fast one (needed
when the slow pathway has a single time step, as in the smoke/synthetic SlowFast with 16-frame
clips). For display the raw maps are upsampled to the clip's ``(T, H, W)`` - bilinear in space
and, in time, either aligned with the frames each pathway was sliced from (``j * stride``, the
default) or trilinear on cell centres - summed over the selected pathways and min-max
normalised per sample and class, as in Zhou et al.'s reference code (``cam - min``, then
``/ max``; no ReLU - PySlowFast's Grad-CAM visualiser applies one first, available as
``relu=True``). One forward pass serves any number of classes; no gradient is needed, so this
is plain CAM, not Grad-CAM.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tempaug.models._pytorchvideo import PoolConcatPathway, ResNetBasicHead

__all__ = [
    "PATHWAY_NAMES",
    "CAMOutput",
    "cam_from_features",
    "capture_head_inputs",
    "class_activation_maps",
    "combine_cams",
    "find_cam_layers",
    "mixture_cams",
    "normalize_cam",
    "split_head_weight",
    "upsample_cam",
]

#: Pathway order of pytorchvideo's SlowFast (the order of the concatenation in the head).
PATHWAY_NAMES: tuple[str, ...] = ("slow", "fast")

Pathways = Literal["slow", "fast", "both"]


# --------------------------------------------------------------------------- pure kernels


def split_head_weight(weight: Tensor, sizes: Sequence[int]) -> tuple[Tensor, ...]:
    """Split the head projection weight into per-pathway blocks (concatenation order).

    Args:
        weight: ``(N, C_total)`` float, the ``proj.weight`` of the SlowFast head.
        sizes: channel count of each pathway's last feature map, in concat order
            (``(2048, 256)`` for SlowFast-50).

    Returns:
        One ``(N, C_i)`` view per pathway.

    Raises:
        ValueError: if ``weight`` is not 2-D, a size is not positive, or the sizes do not add up
            to ``C_total``.
    """
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (N, C_total), got shape {tuple(weight.shape)}")
    sizes = [int(s) for s in sizes]
    if not sizes or any(s <= 0 for s in sizes):
        raise ValueError(f"sizes must be positive channel counts, got {sizes}")
    if sum(sizes) != weight.shape[1]:
        raise ValueError(
            f"sizes {sizes} sum to {sum(sizes)} but the head weight has {weight.shape[1]} "
            "input channels (the pathway features and the head do not match)"
        )
    return tuple(torch.split(weight, sizes, dim=1))


def _as_target_index(targets: int | Sequence[int] | Tensor, batch: int, num_classes: int) -> Tensor:
    """Normalise ``targets`` to a ``(B, K)`` long tensor of class indices."""
    if isinstance(targets, Tensor):
        t = targets.detach().to("cpu")
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
            raise ValueError(f"targets must hold integer class indices, got dtype {t.dtype}")
        t = t.long()
    elif isinstance(targets, int):
        t = torch.tensor([targets], dtype=torch.long)
    else:
        t = torch.as_tensor(list(targets), dtype=torch.long)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim == 1:
        if t.numel() == 0:
            raise ValueError("targets must name at least one class")
        t = t.unsqueeze(0).expand(batch, -1)
    elif t.ndim == 2:
        if t.shape[0] != batch or t.shape[1] == 0:
            raise ValueError(f"2-D targets must have shape (B={batch}, K>=1), got {tuple(t.shape)}")
    else:
        raise ValueError(
            f"targets must be an int, a (K,) list/tensor or a (B, K) tensor, got {t.ndim}-D"
        )
    if t.min() < 0 or t.max() >= num_classes:
        raise ValueError(
            f"targets must be class indices in [0, {num_classes - 1}], got min {int(t.min())} "
            f"and max {int(t.max())}"
        )
    return t.contiguous()


def cam_from_features(
    features: Sequence[Tensor], weight: Tensor, targets: Tensor
) -> tuple[Tensor, ...]:
    """Raw (unnormalised, not upsampled) CAMs of every pathway (Zhou et al. 2016, Eq. 1).

    Args:
        features: per pathway ``(B, C_i, T_i, h_i, w_i)`` float feature maps, in the head's
            concatenation order.
        weight: ``(N, sum C_i)`` head projection weight.
        targets: ``(B, K)`` long class indices, one row per sample.

    Returns:
        Per pathway ``(B, K, T_i, h_i, w_i)``: ``sum_c weight[target, slice_i][c] * feat_i[c]``.

    Raises:
        ValueError: on shape mismatches.
    """
    if not features:
        raise ValueError("features must hold at least one pathway feature map")
    for i, f in enumerate(features):
        if f.ndim != 5:
            raise ValueError(f"features[{i}] must be (B, C, T, H, W), got shape {tuple(f.shape)}")
    batch = features[0].shape[0]
    if targets.ndim != 2 or targets.shape[0] != batch:
        raise ValueError(f"targets must be (B={batch}, K), got shape {tuple(targets.shape)}")
    blocks = split_head_weight(weight, [f.shape[1] for f in features])
    targets = targets.to(weight.device)
    out = []
    for feat, w in zip(features, blocks, strict=True):
        w_sel = w[targets]  # (B, K, C_i)
        out.append(torch.einsum("bkc,bcthw->bkthw", w_sel.to(feat.dtype), feat))
    return tuple(out)


def upsample_cam(maps: Tensor, size: Sequence[int], *, stride: int | None = None) -> Tensor:
    """Upsample ``(B, K, t, h, w)`` maps to the clip grid ``(B, K, T, H, W)``.

    Space is always bilinear with ``align_corners=False``. Time follows ``stride``:

    * ``None``: cell-centre alignment (plain trilinear ``F.interpolate``): step ``j`` covers input
      frames ``[j T/t, (j+1) T/t)``.
    * an int ``s``: sample alignment: step ``j`` *is* input frame ``j * s`` (how the SlowFast
      wrapper slices its pathways: frames ``0, s, 2s, ...``); frames in between are linearly
      interpolated and frames after the last sample keep its value. This keeps the temporal
      profile where the network looked, which matters for temporal localization (Section 4.6).

    Args:
        maps: ``(B, K, t, h, w)`` float.
        size: target ``(T, H, W)``.
        stride: temporal stride of the pathway on the input clip, or ``None``.

    Returns:
        ``(B, K, T, H, W)`` float, same dtype and device as ``maps``.

    Raises:
        ValueError: bad rank, size or stride.
    """
    if maps.ndim != 5:
        raise ValueError(f"maps must be (B, K, t, h, w), got shape {tuple(maps.shape)}")
    size = tuple(int(s) for s in size)
    if len(size) != 3 or any(s <= 0 for s in size):
        raise ValueError(f"size must be three positive ints (T, H, W), got {size}")
    if stride is None:
        if tuple(maps.shape[2:]) == size:
            return maps.clone()
        return F.interpolate(maps, size=size, mode="trilinear", align_corners=False)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be a positive int or None, got {stride!r}")
    b, k, t, h, w = maps.shape
    big_t, big_h, big_w = size
    if (h, w) != (big_h, big_w):
        flat = maps.reshape(b * k, t, h, w)
        flat = F.interpolate(flat, size=(big_h, big_w), mode="bilinear", align_corners=False)
        maps = flat.reshape(b, k, t, big_h, big_w)
    pos = torch.arange(big_t, device=maps.device, dtype=torch.float64) / stride
    lo = pos.floor().clamp(max=t - 1)
    frac = (pos - lo).clamp(0.0, 1.0).to(maps.dtype)
    lo = lo.long()
    hi = (lo + 1).clamp(max=t - 1)
    frac = frac.view(1, 1, big_t, 1, 1)
    first = maps[:, :, lo]
    return first + (maps[:, :, hi] - first) * frac  # exact where both samples agree


def normalize_cam(maps: Tensor, *, eps: float = 1e-6) -> Tensor:
    """Min-max normalise every map to ``[0, 1]`` over its last three dimensions.

    ``(m - min) / (max - min)``. A map whose range is at most ``eps`` times its magnitude
    (``max(|min|, |max|)``) counts as constant - that covers float rounding noise of a
    mathematically constant map, which plain min-max would blow up to ``[0, 1]`` - and becomes
    all zeros (so does an all-zero map).

    Args:
        maps: ``(..., T, H, W)`` float.
        eps: relative range below which a map is constant, ``> 0``.

    Returns:
        Tensor of the same shape and dtype with values in ``[0, 1]``.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    if maps.ndim < 3:
        raise ValueError(f"maps must have at least 3 dims (..., T, H, W), got {maps.ndim}")
    flat = maps.flatten(-3)
    lo = flat.amin(dim=-1, keepdim=True)
    hi = flat.amax(dim=-1, keepdim=True)
    span = hi - lo
    constant = span <= eps * torch.maximum(hi.abs(), lo.abs())
    safe = torch.where(constant, torch.ones_like(span), span)
    out = torch.where(constant, torch.zeros_like(flat), (flat - lo) / safe)
    return out.clamp_(0.0, 1.0).reshape(maps.shape)


def combine_cams(
    raw: Sequence[Tensor],
    size: Sequence[int],
    *,
    pathways: Pathways = "slow",
    strides: Sequence[int | None] | None = None,
    relu: bool = False,
    normalize: bool = True,
    eps: float = 1e-6,
) -> Tensor:
    """Upsample, sum, ReLU and normalise raw per-pathway CAMs into display maps.

    Args:
        raw: per pathway (slow, fast) ``(B, K, T_i, h, w)`` raw CAMs (:func:`cam_from_features`).
        size: output ``(T, H, W)``.
        pathways: ``"slow"``, ``"fast"`` or ``"both"``.
        strides: per pathway temporal stride for sample-aligned upsampling, or ``None`` entries
            (or ``None`` altogether) for centre alignment; see :func:`upsample_cam`.
        relu: clamp negative evidence to zero first (Grad-CAM style; off in CAM).
        normalize: min-max normalise each ``(b, k)`` map.
        eps: see :func:`normalize_cam`.

    Returns:
        ``(B, K, T, H, W)`` float32.
    """
    if pathways not in ("slow", "fast", "both"):
        raise ValueError(f"pathways must be 'slow', 'fast' or 'both', got {pathways!r}")
    if len(raw) != len(PATHWAY_NAMES):
        raise ValueError(f"raw must hold {len(PATHWAY_NAMES)} pathway maps, got {len(raw)}")
    strides = (None,) * len(raw) if strides is None else tuple(strides)
    chosen = PATHWAY_NAMES if pathways == "both" else (pathways,)
    maps = None
    for name in chosen:
        i = PATHWAY_NAMES.index(name)
        up = upsample_cam(raw[i].float(), size, stride=strides[i])
        maps = up if maps is None else maps + up
    if relu:
        maps = maps.clamp_min(0.0)
    if normalize:
        maps = normalize_cam(maps, eps=eps)
    return maps


# --------------------------------------------------------------------------- model plumbing


def find_cam_layers(model: nn.Module) -> tuple[PoolConcatPathway, ResNetBasicHead]:
    """Locate the pathway pool-concat module and the classification head of a SlowFast.

    Works on a bare pytorchvideo ``Net`` and on any wrapper that contains one.

    Args:
        model: a module containing exactly one ``PoolConcatPathway`` and one
            ``ResNetBasicHead`` with a ``Linear`` ``proj``.

    Returns:
        ``(pool_concat, head)``.

    Raises:
        ValueError: when the structure is not the one CAM is exact for (adaptive average pool to
            a single cell, no extra pooling in the head, ``Linear`` projection).
    """
    pools = [m for m in model.modules() if isinstance(m, PoolConcatPathway)]
    heads = [m for m in model.modules() if isinstance(m, ResNetBasicHead)]
    if len(pools) != 1 or len(heads) != 1:
        raise ValueError(
            "model must contain exactly one PoolConcatPathway and one ResNetBasicHead "
            f"(a pytorchvideo SlowFast); found {len(pools)} and {len(heads)}"
        )
    pool, head = pools[0], heads[0]
    if pool.pool is None or any(
        not isinstance(p, nn.AdaptiveAvgPool3d) or _output_cells(p.output_size) != 1
        for p in pool.pool
    ):
        raise ValueError(
            "CAM needs the head pool to be nn.AdaptiveAvgPool3d with output size (1, 1, 1) "
            "(create_slowfast(head_pool=nn.AdaptiveAvgPool3d, head_output_size=(1, 1, 1)))"
        )
    if pool.retain_list:
        raise ValueError("CAM needs PoolConcatPathway(retain_list=False)")
    if head.pool is not None:
        raise ValueError("CAM needs ResNetBasicHead.pool to be None (pooling done per pathway)")
    if not isinstance(head.proj, nn.Linear):
        raise ValueError(f"CAM needs a Linear head projection, got {type(head.proj).__name__}")
    return pool, head


def _output_cells(size: int | Sequence[int | None]) -> int:
    if isinstance(size, int):
        return size**3
    cells = 1
    for s in size:
        if s is None:
            return -1
        cells *= int(s)
    return cells


@contextlib.contextmanager
def capture_head_inputs(model: nn.Module) -> Iterator[list[Tensor]]:
    """Context manager collecting the per-pathway feature maps that enter the head pooling.

    A forward pre-hook on the ``PoolConcatPathway`` copies the references of its input list (the
    res5 output of every pathway) before the module overwrites the list with pooled tensors. The
    hook is removed on exit, also when the forward raises.

    Args:
        model: SlowFast model (see :func:`find_cam_layers`).

    Yields:
        A list that, after a forward pass, holds ``(B, C_i, T_i, h, w)`` per pathway (the last
        forward wins).
    """
    pool, _ = find_cam_layers(model)
    captured: list[Tensor] = []

    def hook(_module: nn.Module, args: tuple) -> None:
        captured.clear()
        captured.extend(args[0])

    handle = pool.register_forward_pre_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    states = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in states:
            m.training = training


# --------------------------------------------------------------------------- public entry point


@dataclass(frozen=True)
class CAMOutput:
    """Result of :func:`class_activation_maps`.

    Attributes:
        maps: ``(B, K, T, H, W)`` float in ``[0, 1]``: upsampled, summed over the selected
            pathways, ReLU'd and min-max normalised (or the raw sum when ``normalize=False``).
        raw: per pathway (all of them, in concat order) ``(B, K, T_i, h, w)`` unnormalised CAMs.
        logits: ``(B, N)`` model output of the same forward pass.
        bias: ``(B, K)`` head bias of each target (zeros when the head has no bias).
        targets: ``(B, K)`` long class indices.
        pathways: names of the pathways summed into ``maps``.
        strides: per pathway temporal stride used to upsample (``None``: centre alignment).
        size: ``(T, H, W)`` of ``maps``.
    """

    maps: Tensor
    raw: tuple[Tensor, ...]
    logits: Tensor
    bias: Tensor
    targets: Tensor
    pathways: tuple[str, ...]
    strides: tuple[int | None, ...]
    size: tuple[int, int, int]

    def recombine(self, pathways: Pathways, **kwargs: Any) -> Tensor:
        """Maps of another pathway selection from the same forward (see :func:`combine_cams`)."""
        return combine_cams(self.raw, self.size, pathways=pathways, strides=self.strides, **kwargs)


def _infer_out_size(inputs: Tensor | Sequence[Tensor]) -> tuple[int, int, int]:
    if isinstance(inputs, Tensor):
        if inputs.ndim != 5:
            raise ValueError(
                f"clips must be a (B, T, C, H, W) batch, got shape {tuple(inputs.shape)}"
            )
        _, t, _, h, w = inputs.shape
        return int(t), int(h), int(w)
    shapes = [tuple(x.shape) for x in inputs]
    if not shapes or any(len(s) != 5 for s in shapes):
        raise ValueError(f"pathway inputs must be (B, C, T_i, H, W) tensors, got shapes {shapes}")
    return max(s[2] for s in shapes), shapes[0][3], shapes[0][4]


def _is_wrapper(model: nn.Module) -> bool:
    """The project's ``SlowFastVideoClassifier`` (duck-typed: returns its features itself)."""
    return all(hasattr(model, a) for a in ("pack_pathways", "slow_stride", "fast_stride"))


def _forward_with_features(
    model: nn.Module, inputs: Tensor | Sequence[Tensor]
) -> tuple[Tensor, list[Tensor], tuple[int | None, ...] | None]:
    """One forward pass returning ``(logits, [slow, fast] features, temporal strides)``."""
    if _is_wrapper(model) and isinstance(inputs, Tensor):
        out = model(inputs, return_features=True)
        strides = (int(model.slow_stride), int(model.fast_stride))
        return out["logits"], [out["slow"], out["fast"]], strides
    model_input = inputs if isinstance(inputs, Tensor) else list(inputs)  # Net edits lists
    with capture_head_inputs(model) as feats:
        logits = model(model_input)
        features = list(feats)
    return logits, features, None


def class_activation_maps(
    model: nn.Module,
    inputs: Tensor | Sequence[Tensor],
    targets: int | Sequence[int] | Tensor,
    *,
    pathways: Pathways = "slow",
    out_size: Sequence[int] | None = None,
    temporal_align: Literal["samples", "centers"] = "samples",
    relu: bool = False,
    normalize: bool = True,
    eps: float = 1e-6,
) -> CAMOutput:
    """Spatiotemporal class activation maps of a SlowFast model (paper Section 4.6, Figs. 5-6).

    One forward pass under ``torch.no_grad`` in eval mode (the previous train/eval flag of every
    submodule is restored afterwards). The project's ``SlowFastVideoClassifier`` hands back its
    res5 feature maps and head weights itself (``return_features=True``); any other model
    containing a pytorchvideo SlowFast (e.g. a bare ``Net``) is read through a forward pre-hook on
    its ``PoolConcatPathway`` that is removed in a ``finally``. Works on the device the model and
    inputs live on.

    Args:
        model: ``SlowFastVideoClassifier`` (takes ``(B, T, C, H, W)``) or a pytorchvideo
            SlowFast ``Net`` (takes ``[slow (B, C, T_s, H, W), fast (B, C, T_f, H, W)]``); see
            :func:`find_cam_layers` for the required head.
        inputs: the batch the model takes (not modified).
        targets: class indices: an int or a ``(K,)`` sequence/tensor (the same classes for every
            sample) or a ``(B, K)`` long tensor (per-sample classes).
        pathways: ``"slow"`` (the paper's choice), ``"fast"`` or ``"both"`` (sum of the
            upsampled slow and fast maps).
        out_size: ``(T, H, W)`` of the returned maps; default the clip's ``(T, H, W)`` (for a
            pathway list, the longest pathway's ``T``).
        temporal_align: ``"samples"``: pathway step ``j`` is placed on the input frame it was
            sliced from (``j * stride``; the stride is the wrapper's, or ``T / T_i`` for other
            models when that divides) - see :func:`upsample_cam`; ``"centers"``: plain trilinear
            upsampling.
        relu: clamp negative evidence to zero before normalising (PySlowFast's Grad-CAM does;
            Zhou et al.'s CAM, the paper's [59], does not, hence off by default).
        normalize: min-max normalise each ``(b, k)`` map to ``[0, 1]``.
        eps: relative range below which a map counts as constant (see :func:`normalize_cam`).

    Returns:
        :class:`CAMOutput` with ``maps (B, K, T, H, W)`` float32.

    Raises:
        ValueError: unknown ``pathways``/``temporal_align``, bad ``targets``/``inputs`` or an
            unsupported model.
    """
    if pathways not in ("slow", "fast", "both"):
        raise ValueError(f"pathways must be 'slow', 'fast' or 'both', got {pathways!r}")
    if temporal_align not in ("samples", "centers"):
        raise ValueError(f"temporal_align must be 'samples' or 'centers', got {temporal_align!r}")
    clip_size = _infer_out_size(inputs)
    size = tuple(int(v) for v in out_size) if out_size is not None else clip_size
    _, head = find_cam_layers(model)
    num_classes = head.proj.out_features
    batch = int(inputs.shape[0] if isinstance(inputs, Tensor) else inputs[0].shape[0])
    index = _as_target_index(targets, batch, num_classes).to(head.proj.weight.device)
    with torch.no_grad(), _eval_mode(model):
        logits, features, strides = _forward_with_features(model, inputs)
    if len(features) != len(PATHWAY_NAMES):
        raise ValueError(
            f"expected {len(PATHWAY_NAMES)} pathway feature maps (slow, fast), got {len(features)}"
        )
    if strides is None or size[0] != clip_size[0]:  # strides in output frames
        strides = tuple(
            size[0] // f.shape[2] if size[0] % f.shape[2] == 0 else None for f in features
        )
    if temporal_align == "centers":
        strides = (None,) * len(features)
    with torch.no_grad():
        raw = cam_from_features(features, head.proj.weight, index)
        if head.proj.bias is not None:
            bias = head.proj.bias[index]
        else:
            bias = torch.zeros(index.shape, dtype=head.proj.weight.dtype, device=index.device)
        maps = combine_cams(
            raw, size, pathways=pathways, strides=strides, relu=relu, normalize=normalize, eps=eps
        )
    chosen = PATHWAY_NAMES if pathways == "both" else (pathways,)
    return CAMOutput(
        maps=maps,
        raw=raw,
        logits=logits,
        bias=bias,
        targets=index,
        pathways=tuple(chosen),
        strides=tuple(strides),
        size=tuple(int(v) for v in size),
    )


def mixture_cams(
    model: nn.Module,
    mixed: Tensor,
    clip_a: Tensor,
    label_a: int,
    label_b: int,
    *,
    pathways: Pathways = "slow",
    **kwargs: Any,
) -> dict[str, Tensor]:
    """The CAM panels of paper Figs. 5-6 for one model, from one forward pass.

    Runs the batch ``[mixed, clip_a]`` with targets ``[label_a, label_b]``.

    Args:
        model: SlowFast wrapper taking ``(B, T, C, H, W)``.
        mixed: ``(T, C, H, W)`` mixture of clips A and B (normalised like the training data).
        clip_a: ``(T, C, H, W)`` pure clip A.
        label_a: class of clip A.
        label_b: class of clip B.
        pathways: see :func:`class_activation_maps`.
        **kwargs: further :func:`class_activation_maps` options.

    Returns:
        ``{"a_on_mixed", "b_on_mixed", "a_on_a"}``: ``(T, H, W)`` maps in ``[0, 1]``, and
        ``{"prob_mixed", "prob_a"}``: ``(N,)`` softmax scores of the mixture and of clip A.
    """
    if mixed.ndim != 4 or mixed.shape != clip_a.shape:
        raise ValueError(
            f"mixed and clip_a must be (T, C, H, W) of the same shape, got {tuple(mixed.shape)} "
            f"and {tuple(clip_a.shape)}"
        )
    out = class_activation_maps(
        model, torch.stack([mixed, clip_a]), [label_a, label_b], pathways=pathways, **kwargs
    )
    probs = out.logits.float().softmax(dim=1)
    return {
        "a_on_mixed": out.maps[0, 0],
        "b_on_mixed": out.maps[0, 1],
        "a_on_a": out.maps[1, 0],
        "prob_mixed": probs[0],
        "prob_a": probs[1],
    }
