"""A bounded load run on loopback: many clients doing small blob puts and gets and
manifest-style compare-and-swap against two `blindvault server` processes sharing one
PostgreSQL database and one SeaweedFS. No answer other than success, 409 (a lost race,
documented) or 429 (rate limit, documented); no lost write: every blob reads back with its
bytes from the *other* process, and every won compare-and-swap is one version of the
counter. Latencies (p50, p99, max) are printed, never asserted.

Exactly CLIENTS x REQUESTS requests (no timing window), each counted."""

from __future__ import annotations

import base64
import os
import secrets
import statistics
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from helpers.budgets import LONG
from helpers.memory import rss_mib
from helpers.servers import s3_spec, start_server, stop

CLIENTS = 16 if LONG else 6
REQUESTS = 600 if LONG else 60  # per client, at most
JOIN_TIMEOUT = 600.0  # a hang guard only: the work is a fixed count
ALLOWED = {200, 201, 204, 409, 429}


PIDS: list[int] = []


@pytest.fixture(scope="module")
def servers(
    pg_url: str, weed: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    blobs = s3_spec(weed)
    data = tmp_path_factory.mktemp("load")
    procs = []
    try:
        for i in range(2):
            proc, url = start_server(data / f"s{i}", "--db", pg_url, "--blobs", blobs)
            procs.append((proc, url))
            PIDS.append(proc.pid)
        yield [u for _, u in procs]
    finally:
        for proc, _ in procs:
            stop(proc)


def _account(url: str) -> tuple[str, str]:
    email = f"load{secrets.token_hex(4)}@example.org"
    auth = base64.b64encode(os.urandom(32)).decode()
    r = httpx.post(
        f"{url}/v1/accounts",
        json={
            "email": email,
            "kdf": {"alg": "argon2id", "m": 65536, "t": 3, "p": 4},
            "auth_key": auth,
            "key_bundle": "eA==",
            "identity_bundle": "eQ==",
        },
    )
    assert r.status_code == 201, r.text
    r = httpx.post(f"{url}/v1/sessions", json={"email": email, "auth_key": auth})
    return email, r.json()["token"]


class Recorder:
    """Latency per kind of request and status counts, shared by the client threads."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {"put": [], "get": [], "cas": []}
        self.statuses: dict[int, int] = {}
        self.unexpected: list[str] = []
        self.written: dict[str, bytes] = {}
        self.wins = 0
        self.lock = threading.Lock()

    def timed(
        self, client: httpx.Client, kind: str, method: str, url: str, **kw: object
    ) -> httpx.Response:
        t0 = time.perf_counter()
        r = client.request(method, url, **kw)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        with self.lock:
            self.latencies[kind].append(dt)
            self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
            if r.status_code not in ALLOWED:
                self.unexpected.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
        return r

    def report(self, took: float) -> None:
        total = sum(self.statuses.values())
        print(
            f"\nload: {CLIENTS} clients, {total} requests in {took:.1f} s ({total / took:.0f}/s) on 2 processes; statuses {dict(sorted(self.statuses.items()))}"
        )
        for kind, values in self.latencies.items():
            if values:
                q = statistics.quantiles(values, n=100) if len(values) > 1 else [values[0]] * 99
                print(
                    f"  {kind:>4}: n={len(values)} p50={q[49] * 1000:.1f} ms p99={q[98] * 1000:.1f} ms max={max(values) * 1000:.1f} ms"
                )
        for pid in PIDS:  # each process's resident memory, peak included (never asserted here)
            now, peak = rss_mib(pid)
            print(f"  server {pid}: RSS {now:.0f} MiB, peak {peak:.0f} MiB")


def _client_loop(rec: Recorder, servers: list[str], token: str, counter: str, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=60) as c:
        for i in range(REQUESTS // 3):
            here, there = servers[(n + i) % 2], servers[(n + i + 1) % 2]
            blob = secrets.token_hex(16)
            body = os.urandom(1024 + (i * 97) % 8192)
            if (
                rec.timed(c, "put", "PUT", f"{here}/v1/blobs/{blob}", content=body).status_code
                == 201
            ):
                with rec.lock:
                    rec.written[blob] = body
                got = rec.timed(c, "get", "GET", f"{there}/v1/blobs/{blob}")
                if got.status_code == 200 and got.content != body:
                    with rec.lock:
                        rec.unexpected.append(f"blob {blob} read back different bytes")
            cur = rec.timed(c, "cas", "GET", f"{there}{counter}")
            version = cur.json()["version"]
            data = base64.b64encode((version + 1).to_bytes(8, "big")).decode()
            r = rec.timed(
                c,
                "cas",
                "PUT",
                f"{here}{counter}",
                json={"expected_version": version, "data": data},
            )
            if r.status_code in (200, 201):
                with rec.lock:
                    rec.wins += 1


def test_two_processes_under_load(servers: list[str]) -> None:
    _, token = _account(servers[0])
    counter = f"/v1/records/manifest/{secrets.token_hex(16)}"
    rec = Recorder()
    r = httpx.put(
        servers[0] + counter,
        json={"expected_version": 0, "data": base64.b64encode((1).to_bytes(8, "big")).decode()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code in (200, 201), r.text
    threads = [
        threading.Thread(target=_client_loop, args=(rec, servers, token, counter, n))
        for n in range(CLIENTS)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a client hung"
    rec.report(time.monotonic() - t0)
    assert rec.unexpected == []
    iterations = CLIENTS * (REQUESTS // 3)
    assert len(rec.latencies["put"]) == iterations  # every client did all its work
    assert len(rec.latencies["cas"]) == 2 * iterations
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        final = c.get(f"{servers[1]}{counter}").json()
        assert final["version"] == 1 + rec.wins  # every won compare-and-swap is one version
        assert int.from_bytes(base64.b64decode(final["data"]), "big") == final["version"]
        listed = {b["id"]: b["size"] for b in c.get(f"{servers[0]}/v1/blobs").json()["blobs"]}
        for blob, body in rec.written.items():  # no lost write
            assert listed.get(blob) == len(body)
            assert c.get(f"{servers[1]}/v1/blobs/{blob}").content == body
