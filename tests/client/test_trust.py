"""Peer pins (P-PEERKEY): a key is trusted only after an out-of-band check, and a pinned
key that changes on the server blocks until re-verified — whatever the server says."""

from __future__ import annotations

import json
import secrets
from contextlib import closing

from helpers.client import Cli, after, record_requests


def test_trust_with_fingerprint_then_detect_a_swapped_key(cli: Cli) -> None:
    peer_email = f"peer{secrets.token_hex(4)}@example.org"
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "peer-pw")
    peer_home = cli.home.parent / "peer-home"
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(peer_home))
    assert (
        cli(
            "signup",
            "--accept-weak-password",
            "--server",
            cli.server.url,
            "--email",
            peer_email,
            "--recovery-file",
            str(peer_home.parent / "peer-words"),
            password="peer-pw",
        )[0]
        == 0
    )
    code, out, _ = cli("fingerprint", "--json", password="peer-pw")
    theirs = json.loads(out)
    cli.monkeypatch.setenv("BLINDVAULT_HOME", str(cli.home))

    # not pinned yet: shown as such; a wrong fingerprint is refused; non-interactive needs a choice
    code, out, _ = cli("fingerprint", peer_email, "--json")
    assert (code, json.loads(out)["pinned"]) == (0, False)
    assert cli("trust", peer_email, "--fingerprint", "00" * 32)[0] == 8
    assert cli("trust", peer_email)[0] == 2
    code, out, _ = cli("trust", peer_email, "--fingerprint", theirs["safety_number"], "--json")
    assert code == 0
    assert json.loads(out)["fingerprint"] == theirs["fingerprint"]

    # the server serves another valid, self-signed bundle for the same email: blocked (8)
    from blindvault.core.identity import Identity

    impostor = Identity.generate(peer_email, 1).bundle.encode()
    with closing(cli.server.db()) as db:
        db.execute(
            "update accounts set identity_bundle = ? where email = ?", (impostor, peer_email)
        )
        db.commit()
    state = cli.home / "accounts"
    before = {p.name: p.read_bytes() for p in state.glob("*.json")}
    sent = record_requests(cli)
    code, _, err = cli("fingerprint", peer_email)
    assert code == 8
    assert "changed" in err
    assert after(sent, ("GET", f"/v1/identities/{peer_email}")) == []  # nothing after the lie
    assert {p.name: p.read_bytes() for p in state.glob("*.json")} == before  # the pin stays
    assert (
        cli("trust", peer_email, "--trust-on-first-use")[0] == 8
    )  # a pin is not silently replaced

    # another user's bundle served as the peer's: it names another email (10)
    with closing(cli.server.db()) as db:
        mine = db.execute(
            "select identity_bundle from accounts where email = ?", (cli.email,)
        ).fetchone()[0]
        db.execute("update accounts set identity_bundle = ? where email = ?", (mine, peer_email))
        db.commit()
    assert cli("fingerprint", peer_email)[0] == 10
