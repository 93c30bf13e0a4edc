"""tempaug.analysis.figures: the nuisance gallery of the generated dataset."""

from __future__ import annotations

import numpy as np
import pytest

from tempaug.analysis.figures import plot_nuisance_examples
from tempaug.data.synthetic import NUISANCE_KINDS


def test_one_row_per_kind_plus_none():
    fig = plot_nuisance_examples(layout_class="move_up", frames=3, size=16, num_frames=12)
    rows = 1 + len(NUISANCE_KINDS)
    assert len(fig.axes) == rows * 3
    labels = [fig.axes[r * 3].get_ylabel() for r in range(rows)]
    assert labels[0] == "none"
    assert [lab.split("\n")[0] for lab in labels[1:]] == list(NUISANCE_KINDS)
    assert labels[1] == "drift\n0.25" and labels[5] == "occluder\np=1 (natural 0.4)"
    images = [np.asarray(ax.images[0].get_array()) for ax in fig.axes]
    assert images[0].shape == (16, 22, 3)
    none_row = np.stack(images[:3]).astype(int)
    for r in range(1, rows):  # every kind changes the video
        row = np.stack(images[3 * r : 3 * r + 3]).astype(int)
        assert not np.array_equal(row, none_row), labels[r]


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"frames": 1}, r"frames must be >= 2"),
        ({"frames": 8, "num_frames": 4}, r"num_frames must be >= frames"),
        ({"layout_class": "Jump"}, r"unknown class 'Jump'"),
        ({"scene": "busy"}, r"scene must be one of"),
    ],
)
def test_bad_arguments(kw, msg):
    with pytest.raises(ValueError, match=msg):
        plot_nuisance_examples(size=16, **kw)
