"""Data preparation: the generated or the real datasets → split tables and a data report.

:func:`prepare_data` generates (synthetic profile) or locates (paper profile) UCF-101 and
HMDB-51 and writes the split tables — VIPriors mod-UCF101 train/validation/test and HMDB-51
splits 1–3 — and a data report; :func:`load_prepared` reads them back for a run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tempaug.io import atomic_write_text
from tempaug.markdown import markdown_table
from tempaug.pipeline.params import PipelineError

__all__ = ["PreparedData", "load_prepared", "prepare_data"]


@dataclass(frozen=True)
class PreparedData:
    """Where :func:`prepare_data` put things.

    Attributes:
        splits_dir: split tables (``ucf101_vipriors.csv``, ``hmdb51_split{1,2,3}.csv``),
            ``datasets.json`` (video roots, class names) and the data report.
        tables: name → split table.
        datasets: dataset → ``{"video_root", "num_classes", "classes", "unreadable"}``
            (``unreadable``: listed videos that could not be decoded, left out of the tables).
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


def _class_request(
    profile: Mapping[str, Any],
) -> tuple[list[str] | None, dict[str, list[str] | None]]:
    """``profile.data.classes``: one list, or a subset per dataset.

    A list names generated classes (synthetic profile; both layouts get the same classes) or
    classes present in both real datasets. A mapping ``{ucf101: [...], hmdb51: [...]}`` picks
    a subset of each real dataset (UCF-101 and HMDB-51 name their classes differently); a
    dataset left out keeps all its classes.

    Returns:
        ``(list or None, {dataset: list or None})``.
    """
    value = profile["data"].get("classes")
    if value is None or isinstance(value, list):
        return value or None, {"ucf101": value or None, "hmdb51": value or None}
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"ucf101", "hmdb51"})
        if unknown:
            raise PipelineError(
                f"params: profile.data.classes has unknown dataset(s) {unknown}; "
                "allowed keys: ucf101, hmdb51"
            )
        if profile["data"].get("source") != "real":
            raise PipelineError(
                "params: profile.data.classes per dataset is for the real datasets; the "
                "generated ones share class names, give one list"
            )
        per = {k: (list(value[k]) if value.get(k) else None) for k in ("ucf101", "hmdb51")}
        for k, names in per.items():
            if names is not None and not all(isinstance(c, str) for c in names):
                raise PipelineError(f"params: profile.data.classes.{k} must be a list of names")
        return None, per
    raise PipelineError(
        f"params: profile.data.classes must be a list or a mapping per dataset, got {value!r}"
    )


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
    video is opened once (:func:`tempaug.data.video.scan`; decoded in full with
    ``full_scan``), and the unreadable ones are left out of the split tables, listed in
    ``unreadable.csv`` and counted in ``datasets.json`` and the data report.

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
    classes, per_dataset = _class_request(profile)
    nuisances: dict[str, Any] = {}  # generated data: the nuisance strengths of each layout
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
            nuisances[layout] = synthetic.Nuisances.resolve(kwargs.get("nuisances", "none"))
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
        classes_by_layout = per_dataset
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
    # Every listed video is opened (decoded in full with full_scan) before any run sees it; the
    # unreadable ones are left out of the split tables the runs use, listed in unreadable.csv
    # and counted in datasets.json, the data report and the table captions.
    listed = {
        "ucf101": tables["ucf101_vipriors"],
        "hmdb51": pd.concat([tables[f"hmdb51_split{k}"] for k in (1, 2, 3)]).drop_duplicates(
            "video"
        ),
    }
    report = pd.concat(
        [
            video.scan(
                table,
                project_root / datasets[dataset]["video_root"],
                full=full_scan,
                num_threads=num_threads,
            ).assign(dataset=dataset)
            for dataset, table in listed.items()
        ],
        ignore_index=True,
    )
    bad = report[~report["decodable"]][["dataset", "video", "error"]].reset_index(drop=True)
    for name, table in tables.items():
        dataset = "ucf101" if name.startswith("ucf101") else "hmdb51"
        unreadable = set(bad.loc[bad["dataset"] == dataset, "video"])
        if unreadable:
            kept = table[~table["video"].isin(unreadable)].reset_index(drop=True)
            kept.attrs = dict(table.attrs)
            tables[name] = kept
    for dataset in datasets:
        datasets[dataset]["unreadable"] = int((bad["dataset"] == dataset).sum())
    for name, table in tables.items():
        sp.write_table(table, splits_dir / f"{name}.csv")
    atomic_write_text(
        splits_dir / "datasets.json",
        json.dumps({"profile": profile["name"], **datasets}, indent=2) + "\n",
    )

    # Report: counts per class and subset (readable videos), and every unreadable video.
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
    sp.write_table(class_counts, splits_dir / "class_counts.csv")
    sp.write_table(bad, splits_dir / "unreadable.csv")
    lines = [
        f"# Data report — profile `{profile['name']}`",
        "",
        f"{profile.get('description', '')}",
        "",
        "Videos per split table after leaving out the unreadable ones:",
        "",
        markdown_table(_split_sizes(tables)).rstrip("\n"),
    ]
    lines += [
        "",
        f"Videos opened: {len(report)} ({'every frame decoded' if full_scan else 'headers only'}); "
        f"unreadable and left out of every table: {len(bad)} "
        f"(UCF-101 {datasets['ucf101']['unreadable']}, HMDB-51 {datasets['hmdb51']['unreadable']}).",
    ]
    if nuisances:
        lines += [
            "",
            "Nuisances of the generated videos (`tempaug.data.synthetic.Nuisances`; each video "
            "draws its own, independently of its class; 0 = off; `occluder` and `partial` are "
            "probabilities per video). Examples: `figures/data_nuisances.jpg`.",
            "",
            markdown_table(_nuisance_strengths(nuisances)).rstrip("\n"),
        ]
    if len(bad):
        lines += ["", markdown_table(bad[["dataset", "video", "error"]]).rstrip("\n")]
    atomic_write_text(splits_dir / "data_report.md", "\n".join(lines) + "\n")
    return PreparedData(splits_dir=splits_dir, tables=tables, datasets=datasets, report=report)


def _split_sizes(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Videos per split table and subset, and its classes: the data report's first table."""
    rows = []
    for name, table in tables.items():
        n = table["subset"].value_counts()
        rows.append(
            {
                "table": name,
                "videos": len(table),
                **{s: int(n.get(s, 0)) for s in ("train", "validation", "test")},
                "classes": table.attrs["num_classes"],
            }
        )
    return pd.DataFrame(rows)


def _nuisance_strengths(nuisances: Mapping[str, Any]) -> pd.DataFrame:
    """One row per generated dataset: its :class:`~tempaug.data.synthetic.Nuisances` strengths."""
    return pd.DataFrame(
        [
            {"dataset": layout, **{k: f"{v:g}" for k, v in dataclasses.asdict(n).items()}}
            for layout, n in nuisances.items()
        ]
    )


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
