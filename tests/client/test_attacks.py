"""A server that lies: lowered KDF parameters, rolled-back manifests, a swapped own key.
Each must give the integrity or policy exit code, write nothing, and not advance trust."""

from __future__ import annotations

import json
import os
from contextlib import closing
from pathlib import Path

import pytest

from helpers.client import Cli, Server, after, new_cli, record_requests


@pytest.fixture
def cli(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:  # fmt: skip
    """The KDF tests below need the CLI's own parameters and unpinned floor: no fast_kdf."""
    return new_cli(server, tmp_path / "home", monkeypatch, capsys, fast=False)


def account_sql(cli: Cli, sql: str, *params: object) -> None:
    with closing(cli.server.db()) as db:
        db.execute(sql, params)
        db.commit()


def state_of(cli: Cli) -> str:
    return "".join(p.read_text() for p in sorted((cli.home / "accounts").glob("*.json")))


def test_lowered_kdf_parameters_abort_before_anything_is_sent(cli: Cli) -> None:
    """P-KDFFLOOR: prelogin returns tiny Argon2 parameters."""
    with closing(cli.server.db()) as db:
        failures_before = db.execute("select count(*) from login_failures").fetchone()
        audit_before = db.execute("select count(*) from audit").fetchone()
    account_sql(
        cli,
        "update accounts set kdf = ? where email = ?",
        json.dumps({"alg": "argon2id", "m": 8, "t": 1, "p": 1}),
        cli.email,
    )
    before = state_of(cli)
    code, _, err = cli("ls")
    assert code == 8, err
    assert "floor" in err
    with closing(cli.server.db()) as db:  # nothing derived from the password reached the server
        assert db.execute("select count(*) from login_failures").fetchone() == failures_before
        assert db.execute("select count(*) from audit").fetchone() == audit_before
    assert state_of(cli) == before  # the pin did not move


def test_weaker_than_pinned_parameters_are_refused(cli: Cli) -> None:
    account_sql(
        cli,
        "update accounts set kdf = ? where email = ?",
        json.dumps({"alg": "argon2id", "m": 32768, "t": 3, "p": 4}),
        cli.email,
    )
    before = state_of(cli)
    sent = record_requests(cli)
    code, _, err = cli("ls")
    assert code == 8, err
    assert "pinned" in err
    assert after(sent, ("POST", "/v1/prelogin")) == []  # nothing derived from the password
    assert state_of(cli) == before  # the pin did not move


def test_rolled_back_manifest_is_detected(cli: Cli, tmp_path: Path) -> None:
    """P-FRESH: after seeing v3 of the root folder, the server serves v2 again."""
    (tmp_path / "one").write_text("1")
    (tmp_path / "two").write_text("2")
    cli("put", str(tmp_path / "one"), "/")
    with closing(cli.server.db()) as db:
        old = db.execute(
            "select r.id, r.version, r.data from records r join accounts a on a.id = r.owner "
            "where a.email = ? and r.kind = 'manifest'",
            (cli.email,),
        ).fetchone()
    cli("put", str(tmp_path / "two"), "/")
    assert cli("ls")[0] == 0
    before = state_of(cli)
    account_sql(
        cli,
        "update records set version = ?, data = ? where id = ? and kind = 'manifest'",
        old[1],
        old[2],
        old[0],
    )
    code, _, err = cli("ls")
    assert code == 10, err
    assert "rollback" in err
    assert state_of(cli) == before  # the high-water marks did not move


def test_swapped_own_identity_is_refused(cli: Cli) -> None:
    """P-OWNKEY: the server publishes another identity bundle for this account."""
    with closing(cli.server.db()) as db:
        other = db.execute(
            "select identity_bundle from accounts where email != ? limit 1", (cli.email,)
        ).fetchone()
    if other is None:  # make sure a second account exists
        cli(
            "signup",
            "--accept-weak-password",
            "--server",
            cli.server.url,
            "--email",
            "other" + cli.email,
        )
        with closing(cli.server.db()) as db:
            other = db.execute(
                "select identity_bundle from accounts where email != ? limit 1", (cli.email,)
            ).fetchone()
    account_sql(cli, "update accounts set identity_bundle = ? where email = ?", other[0], cli.email)
    before = state_of(cli)
    sent = record_requests(cli)
    code, _, err = cli("ls")
    assert code == 8, err
    assert "identity" in err
    assert after(sent, ("GET", "/v1/account")) == []  # refused at open: nothing read or written
    assert state_of(cli) == before


def test_forged_manifest_entry_is_not_shown(cli: Cli, tmp_path: Path) -> None:
    """P-NOINJECT / P-AEAD: a manifest changed by the server is refused, not partly shown."""
    (tmp_path / "f").write_text("x")
    cli("put", str(tmp_path / "f"), "/")
    with closing(cli.server.db()) as db:
        rid, data = db.execute(
            "select r.id, r.data from records r join accounts a on a.id = r.owner "
            "where a.email = ? and r.kind = 'manifest'",
            (cli.email,),
        ).fetchone()
    forged = bytearray(data)
    forged[200] ^= 1
    account_sql(
        cli, "update records set data = ? where id = ? and kind = 'manifest'", bytes(forged), rid
    )
    code, out, _ = cli("ls")
    assert code == 10
    assert out == ""


def test_interrupted_upload_resumes(cli: Cli, tmp_path: Path) -> None:
    """An interrupted put continues where it stopped when re-run."""

    from blindvault.client.net import transfer

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    sent: list[int] = []
    interrupted: list[bool] = []
    original = transfer._PartSender._send

    def flaky(self: transfer._PartSender, part: bytes) -> None:
        if self.number == 2 and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt  # the user pressed Ctrl-C during part 2
        sent.append(self.number if self.number not in self.have else 0)
        original(self, part)

    mp = pytest.MonkeyPatch()
    mp.setattr(transfer._PartSender, "_send", flaky)
    try:
        assert cli("put", str(big), "/")[0] == 130
        assert cli("ls", "--json")[1].strip() == "[]"  # nothing half-written is visible
        assert list((cli.home / "uploads").rglob("*.json"))  # the resume record exists
        sent.clear()
        assert cli("put", str(big), "/")[0] == 0
    finally:
        mp.undo()
    assert 1 not in sent  # part 1 was not sent again
    assert 2 in sent
    out = tmp_path / "back.bin"
    assert cli("get", "/big.bin", str(out))[0] == 0
    assert out.read_bytes() == big.read_bytes()
    assert not list((cli.home / "uploads").rglob("*.json"))
