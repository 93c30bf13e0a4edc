"""How a run stage runs: resume only with the same code, data and configuration; one DDP run
over several processes (torchrun, gloo on CPU); unreadable videos never reach a run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tempaug import pipeline
from tempaug.pipeline import runs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke():
    return pipeline.smoke_params(pipeline.load_params(REPO / "params.yaml"))


@pytest.fixture(scope="module")
def prepared(smoke, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("launch")
    pipeline.prepare_data(
        smoke, data_dir=tmp / "data", splits_dir=tmp / "splits", project_root=tmp, full_scan=False
    )
    return tmp


def _execute(smoke, tmp: Path, spec: pipeline.RunSpec, name: str) -> dict:
    return pipeline.execute_run(
        smoke,
        spec,
        splits_dir=tmp / "splits",
        results_dir=tmp / name / "results",
        scratch_dir=tmp / name / "scratch",
        project_root=tmp,
    )


def test_fingerprint_follows_code_and_split_tables(prepared, tmp_path):
    splits = tmp_path / "splits"
    splits.mkdir()
    for p in (prepared / "splits").iterdir():
        (splits / p.name).write_bytes(p.read_bytes())
    first = runs.inputs_fingerprint(splits)
    assert runs.inputs_fingerprint(splits) == first
    table = splits / "ucf101_vipriors.csv"
    table.write_text(table.read_text().replace("validation", "train", 1))
    assert runs.inputs_fingerprint(splits) != first


def test_training_folder_is_kept_only_for_the_same_inputs(tmp_path):
    scratch = tmp_path / "run"
    runs._keep_scratch_only_for(scratch, "a")
    (scratch / "checkpoints").mkdir()
    (scratch / "checkpoints" / "last.pt").write_bytes(b"x")
    runs._keep_scratch_only_for(scratch, "a")  # same code and data: an interrupted run resumes
    assert (scratch / "checkpoints" / "last.pt").is_file()
    runs._keep_scratch_only_for(scratch, "b")  # changed: start afresh
    assert not (scratch / "checkpoints").exists()
    assert (scratch / "inputs.sha256").read_text().strip() == "b"


def test_rerun_with_unchanged_inputs_resumes_and_gives_the_same_scores(smoke, prepared):
    """The pipeline side of 'an interrupted dvc repro resumes': the persistent training folder
    is reused (resume: auto), and the published scores are those of the finished run."""
    spec = pipeline.RunSpec("ucf101_val", "baseline", 0)
    smoke = json.loads(json.dumps(smoke))
    smoke["profile"]["train"]["runtime"]["resume"] = "auto"
    _execute(smoke, prepared, spec, "resume")
    out = prepared / "resume"
    scores = (out / "results" / spec.run_id / "scores.csv").read_bytes()
    ckpt = out / "scratch" / spec.run_id / "checkpoints" / "last.pt"
    stamp = ckpt.stat().st_mtime_ns
    _execute(smoke, prepared, spec, "resume")
    assert ckpt.stat().st_mtime_ns == stamp  # nothing retrained: resumed at the last epoch
    assert (out / "results" / spec.run_id / "scores.csv").read_bytes() == scores


@pytest.mark.slow
def test_one_run_over_two_processes_with_torchrun(smoke, prepared):
    spec = pipeline.RunSpec("ucf101_val", "baseline", 0)
    one = json.loads(json.dumps(smoke))
    two = json.loads(json.dumps(smoke))
    two["profile"]["nproc_per_node"] = 2
    record = _execute(two, prepared, spec, "ddp")
    scores = pd.read_csv(prepared / "ddp" / "results" / spec.run_id / "scores.csv")
    cfg = pipeline.train_config(
        one, spec, splits_dir=prepared / "splits", out_dir=prepared / "x", project_root=prepared
    )
    assert len(scores) == len(cfg.data.eval_table) and scores["video"].is_unique
    metrics = json.loads((prepared / "ddp" / "results" / spec.run_id / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert 0.0 <= record["top1"] <= 100.0
    assert (prepared / "ddp" / "scratch" / spec.run_id / "launch" / "config.yaml").is_file()


def test_nproc_per_node_is_checked(smoke):
    bad = json.loads(json.dumps(smoke))
    bad["profile"]["nproc_per_node"] = 0
    with pytest.raises(pipeline.PipelineError, match="nproc_per_node"):
        pipeline.check_params(bad)


def test_unreadable_videos_are_left_out_and_counted(smoke, tmp_path):
    kwargs = dict(data_dir=tmp_path / "d", splits_dir=tmp_path / "s", project_root=tmp_path)
    first = pipeline.prepare_data(smoke, full_scan=False, **kwargs)
    table = first.tables["ucf101_vipriors"]
    victim = table[table["subset"] == "validation"]["video"].iloc[0]
    path = tmp_path / first.datasets["ucf101"]["video_root"] / victim
    path.write_bytes(path.read_bytes()[:200])  # truncated: the header survives, frames do not
    out = pipeline.prepare_data(smoke, full_scan=True, **kwargs)
    assert victim not in set(out.tables["ucf101_vipriors"]["video"])
    assert len(out.tables["ucf101_vipriors"]) == len(table) - 1
    on_disk = pd.read_csv(tmp_path / "s" / "ucf101_vipriors.csv")
    assert victim not in set(on_disk["video"])
    assert out.datasets["ucf101"]["unreadable"] == 1
    assert json.loads((tmp_path / "s" / "datasets.json").read_text())["ucf101"]["unreadable"] == 1
    unreadable = pd.read_csv(tmp_path / "s" / "unreadable.csv")
    assert list(unreadable["video"]) == [victim]
    assert victim in (tmp_path / "s" / "data_report.md").read_text()


def test_class_subsets_per_dataset_are_for_real_data(smoke, tmp_path):
    bad = json.loads(json.dumps(smoke))
    bad["profile"]["data"]["classes"] = {"ucf101": ["Grow"], "hmdb51": ["grow"]}
    with pytest.raises(pipeline.PipelineError, match="per dataset"):
        pipeline.prepare_data(bad, data_dir=tmp_path, splits_dir=tmp_path / "s")
    bad["profile"]["data"]["source"] = "real"
    bad["profile"]["data"]["classes"] = {"kinetics": ["a"]}
    with pytest.raises(pipeline.PipelineError, match="kinetics"):
        pipeline.prepare_data(bad, data_dir=tmp_path, splits_dir=tmp_path / "s")
