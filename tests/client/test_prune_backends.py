"""Issue 14: prune on PostgreSQL + SeaweedFS (the backends at scale): the blobs deleted are
gone from the object store's listing, the quota goes down, the rest still verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blindvault.client import prune
from blindvault.client.http import ApiClient
from helpers.client import Cli, Server, new_cli
from helpers.servers import s3_spec, start_server, stop


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory, pg_url: str, weed: Any) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("prune-pg") / "data"
    proc, url = start_server(data, "--db", pg_url, "--blobs", s3_spec(weed))
    try:
        yield Server(url, data)
    finally:
        stop(proc)


def _account(cli: Cli) -> dict[str, Any]:
    """The account as the server states it (its used bytes), through this device's token."""
    real = ApiClient.request
    got: list[dict[str, Any]] = []

    def grab(self: ApiClient, method: str, path: str, *a: Any, **kw: Any) -> Any:
        out = real(self, method, path, *a, **kw)
        if path.startswith("/v1/records") and not got:
            got.append(real(self, "GET", "/v1/account").json())
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ApiClient, "request", grab)
        assert cli("ls", "/")[0] == 0
    return got[0]


def test_prune_on_postgres_and_seaweedfs(
    pg_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = new_cli(pg_server, tmp_path / "home", monkeypatch, capsys, "pg")
    monkeypatch.setattr(prune, "GRACE_SECONDS", 0)
    f = tmp_path / "a.bin"
    for i in range(3):
        f.write_bytes(bytes([i]) * 50_000)
        assert cli("put", str(f), "/")[0] == 0
    f.write_bytes(b"trashed")
    assert cli("put", str(f), "/b.bin")[0] == 0
    assert cli("rm", "/b.bin")[0] == 0
    assert cli("forget", "--keep-within", "0s")[0] == 0  # a.bin v1, v2 dropped; b.bin gone
    used = _account(cli)["used_bytes"]
    code, out, err = cli("prune", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert len(got["listed"]) == 3 and len(got["deleted"]) == 2  # a v1, a v2; b was emptied
    assert _account(cli)["used_bytes"] == used - got["freed"] and got["freed"] > 100_000
    code, out, _ = cli("prune", "--dry-run", "--json")
    assert code == 0 and len(json.loads(out)["listed"]) == 1
    assert cli("verify")[0] == 0
    assert cli("get", "/a.bin", str(tmp_path / "back"))[0] == 0
    assert (tmp_path / "back").read_bytes() == bytes([2]) * 50_000
