"""Peak memory of each `paper`-profile stage on a small tree in the datasets' real format.

Writes a small UCF-101 + HMDB-51 tree as the end-to-end test does
(`tests/test_pipeline_real_format.py`: MPEG-4 part 2 AVIs with B-frames, 320×240 and 400×240,
one video shorter than a 64-frame clip, one truncated HMDB-51 video, the official folder
names and list files), sets the `paper` profile on it (SlowFast-50, 64-frame clips, 160²
crops; 1 epoch, small batches, `--workers` DataLoader workers, CPU) and runs each stage's work
in its own subprocess:

* `prepare` — `tempaug.pipeline.prepare_data` with `source: real` (full scan of the tree);
* `ucf101_val`, `hmdb51`, `vipriors_test` — one `tempaug.pipeline.execute_run` each (the
  last with the multi-view test evaluation, `test_eval`);
* `cam_figures` — a Fig. 5/6 column on the `ucf101_val` checkpoint: CAM sources, the MixUp
  mixture, CAMs of A and B, the figure saved (`tempaug.analysis.cam.figures.mixing_column`);
* `localization` — notebook 50's localization task on that checkpoint: the spliced set's
  sources decoded (`tempaug.analysis.cam.sources.draw_clips`), CAM cut localization scored
  (`tempaug.analysis.cam.localization.evaluate_localization`);
* `robustness` — `tempaug.analysis.robustness.evaluation.evaluate_checkpoints` on that
  checkpoint (three perturbations at one severity).

Memory: the parent polls the stage's whole process tree with psutil (the stage process, the
DataLoader forkserver and every worker under it) and records the peak of the summed PSS
(proportional set size: pages shared between processes — libraries, batches handed over in
/dev/shm — are split among them, so the sum is what the tree really holds), the main process's
and the helpers' peaks, the summed RSS (counts shared pages once per process) and the peak
growth of /dev/shm (machine-wide). The stage process also reports its own `ru_maxrss` (exact,
kernel-tracked, catches peaks between polls). `RUSAGE_CHILDREN` is not used: the workers are
grandchildren (children of the forkserver), the kernel keeps the largest single child rather
than a sum, and a fork+exec child inherits the parent's RSS at fork time (importing torch
alone makes it read ~470 MiB). Writes `results/benchmarks/memory.{csv,md}`.

Usage: ``python benchmarks/memory.py [--workers 2] [--batch 2] [--interval 0.2]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import atomic_write, cpu_name

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "benchmarks"
MIB = 1024 * 1024

#: Stage → (what the child runs, described for the table).
STAGES = {
    "prepare": "prepare_data, source: real (full scan, split tables, data report)",
    "ucf101_val": "execute_run ucf101_val/randaugt seed 0 (train + 1-view eval)",
    "hmdb51": "execute_run hmdb51/framecutmix_a5 split 1 seed 0 (train + 1-view eval)",
    "vipriors_test": "execute_run vipriors_test/baseline seed 0 (train + 1 clip × 3 crops test)",
    "cam_figures": "CAM sources + MixUp column (CAMs of A, B) on the ucf101_val checkpoint, figure",
    "localization": "CAM localization: 4 spliced A|B clips scored on the ucf101_val checkpoint",
    "robustness": "evaluate_checkpoints on the ucf101_val checkpoint, 3 perturbations × sev 3",
}
COLUMNS = [
    "stage",
    "peak_pss_mib",
    "peak_pss_main_mib",
    "peak_pss_workers_mib",
    "peak_pss_one_worker_mib",
    "peak_rss_sum_mib",
    "ru_maxrss_main_mib",
    "peak_processes",
    "peak_shm_mib",
    "seconds",
    "what",
    "tree",
]


# ---------------------------------------------------------------------------- the tree


def _write_tree(root: Path) -> dict:
    """The end-to-end test's tree (`tests/test_pipeline_real_format.py`) under ``root``."""
    sys.path.insert(0, str(REPO / "tests"))
    import test_pipeline_real_format as t

    t._ucf_tree(root)
    broken = t._hmdb_tree(root)
    videos = sorted(root.rglob("*.avi"))
    return {
        "videos": len(videos),
        "mib": sum(p.stat().st_size for p in videos) / MIB,
        "broken": broken,
        "ucf_classes": t.UCF_CLASSES,
        "hmdb_classes": t.HMDB_CLASSES,
    }


def _params(root: Path, workers: int, batch: int) -> dict:
    """The `paper` profile on the tree: its model, clip and crop; 1 epoch, small batches."""
    import test_pipeline_real_format as t

    return t.paper_params_for(root, workers=workers, batch=batch)


# ---------------------------------------------------------------------------- a stage (child)

_SPECS = {
    "ucf101_val": ("ucf101_val", "randaugt", None),
    "hmdb51": ("hmdb51", "framecutmix_a5", 1),
    "vipriors_test": ("vipriors_test", "baseline", None),
}


def _child(stage: str, work: Path) -> None:
    from tempaug import pipeline

    params = json.loads((work / "params.json").read_text())
    root = work / "tree"
    dirs = dict(splits_dir=work / "splits", project_root=root)
    info: dict = {}
    if stage == "prepare":
        out = pipeline.prepare_data(params, data_dir=work / "prepared", **dirs)
        info["rows"] = {k: len(v) for k, v in out.tables.items()}
    elif stage in _SPECS:
        bench, recipe, split = _SPECS[stage]
        spec = pipeline.RunSpec(bench, recipe, 0, split=split)
        rec = pipeline.execute_run(
            params, spec, results_dir=work / "results", scratch_dir=work / "runs", **dirs
        )
        info = {"views": rec["views"], "top1": rec["top1"]}
    elif stage == "cam_figures":
        info = _cam(params, work)
    elif stage == "localization":
        info = _localization(params, work)
    elif stage == "robustness":
        info = _robustness(params, work)
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    info["ru_maxrss_self_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (work / f"{stage}.json").write_text(json.dumps(info))


def _ucf_spec_cfg(params: dict, work: Path):
    from tempaug import pipeline
    from tempaug.analysis import run_selection as rs

    spec = pipeline.RunSpec(*_SPECS["ucf101_val"][:2], 0)
    cfg = pipeline.train_config(
        params,
        spec,
        splits_dir=work / "splits",
        out_dir=work / "runs" / spec.run_id,
        project_root=work / "tree",
    )
    return cfg, rs.checkpoint_path(work / "runs", spec)


def _cam(params: dict, work: Path) -> dict:
    """What notebook 50 does per figure model: sources, clips A and B, a mixing column."""
    from functools import partial

    from tempaug.analysis.cam import sources as cam_sources
    from tempaug.analysis.cam.figures import figure_mixer, mixing_column
    from tempaug.analysis.cam.overlay import mixing_cam_figure
    from tempaug.analysis.run_selection import load_trained_model
    from tempaug.data.transforms import normalize
    from tempaug.io import save_figure

    cfg, ckpt = _ucf_spec_cfg(params, work)
    src = cam_sources.validation_sources(cfg, seed=0)
    drawn = cam_sources.draw_clips(
        src.dataset,
        src.labels,
        list(src.table["class_name"]),
        num_spliced=4,
        seed=0,
        decode_spliced=False,  # task figures: clips A and B only
    )
    la, lb = int(src.labels[drawn.index_a]), int(src.labels[drawn.index_b])
    model = load_trained_model(ckpt, device="cpu")
    mixer = figure_mixer(params["recipes"]["mixup"], cfg.data.num_classes)
    column = mixing_column(
        model,
        mixer,
        drawn.clip_a,
        drawn.clip_b,
        la,
        lb,
        title="MixUp",
        transform=partial(normalize, mean=cfg.data.mean, std=cfg.data.std),
        seed=0,
        pathways="both",
    )
    fig = mixing_cam_figure(drawn.clip_a, drawn.clip_b, [column], max_frames=8)
    save_figure(fig, work / "figures" / "cam.png", dpi=100)
    return {"frames": int(drawn.clip_a.shape[0]), "spliced_sources": len(drawn.used)}


def _localization(params: dict, work: Path) -> dict:
    """What notebook 50 does per scored model (task localization): decode the spliced set's
    sources (all held in memory at once) and score the model's CAMs on the spliced clips."""
    from functools import partial

    from tempaug.analysis.cam import sources as cam_sources
    from tempaug.analysis.cam.localization import evaluate_localization
    from tempaug.analysis.run_selection import load_trained_model
    from tempaug.data.transforms import normalize

    cfg, ckpt = _ucf_spec_cfg(params, work)
    src = cam_sources.validation_sources(cfg, seed=0)
    drawn = cam_sources.draw_clips(
        src.dataset, src.labels, list(src.table["class_name"]), num_spliced=4, seed=0
    )
    model = load_trained_model(ckpt, device="cpu")
    res = evaluate_localization(
        model,
        drawn.sources,
        src.labels[drawn.used],
        drawn.local_splice,
        transform=partial(normalize, mean=cfg.data.mean, std=cfg.data.std),
        pathways=["slow", "both"],
        tolerance=model.fast_stride,
        batch_size=4,
        device="cpu",
    )
    per = drawn.sources[0].numel() * drawn.sources.element_size() / MIB
    return {
        "sources": len(drawn.used),
        "source_mib": round(per, 2),
        "dtype": str(drawn.sources.dtype),
        "pathways": sorted(res),
    }


def _robustness(params: dict, work: Path) -> dict:
    from tempaug.analysis.robustness import evaluation as rb

    cfg, ckpt = _ucf_spec_cfg(params, work)
    records = rb.evaluate_checkpoints(
        [rb.RobustnessRun("randaugt", 0, cfg, ckpt)],
        perturbations=["gaussian_noise", "frame_jitter", "shake"],
        severities=[3],
        device="cpu",
    )
    return {"records": len(records), "videos": int(records["video"].nunique())}


# ---------------------------------------------------------------------------- the parent


def _shm_used() -> int:
    try:
        return shutil.disk_usage("/dev/shm").used
    except OSError:
        return 0


def _measure(stage: str, work: Path, interval: float) -> dict:
    """Run one stage in a child process; poll its process tree's memory until it exits."""
    import psutil

    shm0 = _shm_used()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", stage, "--work", str(work)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log = work / f"{stage}.log"
    peak = {"pss": 0, "main": 0, "one": 0, "helpers": 0, "rss": 0, "procs": 0, "shm": 0}
    with open(log, "wb") as fh:
        os.set_blocking(proc.stdout.fileno(), False)
        root = psutil.Process(proc.pid)
        while True:
            chunk = proc.stdout.read()
            if chunk:
                fh.write(chunk)
            if proc.poll() is not None:
                break
            pss = rss = n = main = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                tree = []
            for p in tree:
                try:
                    m = p.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                pss, rss, n = pss + m.pss, rss + m.rss, n + 1
                if p.pid == proc.pid:
                    main = m.pss
                else:
                    peak["one"] = max(peak["one"], m.pss)
            peak["pss"] = max(peak["pss"], pss)
            peak["main"] = max(peak["main"], main)
            peak["helpers"] = max(peak["helpers"], pss - main)
            peak["rss"] = max(peak["rss"], rss)
            peak["procs"] = max(peak["procs"], n)
            peak["shm"] = max(peak["shm"], _shm_used() - shm0)
            time.sleep(interval)
        rest = proc.stdout.read()
        if rest:
            fh.write(rest)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stdout.write(log.read_text(errors="replace")[-4000:])
        raise SystemExit(f"stage {stage} failed with status {proc.returncode} (log: {log})")
    info = json.loads((work / f"{stage}.json").read_text())
    return {
        "stage": stage,
        "peak_pss_mib": peak["pss"] / MIB,
        "peak_pss_main_mib": peak["main"] / MIB,
        "peak_pss_workers_mib": peak["helpers"] / MIB,
        "peak_pss_one_worker_mib": peak["one"] / MIB,
        "peak_rss_sum_mib": peak["rss"] / MIB,
        "ru_maxrss_main_mib": info.pop("ru_maxrss_self_kib") / 1024,
        "peak_processes": peak["procs"],
        "peak_shm_mib": peak["shm"] / MIB,
        "seconds": seconds,
        "what": STAGES[stage],
        "info": info,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="DataLoader workers (paper: 8)")
    ap.add_argument("--batch", type=int, default=2, help="train and eval batch size")
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between memory polls")
    ap.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset")
    ap.add_argument("--keep", default="", help="keep the work folder here (default: temporary)")
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--work", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, Path(args.work))
        return 0
    stages = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise SystemExit(f"unknown stages {unknown}; known: {list(STAGES)}")
    tmp = None
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="tempaug-memory-")
        work = Path(tmp.name)
    try:
        t0 = time.perf_counter()
        tree = _write_tree(work / "tree")
        params = _params(work / "tree", args.workers, args.batch)
        (work / "params.json").write_text(json.dumps(params))
        tree_s = time.perf_counter() - t0
        size = (
            f"{tree['videos']} AVIs, {tree['mib']:.1f} MiB "
            f"(UCF-101 2 of 3 classes, HMDB-51 2 classes, 1 truncated)"
        )
        rows = []
        for stage in stages:
            row = _measure(stage, work, args.interval)
            row["tree"] = size
            rows.append(row)
            print(
                f"{stage:14s} PSS {row['peak_pss_mib']:7.0f} MiB  RSS sum "
                f"{row['peak_rss_sum_mib']:7.0f} MiB  main maxrss "
                f"{row['ru_maxrss_main_mib']:7.0f} MiB  {row['seconds']:6.1f} s  {row['info']}",
                flush=True,
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    total = time.perf_counter() - t0
    _write(rows, size, tree_s, total, args)
    return 0


def _write(rows: list[dict], size: str, tree_s: float, total: float, args) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(
            {k: (f"{v:.1f}" if isinstance(v, float) else v) for k, v in r.items() if k in COLUMNS}
        )
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write(OUT / "memory.csv", buf.getvalue())
    md = [
        f"# Peak memory per paper-profile stage — {cpu_name()}, {os.cpu_count()} cores\n",
        f"Tree: {size} (MPEG-4 part 2 AVIs with B-frames, official layouts and lists; written "
        f"in {tree_s:.0f} s). Paper profile's model and clip: SlowFast-50, 64 frames, 160² "
        f"crops; 1 epoch, batch {args.batch}, {args.workers} DataLoader workers (forkserver), "
        f"CPU. Each stage in its own process; whole benchmark {total:.0f} s.\n",
        "| stage | peak PSS, tree (MiB) | main process | helpers (sum) | largest helper "
        "| peak RSS sum (MiB) | ru_maxrss main (MiB) | processes | /dev/shm (MiB) | seconds "
        "| what was run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['stage']} | {r['peak_pss_mib']:.0f} | {r['peak_pss_main_mib']:.0f} "
        f"| {r['peak_pss_workers_mib']:.0f} | {r['peak_pss_one_worker_mib']:.0f} "
        f"| {r['peak_rss_sum_mib']:.0f} | {r['ru_maxrss_main_mib']:.0f} "
        f"| {r['peak_processes']} | {r['peak_shm_mib']:.0f} | {r['seconds']:.1f} | {r['what']} |"
        for r in rows
    ]
    loc = next((r["info"] for r in rows if r["stage"] == "localization"), None)
    md += [
        "",
        "Peak PSS, tree: the stage process, its forkserver and DataLoader workers (the "
        "helpers), polled every "
        f"{args.interval} s with psutil; PSS splits shared pages (libraries, batches in "
        "/dev/shm) among the processes that map them, so its sum is what the tree holds, while "
        "the RSS sum counts them once per process. Main process / helpers / largest helper: "
        "separate peaks (they need not add up). ru_maxrss main: the stage process's own "
        "kernel-recorded peak (catches peaks between polls; blind to the helpers). /dev/shm: "
        "peak growth of the machine-wide tmpfs during the stage.",
    ]
    if loc:
        md += [
            "",
            f"Localization holds every decoded source of its spliced set at once: "
            f"{loc['sources']} here, {loc['source_mib']} MiB each ({loc['dtype']}, 64×160²), "
            "so that stage grows with `num_spliced` (dvc.yaml: 128 spliced clips over up to "
            "512 videos, up to 256 sources ≈ 256 × that).",
        ]
    atomic_write(OUT / "memory.md", "\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    raise SystemExit(main())
