"""params.yaml: profiles, the paper's hyper-parameters, recipes, the run matrix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tempaug import pipeline
from tempaug.analysis import tables as T

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    return pipeline.load_params(REPO / "params.yaml")


def test_default_profile_is_synthetic_and_the_switch_is_one_line(params):
    assert params["profile"]["name"] == "synthetic"
    assert params["profile"] == params["profiles"]["synthetic"]
    text = (REPO / "params.yaml").read_text()
    assert text.count("\nprofile: *synthetic\n") == 1
    paper = yaml.safe_load(text.replace("\nprofile: *synthetic\n", "\nprofile: *paper\n"))
    pipeline.check_params(paper)
    assert paper["profile"]["name"] == "paper"


def test_paper_profile_is_section_4_1(params):
    paper = params["profiles"]["paper"]
    train = paper["train"]
    assert train["model"]["name"] == "slowfast50"
    assert train["data"]["clip_len"] == 64 and train["data"]["crop_size"] == 160
    assert train["data"]["scale_range"] == [160, 200]
    assert train["optim"] == {
        **train["optim"],
        "epochs": 150,
        "batch_size": 16,
        "lr": 1e-4,
        "weight_decay": 1e-5,
    }
    assert train["eval"]["num_clips"] == 10
    assert (
        paper["test_eval"]["num_clips"] * paper["test_eval"]["num_crops"] == 30
    )  # 30-view testing
    assert paper["randaug_grid"] == {"num_ops": [1, 2, 3], "magnitude": [3, 5, 10]}
    for key in ("ucf101_root", "ucf101_lists", "hmdb51_root", "hmdb51_splits"):
        assert paper["data"][key]


def test_method_hyper_parameters_are_the_papers(params):
    m = params["methods"]
    assert m["cutout"]["size"] == 0.5  # 80x80 of 160x160
    assert m["framecutout"]["length"] == 0.25  # 16 of 64 frames
    assert (m["cubecutout"]["size"], m["cubecutout"]["length"]) == (0.5, 0.25)  # 80x80x16
    assert (m["cutmix"]["alpha"], m["framecutmix_a2"]["alpha"], m["framecutmix_a5"]["alpha"]) == (
        2.0,
        2.0,
        5.0,
    )
    assert (m["cubecutmix_a2"]["alpha"], m["cubecutmix_a5"]["alpha"]) == (2.0, 5.0)
    for key in ("cutmix", "framecutmix_a2", "framecutmix_a5", "cubecutmix_a2", "cubecutmix_a5"):
        assert m[key]["p"] == 0.5, key  # "mixing probability of 0.5 for all methods" (Sec. 4.3)
    for key in ("cutmixup", "framecutmixup", "cubecutmixup"):
        assert (m[key]["blend_alpha"], m[key]["cut_prob"]) == (2.0, 0.5)
    # each recipe carries its method's values (YAML aliases), so DVC tracks them per run
    for name, recipe in params["recipes"].items():
        assert recipe["mix"] in m.values(), name


def test_every_method_and_range_builds_in_the_library(params):
    from tempaug.augment import build

    for key, kwargs in params["methods"].items():
        kwargs = dict(kwargs)
        aug = build(kwargs.pop("method"), num_classes=5, **kwargs)
        assert aug is not None, key
    modes = {v["mode"] for v in params["randaug_modes"].values()}
    assert modes == {"spatial", "temporal", "temporal+", "mix"}
    from tempaug.augment import RandAugmentT

    for mode in modes:
        RandAugmentT(num_ops=2, magnitude=9, mode=mode)


def test_experiment_lists_cover_the_papers_tables(params):
    exps = params["experiments"]
    ucf = exps["ucf101_val"]["plain"] + exps["ucf101_val"]["randaug"]
    for rows in T.TABLE_ROWS.values():
        assert {r for r, _ in rows} <= set(ucf)
    assert exps["ucf101_val"]["grid"] == [r for _, r, _ in T.RANDAUG_MODES]
    rows6 = exps["hmdb51"]["rows"]
    hmdb = exps["hmdb51"]["plain"] + exps["hmdb51"]["randaug"]
    assert sorted(rows6.get(k, k) for k, _ in T.TABLE6_ROWS) == sorted(hmdb)
    assert exps["hmdb51"]["splits"] == [1, 2, 3]
    test = exps["vipriors_test"]["plain"] + exps["vipriors_test"]["randaug"]
    for key, *_ in T.TABLE7_ROWS:
        where, recipe = key.split("/")
        if where == "test" and recipe != "ensemble":
            assert recipe in test
        if where == "val" and recipe not in ("randaug", "randaugt"):
            assert recipe in ucf
    assert set(exps["vipriors_test"]["ensemble"]) <= set(test)
    assert all(
        params["recipes"][r]["randaug"]["mode"] == "temporal+"
        for r in exps["vipriors_test"]["ensemble"]
    )


def test_planned_runs(params):
    runs = pipeline.planned_runs(params)
    assert len({r.run_id for r in runs}) == len(runs)
    n_grid = (
        4
        * len(params["profile"]["randaug_grid"]["num_ops"])
        * len(params["profile"]["randaug_grid"]["magnitude"])
    )
    n_hmdb = 3 * 14 * len(params["experiments"]["hmdb51"]["seeds"])
    assert len(runs) == len(params["seeds"]) * (n_grid + 16 + 5) + n_hmdb
    paper = copy.deepcopy(params)
    paper["profile"] = paper["profiles"]["paper"]
    assert len(pipeline.planned_runs(paper)) == len(params["seeds"]) * (4 * 9 + 16 + 5) + n_hmdb
    spec = pipeline.RunSpec("hmdb51", "cutmix", 1, split=2)
    assert spec.run_id == "hmdb51/cutmix/split2/seed1" and spec.stage_id == "hmdb51/cutmix"


def test_stage_runs_are_the_replicates_of_one_configuration(params):
    stage = pipeline.stage_runs(params, "ucf101_val", "cutmix")
    assert [r.seed for r in stage] == params["seeds"]
    assert {r.stage_id for r in stage} == {"ucf101_val/cutmix"}
    hmdb = pipeline.stage_runs(params, "hmdb51", "mixup")
    exps = params["experiments"]["hmdb51"]
    assert {(r.split, r.seed) for r in hmdb} == {
        (k, s) for k in exps["splits"] for s in exps["seeds"]
    }
    grid = params["profile"]["randaug_grid"]
    n, m = grid["num_ops"][0], grid["magnitude"][0]
    point = pipeline.stage_runs(params, "ucf101_val", "randaug_mix", num_ops=n, magnitude=m)
    assert len(point) == len(params["seeds"]) and all(r.grid_point for r in point)
    # every planned run belongs to exactly one stage
    planned = pipeline.planned_runs(params)
    assert len({r.stage_id for r in planned}) == len(
        {(r.benchmark, r.recipe, r.num_ops, r.magnitude) for r in planned}
    )
    with pytest.raises(pipeline.PipelineError, match="hmdb51/randaug_mix"):
        pipeline.stage_runs(params, "hmdb51", "randaug_mix")  # not in the HMDB-51 matrix
    assert pipeline.RunSpec("ucf101_val", "randaug_mix", 0, num_ops=3, magnitude=10).run_id == (
        "ucf101_val/randaug_mix-n3-m10/seed0"
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"benchmark": "kinetics", "recipe": "x", "seed": 0}, "benchmark"),
        ({"benchmark": "hmdb51", "recipe": "x", "seed": 0}, "split"),
        ({"benchmark": "ucf101_val", "recipe": "x", "seed": 0, "split": 1}, "split"),
        ({"benchmark": "ucf101_val", "recipe": "x", "seed": 0, "num_ops": 2}, "together"),
        ({"benchmark": "ucf101_val", "recipe": "x", "seed": -1}, "seed"),
        ({"benchmark": "ucf101_val", "recipe": "X Y", "seed": 0}, "recipe"),
    ],
)
def test_runspec_rejects_bad_values(kwargs, match):
    with pytest.raises(pipeline.PipelineError, match=match):
        pipeline.RunSpec(**kwargs)


def test_check_params_names_the_bad_key(params):
    bad = copy.deepcopy(params)
    bad["profile"] = "paper"
    with pytest.raises(pipeline.PipelineError, match=r"profile: \*synthetic"):
        pipeline.check_params(bad)
    bad = copy.deepcopy(params)
    bad["experiments"]["hmdb51"]["plain"].append("nope")
    with pytest.raises(
        pipeline.PipelineError, match=r"experiments\.hmdb51\.plain names unknown recipe 'nope'"
    ):
        pipeline.check_params(bad)
    bad = copy.deepcopy(params)
    bad["seeds"] = [0, 0]
    with pytest.raises(pipeline.PipelineError, match="seeds"):
        pipeline.check_params(bad)
    bad = copy.deepcopy(params)
    bad["experiments"]["ucf101_val"]["plain"].append("randaugt")
    with pytest.raises(pipeline.PipelineError, match="under 'randaug'"):
        pipeline.check_params(bad)
    with pytest.raises(FileNotFoundError, match="parameter file"):
        pipeline.load_params(REPO / "nope.yaml")


def test_smoke_params_is_small_and_does_not_mutate(params):
    before = copy.deepcopy(params)
    smoke = pipeline.smoke_params(params)
    assert params == before
    assert smoke["profile"]["train"]["optim"]["epochs"] == 1
    assert smoke["profile"]["data"]["ucf101"]["num_classes"] <= 3
    assert smoke["seeds"] == [params["seeds"][0]]
    assert smoke["experiments"]["hmdb51"]["splits"] == [1]
    assert len(pipeline.planned_runs(smoke)) == 4 + 16 + 14 + 5
    pipeline.check_params(smoke)


def test_prepare_paper_profile_names_missing_dataset(params, tmp_path):
    paper = copy.deepcopy(params)
    paper["profile"] = copy.deepcopy(paper["profiles"]["paper"])
    paper["profile"]["data"]["ucf101_root"] = str(tmp_path / "no-UCF-101")
    with pytest.raises(FileNotFoundError, match=r"profiles\.paper\.data\.ucf101_root"):
        pipeline.prepare_data(
            paper, data_dir=tmp_path / "d", splits_dir=tmp_path / "s", project_root=tmp_path
        )
