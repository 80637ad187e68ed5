"""Real server processes: the README's command on the embedded default, and two processes
on one PostgreSQL + SeaweedFS racing compare-and-swap without losing an update."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.api_accounts import api_session, api_signup
from helpers.servers import s3_spec, start_server, stop


def test_embedded_default_serves(tmp_path: Path) -> None:
    proc, url = start_server(tmp_path / "data")
    try:
        assert httpx.get(url + "/v1/health").json()["status"] == "ok"
        assert (tmp_path / "data" / "blindvault.sqlite3").exists()
        headers = api_session(url, api_signup(url, "race"))
        assert httpx.get(url + "/v1/account", headers=headers).status_code == 200
    finally:
        stop(proc)


@pytest.fixture
def two_servers(tmp_path: Path, pg_url: str, weed: str) -> Iterator[list[str]]:
    blobs = s3_spec(weed)
    procs = []
    try:
        for i in range(2):
            proc, url = start_server(tmp_path / f"data{i}", "--db", pg_url, "--blobs", blobs)
            procs.append((proc, url))
        yield [url for _, url in procs]
    finally:
        for proc, _ in procs:
            stop(proc)


def test_cas_race_between_two_processes_loses_no_update(two_servers: list[str]) -> None:
    headers = api_session(two_servers[0], api_signup(two_servers[0], "race"))
    record = f"/v1/records/counter/{secrets.token_hex(16)}"
    httpx.put(
        two_servers[0] + record,
        headers=headers,
        json={"expected_version": 0, "data": base64.b64encode(b"0").decode()},
    )
    wins: list[int] = []
    losses: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        base = two_servers[n % 2]
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            for _ in range(15):
                cur = c.get(record).json()
                value = int(base64.b64decode(cur["data"]))
                r = c.put(
                    record,
                    json={
                        "expected_version": cur["version"],
                        "data": base64.b64encode(str(value + 1).encode()).decode(),
                    },
                )
                with lock:
                    if r.status_code == 200:
                        wins.append(value + 1)
                    else:
                        assert r.status_code == 409, r.text
                        assert r.json()["error"]["code"] == "stale_version"
                        losses.append(1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer did not finish"
    final = httpx.get(two_servers[1] + record, headers=headers).json()
    value = int(base64.b64decode(final["data"]))
    # every successful write is reflected: the counter equals the number of wins
    assert value == len(wins) == final["version"] - 1
    assert sorted(wins) == list(range(1, len(wins) + 1))  # no value written twice
    assert len(wins) + len(losses) == 8 * 15
    assert losses  # the race really happened
    print(f"two-process CAS race: {len(wins)} writes won, {len(losses)} got 409, none lost")
