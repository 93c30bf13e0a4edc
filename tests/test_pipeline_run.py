"""Data preparation and per-run configuration of the pipeline, on a tiny generated dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tempaug import pipeline
from tempaug.analysis import tables
from tempaug.data import synthetic

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    return pipeline.load_params(REPO / "params.yaml")


@pytest.fixture(scope="module")
def prepared(params, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prepared")
    smoke = pipeline.smoke_params(params)
    out = pipeline.prepare_data(
        smoke, data_dir=tmp / "data", splits_dir=tmp / "splits", project_root=tmp
    )
    return tmp, smoke, out


def test_prepare_writes_split_tables_and_report(prepared):
    tmp, smoke, out = prepared
    names = {p.name for p in (tmp / "splits").iterdir()}
    assert {
        "ucf101_vipriors.csv",
        "hmdb51_split1.csv",
        "hmdb51_split2.csv",
        "hmdb51_split3.csv",
        "datasets.json",
        "class_counts.csv",
        "unreadable.csv",
        "data_report.md",
    } <= names
    ucf = pd.read_csv(tmp / "splits" / "ucf101_vipriors.csv")
    assert set(ucf["subset"]) == {"train", "validation", "test"}
    assert ucf["label"].nunique() == smoke["profile"]["data"]["ucf101"]["num_classes"]
    meta = json.loads((tmp / "splits" / "datasets.json").read_text())
    assert meta["profile"] == "synthetic"
    assert not Path(meta["ucf101"]["video_root"]).is_absolute()  # relative to the project root
    assert (tmp / meta["ucf101"]["video_root"]).is_dir()
    assert out.report["decodable"].all()
    assert (
        "unreadable and left out of every table: 0"
        in (tmp / "splits" / "data_report.md").read_text()
    )
    counts = pd.read_csv(tmp / "splits" / "class_counts.csv")
    assert list(counts.columns[:2]) == ["table", "class_name"]
    assert counts[counts["table"] == "ucf101_vipriors"][
        ["train", "validation", "test"]
    ].sum().sum() == len(ucf)
    # the report's Markdown tables: one row per split table, then one per generated dataset
    report = (tmp / "splits" / "data_report.md").read_text()
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in report.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]
    n = ucf["subset"].value_counts()
    assert rows[0] == ["table", "videos", "train", "validation", "test", "classes"]
    assert rows[1] == [
        "ucf101_vipriors",
        *(str(v) for v in (len(ucf), n["train"], n["validation"], n["test"])),
        str(ucf["label"].nunique()),
    ]
    assert [r[0] for r in rows[2:5]] == [f"hmdb51_split{k}" for k in (1, 2, 3)]
    assert rows[5] == ["dataset", *synthetic.NUISANCE_KINDS]
    natural = synthetic.Nuisances.resolve(smoke["profile"]["data"]["ucf101"]["nuisances"])
    assert rows[6] == ["ucf101", *(f"{getattr(natural, k):g}" for k in synthetic.NUISANCE_KINDS)]


def test_prepare_is_idempotent(prepared):
    tmp, smoke, _ = prepared
    before = {p.name: p.read_bytes() for p in (tmp / "splits").glob("*.csv")}
    pipeline.prepare_data(smoke, data_dir=tmp / "data", splits_dir=tmp / "splits", project_root=tmp)
    assert {p.name: p.read_bytes() for p in (tmp / "splits").glob("*.csv")} == before


def test_train_config_of_every_planned_run(params, prepared):
    tmp, _, out = prepared
    for spec in pipeline.planned_runs(params):
        cfg = pipeline.train_config(
            params, spec, splits_dir=tmp / "splits", out_dir=tmp / "o", project_root=tmp
        )
        recipe = params["recipes"][spec.recipe]
        mix = dict(recipe["mix"])
        assert cfg.aug.mix == mix.pop("method") and cfg.aug.mix_kwargs == mix, spec
        if recipe["randaug"] is None:
            assert cfg.aug.randaugment is None
        else:
            n, m = (
                (spec.num_ops, spec.magnitude)
                if spec.grid_point
                else (
                    params["profile"]["randaug"]["num_ops"],
                    params["profile"]["randaug"]["magnitude"],
                )
            )
            assert cfg.aug.randaugment == {
                "mode": recipe["randaug"]["mode"],
                "num_ops": n,
                "magnitude": m,
            }
        train, val = cfg.data.train_table, cfg.data.eval_table
        assert not set(train["video"]) & set(val["video"])
        if spec.benchmark == "ucf101_val":
            assert set(train["subset"]) == {"train"} and set(val["subset"]) == {"validation"}
        elif spec.benchmark == "vipriors_test":
            assert set(train["subset"]) == {"train", "validation"} and set(val["subset"]) == {
                "test"
            }
            te = params["profile"]["test_eval"]
            assert (cfg.eval.num_clips, cfg.eval.num_crops) == (te["num_clips"], te["num_crops"])
        else:
            assert set(train["subset"]) == {"train"} and set(val["subset"]) == {"test"}
            assert cfg.data.num_classes == out.datasets["hmdb51"]["num_classes"]
        assert cfg.seed == spec.seed
        assert cfg.optim.epochs == params["profile"]["train"]["optim"]["epochs"]


def test_train_config_rejects_unknown_recipe_and_bad_grid(params, prepared):
    tmp, _, _ = prepared
    with pytest.raises(pipeline.PipelineError, match="recipe 'nope'"):
        pipeline.train_config(
            params,
            pipeline.RunSpec("ucf101_val", "nope", 0),
            splits_dir=tmp / "splits",
            out_dir=tmp,
        )
    with pytest.raises(pipeline.PipelineError, match="no RandAugment"):
        pipeline.train_config(
            params,
            pipeline.RunSpec("ucf101_val", "cutmix", 0, num_ops=1, magnitude=3),
            splits_dir=tmp / "splits",
            out_dir=tmp,
        )
    with pytest.raises(FileNotFoundError, match="prepare stage"):
        pipeline.load_prepared(tmp / "nowhere")


def test_caption_names_profile_and_data(params):
    cap = tables.caption(params, 4, "Data Cut-and-paste Results", "ucf101_val")
    assert cap.startswith("Table 4 — Data Cut-and-paste Results.")
    seeds = params["seeds"]
    named = f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})"
    assert "profile `synthetic`" in cap and "NOT the real dataset" in cap and named in cap
    assert "paper_reference.csv" in cap


def test_prepare_keeps_the_chosen_classes(params, tmp_path):
    smoke = pipeline.smoke_params(params)
    smoke["profile"]["data"]["classes"] = ["Grow", "MoveUp"]
    out = pipeline.prepare_data(
        smoke,
        data_dir=tmp_path / "d",
        splits_dir=tmp_path / "s",
        project_root=tmp_path,
        full_scan=False,
    )
    ucf = out.tables["ucf101_vipriors"]
    assert sorted(set(zip(ucf["label"], ucf["class_name"], strict=True))) == [
        (0, "Grow"),
        (1, "MoveUp"),
    ]
    for k in (1, 2, 3):
        hmdb = out.tables[f"hmdb51_split{k}"]
        assert sorted(set(zip(hmdb["label"], hmdb["class_name"], strict=True))) == [
            (0, "grow"),
            (1, "move_up"),
        ]
    assert out.datasets["ucf101"]["classes"] == ["Grow", "MoveUp"]
    # the generated lists on disk keep every class up to the last one chosen
    assert (
        len((tmp_path / "d" / "ucf101" / "ucfTrainTestlist" / "classInd.txt").read_text().split())
        == 2 * 5
    )
    smoke["profile"]["data"]["classes"] = ["Grow", "Nope"]
    with pytest.raises(pipeline.PipelineError, match="Nope"):
        pipeline.prepare_data(
            smoke, data_dir=tmp_path / "d2", splits_dir=tmp_path / "s2", project_root=tmp_path
        )


def test_caption_with_seeds_and_evaluation(params):
    many = {**params, "seeds": [0, 1, 2]}
    cap = tables.caption(many, 6, "HMDB", "hmdb51", "Evaluated on 24 videos.")
    assert "1 seed (0) on each of 3 splits" in cap and "Evaluated on 24 videos." in cap
    assert "3 seeds (0, 1, 2)" in tables.caption(many, 4, "X", "ucf101_val")
