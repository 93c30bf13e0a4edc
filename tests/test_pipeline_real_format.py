"""The `paper` profile end to end on a small tree in the datasets' own format.

UCF-101 and HMDB-51 are MPEG-4 part 2 AVIs with B-frames, 320×240 (HMDB-51 also 400×240 and
others), some shorter than a 64-frame clip, and a few broken files. This test writes such a tree,
named and listed exactly as the official distributions are, then runs what a user of the paper
profile runs: `prepare` with `source: real` (a class subset per dataset), one SlowFast-50 run at
64×160² per benchmark for a couple of steps, and the run records the table stages read.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
from _data_helpers import write_indexed, write_truncated

from tempaug import pipeline
from tempaug.analysis import tables

REPO = Path(__file__).resolve().parents[1]

UCF_CLASSES = ["ApplyEyeMakeup", "ApplyLipstick", "Archery"]
HMDB_CLASSES = ["brush_hair", "cartwheel"]


def _ucf_tree(root: Path) -> None:
    """UCF-101/<Class>/v_<Class>_gXX_cYY.avi + ucfTrainTestlist (official naming)."""
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text(
        "".join(f"{i + 1} {c}\n" for i, c in enumerate(UCF_CLASSES))
    )
    train, test = [], []
    for i, c in enumerate(UCF_CLASSES):
        for cc in (1, 2):  # VIPriors: the first half of a class trains, the rest validates
            train.append((f"{c}/v_{c}_g08_c{cc:02d}.avi", i + 1))
        test.append(f"{c}/v_{c}_g01_c01.avi")
    (lists / "trainlist01.txt").write_text("".join(f"{v} {k}\n" for v, k in train))
    (lists / "testlist01.txt").write_text("".join(f"{v}\n" for v in test))
    for n, video in enumerate([v for v, _ in train] + test):
        if video.split("/")[0] == "ApplyLipstick":
            continue  # not among the chosen classes: never opened
        path = root / "UCF-101" / video
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = 40 if n == 0 else 72  # one video shorter than the 64-frame clip
        write_indexed(path, frames, size=(240, 320), bframes=2, gop=250 if n % 2 else 12)


def _hmdb_tree(root: Path) -> str:
    """hmdb51/<class>/<video>.avi + testTrainMulti_7030_splits; returns the truncated video."""
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    broken = ""
    for c in HMDB_CLASSES:
        videos = [f"{c}_clip_{j}.avi" for j in range(4)]
        for k in (1, 2, 3):
            # official codes: 1 = train, 2 = test, 0 = unused; rotate so the splits differ
            codes = [1, 1, 2, 2]
            codes = codes[k - 1 :] + codes[: k - 1]
            (splits / f"{c}_test_split{k}.txt").write_text(
                "".join(f"{v} {code} \n" for v, code in zip(videos, codes, strict=True))
            )
        for j, v in enumerate(videos):
            path = root / "hmdb51" / c / v
            path.parent.mkdir(parents=True, exist_ok=True)
            size = (240, 400) if j % 2 else (240, 320)
            write_indexed(path, 70, size=size, bframes=2, gop=12)
        if c == "cartwheel":
            broken = f"{c}/{videos[3]}"
            whole = root / "hmdb51" / broken
            write_truncated(whole, whole, fraction=0.3)
    return broken


def paper_params_for(root: Path, *, workers: int = 0, batch: int = 2) -> dict:
    """The `paper` profile on the tree at ``root`` (``_ucf_tree``, ``_hmdb_tree``): the paper's
    model, clip and crop; one epoch of ``batch``-clip steps and one view instead of 150 epochs;
    HMDB-51 split 1 only. Also used by ``benchmarks/memory.py``."""
    params = copy.deepcopy(pipeline.load_params(REPO / "params.yaml"))
    paper = copy.deepcopy(params["profiles"]["paper"])
    paper["data"].update(
        ucf101_root=str(root / "UCF-101"),
        ucf101_lists=str(root / "ucfTrainTestlist"),
        hmdb51_root=str(root / "hmdb51"),
        hmdb51_splits=str(root / "testTrainMulti_7030_splits"),
        classes={"ucf101": ["Archery", "ApplyEyeMakeup"], "hmdb51": HMDB_CLASSES},
    )
    paper["train"]["data"].update(num_workers=workers)
    paper["train"]["optim"].update(epochs=1, batch_size=batch, warmup_epochs=0)
    paper["train"]["eval"].update(num_clips=1, batch_size=batch, every=0)
    paper["train"]["runtime"].update(device="cpu", progress=False)
    paper["test_eval"] = {"num_clips": 1, "num_crops": 3}
    params["profile"] = paper
    params["experiments"]["hmdb51"]["splits"] = [1]
    pipeline.check_params(params)
    return params


@pytest.fixture(scope="module")
def paper_params(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    _ucf_tree(root)
    broken = _hmdb_tree(root)
    return root, paper_params_for(root), broken


@pytest.fixture(scope="module")
def prepared(paper_params):
    root, params, broken = paper_params
    out = pipeline.prepare_data(
        params, data_dir=root / "prepared", splits_dir=root / "splits", project_root=root
    )
    return root, params, broken, out


def test_prepare_reads_the_official_layout_and_leaves_out_the_broken_video(prepared):
    root, _, broken, out = prepared
    ucf = out.tables["ucf101_vipriors"]
    assert sorted(set(ucf["class_name"])) == ["ApplyEyeMakeup", "Archery"]
    assert ucf["subset"].value_counts().to_dict() == {"train": 2, "validation": 2, "test": 2}
    assert out.datasets["ucf101"]["classes"] == ["Archery", "ApplyEyeMakeup"]
    hmdb = out.tables["hmdb51_split1"]
    assert broken not in set(hmdb["video"]) and len(hmdb) == 7
    assert out.datasets["hmdb51"]["unreadable"] == 1
    assert list(pd.read_csv(root / "splits" / "unreadable.csv")["video"]) == [broken]
    assert "left out of every table: 1" in (root / "splits" / "data_report.md").read_text()


@pytest.mark.slow
def test_one_slowfast50_run_per_benchmark_and_the_tables_read_them(prepared):
    root, params, _, _ = prepared
    specs = [
        pipeline.RunSpec("ucf101_val", "randaugt", 0),
        pipeline.RunSpec("hmdb51", "framecutmix_a5", 0, split=1),
        pipeline.RunSpec("vipriors_test", "baseline", 0),
    ]
    records = [
        pipeline.execute_run(
            params,
            spec,
            splits_dir=root / "splits",
            results_dir=root / "results",
            scratch_dir=root / "runs",
            project_root=root,
        )
        for spec in specs
    ]
    for spec, record in zip(specs, records, strict=True):
        folder = root / "results" / spec.run_id
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["model"].lower().startswith("slowfast") and metrics["num_params"] > 30e6
        scores = pd.read_csv(folder / "scores.csv")
        # every evaluation video has a score (HMDB-51: the truncated test video is left out)
        expected = {"ucf101_val": 2, "hmdb51": 3, "vipriors_test": 2}[spec.benchmark]
        assert len(scores) == expected and scores["video"].is_unique
        assert 0.0 <= record["top1"] <= record["top5"] <= 100.0
    assert records[2]["views"] == 3  # 1 clip × 3 crops
    # the truncated HMDB-51 video is counted in the run records the table captions read
    assert [r["unreadable_videos"] for r in records] == [0, 1, 0]
    assert all(r["decode_failures"] == {"train": 0, "eval": 0} for r in records)
    runs = tables.collect_runs(root / "results")
    assert set(runs["run_id"]) == {s.run_id for s in specs}
