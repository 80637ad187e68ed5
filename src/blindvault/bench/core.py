"""`blindvault bench core`: the crypto core against its ceiling, side by side in one run.

- ceiling: the AEAD loop alone — AES-256-GCM `encrypt_into`/`decrypt_into` over 16 KiB
  chunks, with the memoryviews cut and the nonces made before the clock starts
  (`primitives.bare_gcm_loop`), no format around it;
- ours: the format-v1 content stream (`ContentEncryptor`/`ContentDecryptor`) over the
  same bytes, streamed through fixed reusable buffers, so memory does not grow with size;
- key derivation: Argon2id at the account default and PBKDF2-SHA-256 by iteration count,
  next to the Cozy seed's browser figures (Firefox 70, i7-8550U).
Numbers, never assertions: a benchmark reports, a test checks.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from blindvault.core import primitives
from blindvault.core.constants import CHUNK_SIZE, SEALED_CHUNK_SIZE
from blindvault.core.content import ContentDecryptor, ContentEncryptor
from blindvault.core.kdf import KdfParams, derive_account_keys
from blindvault.core.keys import FileKey

__all__ = ["CoreReport", "run_core"]

BLOCK_CHUNKS = 256  # 4 MiB of plaintext per block
SEED_PBKDF2_MS = {1_000: 3, 10_000: 25, 100_000: 253, 1_000_000: 2_398}


@dataclass
class CoreReport:
    size: int
    ceiling_encrypt_mbs: float
    ceiling_decrypt_mbs: float
    format_encrypt_mbs: float
    format_decrypt_mbs: float
    argon2id_default_ms: float
    login_derivation_ms: float
    pbkdf2_ms: dict[int, float]
    peak_rss_mib_before: float
    peak_rss_mib_after: float

    @property
    def encrypt_ratio(self) -> float:
        return self.format_encrypt_mbs / self.ceiling_encrypt_mbs

    @property
    def decrypt_ratio(self) -> float:
        return self.format_decrypt_mbs / self.ceiling_decrypt_mbs

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["encrypt_ratio"] = round(self.encrypt_ratio, 4)
        out["decrypt_ratio"] = round(self.decrypt_ratio, 4)
        return out

    def markdown(self) -> str:
        mib = self.size / 2**20
        rows = [
            f"## Content encryption, {mib:,.0f} MiB in memory, one core",
            "",
            "| path | encrypt MB/s | decrypt MB/s |",
            "|---|---:|---:|",
            f"| ceiling: bare AES-256-GCM `*_into` loop, 16 KiB chunks, pre-cut views | "
            f"{self.ceiling_encrypt_mbs:,.0f} | {self.ceiling_decrypt_mbs:,.0f} |",
            f"| blindvault format v1 (C2SP + Padmé) | "
            f"{self.format_encrypt_mbs:,.0f} | {self.format_decrypt_mbs:,.0f} |",
            f"| ratio | {self.encrypt_ratio:.1%} | {self.decrypt_ratio:.1%} |",
            "",
            "## Key derivation",
            "",
            "| KDF | blindvault here (ms) | Cozy seed, Firefox 70 (ms) |",
            "|---|---:|---:|",
            f"| Argon2id m=64 MiB t=3 p=4 (default) | {self.argon2id_default_ms:,.0f} | — |",
            f"| login derivation (Argon2id + 2 x HKDF) | {self.login_derivation_ms:,.0f} | — |",
        ]
        for iters, ms in sorted(self.pbkdf2_ms.items()):
            seed = SEED_PBKDF2_MS.get(iters)
            rows.append(
                f"| PBKDF2-SHA-256 {iters:,} | {ms:,.0f} | {seed:,} |"
                if seed is not None
                else f"| PBKDF2-SHA-256 {iters:,} | {ms:,.0f} | — |"
            )
        rows += [
            "",
            f"Peak RSS: {self.peak_rss_mib_before:,.1f} MiB before the run, "
            f"{self.peak_rss_mib_after:,.1f} MiB after streaming {mib:,.0f} MiB through fixed "
            "4 MiB buffers (measured before the KDFs, which allocate their own memory).",
        ]
        return "\n".join(rows) + "\n"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mbs(size: int, seconds: float) -> float:
    return size / seconds / 1e6 if seconds > 0 else float("inf")


class _Ceiling:
    """The bare loop over one 4 MiB block, views and nonces cut before the clock starts."""

    def __init__(self, plain: memoryview, sealed: memoryview, back: memoryview) -> None:
        self.key = b"\x01" * 32
        self.nonces = [i.to_bytes(12, "big") for i in range(BLOCK_CHUNKS)]
        self.plains = [plain[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE] for i in range(BLOCK_CHUNKS)]
        self.seals = [
            sealed[i * SEALED_CHUNK_SIZE : (i + 1) * SEALED_CHUNK_SIZE] for i in range(BLOCK_CHUNKS)
        ]
        self.backs = [back[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE] for i in range(BLOCK_CHUNKS)]

    def block(self) -> tuple[float, float]:
        t0 = time.perf_counter()
        primitives.bare_gcm_loop(self.key, self.nonces, self.plains, self.seals)
        t1 = time.perf_counter()
        primitives.bare_gcm_loop(self.key, self.nonces, self.seals, self.backs, decrypt=True)
        return t1 - t0, time.perf_counter() - t1


def _interleaved(
    size: int, plain: memoryview, sealed: memoryview, back: memoryview
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Ceiling and format alternate block by block (4 MiB each), the format streaming one
    message across all blocks, so a burst of load elsewhere hits both sides alike.
    Returns ((ceiling enc, dec), (format enc, dec)) in MB/s."""
    ceiling = _Ceiling(plain, sealed, back)
    key, node = FileKey(b"\x03" * 32), b"\x04" * 16
    blocks = size // (BLOCK_CHUNKS * CHUNK_SIZE)
    t0 = time.perf_counter()
    enc = ContentEncryptor(key, node, 1)
    t1 = time.perf_counter()
    dec = ContentDecryptor(key, node, 1, blocks * BLOCK_CHUNKS * CHUNK_SIZE)
    dec.update(enc.header)
    f_enc, f_dec = t1 - t0, time.perf_counter() - t1
    c_enc = c_dec = 0.0
    for i in range(blocks):
        if i % 2:  # alternate which side goes first
            e, d = ceiling.block()
            c_enc, c_dec = c_enc + e, c_dec + d
        t0 = time.perf_counter()
        n = enc.update_into(plain, sealed)
        t1 = time.perf_counter()
        dec.update_into(sealed[:n], back)
        t2 = time.perf_counter()
        f_enc, f_dec = f_enc + t1 - t0, f_dec + t2 - t1
        if not i % 2:
            e, d = ceiling.block()
            c_enc, c_dec = c_enc + e, c_dec + d
    t0 = time.perf_counter()
    tail = enc.finalize()
    t1 = time.perf_counter()
    dec.update(tail)
    dec.finalize()
    t2 = time.perf_counter()
    f_enc, f_dec = f_enc + t1 - t0, f_dec + t2 - t1
    return (_mbs(size, c_enc), _mbs(size, c_dec)), (_mbs(size, f_enc), _mbs(size, f_dec))


def _timed_ms(fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000


def run_core(
    size: int = 2**30,
    *,
    pbkdf2_iterations: tuple[int, ...] = (1_000, 10_000, 100_000, 600_000, 1_000_000),
) -> CoreReport:
    """Measure everything in one process, interleaved so the machine's noise cancels."""
    block = BLOCK_CHUNKS * CHUNK_SIZE
    size = max(block, size // block * block)
    rss_before = _rss_mib()
    plain = memoryview(bytearray(primitives.random_bytes(block)))
    sealed = memoryview(bytearray(BLOCK_CHUNKS * SEALED_CHUNK_SIZE))
    back = memoryview(bytearray(block))
    (c_enc, c_dec), (f_enc, f_dec) = _interleaved(size, plain, sealed, back)
    rss_stream = _rss_mib()
    argon = _timed_ms(
        primitives.argon2id, b"password", b"\x00" * 32, memory_kib=65536, iterations=3, lanes=4
    )
    login = _timed_ms(derive_account_keys, "password", "bench@example.org", KdfParams.argon2id())
    pbkdf2 = {
        i: _timed_ms(primitives.pbkdf2_sha256, b"password", b"\x00" * 32, iterations=i, length=32)
        for i in pbkdf2_iterations
    }
    return CoreReport(
        size=size,
        ceiling_encrypt_mbs=c_enc,
        ceiling_decrypt_mbs=c_dec,
        format_encrypt_mbs=f_enc,
        format_decrypt_mbs=f_dec,
        argon2id_default_ms=argon,
        login_derivation_ms=login,
        pbkdf2_ms=pbkdf2,
        peak_rss_mib_before=rss_before,
        peak_rss_mib_after=rss_stream,
    )
