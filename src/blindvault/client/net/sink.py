"""Where a download's verified plaintext goes: a writer thread that keeps the disk busy
while the network and the decryptor keep the CPU busy.

A download is made durable (fsynced) before it is renamed into place. Left to itself,
the kernel starts writing a file back only once a tenth of the memory is dirty, so a
1 GiB download stayed in the page cache and the final fsync wrote all of it, after the
network was done: `get` took network + disk, and how long the disk part took depended
on what else the machine was writing (432 vs 213 MB/s between two runs). Here a writer
thread writes each filled buffer and `fdatasync`s every `SYNC_EVERY` bytes while the
next buffers are received and decrypted, so the two overlap and the last fsync flushes
at most `SYNC_EVERY` bytes. Memory: `BUFFERS` buffers of `BLOCK` bytes.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import BinaryIO

__all__ = ["BLOCK", "BUFFERS", "SYNC_EVERY", "FileSink"]

BLOCK = 1 << 20
BUFFERS = 3
SYNC_EVERY = 64 << 20


class FileSink:
    """`ensure(room)`, fill `view()`, `commit(n)`; `close()` waits for every write and
    raises the writer's error, if any, in the caller's thread."""

    def __init__(self, f: BinaryIO, *, block: int = BLOCK, sync_every: int = SYNC_EVERY):
        self.f, self.block, self.sync_every = f, block, sync_every
        self.free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(BUFFERS):
            self.free.put(bytearray(block))
        self.full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.buf = self.free.get()
        self.filled = 0
        self.thread = threading.Thread(target=self._run, name="bv-sink", daemon=True)
        self.thread.start()

    def view(self) -> memoryview:
        """The free part of the current buffer."""
        return memoryview(self.buf)[self.filled :]

    def commit(self, n: int) -> None:
        """`n` more bytes of the current buffer are filled."""
        self.filled += n

    def ensure(self, room: int) -> None:
        """Make sure the current buffer has `room` free bytes (at most `block`)."""
        if room > self.block:
            raise ValueError("more room than a buffer holds")
        if self.block - self.filled < room:
            self._hand_over()

    def _hand_over(self) -> None:
        if self.error is not None:  # mutant: transfer.sink-error
            raise self.error
        self.full.put((self.buf, self.filled))
        self.buf = self.free.get()
        self.filled = 0

    def close(self) -> None:
        """Write what is left and wait for the writer (its failure is raised here)."""
        if self.filled and self.error is None:
            self.full.put((self.buf, self.filled))
            self.filled = 0
        self.abandon()
        if self.error is not None:  # mutant: transfer.sink-error
            raise self.error

    def abandon(self) -> None:
        """Stop the writer (after what it was given); the caller is failing anyway."""
        if self.thread.is_alive():
            self.full.put(None)
            self.thread.join()

    def _run(self) -> None:
        written = synced = 0
        while (item := self.full.get()) is not None:
            buf, n = item
            try:
                if self.error is None:
                    self.f.write(memoryview(buf)[:n])
                    written += n
                    if written - synced >= self.sync_every:
                        self.f.flush()
                        os.fdatasync(self.f.fileno())
                        synced = written
            except BaseException as exc:  # handed to the caller's thread in close()
                self.error = exc
            finally:
                self.free.put(buf)
