"""What the input checks of the public API cost: today's code against a named git revision.

The bad-input issue (28) added checks of layout, dtype, value range, labels, parameters and frame
indices to every public entry point, to be raised before any work. This script measures whether
they slowed the hot path down, the way ``make bench`` measures anything else: one run, the two
versions side by side, medians and ratios.

Each round starts one Python process per version (this checkout's ``src`` and a ``git worktree``
of ``--baseline``, the last commit before the checks), alternately and in an order that swaps
every round, so load drift on a shared machine hits both alike. A process times every entry
point below on the same inputs (fixed seeds) with one torch thread, ``--reps`` calls each after a
warm-up, and reports the medians; the ratio ``today / baseline`` is taken round by round and its
median (min–max over rounds) is the figure (> 1: today is slower).

Entry points, at the default profile's training geometry (batches of 16 clips of 16 frames,
32x32; one uint8 clip as a loader worker sees it):

* every method of paper Table 1 through ``tempaug.augment.build(name)(clips, labels)`` on a
  float32 batch (the mixing methods with ``p=1``: the cost of a mix, not of the gate);
* ``RandAugmentT(2, 9, "temporal+")`` on the uint8 clip (loader side) and on the float batch
  (device side, timed on the CPU);
* ``tempaug.data.VideoReader.read`` of 16 frames from a 64-frame MPEG-4 file written here.

Writes ``results/benchmarks/validation.{csv,md}`` atomically; ``--quick`` (two rounds, few reps)
writes ``validation_quick.*``. Run ``python benchmarks/validation.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import atomic_write, cpu_name

ROOT = Path(__file__).resolve().parents[1]
#: The parent of the first commit of the bad-input issue (75211bb, the reader's checks).
BASELINE = "75d1390"


# ----------------------------------------------------------------------------------------------
# One version's timings (runs in a child process with that version's src on sys.path)
# ----------------------------------------------------------------------------------------------


def _median_us(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def _write_video(path: Path, frames: int = 64, size: tuple[int, int] = (48, 64)) -> None:
    import av
    import numpy as np

    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def measure(reps: int, video: Path) -> dict[str, float]:
    """Median microseconds per call of every entry point, for the ``tempaug`` on ``sys.path``."""
    import torch

    from tempaug.augment import METHODS, RandAugmentT, build
    from tempaug.data import VideoReader

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    batch = torch.rand(16, 16, 3, 32, 32, generator=g)
    labels = torch.randint(0, 10, (16,), generator=g)
    clip = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8, generator=g)
    out: dict[str, float] = {}
    for name in (m for m in METHODS if m != "none"):
        kwargs = {"num_classes": 10, "p": 1.0} if "mix" in name else {}
        aug = build(name, **kwargs)
        gen = torch.Generator().manual_seed(1)
        out[name] = _median_us(lambda aug=aug, gen=gen: aug(batch, labels, generator=gen), reps)
    rand = RandAugmentT(2, 9, "temporal+")
    gen = torch.Generator().manual_seed(2)
    out["randaugment_t uint8 clip"] = _median_us(lambda: rand(clip, generator=gen), reps)
    out["randaugment_t float batch"] = _median_us(lambda: rand(batch, generator=gen), reps)
    indices = list(range(20, 36))
    with VideoReader(video) as reader:
        out["VideoReader.read 16 frames"] = _median_us(lambda: reader.read(indices), reps)
    return out


# ----------------------------------------------------------------------------------------------
# The comparison
# ----------------------------------------------------------------------------------------------


def _child(src: Path, reps: int, video: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, __file__, "--child", "--reps", str(reps), "--video", str(video)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(baseline: str, rounds: int, reps: int) -> pd.DataFrame:
    """Per entry point: medians of both versions and the round-by-round ratio today/baseline."""
    with tempfile.TemporaryDirectory(prefix="tempaug-validation-") as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), baseline],
            check=True,
        )
        try:
            video = Path(tmp) / "clip.avi"
            _write_video(video)
            runs: dict[str, list[dict[str, float]]] = {"today": [], "baseline": []}
            for r in range(rounds):
                order = ("today", "baseline") if r % 2 == 0 else ("baseline", "today")
                for version in order:
                    src = ROOT / "src" if version == "today" else tree / "src"
                    runs[version].append(_child(src, reps, video))
                    print(f"round {r + 1}/{rounds}: {version} done", flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
            )
    rows = []
    for entry in runs["today"][0]:
        today = [run[entry] for run in runs["today"]]
        base = [run[entry] for run in runs["baseline"]]
        ratios = [t / b for t, b in zip(today, base, strict=True)]
        rows.append(
            {
                "entry point": entry,
                "today us": statistics.median(today),
                "baseline us": statistics.median(base),
                "extra us": statistics.median(today) - statistics.median(base),
                "ratio": statistics.median(ratios),
                "ratio min": min(ratios),
                "ratio max": max(ratios),
            }
        )
    return pd.DataFrame(rows)


def write(table: pd.DataFrame, args: argparse.Namespace, started: str, load: tuple) -> Path:
    stem = "validation_quick" if args.quick else "validation"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / f"{stem}.csv", table.to_csv(index=False, float_format="%.4f"))
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    load_end = os.getloadavg()
    lines = [
        "# Input checks of the public API: today's code vs the last commit before them",
        "",
        f"Generated by `benchmarks/validation.py` on {started}.",
        "",
        f"- Machine: {cpu_name()} ({os.cpu_count()} logical CPUs); one torch thread. Load "
        f"average (1 min) {load[0]:.1f} at the start, {load_end[0]:.1f} at the end.",
        f"- Today: this checkout (`{head}`, with any uncommitted edits); baseline: "
        f"`{args.baseline}`. {args.rounds} rounds, one process per version each, in an order "
        f"that swaps every round; {args.reps} calls per entry point and process (medians).",
        "- Inputs: float32 batch (16, 16, 3, 32, 32), 10 classes, uint8 clip (16, 3, 32, 32); "
        "mixing methods with p = 1; `VideoReader.read` of 16 frames (64-frame MPEG-4, 64x48).",
        "- ratio = today / baseline, taken round by round: median (min – max over rounds); "
        "> 1 means today is slower. The spread over rounds is the noise of this machine. "
        "extra us = today − baseline (medians), to hold against a training step of the "
        "default profile ([train.md](train.md)).",
        "",
        table.to_markdown(index=False, floatfmt=".2f"),
        "",
    ]
    ratios = table["ratio"]
    lines.append(
        f"- Median ratio over the {len(table)} entry points: {ratios.median():.3f}; "
        f"largest: {ratios.max():.3f} ({table.loc[ratios.idxmax(), 'entry point']}); "
        f"largest extra time per call: {table['extra us'].max():.0f} us."
    )
    lines.append("")
    atomic_write(out / f"{stem}.md", "\n".join(lines))
    return out / f"{stem}.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=None, help="process pairs (default 7)")
    parser.add_argument("--reps", type=int, default=None, help="calls per entry (default 200)")
    parser.add_argument("--quick", action="store_true", help="2 rounds, 10 reps (smoke check)")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--video", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 7)
    args.reps = args.reps or (10 if args.quick else 200)
    if args.rounds < 1 or args.reps < 1:
        parser.error("--rounds and --reps must be >= 1")
    if args.child:
        print(json.dumps(measure(args.reps, Path(args.video))))
        return
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    table = compare(args.baseline, args.rounds, args.reps)
    print(table.to_string(index=False))
    print(f"wrote {write(table, args, started, load)}")


if __name__ == "__main__":
    main()
