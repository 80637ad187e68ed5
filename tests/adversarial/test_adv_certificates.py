"""Identity certificates under a malicious server (issue 17, part 3): the lying proxy in
front of a real server whose CA key is in a real SoftHSM2 token.

A certificate is never a replacement for a pin: the server (which holds the CA) certifying
a key the user never saw does not move a pin; a swapped CA or a loosened policy is refused
like a changed peer key; a certificate for another key is not "certified"."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from blindvault.cli import main
from blindvault.client.local.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.identity import Identity
from blindvault.core.kdf import KdfParams
from helpers.proxy import Exchange, Proxy
from helpers.servers import start_server, stop
from helpers.softhsm import Token, certify, make_token

PASSWORD = "adv-cert-pw"
FAST_KDF = KdfParams.argon2id(19456, 2, 1)


@dataclass
class World:
    proxy: Proxy
    token: Token
    alice: str
    bob: str
    bob_fingerprint: str
    home: Path  # alice's, with bob pinned and the CA pinned
    data: Path  # the server's, with ca.json


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("adv-cert")
    token = make_token(tmp / "hsm")
    made = token.create_ca(tmp / "data")
    assert made.returncode == 0, made.stderr
    proc, url = start_server(tmp / "data", env=token.env)
    proxy = Proxy(url)
    try:
        bob, _ = Vault.signup(
            proxy.url, f"bob{secrets.token_hex(3)}@example.org", PASSWORD,
            store=StateStore(tmp / "bob"), params=FAST_KDF,
        )  # fmt: skip
        alice, _ = Vault.signup(
            proxy.url, f"alice{secrets.token_hex(3)}@example.org", PASSWORD,
            store=StateStore(tmp / "alice"), params=FAST_KDF,
        )  # fmt: skip
        alice.trust(bob.state.email, bob.fingerprint.hex())
        alice.mkdir("/team")
        assert alice.peer_view(bob.state.email).certified
        alice.save()
        yield World(
            proxy, token, alice.state.email, bob.state.email, bob.fingerprint.hex(),
            tmp / "alice", tmp / "data",
        )  # fmt: skip
        alice.close()
        bob.close()
    finally:
        proxy.close()
        stop(proc)


def _run(world: World, tmp: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str],
         *args: str) -> tuple[int, str, str, dict[str, bytes], dict[str, bytes]]:  # fmt: skip
    import shutil

    home = tmp / "home"
    shutil.copytree(world.home, home)
    mp.setenv("BLINDVAULT_HOME", str(home))
    mp.setenv("BLINDVAULT_PASSWORD", PASSWORD)
    before = {str(p): p.read_bytes() for p in sorted(home.rglob("*.json"))}
    cap.readouterr()
    world.proxy.log.clear()
    rc = main(list(args))
    out, err = cap.readouterr()
    after = {str(p): p.read_bytes() for p in sorted(home.rglob("*.json"))}
    return rc, out, err, before, after


@pytest.fixture
def proxy(world: World) -> Iterator[Proxy]:
    world.proxy.reset()
    yield world.proxy
    world.proxy.reset()


def _identity_rule(email: str, bundle: bytes, cert: bytes | None) -> object:
    def rule(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == f"/v1/identities/{email}" and ex.status == 200:
            body = ex.json()
            body["identity_bundle"] = base64.b64encode(bundle).decode()
            body["certificate"] = None if cert is None else base64.b64encode(cert).decode()
            ex.set_json(body)
            ex.mutated = True

    return rule


def test_a_certificate_for_a_key_the_user_never_saw_moves_no_pin(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The server swaps Bob's key and its own CA (in the HSM) certifies the swap."""
    impostor = Identity.generate(world.bob, 1).bundle.encode()
    _, cert = certify(world.token, world.data, world.bob, impostor)
    proxy.add(_identity_rule(world.bob, impostor, cert))  # type: ignore[arg-type]
    for args in (["fingerprint", world.bob], ["share", "/team", "--with", world.bob]):
        rc, _, err, before, after = _run(world, tmp_path / args[0], monkeypatch, capsys, *args)
        assert rc == 8, err
        assert "changed since you verified it" in err
        if args[0] == "fingerprint":
            assert "certifies the new key" in err
        assert after == before  # the pin did not move
        assert not [r for r in proxy.writes_after_lie() if "/shares" in r[1] or "/grants" in r[1]]


def test_a_swapped_ca_or_a_loosened_policy_is_refused(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A valid, self-signed descriptor of another CA key whose policy accepts certified
    changes, and Bob's swapped key certified by it: refused (8), nothing re-pinned."""
    impostor = Identity.generate(world.bob, 1).bundle.encode()
    rogue = f"rogue-{secrets.token_hex(3)}"
    descriptor, cert = certify(world.token, world.data, world.bob, impostor, new_key=rogue)

    def swap_ca(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == "/v1/ca" and ex.status == 200:
            ex.set_json({"descriptor": base64.b64encode(descriptor).decode()})
            ex.mutated = True

    proxy.add(swap_ca)
    proxy.add(_identity_rule(world.bob, impostor, cert))  # type: ignore[arg-type]
    rc, _, err, before, after = _run(world, tmp_path, monkeypatch, capsys, "fingerprint", world.bob)
    assert rc == 8, err
    assert "certificate authority" in err
    assert after == before


def test_a_certificate_of_another_key_is_not_certified(
    world: World, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Alice's real certificate served with Bob's (pinned, unchanged) key: shown without
    "certified"; the pin still decides."""
    alice_bundle = Identity.generate(world.alice, 1).bundle.encode()
    _, wrong = certify(world.token, world.data, world.alice, alice_bundle)

    def rule(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == f"/v1/identities/{world.bob}" and ex.status == 200:
            body = ex.json()
            body["certificate"] = base64.b64encode(wrong).decode()
            ex.set_json(body)
            ex.mutated = True

    proxy.add(rule)
    rc, out, err, before, after = _run(
        world, tmp_path, monkeypatch, capsys, "fingerprint", world.bob, "--json"
    )
    assert rc == 0, err
    shown = json.loads(out)
    assert (shown["certified"], shown["pinned"]) == (False, True)
    assert shown["fingerprint"] == world.bob_fingerprint
    assert after == before
