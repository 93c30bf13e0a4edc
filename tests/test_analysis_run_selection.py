"""Which Table 2–5 runs the CAM and robustness analyses read (tempaug.analysis.run_selection)."""

from __future__ import annotations

import pytest

from tempaug.analysis import run_selection as rs
from tempaug.pipeline import RunSpec

EXPERIMENTS = {
    "ucf101_val": {"grid": ["randaug_spatial"], "plain": ["baseline", "mixup", "cutmix"]}
}
PLANNED = [
    RunSpec("ucf101_val", "randaug_spatial", 0, num_ops=1, magnitude=3),
    RunSpec("ucf101_val", "randaug_spatial", 0, num_ops=2, magnitude=5),
    RunSpec("ucf101_val", "baseline", 0),
    RunSpec("ucf101_val", "baseline", 1),
    RunSpec("ucf101_val", "mixup", 0),
    RunSpec("ucf101_val", "cutmix", 0),
    RunSpec("ucf101_val", "randaugt_fademixup", 0),  # a Table 7 recipe, not Tables 2–5
]


def recipes_of(specs):
    return [s.recipe for s in specs]


def test_split_names_strips_and_drops_empties():
    assert rs.split_names(" a, b,,c ,") == ["a", "b", "c"]
    assert rs.split_names(["x ", " "]) == ["x"]
    assert rs.split_names("") == []


def test_table2to5_recipes_are_grid_then_plain():
    assert rs.table2to5_recipes(EXPERIMENTS) == ["randaug_spatial", "baseline", "mixup", "cutmix"]


def test_table2to5_runs_all_keeps_matrix_order_and_drops_other_tables():
    got = rs.table2to5_runs(PLANNED, EXPERIMENTS, "all")
    assert got == PLANNED[:6]


def test_table2to5_runs_filters_by_name_list():
    got = rs.table2to5_runs(PLANNED, EXPERIMENTS, "mixup, baseline")
    assert recipes_of(got) == ["baseline", "baseline", "mixup"]


def test_table2to5_runs_rejects_a_recipe_outside_tables_2_to_5():
    with pytest.raises(ValueError, match="randaugt_fademixup"):
        rs.table2to5_runs(PLANNED, EXPERIMENTS, "baseline,randaugt_fademixup")


@pytest.mark.parametrize(
    ("recipes", "figures", "scores", "expected"),
    [
        ("figures", True, True, {"mixup", "cutmix"}),
        ("figures", False, True, {"mixup", "cutmix"}),  # scoring the figures' runs only
        ("all", False, True, {"randaug_spatial", "baseline", "mixup", "cutmix"}),
        ("all", True, False, {"mixup", "cutmix"}),  # figures only: the scored list is unused
        ("baseline", True, True, {"baseline", "mixup", "cutmix"}),
        ("baseline", False, False, set()),
    ],
)
def test_cam_runs_union_of_figures_and_scored(recipes, figures, scores, expected):
    got = rs.cam_runs(
        PLANNED, EXPERIMENTS, recipes, ["mixup", "cutmix"], figures=figures, scores=scores
    )
    assert set(recipes_of(got)) == expected
    assert got == [s for s in PLANNED if s in got]  # matrix order


def test_cam_runs_checks_the_figure_recipes_even_when_not_drawing():
    with pytest.raises(ValueError, match="not Table 2–5 runs"):
        rs.cam_runs(PLANNED, EXPERIMENTS, "all", ["nope"], figures=False, scores=True)


def test_checkpoints_paths_and_missing(tmp_path):
    spec = PLANNED[2]
    path = rs.checkpoint_path(tmp_path, spec)
    assert path == tmp_path / "ucf101_val" / "baseline" / "seed0" / "checkpoints" / "last.pt"
    assert rs.missing_checkpoints([spec, PLANNED[3]], None) == [spec.run_id, PLANNED[3].run_id]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    assert rs.missing_checkpoints([spec, PLANNED[3]], tmp_path) == [PLANNED[3].run_id]


def test_missing_checkpoints_error_names_five_and_the_hint():
    err = rs.missing_checkpoints_error("runs", [f"r{i}" for i in range(7)], "rerun them")
    assert isinstance(err, FileNotFoundError)
    msg = str(err)
    assert "r4" in msg and "r5" not in msg and "…" in msg and msg.endswith("rerun them")


def test_grid_size_and_grid_point_names():
    profile = {"randaug_grid": {"num_ops": [1, 2], "magnitude": [3, 5, 10]}}
    assert rs.grid_size(profile) == 6
    grid_run, plain = PLANNED[1], PLANNED[4]
    labels = {"randaug_spatial": "RandAugment Spatial"}
    assert rs.run_label(grid_run, labels, 6) == "RandAugment Spatial (N=2, M=5)"
    assert rs.run_label(grid_run, labels, 1) == "RandAugment Spatial"  # one point: no N, M
    assert rs.run_label(plain, labels, 6) == "mixup"  # no label: the recipe
    assert rs.run_method_name(grid_run, 6) == "randaug_spatial-n2-m5"
    assert rs.run_method_name(grid_run, 1) == "randaug_spatial"


def test_first_seed_runs_skip_grid_points_and_other_seeds():
    got = rs.first_seed_runs(PLANNED, 0)
    assert got["baseline"] is PLANNED[2]
    assert "randaug_spatial" not in got
    assert rs.first_seed_runs(PLANNED, 1) == {"baseline": PLANNED[3]}


def test_in_table_order_is_stable_and_puts_unlisted_last():
    order = ["baseline", "randaug_spatial", "cutmix", "mixup"]
    got = rs.in_table_order(PLANNED, order)
    assert recipes_of(got) == [
        "baseline",
        "baseline",
        "randaug_spatial",
        "randaug_spatial",
        "cutmix",
        "mixup",
        "randaugt_fademixup",
    ]
    assert got[2].num_ops == 1 and got[3].num_ops == 2  # stable within a recipe
