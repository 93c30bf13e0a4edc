"""Clip strips with class-activation heat maps on top (paper Figs. 5-6).

Drawing only: the maps come from :mod:`tempaug.analysis.cam.maps`. A *strip* is every ``every``-th
frame of a ``(T, C, H, W)`` clip laid side by side; a heat map ``(T, H, W)`` in ``[0, 1]`` is
coloured with any matplotlib or seaborn colour map (``"jet"``, ``"rocket"``, ``"mako"``, ...)
and alpha-blended over the frames. :func:`plot_cam_grid` arranges strips in a rows x columns grid
(rows: clip A, clip B, mixed clip, CAM of class A, ...; columns: the models) and returns a
``matplotlib.figure.Figure`` without touching pyplot's global state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import seaborn as sns
import torch
from matplotlib.figure import Figure
from torch import Tensor

__all__ = [
    "MixingColumn",
    "StripCell",
    "clip_to_rgb",
    "colorize",
    "frame_indices",
    "mixing_cam_figure",
    "overlay_heatmap",
    "plot_cam_grid",
    "render_strip",
    "tile_frames",
]


def frame_indices(num_frames: int, every: int = 1, *, max_frames: int | None = None) -> np.ndarray:
    """Indices of the frames shown in a strip: ``0, every, 2*every, ...``.

    Args:
        num_frames: clip length ``T >= 1``.
        every: show every ``every``-th frame (``>= 1``).
        max_frames: if given, keep at most this many, evenly spread over the chosen ones.

    Returns:
        ``(n,)`` int64 array.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    idx = np.arange(0, num_frames, every, dtype=np.int64)
    if max_frames is not None:
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        if idx.size > max_frames:
            pick = np.round(np.linspace(0, idx.size - 1, max_frames)).astype(np.int64)
            idx = idx[pick]
    return idx


def clip_to_rgb(
    clip: Tensor,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> np.ndarray:
    """A clip as displayable RGB frames.

    Args:
        clip: ``(T, C, H, W)`` with ``C`` in ``{1, 3}``; uint8 ``[0, 255]`` or float ``[0, 1]``,
            or float normalised with ``mean``/``std`` (undone here).
        mean: per-channel mean used to normalise the clip, or ``None``.
        std: per-channel std used to normalise the clip, or ``None``.

    Returns:
        ``(T, H, W, 3)`` float32 array in ``[0, 1]``.
    """
    if clip.ndim != 4 or clip.shape[1] not in (1, 3):
        raise ValueError(f"clip must be (T, C, H, W) with C in {{1, 3}}, got {tuple(clip.shape)}")
    x = clip.detach().to("cpu")
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if (mean is None) != (std is None):
        raise ValueError("mean and std must be given together")
    if mean is not None:
        m = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        s = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        x = x * s + m
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.clamp(0.0, 1.0).permute(0, 2, 3, 1).contiguous().numpy()


def colorize(heat: np.ndarray | Tensor, cmap: str = "jet") -> np.ndarray:
    """Map values in ``[0, 1]`` to RGB with a matplotlib or seaborn colour map.

    Args:
        heat: ``(...)`` array in ``[0, 1]`` (values outside are clipped).
        cmap: colour-map name (anything ``seaborn.color_palette(name, as_cmap=True)`` accepts).

    Returns:
        ``(..., 3)`` float32 array in ``[0, 1]``.
    """
    if isinstance(heat, Tensor):
        heat = heat.detach().to("cpu", torch.float32).numpy()
    try:
        cm = mpl.colormaps[cmap]
    except KeyError:
        try:
            cm = sns.color_palette(cmap, as_cmap=True)
        except ValueError as exc:
            raise ValueError(f"cmap {cmap!r} is not a matplotlib or seaborn colour map") from exc
    rgba = cm(np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0))
    return np.asarray(rgba[..., :3], dtype=np.float32)


def overlay_heatmap(
    frames: np.ndarray, heat: np.ndarray | Tensor, *, cmap: str = "jet", alpha: float = 0.5
) -> np.ndarray:
    """Alpha-blend a coloured heat map over frames: ``(1 - alpha) * frame + alpha * colour``.

    Args:
        frames: ``(n, H, W, 3)`` float in ``[0, 1]``.
        heat: ``(n, H, W)`` in ``[0, 1]``.
        cmap: colour-map name.
        alpha: heat-map opacity in ``[0, 1]``.

    Returns:
        ``(n, H, W, 3)`` float32 in ``[0, 1]``.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    heat_np = heat.detach().cpu().numpy() if isinstance(heat, Tensor) else np.asarray(heat)
    if frames.ndim != 4 or frames.shape[-1] != 3 or heat_np.shape != frames.shape[:3]:
        raise ValueError(
            f"frames must be (n, H, W, 3) and heat (n, H, W); got {frames.shape} and "
            f"{heat_np.shape}"
        )
    colour = colorize(heat_np, cmap)
    return ((1.0 - alpha) * frames + alpha * colour).astype(np.float32)


def tile_frames(frames: np.ndarray, *, gap: int = 2, gap_value: float = 1.0) -> np.ndarray:
    """Lay ``(n, H, W, 3)`` frames side by side with ``gap`` pixels between them.

    Returns:
        ``(H, n*W + (n-1)*gap, 3)`` float32.
    """
    if frames.ndim != 4 or frames.shape[0] < 1:
        raise ValueError(f"frames must be (n>=1, H, W, 3), got {frames.shape}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    n, h, w, c = frames.shape
    out = np.full((h, n * w + (n - 1) * gap, c), gap_value, dtype=np.float32)
    for i in range(n):
        out[:, i * (w + gap) : i * (w + gap) + w] = frames[i]
    return out


def render_strip(
    clip: Tensor,
    cam: Tensor | None = None,
    *,
    every: int = 1,
    max_frames: int | None = None,
    cmap: str = "jet",
    alpha: float = 0.5,
    gap: int = 2,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> np.ndarray:
    """Render one strip image: every ``every``-th frame, optionally with its CAM on top.

    Args:
        clip: ``(T, C, H, W)`` clip (see :func:`clip_to_rgb`).
        cam: ``(T, H, W)`` map in ``[0, 1]`` on the clip's grid, or ``None``.
        every: frame step.
        max_frames: cap on the number of frames shown.
        cmap: colour map of the heat map.
        alpha: heat-map opacity.
        gap: white pixels between frames.
        mean: normalisation mean to undo, or ``None``.
        std: normalisation std to undo, or ``None``.

    Returns:
        ``(H, n*W + (n-1)*gap, 3)`` float32 RGB image in ``[0, 1]``.
    """
    frames = clip_to_rgb(clip, mean=mean, std=std)
    idx = frame_indices(frames.shape[0], every, max_frames=max_frames)
    frames = frames[idx]
    if cam is not None:
        if tuple(cam.shape) != (clip.shape[0], clip.shape[2], clip.shape[3]):
            raise ValueError(
                f"cam must be (T, H, W) = {(clip.shape[0], clip.shape[2], clip.shape[3])}, "
                f"got {tuple(cam.shape)}"
            )
        heat = cam.detach().to("cpu", torch.float32).numpy()[idx]
        frames = overlay_heatmap(frames, heat, cmap=cmap, alpha=alpha)
    return tile_frames(frames, gap=gap)


@dataclass(frozen=True)
class StripCell:
    """One panel of a CAM grid: a clip and optionally its CAM.

    Attributes:
        clip: ``(T, C, H, W)`` clip.
        cam: ``(T, H, W)`` map in ``[0, 1]`` or ``None`` for the plain clip.
        title: optional panel title (drawn above the strip).
    """

    clip: Tensor
    cam: Tensor | None = None
    title: str | None = None


def plot_cam_grid(
    cells: Sequence[Sequence[StripCell | None]],
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    every: int = 1,
    max_frames: int | None = 8,
    cmap: str = "jet",
    alpha: float = 0.5,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    suptitle: str | None = None,
    panel_width: float = 4.0,
    colorbar: bool = True,
) -> Figure:
    """A rows x columns grid of clip strips with heat maps (the layout of paper Figs. 5-6).

    Args:
        cells: ``rows`` lists of ``cols`` :class:`StripCell` (``None`` leaves a panel empty).
        row_labels: one label per row (left margin), or ``None``.
        col_labels: one label per column (top), or ``None``.
        every: frame step of every strip.
        max_frames: cap on the frames per strip.
        cmap: colour map of the heat maps.
        alpha: heat-map opacity.
        mean: normalisation mean to undo, or ``None``.
        std: normalisation std to undo, or ``None``.
        suptitle: figure title.
        panel_width: width of one panel in inches.
        colorbar: add one colour bar for the heat-map scale.

    Returns:
        A ``matplotlib.figure.Figure`` (not registered with pyplot).
    """
    rows = len(cells)
    if rows == 0 or any(len(r) != len(cells[0]) for r in cells) or len(cells[0]) == 0:
        raise ValueError("cells must be a non-empty rectangular grid (rows of equal length)")
    cols = len(cells[0])
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"row_labels must have {rows} entries, got {len(row_labels)}")
    if col_labels is not None and len(col_labels) != cols:
        raise ValueError(f"col_labels must have {cols} entries, got {len(col_labels)}")
    images: list[list[np.ndarray | None]] = []
    aspect = 0.0
    for row in cells:
        images.append([])
        for cell in row:
            if cell is None:
                images[-1].append(None)
                continue
            img = render_strip(
                cell.clip, cell.cam, every=every, max_frames=max_frames, cmap=cmap, alpha=alpha,
                mean=mean, std=std,
            )  # fmt: skip
            aspect = max(aspect, img.shape[0] / img.shape[1])
            images[-1].append(img)
    # Fixed geometry in inches (no layout engine: fast and stable for large grids).
    panel_h = panel_width * max(aspect, 0.05)
    left, right, bottom = 1.3, (0.9 if colorbar else 0.15), 0.15
    top = 0.55 + (0.3 if suptitle else 0.0)
    gap_w, gap_h = 0.15, 0.4
    width = left + cols * panel_width + (cols - 1) * gap_w + right
    height = top + rows * panel_h + (rows - 1) * gap_h + bottom
    fig = Figure(figsize=(width, height))
    for r in range(rows):
        for c in range(cols):
            x0 = left + c * (panel_width + gap_w)
            y0 = height - top - (r + 1) * panel_h - r * gap_h
            ax = fig.add_axes((x0 / width, y0 / height, panel_width / width, panel_h / height))
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            img = images[r][c]
            title = ""
            if img is not None:
                ax.imshow(img, interpolation="nearest", aspect="auto")
                title = cells[r][c].title or ""
            if r == 0 and col_labels is not None:
                title = col_labels[c] + ("\n" + title if title else "")
            if title:
                ax.set_title(title, fontsize=8, pad=3, y=1.0)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[r], fontsize=8, rotation=0, ha="right", va="center")
    if colorbar:
        sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0.0, 1.0), cmap=_cmap(cmap))
        cax = fig.add_axes(
            ((width - right + 0.15) / width, bottom / height, 0.12 / width, rows * panel_h / height
             + (rows - 1) * gap_h / height)
        )  # fmt: skip
        cbar = fig.colorbar(sm, cax=cax)
        cbar.set_label("CAM (min-max normalised)", fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10, y=1 - 0.12 / height, va="top")
    return fig


def _cmap(name: str) -> mpl.colors.Colormap:
    try:
        return mpl.colormaps[name]
    except KeyError:
        return sns.color_palette(name, as_cmap=True)


# --------------------------------------------------------------------------- paper Figs. 5-6


@dataclass(frozen=True)
class MixingColumn:
    """One model's column of the Fig. 5/6 layout.

    Attributes:
        title: column title (the model / training method).
        mixed: ``(T, C, H, W)`` the mixture shown to this model.
        cam_a_mixed: ``(T, H, W)`` CAM of class A on the mixture.
        cam_b_mixed: ``(T, H, W)`` CAM of class B on the mixture.
        cam_a_pure: ``(T, H, W)`` CAM of class A on pure clip A.
        note: optional subtitle (e.g. the mixing ratio and the predicted scores).
    """

    title: str
    mixed: Tensor
    cam_a_mixed: Tensor
    cam_b_mixed: Tensor
    cam_a_pure: Tensor
    note: str | None = None


def mixing_cam_figure(
    clip_a: Tensor,
    clip_b: Tensor,
    columns: Sequence[MixingColumn],
    *,
    class_a: str = "A",
    class_b: str = "B",
    **kwargs: Any,
) -> Figure:
    """The layout of paper Figs. 5-6: clips A and B, then per model the mixture and its CAMs.

    Rows: clip A, clip B (first column only), the mixed clip, the CAM of class A and of class B on
    the mixture, and the CAM of class A on pure clip A; one column per model.

    Args:
        clip_a: ``(T, C, H, W)`` clip A.
        clip_b: ``(T, C, H, W)`` clip B.
        columns: one :class:`MixingColumn` per model.
        class_a: name of A's class.
        class_b: name of B's class.
        **kwargs: :func:`plot_cam_grid` options (``every``, ``max_frames``, ``cmap``, ``alpha``,
            ``mean``, ``std``, ``suptitle``, ...).

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    if not columns:
        raise ValueError("columns must name at least one model")
    rest = [None] * (len(columns) - 1)
    cells: list[list[StripCell | None]] = [
        [StripCell(clip_a), *rest],
        [StripCell(clip_b), *rest],
        [StripCell(c.mixed, None, c.note) for c in columns],
        [StripCell(c.mixed, c.cam_a_mixed) for c in columns],
        [StripCell(c.mixed, c.cam_b_mixed) for c in columns],
        [StripCell(clip_a, c.cam_a_pure) for c in columns],
    ]
    rows = [
        f"clip A\n{class_a}",
        f"clip B\n{class_b}",
        "mixed clip",
        f"CAM {class_a}\non mixed",
        f"CAM {class_b}\non mixed",
        f"CAM {class_a}\non clip A",
    ]
    return plot_cam_grid(cells, row_labels=rows, col_labels=[c.title for c in columns], **kwargs)
