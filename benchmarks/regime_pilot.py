"""A baseline pilot for the default profile's regime: one ucf101_val@baseline run with overrides.

The regime of the synthetic profile (epochs, width, clip geometry) was fixed from such runs
alone, before any augmentation was trained (params.yaml, the comment above ``synthetic``). Each
call trains one seed on the prepared data (``dvc repro prepare`` first) and appends a line to
``results/pilots/regime_pilots.jsonl``: the overrides, the running training top-1 of the last
epoch, the validation top-1 and the seconds in training.

    python benchmarks/regime_pilot.py NAME SEED '{"optim.epochs": 70, "model.kwargs.width": 6}'
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from tempaug import pipeline
from tempaug.pipeline.runs import RunSpec, execute_run

OUT = Path("results/pilots/regime_pilots.jsonl")


def main(name: str, seed: int, overrides: dict) -> dict:
    """Train the pilot, append its line to :data:`OUT` and return it."""
    params = pipeline.load_params("params.yaml")
    for dotted, value in overrides.items():
        node = params["profile"]["train"]
        *head, last = dotted.split(".")
        for key in head:
            node = node[key]
        node[last] = value
    folder = Path("/tmp/tempaug-pilots") / name
    start = time.perf_counter()
    record = execute_run(
        params,
        RunSpec("ucf101_val", "baseline", seed),
        splits_dir="results/data",
        results_dir=folder / "results",
        scratch_dir=folder / "scratch",
    )
    history = pd.read_csv(folder / "results" / record["run_id"] / "history.csv")
    timings = json.loads((folder / "scratch" / record["run_id"] / "timings.json").read_text())
    row = {
        "name": name,
        "seed": seed,
        **overrides,
        "train_top1_last": float(history["train_top1"].iloc[-1]),
        "val_top1": record["top1"],
        "wall_s": round(time.perf_counter() - start, 1),
        "train_s": round(timings["train_seconds"], 1),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    return row


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]))))
