"""``params.yaml``: reading it, checking it, and shrinking it to a smoke configuration.

``profile`` in ``params.yaml`` is the active profile (the ``synthetic`` default or the paper's
setting, Section 4.1); :func:`smoke_params` shrinks it to a seconds-long configuration for the
notebook tests.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "BENCHMARK_DIRS",
    "PROFILES",
    "PipelineError",
    "check_params",
    "load_params",
    "smoke_params",
]


#: Profiles a ``params.yaml`` may select.
PROFILES: tuple[str, ...] = ("synthetic", "paper")

#: Benchmark → folder name under ``results/runs``.
BENCHMARK_DIRS: dict[str, str] = {
    "ucf101_val": "ucf101_val",
    "hmdb51": "hmdb51",
    "vipriors_test": "vipriors_test",
}


class PipelineError(ValueError):
    """A ``params.yaml`` entry, a prepared-data file or a run request is invalid."""


def _need(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise PipelineError(f"params: missing key '{where}{key}'")
    return mapping[key]


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read and check ``params.yaml`` (YAML aliases resolved; ``profile`` is the active profile).

    Args:
        path: the parameter file.

    Returns:
        The parameters as plain nested dicts and lists.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        PipelineError: a required section is missing, ``profile.name`` is not one of
            :data:`PROFILES`, a recipe names an unknown method, or an experiment list names an
            unknown recipe (the message names the key).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"parameter file not found: {path}")
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(params, dict):
        raise PipelineError(f"{path}: must hold a mapping at top level")
    check_params(params)
    return params


def check_params(params: Mapping[str, Any]) -> None:
    """Validate the structure :func:`load_params` promises (see there for the errors)."""
    profile = _need(params, "profile", "")
    if not isinstance(profile, Mapping):
        raise PipelineError(
            "params: 'profile' must be the active profile mapping, e.g. `profile: *synthetic` "
            f"(a YAML alias of a `profiles:` entry), got {profile!r}"
        )
    name = _need(profile, "name", "profile.")
    if name not in PROFILES:
        raise PipelineError(f"params: profile.name must be one of {PROFILES}, got {name!r}")
    for key in ("data", "train", "test_eval", "randaug_grid", "randaug", "backbone"):
        _need(profile, key, "profile.")
    for key in ("num_ops", "magnitude"):
        grid = _need(profile["randaug_grid"], key, "profile.randaug_grid.")
        if not isinstance(grid, list) or not grid or not all(isinstance(v, int) for v in grid):
            raise PipelineError(
                f"params: profile.randaug_grid.{key} must be a non-empty list of ints"
            )
        if not isinstance(_need(profile["randaug"], key, "profile.randaug."), int):
            raise PipelineError(f"params: profile.randaug.{key} must be an int")
    nproc = profile.get("nproc_per_node", 1)
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise PipelineError(f"params: profile.nproc_per_node must be an int >= 1, got {nproc!r}")
    threads = profile.get("threads", 0)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise PipelineError(f"params: profile.threads must be an int >= 0, got {threads!r}")
    _check_seeds(_need(params, "seeds", ""), "seeds")
    hmdb = params.get("experiments", {}).get("hmdb51") or {}
    if "seeds" in hmdb:
        _check_seeds(hmdb["seeds"], "experiments.hmdb51.seeds")
    recipes = _need(params, "recipes", "")
    for rname, recipe in recipes.items():
        mix = _need(recipe, "mix", f"recipes.{rname}.")
        _need(mix, "method", f"recipes.{rname}.mix.")
        ra = _need(recipe, "randaug", f"recipes.{rname}.")
        if ra is not None:
            _need(ra, "mode", f"recipes.{rname}.randaug.")
        unknown = set(recipe) - {"randaug", "mix", "eval_every"}
        if unknown:
            raise PipelineError(
                f"params: recipes.{rname} has unknown keys {sorted(unknown)}; allowed: randaug, "
                "mix, eval_every"
            )
        every = recipe.get("eval_every", 0)
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise PipelineError(
                f"params: recipes.{rname}.eval_every must be an int >= 0 (epochs between "
                f"validations during training, 0: only the final evaluation), got {every!r}"
            )
    exps = _need(params, "experiments", "")
    for bench, spec in exps.items():
        if bench not in BENCHMARK_DIRS:
            raise PipelineError(
                f"params: experiments.{bench}: unknown benchmark; allowed {list(BENCHMARK_DIRS)}"
            )
        for group in ("grid", "plain", "randaug", "ensemble"):
            for r in spec.get(group, []):
                if r not in recipes:
                    raise PipelineError(
                        f"params: experiments.{bench}.{group} names unknown recipe {r!r}"
                    )
        for group in ("plain", "grid"):
            for r in spec.get(group, []):
                if recipes[r]["randaug"] is not None and group == "plain":
                    raise PipelineError(
                        f"params: experiments.{bench}.plain lists {r!r}, which uses RandAugment;"
                        " put it under 'randaug'"
                    )
        for r in spec.get("randaug", []) + spec.get("grid", []):
            if recipes[r]["randaug"] is None:
                raise PipelineError(
                    f"params: experiments.{bench}: {r!r} has no RandAugment; put it under 'plain'"
                )


def _check_seeds(seeds: Any, where: str) -> None:
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    ):
        raise PipelineError(
            f"params: '{where}' must be a non-empty list of ints >= 0, got {seeds!r}"
        )
    if len(set(seeds)) != len(seeds):
        raise PipelineError(f"params: '{where}' has repeated values {seeds}")


def smoke_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A seconds-long copy of ``params`` for notebook tests (nbval) and previews.

    The active profile becomes a shrunk synthetic profile: 3 classes, a handful of 16-frame 32-px
    clips (with the synthetic profile's nuisances), a 1-epoch tiny SlowFast, 1 evaluation view, one seed and one RandAugment grid point.
    Methods, recipes and experiment lists are kept (HMDB-51 on split 1 only), so every code path
    of the real matrix runs.
    The input is not modified.
    """
    check_params(params)
    out = copy.deepcopy(dict(params))
    synthetic = out.get("profiles", {}).get("synthetic")
    base = copy.deepcopy(synthetic if isinstance(synthetic, Mapping) else out["profile"])
    if base.get("name") != "synthetic":
        raise PipelineError("smoke_params needs a 'profiles.synthetic' entry to shrink")
    # the profile's nuisances are kept, so the smoke run renders them as the real one does
    nuisances = {
        k: {"nuisances": v["nuisances"]}
        for k, v in base["data"].items()
        if isinstance(v, Mapping) and "nuisances" in v
    }
    base["data"] = {
        "source": "synthetic",
        "seed": int(base["data"].get("seed", 0)),
        "ucf101": {"num_classes": 3, "clips_per_class": 6, "frames": 16, "size": 32},
        "hmdb51": {"num_classes": 3, "clips_per_class": 5, "frames": 16, "size": 32},
    }
    for k, v in nuisances.items():
        base["data"][k].update(v)
    train = copy.deepcopy(base["train"])
    train["data"] = {
        **train.get("data", {}),
        "clip_len": 16,
        "crop_size": 32,
        "scale_range": [32, 32],
        "num_workers": 0,
    }
    train["model"] = {"name": "slowfast_smoke", "kwargs": {"width": 8}}
    train["optim"] = {**train.get("optim", {}), "epochs": 1, "batch_size": 4, "warmup_epochs": 0}
    train["eval"] = {
        **train.get("eval", {}),
        "num_clips": 1,
        "num_crops": 1,
        "every": 0,
        "epoch_num_clips": 1,
    }
    train["runtime"] = {
        **train.get("runtime", {}),
        "device": "cpu",
        "amp": False,
        "progress": False,
    }
    base["train"] = train
    base["test_eval"] = {"num_clips": 1, "num_crops": 3}
    first = base["randaug"]
    base["randaug_grid"] = {"num_ops": [first["num_ops"]], "magnitude": [first["magnitude"]]}
    base["name"] = "synthetic"
    base["description"] = "smoke test: " + str(base.get("description", ""))
    out["profile"] = base
    out["seeds"] = [int(params["seeds"][0])]
    if "hmdb51" in out.get("experiments", {}):
        out["experiments"]["hmdb51"]["splits"] = [1]
        out["experiments"]["hmdb51"]["seeds"] = out["experiments"]["hmdb51"].get("seeds", [0])[:1]
    if "gallery" in out:
        out["gallery"] = {**out["gallery"], "frames": 4, "size": 64}
    return out
