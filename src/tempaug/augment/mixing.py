"""Cut-and-paste and blending between clips: the CutMix / MixUp / CutMixUp families.

Paper Section 3.2, Table 1, Eq. 1 and Eq. 2 (Kim et al., ECCV-W 2020):

========================  =================================================================
cut-and-paste             ``CutMix`` (spatial box on all frames), ``FrameCutMix`` (run of
                          whole frames), ``CubeCutMix`` (spatiotemporal cube)
blend                     ``MixUp``, ``FadeMixUp`` (per-frame ratio, Eq. 2)
blend + cut-and-paste     ``CutMixUp``, ``FrameCutMixUp``, ``CubeCutMixUp`` (Eq. 1)
========================  =================================================================

Every method writes, per pixel, ``out = w * x_i + (1 - w) * x_perm[i]`` with a weight ``w`` in
``[0, 1]``: 0/1 inside/outside a region for the cut family, a per-frame ratio for the blends.
The label weight of clip ``i``'s own class is the *exact* fraction of its own content in the
output, i.e. the mean of ``w`` over ``T * H * W`` (``MixParams.lam``), so targets always match
the pixels (CutMix's "λ corrected to the exact area", extended to every method).

Batch semantics (``mode``):

* ``"batch"`` (default; the paper and the authors' code): one λ and one region for the whole
  batch, partners from one ``randperm`` of the batch; ``p`` gates the whole batch.
* ``"elem"``: each clip gets its own λ and region (timm's ``elem`` mode), with the same
  ``randperm`` pairing; ``p`` gates each clip.

Pairing is ``randperm`` drawn from the generator, as in the authors' ``mix_regularization``; a
clip may be paired with itself (then it is unchanged and its target is its own label). With
``B == 1`` every method is therefore the identity on the pixels and returns one-hot targets.

Every class is a ``torchvision.transforms.v2.Transform`` used like ``v2.CutMix``:
``clips, targets = aug(clips, labels, generator=g)`` (also inside ``v2.Compose``, on plain
tensors or ``tv_tensors.Video``). Parameters are drawn by ``draw_params(shape, generator=...)``
on a CPU generator (CPU tensors, float64 weights rounded to float32 so they are exactly
representable in float32 clips) and applied by ``transform(clips, params)`` and
``transform(labels, params)``, which move them to the input's device in one pinned,
non-blocking copy (no host sync on CUDA; ``_device.to_device``): the same generator state gives
the same parameters for CPU and CUDA clips (bit-identical outputs for the cut family; the blends
agree up to float rounding). Inputs are never modified.

Defaults: ``p=1`` and ``alpha=1`` (the authors' ``--prob_mix`` and ``--mix_beta`` defaults,
and torchvision's). The paper's experiments pass other values explicitly: Table 4 uses
``p=0.5`` with ``alpha=2`` or ``5``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch.utils._pytree import tree_flatten, tree_unflatten
from torchvision.transforms.v2.functional import is_pure_tensor

from ._checks import check_layout
from ._device import to_device
from ._labels import (
    as_targets,
    check_labels,
    check_num_classes,
    mix_targets,
    one_hot_unchecked,
)
from ._masks import (
    box_coverage,
    box_mask,
    centred_interval,
    empty_boxes,
    full_interval,
    is_shared,
    stack_box,
)
from ._random import (
    bernoulli,
    beta,
    check_generator,
    check_positive,
    check_probability,
    uniform,
)
from ._transform import VideoTransform, rewrap, unwrap

__all__ = [
    "CubeCutMix",
    "CubeCutMixUp",
    "CutMix",
    "CutMixUp",
    "FadeMixUp",
    "FrameCutMix",
    "FrameCutMixUp",
    "MixParams",
    "MixUp",
    "blend",
    "cut_blend",
    "cut_paste",
    "realised_fraction",
]

Mode = Literal["batch", "elem"]
Region = Literal["spatial", "temporal", "cube"]


@dataclass(frozen=True, eq=False)
class MixParams:
    """Sampled parameters of a mixing augmentation for a batch ``(B, T, C, H, W)``.

    All tensors are on the CPU; treat them as read-only (their device copies are cached, so
    that the clips' and the labels' ``transform`` share one transfer; use
    ``dataclasses.replace`` for changed parameters). Pixel ``(t, y, x)`` of output clip ``i`` is
    ``w * x_i + (1 - w) * x_perm[i]`` with ``w = weight_in[i]`` inside ``box[i]`` and
    ``w = weight_out[i, t]`` outside it.

    Attributes:
        perm: int64 ``(B,)`` partner of each clip.
        lam: float64 ``(B,)`` exact fraction of clip ``i``'s own content in output ``i``
            (the mean of ``w`` over ``T * H * W``); the target weight of its own label.
        mixed: bool ``(B,)`` whether the clip passed the gate ``p`` (else ``lam == 1``).
        box: int64 ``(B, 6)`` region ``[t0, t1, y0, y1, x0, x1]`` (half-open), zeros if none.
        weight_in: float64 ``(B,)`` weight of the own clip inside the region.
        weight_out: float64 ``(B, T)`` weight of the own clip outside the region, per frame.
    """

    perm: torch.Tensor
    lam: torch.Tensor
    mixed: torch.Tensor
    box: torch.Tensor
    weight_in: torch.Tensor
    weight_out: torch.Tensor

    def __post_init__(self) -> None:
        # The fields moved to a device, once per device (see ``_on_device``); not a field.
        object.__setattr__(self, "_moved", {})


def _on_device(params: MixParams, device: torch.device) -> tuple[torch.Tensor, ...]:
    """``(perm, lam, box, weight_in, weight_out)`` of ``params`` on ``device``.

    Moved in one pinned, non-blocking copy (no host sync on CUDA; ``_device.to_device``) the
    first time, then reused: ``transform(clips, params)`` and ``transform(labels, params)`` of
    one step share a single transfer.
    """
    moved: dict[torch.device, tuple[torch.Tensor, ...]] = params._moved  # type: ignore[attr-defined]
    if device not in moved:
        moved[device] = to_device(
            params.perm,
            params.lam,
            params.box,
            params.weight_in,
            params.weight_out,
            device=device,
        )
    return moved[device]


# --------------------------------------------------------------------------------------------
# Pure kernels (no randomness)
# --------------------------------------------------------------------------------------------


def _check_batch(clips: Any, *, floating: bool) -> torch.Tensor:
    if not isinstance(clips, torch.Tensor):
        raise ValueError(f"clips must be a torch.Tensor, got {type(clips).__name__}")
    if clips.ndim != 5:
        raise ValueError(
            f"clips must be a batch of shape (B, T, C, H, W), got shape {tuple(clips.shape)}"
        )
    if floating and not clips.dtype.is_floating_point:
        raise ValueError(f"clips must be floating for blending, got {clips.dtype}")
    if not floating and not (clips.dtype.is_floating_point or clips.dtype == torch.uint8):
        raise ValueError(f"clips must be uint8 or floating, got {clips.dtype}")
    check_layout(clips, "clips", strict=False)
    return clips


def _region_slices(box_row: torch.Tensor) -> tuple[slice, slice, slice, slice, slice]:
    t0, t1, y0, y1, x0, x1 = (int(v) for v in box_row.tolist())
    return slice(None), slice(t0, t1), slice(None), slice(y0, y1), slice(x0, x1)


Slices = tuple[slice, slice, slice, slice, slice]


def _shared_region(box: torch.Tensor) -> Slices | None:
    """The batch's one region as slices when every row of the CPU ``box`` is equal, else None."""
    return _region_slices(box[0]) if is_shared(box) else None


def _shared_weight(weight_in: torch.Tensor) -> float | None:
    """The one inside weight of a CPU ``weight_in`` whose entries are all equal, else None."""
    if weight_in.device.type != "cpu" or weight_in.numel() == 0:
        return None
    return float(weight_in[0]) if bool((weight_in == weight_in[0]).all()) else None


def cut_paste(clips: torch.Tensor, perm: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Paste each partner's region into each clip (CutMix / FrameCutMix / CubeCutMix kernel).

    Args:
        clips: ``(B, T, C, H, W)`` uint8 or floating.
        perm: int64 ``(B,)`` partner index of each clip.
        box: int64 ``(B, 6)`` regions ``[t0, t1, y0, y1, x0, x1]``.

    Returns:
        A new tensor like ``clips``: ``clips[perm[i]]`` inside ``box[i]``, ``clips[i]`` outside.
    """
    clips = _check_batch(clips, floating=False)
    region = _shared_region(box)
    perm, box = to_device(perm, box, device=clips.device)
    return _cut_paste(clips, perm, box, region)


def _cut_paste(
    clips: torch.Tensor, perm: torch.Tensor, box: torch.Tensor, region: Slices | None
) -> torch.Tensor:
    """:func:`cut_paste` on parameters already on the clips' device (``region``: shared box)."""
    if region is not None:  # one region for the batch: copy only that region
        out = clips.clone()
        out[region] = clips[region].index_select(0, perm)
        return out
    frames, _, height, width = clips.shape[1:]
    mask = box_mask(box, frames, height, width, clips.device)
    partner = clips.index_select(0, perm)  # fresh buffer, reused for the output
    return torch.where(mask, partner, clips, out=partner)


def blend(clips: torch.Tensor, perm: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-frame convex combination with the partner (MixUp / FadeMixUp kernel).

    Args:
        clips: ``(B, T, C, H, W)`` floating.
        perm: int64 ``(B,)`` partner index of each clip.
        weight: ``(B, T)`` weight of the own clip per frame, in ``[0, 1]``.

    Returns:
        ``weight * clips + (1 - weight) * clips[perm]`` as a new tensor (``torch.lerp``,
        exact at weights 0 and 1).
    """
    clips = _check_batch(clips, floating=True)
    perm, weight = to_device(perm, weight, device=clips.device)
    return _blend(clips, perm, weight)


def _blend(clips: torch.Tensor, perm: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """:func:`blend` on parameters already on the clips' device."""
    weight = weight.to(dtype=clips.dtype)[:, :, None, None, None]
    partner = clips.index_select(0, perm)  # fresh buffer, reused for the output
    return partner.lerp_(clips, weight)


def cut_blend(
    clips: torch.Tensor,
    perm: torch.Tensor,
    box: torch.Tensor,
    weight_in: torch.Tensor,
    weight_out: torch.Tensor,
) -> torch.Tensor:
    """Blend outside the region and use another weight inside it (CutMixUp kernel, Eq. 1).

    Args:
        clips: ``(B, T, C, H, W)`` floating.
        perm: int64 ``(B,)`` partner index of each clip.
        box: int64 ``(B, 6)`` regions.
        weight_in: ``(B,)`` own-clip weight inside the region (0 or 1 for CutMixUp).
        weight_out: ``(B, T)`` own-clip weight outside the region.

    Returns:
        New tensor like ``clips``.
    """
    clips = _check_batch(clips, floating=True)
    region = _shared_region(box)
    w_shared = _shared_weight(weight_in) if region is not None else None
    moved = to_device(perm, box, weight_in, weight_out, device=clips.device)
    return _cut_blend(clips, *moved, region if w_shared is not None else None, w_shared)


def _cut_blend(
    clips: torch.Tensor,
    perm: torch.Tensor,
    box: torch.Tensor,
    weight_in: torch.Tensor,
    weight_out: torch.Tensor,
    region: Slices | None,
    w_shared: float | None,
) -> torch.Tensor:
    """:func:`cut_blend` on device parameters; ``region``/``w_shared`` when batch-shared."""
    frames, _, height, width = clips.shape[1:]
    partner = clips.index_select(0, perm)
    w_out = weight_out.to(dtype=clips.dtype)[:, :, None, None, None]
    if region is not None and w_shared is not None:
        if w_shared == 1.0:
            inside = clips[region]
        elif w_shared == 0.0:
            inside = partner[region].clone()  # region only; ``partner`` is overwritten below
        else:
            inside = torch.lerp(partner[region], clips[region], w_shared)
        out = partner.lerp_(clips, w_out)  # in place: ``partner`` becomes the output
        out[region] = inside
        return out
    mask = box_mask(box, frames, height, width, clips.device)
    w_in = weight_in.to(dtype=clips.dtype)[:, None, None, None, None]
    return partner.lerp_(clips, torch.where(mask, w_in, w_out))


def realised_fraction(
    box: torch.Tensor,
    weight_in: torch.Tensor,
    weight_out: torch.Tensor,
    frames: int,
    height: int,
    width: int,
) -> torch.Tensor:
    """Exact fraction of the own clip in each output: mean of the weight map over T*H*W.

    Returns:
        float64 ``(B,)``: ``mean_t[c_t * weight_in + (1 - c_t) * weight_out[:, t]]`` where
        ``c_t`` is the fraction of frame ``t``'s pixels inside the region.
    """
    cover = box_coverage(box, frames, height, width)
    inside = cover * weight_in.to(torch.float64).unsqueeze(1)
    return (inside + (1.0 - cover) * weight_out.to(torch.float64)).mean(dim=1)


# --------------------------------------------------------------------------------------------
# Region sampling shared by the cut and cut+blend families
# --------------------------------------------------------------------------------------------


def _sample_region(
    region: Region,
    lam: torch.Tensor,
    frames: int,
    height: int,
    width: int,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Regions covering about ``1 - lam`` of the clip (before clipping): int64 ``(n, 6)``.

    ``spatial``: box of side ``sqrt(1 - lam)`` of H and W over all frames (CutMix);
    ``temporal``: ``(1 - lam) * T`` whole frames (FrameCutMix);
    ``cube``: ``(1 - lam) ** (1/3)`` of each of T, H and W (CubeCutMix).
    Side lengths are floored (as in the authors' ``rand_bbox``); centres are uniform integer
    positions (drawn in the order t, y, x for the axes that are cut) and the region is clipped.
    """
    n = lam.shape[0]
    cut = (1.0 - lam).clamp(0.0, 1.0)

    def length(dim: int, ratio: torch.Tensor) -> torch.Tensor:
        return torch.floor(dim * ratio).to(torch.int64).clamp(0, dim)

    if region == "spatial":
        ratio = cut.sqrt()
        t = full_interval(n, frames)
        y = centred_interval(length(height, ratio), height, generator)
        x = centred_interval(length(width, ratio), width, generator)
    elif region == "temporal":
        t = centred_interval(length(frames, cut), frames, generator)
        y, x = full_interval(n, height), full_interval(n, width)
    else:
        ratio = cut.pow(1.0 / 3.0)
        t = centred_interval(length(frames, ratio), frames, generator)
        y = centred_interval(length(height, ratio), height, generator)
        x = centred_interval(length(width, ratio), width, generator)
    return stack_box(t, y, x)


def _as_float32_exact(weight: torch.Tensor) -> torch.Tensor:
    """Round float64 weights to float32 values (kept as float64) so labels match float32 pixels."""
    return weight.to(torch.float32).to(torch.float64)


# --------------------------------------------------------------------------------------------
# Classes (own the randomness)
# --------------------------------------------------------------------------------------------


def _find_labels(sample: Any) -> Any:
    """The labels of a sample, as torchvision's default ``labels_getter`` finds them.

    The second entry of a ``(videos, labels, ...)`` tuple or list, or the value of the first key
    of a dict named ``labels`` / ``label`` (any case).
    """
    if isinstance(sample, tuple | list) and len(sample) >= 2:
        return sample[1]
    if isinstance(sample, dict):
        for key in sample:
            if isinstance(key, str) and key.lower() in ("labels", "label"):
                return sample[key]
    raise ValueError(
        "mixing needs the labels: call aug(clips, labels) or pass a dict with a 'labels' key, "
        f"got a sample of type {type(sample).__name__}"
    )


class _Mix(VideoTransform):
    """Shared machinery: validation, gate, pairing, batch/elem expansion, labels."""

    _kernel: ClassVar[Literal["cut", "blend", "cut_blend"]]

    def __init__(
        self,
        *,
        num_classes: int,
        alpha: float = 1.0,
        p: float = 1.0,
        mode: Mode = "batch",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.num_classes = check_num_classes(num_classes)
        self.alpha = check_positive(alpha, "alpha")
        self.p = check_probability(p, "p")
        if mode not in ("batch", "elem"):
            raise ValueError(f"mode must be 'batch' or 'elem', got {mode!r}")
        self.mode: Mode = mode
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, int | float):
            raise ValueError(f"label_smoothing must be a number in [0, 1), got {label_smoothing!r}")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    # Subclasses: draw (box (n,6), weight_in (n,), weight_out (n,T)) for n independent draws.
    def _sample_geometry(
        self, n: int, frames: int, height: int, width: int, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def draw_params(
        self, shape: torch.Size | tuple[int, ...], *, generator: torch.Generator | None = None
    ) -> MixParams:
        """Draw the mixing parameters for a batch of ``shape`` ``(B, T, C, H, W)``.

        Draw order: gate(s) ``p``, ``randperm(B)``, then the method's own draws; one draw per
        batch in ``"batch"`` mode, one per clip in ``"elem"`` mode.

        Args:
            shape: the clips' shape ``(B, T, C, H, W)``.
            generator: a CPU ``torch.Generator`` or ``None`` (torch's default generator).

        Returns:
            ``MixParams`` of CPU tensors.

        Raises:
            ValueError: ``shape`` is not 5-D or the generator is not a CPU generator.
        """
        shape = tuple(int(s) for s in shape)
        if len(shape) != 5:
            raise ValueError(f"shape must be (B, T, C, H, W), got {shape}")
        generator = check_generator(generator)
        batch, frames, _, height, width = shape
        n = batch if self.mode == "elem" else 1
        mixed = bernoulli(self.p, n, generator)
        perm = torch.randperm(batch, generator=generator)
        box, weight_in, weight_out = self._sample_geometry(n, frames, height, width, generator)
        box = box.masked_fill(~mixed.unsqueeze(1), 0)
        weight_in = torch.where(mixed, weight_in, 1.0)
        weight_out = torch.where(mixed.unsqueeze(1), weight_out, 1.0)
        if n != batch:
            mixed = mixed.expand(batch).clone()
            box = box.expand(batch, 6).clone()
            weight_in = weight_in.expand(batch).clone()
            weight_out = weight_out.expand(batch, frames).clone()
        lam = realised_fraction(box, weight_in, weight_out, frames, height, width)
        return MixParams(
            perm=perm, lam=lam, mixed=mixed, box=box, weight_in=weight_in, weight_out=weight_out
        )

    def _check_params(self, clips: torch.Tensor, params: MixParams) -> None:
        self._check_params_type(params)
        batch, frames = clips.shape[:2]
        expected = {
            "perm": (batch,),
            "lam": (batch,),
            "mixed": (batch,),
            "box": (batch, 6),
            "weight_in": (batch,),
            "weight_out": (batch, frames),
        }
        for name, want in expected.items():
            got = tuple(getattr(params, name).shape)
            if got != want:
                raise ValueError(
                    f"params.{name} has shape {got} but clips of shape {tuple(clips.shape)} need "
                    f"{want}; draw the params with draw_params(clips.shape)"
                )
        fields = (params.perm, params.lam, params.mixed, params.box, params.weight_in)
        if any(t.device.type != "cpu" for t in (*fields, params.weight_out)):
            raise ValueError("params must hold CPU tensors (as draw_params returns them)")
        if params.perm.dtype != torch.int64 or params.box.dtype != torch.int64:
            raise ValueError(
                f"params.perm and params.box must be int64, got {params.perm.dtype} and "
                f"{params.box.dtype}"
            )
        if batch and not bool(((params.perm >= 0) & (params.perm < batch)).all()):
            raise ValueError(
                f"params.perm must hold clip indices in [0, {batch}) for a batch of {batch}, "
                f"got {params.perm.tolist()}"
            )

    @staticmethod
    def _check_params_type(params: Any) -> None:
        if not isinstance(params, MixParams):
            raise ValueError(
                f"params must be MixParams (from draw_params), got {type(params).__name__}"
            )

    def check_videos(self, videos: list[torch.Tensor]) -> None:
        """Shape and dtype checks, before anything is drawn."""
        for video in videos:
            _check_batch(video, floating=self._kernel != "cut")

    def transform(self, inpt: Any, params: MixParams) -> Any:
        """Mix clips, or their labels, with fixed ``params`` (deterministic).

        Args:
            inpt: clips ``(B, T, C, H, W)`` floating (uint8 also accepted by the pure cut family;
                a ``tv_tensors.Video`` stays one), or their labels: class indices ``(B,)`` or
                probabilities ``(B, K)``.
            params: from ``draw_params(clips.shape)``.

        Returns:
            For clips: the mixed clips (a new tensor of the same shape, dtype and device, also
            when no clip is mixed). For labels: ``(B, K)`` float targets on the labels' device,
            ``targets[i] = lam[i] * y[i] + (1 - lam[i]) * y[perm[i]]``.

        Raises:
            ValueError: bad clips, labels or params.
        """
        if isinstance(inpt, torch.Tensor) and inpt.ndim in (1, 2):
            return self._mix_labels(inpt, params)
        clips = _check_batch(unwrap(inpt), floating=self._kernel != "cut")
        self._check_params(clips, params)
        return self._mix_clips(inpt, clips, params)

    def _mix_clips(self, inpt: Any, clips: torch.Tensor, params: MixParams) -> Any:
        """:meth:`transform` of checked ``clips`` (``inpt`` unwrapped) and fitting ``params``."""
        if not bool(params.mixed.any()):
            return rewrap(clips.clone(), like=inpt)
        region = _shared_region(params.box)
        w_shared = _shared_weight(params.weight_in) if region is not None else None
        perm, _, box, w_in, w_out = _on_device(params, clips.device)
        if self._kernel == "cut":
            out = _cut_paste(clips, perm, box, region)
        elif self._kernel == "blend":
            out = _blend(clips, perm, w_out)
        else:
            out = _cut_blend(
                clips, perm, box, w_in, w_out, region if w_shared is not None else None, w_shared
            )
        return rewrap(out, like=inpt)

    def _mix_labels(self, labels: torch.Tensor, params: MixParams) -> torch.Tensor:
        """``(B, K)`` targets of ``labels`` mixed as the clips are (``lam``, ``perm``)."""
        self._check_params_type(params)
        batch = params.perm.shape[0]
        if labels.shape[0] != batch:
            raise ValueError(
                f"labels have batch size {labels.shape[0]} but params are for {batch} clips; "
                "draw the params with draw_params(clips.shape)"
            )
        targets = as_targets(labels, self.num_classes, batch, smoothing=self.label_smoothing)
        return self._mix_targets(targets, params)

    def _mix_targets(self, targets: torch.Tensor, params: MixParams) -> torch.Tensor:
        """``(B, K)`` float ``targets`` mixed with ``params`` (both already checked)."""
        if targets.device.type == "cpu" or not bool(params.mixed.any()):
            return mix_targets(targets, params.perm, params.lam)
        perm, lam = _on_device(params, targets.device)[:2]
        return mix_targets(targets, perm, lam)

    def forward(self, *inputs: Any, generator: torch.Generator | None = None) -> Any:
        """Draw parameters and mix: ``clips_out, targets = aug(clips, labels, generator=g)``.

        As ``torchvision.transforms.v2.CutMix``: the sample holds the clips ``(B, T, C, H, W)``
        (full-rate clips, before any SlowFast pathway split) and their labels (the second entry,
        or a ``"labels"`` key), class indices ``(B,)`` or probabilities ``(B, K)``; other entries
        pass through. The clips and the labels are checked before anything is drawn (the same
        error on every seed).

        Returns:
            The sample with mixed clips and ``(B, K)`` float targets, as in :meth:`transform`.
        """
        if len(inputs) == 2 and all(is_pure_tensor(x) for x in inputs):
            # ``aug(clips, labels)`` on plain tensors (the trainer's call): the same checks and
            # outputs as the general path below, without torchvision's flatten / type checks.
            # Each check runs once here; the params are drawn for these clips, so they fit.
            clips, labels = inputs
            _check_batch(clips, floating=self._kernel != "cut")
            check_labels(labels, self.num_classes, clips.shape[0])
            params = self.draw_params(clips.shape, generator=generator)
            if labels.ndim == 1:
                labels = one_hot_unchecked(labels, self.num_classes, smoothing=self.label_smoothing)
            return self._mix_clips(clips, clips, params), self._mix_targets(labels, params)
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(sample)
        self.check_inputs(flat_inputs)
        labels = _find_labels(sample)
        needs = self._needs_transform_list(flat_inputs)
        videos = [
            inpt
            for inpt, need in zip(flat_inputs, needs, strict=True)
            if need and inpt is not labels
        ]
        if not videos:
            raise ValueError(f"{type(self).__name__} found no clips in the sample")
        clips = _check_batch(unwrap(videos[0]), floating=self._kernel != "cut")
        check_labels(labels, self.num_classes, clips.shape[0])
        params = self.make_params(videos, generator)
        flat_outputs = [
            self.transform(inpt, params) if (need or inpt is labels) else inpt
            for inpt, need in zip(flat_inputs, needs, strict=True)
        ]
        return tree_unflatten(flat_outputs, spec)

    def extra_repr(self) -> str:
        """The constructor arguments, as the repr shows them."""
        return ", ".join(f"{k}={v!r}" for k, v in self._repr_args().items())

    def _repr_args(self) -> dict[str, Any]:
        return {
            "num_classes": self.num_classes,
            "alpha": self.alpha,
            "p": self.p,
            "mode": self.mode,
            "label_smoothing": self.label_smoothing,
        }


_COMMON_ARGS = """
    Args:
        num_classes: number of classes ``K`` of the targets.
        alpha: ``lam ~ Beta(alpha, alpha)`` (default 1.0, the authors' code default; the
            paper's Table 4 uses 2 and 5).
        p: probability that the batch (``mode="batch"``) or a clip (``mode="elem"``) is mixed;
            default 1.0 (torchvision-like); the paper's Table 4 uses 0.5. Unmixed clips keep
            their pixels and get their one-hot (or given soft) target.
        mode: ``"batch"`` (one draw per batch, as the paper) or ``"elem"`` (one per clip).
        label_smoothing: folded into one-hot targets of index labels (default 0).
"""


class _CutMixBase(_Mix):
    _kernel = "cut"
    _region: ClassVar[Region]

    def _sample_geometry(self, n, frames, height, width, generator):
        lam = beta(self.alpha, n, generator)
        box = _sample_region(self._region, lam, frames, height, width, generator)
        return box, torch.zeros(n, dtype=torch.float64), torch.ones(n, frames, dtype=torch.float64)


class CutMix(_CutMixBase):
    __doc__ = (
        """CutMix (Yun et al. 2019) on video: one spatial box pasted on every frame.

    Paper Section 3.2 / Table 1 (spatial axis). The box has side ``sqrt(1 - lam)`` of H and W,
    a uniform integer centre, and is clipped at the borders; the target weight is the exact
    realised fraction of each source.
"""
        + _COMMON_ARGS
    )

    _region = "spatial"


class FrameCutMix(_CutMixBase):
    __doc__ = (
        """FrameCutMix: a run of ``(1 - lam) * T`` whole frames pasted from the partner.

    Paper Section 3.2 / Table 1 (temporal axis), Table 4 (best with alpha=5). Uniform centre
    frame, clipped at both ends; the target weight is the exact realised fraction.
"""
        + _COMMON_ARGS
    )

    _region = "temporal"


class CubeCutMix(_CutMixBase):
    __doc__ = (
        """CubeCutMix: a spatiotemporal cube pasted from the partner.

    Paper Section 3.2 / Table 1: the cube has ``(1 - lam) ** (1/3)`` of each of T, H and W,
    uniform centres, clipped at the borders; the target weight is the exact realised fraction.
"""
        + _COMMON_ARGS
    )

    _region = "cube"


class MixUp(_Mix):
    __doc__ = (
        """MixUp (Zhang et al. 2018) on video: ``lam * x_i + (1 - lam) * x_perm[i]`` on all frames.

    Paper Section 3.2 / Table 1 (blend), Table 5.
"""
        + _COMMON_ARGS
    )

    _kernel = "blend"

    def _sample_geometry(self, n, frames, height, width, generator):
        lam = _as_float32_exact(beta(self.alpha, n, generator))
        return empty_boxes(n), torch.ones(n, dtype=torch.float64), lam[:, None].repeat(1, frames)


class FadeMixUp(_Mix):
    __doc__ = (
        """FadeMixUp (paper Eq. 2): MixUp whose ratio fades linearly over the frames.

    ``lam_t = linspace(lam - s * gamma, lam + s * gamma, T)`` with ``lam ~ Beta(alpha, alpha)``,
    ``gamma ~ U(0, min(lam, 1 - lam))`` and a random direction ``s = +-1`` (the authors'
    ``np.random.choice([-1, 1])``); frame ``t`` is ``lam_t * x_i + (1 - lam_t) * x_perm[i]``.
    The target weight is ``mean_t(lam_t)`` of the weights actually applied, which equals the
    paper's ``lam`` up to float rounding (the fade is symmetric). Draw order per sample:
    ``lam``, ``gamma``'s uniform, the direction's uniform.
"""
        + _COMMON_ARGS
    )

    _kernel = "blend"

    def _sample_geometry(self, n, frames, height, width, generator):
        lam = beta(self.alpha, n, generator)
        gamma = uniform(n, generator) * torch.minimum(lam, 1.0 - lam)
        sign = torch.where(uniform(n, generator) < 0.5, -1.0, 1.0).to(torch.float64)
        start, end = lam - sign * gamma, lam + sign * gamma
        if frames > 1:
            steps = torch.arange(frames, dtype=torch.float64) / (frames - 1)
            weight = start[:, None] + (end - start)[:, None] * steps
        else:
            weight = lam[:, None].clone()
        weight = _as_float32_exact(weight.clamp(0.0, 1.0))
        return empty_boxes(n), torch.ones(n, dtype=torch.float64), weight


class _CutMixUpBase(_Mix):
    _kernel = "cut_blend"
    _region: ClassVar[Region]

    def __init__(
        self,
        *,
        num_classes: int,
        alpha: float = 1.0,
        blend_alpha: float = 2.0,
        cut_prob: float = 0.5,
        p: float = 1.0,
        mode: Mode = "batch",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            num_classes=num_classes, alpha=alpha, p=p, mode=mode, label_smoothing=label_smoothing
        )
        self.blend_alpha = check_positive(blend_alpha, "blend_alpha")
        self.cut_prob = check_probability(cut_prob, "cut_prob")

    def _sample_geometry(self, n, frames, height, width, generator):
        lam1 = _as_float32_exact(beta(self.blend_alpha, n, generator))
        lam2 = beta(self.alpha, n, generator)
        cut = bernoulli(self.cut_prob, n, generator)
        box = _sample_region(self._region, lam2, frames, height, width, generator)
        box = box.masked_fill(~cut.unsqueeze(1), 0)
        weight_in = torch.where(lam1 >= 0.5, 0.0, 1.0).to(torch.float64)
        return box, weight_in, lam1[:, None].repeat(1, frames)

    def _repr_args(self) -> dict[str, Any]:
        args = super()._repr_args()
        return {**args, "blend_alpha": self.blend_alpha, "cut_prob": self.cut_prob}


_CUTMIXUP_DOC = """

    Eq. 1: the two clips are blended with ``lam1 ~ Beta(blend_alpha, blend_alpha)``; a region
    is drawn from ``lam2 ~ Beta(alpha, alpha)`` exactly as in {cut}; outside the region the
    output is the blend ``lam1 * x_i + (1 - lam1) * x_perm[i]``, inside it the pure partner
    ``x_perm[i]`` if ``lam1 >= 0.5`` else the pure ``x_i``. With probability ``1 - cut_prob``
    the region step is skipped (plain MixUp with ``lam1``). ``blend_alpha=2`` and
    ``cut_prob=0.5`` are the authors' code (``np.random.beta(2.0, 2.0)`` and ``fr < 0.5``
    applying the cut); the paper's text swaps which of lam1/lam2 is drawn from Beta(2, 2), we
    follow the code.

    Label (the invariant the tests check): the target weight of clip ``i``'s own label is the
    exact fraction of its content, ``lam1 * (1 - r)`` if ``lam1 >= 0.5`` else
    ``lam1 * (1 - r) + r`` (``r`` the realised region fraction), as the authors' code computes.
    The paper's printed Eq. 1 label for ``lam1 < 0.5``, ``(lam1*lam2 + (1 - lam1)) yA +
    (1 - lam1) lam2 yB``, does not sum to 1: its ``(1 - lam1)`` is a typo for ``(1 - lam2)``.

    Args:
        num_classes: number of classes ``K`` of the targets.
        alpha: ``lam2 ~ Beta(alpha, alpha)`` sets the region (default 1.0, the authors' default).
        blend_alpha: ``lam1 ~ Beta(blend_alpha, blend_alpha)`` is the blend ratio (default 2).
        cut_prob: probability that the region step is applied (default 0.5).
        p: probability that the batch / a clip is mixed at all (default 1.0).
        mode: ``"batch"`` (one draw per batch, as the paper) or ``"elem"`` (one per clip).
        label_smoothing: folded into one-hot targets of index labels (default 0).
"""


class CutMixUp(_CutMixUpBase):
    __doc__ = (
        "CutMixUp (Yoo et al. 2020): MixUp blend plus a CutMix box (paper Section 3.2, Table 5)."
        + _CUTMIXUP_DOC.format(cut="CutMix (a spatial box on all frames)")
    )
    _region = "spatial"


class FrameCutMixUp(_CutMixUpBase):
    __doc__ = (
        "FrameCutMixUp: MixUp blend plus a FrameCutMix run of frames (Section 3.2, Table 5)."
        + _CUTMIXUP_DOC.format(cut="FrameCutMix (a run of whole frames)")
    )
    _region = "temporal"


class CubeCutMixUp(_CutMixUpBase):
    __doc__ = (
        "CubeCutMixUp: MixUp blend plus a CubeCutMix cube (Section 3.2, Table 5)."
        + _CUTMIXUP_DOC.format(cut="CubeCutMix (a spatiotemporal cube)")
    )
    _region = "cube"
