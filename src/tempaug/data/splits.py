"""Official split lists: UCF-101 (3 splits), VIPriors 2020 mod-UCF101, HMDB-51 (3 splits).

The parsers read the list files exactly as distributed with the datasets (paper Section 4.1):

* UCF-101 ``ucfTrainTestlist/``: ``classInd.txt`` (``<1-based index> <ClassName>``),
  ``trainlist0{1,2,3}.txt`` (``<Class>/v_<Class>_gGG_cCC.avi <index>``) and
  ``testlist0{1,2,3}.txt`` (``<Class>/v_<Class>_gGG_cCC.avi``). Both CRLF (as in the official zip)
  and LF line endings are accepted.
* VIPriors 2020 action-recognition challenge "mod-UCF101" (the paper's "modified split",
  4,795 train / 4,742 validation videos), derived from UCF-101 split 1 by the challenge's
  ``arrange_data.py`` rule, re-implemented here.
* HMDB-51 ``testTrainMulti_7030_splits/``: ``<class>_test_split{1,2,3}.txt`` with one
  ``<video>.avi <flag> `` line per video (note the trailing space), flag 1 = train, 2 = test,
  0 = unused in that split.

Every parser returns a :class:`pandas.DataFrame` with at least the columns ``video`` (path relative
to the dataset root, ``<class folder>/<file>``), ``label`` (0-based ``int64``), ``class_name`` and
``subset``; ``df.attrs["classes"]`` holds the class names in label order and
``df.attrs["num_classes"]`` their number, so a subset (``df[df.subset == "train"]``) still knows
the full class count.

Malformed input raises :class:`SplitFileError` (a ``ValueError``) naming the file and the 1-based
line; a missing list file raises :class:`FileNotFoundError` naming the path.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tempaug.io import atomic_write_text

__all__ = [
    "COLUMNS",
    "VIPRIORS_COLUMNS",
    "SplitFileError",
    "hmdb51",
    "read_table",
    "ucf101",
    "vipriors_class_indices",
    "vipriors_ucf101",
    "write_table",
]

#: Columns of every split table (VIPriors adds ``vipriors_name``).
COLUMNS: tuple[str, ...] = ("video", "label", "class_name", "subset")
VIPRIORS_COLUMNS: tuple[str, ...] = ("video", "vipriors_name", "label", "class_name", "subset")

#: Seed of the VIPriors 2020 class-index shuffle (``random.seed(1992)`` in the challenge kit).
VIPRIORS_SEED = 1992

_HMDB_FLAGS = {"1": "train", "2": "test"}  # "0": not used in this split


class SplitFileError(ValueError):
    """A split list file is malformed.

    Attributes:
        path: The offending file.
        line: 1-based line number, or ``None`` when the problem concerns the whole file.
        reason: What is wrong.
    """

    def __init__(self, path: str | os.PathLike[str], line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # keep (path, line, reason) through pickling (DataLoader workers)
        return (type(self), (self.path, self.line, self.reason))


def _check_split(split: int) -> None:
    if isinstance(split, bool) or split not in (1, 2, 3):
        raise ValueError(f"split must be 1, 2 or 3, got {split!r}")


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-empty lines of ``path`` as ``(1-based line number, stripped text)``."""
    if not path.is_file():
        raise FileNotFoundError(2, "split list file not found", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SplitFileError(path, None, f"not UTF-8 text ({e})") from None
    return [(i, s.strip()) for i, s in enumerate(text.splitlines(), 1) if s.strip()]


def _read_class_ind(path: Path) -> list[str]:
    """Class names of ``classInd.txt`` in index order; indices must be exactly 1..K in order."""
    names: list[str] = []
    for lineno, text in _read_lines(path):
        fields = text.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise SplitFileError(path, lineno, f"expected '<index> <ClassName>', got {text!r}")
        idx = int(fields[0])
        if idx != len(names) + 1:
            raise SplitFileError(
                path, lineno, f"class index {idx} out of order, expected {len(names) + 1}"
            )
        if fields[1] in names:
            raise SplitFileError(path, lineno, f"duplicate class name {fields[1]!r}")
        names.append(fields[1])
    if not names:
        raise SplitFileError(path, None, "no classes listed")
    return names


def _parse_ucf_list(
    path: Path, class_index: dict[str, int], *, with_label: bool
) -> list[tuple[str, int]]:
    """``(video, 0-based label)`` rows of a UCF-101 train/test list, in file order."""
    rows: list[tuple[str, int]] = []
    for lineno, text in _read_lines(path):
        fields = text.split()
        if len(fields) not in ((2,) if with_label else (1, 2)):
            fmt = "<Class>/<file>.avi <index>" if with_label else "<Class>/<file>.avi"
            raise SplitFileError(path, lineno, f"expected '{fmt}', got {text!r}")
        video = fields[0]
        parts = video.split("/")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise SplitFileError(path, lineno, f"expected '<Class>/<file>', got {video!r}")
        cls = parts[0]
        if cls not in class_index:
            raise SplitFileError(path, lineno, f"class {cls!r} is not listed in classInd.txt")
        label = class_index[cls]
        if len(fields) == 2:
            if not fields[1].isdigit():
                raise SplitFileError(path, lineno, f"class index {fields[1]!r} is not an integer")
            if int(fields[1]) - 1 != label:
                raise SplitFileError(
                    path,
                    lineno,
                    f"class index {fields[1]} does not match folder {cls!r} "
                    f"(index {label + 1} in classInd.txt)",
                )
        rows.append((video, label))
    if not rows:
        raise SplitFileError(path, None, "no videos listed")
    return rows


def _frame(rows: list[dict], columns: Sequence[str], classes: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns))
    df["label"] = df["label"].astype("int64")
    df.attrs["classes"] = list(classes)
    df.attrs["num_classes"] = len(classes)
    return df


def ucf101(list_dir: str | os.PathLike[str], split: int = 1) -> pd.DataFrame:
    """Parse one of the three official UCF-101 train/test splits.

    Paper Section 4.1 uses UCF-101 through the VIPriors split (:func:`vipriors_ucf101`); the
    official splits are provided for completeness and for the generated dataset.

    Note the official quirk kept as is: class 37's folder is ``HandstandPushups`` but its files are
    ``v_HandStandPushups_*``; the label always comes from the folder name.

    Args:
        list_dir: Folder holding ``classInd.txt``, ``trainlist0{split}.txt``, ``testlist0{split}.txt``.
        split: 1, 2 or 3.

    Returns:
        DataFrame with columns ``video`` (``<Class>/v_<Class>_gGG_cCC.avi``), ``label`` (0-based,
        classInd order, int64), ``class_name`` and ``subset`` (``"train"`` rows in file order, then
        ``"test"`` rows in file order). Sizes on the official lists: 9537/3783, 9586/3734,
        9624/3696 for splits 1/2/3.

    Raises:
        ValueError: ``split`` not in 1..3.
        FileNotFoundError: a list file is missing.
        SplitFileError: a malformed line, a class absent from classInd, or a train label that
            disagrees with its folder (message names file and line).
    """
    _check_split(split)
    list_dir = Path(list_dir)
    classes = _read_class_ind(list_dir / "classInd.txt")
    index = {c: i for i, c in enumerate(classes)}
    rows: list[dict] = []
    for subset, name, with_label in (
        ("train", f"trainlist0{split}.txt", True),
        ("test", f"testlist0{split}.txt", False),
    ):
        for video, label in _parse_ucf_list(list_dir / name, index, with_label=with_label):
            rows.append(
                {"video": video, "label": label, "class_name": classes[label], "subset": subset}
            )
    return _frame(rows, COLUMNS, classes)


def vipriors_class_indices(num_classes: int = 101, seed: int = VIPRIORS_SEED) -> list[int]:
    """Published 1-based VIPriors class index of each official class (list position = official - 1).

    The challenge kit shuffles the list ``1..K`` with ``random.seed(1992); random.shuffle(...)``;
    a private :class:`random.Random` instance reproduces it without touching global state.

    Returns:
        ``shuffled`` with ``shuffled[i - 1]`` the new index of official class ``i``
        (for K = 101 it starts ``[100, 1, 48, 38, ...]``, as in ``mod-ucf101-classInd.txt``).
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    shuffled = list(range(1, num_classes + 1))
    random.Random(seed).shuffle(shuffled)
    return shuffled


def vipriors_ucf101(list_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The VIPriors 2020 action-recognition "mod-UCF101" split (paper Section 4.1).

    Re-implements the challenge kit's ``arrange_data.py`` on the official split-1 lists:

    * ``trainlist01.txt`` is grouped by class in classInd order (file order kept inside a class);
      the first ``ceil(n / 2)`` videos of each class are ``train``, the rest ``validation``;
    * ``testlist01.txt``, grouped the same way (identical to file order for the official list), is
      ``test`` and keeps its official class;
    * videos are renamed ``video_train_0000001.avi``, ``video_validation_…``, ``video_test_…`` in
      that order (``vipriors_name``);
    * class indices are permuted by :func:`vipriors_class_indices` (seed 1992):
      ``label = shuffled[official_index - 1] - 1``.

    Args:
        list_dir: Folder holding the official ``classInd.txt``, ``trainlist01.txt``, ``testlist01.txt``.

    Returns:
        DataFrame with columns ``video`` (official path, relative to the UCF-101 root),
        ``vipriors_name``, ``label`` (0-based = published VIPriors index − 1), ``class_name`` and
        ``subset`` (``train``/``validation``/``test``). On the official lists: 4795 / 4742 / 3783
        rows, all 101 classes in train and validation. ``attrs["classes"]`` is ordered by the
        VIPriors label. To read the challenge's renamed copies (``mod-ucf101/videos/``) instead of
        the UCF-101 folders, use ``df.assign(video=df.vipriors_name)``.

    Raises:
        FileNotFoundError, SplitFileError: as :func:`ucf101`.
    """
    list_dir = Path(list_dir)
    classes = _read_class_ind(list_dir / "classInd.txt")
    index = {c: i for i, c in enumerate(classes)}
    new_index = vipriors_class_indices(len(classes))
    train = _parse_ucf_list(list_dir / "trainlist01.txt", index, with_label=True)
    test = _parse_ucf_list(list_dir / "testlist01.txt", index, with_label=False)

    def by_class(rows: list[tuple[str, int]]) -> list[list[str]]:
        groups: list[list[str]] = [[] for _ in classes]
        for video, label in rows:
            groups[label].append(video)
        return groups

    train_groups = by_class(train)
    out: list[dict] = []
    counters = {"train": 0, "validation": 0, "test": 0}

    def emit(subset: str, video: str, official: int) -> None:
        counters[subset] += 1
        out.append(
            {
                "video": video,
                "vipriors_name": f"video_{subset}_{counters[subset]:07d}.avi",
                "label": new_index[official] - 1,
                "class_name": classes[official],
                "subset": subset,
            }
        )

    for subset in ("train", "validation"):
        for official, videos in enumerate(train_groups):
            n_train = math.ceil(len(videos) / 2)
            part = videos[:n_train] if subset == "train" else videos[n_train:]
            for video in part:
                emit(subset, video, official)
    for official, videos in enumerate(by_class(test)):
        for video in videos:
            emit("test", video, official)
    vip_classes = [""] * len(classes)
    for official, name in enumerate(classes):
        vip_classes[new_index[official] - 1] = name
    return _frame(out, VIPRIORS_COLUMNS, vip_classes)


def hmdb51(split_dir: str | os.PathLike[str], split: int = 1) -> pd.DataFrame:
    """Parse one of the three official HMDB-51 splits (``testTrainMulti_7030_splits``).

    Args:
        split_dir: Folder holding ``<class>_test_split{1,2,3}.txt`` (one file per class and split).
        split: 1, 2 or 3.

    Returns:
        DataFrame with columns ``video`` (``<class>/<name>.avi``), ``label`` (0-based, classes
        sorted by name), ``class_name`` and ``subset`` (``train`` = flag 1 then ``test`` = flag 2,
        each in class then file order; flag 0 rows are dropped). On the official lists:
        3570 train / 1530 test per split, 51 classes (70 / 30 per class).

    Raises:
        ValueError: ``split`` not in 1..3.
        FileNotFoundError: ``split_dir`` holds no ``*_test_split{split}.txt`` file.
        SplitFileError: a line that is not ``<name>.avi <0|1|2>`` (message names file and line).
    """
    _check_split(split)
    split_dir = Path(split_dir)
    suffix = f"_test_split{split}.txt"
    files = sorted(split_dir.glob(f"*{suffix}")) if split_dir.is_dir() else []
    if not files:
        raise FileNotFoundError(2, f"no '*{suffix}' HMDB-51 split files", str(split_dir))
    classes = sorted(f.name[: -len(suffix)] for f in files)
    rows: dict[str, list[dict]] = {"train": [], "test": []}
    for label, cls in enumerate(classes):
        path = split_dir / f"{cls}{suffix}"
        seen = 0
        for lineno, text in _read_lines(path):
            fields = text.split()
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise SplitFileError(path, lineno, f"expected '<video>.avi <0|1|2>', got {text!r}")
            if "/" in fields[0]:
                raise SplitFileError(path, lineno, f"video name {fields[0]!r} contains '/'")
            seen += 1
            subset = _HMDB_FLAGS.get(fields[1])
            if subset is not None:
                rows[subset].append(
                    {
                        "video": f"{cls}/{fields[0]}",
                        "label": label,
                        "class_name": cls,
                        "subset": subset,
                    }
                )
        if not seen:
            raise SplitFileError(path, None, "no videos listed")
    return _frame(rows["train"] + rows["test"], COLUMNS, classes)


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a split/report table as CSV atomically (temp file in the same folder + ``os.replace``).

    ``df.attrs["classes"]`` is not stored (CSV has no metadata); :func:`read_table` recovers the
    class count from the labels.

    Returns:
        The written path.
    """
    return atomic_write_text(path, df.to_csv(index=False, lineterminator="\n"))


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table`; ``label`` becomes int64.

    If the table has ``label`` and ``class_name`` columns, ``attrs["classes"]`` /
    ``attrs["num_classes"]`` are rebuilt from them (classes absent from the table are unknown).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a readable CSV table, lacks a ``video`` column, or has
            non-integer or negative labels (names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "table not found", str(path))
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as e:  # not UTF-8, empty, malformed rows
        raise ValueError(f"{path}: not a readable CSV table ({' '.join(str(e).split())})") from None
    if "video" not in df.columns:
        raise ValueError(f"{path}: table has no 'video' column (columns: {list(df.columns)})")
    if "label" in df.columns:
        if not pd.api.types.is_integer_dtype(df["label"]):
            raise ValueError(
                f"{path}: column 'label' must hold integers, got dtype {df['label'].dtype} "
                f"(first values {df['label'].head(3).tolist()})"
            )
        if len(df) and int(df["label"].min()) < 0:
            row = int(df["label"].argmin())
            raise ValueError(
                f"{path}: column 'label' must hold integers >= 0, got {df['label'].iloc[row]} "
                f"in data row {row + 1}"
            )
        df["label"] = df["label"].astype("int64")
        if "class_name" in df.columns and len(df):
            pairs = df.drop_duplicates("label").sort_values("label")
            k = int(df["label"].max()) + 1
            classes = [""] * k
            for lab, name in zip(pairs["label"], pairs["class_name"], strict=True):
                classes[int(lab)] = str(name)
            df.attrs["classes"] = classes
            df.attrs["num_classes"] = k
    return df
