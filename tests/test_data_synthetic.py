"""tempaug.data.synthetic: official layouts, determinism, idempotence, temporal-only classes."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from _data_helpers import SMOKE, smoke, tmp_root

from tempaug.data import decode, generate, probe, splits, synthetic
from tempaug.data.synthetic import rendering, writing


class TestLayouts:
    def test_ucf101_layout_and_lists(self):
        data = smoke("ucf101")
        assert data.video_root == data.root / "UCF-101"
        assert data.list_dir == data.root / "ucfTrainTestlist"
        assert data.classes == ("MoveUp", "MoveDown", "SpeedUp", "SlowDown", "Grow", "Shrink")
        raw = (data.list_dir / "trainlist01.txt").read_bytes()
        assert b"\r\n" in raw  # CRLF like the official zip
        assert (data.list_dir / "classInd.txt").read_text().splitlines()[0] == "1 MoveUp"
        n = SMOKE["clips_per_class"] * SMOKE["num_classes"]
        for k in (1, 2, 3):
            df = splits.ucf101(data.list_dir, k)
            assert len(df) == n and df.video.is_unique
            assert df.video.str.match(r"^(\w+)/v_\1_g\d\d_c\d\d\.avi$").all()
            groups = df.video.str.extract(r"_g(\d\d)_")[0].astype(int)
            test_groups = set(range(7 * (k - 1) + 1, 7 * k + 1))
            assert (groups[df.subset == "test"].isin(test_groups)).all()
            assert not (groups[df.subset == "train"].isin(test_groups)).any()
            for subset in ("train", "test"):
                assert df[df.subset == subset].label.nunique() == SMOKE["num_classes"]
            assert all((data.video_root / v).is_file() for v in df.video)
        vip = splits.vipriors_ucf101(data.list_dir)
        assert set(vip.subset) == {"train", "validation", "test"}
        assert vip[vip.subset == "validation"].label.nunique() == SMOKE["num_classes"]

    def test_hmdb51_layout_and_lists(self):
        data = smoke("hmdb51")
        assert data.video_root == data.root / "hmdb51"
        assert data.classes[:2] == ("move_up", "move_down")
        line = (data.list_dir / "move_up_test_split1.txt").read_text().splitlines()[0]
        assert line.endswith(" ") and line.split()[1] in "012"  # official trailing space
        for k in (1, 2, 3):
            df = splits.hmdb51(data.list_dir, k)
            counts = df.groupby(["label", "subset"]).size().unstack()
            assert (counts["test"] == 2).all() and (
                counts["train"] == 5
            ).all()  # 8 = 5 + 2 + 1 unused
            assert all((data.video_root / v).is_file() for v in df.video)
            assert df.attrs["classes"] == sorted(data.classes)

    def test_lengths_vary_around_nominal(self):
        data = smoke("ucf101")
        df = data.split(1)
        lengths = [probe(data.video_root / v).num_frames for v in df.video]
        f = SMOKE["frames"]
        assert min(lengths) >= f // 2 and max(lengths) <= 3 * f // 2
        assert len(set(lengths)) > 10
        assert sum(n < f for n in lengths) > 0  # some shorter than a clip of `frames`


class TestDeterminismAndIdempotence:
    def test_same_seed_same_frames_other_seed_differs(self):
        kw = {"num_classes": 2, "clips_per_class": 3, "frames": 12, "size": 32}
        a = generate(tmp_root() / "det-a", seed=7, **kw)
        b = generate(tmp_root() / "det-b", seed=7, num_workers=2, **kw)
        c = generate(tmp_root() / "det-c", seed=8, **kw)
        ta = a.split(1)
        assert ta.equals(b.split(1))
        for v in ta.video:
            assert torch.equal(decode(a.video_root / v), decode(b.video_root / v))
            assert (a.video_root / v).read_bytes() == (b.video_root / v).read_bytes()
        v0 = ta.video.iloc[0]
        other = decode(c.video_root / v0)
        assert other.shape != decode(a.video_root / v0).shape or not torch.equal(
            other, decode(a.video_root / v0)
        )

    def test_second_call_is_a_noop_and_conflicts_raise(self):
        kw = {"num_classes": 2, "clips_per_class": 3, "frames": 12, "size": 32, "seed": 1}
        root = tmp_root() / "idem"
        first = generate(root, **kw)
        manifest = root / ".tempaug-generated-ucf101.json"
        files = json.loads(manifest.read_text())["files"]
        assert len(files) == 6 + 7  # videos + classInd + 3x(train, test)
        stamp = {f: (root / f).stat().st_mtime_ns for f in files}
        again = generate(root, **kw)
        assert again == first
        assert {f: (root / f).stat().st_mtime_ns for f in files} == stamp
        with pytest.raises(ValueError, match=r"made with"):
            generate(root, **{**kw, "seed": 2})
        # an interrupted run (no manifest) is completed on the next call
        manifest.unlink()
        (root / files[0]).unlink()
        generate(root, **kw)
        assert manifest.is_file() and (root / files[0]).is_file()

    @pytest.mark.parametrize(
        ("kw", "msg"),
        [
            ({"num_classes": 0}, r"num_classes must be in \[1, 20\]"),
            ({"num_classes": 21}, r"num_classes must be in \[1, 20\]"),
            ({"clips_per_class": 2}, r"clips_per_class must be >= 3"),
            ({"frames": 4}, r"frames must be >= 8"),
            ({"size": 15}, r"size must give an even"),
            ({"layout": "kinetics"}, r"layout must be 'ucf101' or 'hmdb51'"),
            ({"scene": "busy"}, r"scene must be one of \('cluttered', 'plain'\), got 'busy'"),
        ],
    )
    def test_bad_arguments(self, kw, msg):
        with pytest.raises(ValueError, match=msg):
            generate(tmp_root() / "bad", **kw)


class TestScenes:
    def test_every_video_draws_its_own_scene(self):
        """Same group or same class: different backgrounds (no scene can stand in for a class)."""
        kw = {"num_classes": 3, "clips_per_class": 50, "frames": 8, "size": 32, "scene": "plain"}
        data = generate(tmp_root() / "scenes", seed=3, **kw)

        def corner(cls, grp, clip=1):
            x = decode(data.video_root / f"{cls}/v_{cls}_g{grp:02d}_c{clip:02d}.avi").float()
            return x[:, :, :3, :3].mean(0)  # the object stays >= 2 px away from the border

        a, b = data.classes[:2]
        pairs = [
            (corner(a, 1), corner(b, 1)),  # same group, other class
            (corner(a, 1), corner(a, 1, 2)),  # same group and class
            (corner(a, 1), corner(a, 2)),  # same class, other group
        ]
        diffs = [float((x - y).abs().mean()) for x, y in pairs]
        assert min(diffs) > 8, diffs

    @pytest.mark.parametrize("scene", synthetic.SCENES)
    def test_both_scenes_render_every_class(self, scene):
        g = torch.Generator().manual_seed(0)
        for name in synthetic.CLASSES[:4]:
            x = synthetic.render(name, num_frames=8, height=32, width=40, generator=g, scene=scene)
            assert x.shape == (8, 32, 40, 3) and x.dtype == np.uint8

    def test_plain_object_is_larger(self):
        radii = {
            scene: rendering._style(torch.Generator().manual_seed(1), 32, 40, scene).radius
            for scene in synthetic.SCENES
        }
        assert radii["plain"] > radii["cluttered"], radii


class TestTemporalOnlyClasses:
    """Classes are defined by time: single frames / orderless statistics do not separate them."""

    @pytest.mark.parametrize(("rev", "base"), sorted(synthetic.REVERSE_OF.items()))
    def test_reversal_pairs_share_their_frames(self, rev, base):
        def make(name):
            return synthetic.render(
                name, num_frames=10, height=24, width=32, generator=torch.Generator().manual_seed(5)
            )

        a, b = make(base), make(rev)
        np.testing.assert_array_equal(b, a[::-1])
        assert not np.array_equal(a, b)  # the order differs, so the class is in the order

    def test_all_classes_render_and_move(self):
        for name in synthetic.CLASSES:
            x = synthetic.render(
                name, num_frames=16, height=32, width=40, generator=torch.Generator().manual_seed(0)
            )
            assert x.shape == (16, 32, 40, 3) and x.dtype == np.uint8
            change = np.abs(x[1:].astype(int) - x[:1].astype(int)).max(axis=-1)
            assert (change > 60).mean() > 0.002, name  # the object visibly changes over time

    def test_single_frames_do_not_separate_classes_but_order_does(self):
        """Decoded videos: per-frame / pooled statistics are near chance, order features are not.

        Per video, a motion-energy map ``E_t = |x_{t+2} - x_t|`` gives per-frame descriptors
        (vertical centroid, energy mass, spatial spread). *Pooled* features (mean/std over time)
        ignore order; *order* features are their slopes over time; *single-frame* features are the
        colour statistics of the middle frame. Leave-one-out nearest-centroid accuracy within each
        time-reversal pair must be near chance (0.5) for pooled features and high for order
        features; single frames must be near chance (1/6) over the six classes.
        """
        data = generate(
            tmp_root() / "temporal",
            num_classes=6,
            clips_per_class=20,
            frames=24,
            size=48,
            seed=1,
        )
        table = data.split(1)
        labels = table.label.to_numpy()
        pooled, order, single = [], [], []
        for v in table.video:
            x = decode(data.video_root / v).float().numpy()
            e = np.abs(x[2:] - x[:-2]).sum(1)
            e = np.where(e > 90, e, 0.0)
            t, h, w = e.shape
            mass = e.sum((1, 2)) + 1e-6
            yy, xx = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
            cy, cx = (e * yy).sum((1, 2)) / mass, (e * xx).sum((1, 2)) / mass
            spread = np.sqrt(
                (e * ((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2)).sum((1, 2))
                / mass
            )
            m = mass / (h * w * 255)
            tt = np.linspace(-1, 1, t)
            feats = (cy, m, spread)
            pooled.append([f(a) for a in feats for f in (np.mean, np.std)])
            order.append([float((a * tt).sum() / (tt * tt).sum()) for a in feats])
            k = len(x) // 2
            single.append(np.r_[x[k].mean((1, 2)), x[k].std((1, 2))])

        def loo_nearest_centroid(feats, y) -> float:
            f = np.asarray(feats, dtype=float)
            f = (f - f.mean(0)) / (f.std(0) + 1e-9)
            hits = 0
            for i in range(len(f)):
                keep = np.arange(len(f)) != i
                classes = np.unique(y[keep])
                cents = np.stack([f[keep & (y == c)].mean(0) for c in classes])
                hits += classes[np.argmin(((cents - f[i]) ** 2).sum(1))] == y[i]
            return hits / len(f)

        def per_pair(feats) -> list[float]:
            f = np.asarray(feats)
            return [
                loo_nearest_centroid(f[labels // 2 == p], labels[labels // 2 == p])
                for p in range(3)
            ]

        pooled_acc, order_acc = per_pair(pooled), per_pair(order)
        single_acc = loo_nearest_centroid(single, labels)
        assert np.mean(pooled_acc) <= 0.65 and max(pooled_acc) <= 0.75, pooled_acc
        # Scenes shared across classes (generator v2) make Grow/Shrink the hardest pair (0.78).
        assert np.mean(order_acc) >= 0.85 and min(order_acc) >= 0.75, order_acc
        assert single_acc <= 0.3, single_acc  # chance = 1/6


def _video(name="MoveUp", nuisances="none", seed=5, clip=0, t=16, h=32, w=42, **kw):
    dyn, sty, nui = writing._job_generators(seed, synthetic.CLASSES.index(name), clip)
    return synthetic.render(
        name,
        num_frames=t,
        height=h,
        width=w,
        generator=dyn,
        style_generator=sty,
        nuisances=nuisances,
        nuisance_generator=nui,
        **kw,
    )


def _state(name="MoveUp", nuisances="none", seed=5, clip=0, t=16):
    dyn, sty, nui = writing._job_generators(seed, synthetic.CLASSES.index(name), clip)
    return synthetic.object_state(
        name,
        num_frames=t,
        height=32,
        width=42,
        generator=dyn,
        style_generator=sty,
        nuisances=nuisances,
        nuisance_generator=nui,
    )


def _on(kind):
    """One kind on, probabilities forced to 1 so the kind surely applies."""
    return synthetic.Nuisances.only(kind, 1.0 if kind in ("occluder", "partial") else None)


class TestNuisances:
    def test_presets(self):
        N = synthetic.Nuisances
        assert synthetic.NUISANCE_KINDS == tuple(f.name for f in dataclasses.fields(N))
        assert all(getattr(N.none(), k) == 0 for k in synthetic.NUISANCE_KINDS)
        assert not N.none().active and N.natural().active
        nat = N.natural()
        assert (nat.drift, nat.flicker, nat.shake, nat.zoom) == (0.25, 0.05, 0.03, 0.2)
        assert (nat.occluder, nat.colour, nat.contrast, nat.partial) == (0.4, 0.15, 0.3, 0.5)
        for kind in synthetic.NUISANCE_KINDS:
            only = N.only(kind)
            assert [k for k in synthetic.NUISANCE_KINDS if getattr(only, k)] == [kind]
            assert getattr(only, kind) == getattr(nat, kind)
        assert N.resolve("natural") == nat and N.resolve("none") == N()
        assert N.resolve({"zoom": 0.1}) == N(zoom=0.1)
        assert N.resolve(dataclasses.asdict(nat)) == nat

    @pytest.mark.parametrize(
        ("spec", "msg"),
        [
            ({"drift": -0.1}, r"nuisance 'drift' must be a number in \[0, 0.9\], got -0.1"),
            ({"zoom": 1.5}, r"nuisance 'zoom' must be"),
            ({"occluder": 1.01}, r"nuisance 'occluder' must be"),
            ({"shake": float("nan")}, r"nuisance 'shake' must be"),
            ({"partial": True}, r"nuisance 'partial' must be"),
            ({"flicker": "0.1"}, r"nuisance 'flicker' must be"),
            ({"blur": 0.1}, r"unknown nuisance field\(s\) \['blur'\]"),
            ("wild", r"nuisances preset must be one of \('none', 'natural'\), got 'wild'"),
            (0.5, r"nuisances must be a Nuisances"),
        ],
    )
    def test_validation(self, spec, msg):
        with pytest.raises(ValueError, match=msg):
            synthetic.Nuisances.resolve(spec)
        with pytest.raises(ValueError, match=msg):
            _video(nuisances=spec, t=4)
        with pytest.raises(ValueError, match=msg):
            generate(tmp_root() / "bad-nuisances", nuisances=spec)
        with pytest.raises(ValueError, match=r"unknown nuisance kind 'blur'"):
            synthetic.Nuisances.only("blur")

    def test_all_zero_is_the_nuisance_free_rendering(self):
        plain = synthetic.render(
            "Spin", num_frames=12, height=32, width=42, generator=torch.Generator().manual_seed(2)
        )
        for spec in ("none", synthetic.Nuisances(), dict.fromkeys(synthetic.NUISANCE_KINDS, 0)):
            again = synthetic.render(
                "Spin",
                num_frames=12,
                height=32,
                width=42,
                generator=torch.Generator().manual_seed(2),
                nuisances=spec,
                nuisance_generator=torch.Generator().manual_seed(99),
            )
            np.testing.assert_array_equal(again, plain)

    @pytest.mark.parametrize("kind", synthetic.NUISANCE_KINDS)
    def test_each_kind_changes_frames_when_on_and_not_when_off(self, kind):
        base = _video()
        on = _video(nuisances=_on(kind))
        assert on.shape == base.shape and on.dtype == np.uint8
        assert np.abs(on.astype(int) - base).mean() > 0.3, kind  # on: frames change
        # off: every other kind on, this one zero, differs from all on (the kind matters) ...
        everything = {
            k: (1.0 if k in ("occluder", "partial") else v)
            for k, v in dataclasses.asdict(synthetic.Nuisances.natural()).items()
        }
        without = _video(nuisances={**everything, kind: 0.0})
        assert not np.array_equal(without, _video(nuisances=everything)), kind
        # ... and this kind's strength leaves the other kinds' realisations unchanged.
        again = _video(nuisances={**everything, kind: 0.0})
        np.testing.assert_array_equal(without, again)
        if kind != "partial":  # only partial action touches the object's state
            s0, s1 = _state(), _state(nuisances=_on(kind))
            assert all(np.array_equal(s0[k], s1[k]) for k in s0), kind

    def test_natural_differs_per_video(self):
        def draws(clip):
            _, _, nui = writing._job_generators(5, 0, clip)
            return synthetic.sample_nuisances("natural", nui, 16, 32, 42)

        a, b = draws(0), draws(1)
        assert not np.array_equal(a.gain, b.gain)
        assert not np.array_equal(a.theta, b.theta)
        assert not np.array_equal(a.colour, b.colour) and a.contrast != b.contrast
        diff_a = _video(nuisances="natural", clip=0).astype(int) - _video(clip=0)
        diff_b = _video(nuisances="natural", clip=1).astype(int) - _video(clip=1)
        assert not np.array_equal(diff_a, diff_b)

    def test_nuisance_draws_do_not_depend_on_the_class(self, monkeypatch):
        """Each video draws its own nuisances, from one distribution for every class."""
        from scipy import stats

        def draw(ci, clip):
            _, _, nui = writing._job_generators(11, ci, clip)
            return synthetic.sample_nuisances("natural", nui, 20, 32, 42)

        # independent per video: clip j of two classes gets different draws
        assert not np.array_equal(draw(0, 3).gain, draw(1, 3).gain)
        # the same distribution: contrast factors and occluder/partial rates of two classes
        a = [draw(0, j) for j in range(150)]
        b = [draw(5, j) for j in range(150)]
        assert stats.ks_2samp([d.contrast for d in a], [d.contrast for d in b]).pvalue > 1e-3
        for has in (lambda d: bool(d.occluder), lambda d: d.action != (0, 20)):
            ra, rb = np.mean([has(d) for d in a]), np.mean([has(d) for d in b])
            assert 0.2 < ra < 0.7 and abs(ra - rb) < 0.2, (ra, rb)
        # the dataset's jobs pass exactly those generators
        seen = []
        monkeypatch.setattr(writing, "_encode", lambda frames, path: None)
        real = synthetic.render

        def spy(name, **kw):
            seen.append((name, kw["nuisances"], kw["nuisance_generator"].get_state()))
            return real(name, **kw)

        monkeypatch.setattr(writing, "render", spy)
        nat = synthetic.Nuisances.natural()
        for ci, name in enumerate(synthetic.CLASSES[:3]):
            writing._run_job(
                writing._Job(tmp_root() / "x", name, ci, 2, 8, 32, 42, 4, "plain", nat)
            )
        assert [s[1] for s in seen] == [nat] * 3
        for ci, s in enumerate(seen):
            assert torch.equal(s[2], writing._job_generators(4, ci, 2)[2].get_state())

    @pytest.mark.parametrize(("rev", "base"), sorted(synthetic.REVERSE_OF.items()))
    def test_reversal_pairs_share_their_frames_with_nuisances(self, rev, base):
        strong = {
            **dataclasses.asdict(synthetic.Nuisances.natural()),
            "occluder": 1.0,
            "partial": 1.0,
        }
        for spec in ("natural", strong):

            def make(name, spec=spec):
                return synthetic.render(
                    name,
                    num_frames=14,
                    height=32,
                    width=42,
                    generator=torch.Generator().manual_seed(5),
                    nuisances=spec,
                )

            a, b = make(base), make(rev)
            np.testing.assert_array_equal(b, a[::-1])
            assert not np.array_equal(a, b)

    def test_natural_is_deterministic_and_keeps_the_dynamics(self):
        def make(ng=None):
            g = torch.Generator().manual_seed(8)
            x = synthetic.render(
                "Orbit",
                num_frames=12,
                height=32,
                width=42,
                generator=g,
                nuisances="natural",
                nuisance_generator=ng,
            )
            return x, g.get_state()

        (a, sa), (b, sb) = make(), make()
        np.testing.assert_array_equal(a, b)
        assert torch.equal(sa, sb)
        c, sc = make(torch.Generator().manual_seed(1))
        assert not np.array_equal(a, c) and torch.equal(sa, sc)  # other nuisances, same dynamics
        # the dynamics draws are those of the nuisance-free rendering (partial aside)
        no_partial = {**dataclasses.asdict(synthetic.Nuisances.natural()), "partial": 0.0}
        s0, s1 = _state("Orbit"), _state("Orbit", nuisances=no_partial)
        assert all(np.array_equal(s0[k], s1[k]) for k in s0)

    def test_partial_action_holds_the_state_before_and_after(self):
        prefix = suffix = 0
        for clip in range(30):
            for name in ("MoveUp", "MoveDown"):
                _, _, nui = writing._job_generators(5, synthetic.CLASSES.index(name), clip)
                s0, s1 = synthetic.sample_nuisances(_on("partial"), nui, 20, 32, 42).action
                if name == "MoveDown":
                    s0, s1 = 20 - s1, 20 - s0  # a reversed class shows the mirrored interval
                assert 0.35 * 20 <= s1 - s0 <= 0.85 * 20
                st = _state(name, nuisances=_on("partial"), clip=clip, t=20)
                cy = st["cy"]
                assert np.all(cy[: s0 + 1] == cy[s0]) and np.all(cy[s1 - 1 :] == cy[s1 - 1])
                assert np.all(np.diff(cy[s0:s1]) != 0)  # moving inside the action
                prefix += s0 > 0
                suffix += s1 < 20
                full = _state(name, clip=clip, t=20)["cy"]
                assert np.all(np.diff(full) != 0)  # without partial: moving throughout
        assert prefix > 10 and suffix > 10
        frac = np.mean(
            [
                synthetic.sample_nuisances(
                    "natural", writing._job_generators(5, 0, c)[2], 20, 32, 42
                ).action
                != (0, 20)
                for c in range(200)
            ]
        )
        assert 0.4 <= frac <= 0.6, frac

    def test_occluder_in_a_fraction_of_videos_and_at_most_a_quarter_of_the_frame(self):
        draws = [
            synthetic.sample_nuisances("natural", writing._job_generators(5, 0, c)[2], 20, 32, 42)
            for c in range(200)
        ]
        occ = [d.occluder for d in draws if d.occluder is not None]
        assert 0.3 <= len(occ) / len(draws) <= 0.5
        for o in occ:
            assert 4 * o["half_width"] * o["half_length"] <= 0.25 * 32 * 42 + 1e-6
            visible = o["pos"] > -1e3
            assert 0.25 * 20 <= visible.sum() <= 0.65 * 20  # crosses during part of the video
        shifts = np.concatenate([d.theta[:, :, 2].ravel() for d in draws])
        scales = np.concatenate([1 / d.theta[:, 0, 0] for d in draws])
        assert np.abs(shifts).max() < 0.45 and 1.0 <= scales.min() and scales.max() <= 1.2 + 1e-6
        gains = np.concatenate([d.gain for d in draws])
        assert 0.6 < gains.min() and gains.max() < 1.45

    def test_manifest_records_nuisances_and_rejects_others(self):
        kw = {"num_classes": 2, "clips_per_class": 3, "frames": 8, "size": 16, "seed": 1}
        root = tmp_root() / "nuis-manifest"
        assert synthetic.GENERATOR_VERSION == 4
        first = generate(root, nuisances="natural", **kw)
        params = json.loads((root / ".tempaug-generated-ucf101.json").read_text())["params"]
        assert params["nuisances"] == dataclasses.asdict(synthetic.Nuisances.natural())
        assert params["generator_version"] == 4
        same = dataclasses.asdict(synthetic.Nuisances.natural())
        assert generate(root, nuisances=same, **kw) == first  # same resolved values: no-op
        for other in ("none", {**same, "zoom": 0.1}):
            with pytest.raises(ValueError, match=r"made with"):
                generate(root, nuisances=other, **kw)
        plain = generate(tmp_root() / "nuis-manifest-none", **kw)
        v = plain.split(1).video.iloc[0]
        assert not torch.equal(decode(plain.video_root / v), decode(first.video_root / v))


def test_nuisance_processes_are_time_symmetric():
    """A reversed class shows its partner's nuisances backwards: their law must not see time's arrow.

    Means over 1000 draws of the occluder's and the partial action's mid-time, and of the drift
    and zoom slopes, are within 3 standard errors of zero.
    """
    t = 21
    always = {**dataclasses.asdict(synthetic.Nuisances.natural()), "occluder": 1.0, "partial": 1.0}
    draws = [
        synthetic.sample_nuisances(always, writing._job_generators(2, 0, c)[2], t, 32, 42)
        for c in range(1000)
    ]
    tt = np.arange(t) - (t - 1) / 2
    series = {
        "occluder": [float(tt[d.occluder["pos"] > -1e3].mean()) for d in draws],
        "partial": [np.mean(d.action) - t / 2 for d in draws],
        "drift": [float((d.gain * tt).sum() / (tt * tt).sum()) for d in draws],
        "zoom": [float((d.theta[:, 0, 0] * tt).sum() / (tt * tt).sum()) for d in draws],
    }
    for kind, x in series.items():
        assert abs(np.mean(x)) < 3 * np.std(x) / np.sqrt(len(x)), kind
