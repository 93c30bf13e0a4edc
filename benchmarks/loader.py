"""Training-clip loading throughput: tempaug vs pytorchvideo vs torchvision-UCF101-style decoding.

All three loaders produce the paper's training input (Section 4.1) from the same generated
UCF-101-layout AVI files (MPEG-4 Part 2, 320x240 like UCF-101 in the full run): 64 consecutive
frames at a random start (looped / repeated when the video is shorter), random short-side scale in
[160, 200], random 160x160 crop, horizontal flip p = 0.5, float32 normalized ``(T, C, H, W)``.

* ``tempaug``: :class:`tempaug.data.VideoClipDataset` (seek + decode only the clip's frames, resize
  inside libswscale's RGB conversion, crop/flip on uint8, normalize).
* ``pytorchvideo``: ``pytorchvideo.data.LabeledVideoDataset`` with
  ``make_clip_sampler("random", 64 / fps)``, ``decoder="pyav"``, and the same augmentations written
  with torch ops on its float ``(C, T, H, W)`` clip (``pytorchvideo.transforms`` does not import
  with current torchvision).
* ``torchvision-style``: what ``torchvision.datasets.UCF101`` did with ``read_video`` (removed
  from torchvision): decode the *whole* video to RGB with PyAV, then select the clip and apply the
  same torch-op augmentations.

Everything runs in one process with one torch thread: the numbers are clips/s *per DataLoader
worker*. Results: ``results/benchmarks/loader.{csv,md}`` (written atomically).

Paper-format rows (``results/benchmarks/loader_paper.{csv,md}``): the trainer's worker-side
dataset (``VideoClipDataset``, uint8 out, optional RandAugment-T N=2 M=10 temporal+ as
``tempaug.train.loaders.build_train_dataset`` builds it) on AVIs in UCF-101's real format
(MPEG-4 Part 2 with B-frames, one GOP of 250 frames, 320x240, 150 frames), written to a temporary
folder; clips per CPU-second give the CPU cores that keep one H200 fed (290 clips/s, the measured
55 ms per batch-16 step).

Usage: ``python benchmarks/loader.py [--quick] [--paper-only]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from tempaug.augment import RandAugmentT
from tempaug.data import VideoClipDataset, generate
from tempaug.data.transforms import normalize

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmarks"
DATA = ROOT / "data" / "bench"

CLIP_LEN, CROP, SCALE, MEAN, STD = 64, 160, (160, 200), (0.45,) * 3, (0.225,) * 3


def _torch_augment(video_tchw: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Scale jitter + crop + flip + normalize with torch ops on a float ``(T, C, H, W)`` in [0, 255]."""
    h, w = video_tchw.shape[-2:]
    s = int(torch.randint(SCALE[0], SCALE[1] + 1, (1,), generator=g))
    nh, nw = (s, round(w * s / h)) if h <= w else (round(h * s / w), s)
    x = F.interpolate(video_tchw, size=(nh, nw), mode="bilinear", align_corners=False)
    top = int(torch.randint(0, nh - CROP + 1, (1,), generator=g))
    left = int(torch.randint(0, nw - CROP + 1, (1,), generator=g))
    x = x[..., top : top + CROP, left : left + CROP]
    if float(torch.rand(1, generator=g)) < 0.5:
        x = x.flip(-1)
    return normalize(x / 255.0, MEAN, STD)


def _temporal(video_tchw: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """64 consecutive frames at a random start, looped when shorter."""
    n = video_tchw.shape[0]
    start = int(torch.randint(0, max(n - CLIP_LEN, 0) + 1, (1,), generator=g))
    idx = (start + torch.arange(CLIP_LEN)) % n
    return video_tchw[idx]


def tempaug_loader(
    table: pd.DataFrame, root: Path, n: int, output: str = "float"
) -> Iterator[torch.Tensor]:
    ds = VideoClipDataset(
        table, root, clip_len=CLIP_LEN, crop_size=CROP, scale_range=SCALE, output=output
    )
    order = torch.randperm(len(ds), generator=torch.Generator().manual_seed(1))
    for i in range(n):
        yield ds[int(order[i % len(ds)])][0]


def pytorchvideo_loader(
    table: pd.DataFrame, root: Path, n: int, fps: float
) -> Iterator[torch.Tensor]:
    from pytorchvideo.data import LabeledVideoDataset, make_clip_sampler

    g = torch.Generator().manual_seed(2)

    def transform(sample: dict) -> dict:
        video = sample["video"]  # float32 (C, T, H, W) in [0, 255]
        t = video.shape[1]
        idx = torch.linspace(0, t - 1, CLIP_LEN).round().long()  # UniformTemporalSubsample
        clip = video[:, idx].permute(1, 0, 2, 3)
        sample["video"] = _torch_augment(clip, g)
        return sample

    paths = [
        (str(root / v), {"label": int(lab)})
        for v, lab in zip(table.video, table.label, strict=True)
    ]
    ds = LabeledVideoDataset(
        paths,
        clip_sampler=make_clip_sampler("random", CLIP_LEN / fps),
        video_sampler=torch.utils.data.RandomSampler,
        transform=transform,
        decode_audio=False,
        decoder="pyav",
    )
    it = iter(ds)
    for _ in range(n):
        try:
            sample = next(it)
        except StopIteration:
            it = iter(ds)
            sample = next(it)
        yield sample["video"]


def torchvision_style_loader(table: pd.DataFrame, root: Path, n: int) -> Iterator[torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    videos = list(table.video)
    order = torch.randperm(len(videos), generator=torch.Generator().manual_seed(1))
    for i in range(n):
        path = root / videos[int(order[i % len(videos)])]
        with av.open(str(path)) as c:  # read_video: decode every frame to RGB
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        video = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
        clip = _temporal(video, g).float()
        yield _torch_augment(clip, g)


#: Clips per second one H200 trains at: batch 16 in the measured 55 ms per step (16 / 0.055).
H200_CLIPS_PER_S = 290.0


def write_paper_format_avi(path: Path, num_frames: int, seed: int) -> Path:
    """An AVI in UCF-101's format: MPEG-4 Part 2 (xvid-like), B-frames, GOP 250, 320x240, 25 fps.

    Content: a textured background panning under moving blobs (compresses like real footage,
    roughly UCF-101's bit rate), so decoding costs what it costs on the dataset.
    """
    h, w = 240, 320
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (h // 8, (w + 4 * num_frames) // 8, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(texture, 8, 0), 8, 1)
    yy, xx = np.mgrid[0:h, 0:w]
    with av.open(str(path), mode="w", format="avi") as c:
        s = c.add_stream("mpeg4", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.gop_size, s.codec_context.max_b_frames = 250, 2
        s.bit_rate = 600_000
        for i in range(num_frames):
            img = texture[:, 2 * i : 2 * i + w].copy()
            cy, cx = h / 2 + 60 * np.sin(i / 9 + seed), w / 2 + 100 * np.cos(i / 13 + seed)
            img[(yy - cy) ** 2 + (xx - cx) ** 2 < 900] = (200, 60 + seed * 20, 40)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return path


def paper_format_rows(
    videos: int = 6, frames: int = 150, n: int = 16, warmup: int = 2, repeats: int = 3
) -> list[dict]:
    """Clips per CPU-second of the trainer's worker-side dataset on real-format AVIs (median of
    ``repeats`` interleaved passes of ``n`` clips)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="tempaug-loader-paper-") as tmp:
        root = Path(tmp)
        names = [f"v{i}.avi" for i in range(videos)]
        for i, name in enumerate(names):
            write_paper_format_avi(root / name, frames, seed=i)
        table = pd.DataFrame({"video": names, "label": [i % 2 for i in range(videos)]})
        configs = {
            "tempaug, paper config (uint8 out)": None,
            "tempaug, paper config + RandAugment-T (N=2, M=10, temporal+)": RandAugmentT(
                num_ops=2, magnitude=10, mode="temporal+"
            ),
        }
        makers = {}
        for key, transform in configs.items():
            ds = VideoClipDataset(
                table,
                root,
                mode="train",
                clip_len=CLIP_LEN,
                crop_size=CROP,
                scale_range=SCALE,
                hflip_p=0.5,
                transform=transform,
                output="uint8",
                seed=0,
            )

            def make(k: int, ds: VideoClipDataset = ds) -> Iterator[torch.Tensor]:
                for i in range(k):
                    ds.set_epoch(i // len(ds))
                    yield ds[i % len(ds)][0]

            makers[key] = make
        walls: dict[str, list[float]] = {k: [] for k in makers}
        cpus: dict[str, list[float]] = {k: [] for k in makers}
        for _ in range(repeats):  # interleaved so machine noise hits both
            for key, make in makers.items():
                rate, cpu_rate = measure(make, n, warmup)
                walls[key].append(rate)
                cpus[key].append(cpu_rate)
                print(f"{key}: {rate:7.2f} clips/s, {cpu_rate:7.2f} clips/CPU-s", file=sys.stderr)
        for key in makers:
            cpu_rate = statistics.median(cpus[key])
            rows.append(
                {
                    "loader": key,
                    "clips_per_s_wall": round(statistics.median(walls[key]), 2),
                    "clips_per_cpu_s": round(cpu_rate, 2),
                    "cpu_min": round(min(cpus[key]), 2),
                    "cpu_max": round(max(cpus[key]), 2),
                    "cpu_cores_per_h200": round(H200_CLIPS_PER_S / cpu_rate, 1),
                    "clips_timed": n,
                    "repeats": repeats,
                    "videos": videos,
                    "video": f"320x240 mpeg4 AVI, B-frames 2, GOP 250, {frames} frames",
                    "clip": f"{CLIP_LEN}x{CROP}x{CROP} uint8",
                }
            )
    return rows


def write_paper_format(rows: list[dict]) -> None:
    """``results/benchmarks/loader_paper.{csv,md}``."""
    df = pd.DataFrame(rows)
    _write_atomic(OUT / "loader_paper.csv", df.to_csv(index=False))
    md = [
        "# Paper-config training clips on UCF-101-format AVIs (one worker, one thread)",
        "",
        f"{rows[0]['videos']} generated AVIs ({rows[0]['video']}; UCF-101 / HMDB-51's format), "
        f"the trainer's worker-side `VideoClipDataset` ({CLIP_LEN} frames, short side in "
        f"[{SCALE[0]}, {SCALE[1]}], {CROP}x{CROP} crop, flip, uint8 out: normalization runs on "
        f"the GPU); median of {rows[0]['repeats']} interleaved passes of "
        f"{rows[0]['clips_timed']} clips (min-max in brackets). CPU cores one H200 needs = "
        f"{H200_CLIPS_PER_S:.0f} clips/s (batch 16 in the measured 55 ms per step) / clips per "
        "CPU-second.",
        "",
        "| loader | clips/s (wall) | clips per CPU-second | CPU cores one H200 needs |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        md.append(
            f"| {r['loader']} | {r['clips_per_s_wall']:.2f} | {r['clips_per_cpu_s']:.2f} "
            f"[{r['cpu_min']:.2f}-{r['cpu_max']:.2f}] "
            f"| {r['cpu_cores_per_h200']:.1f} |"
        )
    md += [
        "",
        "CPU time is that of the benchmark process (robust to other jobs); wall-clock rates are "
        f"not (load average at the end of the run: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs).",
        "",
        f"Environment: torch {torch.__version__}, av {av.__version__}, "
        f"python {platform.python_version()}, torch threads 1.",
        "",
    ]
    _write_atomic(OUT / "loader_paper.md", "\n".join(md))
    print(df.to_string(index=False))


def measure(
    make: Callable[[int], Iterator[torch.Tensor]], n: int, warmup: int
) -> tuple[float, float]:
    """``(clips per wall-clock second, clips per CPU second of this process)``.

    CPU time (all threads of the process) is robust to other jobs on a shared machine and is what
    a worker on a dedicated core achieves when the loader is single-threaded.
    """
    for x in make(warmup):
        assert tuple(x.shape) == (CLIP_LEN, 3, CROP, CROP), x.shape
    t0, c0 = time.perf_counter(), time.process_time()
    count = 0
    for x in make(n):
        count += 1
        assert tuple(x.shape) == (CLIP_LEN, 3, CROP, CROP), x.shape
    return count / (time.perf_counter() - t0), count / (time.process_time() - c0)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small videos and few clips (smoke run)")
    ap.add_argument("--repeats", type=int, default=None, help="timed passes per loader")
    ap.add_argument(
        "--paper-only", action="store_true", help="only the paper-format rows (loader_paper.*)"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # one DataLoader worker
    write_paper_format(paper_format_rows(n=6 if args.quick else 16))
    if args.paper_only:
        return 0
    if args.quick:
        cfg = dict(num_classes=4, clips_per_class=4, frames=96, size=(120, 160))
        n, warmup, repeats = 16, 2, args.repeats or 1
    else:
        cfg = dict(num_classes=8, clips_per_class=5, frames=128, size=(240, 320))
        n, warmup, repeats = 60, 4, args.repeats or 3
    name = "quick" if args.quick else "full"
    cached = (DATA / name / ".tempaug-generated-ucf101.json").is_file()
    t0 = time.perf_counter()
    data = generate(DATA / name, "ucf101", seed=0, num_workers=2, **cfg)
    gen_s = time.perf_counter() - t0
    table = data.split(1)
    table = table[table.subset == "train"].reset_index(drop=True)
    fps = 25.0
    loaders = {
        "tempaug": lambda k: tempaug_loader(table, data.video_root, k),
        "tempaug (uint8 out)": lambda k: tempaug_loader(table, data.video_root, k, "uint8"),
        "pytorchvideo": lambda k: pytorchvideo_loader(table, data.video_root, k, fps),
        "torchvision-style": lambda k: torchvision_style_loader(table, data.video_root, k),
    }
    rates: dict[str, list[float]] = {k: [] for k in loaders}
    cpu_rates: dict[str, list[float]] = {k: [] for k in loaders}
    for _ in range(repeats):  # interleave loaders so machine noise hits all of them
        for key, make in loaders.items():
            rate, cpu_rate = measure(make, n, warmup)
            rates[key].append(rate)
            cpu_rates[key].append(cpu_rate)
            print(f"{key:>20}: {rate:7.2f} clips/s, {cpu_rate:7.2f} clips/CPU-s", file=sys.stderr)
    h, w = cfg["size"]
    rows = []
    base = statistics.median(rates["pytorchvideo"])
    cpu_base = statistics.median(cpu_rates["pytorchvideo"])
    for key, rs in rates.items():
        med = statistics.median(rs)
        cpu_med = statistics.median(cpu_rates[key])
        rows.append(
            {
                "loader": key,
                "clips_per_s_per_worker": round(med, 2),
                "min": round(min(rs), 2),
                "max": round(max(rs), 2),
                "speedup_vs_pytorchvideo": round(med / base, 2),
                "clips_per_cpu_s": round(cpu_med, 2),
                "cpu_speedup_vs_pytorchvideo": round(cpu_med / cpu_base, 2),
                "clips_timed": n,
                "repeats": repeats,
                "videos": len(table),
                "video_size": f"{w}x{h}",
                "nominal_frames": cfg["frames"],
                "clip": f"{CLIP_LEN}x{CROP}x{CROP}",
                "mode": name,
            }
        )
    df = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    _write_atomic(OUT / "loader.csv", df.to_csv(index=False))
    env = (
        f"torch {torch.__version__}, av {av.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, torch threads 1, {platform.processor() or platform.machine()}"
    )
    md = [
        "# Training-clip loading throughput (per DataLoader worker)",
        "",
        f"Generated UCF-101-layout dataset ({name} run): {len(table)} training videos, "
        f"{w}x{h} MPEG-4/AVI at 25 fps, lengths {cfg['frames'] // 2}-{3 * cfg['frames'] // 2} "
        f"frames ({'reused from an earlier run' if cached else f'generated in {gen_s:.0f} s'}; "
        f"`{DATA.relative_to(ROOT) / name}`). Each loader produces paper Section 4.1 "
        f"training clips ({CLIP_LEN} frames, short side in [{SCALE[0]}, {SCALE[1]}], "
        f"{CROP}x{CROP} crop, flip, normalized float32) in one process; median of {repeats} "
        f"passes of {n} clips after {warmup} warm-up clips.",
        "",
        "| loader | clips/s per worker (wall) | min | max | speed-up vs pytorchvideo "
        "| clips per CPU-second | speed-up (CPU time) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        md.append(
            f"| {r['loader']} | {r['clips_per_s_per_worker']:.2f} | {r['min']:.2f} | {r['max']:.2f} "
            f"| {r['speedup_vs_pytorchvideo']:.2f}x | {r['clips_per_cpu_s']:.2f} "
            f"| {r['cpu_speedup_vs_pytorchvideo']:.2f}x |"
        )
    md += [
        "",
        "tempaug: `VideoClipDataset` (seek to the clip, decode only its frames, resize inside the RGB "
        "conversion, crop/flip on uint8); `uint8 out` skips the normalization, which the trainer "
        "does on the GPU (`tempaug.data.transforms.normalize`). pytorchvideo: `LabeledVideoDataset` + "
        "`make_clip_sampler('random', 64/fps)` + `decoder='pyav'`, same augmentations as torch ops. "
        "torchvision-style: whole video decoded to RGB (as `torchvision.datasets.UCF101` with "
        "`read_video`, now removed from torchvision), then clip selection + the same torch ops.",
        "",
        "Wall-clock rates depend on what else runs on the machine; clips per CPU-second (CPU time "
        "of the benchmark process, all its threads) is the steadier per-worker figure on a shared "
        f"machine (load average at the end of the run: {os.getloadavg()[0]:.1f}).",
        "",
        f"Environment: {env}.",
        "",
    ]
    _write_atomic(OUT / "loader.md", "\n".join(md))
    print(df.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
