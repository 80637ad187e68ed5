"""The one atomic write of the client: temporary file beside the target, fsync, rename.

A crash, a failed verification or an interrupt never leaves half a file under the final
name: the temporary file (a short `.bv-*.partial` name, since the final one may already be
255 bytes long) is removed and the target is untouched."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_file", "atomic_write"]


@contextmanager
def atomic_file(
    dest: Path, *, mode: int | None = None, dir_mode: int = 0o777
) -> Iterator[BinaryIO]:
    """A file to write that appears as `dest` only when the block ends without error."""
    dest.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    fd, tmp = tempfile.mkstemp(prefix=".bv-", suffix=".partial", dir=dest.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write `data` to `path` atomically, readable by this user only (state files)."""
    with atomic_file(path, mode=mode, dir_mode=0o700) as f:
        f.write(data)
