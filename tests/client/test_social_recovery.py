"""Social (k-of-n) recovery end to end on a real server process (issue 17, part 1): set up
2-of-3, lose the password, recover with two contacts' approvals after the wait."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from blindvault.client.local.state import StateStore
from helpers.client import Server, fast_kdf
from helpers.social import Person, World, social_setup


@pytest.fixture
def world(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:  # fmt: skip
    fast_kdf(monkeypatch)  # about recovery, not the KDF: the floor's parameters
    return World(server.url, tmp_path, monkeypatch, capsys)


STRONG = "quartz-lantern-meadow-velvet-orbit"  # passes the strength check (zxcvbn >= 3)


def start(new: Person, world: World) -> tuple[str, str]:
    answer = new.json("recovery", "start", "--server", world.url, "--email", new.email)
    return str(answer["request_id"]), str(answer["code"])


def test_two_of_three_after_the_wait(world: World, tmp_path: Path) -> None:
    owner, (a, b, c) = social_setup(world, 2, 3)
    doc = tmp_path / "doc.txt"
    doc.write_text("passport scan")
    assert owner("put", str(doc), "/doc.txt")[0] == 0
    status = owner.json("recovery", "status")
    assert status["setup"]["threshold"] == 2
    assert sorted(status["setup"]["contacts"]) == sorted(p.email for p in (a, b, c))

    new = world.device(owner)
    rid, code = start(new, world)
    listed = a.json("recovery", "requests")
    assert [r["request_id"] for r in listed] == [rid]
    assert "code" in listed[0] and listed[0]["vetoed"] is False
    # every device of the account is told
    assert [r["request_id"] for r in owner.json("recovery", "status")["requests"]] == [rid]
    assert owner.json("whoami")["recovery_requests"] == [rid]

    assert a.json("recovery", "approve", rid, "--code", code)["released"] is True
    # one approval is not enough: refused, nothing changed
    code_, _, err = new("recovery", "finish", BLINDVAULT_NEW_PASSWORD=STRONG)
    assert code_ == 8, err
    assert "1 of 2" in err
    assert owner("ls", "/")[0] == 0  # the old password still works

    assert b.json("recovery", "approve", rid, "--code", code)["released"] is True
    # a weak new password is refused like at signup, before anything is combined or sent
    code_, _, err = new("recovery", "finish", BLINDVAULT_NEW_PASSWORD="new-pw")
    assert code_ == 8, err
    assert "too weak" in err
    code_, out, err = new("recovery", "finish", BLINDVAULT_NEW_PASSWORD=STRONG)
    assert code_ == 0, err
    assert "safety number" in out
    assert not list((new.home / "recovery").glob("*.json"))  # the request key is gone

    # the new password opens the vault with its files; the old one does not
    got = tmp_path / "got"
    got.mkdir()
    new.password = STRONG
    assert new("get", "/doc.txt", str(got))[0] == 0
    assert (got / "doc.txt").read_text() == "passport scan"
    assert owner("ls", "/")[0] == 3
    # c never had to act; the request is finished and no longer listed to contacts
    assert c.json("recovery", "requests") == []
    entries = audit(new)
    events = [e["event"] for e in entries]
    # the new password was set with the recovered key as proof, and the log says so
    assert [e["detail"] for e in entries if e["event"] == "password_changed"] == [
        {"proof": "recovery_key"}
    ]
    for event in ("social_recovery_setup", "social_recovery_requested",
                  "social_recovery_approved", "social_recovery_finished",
                  "password_changed"):  # fmt: skip
        assert event in events


def audit(p: Person) -> list[dict[str, object]]:
    from blindvault.client.vault import Vault

    vault = Vault.open(p.world.url, p.email, p.password, store=_store(p))
    try:
        return list(vault.api.get_json("/v1/audit")["entries"])
    finally:
        vault.close()


def _store(p: Person) -> StateStore:
    return StateStore(p.home)


def test_wait_is_counted_by_the_contacts_clock(world: World) -> None:
    owner, (a,) = social_setup(world, 1, 1, wait="2s")
    new = world.device(owner)
    rid, code = start(new, world)
    first = a.json("recovery", "approve", rid, "--code", code)
    assert first["released"] is False  # the code is confirmed, the share held back
    assert new.json("recovery", "status")["shares"] == 0
    assert a.json("recovery", "approve", rid)["released"] is False  # still within the wait
    time.sleep(2.1)
    assert a.json("recovery", "approve", rid)["released"] is True  # no code needed again
    assert new.json("recovery", "status")["shares"] == 1
    assert new("recovery", "finish", BLINDVAULT_NEW_PASSWORD=STRONG)[0] == 0


def test_veto_by_an_owner_device_stops_the_contacts(world: World) -> None:
    owner, (a, _b) = social_setup(world, 2, 2)
    new = world.device(owner)
    rid, code = start(new, world)
    assert owner("recovery", "veto", rid)[0] == 0
    listed = a.json("recovery", "requests")
    assert listed[0]["vetoed"] is True
    code_, _, err = a("recovery", "approve", rid, "--code", code)
    assert code_ == 8 and "vetoed" in err
    assert new.json("recovery", "status")["shares"] == 0


def test_wrong_code_and_unpinned_owner_are_refused(world: World) -> None:
    owner, (a,) = social_setup(world, 1, 1)
    new = world.device(owner)
    rid, code = start(new, world)
    wrong = "00000-00000-00000-00000" if code != "00000-00000-00000-00000" else "1" * 20
    code_, _, err = a("recovery", "approve", rid, "--code", wrong)
    assert code_ == 8 and "does not match" in err
    assert a("recovery", "approve", rid)[0] == 2  # no code confirmed yet: usage
    assert new.json("recovery", "status")["shares"] == 0
    # a contact who never pinned the owner cannot approve
    stranger = world.person("s")
    owner.trust(stranger)
    assert owner("recovery", "setup", "--threshold", "1", "--to", stranger.email,
                 "--wait", "0s", "--recovery-file", str(owner.home / "w2"))[0] == 0  # fmt: skip
    rid2, code2 = start(world.device(owner), world)
    code_, _, err = stranger("recovery", "approve", rid2, "--code", code2)
    assert code_ == 8 and "trust" in err


def test_setup_needs_pinned_contacts_and_resetup_replaces_shares(world: World) -> None:
    owner = world.person("o")
    a, b = world.person("a"), world.person("b")
    code_, _, err = owner("recovery", "setup", "--threshold", "1", "--to", a.email)
    assert code_ == 8 and "trust" in err
    owner.trust(a)
    owner.trust(b)
    a.trust(owner)
    b.trust(owner)
    for who in (a, b):
        assert owner("recovery", "setup", "--threshold", "1", "--to", who.email, "--wait",
                     "0s", "--recovery-file", str(owner.home / f"w-{who.email}"))[0] == 0  # fmt: skip
    new = world.device(owner)
    rid, code = start(new, world)
    assert a.json("recovery", "requests") == []  # a's share is gone
    assert b.json("recovery", "approve", rid, "--code", code)["released"] is True
    assert new("recovery", "finish", BLINDVAULT_NEW_PASSWORD=STRONG)[0] == 0


def test_cancel_and_printed_shares(world: World, tmp_path: Path) -> None:
    owner = world.person("o")
    a = world.person("a")
    owner.trust(a)
    a.trust(owner)
    data = owner.json("recovery", "setup", "--threshold", "2", "--to", a.email, "--print", "1",
                      "--wait", "0s", "--recovery-file", str(owner.home / "w"))  # fmt: skip
    assert len(data["printed_shares"]) == 1
    new = world.device(owner)
    rid, code = start(new, world)
    assert new.json("recovery", "cancel")["cancelled"] == rid
    assert a.json("recovery", "requests") == []
    rid, code = start(new, world)
    assert a.json("recovery", "approve", rid, "--code", code)["released"] is True
    shares = tmp_path / "printed.txt"
    shares.write_text(data["printed_shares"][0] + "\n")
    assert new("recovery", "finish", BLINDVAULT_NEW_PASSWORD=STRONG)[0] == 8  # 1 of 2
    code_, _, err = new("recovery", "finish", "--shares-file", str(shares),
                        BLINDVAULT_NEW_PASSWORD=STRONG)  # fmt: skip
    assert code_ == 0, err


def test_bad_input_is_refused_with_its_exit_code_and_changes_nothing(world: World) -> None:
    owner = world.person("o")
    a = world.person("a")
    owner.trust(a)
    words = (owner.home / "words.txt").read_text()
    assert owner("recovery", "setup", "--to", a.email)[0] == 2  # no --threshold
    assert owner("recovery", "setup", "--threshold", "1", "--to", a.email, "--wait", "5x")[0] == 2
    code, _, err = owner("recovery", "setup", "--threshold", "3", "--to", a.email)
    assert code == 2 and "threshold" in err
    assert owner("recovery", "setup", "--threshold", "1", "--to", owner.email)[0] in (2, 8)
    assert owner.json("recovery", "status")["setup"] is None  # nothing was set up
    assert (owner.home / "words.txt").read_text() == words
    # a new device asks for an account without setup; finish or cancel without a request
    stranger = world.device(a)
    assert stranger("recovery", "start", "--server", world.url, "--email", a.email)[0] == 4
    assert stranger("recovery", "start")[0] == 2
    assert stranger("recovery", "finish", BLINDVAULT_NEW_PASSWORD=STRONG)[0] == 2
    assert stranger("recovery", "cancel")[0] == 2
    # unknown or malformed request ids
    assert a("recovery", "approve", "ab" * 16, "--code", "1")[0] == 4
    assert a("recovery", "approve", "not-an-id", "--code", "1")[0] in (2, 4)
    assert owner("recovery", "veto", "ab" * 16)[0] == 4
    assert owner("recovery", "veto", "XYZ")[0] == 2
    # the old words still open the account: no key changed
    new = world.device(owner)
    code, _, err = new("recover", "--accept-weak-password", "--server", world.url, "--email", owner.email, stdin=words,
                       BLINDVAULT_NEW_PASSWORD=owner.password)  # fmt: skip
    assert code == 0, err


def test_printed_shares_only(world: World, tmp_path: Path) -> None:
    owner = world.person("o")
    data = owner.json("recovery", "setup", "--threshold", "2", "--print", "3", "--wait", "0s",
                      "--recovery-file", str(owner.home / "w"))  # fmt: skip
    assert owner.json("recovery", "status")["setup"]["printed"] == 3
    new = world.device(owner)
    start(new, world)
    shares = tmp_path / "printed.txt"
    shares.write_text("\n".join(data["printed_shares"][1:]) + "\n")
    code, _, err = new("recovery", "finish", "--shares-file", str(shares),
                       BLINDVAULT_NEW_PASSWORD=STRONG)  # fmt: skip
    assert code == 0, err
