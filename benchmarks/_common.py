"""Helpers shared by the benchmark scripts (machine description, atomic table writes)."""

from __future__ import annotations

import platform
from pathlib import Path

from tempaug.io import atomic_write_text as atomic_write

__all__ = ["atomic_write", "cpu_name"]


def cpu_name() -> str:
    """The CPU model name from /proc/cpuinfo, or the platform's best guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
