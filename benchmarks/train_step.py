"""Trainer overhead per training step, and how long the training loop waits for data.

Two measurements (paper Section 4.1 recipe, ``tempaug.train``):

* **step overhead**: the trainer's own loop (``_Trainer._train_epoch``: uint8 → device →
  normalize → model → soft-target cross-entropy → backward → Adam → per-iteration LR scheduler,
  metric accumulation, non-blocking NaN check, autocast + grad scaler on CUDA) fed with the same
  in-memory batch over and over, against a bare ``forward + backward + Adam step`` of the same
  model on the same (pre-normalized) tensors. ``overhead = trainer / bare`` (goal ≤ 1.05). The two
  are timed alternately (``--runs`` windows of ``--steps`` steps each, medians), so load drift on a
  shared machine hits both alike.
* **data wait**: real epochs over a generated video dataset (``tempaug.data.synthetic``, HMDB-51
  layout, decoded with PyAV by ``VideoClipDataset``) with 0 and 2 loader workers: the fraction of
  the loop's wall time spent blocked on the DataLoader (``history.csv``'s ``data_wait``) and the
  resulting time per step. The first epoch (worker start-up) is not counted.

Configurations: ``smoke`` (the default profile's ``slowfast_smoke``, 16×32² clips, batch 16) on
CPU (with one torch thread and with all threads) and CUDA; ``paper`` (SlowFast-50, 64×160² clips, batch 16, bf16/fp16 autocast,
``channels_last_3d``) on CUDA only (a CPU step takes minutes).

Each configuration is also timed with augmentation (``--augs``, default all of ``AUGS``): one
method per family of paper Table 1 (deleting, cut-and-paste, blending, blending + cut) and
RandAugment-T on the device batch, alone and before FrameCutMixUp; CPU rows always, CUDA rows
when a GPU is present.

Writes ``results/benchmarks/train.csv`` and ``train.md`` atomically; ``--quick`` (few steps,
smoke only) writes ``train_quick.*`` instead. Run ``python benchmarks/train_step.py``
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
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _common import cpu_name

from tempaug.augment._labels import one_hot_unchecked
from tempaug.data.splits import write_table
from tempaug.data.synthetic import generate
from tempaug.data.transforms import normalize
from tempaug.io import atomic_write_text
from tempaug.train import TrainConfig
from tempaug.train import distributed as D
from tempaug.train.runtime import build_network
from tempaug.train.trainer import _Trainer, soft_target_loss

ROOT = Path(__file__).resolve().parents[1]
BATCH = 16

CONFIGS: dict[str, dict[str, Any]] = {
    "smoke": {
        "model": "slowfast_smoke",
        "clip_len": 16,
        "crop_size": 32,
        "scale_range": [32, 36],
        "frame_stride": 2,
        "video_size": 32,
        "frames": 32,
    },
    "paper": {
        "model": "slowfast50",
        "clip_len": 64,
        "crop_size": 160,
        "scale_range": [160, 200],
        "frame_stride": 1,
        "video_size": 160,
        "frames": 64,
    },
}


_RANDAUG_T = {"num_ops": 2, "magnitude": 9, "mode": "temporal+"}  # paper Table 2's best mode
#: Augmentation rows (``aug`` section of the config): one per family of paper Table 1, and
#: RandAugment-T (Section 3.1) on the device batch, alone and before a mixing method.
AUGS: dict[str, dict[str, Any]] = {
    "none": {},
    "framecutout": {"mix": "framecutout"},  # deleting
    "framecutmix": {"mix": "framecutmix"},  # cut-and-paste
    "fademixup": {"mix": "fademixup"},  # blending
    "framecutmixup": {"mix": "framecutmixup"},  # blending + cut-and-paste
    "randaugt": {"randaugment": _RANDAUG_T, "augment_on": "device"},
    "randaugt+framecutmixup": {
        "randaugment": _RANDAUG_T,
        "augment_on": "device",
        "mix": "framecutmixup",
    },
}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_dataset(root: Path, spec: dict[str, Any], num_videos: int) -> tuple[Path, Path, Path]:
    """A generated HMDB-51-layout dataset; returns (video_root, train.csv, val.csv)."""
    per_class = max(3, num_videos // 4)
    ds = generate(
        root / f"videos_{spec['video_size']}_{spec['frames']}_{per_class}",
        "hmdb51",
        num_classes=4,
        clips_per_class=per_class,
        frames=spec["frames"],
        size=spec["video_size"],
        seed=0,
    )
    table = ds.split(1)
    train = table[table.subset == "train"].reset_index(drop=True)
    val = table[table.subset == "test"].reset_index(drop=True)
    tag = f"{spec['video_size']}_{per_class}"
    return (
        ds.video_root,
        write_table(train, root / f"train_{tag}.csv"),
        write_table(val, root / f"val_{tag}.csv"),
    )


def trainer_for(
    spec: dict[str, Any],
    data: tuple[Path, Path, Path],
    out: Path,
    device: str,
    workers: int,
    aug: str = "none",
) -> _Trainer:
    video_root, train_csv, val_csv = data
    cfg = TrainConfig.from_dict(
        {
            "seed": 0,
            "out_dir": str(out),
            "data": {
                "train_table": str(train_csv),
                "eval_table": str(val_csv),
                "video_root": str(video_root),
                "clip_len": spec["clip_len"],
                "frame_stride": spec["frame_stride"],
                "crop_size": spec["crop_size"],
                "scale_range": spec["scale_range"],
                "num_workers": workers,
            },
            "model": {"name": spec["model"]},
            "optim": {"epochs": 100, "batch_size": BATCH, "warmup_epochs": 1},
            "eval": {"every": 0},
            "aug": AUGS[aug],
            "runtime": {"device": device, "progress": False},
        }
    )
    ctx = D.setup(device)
    return _Trainer(cfg, ctx)


def step_overhead(trainer: _Trainer, steps: int, runs: int) -> tuple[float, float]:
    """Median ms/step of the trainer loop and of a bare step on the same batch."""
    device = trainer.device
    g = torch.Generator().manual_seed(0)
    t, c = trainer.cfg.data.clip_len, 3
    s = trainer.cfg.data.crop_size
    clips = torch.randint(0, 256, (BATCH, t, c, s, s), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, trainer.num_classes, (BATCH,), generator=g)
    if device.type == "cuda":
        clips = clips.pin_memory()
    batch = (clips, labels, torch.arange(BATCH))

    bare_model = build_network(
        trainer.model_name,
        trainer.model_kwargs,
        device,
        channels_last=trainer.cfg.runtime.channels_last,
    ).train()
    bare_opt = torch.optim.Adam(bare_model.parameters(), lr=1e-4, weight_decay=1e-5)
    x = normalize(clips.to(device), trainer.cfg.data.mean, trainer.cfg.data.std)
    targets = one_hot_unchecked(labels.to(device), trainer.num_classes)
    amp = trainer.amp_dtype
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)

    def bare() -> None:
        for _ in range(steps):
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                logits = bare_model(x)
            loss = soft_target_loss(logits, targets)
            bare_opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(bare_opt)
            scaler.update()

    def loop() -> None:
        trainer._train_epoch(0, batches=[batch] * steps)

    bare(), loop()  # warm-up (cuDNN autotuning, allocator, oneDNN primitives)
    t_bare, t_loop = [], []
    for _ in range(runs):
        for fn, times in ((bare, t_bare), (loop, t_loop)):
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times.append((time.perf_counter() - start) * 1e3 / steps)
    return statistics.median(t_loop), statistics.median(t_bare)


def data_wait(trainer: _Trainer, epochs: int) -> tuple[float, float]:
    """(mean data-wait fraction, ms per step) over real epochs after a warm-up epoch."""
    trainer._train_epoch(0)
    fractions, per_step = [], []
    for epoch in range(1, epochs + 1):
        synchronize(trainer.device)
        start = time.perf_counter()
        stats = trainer._train_epoch(epoch)
        synchronize(trainer.device)
        per_step.append((time.perf_counter() - start) * 1e3 / trainer.steps_per_epoch)
        fractions.append(stats["data_wait"])
    return statistics.mean(fractions), statistics.median(per_step)


def thread_settings(device: str, args: argparse.Namespace) -> list[int]:
    """CPU: one thread and all threads (as mix.py); CUDA: torch's default."""
    if args.threads is not None:
        return [args.threads]
    if device == "cuda":
        return [torch.get_num_threads()]
    return sorted({1, os.cpu_count() or 1})


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])
    default_threads = torch.get_num_threads()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(args.data_dir) if args.data_dir else Path(tmp)
        # The overhead loop feeds in-memory batches: these tables only build the trainer.
        tables = make_dataset(tmp_path, CONFIGS["smoke"], 32)
        loader_data = make_dataset(tmp_path, CONFIGS["smoke"], 32 if args.quick else 96)
        for device in devices:
            names = ["smoke"] if device == "cpu" or args.quick else ["smoke", "paper"]
            names = [n for n in names if args.configs is None or n in args.configs]
            for threads in thread_settings(device, args):
                torch.set_num_threads(threads)
                for name in names:
                    for aug in args.augs:
                        rows.append(
                            measure(device, name, threads, tables, loader_data, tmp_path, args, aug)
                        )
                        print(rows[-1], flush=True)
    torch.set_num_threads(default_threads)
    return rows


def measure(
    device: str,
    name: str,
    threads: int,
    tables: tuple[Path, Path, Path],
    loader_data: tuple[Path, Path, Path],
    tmp_path: Path,
    args: argparse.Namespace,
    aug: str = "none",
) -> dict[str, Any]:
    spec = CONFIGS[name]
    print(f"[{device}, {threads} threads] {name}, aug {aug}: step overhead", flush=True)
    trainer = trainer_for(spec, tables, tmp_path / "out", device, workers=0, aug=aug)
    loop_ms, bare_ms = step_overhead(trainer, args.steps, args.runs)
    row: dict[str, Any] = {
        "device": torch.cuda.get_device_name() if device == "cuda" else cpu_name(),
        "config": name,
        "model": spec["model"],
        "batch": BATCH,
        "clip": f"{spec['clip_len']}x{spec['crop_size']}x{spec['crop_size']}",
        "amp": str(trainer.amp_dtype).removeprefix("torch.") if trainer.amp_dtype else "off",
        "threads": threads,
        "bare_ms": round(bare_ms, 2),
        "trainer_ms": round(loop_ms, 2),
        "overhead": round(loop_ms / bare_ms, 3),
        "aug": aug,
    }
    del trainer
    if name == "smoke" and aug == "none" and not args.no_wait:
        for workers in (0, 2):
            print(f"[{device}, {threads} threads] {name}: data wait, {workers} workers", flush=True)
            trainer = trainer_for(spec, loader_data, tmp_path / "out", device, workers)
            frac, ms = data_wait(trainer, args.epochs)
            row[f"wait_w{workers}"] = round(frac, 3)
            row[f"loaded_ms_w{workers}"] = round(ms, 2)
            del trainer
    return row


COLUMNS = [
    "device",
    "config",
    "model",
    "batch",
    "clip",
    "amp",
    "threads",
    "bare_ms",
    "trainer_ms",
    "overhead",
    "wait_w0",
    "loaded_ms_w0",
    "wait_w2",
    "loaded_ms_w2",
    "aug",
]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in COLUMNS})
    atomic_write_text(path, buf.getvalue())


def write_md(path: Path, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    head = (
        "| device | config | batch × clip | amp | threads | bare step (ms) | trainer step (ms) "
        "| overhead | data wait, 0 workers | ms/step, 0 workers | data wait, 2 workers "
        "| ms/step, 2 workers | augmentation |"
    )
    lines = [
        "# Training step: trainer overhead and data-loader wait"
        + (" — **quick smoke run, not the benchmark**" if args.quick else ""),
        "",
        "Trainer loop (`tempaug.train`, paper Section 4.1 recipe) vs. a bare forward + backward +"
        " Adam step of the same model on the same batch (goal: overhead ≤ 1.05); medians of "
        f"{args.runs} alternating windows of {args.steps} steps after a warm-up. Data wait: "
        "fraction of the training loop blocked on the DataLoader over "
        f"{args.epochs} real epochs (after one warm-up epoch) of a **generated** video dataset "
        "(`tempaug.data.synthetic`, HMDB-51 layout, 32×42 AVI videos), and the resulting time per "
        "step. `augmentation`: the trainer's `aug` section (`none`; one method per family of "
        "paper Table 1 on the normalized device batch; `randaugt`: RandAugment-T, N=2, M=9, "
        "temporal+, on the uint8 device batch); the bare step never augments, so the overhead "
        "includes the augmentation's cost.",
        "",
        head,
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['device']} | {r['config']} ({r['model']}) | {r['batch']} × {r['clip']} "
            f"| {r['amp']} | {r['threads']} | {r['bare_ms']} | {r['trainer_ms']} "
            f"| {r['overhead']:.3f} | {r.get('wait_w0', '–')} | {r.get('loaded_ms_w0', '–')} "
            f"| {r.get('wait_w2', '–')} | {r.get('loaded_ms_w2', '–')} | {r.get('aug', 'none')} |"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += [
        "",
        "The smoke model's step is short, so fixed per-iteration costs (normalizing the uint8"
        " batch, the scheduler step, metric bookkeeping) weigh more than they do on the paper's"
        " clips. `threads` is torch's intra-op thread count (data-loader workers use one each); on"
        " a machine shared with other jobs, all-thread CPU timings inflate when OpenMP threads"
        f" contend for cores (load average at the end of this run: {load:.1f}).",
        "",
        f"Environment: torch {torch.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({cpu_name()}), "
        + (f"GPU {torch.cuda.get_device_name()}, " if torch.cuda.is_available() else "")
        + f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
    ]
    atomic_write_text(path, "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps, smoke config only")
    parser.add_argument("--steps", type=int, help="steps per timing window")
    parser.add_argument("--runs", type=int, help="timing windows per measurement")
    parser.add_argument("--epochs", type=int, help="real epochs for the data-wait measurement")
    parser.add_argument(
        "--threads", type=int, help="torch intra-op threads (default: 1 and all on CPU)"
    )
    parser.add_argument("--cpu-only", action="store_true", help="skip CUDA even if available")
    parser.add_argument(
        "--augs",
        nargs="+",
        choices=list(AUGS),
        help="augmentation rows (default: all; --quick: none, framecutmix, randaugt)",
    )
    parser.add_argument(
        "--configs", nargs="+", choices=list(CONFIGS), help="configs to run (default: all)"
    )
    parser.add_argument("--no-wait", action="store_true", help="skip the data-wait epochs")
    parser.add_argument("--data-dir", help="reuse generated videos here (default: a temp dir)")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    parser.add_argument("--stem", help="output file stem (default: train, or train_quick)")
    args = parser.parse_args(argv)
    args.steps = args.steps or (3 if args.quick else 10)
    args.runs = args.runs or (3 if args.quick else 7)
    args.epochs = args.epochs or (1 if args.quick else 3)
    args.augs = args.augs or (["none", "framecutmix", "randaugt"] if args.quick else list(AUGS))
    if min(args.steps, args.runs, args.epochs) < 1:
        parser.error("--steps, --runs and --epochs must be >= 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    rows = run(args)
    stem = args.stem or ("train_quick" if args.quick else "train")
    out = Path(args.out)
    write_csv(out / f"{stem}.csv", rows)
    write_md(out / f"{stem}.md", rows, args)
    print(f"wrote {out / stem}.csv and .md", file=sys.stderr)


if __name__ == "__main__":
    main()
