"""Cost of the deleting / cut-and-paste / blending augmentations per training batch.

For every method of paper Section 3.2 (Table 1) on a float32 batch ``(16, 64, 3, 160, 160)``
(the paper's batch of 16 clips of 64 frames at 160x160), this times:

* ``vectorized``: ``tempaug.augment.build(name)(clips, labels, generator=g)``: parameter sampling
  plus the vectorized kernels (one mask / one ``torch.where`` or ``torch.lerp`` for the batch);
* ``reference``: the same parameter sampling, then a straightforward Python loop over the batch
  that slices each clip's region and blends it (``tempaug.augment._reference``): the way the
  authors' code and timm's ``elem`` mode build the mix.

Both produce the same output; the script checks that (bit-exact) before timing. Mixing methods
run with ``p=1`` (every batch mixed: the cost of a mix, not an average over the gate), in both
``mode="batch"`` (the paper's) and ``mode="elem"``; deleting methods draw one region per clip.
Each configuration runs with one torch thread and with all threads; the two implementations are
timed alternately, medians of ``--runs`` runs (>= 20 by default) after a warm-up. On a machine with
CUDA the same table is also produced on the GPU (synchronised timings).

Writes ``results/benchmarks/mix.csv`` and ``mix.md`` atomically (``--quick``: a small batch and
few runs, written to ``mix_quick.*`` instead, for smoke checks). Run ``python benchmarks/mix.py``
(``make bench``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _common import atomic_write, cpu_name

from tempaug.augment import DELETING_METHODS, MIXING_METHODS, build
from tempaug.augment._reference import reference_erase, reference_mix, reference_targets

ROOT = Path(__file__).resolve().parents[1]
NUM_CLASSES = 101  # UCF-101


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_pair(
    fn_a: Callable[[], object], fn_b: Callable[[], object], runs: int, device: torch.device
) -> tuple[float, float]:
    """Median wall time in ms of ``fn_a`` and ``fn_b``, timed alternately after one warm-up."""
    fn_a(), fn_b()
    times_a, times_b = [], []
    for _ in range(runs):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times_a), statistics.median(times_b)


def configurations() -> list[tuple[str, str]]:
    configs = [(name, "per-clip") for name in DELETING_METHODS]
    for name in MIXING_METHODS:
        configs += [(name, "batch"), (name, "elem")]
    return configs


def bench_one(
    name: str, mode: str, clips: torch.Tensor, labels: torch.Tensor, runs: int, seed: int
) -> tuple[float, float, bool]:
    """Return (vectorized ms, reference ms, identical) for one method and mode."""
    device = clips.device
    if name in DELETING_METHODS:
        aug = build(name)
        params = aug.draw_params(clips.shape, generator=torch.Generator().manual_seed(seed))
        identical = torch.equal(aug.transform(clips, params), reference_erase(clips, params))
        g_vec, g_ref = torch.Generator(), torch.Generator()
        g_vec.manual_seed(seed), g_ref.manual_seed(seed)

        def vectorized() -> object:
            return aug(clips, generator=g_vec)

        def reference() -> object:
            return reference_erase(clips, aug.draw_params(clips.shape, generator=g_ref))

    else:
        aug = build(name, num_classes=NUM_CLASSES, mode=mode, p=1.0)
        params = aug.draw_params(clips.shape, generator=torch.Generator().manual_seed(seed))
        out, targets = aug.transform(clips, params), aug.transform(labels, params)
        one_hot = torch.nn.functional.one_hot(labels, NUM_CLASSES).float()
        identical = torch.equal(out, reference_mix(clips, params)) and bool(
            torch.allclose(targets, reference_targets(one_hot, params), atol=1e-6, rtol=0)
        )
        g_vec, g_ref = torch.Generator(), torch.Generator()
        g_vec.manual_seed(seed), g_ref.manual_seed(seed)

        def vectorized() -> object:
            return aug(clips, labels, generator=g_vec)

        def reference() -> object:
            p = aug.draw_params(clips.shape, generator=g_ref)
            y = torch.nn.functional.one_hot(labels, NUM_CLASSES).float()
            return reference_mix(clips, p), reference_targets(y, p)

    vec_ms, ref_ms = time_pair(vectorized, reference, runs, device)
    return vec_ms, ref_ms, identical


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    args.load_start = load_average()
    shape = tuple(args.shape)
    all_threads = torch.get_num_threads()
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))
    g = torch.Generator().manual_seed(0)
    clips_cpu = torch.rand(shape, generator=g)
    labels_cpu = torch.randint(0, NUM_CLASSES, (shape[0],), generator=g)
    rows: list[dict[str, object]] = []
    for device in devices:
        clips, labels = clips_cpu.to(device), labels_cpu.to(device)
        thread_counts = sorted({1, all_threads}) if device.type == "cpu" else [all_threads]
        for threads in thread_counts:
            torch.set_num_threads(threads)
            for i, (name, mode) in enumerate(configurations()):
                vec_ms, ref_ms, identical = bench_one(name, mode, clips, labels, args.runs, i)
                row = {
                    "method": name,
                    "mode": mode,
                    "device": device.type,
                    "threads": threads if device.type == "cpu" else "",
                    "batch_shape": "x".join(map(str, shape)),
                    "dtype": "float32",
                    "runs": args.runs,
                    "vectorized_ms": round(vec_ms, 3),
                    "reference_ms": round(ref_ms, 3),
                    "speedup": round(ref_ms / vec_ms, 2),
                    "identical": identical,
                }
                rows.append(row)
                print(
                    f"{device.type:4s} threads={threads} {name:14s} {mode:8s} "
                    f"vectorized {vec_ms:9.2f} ms  reference {ref_ms:9.2f} ms  "
                    f"x{ref_ms / vec_ms:5.2f}  identical={identical}",
                    flush=True,
                )
        torch.set_num_threads(all_threads)
    args.load_end = load_average()
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def write_md(path: Path, rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    shape = "x".join(map(str, args.shape))
    gb = torch.Size(args.shape).numel() * 4 / 1e9
    gpu = (
        f"; GPU: {torch.cuda.get_device_name(0)}"
        if torch.cuda.is_available() and not args.cpu_only
        else "; no GPU"
    )
    lines = [
        "# Mixing / deleting cost per batch (`benchmarks/mix.py`)",
        "",
        f"- Machine: {cpu_name()}, {os.cpu_count()} logical CPUs{gpu}; "
        f"{platform.system()} {platform.release()}",
        f"- Software: Python {platform.python_version()}, torch {torch.__version__}",
        f"- 1-minute load average at start / end: {args.load_start} / {args.load_end} "
        "(other processes on the machine inflate the timings when it exceeds the CPU count)",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Input: float32 batch {shape} ({gb:.2f} GB), {NUM_CLASSES} classes; "
        f"median of {args.runs} runs after a warm-up, the two implementations timed alternately"
        + (" — **quick smoke run, not the benchmark**" if args.quick else ""),
        "- `vectorized`: `build(name, ...)(clips, labels, generator=g)` (sampling + kernels); "
        "`reference`: same sampling, then a Python loop over the batch slicing each clip "
        "(`tempaug.augment._reference`). `identical`: the two outputs are bit-equal for the "
        "same parameters. Mixing runs with `p=1` (every batch mixed).",
        "- `speedup` = reference / vectorized. ms are per batch (one call).",
        "",
        "| method | mode | device | threads | vectorized ms | reference ms | speedup | identical |",
        "|---|---|---|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['mode']} | {r['device']} | {r['threads']} | "
            f"{r['vectorized_ms']:.2f} | {r['reference_ms']:.2f} | {r['speedup']:.2f} | "
            f"{'yes' if r['identical'] else 'NO'} |"
        )
    lines.append("")
    atomic_write(path, "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small batch, 3 runs (smoke check)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per config (>= 20)")
    parser.add_argument(
        "--shape", type=int, nargs=5, default=None, metavar=("B", "T", "C", "H", "W")
    )
    parser.add_argument("--cpu-only", action="store_true", help="skip CUDA even if available")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    args = parser.parse_args(argv)
    if args.shape is None:
        args.shape = [4, 16, 3, 32, 32] if args.quick else [16, 64, 3, 160, 160]
    if args.runs is None:
        args.runs = 3 if args.quick else 20
    if args.runs < (1 if args.quick else 20):
        parser.error(f"--runs must be >= 20 (>= 1 with --quick), got {args.runs}")
    rows = run(args)
    stem = "mix_quick" if args.quick else "mix"
    write_csv(args.out_dir / f"{stem}.csv", rows)
    write_md(args.out_dir / f"{stem}.md", rows, args)
    print(f"wrote {args.out_dir / (stem + '.csv')} and {stem}.md")
    if not all(r["identical"] for r in rows):
        sys.exit("vectorized and reference outputs differ")


if __name__ == "__main__":
    main()
