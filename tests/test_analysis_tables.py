"""Tables 2–8 from hand-built run records, and the paper reference CSV."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tempaug.analysis import tables as T
from tempaug.analysis.statistics import PAIRED_TEST
from tempaug.analysis.tables import reference as ref_mod
from tempaug.train.scores import topk_accuracy

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO.parent / "shared" / "paper" / "temporal-data-augmentation-paper.txt"


def rec(benchmark, recipe, seed=0, top1=50.0, top5=80.0, split="", **kw):
    return {
        "benchmark": benchmark,
        "recipe": recipe,
        "seed": seed,
        "top1": top1,
        "top5": top5,
        "split": split,
        "run_id": f"{benchmark}{split}/{recipe}/{kw.get('randaug_num_ops', '')}{kw.get('randaug_magnitude', '')}/s{seed}",
        **kw,
    }


@pytest.fixture(scope="module")
def reference():
    return ref_mod.load_reference(REPO / "results" / "paper_reference.csv")


# ------------------------------------------------------------------------------ reference CSV


def test_reference_covers_every_table_row(reference):
    counts = reference.groupby("table").size().to_dict()
    assert counts == {2: 5, 3: 4, 4: 6, 5: 6, 6: 14 * 4, 7: 10, 8: 5}
    assert (reference["source"].str.startswith("Table ")).all()
    # the source names the same table as the table column
    assert all(
        s.startswith(f"Table {t},")
        for t, s in zip(reference["table"], reference["source"], strict=True)
    )


def test_reference_keys_match_table_builders(reference):
    for t, rows in T.TABLE_ROWS.items():
        assert list(reference[reference["table"] == t]["key"]) == [k for k, _ in rows]
    assert set(reference[reference["table"] == 2]["key"]) == {"baseline"} | {
        r for _, r, _ in T.RANDAUG_MODES
    }
    assert list(dict.fromkeys(reference[reference["table"] == 6]["key"])) == [
        k for k, _ in T.TABLE6_ROWS
    ]
    assert list(reference[reference["table"] == 7]["key"]) == [r[0] for r in T.TABLE7_ROWS]


def test_reference_table6_average_is_mean_of_splits(reference):
    """An internal consistency check on the transcription: the paper's Average = mean of splits."""
    t6 = reference[reference["table"] == 6]
    for key, g in t6.groupby("key"):
        splits = g[g["split"].isin(["1", "2", "3"])]
        avg = g[g["split"] == "average"].iloc[0]
        for m in ("top1", "top5"):
            assert abs(splits[m].mean() - avg[m]) < 0.02, (key, m)


@pytest.mark.skipif(not PAPER.is_file(), reason="paper text not available")
def test_reference_numbers_appear_in_the_paper_text(reference):
    """Each table row's numbers occur, in order, on the paper's line for that row."""
    lines = PAPER.read_text(encoding="utf-8").splitlines()
    numbers_on = [re.findall(r"\d+\.\d+", ln) for ln in lines]
    for (table, key), g in reference[reference["table"].between(2, 6)].groupby(
        ["table", "key"], sort=False
    ):
        if table == 6:
            ordered = g.set_index("split").loc[["1", "2", "3", "average"]]
            want = [f"{v:.2f}" for _, r in ordered.iterrows() for v in (r["top1"], r["top5"])]
        else:
            want = [f"{g.iloc[0]['top1']:.2f}", f"{g.iloc[0]['top5']:.2f}"]
        assert any(nums[-len(want) :] == want for nums in numbers_on), (table, key, want)
    text = PAPER.read_text(encoding="utf-8")
    for _, r in reference[reference["table"].isin([7, 8])].iterrows():
        assert f"{r['top1']:.2f}" in text or f"{r['top1']:.1f}" in text, r["source"]


def test_load_reference_rejects_bad_files(tmp_path, reference):
    with pytest.raises(FileNotFoundError, match="paper reference"):
        ref_mod.load_reference(tmp_path / "nope.csv")
    bad = reference.copy()
    bad.loc[0, "top1"] = 149.37
    bad.to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(ValueError, match="top1"):
        ref_mod.load_reference(tmp_path / "a.csv")
    dup = pd.concat([reference, reference.iloc[[0]]])
    dup.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(ValueError, match="duplicated"):
        ref_mod.load_reference(tmp_path / "b.csv")
    reference.drop(columns="source").to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValueError, match="source"):
        ref_mod.load_reference(tmp_path / "c.csv")


# ------------------------------------------------------------------------------ runs and seeds


def test_collect_runs_reads_records_from_disk(tmp_path):
    run = tmp_path / "ucf101_val" / "baseline" / "seed0"
    run.mkdir(parents=True)
    (run / "run.json").write_text(
        json.dumps({**rec("ucf101_val", "baseline"), "scores_path": "scores.csv"})
    )
    (run / "metrics.json").write_text(json.dumps({"train_top1": 71.5, "num_classes": 12}))
    df = T.collect_runs(tmp_path)
    assert list(df.columns) == list(T.RUN_COLUMNS)
    assert df.loc[0, "scores_path"] == str(run / "scores.csv")
    assert df.loc[0, "train_top1"] == 71.5 and df.loc[0, "num_classes"] == 12
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "run.json").write_text(json.dumps({"benchmark": "ucf101_val", "seed": 0}))
    with pytest.raises(ValueError, match="recipe"):
        T.collect_runs(tmp_path)


def test_collect_runs_leaves_out_a_record_removed_while_listing(tmp_path, monkeypatch):
    # make repro removes a stage's run folders when it starts, possibly while a table reads
    for seed in (0, 1):
        run = tmp_path / "ucf101_val" / "baseline" / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps(rec("ucf101_val", "baseline", seed=seed)))
    gone = tmp_path / "ucf101_val" / "cutmix" / "seed0" / "run.json"
    listing = [*sorted(tmp_path.rglob("run.json")), gone]  # listed, then removed
    monkeypatch.setattr(type(tmp_path), "rglob", lambda self, pattern: iter(listing))
    df = T.collect_runs(tmp_path)
    assert sorted(df["seed"]) == [0, 1]


def test_collect_runs_validates_records():
    with pytest.raises(ValueError, match="benchmark"):
        T.collect_runs(records=[rec("kinetics", "baseline")])
    with pytest.raises(ValueError, match="percentage"):
        T.collect_runs(records=[rec("ucf101_val", "baseline", top1=0.5 * 300)])
    with pytest.raises(ValueError, match="exactly one"):
        T.collect_runs()
    with pytest.raises(ValueError, match="duplicated run_id"):
        T.collect_runs(records=[rec("ucf101_val", "baseline"), rec("ucf101_val", "baseline")])


def test_summarize_mean_std_and_seed_count():
    runs = T.collect_runs(
        records=[
            rec("ucf101_val", "mixup", s, top1=v, top5=v + 10)
            for s, v in enumerate([40.0, 44.0, 48.0])
        ]
    )
    s = T.summarize(runs, ["benchmark", "recipe"]).iloc[0]
    assert s["top1"] == pytest.approx(44.0)
    assert s["top1_std"] == pytest.approx(4.0)  # sample std (ddof=1)
    assert s["top5"] == pytest.approx(54.0)
    assert s["n_seeds"] == 3
    one = T.summarize(runs.iloc[:1], ["benchmark", "recipe"]).iloc[0]
    assert math.isnan(one["top1_std"]) and one["n_seeds"] == 1


def test_summarize_rejects_repeated_seed():
    runs = T.collect_runs(
        records=[
            {**rec("ucf101_val", "mixup"), "run_id": "a"},
            {**rec("ucf101_val", "mixup"), "run_id": "b"},
        ]
    )
    with pytest.raises(ValueError, match="same seed"):
        T.summarize(runs, ["benchmark", "recipe"])


def test_format_value():
    assert T.format_value(12.345) == "12.35"
    assert T.format_value(12.345, 10.1, 14.5, 3) == "12.35 [10.10, 14.50]"
    assert T.format_value(12.345, 10.1, 14.5, 3, marks="†‡") == "12.35 [10.10, 14.50] †‡"
    assert T.format_value(math.nan) == "—"
    assert T.format_value(10.0, 1.0, 2.0, 0) == "—"
    assert T.format_value(10.0, math.nan, math.nan, 1) == "10.00"


# ------------------------------------------------------------------------------ the tables


def grid_records(seeds=(0,)):
    out = [rec("ucf101_val", "baseline", s, 30.0 + s, 60.0) for s in seeds]
    for i, (_, recipe, _) in enumerate(T.RANDAUG_MODES):
        for n in (1, 2):
            for m in (3, 5):
                for s in seeds:
                    # best grid point per mode: N=2, M=5 for even i, N=1, M=3 for odd i
                    best = (n, m) == ((2, 5) if i % 2 == 0 else (1, 3))
                    out.append(
                        rec(
                            "ucf101_val",
                            recipe,
                            s,
                            40.0 + i + (10 if best else 0) + s,
                            70.0,
                            randaug_num_ops=n,
                            randaug_magnitude=m,
                        )
                    )
    return out


def test_table2_picks_best_grid_point_per_mode(reference):
    runs = T.collect_runs(records=grid_records(seeds=(0, 1)))
    t2 = T.table2(runs, reference)
    assert list(t2["key"]) == [
        "baseline",
        "randaug_spatial",
        "randaug_temporal",
        "randaug_temporal_plus",
        "randaug_mix",
    ]
    assert list(zip(t2["N"][1:], t2["M"][1:], strict=True)) == [(2, 5), (1, 3), (2, 5), (1, 3)]
    assert t2.loc[1, "top1"] == pytest.approx(50.5)  # mean of seeds 0, 1 (50, 51)
    assert t2.loc[1, "n_replicates"] == 2
    # hand-written records have no per-video scores: no interval, no test, the Δ of the means
    assert math.isnan(t2.loc[1, "top1_ci_lo"]) and math.isnan(t2.loc[1, "p_vs_baseline"])
    assert t2.loc[1, "delta_vs_baseline"] == pytest.approx(50.5 - 30.5)
    assert list(t2["counterpart"]) == [
        "",
        "",
        "randaug_spatial",
        "randaug_spatial",
        "randaug_spatial",
    ]
    # the paper's numbers are beside ours, untouched
    assert list(t2["paper_top1"]) == [49.37, 66.87, 67.33, 69.23, 68.24]
    grid = T.randaug_grid_table(runs)
    assert len(grid) == 16 and list(grid["mode"].unique()) == [m for m, _, _ in T.RANDAUG_MODES]


def test_table2_missing_runs_raise(reference):
    runs = T.collect_runs(records=[r for r in grid_records() if r["recipe"] != "randaug_mix"])
    with pytest.raises(T.MissingRunsError, match="randaug_mix"):
        T.table2(runs, reference)


@pytest.mark.parametrize("table", [3, 4, 5])
def test_ablation_tables(reference, table):
    recs = [
        rec("ucf101_val", r, 0, 10.0 + i, 20.0 + i) for i, (r, _) in enumerate(T.TABLE_ROWS[table])
    ]
    # a run of another benchmark with the same recipe must not leak in
    recs.append(rec("hmdb51", T.TABLE_ROWS[table][1][0], 0, 99.0, 99.0, split="1"))
    t = T.ablation_table(T.collect_runs(records=recs), reference, table=table)
    assert list(t["key"]) == [r for r, _ in T.TABLE_ROWS[table]]
    assert list(t["top1"]) == [10.0 + i for i in range(len(t))]
    ref = reference[reference["table"] == table]
    assert list(t["paper_top1"]) == list(ref["top1"])
    with pytest.raises(T.MissingRunsError, match=T.TABLE_ROWS[table][-1][0]):
        T.ablation_table(T.collect_runs(records=recs[:-2]), reference, table=table)
    with pytest.raises(ValueError, match="table must be"):
        T.ablation_table(T.collect_runs(records=recs), reference, table=6)


def hmdb_records(recipes, seeds=(0,)):
    out = []
    for i, (key, _) in enumerate(T.TABLE6_ROWS):
        for split in (1, 2, 3):
            for s in seeds:
                out.append(
                    rec(
                        "hmdb51",
                        recipes.get(key, key),
                        s,
                        10.0 * split + i + s,
                        50.0 + split,
                        split=str(split),
                    )
                )
    return out


def test_table6_splits_and_average(reference):
    recipes = {"framecutmix": "framecutmix_a5", "cubecutmix": "cubecutmix_a2"}
    runs = T.collect_runs(records=hmdb_records(recipes, seeds=(0, 2)))
    t6 = T.table6(runs, reference, recipes=recipes)
    assert list(t6["key"]) == [k for k, _ in T.TABLE6_ROWS]
    row = t6.set_index("key").loc["framecutmix"]
    assert row["recipe"] == "framecutmix_a5"
    i = [k for k, _ in T.TABLE6_ROWS].index("framecutmix")
    assert row["split2_top1"] == pytest.approx(20.0 + i + 1.0)  # mean of seeds 0 and 2
    assert row["avg_top1"] == pytest.approx(np.mean([10 + i + 1, 20 + i + 1, 30 + i + 1]))
    assert row["avg_top5"] == pytest.approx(52.0)
    assert row["split2_n_replicates"] == 2 and row["avg_n_replicates"] == 6
    assert row["avg_counterpart"] == row["split1_counterpart"] == "cutmix"
    assert row["split1_paper_top1"] == 34.97 and row["avg_paper_top1"] == 34.36
    with pytest.raises(T.MissingRunsError, match="split 3"):
        T.table6(
            runs[~((runs["recipe"] == "mixup") & (runs["split"] == "3"))],
            reference,
            recipes=recipes,
        )


# ------------------------------------------------------------------------------ scores, ensemble


def scores_frame(probs, labels):
    df = pd.DataFrame({"video": [f"v{i}" for i in range(len(labels))], "label": labels})
    for k in range(len(probs[0])):
        df[f"score_{k}"] = [p[k] for p in probs]
    return df


def test_topk_accuracy():
    df = scores_frame([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]], [0, 1, 1])
    assert topk_accuracy(df, 1) == pytest.approx(100 / 3)
    assert topk_accuracy(df, 2) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="k must be"):
        topk_accuracy(df, 4)


def test_ensemble_averages_scores_not_votes():
    a = scores_frame([[0.6, 0.4], [0.45, 0.55]], [1, 1])
    b = scores_frame([[0.1, 0.9], [0.52, 0.48]], [1, 1])
    ens = T.ensemble_scores([a, b.iloc[::-1]])  # order of videos does not matter
    assert ens["score_1"].tolist() == pytest.approx([0.65, 0.515])
    assert topk_accuracy(ens, 1) == 100.0
    assert topk_accuracy(a, 1) == 50.0 and topk_accuracy(b, 1) == 50.0
    with pytest.raises(ValueError, match="other videos"):
        T.ensemble_scores([a, a.assign(video=["x", "y"])])
    with pytest.raises(ValueError, match="at least 2"):
        T.ensemble_scores([a])


def vip_records(tmp_path, seeds=(0,)):
    recs = []
    rng = np.random.default_rng(0)
    labels = [0, 1, 2, 3, 0, 1]
    for s in seeds:
        recs.append(rec("ucf101_val", "baseline", s, 30.0, 60.0))
        for r in ("framecutmixup", "randaugt_fademixup", "randaugt_framecutmixup"):
            recs.append(rec("ucf101_val", r, s, 40.0, 70.0))
        for _mode, recipe, _ in T.RANDAUG_MODES:
            recs.append(
                rec("ucf101_val", recipe, s, 45.0, 75.0, randaug_num_ops=2, randaug_magnitude=5)
            )
        for r in (
            "baseline",
            "randaugt",
            "randaugt_fademixup",
            "randaugt_framecutmixup",
            "randaugt_mixup",
        ):
            probs = rng.dirichlet(np.ones(4), size=len(labels)).tolist()
            path = tmp_path / f"{r}_{s}.csv"
            df = scores_frame(probs, labels)
            df.to_csv(path, index=False)
            recs.append(
                {
                    **rec("vipriors_test", r, s, topk_accuracy(df, 1), topk_accuracy(df, 4)),
                    "scores_path": str(path),
                }
            )
    return recs


def test_table7_and_8(tmp_path, reference):
    members = ["randaugt_fademixup", "randaugt_framecutmixup", "randaugt_mixup"]
    runs = T.collect_runs(records=vip_records(tmp_path, seeds=(0, 1)))
    t7 = T.table7(runs, reference, ensemble_members=members)
    assert list(t7["key"]) == [r[0] for r in T.TABLE7_ROWS]
    ens = t7.set_index("key").loc["test/ensemble"]
    # recompute the ensemble by hand for each seed
    want = []
    for s in (0, 1):
        frames = [pd.read_csv(tmp_path / f"{m}_{s}.csv") for m in members]
        mean = (
            sum(f[[c for c in f.columns if c.startswith("score_")]].to_numpy() for f in frames) / 3
        )
        want.append(100.0 * np.mean(mean.argmax(1) == frames[0]["label"].to_numpy()))
    assert ens["top1"] == pytest.approx(np.mean(want))
    assert ens["n_replicates"] == 2
    assert ens["counterpart"] == "test/randaugt"
    assert ens["top1_ci_lo"] <= ens["top1"] <= ens["top1_ci_hi"]  # test runs carry scores
    assert 0 < ens["p_vs_baseline"] <= 1 and 0 < ens["p_vs_counterpart"] <= 1
    assert ens["paper_top1"] == 86.04 and math.isnan(ens["paper_top5"])
    assert t7.set_index("key").loc["val/randaugt", "top1"] == 45.0
    t8 = T.table8(t7, reference, backbone="SlowFast (smoke)")
    assert list(t8["key"]) == [
        "first_place",
        "second_place",
        "third_place",
        "ours_single",
        "ours_ensemble",
    ]
    assert t8["top1"].isna().sum() == 3  # no numbers of ours for the other teams
    assert t8.loc[4, "top1"] == pytest.approx(ens["top1"]) and t8.loc[4, "paper_top1"] == 86.0
    assert t8.loc[3, "backbone"] == "SlowFast (smoke)"


def test_ensemble_needs_every_member(tmp_path, reference):
    runs = T.collect_runs(records=vip_records(tmp_path))
    with pytest.raises(T.MissingRunsError, match="randaugt_cutmixup"):
        T.table7(runs, reference, ensemble_members=["randaugt_mixup", "randaugt_cutmixup"])


# ------------------------------------------------------------------------------ rendering


def test_render_and_write(tmp_path, reference):
    runs = T.collect_runs(records=grid_records(seeds=(0, 1, 2)))
    rendered = T.render_table(
        2, T.table2(runs, reference), "Table 2 — profile synthetic (generated UCF-101 layout)"
    )
    disp = rendered.display
    assert list(disp.columns) == [
        "Method",
        "N, M",
        "Top-1 (ours)",
        "Top-1 (paper)",
        "Top-5 (ours)",
        "Top-5 (paper)",
    ]
    assert disp.loc[0, "Top-1 (ours)"] == "31.00"  # no per-video scores: no interval
    assert disp.loc[0, "Top-1 (paper)"] == "49.37"
    csv_path, md_path = T.write_table(rendered, tmp_path / "tables", "table2")
    md = md_path.read_text()
    assert md.startswith("*Table 2 — profile synthetic")
    assert re.search(r"^\| RandAugment Temporal\+ +\| 2, 5 +\|", md, re.M)
    back = pd.read_csv(csv_path, skiprows=1)
    assert back["top1"].tolist() == pytest.approx(rendered.data["top1"].tolist())
    assert not list((tmp_path / "tables").glob(".*tmp"))
    with pytest.raises(ValueError, match="caption"):
        T.render_table(2, rendered.data, "  ")


def test_render_table6_columns(reference):
    runs = T.collect_runs(records=hmdb_records({}))
    rendered = T.render_table(6, T.table6(runs, reference), "Table 6")
    cols = list(rendered.display.columns)
    assert cols[0] == "Method" and len(cols) == 1 + 4 * 4
    assert "Average Top-1 (paper)" in cols and "Split-3 Top-5 (ours)" in cols
    assert rendered.display.loc[0, "Average Top-1 (paper)"] == "35.56"


def test_evaluation_summary_reads_the_score_files(tmp_path):
    runs = T.collect_runs(records=vip_records(tmp_path))
    test = runs[runs["benchmark"] == "vipriors_test"]
    assert T.evaluation_summary(test) == (
        "Evaluated on 6 videos (vipriors_test), 4 classes: chance is 25.0 % top-1, 100.0 % top-5."
        " Unreadable videos left out at preparation: 0 (UCF-101); videos that failed to decode "
        "during these runs: 0."
    )
    counted = T.collect_runs(
        records=[
            {**r, "unreadable_videos": 3, "decode_failures": {"train": 2, "eval": 1}}
            for r in vip_records(tmp_path)
            if r["benchmark"] == "vipriors_test"
        ]
    )
    summary = T.evaluation_summary(counted)
    assert "left out at preparation: 3 (UCF-101)" in summary
    assert f"during these runs: {3 * len(counted)}." in summary
    with pytest.raises(ValueError, match="no per-video scores"):
        T.evaluation_summary(runs[runs["benchmark"] == "ucf101_val"])


# ------------------------------------------------------------------------------ intervals, marks


def write_run(folder, record, correct, labels, num_classes, *, train_top1=None, rng):
    """A run folder as the pipeline leaves it: run.json, metrics.json and scores.csv whose
    top-1 (and top-5) correctness per video is ``correct``."""
    folder.mkdir(parents=True)
    s = rng.random((len(labels), num_classes)) * 0.5
    rows = np.arange(len(labels))
    s[rows, labels] = np.where(correct, 1.0, -1.0)  # wrong: the label scores lowest
    df = pd.DataFrame({"video": [f"v{i:03d}" for i in rows], "label": labels})
    for k in range(num_classes):
        df[f"score_{k}"] = s[:, k]
    df.to_csv(folder / "scores.csv", index=False)
    top1 = topk_accuracy(df, 1)
    (folder / "run.json").write_text(
        json.dumps(
            {**record, "top1": top1, "top5": topk_accuracy(df, 5), "scores_path": "scores.csv"}
        )
    )
    metrics = {"top1": top1, "num_classes": num_classes}
    if train_top1 is not None:
        metrics["train_top1"] = train_top1
    (folder / "metrics.json").write_text(json.dumps(metrics))


def table3_runs(root, *, num_classes=20, seeds=(0, 1, 2), n_videos=160):
    """Table 3 runs on disk: CutOut and CubeCutOut score exactly as the baseline (40 %),
    FrameCutOut is right on ~27 more points of the videos."""
    rng = np.random.default_rng(11)
    labels = rng.integers(0, num_classes, n_videos)
    for s in seeds:
        base = rng.random(n_videos) < 0.4
        gain = rng.random(n_videos) < 0.45
        for recipe, correct in (
            ("baseline", base),
            ("cutout", base),
            ("framecutout", base | gain),
            ("cubecutout", base),
        ):
            record = {"benchmark": "ucf101_val", "recipe": recipe, "seed": s, "split": None}
            train = 80.0 + s if recipe == "baseline" else 50.0
            write_run(
                root / "ucf101_val" / recipe / f"seed{s}",
                record,
                correct,
                labels,
                num_classes,
                train_top1=train,
                rng=rng,
            )
    return T.collect_runs(root / "ucf101_val")


def test_table3_intervals_marks_and_caption(tmp_path, reference):
    runs = table3_runs(tmp_path)
    t3 = T.ablation_table(runs, reference, table=3, n_boot=500)
    row = t3.set_index("key")
    for key in row.index:
        assert row.loc[key, "top1_ci_lo"] <= row.loc[key, "top1"] <= row.loc[key, "top1_ci_hi"]
        assert row.loc[key, "n_replicates"] == 3 and row.loc[key, "num_classes"] == 20
    # the cell's mean is the mean over seeds of the score files' accuracy (= the records' top1)
    base_runs = runs[runs["recipe"] == "baseline"]
    assert row.loc["baseline", "top1"] == pytest.approx(base_runs["top1"].mean())
    assert row.loc["framecutout", "p_vs_baseline"] < 0.05
    assert row.loc["framecutout", "p_vs_counterpart"] < 0.05
    assert row.loc["framecutout", "delta_vs_baseline"] > 15
    assert row.loc["cutout", "p_vs_baseline"] == 1.0 and row.loc["cutout", "delta_vs_baseline"] == 0
    assert row.loc["cubecutout", "p_vs_counterpart"] == 1.0
    assert list(t3["counterpart"]) == ["", "", "cutout", "cutout"]
    assert row.loc["baseline", "train_top1"] == pytest.approx(81.0)  # mean of 80, 81, 82

    rendered = T.render_table(3, t3, "Table 3 — Data Deleting Results.")
    disp = rendered.display.set_index("Method")["Top-1 (ours)"]
    assert disp["FrameCutOut"].endswith(f"] {T.MARK_BASELINE}{T.MARK_COUNTERPART}")
    assert disp["CutOut"].endswith("]") and disp["Baseline"].endswith("]")
    assert disp["CubeCutOut"].endswith("]")
    assert "Top-5 (ours)" in rendered.display.columns  # 5/20 = 25 % < 50 %
    cap = rendered.caption
    assert "K = 20 classes" in cap and "n = 3 seeds per cell" in cap
    assert PAIRED_TEST in cap and "95 % hierarchical percentile bootstrap CI" in cap
    gap = 81.0 - row.loc["baseline", "top1"]
    assert "running training top-1 of the last epoch 81.00" in cap
    assert f"validation top-1 {row.loc['baseline', 'top1']:.2f}" in cap
    assert f"gap (train − validation) {gap:+.2f} points (mean over 3 replicates)" in cap
    assert "omitted" not in cap

    csv_path, _ = T.write_table(rendered, tmp_path / "tables", "table3")
    back = pd.read_csv(csv_path, skiprows=1)
    for col in ("top1", "top1_ci_lo", "top1_ci_hi", "n_replicates", "p_vs_baseline",
                "p_vs_counterpart", "delta_vs_baseline", "delta_vs_counterpart", "paper_top1",
                "top5", "paper_top5"):  # fmt: skip
        assert col in back.columns, col
    assert back["p_vs_baseline"].tolist()[1:] == pytest.approx(
        t3["p_vs_baseline"].tolist()[1:], abs=1e-4
    )


def test_top5_columns_go_where_chance_is_half_or_more(tmp_path, reference):
    t3 = T.ablation_table(
        table3_runs(tmp_path, num_classes=6, seeds=(0,)), reference, table=3, n_boot=200
    )
    rendered = T.render_table(3, t3, "Table 3 — Data Deleting Results.")
    assert list(rendered.display.columns) == ["Method", "Top-1 (ours)", "Top-1 (paper)"]
    assert not [c for c in rendered.data.columns if "top5" in c]
    assert "Top-5 omitted: chance 5/K = 5/6 ≥ 50 %" in rendered.caption
    # one replicate: the caption says the interval is a bootstrap over videos only
    assert "n = 1 seed per cell (one replicate: the interval is a bootstrap over videos only)" in (
        rendered.caption
    )
    assert not T.show_top5(t3) and T.show_top5(t3.assign(num_classes=10)) is False
    assert T.show_top5(t3.assign(num_classes=11))


def test_paired_tests_need_the_same_seeds(tmp_path, reference):
    runs = table3_runs(tmp_path, seeds=(0, 1))
    runs = runs[~((runs["recipe"] == "cubecutout") & (runs["seed"] == 1))]
    with pytest.raises(ValueError, match=r"cubecutout vs baseline.*missing from A \['1'\]"):
        T.ablation_table(runs, reference, table=3, n_boot=100)


@pytest.mark.parametrize("layout", ["new", "old"])
def test_table6_from_either_hmdb_layout(tmp_path, reference, layout):
    """Table 6 reads runs by their records only: hmdb51/<recipe>/split<k>/seed<s> (new) or
    hmdb51-split<k>/<recipe>/seed<s> (old) give the same table."""
    recipes = {"framecutmix": "framecutmix_a5", "cubecutmix": "cubecutmix_a2"}
    rng = np.random.default_rng(3)
    for split in (1, 2, 3):
        n = 60 + split  # each split has its own test videos
        labels = rng.integers(0, 12, n)
        base = rng.random(n) < 0.3
        for i, (key, _) in enumerate(T.TABLE6_ROWS):
            recipe = recipes.get(key, key)
            correct = base | (rng.random(n) < (0.6 if key == "fademixup" else 0.0))
            folder = (
                tmp_path / "hmdb51" / recipe / f"split{split}" / "seed0"
                if layout == "new"
                else tmp_path / f"hmdb51-split{split}" / recipe / "seed0"
            )
            record = {"benchmark": "hmdb51", "recipe": recipe, "seed": 0, "split": split}
            write_run(folder, record, correct, labels, 12, train_top1=70.0 + i, rng=rng)
    runs = T.collect_runs(tmp_path / "hmdb51" if layout == "new" else tmp_path)
    t6 = T.table6(runs, reference, recipes=recipes, n_boot=300).set_index("key")
    assert (t6["split1_n_replicates"] == 1).all() and (t6["avg_n_replicates"] == 3).all()
    means = t6[[f"split{k}_top1" for k in (1, 2, 3)]].mean(axis=1)
    assert (t6["avg_top1"] - means).abs().max() < 1e-9
    assert t6.loc["fademixup", "avg_p_vs_baseline"] < 0.05
    assert t6.loc["fademixup", "avg_p_vs_counterpart"] < 0.05  # vs MixUp (= baseline here)
    assert t6.loc["fademixup", "avg_counterpart"] == "mixup"
    assert t6.loc["cutout", "avg_p_vs_baseline"] == 1.0
    rendered = T.render_table(6, t6.reset_index(), "Table 6 — HMDB51.")
    cap = rendered.caption
    assert "K = 12 classes" in cap and "n = 1 seed per cell" in cap
    assert "Average: n = 3 split × seed replicates per cell" in cap
    assert "Baseline (all splits): running training top-1 of the last epoch 70.00" in cap
    assert "gap (train − test)" in cap and PAIRED_TEST in cap
    disp = rendered.display.set_index("Method")
    assert disp.loc["FadeMixUp", "Average Top-1 (ours)"].endswith(
        T.MARK_BASELINE + T.MARK_COUNTERPART
    )
    assert "Split-2 Top-5 (ours)" in disp.columns  # 5/12 < 50 %


def test_table7_and_8_captions_name_both_baselines(tmp_path, reference):
    members = ["randaugt_fademixup", "randaugt_framecutmixup", "randaugt_mixup"]
    recs = [
        {**r, "train_top1": 90.0} if r["recipe"] == "baseline" else r
        for r in vip_records(tmp_path, seeds=(0, 1, 2))
    ]
    runs = T.collect_runs(records=recs)
    t7 = T.table7(runs, reference, ensemble_members=members, n_boot=200)
    cap7 = T.render_table(7, t7, "Table 7 — VIPriors.").caption
    assert "Baseline (validation): running training top-1 of the last epoch 90.00" in cap7
    assert "Baseline (test): running training top-1 of the last epoch 90.00" in cap7
    assert "K = 4 classes" in cap7 and "n = 3 seeds per cell" in cap7
    assert "Top-5 omitted: chance 5/K = 5/4" in cap7
    t8 = T.table8(t7, reference, backbone="SlowFast (smoke)")
    r8 = T.render_table(8, t8, "Table 8 — entries.")
    assert "Our test baseline: running training top-1 of the last epoch 90.00" in r8.caption
    assert PAIRED_TEST in r8.caption and "K = 4 classes" in r8.caption
    ours = r8.display[r8.display["Entry"] == "Ours (ensemble)"]["Top-1 (ours)"].iloc[0]
    assert "[" in ours  # the ensemble's interval, from the members' score files
    assert r8.display["Top-1 (ours)"].tolist()[:3] == ["—"] * 3
