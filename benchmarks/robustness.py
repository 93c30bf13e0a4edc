"""Where the robustness stage's time goes (notebook 60, ``tempaug.analysis.robustness``).

Prepares a small generated UCF-101 layout at the synthetic profile's clip size (32-frame,
32-px videos; 16-frame clips, stride 2; 2 views per video; ``slowfast_smoke`` width 8,
alpha 4, beta 1/2), then times, on one CPU thread, in process CPU time (the machine is shared, so wall time is noisy): decoding the validation views, each
perturbation at each severity, normalisation and one model's forward pass, per clip; and
the shared evaluation (:func:`~tempaug.analysis.robustness.evaluation.evaluate_models`) with
several random-weight models. Prints the breakdown and the extrapolated stage time for a regime
given on the command line (videos, views, severities, models).

Usage: ``python benchmarks/robustness.py [--videos 480] [--recipes 18] [--seeds 1 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from tempaug import pipeline
from tempaug.analysis import run_selection as rs
from tempaug.analysis.robustness import evaluation as rb
from tempaug.analysis.robustness import perturbations as pb
from tempaug.data.datasets import make_loader
from tempaug.data.transforms import normalize
from tempaug.models import build_model
from tempaug.train.loaders import build_eval_dataset, load_tables


def _params(root: Path, classes: int, per_class: int) -> dict:
    """Smoke params at the synthetic profile's clip geometry and model."""
    params = pipeline.smoke_params(pipeline.load_params(root / "params.yaml"))
    prof = params["profile"]
    prof["data"]["ucf101"] = {
        "num_classes": classes,
        "clips_per_class": per_class,
        "frames": 32,
        "size": 32,
    }
    prof["train"]["data"].update(clip_len=16, frame_stride=2)
    prof["train"]["model"] = {
        "name": "slowfast_smoke",
        "kwargs": {"width": 8, "alpha": 4, "beta_inv": 2, "dropout": 0.0},
    }
    prof["train"]["eval"].update(num_clips=2, batch_size=32)
    return params


def _timed(fn, *args, **kwargs):
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".")
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--per-class", type=int, default=12)
    ap.add_argument("--models", type=int, default=3, help="random models for the shared pass")
    ap.add_argument("--videos", type=int, default=480)
    ap.add_argument("--views", type=int, default=2)
    ap.add_argument("--severities", type=int, default=5)
    ap.add_argument("--recipes", type=int, default=18)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 3])
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = Path(args.root)
    params = _params(root, args.classes, args.per_class)
    tmp = Path(tempfile.mkdtemp(prefix="tempaug-bench-robustness-"))
    pipeline.prepare_data(
        params,
        data_dir=tmp / "data",
        splits_dir=tmp / "splits",
        project_root=root,
        full_scan=False,
    )
    planned = pipeline.planned_runs(params, ["ucf101_val"])
    spec = rs.table2to5_runs(planned, params["experiments"], "baseline")[0]
    cfg = pipeline.train_config(
        params, spec, splits_dir=tmp / "splits", out_dir=tmp / "run", project_root=root
    )
    table = load_tables(cfg.data, need_train=False).eval.reset_index(drop=True)
    ds = build_eval_dataset(cfg, table, num_clips=cfg.eval.num_clips, num_crops=1)
    loader = make_loader(ds, batch_size=32, train=False, seed=0, num_workers=0)
    batches, t_decode = _timed(lambda: [b for b in loader])
    n_clips = sum(int(b[0].shape[0]) for b in batches)
    views = torch.cat([b[0] for b in batches])  # (clips, 1 crop, T, C, H, W)
    print(f"{len(table)} validation videos, {n_clips} views, clip {tuple(views.shape[2:])}")
    per = {"decode (per view)": t_decode / n_clips}
    g = torch.Generator()
    t_pert = {}
    for name in pb.PERTURBATIONS:
        t0 = time.process_time()
        for sev in range(1, 6):
            for b in batches:
                pb.perturb(b[0], name, sev, generator=g.manual_seed(0))
        t_pert[name] = (time.process_time() - t0) / (5 * n_clips)
    per["perturb (per view·condition, mean)"] = sum(t_pert.values()) / len(t_pert)
    flat = views.flatten(0, 1)
    _, t_norm = _timed(lambda: [normalize(c, cfg.data.mean, cfg.data.std) for c in flat.split(64)])
    per["normalise (per view·condition)"] = t_norm / n_clips
    model = build_model(cfg.model.name, 10, **cfg.model.kwargs).eval()
    x = normalize(flat, cfg.data.mean, cfg.data.std)
    with torch.no_grad():
        model(x[:64])  # warm-up
        _, t_fwd = _timed(lambda: [model(c) for c in x.split(64)])
    per["forward (per view·condition·model)"] = t_fwd / n_clips
    for k, v in per.items():
        print(f"  {k:40s} {1e3 * v:8.3f} ms")
    for k, v in t_pert.items():
        print(f"    perturb {k:30s} {1e3 * v:8.3f} ms")
    # before/after on the same data: per-model passes (old) vs one shared pass (new)
    models = {
        f"m{i}": build_model(cfg.model.name, 10, **cfg.model.kwargs).eval()
        for i in range(args.models)
    }
    sevs = list(range(1, 6))
    kw = {"severities": sevs, "mean": cfg.data.mean, "std": cfg.data.std}
    n_cond = 1 + len(pb.PERTURBATIONS) * len(sevs)
    t0 = time.process_time()
    for name, m in models.items():
        rb.evaluate_robustness(m, loader, method=name, **kw)
    t_old = time.process_time() - t0
    _, t_new = _timed(rb.evaluate_models, models, loader, **kw)
    unit = n_clips * n_cond * args.models
    for label, t in (("per-model passes (old)", t_old), ("shared pass (new)", t_new)):
        print(
            f"{label:24s}: {args.models} models × {n_cond} conditions × {n_clips} views: "
            f"{t:6.2f} s = {1e3 * t / unit:.3f} ms per view·condition·model"
        )
    # extrapolation to the requested regime
    v = args.videos * args.views
    cond = 1 + len(pb.PERTURBATIONS) * args.severities
    shared_once = v * (
        per["decode (per view)"]
        + cond * per["perturb (per view·condition, mean)"]
        + cond * per["normalise (per view·condition)"]
    )
    for s in args.seeds:
        m = args.recipes * s
        new = shared_once + v * cond * m * per["forward (per view·condition·model)"]
        old = m * shared_once + v * cond * m * per["forward (per view·condition·model)"]
        print(
            f"regime {args.videos} videos × {args.views} views × {cond} conditions × {m} models "
            f"({args.recipes} recipes × {s} seeds): per-model path ≈ {old:.0f} s, "
            f"shared path ≈ {new:.0f} s"
        )


if __name__ == "__main__":
    main()
