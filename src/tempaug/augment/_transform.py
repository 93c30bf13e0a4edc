"""The one randomness convention of every augmentation: a torchvision v2 ``Transform``.

Every augmentation of the package (Kim et al., ECCV-W 2020, Sections 3.1-3.2) is a
``torchvision.transforms.v2.Transform`` with the same three entry points:

* ``draw_params(shape, *, generator=None)`` draws the parameters for videos of ``shape``
  ``(..., T, C, H, W)`` on a CPU ``torch.Generator`` (the explicit form, e.g. for galleries);
* ``make_params(flat_inputs, generator=None)``, torchvision's hook, checks the videos of a
  sample and calls ``draw_params`` with the first one's shape;
* ``transform(inpt, params)`` applies the parameters (deterministic);

and ``forward(*inputs, generator=None)`` (``aug(video, generator=g)``) does both, so the
augmentations compose in ``v2.Compose`` on ``tv_tensors.Video`` batches and plain tensors.
"""

from __future__ import annotations

from typing import Any

import PIL.Image
import torch
from torch.utils._pytree import tree_flatten, tree_unflatten
from torchvision import tv_tensors
from torchvision.transforms.v2 import Transform
from torchvision.transforms.v2.functional import is_pure_tensor

__all__ = ["VideoTransform", "is_video", "rewrap", "unwrap"]


def is_video(x: Any) -> bool:
    """A ``tv_tensors.Video`` or a plain tensor (torchvision treats the first one as the video)."""
    return isinstance(x, tv_tensors.Video) or is_pure_tensor(x)


def unwrap(x: Any) -> Any:
    """A ``tv_tensors`` tensor as a plain tensor (other tensor subclasses are kept)."""
    return x.as_subclass(torch.Tensor) if isinstance(x, tv_tensors.TVTensor) else x


def rewrap(out: torch.Tensor, like: Any) -> Any:
    """``out`` as a ``tv_tensors`` tensor of the kind of ``like`` (plain if ``like`` is plain)."""
    return tv_tensors.wrap(out, like=like) if isinstance(like, tv_tensors.TVTensor) else out


_UNSUPPORTED = (
    PIL.Image.Image,
    tv_tensors.Image,
    tv_tensors.BoundingBoxes,
    tv_tensors.Mask,
    tv_tensors.KeyPoints,
)


class VideoTransform(Transform):
    """Base class: a video transform whose parameters come from ``draw_params``.

    Subclasses implement :meth:`draw_params`, :meth:`transform` and (optionally)
    :meth:`check_videos`, which runs before anything is drawn, so a bad input gets the same
    error on every seed.
    """

    _transformed_types = (is_video,)
    #: What error messages call the transformed input.
    _input_name = "clips"

    def draw_params(
        self, shape: torch.Size | tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> Any:
        """Draw the parameters for videos of ``shape`` from ``generator`` (CPU or ``None``)."""
        raise NotImplementedError

    def check_videos(self, videos: list[torch.Tensor]) -> None:
        """Validate the (unwrapped) videos of a sample before anything is drawn."""

    def check_inputs(self, flat_inputs: list[Any]) -> None:
        """Reject inputs whose geometry a video transform would silently leave unchanged."""
        for inpt in flat_inputs:
            if isinstance(inpt, _UNSUPPORTED):
                raise ValueError(
                    f"{type(self).__name__} transforms videos (tv_tensors.Video or plain tensors "
                    f"(..., T, C, H, W)), got an input of type {type(inpt).__name__}"
                )

    def make_params(self, flat_inputs: list[Any], generator: torch.Generator | None = None) -> Any:
        """torchvision v2 hook: check the sample's videos, then ``draw_params`` for the first."""
        videos = [unwrap(v) for v in flat_inputs]
        if not videos:
            raise ValueError(f"{type(self).__name__} found no {self._input_name} in the sample")
        self.check_videos(videos)
        first = videos[0]
        for other in videos[1:]:
            if other.shape[:-3] != first.shape[:-3] or other.shape[-2:] != first.shape[-2:]:
                raise ValueError(
                    "all videos in a sample must share (..., T) and (H, W) to share parameters, "
                    f"got shapes {tuple(first.shape)} and {tuple(other.shape)}"
                )
        return self.draw_params(first.shape, generator=generator)

    def forward(self, *inputs: Any, generator: torch.Generator | None = None) -> Any:
        """Transform a video, a batch, or a sample holding one; ``generator`` drives the draws.

        Other entries of the sample (labels, metadata) pass through unchanged.
        """
        if inputs and all(is_pure_tensor(x) for x in inputs):
            # Plain tensors (the trainer's call): as torchvision, the first one is the video and
            # the others pass through, without its flatten / per-input type checks, which cost
            # as much as a small batch's kernel.
            params = self.make_params([inputs[0]], generator)
            first = self.transform(inputs[0], params)
            return (first, *inputs[1:]) if len(inputs) > 1 else first
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat_inputs)
        needs = self._needs_transform_list(flat_inputs)
        if not any(needs):
            raise ValueError(
                f"{self._input_name} must be a torch.Tensor or tv_tensors.Video "
                f"(..., T, C, H, W), got a sample of {[type(x).__name__ for x in flat_inputs]}"
            )
        params = self.make_params(
            [inpt for inpt, need in zip(flat_inputs, needs, strict=True) if need], generator
        )
        flat_outputs = [
            self.transform(inpt, params) if need else inpt
            for inpt, need in zip(flat_inputs, needs, strict=True)
        ]
        return tree_unflatten(flat_outputs, spec)
