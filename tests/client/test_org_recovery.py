"""The organisation recovery key (issue 17, part 2) on a real server process of its own (an
organisation key changes what every signup on that server must consent to)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from blindvault.__main__ import main as entry
from helpers.client import fast_kdf
from helpers.servers import start_server, stop
from helpers.social import Person, World


@pytest.fixture(scope="module")
def org_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("org-srv") / "data"
    proc, url = start_server(data)
    try:
        yield url, data
    finally:
        stop(proc)


@pytest.fixture
def world(
    org_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:  # fmt: skip
    fast_kdf(monkeypatch)  # about recovery, not the KDF: the floor's parameters
    return World(org_server[0], tmp_path, monkeypatch, capsys)


def admin(world: World, data: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        import io
        import sys

        world.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    world.capsys.readouterr()
    code = entry(["admin", "--data", str(data), *args])
    out, err = world.capsys.readouterr()
    return code, out, err


def signup(p: Person, *extra: str) -> tuple[int, str, str]:
    return p("signup", "--accept-weak-password", "--server", p.world.url, "--email", p.email, "--recovery-file",
             str(p.home / f"words-{secrets.token_hex(2)}"), *extra,
             BLINDVAULT_NEW_PASSWORD=p.password)  # fmt: skip


def test_org_key_consent_recovery_and_pin(
    world: World, org_server: tuple[str, Path], tmp_path: Path
) -> None:
    data = org_server[1]
    early = world.person("early")  # signed up before the server had an organisation key
    key_file = tmp_path / "org.key"
    code, out, err = admin(world, data, "recovery-key", "create", "--key-file", str(key_file))
    assert code == 0, err
    assert key_file.read_text().strip() in out  # the private half, shown once

    # added after signup: refused, and the user is warned
    code, _, err = early("whoami")
    assert code == 8 and "added after" in err
    code, out, err = early("login", "--server", world.url, "--email", early.email)
    assert code == 8 and "Logged in" in out and "added after" in err

    # told plainly before signup; without consent nothing is created
    user = world.person("user", signup=False)
    code, _, err = signup(user)
    assert code == 8 and "ORGANISATION RECOVERY KEY" in err
    code, out, err = signup(user, "--accept-org-recovery")
    assert code == 0, err  # (a 409 would mean the first attempt created the account)
    shown = user.json("whoami")["org_recovery"]
    assert shown is not None
    doc = tmp_path / "doc.txt"
    doc.write_text("contract")
    assert user("put", str(doc), "/doc.txt")[0] == 0

    # the password is lost: the operator recovers with the private key
    assert admin(world, data, "recover", early.email, "--key-file", str(key_file))[0] == 4
    code, out, err = admin(world, data, "recover", user.email, "--key-file", str(key_file))
    assert code == 0, err
    words = out.strip().splitlines()[-1].strip()
    assert len(words.split()) == 24
    new = world.device(user)
    new.password = "brand-new"
    code, _, err = new("recover", "--accept-weak-password", "--server", world.url, "--email", user.email, stdin=words + "\n",
                       BLINDVAULT_NEW_PASSWORD="brand-new")  # fmt: skip
    assert code == 0, err
    got = tmp_path / "got"
    got.mkdir()
    assert new("get", "/doc.txt", str(got))[0] == 0
    assert (got / "doc.txt").read_text() == "contract"
    # the recovered device pins the key from the account's signed consent
    assert new.json("whoami")["org_recovery"]["key_id"] == shown["key_id"]
    events = [e["event"] for e in new.json("audit")["entries"]]
    assert "org_escrow_created" in events and "org_recovery_used" in events

    # a wrong private key is refused
    other = tmp_path / "other.key"
    other.write_text(" ".join(["abandon"] * 23 + ["art"]) + "\n")
    assert admin(world, data, "recover", user.email, "--key-file", str(other))[0] == 2

    # the server swaps the organisation key: refused (8), warned, nothing sealed to it
    assert admin(world, data, "recovery-key", "create")[0] == 0
    code, _, err = new("whoami")
    assert code == 8 and "changed" in err
    # another device of the user logs in: it pins the key from the signed consent, then
    # refuses the swapped one too
    other = world.device(user)
    other.password = "brand-new"
    code, _, err = other("login", "--server", world.url, "--email", user.email)
    assert code == 8 and "changed" in err
