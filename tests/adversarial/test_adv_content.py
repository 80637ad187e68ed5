"""File content under a lying server: P-AEAD, P-STREAM, P-COMMIT and P-BIND on blobs.

Every lie is told while the victim runs `blindvault get` into an empty folder; each must end
in exit 10 (9 for a wrong magic or version byte), leave the folder empty and the state
untouched, and the client's requests after the lie must be the same for every lie."""

from __future__ import annotations

from pathlib import Path

from blindvault.core.content import ContentEncryptor
from blindvault.core.keys import FileKey
from helpers.adversarial import (
    CHUNK,
    PREFIX,
    Account,
    Runner,
    Upstream,
    attack,
    fetch,
    same_requests,
)
from helpers.proxy import Proxy, append, flip_bit, on_blob, replace, truncate


def chunks(blob: bytes) -> list[bytes]:
    return [blob[i : i + CHUNK] for i in range(PREFIX, len(blob), CHUNK)]


def run_all(
    bv: Runner, proxy: Proxy, tmp_path: Path, blob: str, lies: dict[str, object], code: int = 10
) -> dict[str, list[tuple[str, str, str, str]]]:
    runs = {}
    for name, op in lies.items():
        proxy.reset()
        proxy.add(on_blob(op, blob))  # type: ignore[arg-type]
        out = tmp_path / f"out-{name.strip('/').replace('/', '-')}"
        out.mkdir()
        runs[name] = attack(bv, proxy, ["get", "/a.txt", str(out)], code, out_dir=out)
    return runs


def test_p_aead_any_flipped_bit_of_a_blob(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """P-AEAD: a flipped bit in the salt, the commitment, any chunk body or tag is refused."""
    blob = fetch(upstream, victim, f"/v1/blobs/{victim.blobs['/a.txt']}")
    assert len(chunks(blob)) == 3
    offsets = {
        "salt": 5,
        "salt-end": 28,
        "commitment": 29,
        "commitment-end": PREFIX - 1,
        "chunk0": PREFIX,
        "chunk0-tag": PREFIX + CHUNK - 1,
        "chunk1-mid": PREFIX + CHUNK + 8000,
        "final-chunk": PREFIX + 2 * CHUNK + 3,
        "last-byte": len(blob) - 1,
    }
    runs = run_all(
        bv,
        proxy,
        tmp_path,
        victim.blobs["/a.txt"],
        {k: flip_bit(v, 3) for k, v in offsets.items()},
    )
    same_requests(runs)
    # the magic and the version byte are parsed before anything is authenticated: exit 9
    runs = run_all(
        bv,
        proxy,
        tmp_path,
        victim.blobs["/a.txt"],
        {"magic": flip_bit(0), "version": flip_bit(4, 1)},
        code=9,
    )
    same_requests(runs)


def test_p_stream_chunk_order_count_and_end(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """P-STREAM: swapped, dropped, duplicated, appended and spliced chunks; truncation
    exactly at each chunk boundary and inside the header."""
    a = fetch(upstream, victim, f"/v1/blobs/{victim.blobs['/a.txt']}")
    b = fetch(upstream, victim, f"/v1/blobs/{victim.blobs['/b.txt']}")
    head, (c0, c1, c2) = a[:PREFIX], chunks(a)
    lies = {
        "swap-0-1": replace(head + c1 + c0 + c2),
        "swap-1-2": replace(head + c0 + c2 + c1),
        "drop-last": truncate(PREFIX + 2 * CHUNK),  # exactly at a chunk boundary
        "cut-after-first": truncate(PREFIX + CHUNK),  # exactly at a chunk boundary
        "header-only": truncate(PREFIX),
        "half-header": truncate(30),
        "empty": replace(b""),
        "cut-one-byte": truncate(-1),
        "cut-tag": truncate(-16),
        "duplicate-chunk": replace(head + c0 + c0 + c1 + c2),
        "append-chunk": append(c0),
        "append-zeros": append(bytes(16)),
        "final-as-middle": replace(head + c0 + c2),
        "splice-other-file": replace(head + c0 + chunks(b)[1] + c2),
        "other-file-header": replace(b[:PREFIX] + c0 + c1 + c2),
        "doubled-blob": replace(a + a),
    }
    runs = run_all(
        bv,
        proxy,
        tmp_path,
        victim.blobs["/a.txt"],
        lies,
    )
    same_requests(runs)
    verify_runs = {}  # `verify` reads blobs through its own path: the same refusals
    for name in ("drop-last", "swap-0-1"):
        proxy.reset()
        proxy.add(on_blob(lies[name], victim.blobs["/a.txt"]))
        verify_runs[name] = attack(bv, proxy, ["verify"], 10)
    same_requests(verify_runs)


def test_p_commit_only_the_commitment_changed(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """P-COMMIT: the real blob with only commitment bytes changed. Every chunk still
    decrypts under the real key, so only the commitment check can refuse it (a client
    without it would accept a blob that a second key could also open)."""
    real = fetch(upstream, victim, f"/v1/blobs/{victim.blobs['/a.txt']}")
    lies = {
        f"commitment-{i}": replace(real[:i] + bytes([real[i] ^ 0x80]) + real[i + 1 :])
        for i in (29, 44, PREFIX - 1)
    }
    lies["commitment-zeroed"] = replace(real[:29] + bytes(32) + real[PREFIX:])
    runs = run_all(bv, proxy, tmp_path, victim.blobs["/a.txt"], lies)
    same_requests(runs)


def test_p_bind_a_blob_sealed_under_another_key(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """P-BIND: a well-formed blob for the same node and version under another key is
    refused (it fails both the commitment and the AEAD: the commitment alone is the test
    above)."""
    entry = victim.entries["/a.txt"]
    forged = {}
    for name, key in (("random-key", FileKey.generate()), ("zero-key", FileKey(bytes(32)))):
        enc = ContentEncryptor(key, entry.node_id, entry.content_version)  # type: ignore[union-attr]
        body = enc.header + enc.update(bytes(40000)) + enc.finalize()
        forged[name] = replace(body)
        real = fetch(upstream, victim, f"/v1/blobs/{victim.blobs['/a.txt']}")
        assert len(body) == len(real) and body[:5] == real[:5]  # only the key differs
    runs = run_all(bv, proxy, tmp_path, victim.blobs["/a.txt"], forged)
    same_requests(runs)


def test_p_bind_blobs_cannot_move(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """P-BIND: the blob of another file of the same size, of a file in another folder, or
    the small file's, served in place of /a.txt's."""
    lies = {
        other: replace(fetch(upstream, victim, f"/v1/blobs/{victim.blobs[other]}"))
        for other in ("/b.txt", "/sub/c.txt", "/small.txt")
    }
    runs = run_all(bv, proxy, tmp_path, victim.blobs["/a.txt"], lies)
    same_requests(runs)
