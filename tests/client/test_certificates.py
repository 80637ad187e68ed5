"""Identity certificates from an HSM CA (issue 17, part 3), with a real SoftHSM2 token and a
real server: "certified" is shown next to safety numbers; the CA is pinned at first contact;
a certified key change of a pinned peer is still refused unless the organisation's policy,
pinned with the CA, accepts it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from blindvault.cli import main
from blindvault.client.local.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.identity import Identity
from blindvault.core.kdf import KdfParams
from blindvault.errors import PolicyError
from helpers.servers import start_server, stop
from helpers.softhsm import Token, make_token

PASSWORD = "cert-pw"
FAST_KDF = KdfParams.argon2id(19456, 2, 1)


@contextmanager
def _server(tmp: Path, token: Token, *ca_args: str) -> Iterator[tuple[str, Path]]:
    data = tmp / "data"
    made = token.create_ca(data, *ca_args)
    assert made.returncode == 0, made.stderr
    assert "descriptor pin" in made.stdout
    proc, url = start_server(data, env=token.env)
    try:
        yield url, data
    finally:
        stop(proc)


def _user(url: str, home: Path, name: str) -> Vault:
    email = f"{name}{secrets.token_hex(4)}@example.org"
    vault, _ = Vault.signup(url, email, PASSWORD, store=StateStore(home), params=FAST_KDF)
    return vault


def _swap_identity(data: Path, email: str) -> None:
    import sqlite3

    impostor = Identity.generate(email, 1).bundle.encode()
    with closing(sqlite3.connect(data / "blindvault.sqlite3")) as db:
        db.execute("update accounts set identity_bundle = ? where email = ?", (impostor, email))
        db.commit()


@pytest.fixture
def token(tmp_path: Path) -> Token:
    return make_token(tmp_path / "hsm")


def test_certified_shown_ca_pinned_and_a_certified_change_refused(
    token: Token,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _server(tmp_path, token) as (url, data):
        alice = _user(url, tmp_path / "alice", "alice")
        bob = _user(url, tmp_path / "bob", "bob")
        seen = alice.peer_view(bob.state.email)
        assert (seen.pinned, seen.certified) == (False, True)
        assert alice.state.ca_pin  # pinned at first contact
        alice.trust(bob.state.email, bob.fingerprint.hex())
        alice.save()
        # the CLI shows it next to the safety number
        monkeypatch.setenv("BLINDVAULT_HOME", str(tmp_path / "alice"))
        monkeypatch.setenv("BLINDVAULT_PASSWORD", PASSWORD)
        capsys.readouterr()
        assert main(["fingerprint", bob.state.email]) == 0
        assert "certified" in capsys.readouterr().out.splitlines()[0]
        assert main(["fingerprint", bob.state.email, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["certified"] is True
        assert main(["peers"]) == 0
        assert f"{bob.state.email}  " in (listed := capsys.readouterr().out)
        assert listed.rstrip().endswith("certified")
        # the server swaps Bob's key; its CA certifies the new one: still refused (exit 8)
        _swap_identity(data, bob.state.email)
        with pytest.raises(PolicyError, match="certifies the new key"):
            alice.peer_view(bob.state.email)
        assert alice.state.peers[bob.state.email] == bob.fingerprint.hex()  # pin unchanged
        assert main(["fingerprint", bob.state.email]) == 8
        assert "compare safety numbers" in capsys.readouterr().err
        assert main(["peers", "--json"]) == 8
        assert json.loads(capsys.readouterr().out) == [
            {"email": bob.state.email, "changed": True, "certified": False}
        ]
        alice.close()
        bob.close()


def test_policy_accepts_certified_changes_when_pinned_so(token: Token, tmp_path: Path) -> None:
    with _server(tmp_path, token, "--policy", "accept-certified-changes") as (url, data):
        alice = _user(url, tmp_path / "alice", "alice")
        bob = _user(url, tmp_path / "bob", "bob")
        alice.trust(bob.state.email, bob.fingerprint.hex())
        _swap_identity(data, bob.state.email)
        seen = alice.peer_view(bob.state.email)
        assert seen.changed_by_ca and seen.certified
        assert alice.state.peers[bob.state.email] == seen.bundle.fingerprint.hex()
        alice.close()
        bob.close()


def test_no_ca_certifies_nothing_and_admin_errors(token: Token, tmp_path: Path) -> None:
    data = tmp_path / "plain"
    proc, url = start_server(data)
    try:
        alice = _user(url, tmp_path / "alice", "alice")
        bob = _user(url, tmp_path / "bob", "bob")
        seen = alice.peer_view(bob.state.email)
        assert (seen.certified, alice.state.ca_pin) == (False, "")
        alice.close()
        bob.close()
    finally:
        stop(proc)
    made = token.create_ca(tmp_path / "d1", "--pin", "0000")  # wrong PIN
    assert made.returncode == 1
    assert "0000" not in made.stderr
    assert token.create_ca(tmp_path / "d2").returncode == 0
    again = token.create_ca(tmp_path / "d2")
    assert (again.returncode, "exists" in again.stderr) == (5, True)


def test_software_option_for_small_deployments(tmp_path: Path) -> None:
    """`admin ca create --software`: a SoftHSM2 token under the data folder, PIN in a file
    there; the server starts without BLINDVAULT_CA_PIN and certifies identities."""
    import subprocess
    import sys

    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "blindvault", "admin", "--data", str(data), "ca", "create"]
    made = subprocess.run([*cmd, "--software"], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    pin_file = data / "ca-softhsm" / "pin"
    assert pin_file.stat().st_mode & 0o077 == 0
    env = {"BLINDVAULT_CA_PIN": "", "SOFTHSM2_CONF": ""}
    proc, url = start_server(data, env=env)
    try:
        alice = _user(url, tmp_path / "alice", "alice")
        bob = _user(url, tmp_path / "bob", "bob")
        assert alice.peer_view(bob.state.email).certified
        alice.close()
        bob.close()
    finally:
        stop(proc)
    shown = subprocess.run([*cmd[:-1], "show"], capture_output=True, text=True, check=False)
    assert "re-verify" in shown.stdout
