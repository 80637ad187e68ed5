"""Issue 18: the short path of record writes (`server/fastwrite.py`) answers exactly as the
application does. Every write below is made twice on a real server (SQLite and
PostgreSQL), on two records in the same state: once as the short path takes it (a plain
JSON body with its length) and once as it never does (the same body sent chunked, which
goes through FastAPI); status, JSON answer and header names must be the same."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers.real_server import Real, new_id, real_server


@pytest.fixture(scope="module")
def real(shared_real: Real) -> Real:
    return shared_real


def _put(c: httpx.Client, kind: str, rid: str, body: Any, *, chunked: bool) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if not chunked:
        return c.put(f"/v1/records/{kind}/{rid}", content=raw, headers=headers)

    def pieces() -> Iterator[bytes]:
        yield raw[:5]
        yield raw[5:]

    return c.put(f"/v1/records/{kind}/{rid}", content=pieces(), headers=headers)


def _same(fast: httpx.Response, slow: httpx.Response, fast_id: str, slow_id: str) -> None:
    assert fast.status_code == slow.status_code, (fast.text, slow.text)
    assert fast.json() == json.loads(slow.text.replace(slow_id, fast_id))
    names = {k for k in fast.headers if k not in ("date", "server")}
    assert names == {k for k in slow.headers if k not in ("date", "server")}
    for name in ("content-type", "cache-control", "x-content-type-options", "referrer-policy"):
        assert fast.headers[name] == slow.headers[name]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


CASES: list[tuple[str, int, Any]] = [
    ("manifest", 0, {"expected_version": 0, "data": _b64(b"one")}),  # created
    ("manifest", 0, {"expected_version": 0, "data": _b64(b"two")}),  # 409, current 1
    ("manifest", 0, {"expected_version": 1, "data": _b64(b"three")}),  # replaced
    ("manifest", 0, {"expected_version": 7, "data": _b64(b"x")}),  # 409, current 2
    ("manifest", 0, {"expected_version": 2, "data": "not base64!"}),  # 400
    ("manifest", 0, {"expected_version": 2, "data": _b64(b"y" * 5000)}),  # 507 (quota)
    ("manifest", 0, {"expected_version": 2, "data": _b64(b"z"), "extra": 1}),  # ignored field
    ("manifest", 0, {"expected_version": "3", "data": _b64(b"w")}),  # a string version
    ("manifest", 0, {"expected_version": -1, "data": _b64(b"w")}),  # 422
    ("manifest", 0, {"data": _b64(b"w")}),  # 422
    ("root", 1, {"expected_version": 0, "data": _b64(b"r")}),  # owner-only kind, own: ok
]


def test_the_short_path_answers_as_the_application(real: Real) -> None:
    fast_acct, slow_acct = real.account(quota=4096), real.account(quota=4096)
    ids = [(new_id(), new_id()) for _ in range(2)]
    with fast_acct.client() as fast_c, slow_acct.client() as slow_c:
        for kind, which, body in CASES:
            fast_id, slow_id = ids[which]
            fast = _put(fast_c, kind, fast_id, body, chunked=False)
            slow = _put(slow_c, kind, slow_id, body, chunked=True)
            _same(fast, slow, fast_id, slow_id)
        got_fast = fast_c.get(f"/v1/records/manifest/{ids[0][0]}").json()
        got_slow = slow_c.get(f"/v1/records/manifest/{ids[0][1]}").json()
        assert (got_fast["version"], got_fast["data"]) == (got_slow["version"], got_slow["data"])
        feed_fast = fast_c.get("/v1/changes", params={"since": 0}).json()["changes"]
        feed_slow = slow_c.get("/v1/changes", params={"since": 0}).json()["changes"]
        assert [(e["kind"], e["version"]) for e in feed_fast] == [
            (e["kind"], e["version"]) for e in feed_slow
        ]
    assert fast_acct.used() == slow_acct.used()


def test_unknown_and_signed_out_tokens_write_nothing(real: Real) -> None:
    """On PostgreSQL the short path checks the token in the write's own transaction."""
    acct = real.account()
    rid = new_id()
    body = {"expected_version": 0, "data": _b64(b"never")}
    bad = httpx.Client(base_url=real.url, headers={"Authorization": "Bearer nope"}, timeout=60)
    with bad, acct.client() as c:
        fast, slow = (
            _put(bad, "manifest", rid, body, chunked=False),
            _put(bad, "manifest", rid, body, chunked=True),
        )
        assert fast.status_code == 401
        _same(fast, slow, rid, rid)
        assert _put(c, "manifest", new_id(), body, chunked=False).status_code == 200
        assert c.delete("/v1/sessions/current").status_code == 204  # signed out
        gone = _put(c, "manifest", rid, body, chunked=False)
        assert gone.status_code == 401 and gone.json()["error"]["code"] == "unauthorized"
    rows = real.sql("SELECT COUNT(*) FROM records WHERE owner = ? AND id = ?", acct.id, rid)
    assert rows[0][0] == 0


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Real]:
    data = tmp_path_factory.mktemp("ttl") / "data"
    with real_server(data, pg_url, "--token-ttl", "2") as r:
        yield r


def test_an_expired_token_writes_nothing(short_lived: Real) -> None:
    acct = short_lived.account()
    body = {"expected_version": 0, "data": _b64(b"late")}
    with acct.client() as c:
        assert _put(c, "manifest", new_id(), body, chunked=False).status_code == 200
        time.sleep(2.5)
        rid = new_id()
        late = _put(c, "manifest", rid, body, chunked=False)
        assert late.status_code == 401 and "expired" in late.json()["error"]["message"]
    rows = short_lived.sql("SELECT COUNT(*) FROM records WHERE id = ?", rid)
    assert rows[0][0] == 0
