"""Pairing a device by code (issue 17, part 4) against a real server: the new device ends
with its own token, the signed-in device's pins and an open vault; both show the same
confirmation; a wrong, guessed or replayed code ends the pairing and changes nothing."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from blindvault.client.local.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.kdf import KdfParams
from blindvault.core.pake import PairingCode
from blindvault.errors import CredentialError, GoneError
from helpers.client import Cli, Server
from helpers.pairing import SignedIn

PASSWORD = "pair-pw"
FAST_KDF = KdfParams.argon2id(19456, 2, 1)


def _account(server: Server, home: Path) -> Vault:
    email = f"pair{secrets.token_hex(5)}@example.org"
    vault, _ = Vault.signup(server.url, email, PASSWORD, store=StateStore(home), params=FAST_KDF)
    src = home.parent / "src.txt"
    src.write_bytes(b"paired content")
    vault.mkdir("/docs")
    vault.put(src, "/docs")
    return vault


def _devices(server: Server, email: str) -> list[tuple[str, int]]:
    with closing(server.db()) as db:
        return db.execute(
            "select d.name, d.revoked from devices d join accounts a on a.id = d.account_id"
            " where a.email = ? order by d.created_at",
            (email,),
        ).fetchall()


def _state_files(home: Path) -> list[Path]:
    return sorted((home / "accounts").glob("*.json")) if (home / "accounts").exists() else []


def test_pair_a_device_by_code(server: Server, tmp_path: Path) -> None:
    a = _account(server, tmp_path / "a")
    side = SignedIn(a).start()
    code = side.code()
    shown_b: list[str] = []
    b_store = StateStore(tmp_path / "b")
    b = Vault.pair(server.url, code, store=b_store, device_name="laptop", show=shown_b.append,
                   poll=0.05)  # fmt: skip
    side.join()
    assert side.error is None
    # the same confirmation string on both devices
    assert shown_b == side.shown == [side.result.confirmation]
    # its own token and device; the owner's pins taken over the channel
    assert b.state.token and b.state.token != a.state.token
    assert b.state.device_id == side.result.device_id != a.state.device_id
    assert b.state.own_fingerprint == a.state.own_fingerprint
    assert b.state.kdf_pin == a.state.kdf_pin
    assert b.state.root_sequence == a.state.root_sequence
    assert b.fingerprint == a.fingerprint
    assert [e.name for e in b.ls("/docs")] == ["src.txt"]
    got = tmp_path / "got"
    got.mkdir()
    b.get("/docs/src.txt", got)
    assert (got / "src.txt").read_bytes() == b"paired content"
    assert ("laptop", 0) in _devices(server, a.state.email)
    b.close()
    # later commands on the new device: the password with its own (paired) session
    again = Vault.open(server.url, a.state.email, PASSWORD, store=StateStore(tmp_path / "b"))
    assert again.state.device_id == side.result.device_id
    again.close()
    # the code is used up: a replay is refused and changes nothing
    before = [p.read_bytes() for p in _state_files(tmp_path / "c")]
    with pytest.raises(GoneError):
        Vault.pair(server.url, code, store=StateStore(tmp_path / "c"), poll=0.05)
    assert [p.read_bytes() for p in _state_files(tmp_path / "c")] == before == []
    a.close()


def _wrong(code: str) -> str:
    parsed = PairingCode.parse(code)
    last = "zoo" if parsed.words[-1] != "zoo" else "abandon"
    return str(PairingCode(parsed.channel, (*parsed.words[:-1], last)))


def test_wrong_code_fails_after_one_try_and_the_pairing_ends(
    server: Server, tmp_path: Path
) -> None:
    a = _account(server, tmp_path / "a")
    devices_before = _devices(server, a.state.email)
    side = SignedIn(a).start()
    code = side.code()
    with pytest.raises(CredentialError, match="refused the code"):
        Vault.pair(server.url, _wrong(code), store=StateStore(tmp_path / "b"), poll=0.05)
    side.join()
    assert isinstance(side.error, CredentialError)
    assert "entered wrongly" in str(side.error)
    assert side.shown == []  # nothing confirmed, nothing sent
    # the right code no longer works either: one try per code
    with pytest.raises(GoneError):
        Vault.pair(server.url, code, store=StateStore(tmp_path / "b"), poll=0.05)
    assert _state_files(tmp_path / "b") == []
    assert _devices(server, a.state.email) == devices_before
    with closing(server.db()) as db:
        channel = PairingCode.parse(code).channel
        row = db.execute("select state, payload from pairings where channel = ?", (channel,))
        assert row.fetchall() == [("failed", None)]
    a.close()


def test_a_guess_first_ends_the_pairing_for_the_real_device(server: Server, tmp_path: Path) -> None:
    a = _account(server, tmp_path / "a")
    side = SignedIn(a).start()
    code = side.code()
    # someone who saw only the digits guesses the words first
    guess = str(PairingCode(PairingCode.parse(code).channel, ("abandon", "ability", "able")))
    with pytest.raises(CredentialError):
        Vault.pair(server.url, guess, store=StateStore(tmp_path / "x"), poll=0.05)
    side.join()
    assert isinstance(side.error, CredentialError)
    with pytest.raises(GoneError):
        Vault.pair(server.url, code, store=StateStore(tmp_path / "b"), poll=0.05)
    assert _state_files(tmp_path / "x") == _state_files(tmp_path / "b") == []
    a.close()


def test_refused_on_the_signed_in_device(server: Server, tmp_path: Path) -> None:
    a = _account(server, tmp_path / "a")
    devices_before = _devices(server, a.state.email)
    side = SignedIn(a, accept=False).start()
    code = side.code()
    with pytest.raises(CredentialError):
        Vault.pair(server.url, code, store=StateStore(tmp_path / "b"), poll=0.05)
    side.join()
    assert isinstance(side.error, CredentialError)
    assert len(side.shown) == 1
    assert _devices(server, a.state.email) == devices_before
    assert _state_files(tmp_path / "b") == []
    a.close()


def test_cli_devices_add_and_login_pair(cli: Cli, tmp_path: Path) -> None:
    env = {**os.environ, "BLINDVAULT_HOME": str(cli.home), "BLINDVAULT_PASSWORD": "pw-1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "blindvault", "devices", "add", "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        code = first["code"]
        new_home = tmp_path / "new"
        cli.monkeypatch.setenv("BLINDVAULT_HOME", str(new_home))
        rc, out, err = cli(
            "login", "--server", cli.server.url, "--pair", code, "--device-name", "phone",
            "--json",
        )  # fmt: skip
        assert rc == 0, err
        lines = [json.loads(x) for x in out.strip().split("\n", 1)]
        assert lines[1]["paired"] is True
        rest, err_a = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err_a
    joined, *_ = (json.loads(x) for x in rest.strip().split("\n", 1))
    assert joined["confirmation"] == lines[0]["confirmation"]
    assert joined["device_name"] == "phone"
    # the paired device works with the password, on its own session
    rc, out, _ = cli("whoami", "--json")
    assert rc == 0
    assert json.loads(out)["device_id"] == lines[1]["device_id"]
    # replayed: refused (410 → exit 4), nothing saved
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(tmp_path / "replay"))
    rc, _, err = cli("login", "--server", cli.server.url, "--pair", code)
    assert rc == 4
    assert "already used" in err
    assert _state_files(tmp_path / "replay") == []
    # a malformed code: usage error (2), nothing sent
    rc, _, err = cli("login", "--server", cli.server.url, "--pair", "12345-not-a-code")
    assert rc == 2
    assert "pairing code" in err


def test_cli_text_mode_shows_the_qr_code_and_the_confirmation(cli: Cli, tmp_path: Path) -> None:
    env = {**os.environ, "BLINDVAULT_HOME": str(cli.home), "BLINDVAULT_PASSWORD": "pw-1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "blindvault", "devices", "add"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        shown: list[str] = []
        while not any("--pair" in line for line in shown):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            shown.append(line)
        assert any("▄" in line or "█" in line for line in shown)  # the QR code
        code = next(line for line in shown if "--pair" in line).split("--pair", 1)[1].strip()
        cli.monkeypatch.setenv("BLINDVAULT_HOME", str(tmp_path / "new"))
        rc, out, err = cli("login", "--server", cli.server.url, "--pair", code)
        assert rc == 0, err
        rest, err_a = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err_a
    confirmation = out.split("Confirmation: ", 1)[1][:11]
    assert f"Confirmation: {confirmation}" in rest
    assert "is paired" in rest
