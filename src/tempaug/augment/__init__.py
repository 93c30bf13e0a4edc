"""The paper's augmentations (Kim et al., ECCV-W 2020, Section 3).

Layout ``(..., T, C, H, W)``; every augmentation is a ``torchvision.transforms.v2.Transform``
(:class:`VideoTransform`: ``draw_params`` / ``make_params`` / ``transform``, and
``aug(..., generator=g)``), and every random draw can be driven by a ``torch.Generator``.
"""

# RandAugment-T (Section 3.1); deleting / cut-and-paste / blending (Section 3.2, Table 1).
from . import functional  # RandAugment-T's per-frame kernels (paper Section 3.1)
from ._labels import one_hot
from ._transform import VideoTransform  # the one convention: draw_params/make_params/transform
from .deleting import CubeCutOut, CutOut, EraseParams, FrameCutOut
from .mixing import (
    CubeCutMix,
    CubeCutMixUp,
    CutMix,
    CutMixUp,
    FadeMixUp,
    FrameCutMix,
    FrameCutMixUp,
    MixParams,
    MixUp,
)
from .randaugment_t import RandAugmentT  # RandAugment-T (paper Section 3.1)
from .registry import DELETING_METHODS, METHODS, MIXING_METHODS, NoAugment, build

# Public names of this package (extend when adding exports).
__all__ = [
    "DELETING_METHODS",
    "METHODS",
    "MIXING_METHODS",
    "CubeCutMix",
    "CubeCutMixUp",
    "CubeCutOut",
    "CutMix",
    "CutMixUp",
    "CutOut",
    "EraseParams",
    "FadeMixUp",
    "FrameCutMix",
    "FrameCutMixUp",
    "FrameCutOut",
    "MixParams",
    "MixUp",
    "NoAugment",
    "RandAugmentT",
    "VideoTransform",
    "build",
    "functional",
    "one_hot",
]
