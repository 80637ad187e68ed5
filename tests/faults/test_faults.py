"""Crashes and outages with real processes (PostgreSQL + SeaweedFS behind the server):

* the server SIGKILLed in the middle of a part upload, of a commit and of a manifest
  compare-and-swap: after a restart no partial object is visible, and running the same
  `put` again finishes to a tree that `blindvault verify` accepts;
* SeaweedFS stopped in the middle of a transfer: the CLI exits 6 (the server answered
  503), and the same `put` succeeds once SeaweedFS is back;
* PostgreSQL backends terminated under a running client: it finishes or fails cleanly
  (exit 6), and the next command succeeds.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import psycopg
import pytest

from blindvault.client.http import ApiClient
from helpers.faults import LONG, Server, User, Weed, kill_during, signup
from helpers.servers import s3_spec


@pytest.fixture
def monkeypatch_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the bounded run the client gives up after 2 attempts instead of 5: each attempt
    waits out the server's own S3 retries, so the full count only costs time (the long run
    keeps the real count)."""
    if not LONG:
        defaults = dict(ApiClient.__init__.__kwdefaults__ or {})
        monkeypatch.setattr(ApiClient.__init__, "__kwdefaults__", {**defaults, "retries": 1})


MIB = 1 << 20


def big_file(tmp: Path, name: str, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp / name
    path.write_bytes(data)
    return path, data


def finish_and_verify(user: User, local: Path, data: bytes, tmp: Path) -> None:
    code, _, err = user("put", str(local), "/")
    assert code == 0, err
    code, out, err = user("verify")
    assert code == 0, out + err
    back = tmp / f"back-{local.name}"
    assert user("get", f"/{local.name}", str(back))[0] == 0
    assert back.read_bytes() == data
    assert user("ls")[1].split().count(local.name) == 1
    assert not list((user.home / "uploads").rglob("*.json"))  # no resume record left
    user.check_no_partial_blob()


KILL_POINTS = [
    ("part", "PUT", "/parts/2"),
    ("commit", "POST", "/commit"),
    ("manifest-cas", "PUT", "/v1/records/manifest/"),
]
DELAYS = [0.0, 0.005, 0.05, 0.3] if LONG else [0.02]


@pytest.mark.parametrize("delay", DELAYS)
@pytest.mark.parametrize(("what", "method", "match"), KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_server_killed_mid_operation(
    server: Server, user: User, tmp_path: Path, what: str, method: str, match: str, delay: float
) -> None:
    local, data = big_file(tmp_path, f"{what}.bin", 10 * MIB)  # two parts: 8 MiB and the rest
    rule = kill_during(server.proxy, match, method, server.kill, delay)
    code, _, err = user("put", str(local), "/")
    assert rule.fired.is_set()  # type: ignore[attr-defined]
    assert server.kills == 1
    assert code == 6, err  # unreachable after retries: one clear line, no traceback
    assert "Traceback" not in err
    server.proxy.reset()
    server.start()
    # nothing half-made is visible: the file is listed only once its blob is committed
    # (it is then verified below), and every stored blob is whole
    listed = user("ls")[1].split()
    assert listed in ([], [local.name])
    if what == "part":
        assert listed == []
    user.check_no_partial_blob()
    finish_and_verify(user, local, data, tmp_path)


def test_seaweedfs_stopped_mid_transfer(
    monkeypatch_retries: None,
    proxy: object,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    weed = Weed(tmp_path / "weed", separate_s3=True)
    weed.data.mkdir()
    weed.start()
    data_dir = tmp_path / "srv" / "data"
    data_dir.mkdir(parents=True)
    server = Server(data_dir, pg_url, s3_spec(weed.url), proxy)  # type: ignore[arg-type]
    try:
        server.start()
        user = signup(server.proxy, tmp_path, monkeypatch, capsys)
        local, data = big_file(tmp_path, "weed.bin", 10 * MIB)
        rule = kill_during(server.proxy, "/parts/2", "PUT", weed.kill_s3, 0.0)
        code, _, err = user("put", str(local), "/")
        assert rule.fired.is_set()  # type: ignore[attr-defined]
        assert code == 6, err
        assert "503" in err or "unavailable" in err.lower()
        assert any(s.status == 503 for s in server.proxy.log)
        assert user("ls")[1].split() == []
        server.proxy.reset()
        weed.start_s3()
        finish_and_verify(user, local, data, tmp_path)
    finally:
        server.close()
        weed.stop()


def test_postgres_backends_terminated_under_a_client(
    server: Server, user: User, tmp_path: Path, pg_url: str
) -> None:
    dbname = pg_url.rsplit("/", 1)[1]
    admin = pg_url.rsplit("/", 1)[0] + "/postgres"
    terminated: list[int] = []

    def terminate() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
        terminated.append(len(rows))

    rounds = 12 if LONG else 4
    files = {}
    for i in range(rounds):
        path = tmp_path / f"small{i}.txt"
        path.write_bytes(os.urandom(random.randint(1, 40000)))
        files[path.name] = path.read_bytes()
    nth = {"n": 0}

    def every_third_request(ex: object) -> None:
        nth["n"] += 1
        if nth["n"] % 3 == 0:
            terminate()

    server.proxy.before(every_third_request)  # type: ignore[arg-type]
    outcomes = []
    for name in files:
        code, _, err = user("put", str(tmp_path / name), "/")
        assert code in (0, 6), err  # done despite it, or a clean "unavailable"
        assert "Traceback" not in err
        outcomes.append(code)
    assert sum(terminated) > 0
    assert not [s for s in server.proxy.log if s.status >= 500 and s.status != 503]
    server.proxy.reset()
    for name, code in zip(files, outcomes, strict=True):
        if code != 0:
            assert user("put", str(tmp_path / name), "/")[0] == 0
    code, out, err = user("verify")
    assert code == 0, out + err
    assert sorted(user("ls")[1].split()) == sorted(files)
    for name, content in files.items():
        back = tmp_path / f"back-{name}"
        assert user("get", f"/{name}", str(back))[0] == 0
        assert back.read_bytes() == content
