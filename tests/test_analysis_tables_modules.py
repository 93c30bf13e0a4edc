"""The tables package exposes its modules' public API; the helpers the notebooks call."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from tempaug.analysis import tables
from tempaug.analysis.tables import builders, plots, records, reference, rendering, rows, scores
from tempaug.train.scores import read_scores

MODULES = (builders, plots, records, reference, rendering, rows, scores)


def test_every_tables_name_is_the_split_modules_object():
    for name in tables.__all__:
        homes = [m for m in MODULES if name in getattr(m, "__all__", ())]
        assert len(homes) == 1, f"{name} is exported by {homes}"
        assert getattr(tables, name) is getattr(homes[0], name)


def test_split_modules_export_only_what_they_define():
    for m in MODULES:
        for name in m.__all__:
            obj = getattr(m, name)
            assert name.isupper() or obj.__module__ == m.__name__, (m, name)
    assert set().union(*(m.__all__ for m in MODULES)) == set(tables.__all__)
    importlib.reload(tables)  # no import cycle between the split modules


def test_recipe_labels_cover_tables_2_to_5():
    labels = tables.recipe_labels()
    assert labels["baseline"] == "Baseline" and labels["cutmix"] == "CutMix (α = 2)"
    assert labels["randaug_temporal_plus"] == "RandAugment Temporal+"
    assert set(labels) == {r for t in (3, 4, 5) for r, _ in tables.TABLE_ROWS[t]} | {
        r for _, r, _ in tables.RANDAUG_MODES
    }


def test_recipe_tables_order_and_values():
    where = tables.recipe_tables()
    keys = list(where)
    assert keys[0] == "baseline" and where["baseline"] == "2–5"
    assert keys[1:5] == [r for _, r, _ in tables.RANDAUG_MODES]
    assert where["cutout"] == "3" and where["cubecutmix_a5"] == "4" and where["fademixup"] == "5"
    assert keys.index("cutout") < keys.index("cutmix") < keys.index("mixup")


def score_table(seed, videos=("a", "b", "c"), labels=(0, 1, 1)):
    rng = np.random.default_rng(seed)
    s = rng.random((len(videos), 3))
    return pd.DataFrame(
        {"video": videos, "label": labels, **{f"score_{k}": s[:, k] for k in range(3)}}
    )


def test_ensemble_by_seed_averages_each_seeds_members(tmp_path):
    rows = []
    for seed in (1, 0):
        for recipe in ("m1", "m2", "other"):
            path = tmp_path / f"{recipe}{seed}.csv"
            score_table(hash((recipe, seed)) % 100).to_csv(path, index=False)
            rows.append({"benchmark": "vipriors_test", "recipe": recipe, "seed": seed,
                         "scores_path": str(path)})  # fmt: skip
    rows.append({"benchmark": "ucf101_val", "recipe": "m1", "seed": 5, "scores_path": "x"})
    runs = pd.DataFrame(rows)
    ens = tables.ensemble_by_seed(runs, ["m1", "m2"])
    assert list(ens["seed"].unique()) == [0, 1]  # sorted seeds, validation runs ignored
    for seed in (0, 1):
        want = tables.ensemble_scores(
            [read_scores(tmp_path / f"{r}{seed}.csv") for r in ("m1", "m2")]
        )
        got = ens[ens["seed"] == seed].drop(columns="seed").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want)
    with pytest.raises(ValueError, match="no vipriors_test runs"):
        tables.ensemble_by_seed(runs[runs["benchmark"] == "ucf101_val"], ["m1", "m2"])


def test_write_scores_is_six_decimals(tmp_path):
    df = score_table(0)
    path = tables.write_scores(df, tmp_path / "sub" / "s.csv")
    assert path.read_text() == df.to_csv(index=False, float_format="%.6f")


def test_publish_table_writes_and_returns_the_markdown(tmp_path):
    data = pd.DataFrame({"x": [1.0]})
    rendered = tables.RenderedTable(data=data, display=pd.DataFrame({"X": ["1"]}), caption="Cap")
    md = tables.publish_table(rendered, tmp_path, "t")
    assert md == (tmp_path / "t.md").read_text() and md.startswith("*Cap*")
    assert (tmp_path / "t.csv").read_text().startswith("# Cap\n")


def test_data_note_says_generated_or_real():
    assert "NOT the real dataset" in tables.data_note({"name": "synthetic"})
    assert "the real UCF-101" in tables.data_note({"name": "paper"})
