"""Label helpers for the mixing family: one-hot targets and soft-target mixing.

Labels are either class indices ``(B,)`` (any integer dtype) or probability rows ``(B, K)``
(floating), the torchvision v2 ``MixUp``/``CutMix`` convention; targets are always ``(B, K)``
floating rows summing to 1. Label smoothing is folded into the one-hot (timm ``mixup_target``).

Values are validated only on CPU tensors (a min/max of a CUDA tensor would wait for the GPU):
labels on another device are trusted to satisfy the same contract; the trainer validates them on
the CPU before it moves them (paper Section 3.2 mixes on the GPU batch).
"""

from __future__ import annotations

import torch

__all__ = [
    "as_targets",
    "check_label_values",
    "check_labels",
    "check_num_classes",
    "mix_targets",
    "one_hot",
    "one_hot_unchecked",
]

#: Tolerance on a probability row's sum (float16/bfloat16 soft labels round to ~1e-3).
PROB_SUM_TOL = 1e-2


def check_num_classes(num_classes: int) -> int:
    """Return ``num_classes`` after checking that it is an ``int >= 1``.

    Raises:
        ValueError: ``num_classes`` is not a positive integer.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    return num_classes


def one_hot(
    labels: torch.Tensor,
    num_classes: int,
    *,
    smoothing: float = 0.0,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """One-hot (optionally label-smoothed) targets from class indices.

    With smoothing ``s`` each row holds ``1 - s + s/K`` at the label and ``s/K`` elsewhere, so rows
    still sum to 1 (timm ``mixup_target`` convention).

    Args:
        labels: integer class indices of any shape ``(...)``, values in ``[0, num_classes)``.
        num_classes: number of classes ``K``.
        smoothing: label smoothing in ``[0, 1)``.
        dtype: floating dtype of the result.

    Returns:
        Tensor ``(..., K)`` of ``dtype`` on ``labels.device``.

    Raises:
        ValueError: non-integer labels, labels out of ``[0, K)``, bad ``num_classes`` or
            ``smoothing``.
    """
    num_classes = check_num_classes(num_classes)
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be a torch.Tensor, got {type(labels).__name__}")
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"labels for one_hot must be integer class indices, got {labels.dtype}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, int | float):
        raise ValueError(f"smoothing must be a number in [0, 1), got {smoothing!r}")
    if not 0.0 <= float(smoothing) < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    if (
        labels.numel() > 0
    ):  # on any device (a host sync on CUDA; the trainer uses the unchecked one)
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"labels must be class indices in [0, {num_classes}) (num_classes={num_classes}), "
                f"got values in [{low}, {high}]"
            )
    return one_hot_unchecked(labels, num_classes, smoothing=float(smoothing), dtype=dtype)


def check_label_values(labels: torch.Tensor, num_classes: int) -> None:
    """Check the values of CPU labels: indices in ``[0, K)`` or probability rows.

    Labels on another device are not read (that would be a host sync); see the module docstring.

    Raises:
        ValueError: index labels outside ``[0, num_classes)``; probability rows with a negative
            or non-finite entry, or whose sum is not 1 (within ``PROB_SUM_TOL``).
    """
    if labels.device.type != "cpu" or labels.numel() == 0:
        return
    if not labels.dtype.is_floating_point:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"labels must be class indices in [0, {num_classes}) (num_classes={num_classes}), "
                f"got values in [{low}, {high}]"
            )
        return
    rows = labels.detach().to(torch.float64)
    if not bool(torch.isfinite(rows).all()) or float(rows.min()) < 0.0:
        raise ValueError(
            "labels of shape (B, K) must be probabilities (finite, >= 0, rows summing to 1), "
            f"got values in [{float(rows.min())}, {float(rows.max())}]"
        )
    sums = rows.sum(dim=-1)
    worst = int((sums - 1.0).abs().argmax())
    if abs(float(sums[worst]) - 1.0) > PROB_SUM_TOL:
        raise ValueError(
            "labels of shape (B, K) must be probabilities with rows summing to 1, "
            f"got row {worst} summing to {float(sums[worst]):.6g}"
        )


def one_hot_unchecked(
    labels: torch.Tensor,
    num_classes: int,
    *,
    smoothing: float = 0.0,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """:func:`one_hot` without any check, for labels already validated (no host sync on CUDA).

    Index values outside ``[0, num_classes)`` are the caller's bug: ``scatter_`` then fails on
    the CPU and gives an asynchronous device-side error on CUDA.
    """
    off = smoothing / num_classes
    on = 1.0 - smoothing + off
    out = torch.full((*labels.shape, num_classes), off, dtype=dtype, device=labels.device)
    return out.scatter_(-1, labels.long().unsqueeze(-1), on)


def check_labels(labels: torch.Tensor, num_classes: int, batch_size: int) -> None:
    """All checks of :func:`as_targets` without building the targets (values: CPU labels only).

    Raises:
        ValueError: as :func:`as_targets`.
    """
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be a torch.Tensor, got {type(labels).__name__}")
    if labels.ndim == 1:
        if labels.shape[0] != batch_size:
            raise ValueError(
                f"labels must have batch size {batch_size} to match clips, got {labels.shape[0]}"
            )
        if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
            raise ValueError(
                f"labels of shape (B,) must be integer class indices, got {labels.dtype}"
            )
    elif labels.ndim == 2:
        if not labels.dtype.is_floating_point:
            raise ValueError(
                f"labels of shape (B, K) must be floating probabilities, got {labels.dtype}"
            )
        if labels.shape != (batch_size, num_classes):
            raise ValueError(
                f"labels of shape (B, K) must be ({batch_size}, {num_classes}) "
                f"(batch size of clips, num_classes), got {tuple(labels.shape)}"
            )
    else:
        raise ValueError(
            "labels must be class indices (B,) or probabilities (B, K), "
            f"got a tensor of shape {tuple(labels.shape)}"
        )
    check_label_values(labels, num_classes)


def as_targets(
    labels: torch.Tensor, num_classes: int, batch_size: int, *, smoothing: float = 0.0
) -> torch.Tensor:
    """Turn ``(B,)`` indices or ``(B, K)`` probabilities into ``(B, K)`` float targets.

    Index labels become (smoothed) one-hot float32 rows; probability rows are passed through
    unchanged (no smoothing is added to them, as in timm).

    Values are checked on CPU labels only (:func:`check_label_values`).

    Raises:
        ValueError: wrong rank, wrong batch size, ``K != num_classes``, a non-float ``(B, K)``,
            a non-integer ``(B,)``, or (CPU labels) indices out of range / rows that are not
            probabilities.
    """
    check_labels(labels, num_classes, batch_size)
    if labels.ndim == 1:
        return one_hot_unchecked(labels, num_classes, smoothing=smoothing)
    return labels


def mix_targets(targets: torch.Tensor, perm: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """Soft targets ``lam * y + (1 - lam) * y[perm]`` (a fresh tensor).

    Args:
        targets: ``(B, K)`` floating rows.
        perm: ``(B,)`` int64 partner index of each clip.
        lam: ``(B,)`` weight of each clip's own label (the exact fraction of its own content).

    Returns:
        ``(B, K)`` tensor, same dtype and device as ``targets``.
    """
    lam = lam.to(device=targets.device, dtype=targets.dtype).unsqueeze(1)
    partner = targets.index_select(0, perm.to(targets.device))
    return targets * lam + partner * (1.0 - lam)
