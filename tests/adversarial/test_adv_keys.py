"""Key material under a lying server: P-OWNKEY, P-KDFFLOOR, P-FAILCLOSED, P-KEYSEP and the
replay of an older key bundle (P-FRESH)."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from blindvault.core.identity import Identity
from blindvault.core.kdf import account_id, derive_account_keys
from blindvault.core.keybundle import KeyBundle, new_account_bundle
from blindvault.core.keys import RecoveryKey
from helpers.adversarial import (
    FAST_KDF,
    PASSWORD,
    Account,
    Runner,
    Upstream,
    attack,
    fetch,
    make_account,
    refused,
    run_lied,
    runner_for,
    same_requests,
)
from helpers.proxy import Proxy, on_json, on_raw, on_record

B64 = base64.b64encode


def test_p_ownkey_server_serves_another_identity(
    bv: Runner, proxy: Proxy, victim: Account, tmp_path: Path
) -> None:
    """P-OWNKEY: the server publishes a new, validly self-signed bundle for the user's own
    email. The client refuses (exit 8) and wraps, seals or uploads nothing afterwards."""
    (tmp_path / "f.txt").write_text("f")
    runs = {}
    for name, suite in (("classic", False), ("post-quantum", True)):
        fake = Identity.generate(victim.email, 1, post_quantum=suite).bundle.encode()
        proxy.reset()
        proxy.add(
            on_json(
                "GET", "/v1/account", lambda d, f=fake: {**d, "identity_bundle": B64(f).decode()}
            )
        )
        runs[name] = attack(bv, proxy, ["put", str(tmp_path / "f.txt"), "/"], 8)
    same_requests(runs)


KDF_LIES: dict[str, tuple[Any, int]] = {
    "tiny-argon2": ({"alg": "argon2id", "m": 8, "t": 1, "p": 1}, 8),
    "below-memory-floor": ({"alg": "argon2id", "m": 19455, "t": 3, "p": 4}, 8),
    "one-pass": ({"alg": "argon2id", "m": 65536, "t": 1, "p": 4}, 8),
    "lanes-above-ceiling": ({"alg": "argon2id", "m": 19456, "t": 2, "p": 4096}, {8, 9}),
    "pbkdf2-weak": ({"alg": "pbkdf2-sha256", "i": 1000}, 8),
    "pbkdf2-instead-of-pin": ({"alg": "pbkdf2-sha256", "i": 600000}, 8),
    "above-ceiling": ({"alg": "argon2id", "m": 1 << 30, "t": 3, "p": 4}, 8),
    "unknown-alg": ({"alg": "md5", "i": 1}, {8, 9}),
    "extra-field": ({"alg": "argon2id", "m": 65536, "t": 3, "p": 4, "salt": "AAAA"}, {8, 9}),
    "string-numbers": ({"alg": "argon2id", "m": "65536", "t": "3", "p": "4"}, {8, 9}),
    "float-numbers": ({"alg": "argon2id", "m": 65536.0, "t": 3.0, "p": 4.0}, {8, 9}),
    "bool-lanes": ({"alg": "argon2id", "m": 65536, "t": 3, "p": True}, {8, 9}),
    "null": (None, {8, 9}),
    "empty": ({}, {8, 9}),
}


@pytest.mark.parametrize("lie", sorted(KDF_LIES))
def test_p_kdffloor_weakened_parameters(bv: Runner, proxy: Proxy, lie: str) -> None:
    """P-KDFFLOOR: prelogin lies about the parameters. The client stops before anything
    derived from the password is sent: no request at all follows the prelogin."""
    value, code = KDF_LIES[lie]
    proxy.add(on_json("POST", "/v1/prelogin", lambda d: {**d, "kdf": value}))
    assert attack(bv, proxy, ["ls"], code) == []


def _bundle(acc: Account, upstream: Upstream) -> tuple[dict[str, Any], KeyBundle]:
    doc = json.loads(fetch(upstream, acc, "/v1/account"))
    return doc, KeyBundle.decode(base64.b64decode(doc["key_bundle"]))


def test_p_failclosed_empty_null_duplicated_key_structures(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """P-FAILCLOSED: empty, null, missing, duplicated, oversized or malformed key structures
    and records are errors (exit 9 or 10), never a reason to make or upload anything new.
    The command is a `put`, which would upload if the client fell back to a fresh state."""
    doc, _ = _bundle(victim, upstream)
    raw_kb = base64.b64decode(doc["key_bundle"])
    raw_id = base64.b64decode(doc["identity_bundle"])
    big = B64(os.urandom(1 << 20)).decode()
    account_lies: dict[str, Any] = {
        "key_bundle-empty": {"key_bundle": ""},
        "key_bundle-null": {"key_bundle": None},
        "key_bundle-duplicated": {"key_bundle": B64(raw_kb + raw_kb).decode()},
        "key_bundle-oversized": {"key_bundle": big},
        "key_bundle-not-base64": {"key_bundle": "%%%"},
        "key_bundle-list": {"key_bundle": [doc["key_bundle"], doc["key_bundle"]]},
        "identity_bundle-empty": {"identity_bundle": ""},
        "identity_bundle-null": {"identity_bundle": None},
        "identity_bundle-duplicated": {"identity_bundle": B64(raw_id + raw_id).decode()},
        "key_bundle_version-null": {"key_bundle_version": None},
    }
    (tmp_path / "f.txt").write_text("f")
    put = ["put", str(tmp_path / "f.txt"), "/"]
    results: dict[str, int] = {}
    crashes: dict[str, str] = {}
    wrote: dict[str, list[tuple[str, str, str, str]]] = {}
    runs = {}
    for name, change in account_lies.items():
        proxy.reset()
        proxy.add(on_json("GET", "/v1/account", lambda d, c=change: {**d, **c}))
        run = run_lied(bv, proxy, put)  # one run: recorded, and checked like attack() if refused
        results[name] = run.code
        crashes[name] = run.err.strip().splitlines()[-1][:80]
        wrote[name] = proxy.writes_after_lie()
        if run.code in (9, 10):
            runs[name] = refused(bv, proxy, run, {9, 10})
    for name, change in {
        "account-missing-key_bundle": lambda d: {k: v for k, v in d.items() if k != "key_bundle"},
        "account-empty-object": lambda d: {},
        "account-null": lambda d: None,
        "account-list": lambda d: [d, d],
    }.items():
        proxy.reset()
        proxy.add(on_json("GET", "/v1/account", change))
        rc, _, err = bv(*put)
        results[name] = rc
        crashes[name] = err.strip().splitlines()[-1][:80]
        wrote[name] = proxy.writes_after_lie()
    root = f"/v1/records/root/{victim.owner}"
    manifest = f"/v1/records/manifest/{victim.nodes['/']}"
    for name, rule in {
        "root-data-empty": on_record("root", lambda _: b"", victim.owner),
        "root-data-null": on_json("GET", root, lambda d: {**d, "data": None}),
        "root-version-null": on_json("GET", root, lambda d: {**d, "version": None}),
        "manifest-data-empty": on_record("manifest", lambda _: b"", victim.nodes["/"]),
        "manifest-data-null": on_json("GET", manifest, lambda d: {**d, "data": None}),
        "manifest-html": on_raw("GET", manifest, 200, b"<html>oops</html>", "text/html"),
        "manifest-json-list": on_json("GET", manifest, lambda d: [d, d]),
    }.items():
        proxy.reset()
        proxy.add(rule)
        rc, _, err = bv(*put)
        results[name] = rc
        crashes[name] = err.strip().splitlines()[-1][:80]
        wrote[name] = proxy.writes_after_lie()
    # fail closed: whatever the exit, nothing was uploaded or changed after the lie
    assert {k: v for k, v in wrote.items() if v} == {}
    bad = {k: (v, crashes[k]) for k, v in results.items() if v not in (9, 10)}
    assert not bad, "\n".join(f"{k}: exit {v} {c}" for k, (v, c) in sorted(bad.items()))
    same_requests(runs)


def test_p_keysep_key_bundle_slots_swapped(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream
) -> None:
    """P-KEYSEP / P-BIND: the server moves the wrapped keys of the key bundle between slots
    (a wrapped identity secret presented as the root folder key, the recovery wrap as the
    password wrap, ...). None of them opens as another kind."""
    _, kb = _bundle(victim, upstream)
    fields = ["vault_by_master", "vault_by_recovery", "identity_by_vault", "root_key_by_vault"]
    runs = {}
    for i, a in enumerate(fields):
        for b in fields[i + 1 :]:
            swapped = dataclasses.replace(kb, **{a: getattr(kb, b), b: getattr(kb, a)})
            data = B64(swapped.encode()).decode()
            proxy.reset()
            proxy.add(on_json("GET", "/v1/account", lambda d, x=data: {**d, "key_bundle": x}))
            runs[f"{a}<->{b}"] = attack(bv, proxy, ["ls"], 10)
    same_requests(runs)


def test_p_fresh_replayed_key_bundle(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After a password change, the server serves the older key bundle again (it would
    revive the old password): refused as a rollback."""
    acc = make_account(proxy, tmp_path / "h", f"kb{os.urandom(3).hex()}@example.org", {}, [])
    old = fetch(upstream, acc, "/v1/account")
    bv = runner_for(acc, tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", PASSWORD)
    assert bv("passwd", "--accept-weak-password")[0] == 0
    assert bv("ls")[0] == 0
    proxy.reset()
    replay = json.loads(old)
    proxy.add(
        on_json(
            "GET",
            "/v1/account",
            lambda d: {
                **d,
                "key_bundle": replay["key_bundle"],
                "key_bundle_version": replay["key_bundle_version"],
            },
        )
    )
    assert attack(bv, proxy, ["ls"], 10) == []


def test_p_ownkey_identity_changed_since_this_device_pinned_it(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone who learned the password (the server with a phished one) publishes a key
    bundle that opens with it but holds a new identity, and the matching identity bundle,
    so the served and the opened identity agree. The device pinned the old identity: it
    refuses (exit 8) before showing a fingerprint or writing anything."""
    email = f"pin{os.urandom(3).hex()}@example.org"
    acc = make_account(proxy, tmp_path / "h", email, {"/f.txt": b"f"}, [])
    keys = derive_account_keys(PASSWORD, email, FAST_KDF)
    impostor = Identity.generate(email, 1)
    opened = new_account_bundle(
        account_id(email),
        email,
        keys.master,
        RecoveryKey.generate(),
        impostor,
        os.urandom(16),
        os.urandom(16),
    )
    lie = {
        "key_bundle": B64(opened.bundle.encode()).decode(),
        "identity_bundle": B64(impostor.bundle.encode()).decode(),
    }
    bv = runner_for(acc, tmp_path, monkeypatch, capsys)
    (tmp_path / "g.txt").write_text("g")
    runs = {}
    for args in (["fingerprint"], ["put", str(tmp_path / "g.txt"), "/"]):
        proxy.reset()
        proxy.add(on_json("GET", "/v1/account", lambda d: {**d, **lie}))
        runs[args[0]] = attack(bv, proxy, args, 8)
        assert [r for r in runs[args[0]] if r[0] not in ("GET", "HEAD")] == []
    _, out, _ = bv("fingerprint")
    assert impostor.bundle.fingerprint.hex() not in out


def test_p_bind_key_bundle_relabelled_or_of_another_account(
    bv: Runner, proxy: Proxy, victim: Account, upstream: Upstream, tmp_path: Path
) -> None:
    """The key bundle must be this account's, at the version the server labels it with:
    another account's bundle, or this one under another `key_bundle_version` (which would
    move this device's rollback mark), is refused before anything is written."""
    other = make_account(proxy, tmp_path / "other", f"kbo{os.urandom(3).hex()}@example.org", {}, [])
    theirs = json.loads(fetch(upstream, other, "/v1/account"))
    lies: dict[str, Any] = {
        "another-account": lambda d: {**d, "key_bundle": theirs["key_bundle"]},
        "version-up": lambda d: {**d, "key_bundle_version": d["key_bundle_version"] + 1},
        "version-zero": lambda d: {**d, "key_bundle_version": 0},
    }
    runs = {}
    for name, change in lies.items():
        proxy.reset()
        proxy.add(on_json("GET", "/v1/account", change))
        runs[name] = attack(bv, proxy, ["ls"], 10)
    same_requests(runs)
