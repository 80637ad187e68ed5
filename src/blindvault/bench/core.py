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


def _ceiling(
    size: int, plain: memoryview, sealed: memoryview, back: memoryview
) -> tuple[float, float]:
    key = b"\x01" * 32
    nonces = [i.to_bytes(12, "big") for i in range(BLOCK_CHUNKS)]
    plains = [plain[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE] for i in range(BLOCK_CHUNKS)]
    seals = [
        sealed[i * SEALED_CHUNK_SIZE : (i + 1) * SEALED_CHUNK_SIZE] for i in range(BLOCK_CHUNKS)
    ]
    backs = [back[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE] for i in range(BLOCK_CHUNKS)]
    blocks = size // (BLOCK_CHUNKS * CHUNK_SIZE)
    enc_t = dec_t = 0.0
    for _ in range(blocks):
        t0 = time.perf_counter()
        primitives.bare_gcm_loop(key, nonces, plains, seals)
        t1 = time.perf_counter()
        primitives.bare_gcm_loop(key, nonces, seals, backs, decrypt=True)
        t2 = time.perf_counter()
        enc_t += t1 - t0
        dec_t += t2 - t1
    return _mbs(size, enc_t), _mbs(size, dec_t)


def _format(
    size: int, plain: memoryview, sealed: memoryview, back: memoryview
) -> tuple[float, float]:
    key, node = FileKey(b"\x03" * 32), b"\x04" * 16
    blocks = size // (BLOCK_CHUNKS * CHUNK_SIZE)
    t0 = time.perf_counter()
    enc = ContentEncryptor(key, node, 1)
    dec = ContentDecryptor(key, node, 1, blocks * BLOCK_CHUNKS * CHUNK_SIZE)
    enc_t = time.perf_counter() - t0
    t0 = time.perf_counter()
    dec.update(enc.header)
    dec_t = time.perf_counter() - t0
    for _ in range(blocks):
        t0 = time.perf_counter()
        n = enc.update_into(plain, sealed)
        t1 = time.perf_counter()
        dec.update_into(sealed[:n], back)
        t2 = time.perf_counter()
        enc_t += t1 - t0
        dec_t += t2 - t1
    t0 = time.perf_counter()
    tail = enc.finalize()
    t1 = time.perf_counter()
    dec.update(tail)
    dec.finalize()
    t2 = time.perf_counter()
    enc_t += t1 - t0
    dec_t += t2 - t1
    return _mbs(size, enc_t), _mbs(size, dec_t)


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
    # alternate halves so that neither side gets the warmer half of the run
    half = max(block, size // 2 // block * block)
    c1 = _ceiling(half, plain, sealed, back)
    f1 = _format(half, plain, sealed, back)
    f2 = _format(size - half, plain, sealed, back) if size > half else f1
    c2 = _ceiling(size - half, plain, sealed, back) if size > half else c1
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
        ceiling_encrypt_mbs=(c1[0] + c2[0]) / 2,
        ceiling_decrypt_mbs=(c1[1] + c2[1]) / 2,
        format_encrypt_mbs=(f1[0] + f2[0]) / 2,
        format_decrypt_mbs=(f1[1] + f2[1]) / 2,
        argon2id_default_ms=argon,
        login_derivation_ms=login,
        pbkdf2_ms=pbkdf2,
        peak_rss_mib_before=rss_before,
        peak_rss_mib_after=rss_stream,
    )
