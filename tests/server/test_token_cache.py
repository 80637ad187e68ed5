"""Checked tokens are cached per server process (issue 18): a revoked or signed-out token
still stops working at once, in every process, and the short path for a device's own
small blob answers exactly what the application answers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from blindvault.server.app import build
from helpers.api_accounts import account_body, api_session, api_signup
from helpers.real_server import real_server

TRIES = 24  # fresh connections each: the kernel hands them to both processes


def _statuses(url: str, h: dict[str, str], blob: str) -> set[int]:
    seen = set()
    for i in range(TRIES):
        path = f"/v1/blobs/{blob}" if i % 2 else "/v1/account"
        seen.add(httpx.get(url + path, headers=h, timeout=60).status_code)
    return seen


def test_revoked_and_signed_out_tokens_stop_at_once_in_every_process(tmp_path: Path) -> None:
    with real_server(tmp_path / "data", None, "--workers", "2") as real:
        account = api_signup(real.url, "cache")
        keeper, other = api_session(real.url, account), api_session(real.url, account)
        blob = secrets.token_hex(16)
        r = httpx.put(f"{real.url}/v1/blobs/{blob}", content=b"x" * 4096, headers=keeper)
        assert r.status_code == 201, r.text
        assert _statuses(real.url, other, blob) == {200}  # cached in both processes now
        devices = httpx.get(real.url + "/v1/devices", headers=keeper).json()["devices"]
        victim = next(d["id"] for d in devices if not d["current"])
        r = httpx.delete(f"{real.url}/v1/devices/{victim}", headers=keeper)
        assert r.status_code == 204
        assert _statuses(real.url, other, blob) == {401}
        assert _statuses(real.url, keeper, blob) == {200}
        assert httpx.delete(real.url + "/v1/sessions/current", headers=keeper).status_code == 204
        assert _statuses(real.url, keeper, blob) == {401}


def test_the_short_path_answers_what_the_application_answers(tmp_path: Path) -> None:
    app = build(tmp_path / "data", None, None)
    with TestClient(app) as c:
        account = account_body("short@example.org")
        r = c.post("/v1/accounts", json=account)
        assert r.status_code == 201, r.text
        email, auth = account["email"], account["auth_key"]

        def login() -> dict[str, str]:
            t = c.post("/v1/sessions", json={"email": email, "auth_key": auth}).json()["token"]
            return {"Authorization": f"Bearer {t}"}

        h, blob, body = login(), secrets.token_hex(16), os.urandom(5000)
        assert c.put(f"/v1/blobs/{blob}", content=body, headers=h).status_code == 201
        fresh = login()
        full = c.get(f"/v1/blobs/{blob}", headers=fresh)  # unknown to the cache: the app
        short = c.get(f"/v1/blobs/{blob}", headers=fresh)  # now checked: the short path
        assert full.status_code == short.status_code == 200
        assert full.content == short.content == body

        def shown(r: httpx.Response) -> dict[str, str]:
            return {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date")}

        assert shown(full) == shown(short)
        assert full.headers["x-request-id"] != short.headers["x-request-id"]
        # what the short path leaves to the application still gets its answer
        ranged = c.get(f"/v1/blobs/{blob}", headers={**fresh, "Range": "bytes=0-9"})
        assert ranged.status_code == 206 and ranged.content == body[:10]
        missing = c.get(f"/v1/blobs/{secrets.token_hex(16)}", headers=fresh)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    app.state.ctx.engine.dispose()
