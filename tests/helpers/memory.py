"""Resident memory of a server process, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of `pid` in MiB (VmRSS, VmHWM)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]
