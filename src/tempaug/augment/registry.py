"""Name → augmentation registry for the deleting / cut-and-paste / blending family.

``build(name, **kwargs)`` returns a ``torchvision.transforms.v2.Transform`` callable as
``aug(clips, labels, *, generator=None) -> (clips_out, labels_out)`` on clips
``(B, T, C, H, W)``; every one also has ``draw_params(shape, *, generator=None)``,
``make_params(flat_inputs, generator=None)`` and ``transform(inpt, params)`` (paper Section 3.2,
Table 1; :mod:`tempaug.augment._transform`).

* mixing methods (``MIXING_METHODS``) need ``num_classes`` and return ``(B, K)`` float targets
  (``transform(labels, params)`` mixes the labels with the parameters of the clips);
* deleting methods (``DELETING_METHODS``) and ``"none"`` pass the labels through, and
  ``aug(clips)`` returns only the clips.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ._checks import check_layout
from ._labels import check_num_classes
from ._random import check_generator
from ._transform import VideoTransform, rewrap, unwrap
from .deleting import CubeCutOut, CutOut, FrameCutOut
from .mixing import (
    CubeCutMix,
    CubeCutMixUp,
    CutMix,
    CutMixUp,
    FadeMixUp,
    FrameCutMix,
    FrameCutMixUp,
    MixUp,
)

__all__ = [
    "DELETING_METHODS",
    "METHODS",
    "MIXING_METHODS",
    "BatchAugmentation",
    "NoAugment",
    "NoParams",
    "UnexpectedArgumentError",
    "build",
]


class UnexpectedArgumentError(TypeError, ValueError):
    """``build`` got a keyword argument the method does not take.

    A ``TypeError`` (what Python raises for an unexpected keyword) and a ``ValueError`` (what
    every other bad argument of the augment API raises), so either ``except`` catches it.
    """


class BatchAugmentation(Protocol):
    """What ``build`` returns: ``aug(clips, labels, *, generator=None) -> (clips, labels)``."""

    def __call__(
        self, clips: torch.Tensor, labels: Any, *, generator: torch.Generator | None = None
    ) -> Any: ...

    def draw_params(
        self, shape: torch.Size | tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> Any: ...

    def make_params(
        self, flat_inputs: list[Any], generator: torch.Generator | None = None
    ) -> Any: ...

    def transform(self, inpt: Any, params: Any) -> Any: ...


@dataclass(frozen=True, eq=False)
class NoParams:
    """Parameters of :class:`NoAugment` (there are none)."""


class NoAugment(VideoTransform):
    """The ``"none"`` method: a copy of the clips and the labels as given (the baseline)."""

    def __init__(self) -> None:
        super().__init__()

    def draw_params(
        self, shape: torch.Size | tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> NoParams:
        """Draw nothing (validates the generator for a uniform interface)."""
        check_generator(generator)
        return NoParams()

    def check_videos(self, videos: list[torch.Tensor]) -> None:
        """Layout check, before anything is drawn."""
        for video in videos:
            check_layout(video, "clips", strict=False)

    def transform(self, inpt: Any, params: NoParams) -> Any:
        """A copy of the clips (like every other method: a new tensor)."""
        if not isinstance(params, NoParams):
            raise ValueError(
                f"params must be NoParams (from draw_params), got {type(params).__name__}"
            )
        return rewrap(unwrap(inpt).clone(), like=inpt)


_REGISTRY: dict[str, type] = {
    "none": NoAugment,
    "cutout": CutOut,
    "framecutout": FrameCutOut,
    "cubecutout": CubeCutOut,
    "cutmix": CutMix,
    "framecutmix": FrameCutMix,
    "cubecutmix": CubeCutMix,
    "mixup": MixUp,
    "fademixup": FadeMixUp,
    "cutmixup": CutMixUp,
    "framecutmixup": FrameCutMixUp,
    "cubecutmixup": CubeCutMixUp,
}

#: Every name ``build`` accepts, in the order of the paper's Table 1 (after ``"none"``).
METHODS: tuple[str, ...] = tuple(_REGISTRY)
#: Methods that delete regions and leave labels untouched.
DELETING_METHODS: tuple[str, ...] = ("cutout", "framecutout", "cubecutout")
#: Methods that mix two clips and return ``(B, K)`` soft targets (need ``num_classes``).
MIXING_METHODS: tuple[str, ...] = tuple(
    m for m in METHODS if m != "none" and m not in DELETING_METHODS
)


def build(name: str, **kwargs: Any) -> BatchAugmentation:
    """Build an augmentation of the paper's Section 3.2 by its lowercase name.

    Args:
        name: one of :data:`METHODS` (``none, cutout, framecutout, cubecutout, cutmix,
            framecutmix, cubecutmix, mixup, fademixup, cutmixup, framecutmixup, cubecutmixup``).
        **kwargs: keyword arguments of the class (e.g. ``alpha``, ``p``, ``mode``, ``size``).
            ``num_classes`` is required by the mixing methods; it is accepted and ignored by
            ``"none"`` and the deleting methods, so a trainer can pass it uniformly.

    Returns:
        The augmentation object.

    Raises:
        ValueError: unknown name (the message lists the valid ones), missing ``num_classes``
            for a mixing method, or a bad value.
        UnexpectedArgumentError: (a ``TypeError`` and a ``ValueError``) a keyword argument the
            method does not take (the message names it and lists the accepted ones).
    """
    if not isinstance(name, str):
        raise ValueError(
            f"unknown augmentation {name!r} ({type(name).__name__}); valid names: {', '.join(METHODS)}"
        )
    key = name.lower()
    if key not in _REGISTRY:
        raise ValueError(f"unknown augmentation {name!r}; valid names: {', '.join(METHODS)}")
    cls = _REGISTRY[key]
    kwargs = dict(kwargs)
    if key not in MIXING_METHODS and "num_classes" in kwargs:
        if kwargs["num_classes"] is not None:
            check_num_classes(kwargs["num_classes"])
        del kwargs["num_classes"]
    accepted = [n for n in inspect.signature(cls).parameters if n not in ("args", "kwargs")]
    unexpected = sorted(set(kwargs) - set(accepted))
    if unexpected:
        raise UnexpectedArgumentError(
            f"build({key!r}): unexpected keyword argument(s) {', '.join(unexpected)}; "
            f"{cls.__name__} accepts: {', '.join(accepted) or '(none)'}"
        )
    if key in MIXING_METHODS and kwargs.get("num_classes") is None:
        raise ValueError(
            f"build({key!r}) needs num_classes (the number of classes of the (B, K) targets)"
        )
    return cls(**kwargs)
