"""The download sink: every byte written in order, fsynced as it goes, and a failure of
the writer thread raised in the caller's thread (never lost)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blindvault.client.net import sink as sink_mod
from blindvault.client.net.sink import FileSink


def _fill(s: FileSink, data: bytes, piece: int) -> None:
    for at in range(0, len(data), piece):
        chunk = data[at : at + piece]
        s.ensure(len(chunk))
        s.view()[: len(chunk)] = chunk
        s.commit(len(chunk))


def test_every_byte_in_order_and_synced_as_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        synced.append(os.fstat(fd).st_size)
        real(fd)

    monkeypatch.setattr(sink_mod.os, "fdatasync", counting)
    data = os.urandom(5 * 1024 * 1024 + 123)
    with (tmp_path / "out").open("wb") as f:
        s = FileSink(f, block=256 << 10, sync_every=1 << 20)
        _fill(s, data, 70_000)
        s.close()
    assert (tmp_path / "out").read_bytes() == data
    # flushed to disk at least every MiB while it was written, not only at the end
    assert len(synced) >= 4 and synced == sorted(synced) and synced[0] < len(data) // 4


def test_a_failing_write_is_raised_by_close(tmp_path: Path) -> None:
    class Full:
        def write(self, _: object) -> int:
            raise OSError(28, "No space left on device")

        def flush(self) -> None:
            return None

        def fileno(self) -> int:
            return -1

    s = FileSink(Full(), block=64 << 10)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="No space left"):
        _fill(s, os.urandom(1 << 20), 60_000)
        s.close()
    s.abandon()  # idempotent once stopped
    assert not s.thread.is_alive()


def test_more_room_than_a_buffer_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "out").open("wb") as f:
        s = FileSink(f, block=64 << 10)
        with pytest.raises(ValueError, match="more room"):
            s.ensure((64 << 10) + 1)
        s.close()
    assert (tmp_path / "out").read_bytes() == b""


def test_a_whole_piece_fits_in_one_buffer() -> None:
    """`download` asks the sink for room for one received piece, decrypted: it must fit."""
    from blindvault.client.net import transfer
    from blindvault.core.content import ContentDecryptor
    from blindvault.core.keys import FileKey

    dec = ContentDecryptor(FileKey(b"\x01" * 32), b"\x02" * 16, 1, 10 * transfer.PIECE)
    assert dec.output_bound(transfer.PIECE) + transfer.SLACK <= sink_mod.BLOCK
