"""Writing a generated dataset: video files, official-format split lists and the manifest.

:func:`generate` plans every video of a layout (UCF-101 or HMDB-51), renders and encodes them
(MPEG-4 Part 2 in AVI, optionally in worker processes), writes the split lists in the official
formats and, last, a manifest that marks the dataset complete (so a second call is a no-op).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Literal

import av
import numpy as np
import pandas as pd
import torch

from tempaug.io import atomic_write_bytes, atomic_write_text

from .. import splits
from .motions import _check_layout, class_names
from .nuisances import Nuisances
from .rendering import Scene, _check_scene, render
from .rng import _randint, _seeded

__all__ = ["CODEC", "FPS", "GENERATOR_VERSION", "GeneratedDataset", "generate"]


GENERATOR_VERSION = 4
FPS = 25
CODEC = "mpeg4"
UCF_GROUPS = 25  # g01..g25; split k tests groups 7(k-1)+1 .. 7k (as the official lists)


def _encode(frames: np.ndarray, path: Path, fps: int = FPS) -> None:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames as MPEG-4 Part 2 in AVI, atomically."""
    t, h, w, _ = frames.shape
    buffer = BytesIO()
    with av.open(buffer, mode="w", format="avi") as container:
        stream = container.add_stream(CODEC, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = max(200_000, int(1.2 * w * h * fps))
        stream.codec_context.gop_size = 12
        stream.thread_count = 1  # deterministic output
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    atomic_write_bytes(path, buffer.getvalue())


@dataclass(frozen=True)
class _Job:
    path: Path
    class_name: str
    class_idx: int
    clip: int
    num_frames: int
    height: int
    width: int
    seed: int
    scene: str
    nuisances: Nuisances = field(default_factory=Nuisances)


def _job_generators(
    seed: int, class_idx: int, clip: int
) -> tuple[torch.Generator, torch.Generator, torch.Generator]:
    """Dynamics, scene and nuisance generators of a dataset video, each its own stream.

    Every video draws its nuisances independently (keyed on ``(seed, class, clip)``); they
    cannot depend on the class otherwise, because :func:`sample_nuisances` never sees it: the
    same procedure draws them for every class.
    """
    return (
        _seeded(seed, class_idx, clip, 1),
        _seeded(seed, class_idx, clip, 2),
        _seeded(seed, class_idx, clip, 0x4E55),
    )


def _run_job(job: _Job) -> None:
    dyn, sty, nui = _job_generators(job.seed, job.class_idx, job.clip)
    frames = render(
        job.class_name,
        num_frames=job.num_frames,
        height=job.height,
        width=job.width,
        generator=dyn,
        style_generator=sty,
        scene=job.scene,
        nuisances=job.nuisances,
        nuisance_generator=nui,
    )
    _encode(frames, job.path)


@dataclass(frozen=True)
class GeneratedDataset:
    """A generated dataset on disk.

    Attributes:
        root: Folder passed to :func:`generate`.
        layout: ``"ucf101"`` or ``"hmdb51"``.
        video_root: Dataset root of the split tables' ``video`` paths (``root/UCF-101`` or
            ``root/hmdb51``).
        list_dir: Folder of the official-format lists (``root/ucfTrainTestlist`` or
            ``root/testTrainMulti_7030_splits``).
        num_classes: Number of classes.
        classes: Class names in label order.
        num_videos: Number of video files.
        seed: Generator seed.
    """

    root: Path
    layout: str
    video_root: Path
    list_dir: Path
    num_classes: int
    classes: tuple[str, ...] = field(default=())
    num_videos: int = 0
    seed: int = 0

    def split(self, split: int = 1) -> pd.DataFrame:
        """The split table, parsed from the written lists by :mod:`tempaug.data.splits`."""
        if self.layout == "ucf101":
            return splits.ucf101(self.list_dir, split)
        return splits.hmdb51(self.list_dir, split)


def _frame_size(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        h, w = size, 2 * round(size * 4 / 3 / 2)  # 4:3 like UCF-101's 320x240
    else:
        h, w = (int(s) for s in size)
    if h < 16 or w < 16 or h % 2 or w % 2:
        raise ValueError(f"size must give an even height and width >= 16, got {size!r} -> {h}x{w}")
    return h, w


def _ucf_groups(n: int) -> list[tuple[int, int]]:
    """``(group, clip-in-group)`` (1-based) of ``n`` clips spread over the 25 UCF groups."""
    out, counts = [], {}
    for j in range(n):
        grp = j * UCF_GROUPS // n + 1
        counts[grp] = counts.get(grp, 0) + 1
        out.append((grp, counts[grp]))
    return out


def generate(
    root: str | os.PathLike[str],
    layout: Literal["ucf101", "hmdb51"] = "ucf101",
    *,
    num_classes: int = 6,
    clips_per_class: int = 8,
    frames: int = 32,
    size: int | tuple[int, int] = 64,
    seed: int = 0,
    scene: Scene = "cluttered",
    nuisances: Nuisances | str | Mapping[str, float] = "none",
    num_workers: int = 0,
) -> GeneratedDataset:
    """Write a generated video dataset in an official layout (or reuse a complete one).

    UCF-101 layout: ``root/UCF-101/<Class>/v_<Class>_gGG_cCC.avi`` and
    ``root/ucfTrainTestlist/{classInd.txt, trainlist0{1,2,3}.txt, testlist0{1,2,3}.txt}`` (CRLF
    like the official zip). Clips are spread over groups g01-g25; split ``k`` tests groups
    ``7(k-1)+1 .. 7k`` and trains on the rest, like the official lists. HMDB-51 layout:
    ``root/hmdb51/<class>/<name>.avi`` and ``root/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt``
    (``<name>.avi <flag> `` with the official trailing space; per class and split ~50 % train,
    30 % test, 20 % unused).

    Args:
        root: Output folder (created).
        layout: ``"ucf101"`` or ``"hmdb51"``.
        num_classes: Number of classes, 1..20 (the first ``num_classes`` of :data:`CLASSES`).
        clips_per_class: Videos per class (>= 3, so every split has train and test videos).
        frames: Nominal video length; lengths are drawn uniformly in ``[frames // 2, 3 * frames // 2]``.
        size: Frame height (width = 4/3 of it, even) or ``(height, width)``; even values >= 16.
        seed: Seed; the same arguments give the same decoded frames.
        scene: ``"cluttered"``: textured background with colour blobs and two static
            distractor shapes, small object (radius 0.10-0.16 of the short side) — hard for
            small models. ``"plain"``: a two-colour gradient background and a larger object
            (radius 0.28-0.36): the motion is the same, but a tiny CPU model learns it in
            seconds (the pipeline's synthetic profile uses it).
        nuisances: Class-independent natural variation over time (see :class:`Nuisances`):
            ``"none"`` (default; the frames of generator version 3), ``"natural"`` (moderate
            illumination drift and flicker, camera shake and zoom, an occluder in 40 % of the
            videos, colour cast, contrast, partial action in 50 %), a :class:`Nuisances` or a
            mapping of field -> strength. They imitate what RandAugment-T varies over a clip
            (paper Sec. 3.1: brightness, colour, contrast, affine) and what real footage has
            (camera motion, lighting change, occlusion, untrimmed actions). Each video draws
            its own, from the same distribution for every class, so they carry no label
            information. Recorded in the manifest.
        num_workers: Processes used to render and encode (0 = in this process).

    Returns:
        :class:`GeneratedDataset` describing the files.

    Raises:
        ValueError: an argument out of range, or ``root`` already holds a complete generated
            dataset of this layout made with different arguments.
    """
    _check_layout(layout)
    names = class_names(layout, num_classes)
    if clips_per_class < 3:
        raise ValueError(f"clips_per_class must be >= 3, got {clips_per_class}")
    if frames < 8:
        raise ValueError(f"frames must be >= 8, got {frames}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if num_workers < 0:
        raise ValueError(f"num_workers must be >= 0, got {num_workers}")
    _check_scene(scene)
    nu = Nuisances.resolve(nuisances)
    h, w = _frame_size(size)
    root = Path(root)
    if layout == "ucf101":
        video_root, list_dir = root / "UCF-101", root / "ucfTrainTestlist"
    else:
        video_root, list_dir = root / "hmdb51", root / "testTrainMulti_7030_splits"
    params = {
        "generator_version": GENERATOR_VERSION,
        "layout": layout,
        "num_classes": num_classes,
        "clips_per_class": clips_per_class,
        "frames": frames,
        "height": h,
        "width": w,
        "seed": seed,
        "scene": scene,
        "nuisances": asdict(nu),
        "fps": FPS,
        "codec": CODEC,
    }
    manifest_path = root / f".tempaug-generated-{layout}.json"
    result = GeneratedDataset(
        root=root,
        layout=layout,
        video_root=video_root,
        list_dir=list_dir,
        num_classes=num_classes,
        classes=tuple(names),
        num_videos=num_classes * clips_per_class,
        seed=seed,
    )
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("params") != params:
            raise ValueError(
                f"{root} already holds a generated {layout} dataset made with "
                f"{manifest.get('params')}; requested {params}. Use another root or delete it."
            )
        if all((root / f).is_file() for f in manifest.get("files", [])):
            return result  # complete: no-op
    # Plan every video (lengths drawn from a dedicated generator: independent of rendering).
    g_len = _seeded(seed, 0xC11F)
    lo, hi = max(frames // 2, 4), max(3 * frames // 2, frames // 2 + 1)
    jobs: list[_Job] = []
    per_class: list[list[str]] = []
    groups: list[list[int]] = []
    for ci, name in enumerate(names):
        vids, grps = [], []
        for j, (grp, k) in enumerate(_ucf_groups(clips_per_class)):
            if layout == "ucf101":
                rel = f"{name}/v_{name}_g{grp:02d}_c{k:02d}.avi"
            else:
                rel = f"{name}/gen{j // 3:03d}_{name}_u_nm_np1_fr_med_{j % 3}.avi"
            t = _randint(g_len, lo, hi)
            jobs.append(_Job(video_root / rel, name, ci, j, t, h, w, seed, scene, nu))
            vids.append(rel)
            grps.append(grp)
        per_class.append(vids)
        groups.append(grps)
    if num_workers > 0:
        with ProcessPoolExecutor(num_workers) as pool:
            list(pool.map(_run_job, jobs, chunksize=4))
    else:
        for job in jobs:
            _run_job(job)
    files = [str(j.path.relative_to(root)) for j in jobs]
    files += _write_lists(layout, list_dir, root, names, per_class, groups, seed)
    manifest = {"params": params, "classes": names, "files": sorted(files)}
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    return result


def _write_lists(
    layout: str,
    list_dir: Path,
    root: Path,
    names: list[str],
    per_class: list[list[str]],
    groups: list[list[int]],
    seed: int,
) -> list[str]:
    written: list[Path] = []
    if layout == "ucf101":
        class_ind = "".join(f"{i + 1} {n}\n" for i, n in enumerate(names))
        written.append(list_dir / "classInd.txt")
        atomic_write_text(written[-1], class_ind, newline="\r\n")
        for k in (1, 2, 3):
            test_groups = range(7 * (k - 1) + 1, 7 * k + 1)
            train, test = [], []
            for ci, (vids, grps) in enumerate(zip(per_class, groups, strict=True)):
                for rel, grp in zip(vids, grps, strict=True):
                    if grp in test_groups:
                        test.append(f"{rel}\n")
                    else:
                        train.append(f"{rel} {ci + 1}\n")
            written.append(list_dir / f"trainlist0{k}.txt")
            atomic_write_text(written[-1], "".join(train), newline="\r\n")
            written.append(list_dir / f"testlist0{k}.txt")
            atomic_write_text(written[-1], "".join(test), newline="\r\n")
    else:
        for ci, (name, vids) in enumerate(zip(names, per_class, strict=True)):
            n = len(vids)
            n_test = max(1, round(0.3 * n))
            n_unused = n // 5 if n >= 5 else 0
            for k in (1, 2, 3):
                perm = torch.randperm(n, generator=_seeded(seed, ci, k, 3)).tolist()
                flags = ["1"] * n
                for p in perm[:n_test]:
                    flags[p] = "2"
                for p in perm[n_test : n_test + n_unused]:
                    flags[p] = "0"
                lines = "".join(
                    f"{Path(rel).name} {f} \n" for rel, f in zip(vids, flags, strict=True)
                )
                written.append(list_dir / f"{name}_test_split{k}.txt")
                atomic_write_text(written[-1], lines)
    return [str(p.relative_to(root)) for p in written]
