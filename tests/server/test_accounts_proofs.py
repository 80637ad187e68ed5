"""Issue 12 item 6 and issue 11 items 8 and 12 (server side): key, recovery and TOTP changes
need fresh proof; TOTP codes are accepted once; the previous key bundle can be restored;
a rotated recovery key replaces the old one. Real server processes, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from blindvault.core.kdf import KdfParams, derive_account_keys, recovery_auth_key
from blindvault.core.keys import RecoveryKey
from blindvault.server.domain.credentials import totp
from helpers.accounts import Account, Server, b64, code, log_in, new_account


def _keys(c: httpx.Client, acct: Account, proof: dict[str, Any] | None, **change: Any) -> Any:
    body: dict[str, Any] = {"expected_version": 1, "key_bundle": b64(b"bundle-v2"), **change}
    if proof is not None:
        body["proof"] = proof
    return c.put("/v1/account/keys", headers=acct.h, json=body)


def test_a_token_alone_cannot_replace_the_keys(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        new_auth = os.urandom(32)
        change = {"auth_key": b64(new_auth), "kdf": {"alg": "pbkdf2-sha256", "i": 600000}}
        r = _keys(c, acct, None, **change)
        assert (r.status_code, code(r)) == (403, "proof_required")
        r = _keys(c, acct, {"auth_key": b64(os.urandom(32))}, **change)
        assert (r.status_code, code(r)) == (403, "proof_invalid")
        r = _keys(c, acct, {"recovery_auth_key": b64(os.urandom(32))}, **change)
        assert (r.status_code, code(r)) == (403, "proof_invalid")
        me = c.get("/v1/account", headers=acct.h).json()
        assert base64.b64decode(me["key_bundle"]) == b"bundle-v1"
        assert me["key_bundle_version"] == 1
        log_in(c, acct)  # the password still works
        r = _keys(c, acct, {"auth_key": b64(acct.auth)}, **change)
        assert r.status_code == 200, r.text
        assert r.json() == {"key_bundle_version": 2}


def test_proofs_with_the_core_kdf_and_recovery_key(server: Server) -> None:
    """Proofs computed as the client computes them (core KDF, recovery key)."""
    email = f"kdf{os.urandom(4).hex()}@example.org"
    params = KdfParams.argon2id()
    keys = derive_account_keys("correct horse battery staple", email, params)
    recovery = RecoveryKey.generate()
    rec_auth = recovery_auth_key(recovery).material
    with server.client() as c:
        body = {
            "email": email,
            "kdf": params.to_json(),
            "auth_key": b64(keys.auth.material),
            "recovery_auth_key": b64(rec_auth),
            "key_bundle": b64(b"bundle-v1"),
            "identity_bundle": b64(b"identity"),
        }
        assert c.post("/v1/accounts", json=body).status_code == 201
        acct = Account(email, keys.auth.material, rec_auth)
        acct.token = log_in(c, acct)
        r = _keys(c, acct, {"recovery_auth_key": b64(rec_auth)})
        assert r.status_code == 200, r.text


def test_failed_proofs_are_rate_limited(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        for _ in range(10):
            r = _keys(c, acct, {"auth_key": b64(os.urandom(32))})
            assert code(r) == "proof_invalid"
        r = _keys(c, acct, {"auth_key": b64(acct.auth)})
        assert (r.status_code, code(r)) == (429, "rate_limited")


def test_recovery_rotation_retires_the_old_recovery_key(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        new_recovery = os.urandom(32)
        r = _keys(c, acct, {"auth_key": b64(acct.auth)}, recovery_auth_key=b64(new_recovery))
        assert r.status_code == 200, r.text
        old = {"email": acct.email, "recovery_auth_key": b64(acct.recovery)}
        new = {"email": acct.email, "recovery_auth_key": b64(new_recovery)}
        assert c.post("/v1/recovery/sessions", json=old).status_code == 401
        assert c.post("/v1/recovery/sessions", json=new).status_code == 201
        r = c.put(
            "/v1/account/keys",
            headers=acct.h,
            json={
                "expected_version": 2,
                "key_bundle": b64(b"bundle-v3"),
                "proof": {"recovery_auth_key": b64(acct.recovery)},
            },
        )
        assert (r.status_code, code(r)) == (403, "proof_invalid")


def test_the_previous_key_bundle_can_be_restored(server: Server) -> None:
    with server.client() as c:
        acct = new_account(c)
        stolen = os.urandom(32)
        r = _keys(c, acct, {"auth_key": b64(acct.auth)}, auth_key=b64(stolen))
        assert r.status_code == 200
        done = server.admin("restore-keys", acct.email.upper())
        assert done.returncode == 0, done.stderr
        assert "version 1" in done.stdout
        assert c.get("/v1/account", headers=acct.h).status_code == 401  # all signed out
        acct.token = log_in(c, acct)  # the old password is back
        me = c.get("/v1/account", headers=acct.h).json()
        assert (base64.b64decode(me["key_bundle"]), me["key_bundle_version"]) == (b"bundle-v1", 1)
        bad = {"email": acct.email, "auth_key": b64(stolen)}
        assert c.post("/v1/sessions", json=bad).status_code == 401
        events = [e["event"] for e in c.get("/v1/audit", headers=acct.h).json()["entries"]]
        assert "key_bundle_restored" in events
        # the owner carries on from the restored version (history keeps both branches)
        r = _keys(c, acct, {"auth_key": b64(acct.auth)})
        assert r.json() == {"key_bundle_version": 2}
        assert server.admin("restore-keys", acct.email).returncode == 0
    nobody = server.admin("restore-keys", "nobody@example.org")
    assert nobody.returncode == 4


def _away_from_a_step_boundary() -> None:
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)


def test_totp_changes_need_proof_and_codes_are_accepted_once(server: Server) -> None:
    _away_from_a_step_boundary()
    now = time.time()
    previous, current, following = (totp(SECRET, now + d) for d in (-30, 0, 30))
    with server.client() as c:
        acct = new_account(c)
        turn_on = {"secret": SECRET, "code": previous}
        r = c.put("/v1/account/totp", headers=acct.h, json=turn_on)
        assert (r.status_code, code(r)) == (403, "proof_required")
        r = c.put(
            "/v1/account/totp",
            headers=acct.h,
            json={**turn_on, "proof": {"auth_key": b64(os.urandom(32))}},
        )
        assert (r.status_code, code(r)) == (403, "proof_invalid")
        r = c.put(
            "/v1/account/totp",
            headers=acct.h,
            json={**turn_on, "proof": {"auth_key": b64(acct.auth)}},
        )
        assert r.status_code == 204, r.text
        # the enabling code is used; the current one logs in once
        login = {"email": acct.email, "auth_key": b64(acct.auth)}
        assert c.post("/v1/sessions", json={**login, "totp": previous}).status_code == 401
        assert c.post("/v1/sessions", json={**login, "totp": current}).status_code == 201
        assert c.post("/v1/sessions", json={**login, "totp": current}).status_code == 401
        # replacing or removing TOTP needs the password and a fresh TOTP code
        other = {"secret": OTHER, "code": totp(OTHER, now)}
        r = c.put(
            "/v1/account/totp",
            headers=acct.h,
            json={**other, "proof": {"auth_key": b64(acct.auth)}},
        )
        assert (r.status_code, code(r)) == (403, "proof_required")
        r = _keys(c, acct, {"auth_key": b64(acct.auth)})  # key changes need the code too
        assert (r.status_code, code(r)) == (403, "proof_required")
        proof = {"auth_key": b64(acct.auth), "totp": current}  # replayed
        r = c.request("DELETE", "/v1/account/totp", headers=acct.h, json={"proof": proof})
        assert (r.status_code, code(r)) == (403, "proof_invalid")
        r = c.request("DELETE", "/v1/account/totp", headers=acct.h, json={})
        assert (r.status_code, code(r)) == (403, "proof_required")
        proof = {"auth_key": b64(acct.auth), "totp": following}
        r = c.request("DELETE", "/v1/account/totp", headers=acct.h, json={"proof": proof})
        assert r.status_code == 204, r.text
        assert c.get("/v1/account", headers=acct.h).json()["totp_enabled"] is False


SECRET = base64.b32encode(b"accounts-test-secret").decode().rstrip("=")
OTHER = base64.b32encode(b"another-test-secret!").decode().rstrip("=")


def test_one_totp_code_logs_in_once_under_parallel_use(server: Server) -> None:
    """Rounds of 8 parallel logins with one code: exactly one session per code."""
    rounds, n = 10, 8
    winners = []
    for _ in range(rounds):
        _away_from_a_step_boundary()
        secret = base64.b32encode(os.urandom(20)).decode().rstrip("=")
        with server.client() as c:
            acct = new_account(c)
            enable = {"secret": secret, "code": totp(secret, time.time() - 30)}
            r = c.put(
                "/v1/account/totp",
                headers=acct.h,
                json={**enable, "proof": {"auth_key": b64(acct.auth)}},
            )
            assert r.status_code == 204, r.text
        body = {"email": acct.email, "auth_key": b64(acct.auth), "totp": totp(secret)}
        barrier = threading.Barrier(n)

        def attempt(
            _: int, body: dict[str, Any] = body, barrier: threading.Barrier = barrier
        ) -> int:
            with server.client() as c:
                c.get("/v1/health")
                barrier.wait()
                return c.post("/v1/sessions", json=body).status_code

        with ThreadPoolExecutor(n) as pool:
            answers = list(pool.map(attempt, range(n)))
        assert set(answers) <= {201, 401}, answers
        winners.append(answers.count(201))
    print(f"\n{rounds} rounds x {n} parallel logins with one TOTP code: sessions {winners}")
    assert winners == [1] * rounds
