"""Suite `sizes`: time to read, encrypt and decrypt by file size (1 KB … 1 GB, ten-fold),
like the Cozy seed's figures, each size measured side by side on the same bytes:

- read: reading the file from disk (page cache) with `readinto` — the seed's "read" line;
- ceiling: the bare AES-256-GCM loop over 16 KiB chunks (`primitives.bare_gcm_loop`);
- format: blindvault's content format v1 (`ContentEncryptor`/`ContentDecryptor`), in memory;
- file → format: reading the file and encrypting it, what `put` does before the network.

Large sizes stream through fixed 4 MiB buffers; small ones are repeated until the clock
has enough to measure, and reported per operation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from blindvault.bench import util
from blindvault.core import primitives
from blindvault.core.constants import CHUNK_SIZE, SEALED_CHUNK_SIZE
from blindvault.core.content import ContentDecryptor, ContentEncryptor
from blindvault.core.keys import FileKey

__all__ = ["SEED_1GB_S", "run_sizes"]

BLOCK = 256 * CHUNK_SIZE  # 4 MiB
SEED_1GB_S = {"read": 10.0, "encrypt": 9.0}  # Cozy seed, Firefox 70, a 1 GB file
_KEY = b"\x01" * 32


def _cut(buf: memoryview, n: int, step: int, out_step: int) -> list[memoryview]:
    return [
        buf[i * out_step : i * out_step + min(step, n - i * step)] for i in range(-(-n // step))
    ]


class _Bare:
    """Pre-cut views and nonces for one block and for the remainder."""

    def __init__(self, size: int, plain: memoryview, sealed: memoryview, back: memoryview):
        self.full, rest = divmod(size, len(plain))
        self.sets = []
        for n, count in ((len(plain), self.full), (rest, 1 if rest else 0)):
            if not count:
                continue
            p = _cut(plain, n, CHUNK_SIZE, CHUNK_SIZE)
            s = [
                sealed[i * SEALED_CHUNK_SIZE : i * SEALED_CHUNK_SIZE + len(v) + 16]
                for i, v in enumerate(p)
            ]
            b = _cut(back, n, CHUNK_SIZE, CHUNK_SIZE)
            nonces = [i.to_bytes(12, "big") for i in range(len(p))]
            self.sets.append((count, nonces, p, s, b))

    def run(self) -> tuple[float, float]:
        enc = dec = 0.0
        for count, nonces, p, s, b in self.sets:
            for _ in range(count):
                t0 = time.perf_counter()
                primitives.bare_gcm_loop(_KEY, nonces, p, s)
                t1 = time.perf_counter()
                primitives.bare_gcm_loop(_KEY, nonces, s, b, decrypt=True)
                t2 = time.perf_counter()
                enc += t1 - t0
                dec += t2 - t1
        return enc, dec


def _format(
    size: int, plain: memoryview, sealed: memoryview, back: memoryview
) -> tuple[float, float]:
    key, node = FileKey(b"\x03" * 32), b"\x04" * 16
    t0 = time.perf_counter()
    enc = ContentEncryptor(key, node, 1)
    t1 = time.perf_counter()
    dec = ContentDecryptor(key, node, 1, size)
    dec.update_into(enc.header, back)
    enc_t, dec_t = t1 - t0, time.perf_counter() - t1
    left = size
    while left > 0:
        n = min(left, len(plain))
        t0 = time.perf_counter()
        m = enc.update_into(plain[:n], sealed)
        t1 = time.perf_counter()
        dec.update_into(sealed[:m], back)
        t2 = time.perf_counter()
        enc_t += t1 - t0
        dec_t += t2 - t1
        left -= n
    t0 = time.perf_counter()
    tail = enc.finalize()
    t1 = time.perf_counter()
    for i in range(0, len(tail), len(plain)):
        dec.update_into(tail[i : i + len(plain)], back)
    dec.finalize()
    t2 = time.perf_counter()
    return enc_t + t1 - t0, dec_t + t2 - t1


def _read(path: Path, buf: memoryview) -> float:
    t0 = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while f.readinto(buf):
            pass
    return time.perf_counter() - t0


def _file_format(path: Path, size: int, buf: memoryview, sealed: memoryview) -> float:
    t0 = time.perf_counter()
    enc = ContentEncryptor(FileKey(b"\x05" * 32), b"\x06" * 16, 1)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            enc.update_into(buf[:n], sealed)
    enc.finalize()
    return time.perf_counter() - t0


def _repeat(fn: Any, budget: float, max_reps: int) -> tuple[Any, int]:
    """Run `fn` (returning seconds or a tuple of seconds) until `budget` s have passed."""
    total: Any = None
    reps = 0
    start = time.perf_counter()
    while reps < max_reps and (reps == 0 or time.perf_counter() - start < budget):
        got = fn()
        total = got if total is None else tuple(a + b for a, b in zip(total, got, strict=True))
        reps += 1
    return total, reps


def run_sizes(work: Path, *, quick: bool = False) -> dict[str, Any]:
    top = 6 if quick else 9
    budget = 0.02 if quick else 0.3
    plain = memoryview(bytearray(primitives.random_bytes(BLOCK)))
    sealed = memoryview(bytearray(BLOCK + BLOCK // 8))
    back = memoryview(bytearray(BLOCK + BLOCK // 8))
    rows: list[dict[str, Any]] = []
    for exp in range(3, top + 1):
        size = 10**exp
        path = util.write_random(work / f"size-{size}.bin", size)
        _read(path, back)  # warm the page cache: every line reads from memory, as the seed's
        bare = _Bare(size, plain[: min(size, BLOCK)], sealed, back)
        reps_cap = max(1, 10**6 // size) * 50
        b, nb = _repeat(bare.run, budget, reps_cap)
        f, nf = _repeat(lambda s=size: _format(s, plain, sealed, back), budget, reps_cap)
        r, nr = _repeat(lambda p=path: (_read(p, back),), budget, reps_cap)
        ff, nff = _repeat(
            lambda p=path, s=size: (_file_format(p, s, plain, sealed),), budget, reps_cap
        )
        path.unlink()
        row = {
            "size": size,
            "read_ms": r[0] / nr * 1000,
            "bare_encrypt_ms": b[0] / nb * 1000,
            "bare_decrypt_ms": b[1] / nb * 1000,
            "format_encrypt_ms": f[0] / nf * 1000,
            "format_decrypt_ms": f[1] / nf * 1000,
            "file_encrypt_ms": ff[0] / nff * 1000,
        }
        for k in [k for k in row if k.endswith("_ms")]:
            row[k.replace("_ms", "_mbs")] = util.mbs(size, row[k] / 1000)
        rows.append(row)
    return {"rows": rows, "seed_1gb_s": SEED_1GB_S}
