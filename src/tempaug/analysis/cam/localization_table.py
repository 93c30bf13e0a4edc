"""The temporal-localization table (beyond the paper; Sec. 4.6 shows only pictures).

One row per (run, CAM pathway selection) with the scores of
:func:`tempaug.analysis.cam.localization.summarize` and their 95 % bootstrap intervals, plus the
oracle and uniform reference rows; a caption that says which profile, data and spliced set
produced it (:func:`localization_caption`), written as CSV + Markdown like Tables 2–8.
:func:`score_runs` scores every run of notebook 50 and adds the reference rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from tempaug.analysis.cam.localization import (
    LocalizationScores,
    cut_range,
    evaluate_localization,
    oracle_profile,
    score_profiles,
    summarize,
)
from tempaug.analysis.cam.sources import DrawnClips
from tempaug.analysis.run_selection import (
    RunLike,
    checkpoint_path,
    in_table_order,
    load_trained_model,
    run_label,
)
from tempaug.analysis.tables.rendering import RenderedTable, data_note, write_table
from tempaug.analysis.tables.rows import recipe_labels, recipe_tables

__all__ = [
    "check_localization_csv",
    "format_ci",
    "localization_caption",
    "localization_display",
    "localization_row",
    "reference_rows",
    "score_runs",
    "write_localization",
]


def localization_row(
    method: str,
    table: str,
    scores: LocalizationScores,
    pathways: str,
    spec: RunLike | None = None,
    *,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    """One row: the run (empty for a reference row), its pathways and its summarized scores."""
    return {
        "table": table,
        "method": method,
        "recipe": spec.recipe if spec else "",
        "seed": spec.seed if spec else "",
        "run_id": spec.run_id if spec else "",
        "pathways": pathways,
        **summarize(scores, num_resamples=int(n_boot), seed=int(seed)),
    }


def reference_rows(
    cut: torch.Tensor, num_frames: int, *, tolerance: int, n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """The oracle map (1 on A's frames) and temporally uniform map rows, on the same cuts."""
    n = len(cut)
    return [
        localization_row(
            label,
            "—",
            score_profiles(profile, cut, tolerance=tolerance),
            "—",
            n_boot=n_boot,
            seed=seed,
        )
        for label, profile in (
            ("Oracle map (reference)", oracle_profile(cut, num_frames)),
            ("Uniform map (reference)", torch.ones(n, num_frames, dtype=torch.float64)),
        )
    ]


def score_runs(
    specs: Iterable[RunLike],
    models: Mapping[str, torch.nn.Module],
    checkpoints: Path,
    drawn: DrawnClips,
    labels: torch.Tensor,
    *,
    num_frames: int,
    pathways: Sequence[str],
    tolerance: int,
    transform: Callable[[torch.Tensor], torch.Tensor],
    first_seed: int,
    grid_points: int,
    n_boot: int,
    seed: int,
    device: str | torch.device,
) -> pd.DataFrame:
    """The localization table: every run's CAMs scored on the same spliced set, then the
    oracle and uniform reference rows.

    Runs come in the order of Tables 2–5, one row per pathway selection. A run of the first
    seed (not a grid point) uses its model from ``models`` (the figures' models, recipe → model)
    when there; any other is loaded from its checkpoint under ``checkpoints``.

    Args:
        specs: the runs scored.
        models: recipe → already loaded model of the first seed.
        checkpoints: the runs' checkpoint root.
        drawn: :func:`tempaug.analysis.cam.sources.draw_clips` with ``decode_spliced=True``.
        labels: ``(M,)`` labels of all validation sources.
        num_frames: frames per clip.
        pathways: selections scored (``"slow"``, ``"fast"``, ``"both"``).
        tolerance: frames of slack for a cut hit.
        transform: ``[0, 1]`` clips → the model's input.
        first_seed: the seed whose models ``models`` holds.
        grid_points: points of the RandAugment grid (labels name N and M when several).
        n_boot: bootstrap draws of each interval.
        seed: the bootstrap's seed.
        device: where the models run.
    """
    names, table_of = recipe_labels(), recipe_tables()
    boot = {"n_boot": int(n_boot), "seed": int(seed)}
    rows = []
    for spec in in_table_order(specs, list(table_of)):
        model = models.get(spec.recipe) if spec.seed == first_seed and not spec.grid_point else None
        if model is None:
            model = load_trained_model(checkpoint_path(checkpoints, spec), device=device)
        res = evaluate_localization(
            model, drawn.sources, labels[drawn.used], drawn.local_splice, transform=transform,
            pathways=pathways, tolerance=tolerance, batch_size=16, device=device,
        )  # fmt: skip
        label, table = run_label(spec, names, grid_points), table_of.get(spec.recipe, "?")
        rows += [localization_row(label, table, sc, pw, spec, **boot) for pw, sc in res.items()]
    rows += reference_rows(drawn.splice.cut, num_frames, tolerance=tolerance, **boot)
    return pd.DataFrame(rows)


def format_ci(row: Mapping[str, Any], key: str) -> str:
    """``"0.512 [0.401, 0.630]"``: ``row[key]`` with its ``_lo`` / ``_hi`` bounds."""
    return f"{row[key]:.3f} [{row[key + '_lo']:.3f}, {row[key + '_hi']:.3f}]"


def localization_display(loc: pd.DataFrame, tolerance: int) -> pd.DataFrame:
    """The string form of the table: intervals in brackets, chance levels beside them."""
    return pd.DataFrame(
        {
            "Table": loc["table"],
            "Method": loc["method"],
            "Seed": loc["seed"],
            "CAM pathways": loc["pathways"],
            "Mass in A [95 % CI]": [format_ci(r, "mass_in_a") for _, r in loc.iterrows()],
            "Uniform map": loc["mass_chance"].map("{:.3f}".format),
            f"Cut acc. (±{tolerance} fr.) [95 % CI]": [
                format_ci(r, "cut_acc") for _, r in loc.iterrows()
            ],
            "Chance": loc["cut_chance"].map("{:.3f}".format),
        }
    )


def localization_caption(
    params: Mapping[str, Any],
    *,
    num_spliced: int,
    num_frames: int,
    num_videos: int,
    tolerance: int,
    slow_stride: int,
    fast_stride: int,
    n_boot: int,
    seed: int,
) -> str:
    """The caption: what is scored, on which profile and data, and how the intervals are made."""
    profile = params["profile"]
    t = num_frames
    lo_cut, hi_cut = cut_range(t)
    return (
        f"Temporal localization of class-A CAMs on spliced A|B clips (beyond the paper; Sec. 4.6 "
        f"shows only pictures). Table 2–5 models, UCF-101 VIPriors train → validation; profile "
        f"`{profile['name']}`: {data_note(profile)}; {profile['backbone']}. {num_spliced} spliced "
        f"clips of {t} frames from {num_videos} validation videos (cut uniform in "
        f"[{lo_cut}, {hi_cut}], seed {seed}, the same clips for every model). Mass in A: share of "
        f"the class-A CAM's temporal profile on A's frames (uniform map = E[cut/T]). Cut acc.: "
        f"the largest standardised drop of the profile within ±{tolerance} frames of the cut "
        f"(chance = a uniformly random guess). CAM pathways: slow = the paper's slow pathway "
        f"({t // slow_stride} time step(s) here), both = slow + fast ({t // fast_stride} steps). "
        f"95 % percentile bootstrap over clips ({n_boot} replicates); "
        f"{len(params['seeds'])} training seed(s), one row per run."
    )


def write_localization(
    loc: pd.DataFrame, caption: str, tolerance: int, out_dir: str | Path
) -> tuple[Path, Path]:
    """Write ``localization.csv`` (numbers) and ``localization.md`` (display) to ``out_dir``."""
    rendered = RenderedTable(
        data=loc, display=localization_display(loc, tolerance), caption=caption
    )
    return write_table(rendered, out_dir, "localization")


def check_localization_csv(
    path: str | Path, specs: Iterable[RunLike], *, num_pathways: int, num_spliced: int
) -> pd.DataFrame:
    """Read back a written ``localization.csv`` and check it (fail loudly, not a broken table).

    Checks: one row per run and pathway selection plus the two references; the runs' recipes;
    the clip count; the oracle scores 1 and the uniform map its chance level and no cut hit;
    every interval contains its estimate.

    Returns:
        The table read back.

    Raises:
        ValueError: naming the first check that fails.
    """
    specs = list(specs)
    written = pd.read_csv(path, comment="#")
    ref = written[written["table"] == "—"].set_index("method")
    uniform = ref.loc["Uniform map (reference)"] if "Uniform map (reference)" in ref.index else None
    checks = {
        "one row per run and pathway selection, plus 2 references": len(written)
        == len(specs) * num_pathways + 2,
        "the runs' recipes": set(written["recipe"].dropna()) == {s.recipe for s in specs},
        f"{num_spliced} clips per row": bool((written["n_clips"] == num_spliced).all()),
        "oracle map scores 1": "Oracle map (reference)" in ref.index
        and ref.loc["Oracle map (reference)", ["mass_in_a", "cut_acc"]].tolist() == [1.0, 1.0],
        "uniform map at chance, never hits": uniform is not None
        and abs(uniform["mass_in_a"] - uniform["mass_chance"]) < 1e-9
        and uniform["cut_acc"] == 0,
    }
    for key in ("mass_in_a", "cut_acc"):
        checks[f"{key} within its interval"] = bool(
            (written[f"{key}_lo"] <= written[key] + 1e-9).all()
            and (written[key] <= written[f"{key}_hi"] + 1e-9).all()
        )
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise ValueError(f"{path}: checks failed: {failed}")
    return written
