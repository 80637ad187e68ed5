"""Issue 20: `blindvault audit` shows the signup, a failed login (with its address) and a
device revocation, verifies the chain and pins its head; `--since` filters."""

from __future__ import annotations

import json
import time

import pytest

from blindvault.cli.audit import parse_since
from blindvault.errors import UsageError
from helpers.client import Cli


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
