"""The training loop (tempaug.train.trainer), in process, on a tiny generated dataset."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import stat

import pytest
import torch
from _train_helpers import make_tiny_data, smoke_config
from conftest import make_video_batch, requires_cuda

import tempaug.train.trainer as trainer_mod
from tempaug.augment import build
from tempaug.data.cache import FrameCache, shared_frame_cache
from tempaug.data.transforms import normalize
from tempaug.train import (
    HISTORY_COLUMNS,
    TIMING_COLUMNS,
    ConfigError,
    DataConfig,
    NonFiniteLossError,
    TrainConfig,
    build_scheduler,
    fit,
    soft_target_loss,
    training_batch,
)
from tempaug.train.checkpoint import load_checkpoint

#: The 'learns' run: the smoke model at width 8 with alpha 4 and beta 1/2 (the synthetic
#: profile's model; the paper's ratios leave the fast pathway a single stem channel).
LEARN_MODEL = {
    "name": "slowfast_smoke",
    "kwargs": {"dropout": 0.0, "width": 8, "alpha": 4, "beta_inv": 2},
}
LEARN_EPOCHS = 20

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:FutureWarning")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_data(tmp_path_factory.getbasetemp() / "tempaug_train_data")


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def learned(tiny, tmp_path_factory):
    """20 epochs (~300 steps) of a width-8 smoke model: the run the 'learns' and output tests inspect.

    The classes differ only in motion (scenes are shared across classes), which the from-scratch
    model needs a couple of hundred steps to pick up.
    """
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("learn")
        cfg = TrainConfig.from_dict(
            smoke_config(
                tiny,
                out,
                model=LEARN_MODEL,
                optim={"epochs": LEARN_EPOCHS, "warmup_epochs": 1, "lr": 3e-3},
                eval={"every": LEARN_EPOCHS // 2},
            )
        )
        metrics = fit(cfg)
    finally:
        torch.set_num_threads(n)
    return out, metrics


class TestLearns:
    def test_validation_clearly_above_chance(self, learned, tiny):
        _, metrics = learned
        chance = 100.0 / tiny.num_classes
        assert metrics["num_videos"] == tiny.num_val
        # 92-97 % on seeds 0-2 (~15 s each); chance is 50 %.
        assert metrics["top1"] >= chance + 25.0, metrics

    def test_training_loss_decreases(self, learned):
        out, _ = learned
        rows = list(csv.DictReader((out / "history.csv").open()))
        losses = [float(r["train_loss"]) for r in rows]
        assert losses[-1] < losses[0]


class TestOutputs:
    def test_layout(self, learned, tiny):
        out, metrics = learned
        for name in (
            "metrics.json",
            "history.csv",
            "scores.csv",
            "config.yaml",
            "timings.json",
            "train.log",
        ):
            path = out / name
            assert path.is_file(), name
            assert path.stat().st_mode & stat.S_IRGRP, f"{name} is not group-readable"
        assert (out / "checkpoints" / "last.pt").is_file()
        assert not list(out.rglob("*.tmp")), "temporary files left behind"
        on_disk = json.loads((out / "metrics.json").read_text())
        assert (
            on_disk.pop("decode_failures") == metrics["decode_failures"] == {"train": 0, "eval": 0}
        )
        assert on_disk == pytest.approx(
            {k: v for k, v in metrics.items() if k != "decode_failures"}
        )
        for key in ("top1", "top5", "mean_class_acc", "num_videos", "epochs"):
            assert key in on_disk
        assert not {"seconds", "eval_seconds"} & on_disk.keys(), "timings belong in timings.json"
        assert on_disk["epochs"] == LEARN_EPOCHS and on_disk["num_clips"] == 2

    def test_history(self, learned):
        out, _ = learned
        with (out / "history.csv").open() as fh:
            reader = csv.DictReader(fh)
            assert tuple(reader.fieldnames) == HISTORY_COLUMNS
            rows = list(reader)
        assert [int(r["epoch"]) for r in rows] == list(range(1, LEARN_EPOCHS + 1))
        validated = [i + 1 for i, r in enumerate(rows) if r["eval_top1"] != ""]
        assert validated == [LEARN_EPOCHS // 2, LEARN_EPOCHS]
        lrs = [float(r["lr"]) for r in rows]
        assert max(lrs) <= 3e-3 and lrs[-1] < lrs[1]

    def test_timings(self, learned):
        out, _ = learned
        t = json.loads((out / "timings.json").read_text())
        assert [e["epoch"] for e in t["epochs"]] == list(range(1, LEARN_EPOCHS + 1))
        for e in t["epochs"]:
            assert set(e) == set(TIMING_COLUMNS)
            assert 0.0 <= e["data_wait"] <= 1.0 and e["clips_per_s"] > 0
            assert 0 < e["train_seconds"] <= e["seconds"]
        assert t["train_seconds"] == pytest.approx(sum(e["seconds"] for e in t["epochs"]))
        assert t["eval_seconds"] > 0 and t["world_size"] == 1 and t["resumed_after_epoch"] == 0

    def test_scores_are_averaged_softmax(self, learned, tiny):
        out, metrics = learned
        with (out / "scores.csv").open() as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = list(reader)
        assert header == ["video", "label", "score_0", "score_1"]
        assert len(rows) == tiny.num_val
        scores = torch.tensor([[float(v) for v in r[2:]] for r in rows])
        labels = torch.tensor([int(r[1]) for r in rows])
        torch.testing.assert_close(scores.sum(1), torch.ones(len(rows)), atol=1e-5, rtol=0)
        top1 = 100.0 * (scores.argmax(1) == labels).float().mean().item()
        assert top1 == pytest.approx(metrics["top1"])

    def test_checkpoint_contents(self, learned):
        out, _ = learned
        state = load_checkpoint(out / "checkpoints" / "last.pt")
        assert state["epoch"] == LEARN_EPOCHS
        for key in (
            "model",
            "optimizer",
            "scheduler",
            "scaler",
            "rng",
            "history",
            "timings",
            "config",
            "data_fingerprint",
        ):
            assert key in state
        rng = state["rng"][0]
        assert set(rng) == {"torch", "cuda", "numpy", "python", "generators"}
        assert set(rng["generators"]) == {"aug", "loader"}
        assert len(state["history"]) == LEARN_EPOCHS


class TestFrameCache:
    def test_cache_changes_nothing_the_model_sees(self, tiny, tmp_path, one_thread, monkeypatch):
        """``data.cache_mb`` only saves decoding: same losses, same validation, same scores."""
        reads = []
        original = FrameCache.read
        monkeypatch.setattr(
            FrameCache, "read", lambda self, *a, **k: reads.append(1) or original(self, *a, **k)
        )
        outs, calls = {}, {}
        for mb in (0, 64):
            reads.clear()
            outs[mb] = tmp_path / f"cache_{mb}"
            cfg = smoke_config(
                tiny,
                outs[mb],
                data={"scale_range": [32, 32], "cache_mb": mb},
                optim={"epochs": 2, "warmup_epochs": 0},
            )
            fit(TrainConfig.from_dict(cfg))
            calls[mb] = len(reads)
        # training (2 epochs), periodic validation and the final test (one item per clip, loaded
        # in the main process) read through the cache
        final = tiny.num_val * cfg["eval"]["num_clips"]
        assert calls[0] == 0 and calls[64] == 2 * (tiny.num_train + tiny.num_val) + final
        histories = []
        for mb in (0, 64):
            with (outs[mb] / "history.csv").open() as fh:
                rows = list(csv.DictReader(fh))
            histories.append([(r["train_loss"], r["train_top1"], r["eval_top1"]) for r in rows])
        assert histories[0] == histories[1] and histories[0][-1][2] != ""
        scores = [(outs[mb] / "scores.csv").read_bytes() for mb in (0, 64)]
        assert scores[0] == scores[1]

    def test_runs_of_one_process_decode_each_video_once(self, tiny, tmp_path, one_thread):
        """The runs of a stage (one process) share one cache: a second seed decodes nothing."""
        cache = shared_frame_cache(64 * 2**20)
        misses = []
        for seed in (0, 1):
            before = cache.misses
            cfg = smoke_config(
                tiny,
                tmp_path / f"seed{seed}",
                seed=seed,
                data={"scale_range": [32, 32], "cache_mb": 64},
                optim={"epochs": 1, "warmup_epochs": 0},
            )
            fit(TrainConfig.from_dict(cfg))
            misses.append(cache.misses - before)
        # the first run decodes what no earlier test in this process left in the cache; the
        # second run, its validation and its final test decode nothing
        assert misses[0] <= tiny.num_train + tiny.num_val and misses[1] == 0
        assert shared_frame_cache(1) is cache and cache.max_bytes >= 64 * 2**20


class TestDeterminism:
    def test_same_seed_same_run_on_two_threads(self, tiny, tmp_path):
        """The pipeline trains on 2 CPU threads: a rerun must give the same scores bit for bit."""
        n = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            outs = []
            for i in range(2):
                outs.append(tmp_path / f"run{i}")
                cfg = smoke_config(tiny, outs[-1], optim={"epochs": 2, "warmup_epochs": 0})
                fit(TrainConfig.from_dict(cfg))
        finally:
            torch.set_num_threads(n)
        for name in ("scores.csv", "metrics.json", "history.csv"):  # results only: no timings
            assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
        losses = []
        for out in outs:
            with (out / "history.csv").open() as fh:
                losses.append([r["train_loss"] for r in csv.DictReader(fh)])
        assert losses[0] == losses[1]


class TestProgress:
    def test_one_line_per_epoch_on_stderr_and_in_train_log(self, tiny, tmp_path, capfd, one_thread):
        cfg = smoke_config(tiny, tmp_path, optim={"epochs": 2, "warmup_epochs": 0})
        fit(TrainConfig.from_dict(cfg))
        out = capfd.readouterr().err  # the process's own stderr (what a DVC stage shows)
        pattern = (
            r"epoch {e}/2 train_loss=\d+\.\d{{4}} eval_top1=\d+\.\d\d lr=\S+ clips/s=\d+\.\d "
            r"data_wait=\d+% eta=\d+:\d\d:\d\d"
        )
        lines = [line for line in out.splitlines() if line.startswith("epoch ")]
        assert len(lines) == 2
        for e, line in enumerate(lines, 1):
            assert re.fullmatch(pattern.format(e=e), line), line
        assert lines[1].endswith("eta=0:00:00")
        logged = (tmp_path / "train.log").read_text().splitlines()
        stripped = [line.split(" ", 1)[1] for line in logged]  # drop the UTC time stamp
        assert [line for line in stripped if line.startswith("epoch ")] == lines
        assert stripped[0].startswith("training slowfast_smoke") and stripped[-1].startswith(
            "final:"
        )
        assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in logged)


class TestBrokenVideos:
    def test_a_broken_video_never_stops_a_run_and_is_counted(self, tiny, tmp_path, one_thread):
        """One truncated file in the training and the evaluation tables: the run finishes, the
        training clip is replaced, the evaluation video keeps its row (blank views), and
        metrics.json counts both."""
        import pandas as pd

        root = tmp_path / "videos"
        train = pd.read_csv(tiny.train_csv)
        val = pd.read_csv(tiny.val_csv)
        for v in set(train.video) | set(val.video):
            (root / v).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(tiny.video_root / v, root / v)
        for v in (train.video[0], val.video[0]):
            data = (root / v).read_bytes()
            (root / v).write_bytes(data[: len(data) // 3])
        cfg = smoke_config(
            tiny,
            tmp_path / "out",
            data={"video_root": str(root)},
            optim={"epochs": 1, "warmup_epochs": 0},
            eval={"every": 0},
        )
        metrics = fit(TrainConfig.from_dict(cfg))
        failures = metrics["decode_failures"]
        assert failures["train"] >= 1 and failures["eval"] >= 1
        saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
        assert saved["decode_failures"] == failures
        scores = pd.read_csv(tmp_path / "out" / "scores.csv")
        assert len(scores) == len(val) and val.video[0] in set(scores.video)  # denominator kept
        assert metrics["num_videos"] == len(val)


class TestAutoResume:
    def test_changed_hyper_parameter_starts_fresh_then_same_config_resumes(
        self, tiny, tmp_path, capfd, one_thread
    ):
        base = smoke_config(
            tiny,
            tmp_path,
            optim={"epochs": 2, "warmup_epochs": 0},
            eval={"every": 0, "num_clips": 1},
            runtime={"device": "cpu", "progress": False, "keep_every": 1, "resume": "auto"},
        )
        fit(TrainConfig.from_dict(base))
        assert (tmp_path / "checkpoints" / "epoch_0001.pt").is_file()
        capfd.readouterr()

        changed = {**base, "optim": {**base["optim"], "lr": 1e-3}}
        changed["runtime"] = {**base["runtime"], "keep_every": 0}
        fit(TrainConfig.from_dict(changed))
        out = capfd.readouterr().err
        assert "from a different run, starting from scratch" in out
        assert "optim.lr: 0.002 -> 0.001" in out and "keep_every" not in out
        assert "resumed from" not in out
        assert not (tmp_path / "checkpoints" / "epoch_0001.pt").exists(), "stale checkpoint kept"
        state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
        assert state["config"]["optim"]["lr"] == 1e-3 and len(state["history"]) == 2
        results = {n: (tmp_path / n).read_bytes() for n in ("metrics.json", "history.csv")}

        # Same run again (keys that do not define a run may differ): resumes, trains nothing.
        again = {**changed, "runtime": {**changed["runtime"], "save_every": 5}}
        fit(TrainConfig.from_dict(again))
        out = capfd.readouterr().err
        assert f"resumed from {tmp_path / 'checkpoints' / 'last.pt'} after epoch 2" in out
        assert not [line for line in out.splitlines() if line.startswith("epoch ")]
        for name, data in results.items():
            assert (tmp_path / name).read_bytes() == data, name

    def test_unreadable_checkpoint_starts_fresh(self, tiny, tmp_path, capfd, one_thread):
        (tmp_path / "checkpoints").mkdir(parents=True)
        (tmp_path / "checkpoints" / "last.pt").write_bytes(b"garbage")
        cfg = smoke_config(
            tiny,
            tmp_path,
            optim={"epochs": 1, "warmup_epochs": 0},
            eval={"every": 0, "num_clips": 1},
            runtime={"device": "cpu", "progress": False, "resume": "auto"},
        )
        fit(TrainConfig.from_dict(cfg))
        assert "cannot load it" in capfd.readouterr().err
        assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["epoch"] == 1


class TestResumeModesAgree:
    """``runtime.resume=true`` and ``"auto"`` share one definition of "the same run"
    (``_Trainer._run_differences`` over ``config.run_identity``): a change that makes ``auto``
    start afresh makes ``true`` refuse, and a change ``auto`` ignores lets ``true`` resume.
    (They disagreed before: ``true`` compared only optim/model/aug and the seed.)"""

    @pytest.mark.parametrize(
        ("key", "value", "same_run"),
        [
            ("optim.lr", 1e-3, False),
            ("eval.num_clips", 2, False),
            ("data.hflip_p", 0.0, False),
            ("runtime.amp", False, False),
            ("runtime.save_every", 3, True),
            ("runtime.keep_every", 1, True),
        ],
    )
    def test_both_modes_agree(self, tiny, tmp_path, capfd, one_thread, key, value, same_run):
        base = TrainConfig.from_dict(
            smoke_config(
                tiny,
                tmp_path / "base",
                optim={"epochs": 1, "warmup_epochs": 0},
                eval={"every": 0, "num_clips": 1},
                runtime={"device": "cpu", "progress": False},
            )
        )
        fit(base)
        resumed = {}
        for mode in (True, "auto"):
            out = tmp_path / str(mode)
            shutil.copytree(tmp_path / "base", out)
            cfg = base.replace(**{key: value, "out_dir": str(out), "runtime.resume": mode})
            capfd.readouterr()
            try:
                fit(cfg)
            except ConfigError as exc:
                assert mode is True and "different run" in str(exc) and key in str(exc)
                resumed[mode] = False
            else:
                resumed[mode] = "resumed from" in capfd.readouterr().err
        assert resumed == {True: same_run, "auto": same_run}


class TestNonFinite:
    def test_nan_names_epoch_and_step_and_keeps_checkpoint(
        self, tiny, tmp_path, monkeypatch, one_thread
    ):
        calls = {"n": 0}
        real = trainer_mod.soft_target_loss
        steps = tiny.num_train // 8  # batch 8, last partial batch dropped

        def poisoned(logits, targets):
            calls["n"] += 1
            loss = real(logits, targets)
            # call steps + 2 is epoch 2, step 2.
            return loss * float("nan") if calls["n"] == steps + 2 else loss

        monkeypatch.setattr(trainer_mod, "soft_target_loss", poisoned)
        cfg = TrainConfig.from_dict(
            smoke_config(tiny, tmp_path, optim={"epochs": 3}, eval={"every": 0})
        )
        with pytest.raises(NonFiniteLossError, match=rf"epoch 2, step 2 of {steps}") as info:
            fit(cfg)
        assert "last.pt (epoch 1) is kept" in str(info.value)
        state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
        assert state["epoch"] == 1
        assert all(
            torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point()
        )
        assert not (tmp_path / "metrics.json").exists()

    def test_divergent_learning_rate(self, tiny, tmp_path, one_thread):
        cfg = TrainConfig.from_dict(
            smoke_config(
                tiny,
                tmp_path,
                optim={"epochs": 1, "lr": 1e30, "warmup_epochs": 0},
                eval={"every": 0},
            )
        )
        steps = tiny.num_train // 8
        with pytest.raises(
            NonFiniteLossError, match=rf"at epoch 1, step \d+ of {steps}.*no checkpoint"
        ):
            fit(cfg)


class TestBatch:
    def test_mixing_on_full_rate_clip_before_pathways(self):
        clips = make_video_batch(4, 16, 3, 32, 32, dtype=torch.uint8)
        labels = torch.tensor([0, 1, 2, 0])
        data = DataConfig()
        mixer = build("framecutmix", num_classes=3)
        x, targets = training_batch(
            clips,
            labels,
            device=torch.device("cpu"),
            data=data,
            num_classes=3,
            mixer=mixer,
            generator=torch.Generator().manual_seed(5),
        )
        ref_x, ref_t = mixer(
            normalize(clips, data.mean, data.std),
            labels,
            generator=torch.Generator().manual_seed(5),
        )
        assert x.shape == (4, 16, 3, 32, 32)  # all 16 frames: pathways are split by the model
        torch.testing.assert_close(x, ref_x)
        torch.testing.assert_close(targets, ref_t)
        torch.testing.assert_close(targets.sum(1), torch.ones(4))

    def test_labels_are_checked_on_the_host_before_the_transfer(self):
        """Out-of-range labels: a ValueError naming them (was an index error from scatter on
        the CPU, and an asynchronous device assert on CUDA), with and without a mixer."""
        clips = make_video_batch(2, 16, 3, 32, 32, dtype=torch.uint8)
        for mixer in (None, build("cutmix", num_classes=3)):
            with pytest.raises(
                ValueError, match=r"class indices in \[0, 3\).*got values in \[0, 3\]"
            ):
                training_batch(
                    clips,
                    torch.tensor([0, 3]),
                    device=torch.device("cpu"),
                    data=DataConfig(),
                    num_classes=3,
                    mixer=mixer,
                )

    def test_no_mixer_gives_one_hot(self):
        clips = make_video_batch(2, 16, 3, 32, 32, dtype=torch.uint8)
        x, targets = training_batch(
            clips,
            torch.tensor([2, 0]),
            device=torch.device("cpu"),
            data=DataConfig(),
            num_classes=3,
        )
        assert targets.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
        assert x.dtype == torch.float32

    def test_soft_target_loss(self):
        logits = torch.randn(5, 4)
        y = torch.tensor([0, 3, 1, 1, 2])
        hard = torch.nn.functional.one_hot(y, 4).float()
        torch.testing.assert_close(
            soft_target_loss(logits, hard), torch.nn.functional.cross_entropy(logits, y)
        )
        soft = 0.3 * hard + 0.7 * hard.roll(1, 0)
        manual = -(soft * logits.log_softmax(1)).sum(1).mean()
        torch.testing.assert_close(soft_target_loss(logits, soft), manual)


class TestScheduler:
    def test_warmup_then_cosine(self):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.Adam([p], lr=1e-3)
        sched = build_scheduler(opt, total_steps=20, warmup_steps=5, start_factor=0.1, min_lr=1e-5)
        lrs = []
        for _ in range(20):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        assert lrs[0] == pytest.approx(1e-4)
        assert lrs[:6] == sorted(lrs[:6])  # rising during warm-up
        assert lrs[5] == pytest.approx(1e-3)
        for i in range(5, 20):
            expected = 1e-5 + (1e-3 - 1e-5) * (1 + math.cos(math.pi * (i - 5) / 15)) / 2
            assert lrs[i] == pytest.approx(expected, rel=1e-6)

    def test_bad_warmup(self):
        opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        with pytest.raises(ValueError, match="warmup_steps"):
            build_scheduler(opt, total_steps=5, warmup_steps=5, start_factor=0.1, min_lr=0)


class TestConfigChecks:
    def test_too_few_videos_for_a_batch(self, tiny, tmp_path):
        too_big = tiny.num_train + 1
        cfg = TrainConfig.from_dict(smoke_config(tiny, tmp_path, optim={"batch_size": too_big}))
        with pytest.raises(ConfigError, match="fewer than one batch"):
            fit(cfg)

    def test_missing_table(self, tiny, tmp_path):
        cfg = TrainConfig.from_dict(
            smoke_config(tiny, tmp_path, data={"train_table": str(tmp_path / "nope.csv")})
        )
        with pytest.raises(ConfigError, match=r"data\.train_table"):
            fit(cfg)

    def test_model_geometry_mismatch(self, tiny, tmp_path):
        cfg = TrainConfig.from_dict(
            smoke_config(
                tiny, tmp_path, model={"name": "slowfast_smoke", "kwargs": {"clip_len": 32}}
            )
        )
        with pytest.raises(ConfigError, match=r"model\.kwargs\.clip_len"):
            fit(cfg)


@requires_cuda
class TestCuda:
    def test_one_epoch_amp_channels_last(self, tiny, tmp_path):
        cfg = TrainConfig.from_dict(
            smoke_config(
                tiny,
                tmp_path,
                optim={"epochs": 1, "warmup_epochs": 0},
                aug={
                    "mix": "cutmix",
                    "randaugment": {"num_ops": 2, "magnitude": 9},
                    "augment_on": "device",
                },
                runtime={"device": "cuda", "amp": True, "channels_last": True, "progress": False},
            )
        )
        metrics = fit(cfg)
        assert math.isfinite(metrics["train_loss"])
        assert metrics["num_videos"] == tiny.num_val
        state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
        assert state["rng"][0]["cuda"] is not None
        assert all(v.device.type == "cpu" for v in state["model"].values())

    def test_autocast_dtype_and_step(self):
        from tempaug.models import slowfast_smoke
        from tempaug.train.runtime import autocast_dtype

        dev = torch.device("cuda")
        dtype = autocast_dtype(dev, True)
        assert dtype in (torch.bfloat16, torch.float16)
        model = slowfast_smoke(3, seed=0).to(dev).to(memory_format=torch.channels_last_3d)
        clips = make_video_batch(4, 16, 3, 32, 32, dtype=torch.uint8)
        x, t = training_batch(
            clips, torch.tensor([0, 1, 2, 0]), device=dev, data=DataConfig(), num_classes=3
        )
        assert x.device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        with torch.autocast("cuda", dtype=dtype):
            logits = model(x)
        assert logits.dtype == dtype
        loss = soft_target_loss(logits, t)
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        assert all(torch.isfinite(p).all() for p in model.parameters())
