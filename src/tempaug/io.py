"""Atomic file writes: every output of the package goes through here.

A file is written to a uniquely named sibling first and renamed into place with ``os.replace``,
so a process killed at any moment leaves either the old or the new file, never a torn one, and no
half-written file under the final name. Files get the usual ``0666 & ~umask`` mode (``mkstemp``'s
0600 would stick after the rename).
"""

from __future__ import annotations

import os
import uuid
from io import BytesIO
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "save_figure"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same directory + ``os.replace``.

    Creates missing parent folders. Returns the written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, newline: str = "\n") -> Path:
    """Atomically write UTF-8 ``text``; ``newline="\\r\\n"`` writes CRLF line ends."""
    if newline != "\n":
        text = text.replace("\n", newline)
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_figure(fig, path: str | Path, *, dpi: int = 100, quality: int = 80) -> Path:
    """Save a figure atomically (:func:`tempaug.io.atomic_write_bytes`), readable by all.

    The format follows the suffix: ``.png`` for charts (no software stamp, so the bytes depend
    only on the figure), ``.jpg`` for galleries of video frames (``quality`` 1–95; several
    times smaller than PNG for photographic content), anything else matplotlib can write.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        if not 1 <= quality <= 95:
            raise ValueError(f"quality must be in [1, 95], got {quality}")
        kwargs = {"pil_kwargs": {"quality": quality, "optimize": True}}
    elif suffix == ".png":
        kwargs = {"metadata": {"Software": None}}
    else:
        kwargs = {}
    buffer = BytesIO()
    fig.savefig(buffer, format=suffix.lstrip(".") or None, dpi=dpi, **kwargs)
    return atomic_write_bytes(path, buffer.getvalue())
