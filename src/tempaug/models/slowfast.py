"""SlowFast-50 configured as in Kim et al. (ECCV-W 2020), Section 4.1.

The paper trains "SlowFast-50 [12] ... with 64 temporal frames ... without any pre-training"
on 160×160 crops. We build it with pytorchvideo's keyword builder
(:func:`pytorchvideo.models.slowfast.create_slowfast`) and wrap it in
:class:`SlowFastVideoClassifier`, which takes the project's ``(B, T, C, H, W)`` batch.

Pathway sampling (the SlowFast "4×16" setting on a 64-frame clip):

* fast pathway: every ``fast_stride``-th input frame (default 2 → 32 of 64 frames);
* slow pathway: every ``alpha``-th fast frame, i.e. every ``alpha * fast_stride``-th input frame
  (default α = 8 → every 16th input frame, 4 of 64);
* fast→slow lateral fusion: a ``(5, 1, 1)`` time-strided convolution with stride ``(α, 1, 1)``,
  channel ratio 2, β = 1/8 (fast pathway channels are 1/8 of the slow ones).

Both pathways are plain strided slices of the same clip (frames ``0, 16, 32, 48`` and
``0, 2, …, 62``). PySlowFast's ``pack_pathway_output`` uses ``linspace(0, T-1, T/α)`` instead
(frames 0, 10, 20, 31 of the fast clip), which is not a uniform stride; the strided slice keeps
each slow frame at the centre of the fusion kernel that feeds it (fusion output ``t`` reads fast
frames ``8t-2 … 8t+2``, i.e. input frames around ``16t``).

pytorchvideo's default head pool is an ``AvgPool3d`` hard-wired to 8/32 frames at 224²; we use
``AdaptiveAvgPool3d((1, 1, 1))`` so any clip length divisible by ``alpha * fast_stride`` and any
crop size ≥ 16 work (64×160² in the paper; below 32 px the last stage sees a 1×1 map).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._pytorchvideo import create_slowfast

__all__ = [
    "MODEL_BUILDERS",
    "SlowFastVideoClassifier",
    "build_model",
    "slowfast50",
    "slowfast_smoke",
]

_DEPTHS = (18, 50, 101, 152)


def _check_int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


class SlowFastVideoClassifier(nn.Module):
    """A SlowFast network that takes ``(B, T, C, H, W)`` clips and returns class logits.

    The module permutes the batch to ``(B, C, T, H, W)``, slices the fast pathway (every
    ``fast_stride``-th frame) and the slow pathway (every ``alpha``-th fast frame), runs the
    pytorchvideo ``Net`` block by block and returns logits ``(B, num_classes)``. With
    ``return_features=True`` it also returns the last feature maps of both pathways and the
    classifier weights from the same forward pass (for class activation maps, paper Section 4.6).

    Attributes:
        net: the pytorchvideo ``Net``: ``blocks[0..4]`` are stem + res2..res5
            (``MultiPathWayWithFuse``), ``blocks[5]`` pools and concatenates ``[slow, fast]``
            along channels, ``blocks[6]`` is the ``ResNetBasicHead`` (dropout + ``proj``).
        alpha: fast/slow frame-rate ratio (= fusion temporal stride).
        fast_stride: temporal stride of the fast pathway on the input clip.
        clip_len: nominal input clip length the model was configured for.
        crop_size: nominal input crop size.
        num_classes: number of output classes.
        slow_channels: channels of the slow pathway's last feature map (the first
            ``slow_channels`` columns of ``classifier.weight``).
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        alpha: int,
        fast_stride: int,
        clip_len: int,
        crop_size: int,
        num_classes: int,
        slow_channels: int,
        fast_channels: int,
    ) -> None:
        super().__init__()
        self.net = net
        self.alpha = alpha
        self.fast_stride = fast_stride
        self.clip_len = clip_len
        self.crop_size = crop_size
        self.num_classes = num_classes
        self.slow_channels = slow_channels
        self.fast_channels = fast_channels

    @property
    def classifier(self) -> nn.Linear:
        """The final linear layer; its input is ``cat([pooled slow, pooled fast])``."""
        return self.net.blocks[-1].proj

    @property
    def slow_stride(self) -> int:
        """Temporal stride of the slow pathway on the input clip (``alpha * fast_stride``)."""
        return self.alpha * self.fast_stride

    def pack_pathways(self, clips: torch.Tensor) -> list[torch.Tensor]:
        """Split a clip batch into the two pathway inputs.

        Args:
            clips: ``(B, T, C, H, W)`` float tensor, ``T`` divisible by ``alpha * fast_stride``.

        Returns:
            ``[slow (B, C, T / (α·s), H, W), fast (B, C, T / s, H, W)]`` with ``s = fast_stride``,
            in the memory format of the network's weights (``channels_last_3d`` after
            ``model.to(memory_format=torch.channels_last_3d)``).

        Raises:
            ValueError: if the rank, channel count or clip length does not fit.
        """
        if clips.ndim != 5:
            raise ValueError(
                f"clips must be a (B, T, C, H, W) batch, got a {clips.ndim}-D tensor of shape "
                f"{tuple(clips.shape)}"
            )
        t, c = clips.shape[1], clips.shape[2]
        if c != 3:
            raise ValueError(
                f"clips must have C=3 channels at dim 2, got shape {tuple(clips.shape)}"
            )
        step = self.slow_stride
        if t < step or t % step != 0:
            raise ValueError(
                f"clip length T={t} must be a positive multiple of alpha*fast_stride={step} "
                f"(alpha={self.alpha}, fast_stride={self.fast_stride})"
            )
        x = clips.permute(0, 2, 1, 3, 4)  # (B, C, T, H, W)
        fast = x[:, :, :: self.fast_stride]
        slow = fast[:, :, :: self.alpha]
        fmt = self._memory_format()
        return [slow.contiguous(memory_format=fmt), fast.contiguous(memory_format=fmt)]

    def _memory_format(self) -> torch.memory_format:
        w = self.net.blocks[0].multipathway_blocks[0].conv.weight
        if w.is_contiguous(memory_format=torch.channels_last_3d) and not w.is_contiguous():
            return torch.channels_last_3d
        return torch.contiguous_format

    def forward(
        self, clips: torch.Tensor, *, return_features: bool = False
    ) -> torch.Tensor | dict[str, torch.Tensor]:
        """Classify a batch of clips.

        Args:
            clips: ``(B, T, C, H, W)`` float tensor (normalized frames).
            return_features: also return the res5 feature maps and classifier parameters.

        Returns:
            ``logits (B, num_classes)``; with ``return_features`` a dict with ``logits``,
            ``slow (B, C_s, T/(α·s), h, w)``, ``fast (B, C_f, T/s, h, w)``, ``weight
            (num_classes, C_s + C_f)`` and ``bias (num_classes,)``. In eval mode
            ``logits[:, k] == weight[k, :C_s] @ slow.mean((2,3,4)) + weight[k, C_s:] @
            fast.mean((2,3,4)) + bias[k]`` (the head is dropout → linear on the pooled concat).
        """
        x = self.pack_pathways(clips)
        blocks = self.net.blocks
        for block in blocks[:-2]:
            x = block(x)
        slow, fast = x
        # PoolConcatPathway assigns into the list it is given; hand it a copy.
        pooled = blocks[-2]([slow, fast])
        logits = blocks[-1](pooled)
        if not return_features:
            return logits
        proj = self.classifier
        return {
            "logits": logits,
            "slow": slow,
            "fast": fast,
            "weight": proj.weight,
            "bias": proj.bias,
        }

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, clip_len={self.clip_len}, crop_size="
            f"{self.crop_size}, alpha={self.alpha}, fast_stride={self.fast_stride}"
        )


def slowfast50(
    num_classes: int,
    *,
    clip_len: int = 64,
    crop_size: int = 160,
    alpha: int = 8,
    fast_stride: int = 2,
    beta_inv: int = 8,
    fusion_kernel_size: int = 5,
    fusion_channel_ratio: int = 2,
    depth: int = 50,
    width: int = 64,
    dropout: float = 0.5,
    seed: int | None = None,
) -> SlowFastVideoClassifier:
    """Build the paper's SlowFast-50 (Section 4.1), trained from scratch.

    Defaults reproduce the paper: 64-frame clips at 160², slow pathway every 16th frame
    (4 frames), fast pathway every 2nd (32 frames), α = 8, β = 1/8, fusion conv ``(5, 1, 1)``
    with stride ``(8, 1, 1)`` and channel ratio 2, dropout 0.5, adaptive average head pool.
    33.79 M parameters for 101 classes.

    Args:
        num_classes: number of classes (101 for UCF-101, 51 for HMDB-51).
        clip_len: input clip length ``T``; must be a multiple of ``alpha * fast_stride``.
        crop_size: input crop size (≥ 16; with the 32× spatial stride and padded convolutions,
            any crop up to 32 leaves the last stage a 1×1 map, which the adaptive head pools).
        alpha: fast/slow frame-rate ratio; also the fusion conv's temporal stride.
        fast_stride: temporal stride of the fast pathway on the input clip.
        beta_inv: fast pathway channel reduction (β = 1/beta_inv).
        fusion_kernel_size: temporal kernel of the fast→slow fusion conv.
        fusion_channel_ratio: output/input channel ratio of the fusion conv.
        depth: ResNet depth (18, 50, 101 or 152; pytorchvideo's 18 still uses bottlenecks).
        width: slow pathway stem channels (64 in SlowFast; the fast stem has
            ``width // beta_inv``); stage widths scale with it.
        dropout: dropout before the classifier.
        seed: if given, initialize the weights from this seed without touching the global RNG.

    Returns:
        A :class:`SlowFastVideoClassifier` taking ``(B, T, C, H, W)`` float clips.

    Raises:
        ValueError: for out-of-range arguments (the message names the argument).
    """
    _check_int("num_classes", num_classes, minimum=2)
    _check_int("alpha", alpha, minimum=1)
    _check_int("fast_stride", fast_stride, minimum=1)
    _check_int("beta_inv", beta_inv, minimum=1)
    _check_int("fusion_kernel_size", fusion_kernel_size, minimum=1)
    _check_int("fusion_channel_ratio", fusion_channel_ratio, minimum=1)
    _check_int("width", width, minimum=1)
    _check_int("crop_size", crop_size, minimum=16)
    _check_int("clip_len", clip_len, minimum=1)
    if fusion_kernel_size % 2 != 1:
        raise ValueError(f"fusion_kernel_size must be odd, got {fusion_kernel_size}")
    if clip_len % (alpha * fast_stride) != 0:
        raise ValueError(
            f"clip_len={clip_len} must be a multiple of alpha*fast_stride={alpha * fast_stride}"
        )
    if depth not in _DEPTHS:
        raise ValueError(f"depth must be one of {_DEPTHS}, got {depth!r}")
    if width % beta_inv != 0:
        raise ValueError(f"width={width} must be divisible by beta_inv={beta_inv}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")

    def build() -> nn.Module:
        return create_slowfast(
            slowfast_channel_reduction_ratio=(beta_inv,),
            slowfast_conv_channel_fusion_ratio=fusion_channel_ratio,
            slowfast_fusion_conv_kernel_size=(fusion_kernel_size, 1, 1),
            slowfast_fusion_conv_stride=(alpha, 1, 1),
            input_channels=(3, 3),
            model_depth=depth,
            model_num_class=num_classes,
            dropout_rate=float(dropout),
            stem_dim_outs=(width, width // beta_inv),
            head_pool=nn.AdaptiveAvgPool3d,
            head_output_size=((1, 1, 1), (1, 1, 1)),
        )

    if seed is None:
        net = build()
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = build()
    slow_channels = width * 32  # stage widths 4w, 8w, 16w, 32w
    return SlowFastVideoClassifier(
        net,
        alpha=alpha,
        fast_stride=fast_stride,
        clip_len=clip_len,
        crop_size=crop_size,
        num_classes=num_classes,
        slow_channels=slow_channels,
        fast_channels=slow_channels // beta_inv,
    )


def slowfast_smoke(
    num_classes: int,
    *,
    clip_len: int = 16,
    crop_size: int = 32,
    depth: int = 18,
    width: int = 16,
    **kwargs: Any,
) -> SlowFastVideoClassifier:
    """The smoke preset: :func:`slowfast50` with tiny clips, crops, depth and width.

    By default the paper's pathway sampling (α = 8, fast stride 2 → 1 slow and 8 fast frames
    for a 16-frame clip), ResNet depth 18 (one bottleneck per stage) and a quarter of the width,
    so a CPU epoch over a few dozen clips takes seconds. The synthetic profile of ``params.yaml``
    sets its own width, α and β (``profile.train.model.kwargs``).

    Args:
        num_classes: number of classes.
        clip_len: input clip length (multiple of 16 with the default strides).
        crop_size: input crop size (≥ 16).
        depth: ResNet depth.
        width: slow stem channels (multiple of ``beta_inv``).
        **kwargs: any other :func:`slowfast50` argument.

    Returns:
        A :class:`SlowFastVideoClassifier`.
    """
    return slowfast50(
        num_classes, clip_len=clip_len, crop_size=crop_size, depth=depth, width=width, **kwargs
    )


MODEL_BUILDERS = {"slowfast50": slowfast50, "slowfast_smoke": slowfast_smoke}


def build_model(name: str, num_classes: int, **kwargs: Any) -> SlowFastVideoClassifier:
    """Build a model by name (``"slowfast50"`` or ``"slowfast_smoke"``).

    Args:
        name: a key of :data:`MODEL_BUILDERS`.
        num_classes: number of classes.
        **kwargs: builder keyword arguments.

    Raises:
        ValueError: unknown name or unknown/invalid builder argument.
    """
    if name not in MODEL_BUILDERS:
        raise ValueError(f"model name must be one of {sorted(MODEL_BUILDERS)}, got {name!r}")
    try:
        return MODEL_BUILDERS[name](num_classes, **kwargs)
    except TypeError as exc:  # unknown keyword
        raise ValueError(f"bad argument for model {name!r}: {exc}") from exc
