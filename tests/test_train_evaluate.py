"""Multi-view evaluation metrics and score files (tempaug.train.evaluate)."""

from __future__ import annotations

import csv

import pytest
import torch

from tempaug.train import compute_metrics
from tempaug.train.evaluate import write_scores


class TestMetrics:
    def test_top1_top5_and_per_class(self):
        # 3 videos of class 0 (2 right), 1 video of class 1 (right): top-1 75 %, per class 83.3 %.
        scores = torch.tensor(
            [
                [0.9, 0.1, 0.0, 0.0, 0.0, 0.0],
                [0.8, 0.2, 0.0, 0.0, 0.0, 0.0],
                [0.1, 0.2, 0.3, 0.35, 0.04, 0.01],  # class 0 is 5th -> top-5 hit
                [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            ]
        )
        labels = torch.tensor([0, 0, 0, 1])
        m = compute_metrics(scores, labels)
        assert m["top1"] == pytest.approx(75.0)
        assert m["top5"] == pytest.approx(100.0)
        assert m["mean_class_acc"] == pytest.approx(100 * (2 / 3 + 1) / 2)
        assert m["num_videos"] == 4

    def test_top5_misses_sixth(self):
        scores = torch.tensor([[0.01, 0.3, 0.25, 0.2, 0.14, 0.1]])
        assert compute_metrics(scores, torch.tensor([0]))["top5"] == 0.0

    def test_fewer_than_five_classes(self):
        m = compute_metrics(torch.tensor([[0.2, 0.8], [0.6, 0.4]]), torch.tensor([0, 0]))
        assert m["top1"] == 50.0 and m["top5"] == 100.0

    def test_bad_shapes(self):
        with pytest.raises(ValueError, match="scores must be"):
            compute_metrics(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long))
        with pytest.raises(ValueError, match="0 videos"):
            compute_metrics(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_scores_csv_round_trips_float32(tmp_path):
    scores = torch.rand(3, 4, generator=torch.Generator().manual_seed(0)).softmax(1)
    write_scores(tmp_path / "s.csv", ["a.avi", "b.avi", "c.avi"], torch.tensor([1, 0, 3]), scores)
    rows = list(csv.reader((tmp_path / "s.csv").open()))
    assert rows[0] == ["video", "label", "score_0", "score_1", "score_2", "score_3"]
    back = torch.tensor([[float(v) for v in r[2:]] for r in rows[1:]], dtype=torch.float32)
    assert torch.equal(back, scores)
    assert [r[:2] for r in rows[1:]] == [["a.avi", "1"], ["b.avi", "0"], ["c.avi", "3"]]
