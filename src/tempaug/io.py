"""Atomic file writes: every output of the package goes through here.

A file is written to a uniquely named sibling first and renamed into place with ``os.replace``,
so a process killed at any moment leaves either the old or the new file, never a torn one, and no
half-written file under the final name. Files get the usual ``0666 & ~umask`` mode (``mkstemp``'s
0600 would stick after the rename).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text"]


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
