"""Glue of the reproduction pipeline: ``params.yaml`` → prepared data → one run → run record.

The notebooks (and ``dvc.yaml``, through them) stay thin by calling these functions:

* :func:`load_params` reads ``params.yaml`` (its ``profile`` is the active profile: the
  ``synthetic`` default or the paper's setting, Section 4.1) and :func:`smoke_params` shrinks it
  to a seconds-long configuration for notebook tests;
* :func:`prepare_data` generates (synthetic) or locates (paper) UCF-101 and HMDB-51 and writes
  the split tables — VIPriors mod-UCF101 train/validation/test and HMDB-51 splits 1–3 — and a
  data report;
* :func:`planned_runs` enumerates the experiment matrix of Tables 2–7 (the same runs
  ``dvc.yaml`` declares; a test checks they agree) as :class:`RunSpec` objects;
* :func:`train_config` turns a run into a :class:`tempaug.train.TrainConfig` and
  :func:`execute_run` trains and evaluates it, then publishes ``metrics.json``, ``history.csv``,
  ``scores.csv`` and the run record ``run.json`` (read by :mod:`tempaug.analysis.tables`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tempaug.io import atomic_write_bytes, atomic_write_text

__all__ = [
    "BENCHMARK_DIRS",
    "PROFILES",
    "PipelineError",
    "PreparedData",
    "RunSpec",
    "check_params",
    "ensure_runs",
    "execute_run",
    "load_params",
    "load_prepared",
    "planned_runs",
    "prepare_data",
    "run_dir",
    "smoke_params",
    "train_config",
]

#: Profiles a ``params.yaml`` may select.
PROFILES: tuple[str, ...] = ("synthetic", "paper")

#: Benchmark → folder name under ``results/runs`` (HMDB-51 gets ``-split<k>`` appended).
BENCHMARK_DIRS: dict[str, str] = {
    "ucf101_val": "ucf101_val",
    "hmdb51": "hmdb51",
    "vipriors_test": "vipriors_test",
}

_RUN_FILES = ("metrics.json", "history.csv", "scores.csv", "config.yaml")


class PipelineError(ValueError):
    """A ``params.yaml`` entry, a prepared-data file or a run request is invalid."""


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


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
    threads = profile.get("threads", 0)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise PipelineError(f"params: profile.threads must be an int >= 0, got {threads!r}")
    seeds = _need(params, "seeds", "")
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and s >= 0 for s in seeds)
    ):
        raise PipelineError(f"params: 'seeds' must be a non-empty list of ints >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise PipelineError(f"params: 'seeds' has repeated values {seeds}")
    recipes = _need(params, "recipes", "")
    for rname, recipe in recipes.items():
        mix = _need(recipe, "mix", f"recipes.{rname}.")
        _need(mix, "method", f"recipes.{rname}.mix.")
        ra = _need(recipe, "randaug", f"recipes.{rname}.")
        if ra is not None:
            _need(ra, "mode", f"recipes.{rname}.randaug.")
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


def smoke_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A seconds-long copy of ``params`` for notebook tests (nbval) and previews.

    The active profile becomes a shrunk synthetic profile: 3 classes, a handful of 16-frame 32-px
    clips, a 1-epoch tiny SlowFast, 1 evaluation view, one seed and one RandAugment grid point.
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
    base["data"] = {
        "source": "synthetic",
        "seed": int(base["data"].get("seed", 0)),
        "ucf101": {"num_classes": 3, "clips_per_class": 6, "frames": 16, "size": 32},
        "hmdb51": {"num_classes": 3, "clips_per_class": 5, "frames": 16, "size": 32},
    }
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
    if "gallery" in out:
        out["gallery"] = {**out["gallery"], "frames": 4, "size": 64}
    return out


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    """One training run of the matrix: benchmark, split, recipe, seed (and grid point).

    Attributes:
        benchmark: ``ucf101_val`` (VIPriors train → validation), ``hmdb51`` (official split) or
            ``vipriors_test`` (train+validation → test).
        recipe: a key of ``params.yaml:recipes``.
        seed: the run's seed.
        split: HMDB-51 split 1..3 (``None`` for the UCF-101 benchmarks).
        num_ops: RandAugment N of a Table 2 grid point (``None``: the profile's ``randaug``).
        magnitude: RandAugment M of a Table 2 grid point.
    """

    benchmark: str
    recipe: str
    seed: int
    split: int | None = None
    num_ops: int | None = None
    magnitude: int | None = None

    def __post_init__(self) -> None:
        if self.benchmark not in BENCHMARK_DIRS:
            raise PipelineError(
                f"benchmark must be one of {list(BENCHMARK_DIRS)}, got {self.benchmark!r}"
            )
        if not re.fullmatch(r"[a-z0-9_]+", str(self.recipe)):
            raise PipelineError(f"recipe must be a lowercase identifier, got {self.recipe!r}")
        if self.benchmark == "hmdb51":
            if self.split not in (1, 2, 3):
                raise PipelineError(f"split must be 1, 2 or 3 for hmdb51, got {self.split!r}")
        elif self.split is not None:
            raise PipelineError(f"split must be None for {self.benchmark}, got {self.split!r}")
        if (self.num_ops is None) != (self.magnitude is None):
            raise PipelineError("num_ops and magnitude must be given together (a grid point)")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise PipelineError(f"seed must be an int >= 0, got {self.seed!r}")

    @property
    def grid_point(self) -> bool:
        """Whether this run is a Table 2 grid point (explicit N and M)."""
        return self.num_ops is not None

    @property
    def run_id(self) -> str:
        """``<benchmark>[-split<k>]/<recipe>[-n<N>-m<M>]/seed<s>`` — also its folder."""
        bench = BENCHMARK_DIRS[self.benchmark] + (f"-split{self.split}" if self.split else "")
        recipe = self.recipe + (f"-n{self.num_ops}-m{self.magnitude}" if self.grid_point else "")
        return f"{bench}/{recipe}/seed{self.seed}"


def planned_runs(
    params: Mapping[str, Any], benchmarks: Sequence[str] | None = None
) -> list[RunSpec]:
    """Every run of the experiment matrix (Tables 2–7), in ``dvc.yaml`` order.

    ``ucf101_val``: the Table 2 grid (``grid`` recipes × N × M), ``plain`` and ``randaug``
    recipes; ``hmdb51``: splits × (``plain`` + ``randaug``); ``vipriors_test``: ``plain`` +
    ``randaug``; each × ``seeds``.

    Args:
        params: from :func:`load_params`.
        benchmarks: restrict to these benchmarks.
    """
    exps = params["experiments"]
    seeds = params["seeds"]
    grid = params["profile"]["randaug_grid"]
    runs: list[RunSpec] = []
    wanted = list(BENCHMARK_DIRS) if benchmarks is None else list(benchmarks)
    for bench in wanted:
        if bench not in BENCHMARK_DIRS:
            raise PipelineError(f"benchmarks must be among {list(BENCHMARK_DIRS)}, got {bench!r}")
    if "ucf101_val" in wanted and "ucf101_val" in exps:
        e = exps["ucf101_val"]
        for r in e.get("grid", []):
            for n in grid["num_ops"]:
                for m in grid["magnitude"]:
                    runs += [RunSpec("ucf101_val", r, s, num_ops=n, magnitude=m) for s in seeds]
        for r in e.get("plain", []) + e.get("randaug", []):
            runs += [RunSpec("ucf101_val", r, s) for s in seeds]
    if "hmdb51" in wanted and "hmdb51" in exps:
        e = exps["hmdb51"]
        for k in e.get("splits", [1, 2, 3]):
            for r in e.get("plain", []) + e.get("randaug", []):
                runs += [RunSpec("hmdb51", r, s, split=int(k)) for s in seeds]
    if "vipriors_test" in wanted and "vipriors_test" in exps:
        e = exps["vipriors_test"]
        for r in e.get("plain", []) + e.get("randaug", []):
            runs += [RunSpec("vipriors_test", r, s) for s in seeds]
    return runs


def run_dir(results_root: str | Path, spec: RunSpec) -> Path:
    """Folder of a run's published files: ``results_root/<run_id>``."""
    return Path(results_root) / spec.run_id


# ---------------------------------------------------------------------------------------------
# Data preparation
# ---------------------------------------------------------------------------------------------


def _atomic_copy(src: Path, dst: Path) -> None:
    atomic_write_bytes(dst, src.read_bytes())


@dataclass(frozen=True)
class PreparedData:
    """Where :func:`prepare_data` put things.

    Attributes:
        splits_dir: split tables (``ucf101_vipriors.csv``, ``hmdb51_split{1,2,3}.csv``),
            ``datasets.json`` (video roots, class names) and the data report.
        tables: name → split table.
        datasets: dataset → ``{"video_root", "num_classes", "classes"}``.
        report: one row per (dataset, video) checked, as :func:`tempaug.data.video.scan`.
    """

    splits_dir: Path
    tables: dict[str, pd.DataFrame]
    datasets: dict[str, dict[str, Any]]
    report: pd.DataFrame


def _select_classes(table: pd.DataFrame, classes: Sequence[str] | None) -> pd.DataFrame:
    """Keep the rows of ``classes`` and relabel them ``0..K-1`` in the order given (a copy)."""
    if not classes:
        return table
    known = list(table.attrs.get("classes", sorted(set(table["class_name"]))))
    missing = [c for c in classes if c not in known]
    if missing:
        raise PipelineError(
            f"params: profile.data.classes: {missing} not in the dataset's classes {known}"
        )
    if len(set(classes)) != len(classes):
        raise PipelineError(f"params: profile.data.classes has repeated names: {list(classes)}")
    index = {c: i for i, c in enumerate(classes)}
    out = table[table["class_name"].isin(index)].copy()
    out["label"] = out["class_name"].map(index).astype("int64")
    out = out.reset_index(drop=True)
    out.attrs = {"classes": list(classes), "num_classes": len(classes)}
    return out


def _real_path(profile: Mapping[str, Any], key: str, project_root: Path) -> Path:
    value = profile["data"].get(key)
    if not value:
        raise PipelineError(f"params: profiles.{profile['name']}.data.{key} is not set")
    path = Path(value)
    path = path if path.is_absolute() else project_root / path
    if not path.exists():
        raise FileNotFoundError(
            f"params: profiles.{profile['name']}.data.{key} = {value!r} does not exist ({path}); "
            "point it at the unpacked dataset"
        )
    return path


def prepare_data(
    params: Mapping[str, Any],
    *,
    data_dir: str | Path,
    splits_dir: str | Path,
    project_root: str | Path = ".",
    full_scan: bool = True,
    num_threads: int = 2,
) -> PreparedData:
    """Generate or locate the datasets and write split tables and a data report (Sec. 4.1).

    Synthetic profile: :func:`tempaug.data.synthetic.generate` writes UCF-101- and
    HMDB-51-layout datasets under ``data_dir`` (idempotent). Paper profile: the dataset roots and
    list folders of ``profile.data`` are used in place. Then the official lists are parsed: the
    VIPriors mod-UCF101 split (train / validation / test) and HMDB-51 splits 1–3; every listed
    video is decoded once (:func:`tempaug.data.video.scan`) for the report.

    Writes, under ``splits_dir``: ``ucf101_vipriors.csv``, ``hmdb51_split{1,2,3}.csv``,
    ``datasets.json``, ``class_counts.csv`` (videos per class and subset), ``unreadable.csv``
    and ``data_report.md``. Every file is written atomically.

    Raises:
        FileNotFoundError: a paper-profile path is missing (the message names the parameter).
        PipelineError: ``profile.data.source`` is neither ``synthetic`` nor ``real``.
    """
    from tempaug.data import splits as sp
    from tempaug.data import video

    profile = params["profile"]
    project_root = Path(project_root)
    data_dir, splits_dir = Path(data_dir), Path(splits_dir)
    source = profile["data"].get("source")
    classes = profile["data"].get("classes")
    if source == "synthetic":
        from tempaug.data import synthetic

        seed = int(profile["data"].get("seed", 0))
        per_layout = {}
        for layout in ("ucf101", "hmdb51"):
            kwargs = dict(profile["data"][layout])
            if classes:
                unknown = [c for c in classes if c not in synthetic.CLASSES]
                if unknown:
                    raise PipelineError(
                        f"params: profile.data.classes has unknown class(es) {unknown}; "
                        f"generated classes are {list(synthetic.CLASSES)}"
                    )
                # generate the classes up to the last one chosen, then keep the chosen ones
                kwargs["num_classes"] = 1 + max(synthetic.CLASSES.index(c) for c in classes)
            per_layout[layout] = synthetic.generate(data_dir / layout, layout, seed=seed, **kwargs)
        ucf_root, ucf_lists = per_layout["ucf101"].video_root, per_layout["ucf101"].list_dir
        hmdb_root, hmdb_lists = per_layout["hmdb51"].video_root, per_layout["hmdb51"].list_dir
        if classes:
            hmdb_names = synthetic.class_names("hmdb51", len(synthetic.CLASSES))
            hmdb_classes = [hmdb_names[synthetic.CLASSES.index(c)] for c in classes]
        else:
            hmdb_classes = None
        classes_by_layout = {"ucf101": classes, "hmdb51": hmdb_classes}
    elif source == "real":
        ucf_root = _real_path(profile, "ucf101_root", project_root)
        ucf_lists = _real_path(profile, "ucf101_lists", project_root)
        hmdb_root = _real_path(profile, "hmdb51_root", project_root)
        hmdb_lists = _real_path(profile, "hmdb51_splits", project_root)
        atomic_write_text(
            data_dir / "README.md",
            f"Profile `{profile['name']}` uses the real datasets in place:\n\n"
            f"- UCF-101: {ucf_root} (lists: {ucf_lists})\n- HMDB-51: {hmdb_root} (splits: {hmdb_lists})\n",
        )
    else:
        raise PipelineError(
            f"params: profile.data.source must be 'synthetic' or 'real', got {source!r}"
        )

    if source == "real":
        classes_by_layout = {"ucf101": classes, "hmdb51": classes}
    tables = {
        "ucf101_vipriors": _select_classes(
            sp.vipriors_ucf101(ucf_lists), classes_by_layout["ucf101"]
        )
    }
    for k in (1, 2, 3):
        tables[f"hmdb51_split{k}"] = _select_classes(
            sp.hmdb51(hmdb_lists, k), classes_by_layout["hmdb51"]
        )

    def rel(p: Path) -> str:
        p = Path(p)
        try:
            return str(p.resolve().relative_to(project_root.resolve()))
        except ValueError:
            return str(p.resolve())

    datasets = {
        "ucf101": {
            "video_root": rel(ucf_root),
            "num_classes": int(tables["ucf101_vipriors"].attrs["num_classes"]),
            "classes": list(tables["ucf101_vipriors"].attrs["classes"]),
        },
        "hmdb51": {
            "video_root": rel(hmdb_root),
            "num_classes": int(tables["hmdb51_split1"].attrs["num_classes"]),
            "classes": list(tables["hmdb51_split1"].attrs["classes"]),
        },
    }
    for name, table in tables.items():
        sp.write_table(table, splits_dir / f"{name}.csv")
    atomic_write_text(
        splits_dir / "datasets.json",
        json.dumps({"profile": profile["name"], **datasets}, indent=2) + "\n",
    )

    # Report: counts per class and subset, and every video that cannot be decoded.
    counts = []
    for name, table in tables.items():
        c = table.groupby(["class_name", "subset"]).size().unstack(fill_value=0)
        c.insert(0, "table", name)
        counts.append(c.reset_index())
    class_counts = pd.concat(counts, ignore_index=True).fillna(0)
    subsets = [c for c in ("train", "validation", "test") if c in class_counts.columns]
    class_counts = class_counts[["table", "class_name", *subsets]].astype(
        {c: "int64" for c in subsets}
    )
    ucf_all = tables["ucf101_vipriors"]
    hmdb_all = pd.concat([tables[f"hmdb51_split{k}"] for k in (1, 2, 3)]).drop_duplicates("video")
    report = pd.concat(
        [
            video.scan(
                ucf_all,
                project_root / datasets["ucf101"]["video_root"],
                full=full_scan,
                num_threads=num_threads,
            ).assign(dataset="ucf101"),
            video.scan(
                hmdb_all,
                project_root / datasets["hmdb51"]["video_root"],
                full=full_scan,
                num_threads=num_threads,
            ).assign(dataset="hmdb51"),
        ],
        ignore_index=True,
    )
    bad = report[~report["decodable"]][["dataset", "video", "error"]]
    sp.write_table(class_counts, splits_dir / "class_counts.csv")
    sp.write_table(bad, splits_dir / "unreadable.csv")
    lines = [
        f"# Data report — profile `{profile['name']}`",
        "",
        f"{profile.get('description', '')}",
        "",
        "| table | videos | train | validation | test | classes |",
        "|---|---|---|---|---|---|",
    ]
    for name, table in tables.items():
        n = table["subset"].value_counts()
        lines.append(
            f"| {name} | {len(table)} | {n.get('train', 0)} | {n.get('validation', 0)} | {n.get('test', 0)} "
            f"| {table.attrs['num_classes']} |"
        )
    lines += [
        "",
        f"Videos decoded: {len(report)} ({'every frame' if full_scan else 'headers only'}); "
        f"unreadable: {len(bad)}.",
    ]
    if len(bad):
        lines += ["", "| dataset | video | error |", "|---|---|---|"]
        lines += [f"| {r.dataset} | {r.video} | {r.error} |" for r in bad.itertuples()]
    atomic_write_text(splits_dir / "data_report.md", "\n".join(lines) + "\n")
    return PreparedData(splits_dir=splits_dir, tables=tables, datasets=datasets, report=report)


def load_prepared(splits_dir: str | Path) -> dict[str, Any]:
    """Read ``datasets.json`` and the split tables written by :func:`prepare_data`.

    Returns:
        ``{"datasets": {...}, "tables": {name: DataFrame}, "profile": name}``.

    Raises:
        FileNotFoundError: the prepare stage has not run (names the missing file).
    """
    from tempaug.data import splits as sp

    splits_dir = Path(splits_dir)
    meta_path = splits_dir / "datasets.json"
    if not meta_path.is_file():
        raise FileNotFoundError(
            f"{meta_path} not found: run the prepare stage (notebooks/00_prepare_data) first"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    tables = {
        p.stem: sp.read_table(p)
        for p in sorted(splits_dir.glob("*.csv"))
        if p.stem.startswith(("ucf101_", "hmdb51_"))
    }
    return {"profile": meta.pop("profile"), "datasets": meta, "tables": tables}


# ---------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------


def _run_tables(
    prepared: Mapping[str, Any], spec: RunSpec
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    tables = prepared["tables"]
    if spec.benchmark == "hmdb51":
        t = tables[f"hmdb51_split{spec.split}"]
        return t[t["subset"] == "train"], t[t["subset"] == "test"], "hmdb51"
    t = tables["ucf101_vipriors"]
    if spec.benchmark == "ucf101_val":
        return t[t["subset"] == "train"], t[t["subset"] == "validation"], "ucf101"
    return t[t["subset"].isin(["train", "validation"])], t[t["subset"] == "test"], "ucf101"


def train_config(
    params: Mapping[str, Any],
    spec: RunSpec,
    *,
    splits_dir: str | Path,
    out_dir: str | Path,
    project_root: str | Path = ".",
) -> Any:
    """The :class:`tempaug.train.TrainConfig` of one run.

    Shared sections come from ``profile.train``; the run adds the split tables of its benchmark
    (Sec. 4.1: VIPriors train → validation, train+validation → test with
    ``profile.test_eval`` views; HMDB-51 train → test), the recipe's RandAugment-T range and
    N, M (the grid point, or ``profile.randaug``) and its deleting/mixing method with the
    method's hyper-parameters (``params.yaml:methods``), the seed and ``out_dir``.

    Raises:
        PipelineError: unknown recipe, or a grid point on a recipe without RandAugment.
    """
    from tempaug.train import TrainConfig

    recipes = params["recipes"]
    if spec.recipe not in recipes:
        raise PipelineError(
            f"recipe {spec.recipe!r} is not in params.yaml:recipes ({sorted(recipes)})"
        )
    recipe = recipes[spec.recipe]
    profile = params["profile"]
    prepared = load_prepared(splits_dir)
    train_t, val_t, dataset = _run_tables(prepared, spec)
    meta = prepared["datasets"][dataset]
    values: dict[str, Any] = copy.deepcopy(dict(profile["train"]))
    data = dict(values.get("data", {}))
    data.update(
        train_table=train_t.reset_index(drop=True),
        val_table=val_t.reset_index(drop=True),
        video_root=str(Path(project_root) / meta["video_root"]),
        num_classes=int(meta["num_classes"]),
    )
    values["data"] = data
    if spec.benchmark == "vipriors_test":
        values["eval"] = {**values.get("eval", {}), **profile["test_eval"]}
    ra = recipe["randaug"]
    if ra is None:
        if spec.grid_point:
            raise PipelineError(f"recipe {spec.recipe!r} has no RandAugment, so no grid point N, M")
        randaugment = None
    else:
        n, m = (
            (spec.num_ops, spec.magnitude)
            if spec.grid_point
            else (profile["randaug"]["num_ops"], profile["randaug"]["magnitude"])
        )
        randaugment = {**ra, "num_ops": int(n), "magnitude": int(m)}
    mix = dict(recipe["mix"])
    method = mix.pop("method")
    values["aug"] = {
        **values.get("aug", {}),
        "randaugment": randaugment,
        "mix": method,
        "mix_kwargs": mix,
    }
    values["seed"] = int(spec.seed)
    values["out_dir"] = str(out_dir)
    return TrainConfig.from_dict(values)


def execute_run(
    params: Mapping[str, Any],
    spec: RunSpec,
    *,
    splits_dir: str | Path,
    results_dir: str | Path,
    scratch_dir: str | Path,
    project_root: str | Path = ".",
) -> dict[str, Any]:
    """Train and evaluate one run, then publish its small files and its run record.

    Training writes everything (checkpoints included) to ``scratch_dir/<run_id>``; the files a
    reader and the tables need — ``metrics.json``, ``history.csv``, ``scores.csv`` (per-video
    scores) and ``config.yaml`` — are copied atomically to ``results_dir/<run_id>`` together
    with ``run.json``, the record :func:`tempaug.analysis.tables.collect_runs` reads.

    Returns:
        The run record (also written to ``run.json``): the :class:`RunSpec` fields, the profile,
        the RandAugment and mixing settings, ``top1`` / ``top5`` (%, final multi-view evaluation)
        and ``scores_path``.
    """
    from tempaug.train import fit

    scratch = Path(scratch_dir) / spec.run_id
    cfg = train_config(
        params, spec, splits_dir=splits_dir, out_dir=scratch, project_root=project_root
    )
    with _cpu_threads(int(params["profile"].get("threads", 0))):
        metrics = fit(cfg)
    dst = run_dir(results_dir, spec)
    for name in _RUN_FILES:
        src = scratch / name
        if not src.is_file():
            raise PipelineError(f"training did not write {src}")
        _atomic_copy(src, dst / name)
    top1, top5 = _final_accuracy(metrics, scratch / "metrics.json")
    record = {
        "run_id": spec.run_id,
        "benchmark": spec.benchmark,
        "split": spec.split,
        "recipe": spec.recipe,
        "seed": spec.seed,
        "profile": params["profile"]["name"],
        "randaug_num_ops": None if cfg.aug.randaugment is None else cfg.aug.randaugment["num_ops"],
        "randaug_magnitude": None
        if cfg.aug.randaugment is None
        else cfg.aug.randaugment["magnitude"],
        "randaug_mode": None if cfg.aug.randaugment is None else cfg.aug.randaugment["mode"],
        "mix": cfg.aug.mix,
        "mix_kwargs": cfg.aug.mix_kwargs,
        "views": cfg.eval.num_clips * cfg.eval.num_crops,
        "top1": top1,
        "top5": top5,
        "scores_path": "scores.csv",
    }
    atomic_write_text(dst / "run.json", json.dumps(record, indent=2) + "\n")
    return record


def ensure_runs(
    params: Mapping[str, Any],
    specs: Sequence[RunSpec],
    *,
    splits_dir: str | Path,
    results_dir: str | Path,
    scratch_dir: str | Path,
    project_root: str | Path = ".",
) -> list[dict[str, Any]]:
    """Execute the runs of ``specs`` whose ``run.json`` is missing (used by the smoke previews).

    The DVC pipeline never calls this: there every run is its own stage, and a table notebook
    fails on a missing run instead of training it.

    Returns:
        The run records of ``specs``, in order.
    """
    records = []
    for spec in specs:
        path = run_dir(results_dir, spec) / "run.json"
        if path.is_file():
            records.append(json.loads(path.read_text(encoding="utf-8")))
        else:
            records.append(
                execute_run(
                    params,
                    spec,
                    splits_dir=splits_dir,
                    results_dir=results_dir,
                    scratch_dir=scratch_dir,
                    project_root=project_root,
                )
            )
    return records


@contextmanager
def _cpu_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch and OpenCV CPU threads (``0``: leave the defaults).

    On a machine shared with other work, tiny CPU runs with more threads than free cores spend
    most of their time waiting for descheduled threads (measured: a RandAugment-T run took 75 s
    with 2 threads and 7 s with 1 thread next to one busy process), so the synthetic profile
    uses one thread per run. The previous settings are restored afterwards.
    """
    if n < 0:
        raise PipelineError(f"params: profile.threads must be >= 0, got {n}")
    if n == 0:
        yield
        return
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(n)
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def _final_accuracy(metrics: Mapping[str, Any], path: Path) -> tuple[float, float]:
    """Top-1 / top-5 (%) of the final multi-view evaluation returned by ``fit``."""
    try:
        return float(metrics["top1"]), float(metrics["top5"])
    except KeyError as exc:
        raise PipelineError(
            f"{path}: the final evaluation has no {exc.args[0]!r} (was data.val_table set?)"
        ) from None
