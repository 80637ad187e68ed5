"""Pairing under a malicious server (issue 17): the lying proxy in front of a real server.

The relay may swap the SPAKE2 messages, change or replay the sealed payload, or serve the
new device a key the user never saw. Each is refused with a typed error; the new device
saves nothing, and the device row made for it is revoked (or never made)."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from blindvault.cli import main
from blindvault.core.identity import Identity
from blindvault.core.pake import Handshake, PairingCode
from blindvault.errors import CredentialError
from helpers.adversarial import Account, Upstream, make_account
from helpers.pairing import SignedIn
from helpers.proxy import Exchange, Proxy

OFFER = re.compile(r"^/v1/pairings/[0-9]+$")
RECEIVE = re.compile(r"^/v1/pairings/[0-9]+/receive$")


@pytest.fixture
def owner(proxy: Proxy, tmp_path: Path) -> Account:
    email = f"pairing-{secrets.token_hex(5)}@example.org"
    return make_account(proxy, tmp_path / "owner", email, {"/a.txt": b"secret"}, [])


def _devices(upstream: Upstream, email: str) -> list[tuple[str, int]]:
    import sqlite3

    with sqlite3.connect(upstream.data / "blindvault.sqlite3") as db:
        return db.execute(
            "select d.name, d.revoked from devices d join accounts a on a.id = d.account_id"
            " where a.email = ? order by d.created_at",
            (email,),
        ).fetchall()


def _new_device(
    proxy: Proxy, code: str, home: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    mp.setenv("BLINDVAULT_HOME", str(home))
    cap.readouterr()
    rc = main(["login", "--server", proxy.url, "--pair", code, "--device-name", "new-one"])
    _, err = cap.readouterr()
    return rc, err


def _files(home: Path) -> list[Path]:
    return sorted(p for p in home.rglob("*") if p.is_file()) if home.exists() else []


def _run(
    proxy: Proxy,
    owner: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lie: Callable[[Exchange], None] | None = None,
) -> tuple[SignedIn, int, str]:
    a = owner.vault(proxy.url)
    if lie is not None:  # the signed-in device is open: from now on the relay lies
        proxy.add(lie)
    side = SignedIn(a).start()
    code = side.code()
    rc, err = _new_device(proxy, code, tmp_path / "new", monkeypatch, capsys)
    side.join()
    a.close()
    return side, rc, err


def _swap_offer(ex: Exchange) -> None:
    """The relay answers the new device with its own SPAKE2 message (it guesses words)."""
    if ex.method == "GET" and OFFER.match(ex.path) and ex.status == 200:
        forged = Handshake(("abandon", "ability", "able"), signed_in=True).message
        ex.set_json({"message": base64.b64encode(forged).decode()})
        ex.mutated = True


def _flip_payload(ex: Exchange) -> None:
    if RECEIVE.match(ex.path) and ex.status == 200 and ex.json().get("sealed"):
        body = ex.json()
        raw = bytearray(base64.b64decode(body["sealed"]))
        raw[-5] ^= 1
        body["sealed"] = base64.b64encode(bytes(raw)).decode()
        ex.set_json(body)
        ex.mutated = True


def _swap_identity(email: str) -> Callable[[Exchange], None]:
    """Serve the new device a valid, self-signed identity the user never saw."""
    impostor = base64.b64encode(Identity.generate(email, 1).bundle.encode()).decode()

    def rule(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == "/v1/account" and ex.status == 200:
            body = ex.json()
            body["identity_bundle"] = impostor
            ex.set_json(body)
            ex.mutated = True

    return rule


def test_relay_swaps_the_spake2_message(
    proxy: Proxy,
    owner: Account,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _devices(upstream, owner.email)
    side, rc, err = _run(proxy, owner, tmp_path, monkeypatch, capsys, _swap_offer)
    assert rc == 3, err
    assert "refused the code" in err
    assert isinstance(side.error, CredentialError)  # the signed-in device ended it
    assert _devices(upstream, owner.email) == before  # no device made
    assert _files(tmp_path / "new") == []
    # after the lie, nothing but the join and the wait: no payload was ever sealed
    assert not [r for r in proxy.after_lie() if r[1].endswith(("/accept", "/payload"))]


@pytest.mark.parametrize(
    ("lie", "code"), [("payload", 10), ("identity", 8)], ids=["flipped-payload", "swapped-key"]
)
def test_tampered_delivery_is_refused_and_the_new_row_revoked(
    lie: str,
    code: int,
    proxy: Proxy,
    owner: Account,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rule = _flip_payload if lie == "payload" else _swap_identity(owner.email)
    side, rc, err = _run(proxy, owner, tmp_path, monkeypatch, capsys, rule)
    assert side.error is None  # the signed-in device did its part
    assert rc == code, err
    assert "Traceback" not in err
    assert _files(tmp_path / "new") == []  # no pin, no token saved
    assert ("new-one", 1) in _devices(upstream, owner.email)  # made, then revoked
    assert ("new-one", 0) not in _devices(upstream, owner.email)


def test_relay_replays_an_old_pairing_to_a_new_device(
    proxy: Proxy,
    owner: Account,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A finished pairing recorded by the relay, replayed (offer, join, payload) to whoever
    types the old code again: the SPAKE2 key is fresh on each side, so it does not open."""
    seen: dict[str, bytes] = {}

    def record(ex: Exchange) -> None:
        wanted = OFFER.match(ex.path) or RECEIVE.match(ex.path)
        if ex.status == 200 and wanted and (ex.method == "GET" or ex.json().get("sealed")):
            seen["offer" if ex.method == "GET" else "payload"] = ex.body

    side, rc, err = _run(proxy, owner, tmp_path, monkeypatch, capsys, record)
    assert rc == 0, err
    assert set(seen) == {"offer", "payload"}
    proxy.reset()

    def replay(ex: Exchange) -> None:
        if ex.method == "GET" and OFFER.match(ex.path):
            ex.status, ex.body, ex.mutated = 200, seen["offer"], True
        elif ex.path.endswith("/join"):
            ex.status, ex.mutated = 200, True
            ex.set_json({"claim": "x" * 32})
        elif RECEIVE.match(ex.path):
            ex.status, ex.body, ex.mutated = 200, seen["payload"], True

    proxy.add(replay)
    rc, err = _new_device(proxy, side.code_shown, tmp_path / "again", monkeypatch, capsys)
    assert rc == 10, err
    assert _files(tmp_path / "again") == []


def test_guessing_the_words_costs_the_code(
    proxy: Proxy,
    owner: Account,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone (or the server) who knows the digits tries words: one try, then the mailbox
    is closed for everyone, and the real code is refused as used."""
    a = owner.vault(proxy.url)
    side = SignedIn(a).start()
    code = side.code()
    channel = PairingCode.parse(code).channel
    guess = f"{channel}-abandon-ability-able"
    rc, err = _new_device(proxy, guess, tmp_path / "guess", monkeypatch, capsys)
    assert rc == 3, err
    side.join()
    a.close()
    rc, err = _new_device(proxy, code, tmp_path / "real", monkeypatch, capsys)
    assert rc == 4, err
    assert "already used" in err
    assert _files(tmp_path / "guess") == _files(tmp_path / "real") == []
    assert ("new-one", 0) not in _devices(upstream, owner.email)
