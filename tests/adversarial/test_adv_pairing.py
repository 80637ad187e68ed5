"""Pairing under a malicious server (issue 17): the lying proxy in front of a real server.

The relay may swap the SPAKE2 messages, change or replay the sealed payload, or serve the
new device a key the user never saw. Each is refused with a typed error; the new device
saves nothing, and the device row made for it is revoked (or never made)."""

from __future__ import annotations

import base64
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class Pairing:
    """An owner signed in through the lying proxy, and new devices paired from `tmp`."""

    proxy: Proxy
    owner: Account
    upstream: Upstream
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def devices(self) -> list[tuple[str, int]]:
        """The owner's device rows on the server: (name, revoked), oldest first."""
        with sqlite3.connect(self.upstream.data / "blindvault.sqlite3") as db:
            return db.execute(
                "select d.name, d.revoked from devices d join accounts a on a.id = d.account_id"
                " where a.email = ? order by d.created_at",
                (self.owner.email,),
            ).fetchall()

    def new_device(self, code: str, home: str) -> tuple[int, str]:
        """`blindvault login --pair CODE` on a new device whose home is `tmp/HOME`."""
        self.monkeypatch.setenv("BLINDVAULT_HOME", str(self.tmp / home))
        self.capsys.readouterr()
        args = ["login", "--server", self.proxy.url, "--pair", code, "--device-name", "new-one"]
        rc = main(args)
        _, err = self.capsys.readouterr()
        return rc, err

    def files(self, home: str) -> list[Path]:
        """Everything the device with home `tmp/HOME` saved (a refused pairing saves none)."""
        path = self.tmp / home
        return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []

    def run(self, lie: Callable[[Exchange], None] | None = None) -> tuple[SignedIn, int, str]:
        """The owner shows a code (lies start once it is signed in), a new device types it."""
        a = self.owner.vault(self.proxy.url)
        if lie is not None:
            self.proxy.add(lie)
        side = SignedIn(a).start()
        code = side.code()
        rc, err = self.new_device(code, "new")
        side.join()
        a.close()
        return side, rc, err


@pytest.fixture
def pairing(
    proxy: Proxy,
    upstream: Upstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Pairing:
    email = f"pairing-{secrets.token_hex(5)}@example.org"
    owner = make_account(proxy, tmp_path / "owner", email, {"/a.txt": b"secret"}, [])
    return Pairing(proxy, owner, upstream, tmp_path, monkeypatch, capsys)


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


def test_relay_swaps_the_spake2_message(pairing: Pairing) -> None:
    before = pairing.devices()
    side, rc, err = pairing.run(_swap_offer)
    assert rc == 3, err
    assert "refused the code" in err
    assert isinstance(side.error, CredentialError)  # the signed-in device ended it
    assert pairing.devices() == before  # no device made
    assert pairing.files("new") == []
    # after the lie, nothing but the join and the wait: no payload was ever sealed
    sent = pairing.proxy.after_lie()
    assert not [r for r in sent if r[1].endswith(("/accept", "/payload"))]


@pytest.mark.parametrize(
    ("lie", "code"), [("payload", 10), ("identity", 8)], ids=["flipped-payload", "swapped-key"]
)
def test_tampered_delivery_is_refused_and_the_new_row_revoked(
    lie: str, code: int, pairing: Pairing
) -> None:
    rule = _flip_payload if lie == "payload" else _swap_identity(pairing.owner.email)
    side, rc, err = pairing.run(rule)
    assert side.error is None  # the signed-in device did its part
    assert rc == code, err
    assert "Traceback" not in err
    assert pairing.files("new") == []  # no pin, no token saved
    assert ("new-one", 1) in pairing.devices()  # made, then revoked
    assert ("new-one", 0) not in pairing.devices()


def test_relay_replays_an_old_pairing_to_a_new_device(pairing: Pairing) -> None:
    """A finished pairing recorded by the relay, replayed (offer, join, payload) to whoever
    types the old code again: the SPAKE2 key is fresh on each side, so it does not open."""
    seen: dict[str, bytes] = {}

    def record(ex: Exchange) -> None:
        wanted = OFFER.match(ex.path) or RECEIVE.match(ex.path)
        if ex.status == 200 and wanted and (ex.method == "GET" or ex.json().get("sealed")):
            seen["offer" if ex.method == "GET" else "payload"] = ex.body

    side, rc, err = pairing.run(record)
    assert rc == 0, err
    assert set(seen) == {"offer", "payload"}
    pairing.proxy.reset()

    def replay(ex: Exchange) -> None:
        if ex.method == "GET" and OFFER.match(ex.path):
            ex.status, ex.body, ex.mutated = 200, seen["offer"], True
        elif ex.path.endswith("/join"):
            ex.status, ex.mutated = 200, True
            ex.set_json({"claim": "x" * 32})
        elif RECEIVE.match(ex.path):
            ex.status, ex.body, ex.mutated = 200, seen["payload"], True

    pairing.proxy.add(replay)
    rc, err = pairing.new_device(side.code_shown, "again")
    assert rc == 10, err
    assert pairing.files("again") == []


def test_guessing_the_words_costs_the_code(pairing: Pairing) -> None:
    """Someone (or the server) who knows the digits tries words: one try, then the mailbox
    is closed for everyone, and the real code is refused as used."""
    a = pairing.owner.vault(pairing.proxy.url)
    side = SignedIn(a).start()
    code = side.code()
    channel = PairingCode.parse(code).channel
    rc, err = pairing.new_device(f"{channel}-abandon-ability-able", "guess")
    assert rc == 3, err
    side.join()
    a.close()
    rc, err = pairing.new_device(code, "real")
    assert rc == 4, err
    assert "already used" in err
    assert pairing.files("guess") == pairing.files("real") == []
    assert ("new-one", 0) not in pairing.devices()
