"""tempaug.data.splits: official UCF-101 / VIPriors / HMDB-51 lists and error reporting."""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from conftest import SHARED_DATA

from tempaug.data import splits

UCF_DIR = SHARED_DATA / "ucf101" / "ucfTrainTestlist"
HMDB_DIR = SHARED_DATA / "hmdb51" / "testTrainMulti_7030_splits"


@pytest.fixture
def ucf_dir() -> Path:
    if not (UCF_DIR / "classInd.txt").is_file():
        pytest.skip(f"official UCF-101 lists not found in {UCF_DIR} (shared data folder absent)")
    return UCF_DIR


@pytest.fixture
def hmdb_dir() -> Path:
    if not HMDB_DIR.is_dir():
        pytest.skip(f"official HMDB-51 lists not found in {HMDB_DIR} (shared data folder absent)")
    return HMDB_DIR


def _groups(videos: pd.Series) -> pd.Series:
    return videos.str.extract(r"_g(\d\d)_c\d\d\.avi$")[0].astype(int)


class TestUCF101:
    @pytest.mark.parametrize(
        ("split", "n_train", "n_test", "test_groups"),
        [(1, 9537, 3783, (1, 7)), (2, 9586, 3734, (8, 14)), (3, 9624, 3696, (15, 21))],
    )
    def test_official_sizes_and_groups(self, ucf_dir, split, n_train, n_test, test_groups):
        df = splits.ucf101(ucf_dir, split)
        assert list(df.columns) == list(splits.COLUMNS)
        assert (df.subset == "train").sum() == n_train
        assert (df.subset == "test").sum() == n_test
        assert df.video.is_unique and len(df) == 13320
        assert df.label.dtype == "int64"
        assert df.attrs["num_classes"] == 101 and len(df.attrs["classes"]) == 101
        for subset in ("train", "test"):
            assert df[df.subset == subset].label.nunique() == 101
        g = _groups(df.video)
        lo, hi = test_groups
        assert set(g[df.subset == "test"]) == set(range(lo, hi + 1))
        assert set(g[df.subset == "train"]) == set(range(1, 26)) - set(range(lo, hi + 1))
        # label == classInd order of the folder name
        folder = df.video.str.split("/").str[0]
        assert (folder == df.class_name).all()
        assert (
            df.class_name.map({c: i for i, c in enumerate(df.attrs["classes"])}) == df.label
        ).all()

    def test_per_class_counts_identical_across_splits(self, ucf_dir):
        counts = [splits.ucf101(ucf_dir, k).groupby("label").size() for k in (1, 2, 3)]
        assert counts[0].equals(counts[1]) and counts[0].equals(counts[2])
        assert counts[0].min() == 100 and counts[0].max() == 167
        assert counts[0].sum() == 13320
        split1 = splits.ucf101(ucf_dir, 1)
        per_class = split1.groupby(["class_name", "subset"]).size()
        assert per_class[("ApplyEyeMakeup", "train")] == 101
        assert per_class[("ApplyEyeMakeup", "test")] == 44

    def test_handstand_pushups_quirk(self, ucf_dir):
        df = splits.ucf101(ucf_dir, 1)
        rows = df[df.class_name == "HandstandPushups"]
        assert len(rows) > 0 and (rows.label == 36).all()  # official index 37
        assert rows.video.str.match(r"^HandstandPushups/v_HandStandPushups_g\d\d_c\d\d\.avi$").all()

    def test_split_argument(self, ucf_dir):
        with pytest.raises(ValueError, match=r"split must be 1, 2 or 3"):
            splits.ucf101(ucf_dir, 4)


class TestVIPriors:
    # First classes of the published mod-ucf101-train.txt (VIPriors challenge kit): 1-based
    # VIPriors index -> number of training videos, in classInd order.
    PUBLISHED_TRAIN: ClassVar[list[tuple[int, int]]] = [
        (100, 51), (1, 41), (48, 52), (38, 49), (65, 39), (16, 56),
        (46, 54), (23, 50), (76, 47), (66, 56), (29, 48),
    ]  # fmt: skip

    def test_sizes_and_classes(self, ucf_dir):
        df = splits.vipriors_ucf101(ucf_dir)
        assert list(df.columns) == list(splits.VIPRIORS_COLUMNS)
        sizes = df.subset.value_counts().to_dict()
        assert sizes == {"train": 4795, "validation": 4742, "test": 3783}
        for subset in ("train", "validation", "test"):
            assert df[df.subset == subset].label.nunique() == 101
        assert sorted(df.label.unique()) == list(range(101))

    def test_per_class_half_split_and_published_counts(self, ucf_dir):
        df = splits.vipriors_ucf101(ucf_dir)
        official = splits.ucf101(ucf_dir, 1)
        n_official = official[official.subset == "train"].groupby("class_name").size()
        n_train = df[df.subset == "train"].groupby("class_name").size()
        n_val = df[df.subset == "validation"].groupby("class_name").size()
        for cls, n in n_official.items():
            assert n_train[cls] == math.ceil(n / 2)
            assert n_val[cls] == n - math.ceil(n / 2)
        train = df[df.subset == "train"]
        runs = train.groupby("label", sort=False).size()
        observed = [(int(lab) + 1, int(n)) for lab, n in runs.items()][: len(self.PUBLISHED_TRAIN)]
        assert observed == self.PUBLISHED_TRAIN

    def test_names_and_order(self, ucf_dir):
        df = splits.vipriors_ucf101(ucf_dir)
        for subset in ("train", "validation", "test"):
            names = df[df.subset == subset].vipriors_name.tolist()
            assert names == [f"video_{subset}_{i:07d}.avi" for i in range(1, len(names) + 1)]
        first = df.iloc[0]
        assert first.video == "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi"
        assert first.label == 99  # published index 100
        # validation of a class starts right after its ceil(n/2) training clips (file order)
        val = df[(df.subset == "validation") & (df.class_name == "ApplyEyeMakeup")]
        assert val.video.iloc[0] == "ApplyEyeMakeup/v_ApplyEyeMakeup_g17_c01.avi"
        # test keeps file order and the official class, relabelled
        official_test = splits.ucf101(ucf_dir, 1).query("subset == 'test'")
        test = df[df.subset == "test"]
        assert test.video.tolist() == official_test.video.tolist()
        assert (test.class_name.to_numpy() == official_test.class_name.to_numpy()).all()

    def test_class_permutation_matches_published_classind(self):
        shuffled = splits.vipriors_class_indices(101)
        assert shuffled[:10] == [100, 1, 48, 38, 65, 16, 46, 23, 76, 66]
        assert sorted(shuffled) == list(range(1, 102))


class TestHMDB51:
    @pytest.mark.parametrize("split", [1, 2, 3])
    def test_official_sizes(self, hmdb_dir, split):
        df = splits.hmdb51(hmdb_dir, split)
        assert list(df.columns) == list(splits.COLUMNS)
        assert (df.subset == "train").sum() == 3570
        assert (df.subset == "test").sum() == 1530
        assert df.attrs["num_classes"] == 51
        counts = df.groupby(["label", "subset"]).size().unstack()
        assert (counts["train"] == 70).all() and (counts["test"] == 30).all()
        assert df.attrs["classes"] == sorted(df.attrs["classes"])
        assert df.attrs["classes"][0] == "brush_hair"
        assert df.video.str.match(r"^[a-z_]+/[^/ ]+\.avi$").all()  # trailing space stripped
        assert (df.video.str.split("/").str[0] == df.class_name).all()

    def test_splits_differ(self, hmdb_dir):
        tests = [set(splits.hmdb51(hmdb_dir, k).query("subset == 'test'").video) for k in (1, 2, 3)]
        assert tests[0] != tests[1] and tests[1] != tests[2]
        listed = [set(splits.hmdb51(hmdb_dir, k).video) for k in (1, 2, 3)]
        assert len(listed[0] | listed[1] | listed[2]) <= 6766


class TestErrors:
    def _ucf(self, tmp_path: Path, classind: str, train: str, test: str = "A/v_A_g01_c01.avi\n"):
        (tmp_path / "classInd.txt").write_text(classind)
        (tmp_path / "trainlist01.txt").write_text(train)
        (tmp_path / "testlist01.txt").write_text(test)
        return tmp_path

    def test_missing_file_names_path(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "classInd.txt"))):
            splits.ucf101(tmp_path, 1)

    def test_unknown_class_names_file_and_line(self, tmp_path):
        d = self._ucf(tmp_path, "1 A\r\n2 B\r\n", "A/v_A_g08_c01.avi 1\r\nC/v_C_g08_c01.avi 3\r\n")
        with pytest.raises(splits.SplitFileError, match=r"trainlist01\.txt:2: class 'C'") as e:
            splits.ucf101(d, 1)
        assert e.value.line == 2 and e.value.path.name == "trainlist01.txt"

    def test_unparsable_line(self, tmp_path):
        d = self._ucf(tmp_path, "1 A\n", "A/v_A_g08_c01.avi 1\nA/v_A_g08_c02.avi 1 extra\n")
        with pytest.raises(splits.SplitFileError, match=r"trainlist01\.txt:2: expected"):
            splits.ucf101(d, 1)

    def test_label_disagreeing_with_folder(self, tmp_path):
        d = self._ucf(tmp_path, "1 A\n2 B\n", "A/v_A_g08_c01.avi 2\n")
        with pytest.raises(splits.SplitFileError, match=r"trainlist01\.txt:1: class index 2"):
            splits.ucf101(d, 1)

    def test_bad_classind(self, tmp_path):
        d = self._ucf(tmp_path, "1 A\n3 B\n", "A/v_A_g08_c01.avi 1\n")
        with pytest.raises(splits.SplitFileError, match=r"classInd\.txt:2: class index 3"):
            splits.ucf101(d, 1)

    def test_test_list_unknown_class(self, tmp_path):
        d = self._ucf(tmp_path, "1 A\n", "A/v_A_g08_c01.avi 1\n", "\nZ/v_Z_g01_c01.avi\n")
        with pytest.raises(splits.SplitFileError, match=r"testlist01\.txt:2: class 'Z'"):
            splits.vipriors_ucf101(d)

    def test_hmdb_bad_flag_and_missing(self, tmp_path):
        with pytest.raises(FileNotFoundError, match=r"_test_split1\.txt"):
            splits.hmdb51(tmp_path, 1)
        (tmp_path / "run_test_split1.txt").write_text("a.avi 1 \nb.avi 7 \n")
        with pytest.raises(splits.SplitFileError, match=r"run_test_split1\.txt:2: expected"):
            splits.hmdb51(tmp_path, 1)

    def test_error_pickles(self, tmp_path):
        err = splits.SplitFileError(tmp_path / "x.txt", 3, "bad")
        back = pickle.loads(pickle.dumps(err))
        assert (back.path, back.line, str(back)) == (err.path, 3, str(err))


class TestTables:
    def test_roundtrip(self, tmp_path):
        df = pd.DataFrame(
            {
                "video": ["A/a.avi", "B/b.avi"],
                "label": [0, 1],
                "class_name": ["A", "B"],
                "subset": "train",
            }
        )
        path = splits.write_table(df, tmp_path / "sub" / "t.csv")
        back = splits.read_table(path)
        pd.testing.assert_frame_equal(back, df)
        assert back.attrs["classes"] == ["A", "B"]
        assert not list(path.parent.glob(".*.tmp"))

    def test_read_errors(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            splits.read_table(tmp_path / "none.csv")
        (tmp_path / "bad.csv").write_text("path,label\nx,1\n")
        with pytest.raises(ValueError, match=r"bad\.csv.*'video'"):
            splits.read_table(tmp_path / "bad.csv")
