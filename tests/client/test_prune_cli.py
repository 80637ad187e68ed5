"""Issue 14, forget and prune against a real server process: prune deletes exactly the
blobs no signed manifest names, quota goes down, a second prune is refused while the
lease is held, a blob uploaded concurrently survives, and a live link keeps its blobs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from blindvault.client import prune
from blindvault.client.http import ApiClient
from blindvault.core.content import blob_id
from helpers.client import Cli


def _put(cli: Cli, tmp_path: Path, name: str, data: bytes) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    code, _, err = cli("put", str(f), "/")
    assert code == 0, err


def _prune(cli: Cli, *extra: str) -> dict[str, object]:
    code, out, err = cli("prune", "--json", *extra)
    assert code == 0, err
    got: dict[str, object] = json.loads(out)
    return got


def _listed(cli: Cli) -> set[str]:
    return set(_prune(cli, "--dry-run")["listed"])  # type: ignore[arg-type]


def _used(cli: Cli) -> int:
    with cli.server.db() as db:
        row = db.execute("SELECT used_bytes FROM accounts WHERE email = ?", (cli.email,)).fetchone()
    return int(row[0])


def _stray(cli: Cli) -> str:
    """A blob a concurrent writer uploaded and has not yet named in a manifest."""
    bid = os.urandom(16).hex()
    real = ApiClient.request
    done: list[int] = []

    def grab(self: ApiClient, method: str, path: str, *a: object, **kw: object) -> object:
        out = real(self, method, path, *a, **kw)  # type: ignore[arg-type]
        if path.startswith("/v1/records") and not done:
            done.append(1)
            real(self, "PUT", f"/v1/blobs/{bid}", content=b"\x00" * 2000)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ApiClient, "request", grab)
        assert cli("ls", "/")[0] == 0
    assert done
    return bid


def test_prune_deletes_exactly_the_unreferenced_blobs(cli: Cli, tmp_path: Path) -> None:
    blobs: list[set[str]] = [set()]
    for text in (b"one", b"two", b"three"):
        _put(cli, tmp_path, "a.txt", text)
        blobs.append(_listed(cli))
    a1, a2, a3 = (next(iter(blobs[i + 1] - blobs[i])) for i in range(3))
    code, out, err = cli("forget", "--keep-within", "0s", "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["versions"] == [
        {"path": "/a.txt", "version": 2},
        {"path": "/a.txt", "version": 1},
    ]
    assert len(json.loads(cli("versions", "/a.txt", "--json")[1])) == 3  # a dry run
    assert cli("forget", "--keep-within", "0s")[0] == 0
    assert len(json.loads(cli("versions", "/a.txt", "--json")[1])) == 1
    _put(cli, tmp_path, "c.txt", b"in the trash")
    c1 = next(iter(_listed(cli) - {a1, a2, a3}))
    assert cli("rm", "/c.txt")[0] == 0
    stray = _stray(cli)

    # with the grace period, nothing this young is deleted
    got = _prune(cli)
    assert got["deleted"] == [] and set(got["kept_recent"]) == {a1, a2, stray}  # type: ignore[arg-type]

    cli.monkeypatch.setattr(prune, "GRACE_SECONDS", 0)
    used = _used(cli)
    got = _prune(cli, "--dry-run")
    assert set(got["deleted"]) == {a1, a2, stray}  # type: ignore[arg-type]
    assert _listed(cli) == {a1, a2, a3, c1, stray}  # a dry run deletes nothing
    got = _prune(cli)
    assert set(got["deleted"]) == {a1, a2, stray}  # type: ignore[arg-type]
    assert _listed(cli) == {a3, c1}
    assert _used(cli) == used - int(got["freed"])  # type: ignore[call-overload]
    assert int(got["freed"]) > 2000  # type: ignore[call-overload]
    assert cli("verify")[0] == 0
    assert cli("trash", "restore", "/c.txt")[0] == 0  # the trashed file's blob was kept
    assert cli("get", "/c.txt", str(tmp_path / "c2"))[0] == 0
    assert (tmp_path / "c2").read_bytes() == b"in the trash"
    code, out, _ = cli("prune")
    assert code == 0 and "deleted 0 of 2 blob(s)" in out


def test_a_second_prune_is_refused_and_a_concurrent_upload_survives(
    cli: Cli, tmp_path: Path
) -> None:
    cli.monkeypatch.setattr(prune, "GRACE_SECONDS", 0)
    _put(cli, tmp_path, "a.txt", b"a")
    real = prune.Pruner.referenced
    inner: list[tuple[int, str]] = []

    def meanwhile(self: prune.Pruner) -> set[str]:
        # another device prunes: refused while this one holds the lease
        code, _, err = cli("prune")
        inner.append((code, err))
        # another device writes a file after the listing: its blob is not deleted
        _put(cli, tmp_path, "b.txt", b"written during prune")
        return real(self)

    cli.monkeypatch.setattr(prune.Pruner, "referenced", meanwhile)
    code, out, err = cli("prune", "--json")
    assert code == 0, err
    assert json.loads(out)["deleted"] == []
    ((code, err),) = inner
    assert code == 5 and "prune already running on device " in err
    cli.monkeypatch.setattr(prune.Pruner, "referenced", real)
    assert cli("get", "/b.txt", str(tmp_path / "b2"))[0] == 0
    assert (tmp_path / "b2").read_bytes() == b"written during prune"
    assert _prune(cli)["deleted"] == []  # the lease was released: prune runs again


def test_a_refused_prune_names_the_device_holding_the_lease(cli: Cli, tmp_path: Path) -> None:
    """Exit 5: "prune already running on device NAME since TIME" (issue 14)."""
    phone_home = tmp_path / "phone-home"
    phone_home.mkdir()
    laptop_home = os.environ["BLINDVAULT_HOME"]
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(phone_home))
    code, _, err = cli("login", "--server", cli.server.url, "--email", cli.email,
                       "--device-name", "kitchen phone")  # fmt: skip
    assert code == 0, err
    real = prune.Pruner.referenced
    inner: list[tuple[int, str]] = []

    def meanwhile(self: prune.Pruner) -> set[str]:  # the laptop tries while the phone prunes
        cli.monkeypatch.setenv("BLINDVAULT_HOME", laptop_home)
        inner.append(cli("prune")[::2])
        cli.monkeypatch.setenv("BLINDVAULT_HOME", str(phone_home))
        return real(self)

    cli.monkeypatch.setattr(prune.Pruner, "referenced", meanwhile)
    code, _, err = cli("prune")
    assert code == 0, err
    ((code, err),) = inner
    assert code == 5, err
    assert "prune already running on device kitchen phone since 20" in err


def test_a_live_link_keeps_its_blobs(cli: Cli, tmp_path: Path) -> None:
    cli.monkeypatch.setattr(prune, "GRACE_SECONDS", 0)
    _put(cli, tmp_path, "f.txt", b"linked version")
    (v1,) = _listed(cli)
    code, out, err = cli("link", "/f.txt", "--json")
    assert code == 0, err
    link = json.loads(out)
    _put(cli, tmp_path, "f.txt", b"newer")
    assert cli("forget", "--keep-within", "0s")[0] == 0
    got = _prune(cli)
    assert got["deleted"] == [] and got["kept_in_link"] == [v1]  # 409 blob_in_link
    code, _, err = cli("open-link", link["url"], str(tmp_path / "via-link"))
    assert code == 0, err
    assert (tmp_path / "via-link").read_bytes() == b"linked version"
    assert cli("link", "revoke", link["id"])[0] == 0
    assert _prune(cli)["deleted"] == [v1]  # once the link is revoked, prune collects it
    assert blob_id  # (ids are opaque: the server never learns which file they belong to)
