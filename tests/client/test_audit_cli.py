"""Issue 20: `blindvault audit` shows the signup, a failed login (with its address) and a
device revocation, verifies the chain and pins its head; `--since` filters."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from blindvault.cli.audit import parse_since
from blindvault.errors import UsageError
from helpers.client import Cli
from helpers.people import User, alice, user


def test_audit_shows_signup_failed_login_and_revoke(cli: Cli) -> None:
    base = ("--server", cli.server.url, "--email", cli.email)
    first = json.loads(cli("whoami", "--json")[1])["device_id"]
    assert cli("login", *base, password="not the password")[0] == 3
    code, out, err = cli("login", *base, "--json", "--device-name", "laptop-2")
    assert code == 0, err
    assert cli("devices", "revoke", first)[0] == 0
    code, out, err = cli("audit", "--json")
    assert code == 0, err
    doc = json.loads(out)
    events = [e["event"] for e in doc["entries"]]
    assert events[0] == "signup"
    assert "login_failed" in events and "device_revoked" in events
    failed = next(e for e in doc["entries"] if e["event"] == "login_failed")
    assert failed["detail"]["address"] == "127.0.0.1"
    login = [e for e in doc["entries"] if e["event"] == "login"][-1]
    assert login["detail"]["device"] == "laptop-2" and login["detail"]["address"]
    revoked = next(e for e in doc["entries"] if e["event"] == "device_revoked")
    assert revoked["detail"]["device_id"] == first
    assert doc["verified"] and doc["head"]["seq"] == len(doc["entries"])
    (state,) = list((cli.home / "accounts").glob("*.json"))
    assert json.loads(state.read_text())["audit_head"] == [doc["head"]["seq"], doc["head"]["hash"]]
    code, out, _ = cli("audit")
    assert code == 0 and "login_failed" in out and "chain verified" in out
    code, out, _ = cli("audit", "--json", "--since", "2099-01-01")
    assert code == 0 and json.loads(out)["entries"] == []


def test_parse_since() -> None:
    now = 1_000_000.0
    assert parse_since("2h", now) == now - 7200
    assert parse_since("1970-01-02") == 86400.0
    assert parse_since("1970-01-01T01:00+01:00") == 0.0
    with pytest.raises(UsageError):
        parse_since("yesterday")
    assert parse_since("1d") <= time.time() - 86399


def _events(person: User, *names: str) -> list[dict[str, Any]]:
    doc = person.json("audit")
    return [e for e in doc["entries"] if e["event"] in names]  # type: ignore[index]


def test_audit_records_every_grant_change_removal_and_drop(cli: Cli, tmp_path: Path) -> None:
    """Issue 19: the owner's audit log names each share grant, role change, re-key, accept
    and removal (share id, space, member, role), and each link and drop arrival."""
    owner, bob = alice(cli), user(cli, "bob")
    owner.ok("mkdir", "/team")
    owner.ok("share", "/team", "--with", bob.email, "--trust-on-first-use")
    (item,) = bob.json("shares")["incoming"]  # type: ignore[index]
    share = str(item["id"])
    bob.ok("accept", share, "--trust-on-first-use")
    first = {i["path"]: i for i in owner.json("shares")["items"]}["/team"]  # type: ignore[index]
    owner.ok("share", "/team", "--with", bob.email, "--write")  # a new role
    owner.ok("unshare", "/team", "--with", bob.email)
    shares = _events(owner, "share.grant", "share.accept", "share.change", "share.revoke")
    assert [e["event"] for e in shares] == [
        "share.grant", "share.accept", "share.change", "share.revoke"
    ]  # fmt: skip
    for e in shares:
        assert e["detail"]["share"] == share and e["detail"]["member"] == bob.email
        assert e["detail"]["space"] == first["node"]
    assert [e["detail"]["role"] for e in shares] == ["read", "read", "write", "write"]
    assert shares[2]["detail"]["was"] == "read" and shares[3]["detail"]["by"] == "owner"

    owner.ok("mkdir", "/inbox")
    url = owner.json("link", "/inbox", "--upload-only")["url"]  # type: ignore[index]
    (tmp_path / "x.txt").write_bytes(b"dropped")
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(stranger))
    assert cli("drop", str(url), str(tmp_path / "x.txt"))[0] == 0
    owner.ok("drops")
    (made,) = _events(owner, "link_created")
    (arrived,) = _events(owner, "drop_received")
    assert arrived["detail"]["link"] == made["detail"]["link"]
    assert arrived["detail"]["size"] > len(b"dropped")
    assert [e["detail"]["drop"] for e in _events(owner, "drop_removed")] == [
        arrived["detail"]["drop"]
    ]


def test_shares_json_shows_each_members_role_and_since_when(cli: Cli) -> None:
    """Per item and member: the signed role, when the grant was made and when its role
    was set; a re-key (unsharing someone else) keeps both."""
    owner, bob, carol = alice(cli), user(cli, "bob"), user(cli, "carol")
    owner.ok("mkdir", "/team")
    for person in (bob, carol):
        owner.ok("share", "/team", "--with", person.email, "--trust-on-first-use")

    def members() -> dict[str, dict[str, Any]]:
        (item,) = owner.json("shares")["items"]  # type: ignore[index]
        return {m["email"]: m for m in item["members"]}

    before = members()[bob.email]
    assert before["role"] == "read" and before["role_since"] == before["since"]
    time.sleep(0.05)
    owner.ok("share", "/team", "--with", bob.email, "--write")
    after = members()[bob.email]
    assert after["role"] == "write" and after["since"] == before["since"]
    assert after["role_since"] > after["since"]
    owner.ok("unshare", "/team", "--with", carol.email)  # Bob's envelope is sealed again
    assert set(members()) == {bob.email}
    assert members()[bob.email]["role_since"] == after["role_since"]
    assert _events(owner, "share.rekey")[0]["detail"]["member"] == bob.email
    assert "write since" in owner.ok("shares")
