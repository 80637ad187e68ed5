"""What the server stores and what the client asks for: P-MINMETA, P-NODEDUP, P-NONCE,
P-ORACLE and P-OFFLINECOST."""

from __future__ import annotations

import base64
import json
import os
import socket
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from blindvault.core.kdf import KdfParams, derive_account_keys
from blindvault.core.keybundle import KeyBundle
from blindvault.errors import IntegrityError
from helpers.adversarial import PASSWORD, PREFIX, Upstream, make_account, runner_for
from helpers.proxy import Proxy


def windows(data: bytes, size: int = 32) -> set[bytes]:
    return {data[i : i + size] for i in range(len(data) - size + 1)}


def test_p_minmeta_server_storage_holds_no_names_or_sizes(
    proxy: Proxy, upstream: Upstream, tmp_path: Path
) -> None:
    """P-MINMETA: after uploading a known tree, neither the database nor the blob store
    holds a name, a path or plaintext, and a 1000- and a 1050-byte file store the same size."""
    marker = b"PLAINTEXT-MARKER-" + os.urandom(4).hex().encode()
    names = ["passport-q7zx.pdf", "secretfolder-k2v9", "inner-folder-p3", "contract-1050.txt"]
    files = {
        f"/{names[1]}/{names[0]}": marker + bytes(1000 - len(marker)),
        f"/{names[1]}/{names[2]}/{names[3]}": marker + bytes(1050 - len(marker)),
    }
    proxy.reset()
    make_account(proxy, tmp_path / "h", f"min{os.urandom(3).hex()}@example.org", files, [])
    sizes = sorted(len(b) for b in proxy.uploads.values())
    assert sizes == [PREFIX + 4096 + 16] * 2  # both padded to 4 KiB: one short final chunk
    stored = b"".join(p.read_bytes() for p in upstream.data.rglob("*") if p.is_file())
    for needle in [*names, "/".join(names[1:3])]:
        for enc in ("utf-8", "utf-16-le", "utf-16-be"):
            assert needle.encode(enc) not in stored, needle
        assert base64.b64encode(needle.encode()) not in stored
    assert marker not in stored
    with closing(sqlite3.connect(upstream.data / "blindvault.sqlite3")) as db:
        rows = db.execute(
            f"select size from blobs where id in ({','.join('?' * len(proxy.uploads))})",
            list(proxy.uploads),
        ).fetchall()
    assert [r[0] for r in rows] == sizes  # the server knows the padded size only


def test_p_nodedup_two_users_same_file(proxy: Proxy, tmp_path: Path) -> None:
    """P-NODEDUP: two users upload the same file; their blobs share no 32-byte run."""
    content = os.urandom(50000)
    proxy.reset()
    make_account(
        proxy, tmp_path / "u1", f"d1{os.urandom(3).hex()}@example.org", {"/f": content}, []
    )
    ((id1, blob1),) = proxy.uploads.items()
    proxy.uploads.clear()
    make_account(
        proxy, tmp_path / "u2", f"d2{os.urandom(3).hex()}@example.org", {"/f": content}, []
    )
    ((id2, blob2),) = proxy.uploads.items()
    assert id1 != id2
    assert len(blob1) == len(blob2)
    assert not windows(blob1[5:]) & windows(blob2[5:])


def test_p_nonce_fresh_key_per_version(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """P-NONCE: upload v1, change one byte, upload v2: no shared salt, commitment, file key,
    blob id or ciphertext run between the two versions."""
    v1 = os.urandom(40000)
    proxy.reset()
    acc = make_account(proxy, tmp_path / "h", f"n{os.urandom(3).hex()}@example.org", {"/f": v1}, [])
    with acc.vault(proxy.url) as vault:
        first = vault.stat("/f")
    ((id1, blob1),) = proxy.uploads.items()
    proxy.uploads.clear()
    local = tmp_path / "f"
    local.write_bytes(v1[:100] + bytes([v1[100] ^ 1]) + v1[101:])
    bv = runner_for(acc, tmp_path, monkeypatch, capsys)
    assert bv("put", str(local), "/")[0] == 0
    ((id2, blob2),) = proxy.uploads.items()
    with acc.vault(proxy.url, bv.home) as vault:
        second = vault.stat("/f")
    assert first is not None and second is not None
    assert first.node_id == second.node_id  # the same file, a new version
    assert first.content_version + 1 == second.content_version  # type: ignore[union-attr]
    assert first.file_key.material != second.file_key.material  # type: ignore[union-attr]
    assert id1 != id2
    assert blob1[5:29] != blob2[5:29] and blob1[29:61] != blob2[29:61]
    assert not windows(blob1[5:], 16) & windows(blob2[5:], 16)


class Canary:
    """A listener nobody should ever connect to."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def test_p_oracle_no_request_depends_on_decrypted_data(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """P-ORACLE: names and contents that look like URLs are never fetched: listing,
    downloading and verifying talk to the server's API and nothing else."""
    canary = Canary()
    try:
        url = f"http://127.0.0.1:{canary.port}/leak"
        files = {
            f"/127.0.0.1:{canary.port}": url.encode(),
            "/links.url": f"[InternetShortcut]\nURL={url}\n".encode(),
        }
        proxy.reset()
        acc = make_account(proxy, tmp_path / "h", f"o{os.urandom(3).hex()}@example.org", files, [])
        bv = runner_for(acc, tmp_path, monkeypatch, capsys)
        proxy.log.clear()
        out = tmp_path / "out"
        out.mkdir()
        for args in (["ls", "-l"], ["tree"], ["get", "/links.url", str(out)], ["verify"]):
            assert bv(*args)[0] == 0
        time.sleep(0.3)
        assert canary.hits == 0
        assert {s.path.split("/")[1] for s in proxy.log} == {"v1"}
    finally:
        canary.close()


def test_p_offlinecost_a_stolen_database_costs_a_full_kdf_per_guess(
    proxy: Proxy, upstream: Upstream, tmp_path: Path
) -> None:
    """P-OFFLINECOST: the stolen row holds the pinned-strength KDF parameters, a scrypt hash
    of the auth key (never the key), and a key bundle that only the full Argon2id of the
    right password opens. Prints the measured cost of one guess."""
    email = f"cost{os.urandom(3).hex()}@example.org"
    make_account(proxy, tmp_path / "h", email, {}, [], params=KdfParams.argon2id())
    with closing(sqlite3.connect(upstream.data / "blindvault.sqlite3")) as db:
        kdf, auth_hash, bundle = db.execute(
            "select kdf, auth_hash, key_bundle from accounts where email = ?", (email,)
        ).fetchone()
    params = KdfParams.from_json(json.loads(kdf))
    assert params == KdfParams.argon2id()
    assert auth_hash.startswith("scrypt$")
    kb = KeyBundle.decode(bytes(bundle))
    start = time.perf_counter()
    keys = derive_account_keys(PASSWORD, email, params)
    cost = time.perf_counter() - start
    assert keys.auth.material.hex() not in auth_hash
    kb.open(keys.master, email)  # the right guess opens it
    cheap = derive_account_keys(PASSWORD, email, KdfParams.argon2id(19456, 2, 1))
    with pytest.raises(IntegrityError):  # no shortcut through cheaper parameters
        kb.open(cheap.master, email)
    with pytest.raises(IntegrityError):
        kb.open(derive_account_keys("wrong", email, params).master, email)
    print(
        f"\nP-OFFLINECOST: one offline guess costs {cost * 1000:.0f} ms of Argon2id "
        f"(m={params.memory_kib} KiB, t={params.iterations}, p={params.lanes}) + scrypt"
    )
