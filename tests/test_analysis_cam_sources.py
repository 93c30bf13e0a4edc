"""The CAM stage's sources: seeded order, clips A/B, and decoding only what is drawn."""

from __future__ import annotations

import pytest
import torch

from tempaug.analysis.cam import sources as cs
from tempaug.analysis.cam.localization import sample_splice_params, sources_used, splice_clips

T, C, S = 8, 3, 4


class CountingDataset:
    """Item ``i``: one view whose pixels are ``i`` (uint8), like an evaluation dataset's item."""

    def __init__(self, n: int):
        self.n, self.decoded = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.decoded.append(i)
        return torch.full((1, T, C, S, S), i, dtype=torch.uint8), 0


LABELS = torch.tensor([2, 2, 0, 1, 0, 2, 1, 1, 0, 2, 1, 0])
NAMES = [f"class{int(v)}" for v in LABELS]


def test_source_order_is_seeded_permutation_cut_to_max_videos():
    full = cs.source_order(10, seed=3)
    assert sorted(full.tolist()) == list(range(10))
    assert torch.equal(full, cs.source_order(10, seed=3))
    assert not torch.equal(full, cs.source_order(10, seed=4))
    assert torch.equal(cs.source_order(10, seed=3, max_videos=4), full[:4])
    with pytest.raises(ValueError):
        cs.source_order(0, seed=0)


def test_pick_pair_defaults_to_first_and_first_of_another_class():
    assert cs.pick_pair(NAMES, LABELS) == (0, 2)
    assert cs.pick_pair(NAMES, LABELS, "class1") == (3, 0)
    assert cs.pick_pair(NAMES, LABELS, "class0", "class1") == (2, 3)


def test_pick_pair_errors_name_the_problem():
    with pytest.raises(ValueError, match="'nope' has no validation video"):
        cs.pick_pair(NAMES, LABELS, "nope")
    with pytest.raises(ValueError, match="different classes"):
        cs.pick_pair(NAMES, LABELS, "class2", "class2")
    with pytest.raises(ValueError, match="same class"):
        cs.pick_clip(["a", "a"], torch.tensor([1, 1]), exclude=0)


def test_sources_used_reindexes_the_same_spliced_clips():
    all_clips = torch.rand(len(LABELS), T, C, S, S)
    params = sample_splice_params(LABELS, 20, T, generator=torch.Generator().manual_seed(0))
    used, local = sources_used(params)
    assert torch.equal(used, torch.unique(torch.cat([params.index_a, params.index_b])))
    assert torch.equal(used[local.index_a], params.index_a)
    assert torch.equal(used[local.index_b], params.index_b)
    sub = all_clips[used]
    assert torch.equal(
        splice_clips(sub[local.index_a], sub[local.index_b], local.cut),
        splice_clips(all_clips[params.index_a], all_clips[params.index_b], params.cut),
    )


def test_draw_clips_decodes_only_what_is_drawn_and_draws_as_before():
    ds = CountingDataset(len(LABELS))
    drawn = cs.draw_clips(ds, LABELS, NAMES, num_spliced=3, seed=5)
    expected = sample_splice_params(LABELS, 3, T, generator=torch.Generator().manual_seed(5))
    for key in ("index_a", "index_b", "cut"):
        assert torch.equal(getattr(drawn.splice, key), getattr(expected, key))
    assert (drawn.index_a, drawn.index_b) == (0, 2)
    assert sorted(ds.decoded) == sorted([0, 2, *drawn.used.tolist()])
    assert len(drawn.used) < len(LABELS)  # 3 spliced clips read at most 6 of 12 sources
    # decoded sources are the dataset's items, in `used` order
    assert torch.equal(drawn.sources[:, 0, 0, 0, 0], drawn.used.to(torch.uint8))
    assert drawn.clip_a.dtype == torch.float32 and float(drawn.clip_b.max()) == pytest.approx(
        2 / 255
    )


def test_draw_clips_without_scores_decodes_only_a_and_b():
    ds = CountingDataset(len(LABELS))
    drawn = cs.draw_clips(ds, LABELS, NAMES, num_spliced=30, seed=0, decode_spliced=False)
    assert drawn.sources is None and sorted(ds.decoded) == [0, 2]


def test_decode_clips_needs_indices():
    with pytest.raises(ValueError):
        cs.decode_clips(CountingDataset(2), [])


def test_describe_names_counts_and_clips():
    import pandas as pd

    ds = CountingDataset(len(LABELS))
    table = pd.DataFrame({"video": [f"v{i}.avi" for i in range(len(LABELS))]})
    src = cs.ValidationSources(table, ds, LABELS, {0: "zero", 1: "one", 2: "two"})
    drawn = cs.draw_clips(ds, LABELS, NAMES, num_spliced=3, seed=5)
    text = cs.describe(src, drawn)
    assert text.startswith(f"12 source videos, 3 classes; decoded {2 + len(drawn.used)} clips")
    assert text.endswith("clip A: v0.avi (two); clip B: v2.avi (zero)")
