"""tempaug.data: split lists, generated dataset, PyAV decoding and the paper's clip pipeline.

* :mod:`~tempaug.data.splits`: UCF-101 (3 splits), VIPriors 2020 mod-UCF101, HMDB-51 (3 splits).
* :mod:`~tempaug.data.synthetic`: a temporal-structure video dataset written in those layouts.
* :mod:`~tempaug.data.video`: PyAV probe/decode (uint8 ``(T, C, H, W)`` channels-last views), scan.
* :mod:`~tempaug.data.transforms`: clip sampling, scale jitter, crop, flip, normalize (Section 4.1).
* :mod:`~tempaug.data.datasets`: ``VideoClipDataset`` and the DataLoader factory ``make_loader``.
"""

from . import datasets, splits, synthetic, transforms, video
from .datasets import VideoClipDataset, make_loader, seed_worker, set_epoch, worker_init_fn
from .splits import SplitFileError, hmdb51, read_table, ucf101, vipriors_ucf101, write_table
from .synthetic import GeneratedDataset, generate
from .transforms import normalize
from .video import VideoDecodeError, VideoInfo, VideoReader, decode, probe, scan

__all__ = [
    "GeneratedDataset",
    "SplitFileError",
    "VideoClipDataset",
    "VideoDecodeError",
    "VideoInfo",
    "VideoReader",
    "datasets",
    "decode",
    "generate",
    "hmdb51",
    "make_loader",
    "normalize",
    "probe",
    "read_table",
    "scan",
    "seed_worker",
    "set_epoch",
    "splits",
    "synthetic",
    "transforms",
    "ucf101",
    "video",
    "vipriors_ucf101",
    "worker_init_fn",
    "write_table",
]
