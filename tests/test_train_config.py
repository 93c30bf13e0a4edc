"""TrainConfig: the paper's defaults, YAML + overrides, and errors that name the key."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tempaug.train import ConfigError, TrainConfig
from tempaug.train.config import (
    MIX_METHODS,
    RESUME_IGNORED_KEYS,
    apply_overrides,
    run_differences,
)


class TestDefaults:
    def test_paper_recipe(self):
        cfg = TrainConfig()
        assert cfg.model.name == "slowfast50"
        assert (cfg.data.clip_len, cfg.data.crop_size, cfg.data.scale_range) == (
            64,
            160,
            (160, 200),
        )
        assert cfg.data.hflip_p == 0.5
        o = cfg.optim
        assert (o.epochs, o.batch_size, o.lr, o.weight_decay) == (150, 16, 1e-4, 1e-5)
        assert o.warmup_epochs is None  # -> epochs // 10, as the authors' code
        assert (cfg.eval.num_clips, cfg.eval.num_crops) == (10, 1)

    def test_mix_methods_match_augment_registry(self):
        from tempaug.augment import METHODS

        assert set(MIX_METHODS) == set(METHODS)


class TestYaml:
    def test_sections_and_overrides(self, tmp_path):
        path = tmp_path / "run.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "seed": 3,
                    "data": {"clip_len": 16, "scale_range": [32, 40], "crop_size": 32},
                    "aug": {"mix": "fademixup", "mix_kwargs": {"alpha": 1.0}},
                }
            )
        )
        cfg = TrainConfig.from_yaml(
            path,
            [
                "optim.lr=1e-3",  # YAML 1.1 reads this as a string; float fields accept it
                "model.kwargs.width=32",
                "aug.randaugment={num_ops: 2, magnitude: 9, mode: temporal+}",
                "eval.num_crops=3",
                "optim.warmup_epochs=null",
            ],
        )
        assert cfg.seed == 3 and cfg.data.clip_len == 16 and cfg.data.scale_range == (32, 40)
        assert cfg.optim.lr == 1e-3 and isinstance(cfg.optim.lr, float)
        assert cfg.model.kwargs == {"width": 32}
        assert cfg.aug.randaugment == {"num_ops": 2, "magnitude": 9, "mode": "temporal+"}
        assert cfg.aug.mix_kwargs == {"alpha": 1.0}
        assert cfg.eval.num_crops == 3 and cfg.optim.warmup_epochs is None

    def test_to_dict_round_trip(self):
        cfg = TrainConfig.from_yaml(None, ["optim.epochs=7", "aug.mix=cutmix"])
        again = TrainConfig.from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
        assert again == cfg

    def test_dataframe_tables(self):
        df = pd.DataFrame({"video": ["a.avi"], "label": [0]})
        cfg = TrainConfig.from_dict({"data": {"train_table": df, "video_root": "/x"}})
        assert cfg.data.train_table is df
        assert cfg.to_dict()["data"]["train_table"] == "<DataFrame: 1 rows>"
        assert cfg.replace(**{"optim.epochs": 2}).data.train_table is df

    def test_overrides_do_not_mutate(self):
        base = {"optim": {"lr": 1.0}}
        out = apply_overrides(base, ["optim.lr=2"])
        assert base == {"optim": {"lr": 1.0}} and out["optim"]["lr"] == 2

    def test_missing_file(self, tmp_path):
        with pytest.raises(ConfigError, match="does not exist"):
            TrainConfig.from_yaml(tmp_path / "nope.yaml")


class TestErrorsNameTheKey:
    @pytest.mark.parametrize(
        ("override", "key"),
        [
            ("optim.lrr=1", "optim.lrr"),
            ("nosuchsection.x=1", "nosuchsection"),
            ("optim.lr=fast", "optim.lr"),
            ("optim.lr=-1", "optim.lr"),
            ("optim.epochs=2.5", "optim.epochs"),
            ("optim.batch_size=1", "optim.batch_size"),
            ("optim.warmup_epochs=150", "optim.warmup_epochs"),
            ("data.hflip_p=1.5", "data.hflip_p"),
            ("data.scale_range=[100, 200]", "data.scale_range"),
            ("data.scale_range=[160]", "data.scale_range"),
            ("data.on_error=ignore", "data.on_error"),
            ("data.cache_mb=-1", "data.cache_mb"),
            ("model.name=resnet", "model.name"),
            ("aug.mix=shufflemix", "aug.mix"),
            ("aug.augment_on=gpu", "aug.augment_on"),
            ("aug.randaugment={n: 2}", "aug.randaugment"),
            ("aug.mix_kwargs={num_classes: 5}", "aug.mix_kwargs"),
            ("eval.num_crops=2", "eval.num_crops"),
            ("runtime.device=tpu", "runtime.device"),
            ("runtime.amp=yes please", "runtime.amp"),
            ("runtime.save_every=0", "runtime.save_every"),
            ("runtime.resume=sometimes", "runtime.resume"),
            ("seed=-1", "seed"),
            ("optim=3", "optim"),
            ("novalue", "novalue"),
        ],
    )
    def test_bad_override(self, override, key):
        with pytest.raises(ConfigError) as info:
            TrainConfig.from_yaml(None, [override])
        assert key in str(info.value)
        assert isinstance(info.value, ValueError)

    def test_direct_construction_is_validated(self):
        from tempaug.train import OptimConfig

        with pytest.raises(ConfigError, match=r"optim\.lr"):
            TrainConfig(optim=OptimConfig(lr=0.0))


class TestRunDifferences:
    def test_resume_modes(self):
        assert TrainConfig.from_yaml(None, ["runtime.resume=auto"]).runtime.resume == "auto"
        assert TrainConfig.from_yaml(None, ["runtime.resume=true"]).runtime.resume is True

    def test_keys_that_define_the_run(self):
        base = TrainConfig.from_yaml(None, ["optim.epochs=7"]).to_dict()
        same = TrainConfig.from_yaml(
            None,
            [
                "optim.epochs=7",
                "out_dir=elsewhere",
                "data.num_workers=0",
                "data.cache_mb=64",
                "runtime.save_every=3",
                "runtime.keep_every=2",
                "runtime.resume=auto",
                "runtime.progress=false",
                "runtime.debug_indices=true",
            ],
        ).to_dict()
        assert run_differences(base, same) == []
        other = TrainConfig.from_yaml(
            None, ["optim.epochs=8", "model.kwargs.width=16", "runtime.amp=false", "seed=1"]
        ).to_dict()
        assert run_differences(base, other) == [
            "model.kwargs: {} -> {'width': 16}",
            "optim.epochs: 7 -> 8",
            "runtime.amp: True -> False",
            "seed: 0 -> 1",
        ]
        assert "out_dir" in RESUME_IGNORED_KEYS and "optim.lr" not in RESUME_IGNORED_KEYS

    def test_missing_and_retyped_keys_count(self):
        assert run_differences({"optim": {"lr": 1}}, {"optim": {"lr": 1.0}}) == []
        assert run_differences({"optim": {}}, {"optim": {"lr": 1.0}}) == [
            "optim.lr: <missing> -> 1.0"
        ]
        assert run_differences({"seed": True}, {"seed": 1}) == ["seed: True -> 1"]
