"""When small files travel together: the batching policy of uploads and downloads."""

from __future__ import annotations

from typing import TypeVar

__all__ = ["BATCH_BYTES", "BATCH_COUNT", "BATCH_ITEM", "PARALLEL", "groups"]

PARALLEL = 4  # small files (or batches of them) in flight at once
BATCH_ITEM = 1 << 20  # files whose blob is at most this travel in batches
BATCH_BYTES = 4 << 20  # per batch request (the server takes up to 8 MiB)
BATCH_COUNT = 500

T = TypeVar("T")


def groups(items: list[tuple[T, int]]) -> list[list[T]]:
    """(item, blob size) pairs cut into batches of at most BATCH_COUNT items and about
    BATCH_BYTES of blobs."""
    out: list[list[T]] = []
    group: list[T] = []
    size = 0
    for item, n in items:
        if group and (size + n > BATCH_BYTES or len(group) >= BATCH_COUNT):
            out.append(group)
            group, size = [], 0
        group.append(item)
        size += n
    if group:
        out.append(group)
    return out
