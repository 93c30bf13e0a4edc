"""tempaug.data.synthetic: official layouts, determinism, idempotence, temporal-only classes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _data_helpers import SMOKE, smoke, tmp_root

from tempaug.data import decode, generate, probe, splits, synthetic


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
            scene: synthetic._style(torch.Generator().manual_seed(1), 32, 40, scene).radius
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
