"""Invitations (issue 19), end to end through the CLI against a real server: sharing with
an address that has no account records a pending invitation and seals nothing; after the
person signs up, `share --complete` shares only once their key matches the number they
give out of band; an account the server (or anyone) made for the address with another key
gets nothing."""

from __future__ import annotations

import io
import json
import os
import secrets
import sys
from pathlib import Path

from helpers.client import Cli


class Person:
    def __init__(self, cli: Cli, email: str, home: Path, password: str) -> None:
        self.cli, self.email, self.home, self.password = cli, email, home, password

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.cli.monkeypatch.setenv("BLINDVAULT_HOME", str(self.home))
        return self.cli(*args, password=self.password)

    def json(self, *args: str) -> object:
        code, out, err = self(*args, "--json")
        assert code == 0, (args, err)
        return json.loads(out)


def _signup(cli: Cli, email: str, name: str) -> Person:
    home = cli.home.parent / f"{name}-{secrets.token_hex(3)}"
    home.mkdir()
    p = Person(cli, email, home, f"{name}-pw")
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", p.password)
    code, _, err = p("signup", "--accept-weak-password", "--server", cli.server.url,
                     "--email", email, "--recovery-file", str(home / "words"))  # fmt: skip
    assert code == 0, err
    return p


def _grants(cli: Cli) -> int:
    with cli.server.db() as db:
        return int(db.execute("select count(*) from grants").fetchone()[0])


def _alice_with_docs(cli: Cli, tmp: Path) -> tuple[Person, bytes]:
    alice = Person(cli, cli.email, cli.home, "pw-1")
    data = os.urandom(5000)
    (tmp / "plan.txt").write_bytes(data)
    assert alice("mkdir", "/docs")[0] == 0
    assert alice("put", str(tmp / "plan.txt"), "/docs")[0] == 0
    return alice, data


def test_invitation_completed_after_signup_and_the_check(cli: Cli, tmp_path: Path) -> None:
    alice, data = _alice_with_docs(cli, tmp_path)
    bob_email = f"bob{secrets.token_hex(4)}@example.org"
    before = _grants(cli)
    made = alice.json("share", "/docs", "--with", bob_email)
    assert made == {**made, "invitation": True, "email": bob_email, "remote": "/docs"}
    assert _grants(cli) == before  # nothing sealed, nothing granted
    listed = alice.json("invitations")
    assert [(i["email"], i["remote"], i["signed_up"]) for i in listed] == [
        (bob_email, "/docs", False)
    ]  # type: ignore[index]
    code, _, err = alice("share", "--complete", bob_email, "--fingerprint", "0" * 64)
    assert code == 2 and "no account yet" in err, err

    bob = _signup(cli, bob_email, "bob")
    number = bob.json("fingerprint")["safety_number"]  # type: ignore[index]
    alice_number = alice.json("fingerprint")["safety_number"]  # type: ignore[index]
    code, _, err = alice("ls", "/")  # the sharer's next command says so
    assert code == 0 and f"{bob_email} has signed up" in err
    assert [i["signed_up"] for i in alice.json("invitations")] == [True]  # type: ignore[index]
    code, out, _ = alice("invitations")  # and so does the list, with what to run
    assert (
        code == 0
        and f"signed up: compare safety numbers, then `blindvault share --complete {bob_email}"
        in out
    )
    done = alice.json("share", "--complete", bob_email, "--fingerprint", number)
    assert [(d["email"], d["remote"]) for d in done] == [(bob_email, "/docs")]  # type: ignore[index]
    assert _grants(cli) == before + 1
    assert alice.json("invitations") == []
    # Bob checks Alice's number, accepts, reads
    assert bob("trust", alice.email, "--fingerprint", alice_number)[0] == 0
    share_id = done[0]["share_id"]  # type: ignore[index]
    mount = bob.json("accept", share_id)["path"]  # type: ignore[index]
    out = tmp_path / "got"
    out.mkdir()
    code, _, err = bob("get", f"{mount}/plan.txt", str(out))
    assert code == 0, err
    assert (out / "plan.txt").read_bytes() == data


def test_an_account_with_another_key_gets_nothing(cli: Cli, tmp_path: Path) -> None:
    """The address is signed up by someone else (as a server could do itself): the number
    the real person gives does not match its key; nothing is sealed, nothing pinned, the
    invitation stays."""
    alice, _ = _alice_with_docs(cli, tmp_path)
    bob_email = f"bob{secrets.token_hex(4)}@example.org"
    alice.json("share", "/docs", "--with", bob_email, "--write")
    before = _grants(cli)
    _signup(cli, bob_email, "mallory")  # the impostor's key now answers for Bob's address
    real_bob = _signup(cli, f"realbob{secrets.token_hex(4)}@example.org", "realbob")
    real_number = real_bob.json("fingerprint")["safety_number"]  # type: ignore[index]
    code, _, err = alice("share", "--complete", bob_email, "--fingerprint", real_number)
    assert code == 8 and "does not match" in err
    assert _grants(cli) == before
    pending = alice.json("invitations")
    assert [(i["email"], i["write"]) for i in pending] == [(bob_email, True)]  # type: ignore[index]
    # no number at all, and no terminal to show one: refused too
    code, _, err = alice("share", "--complete", bob_email)
    assert code == 2 and "--fingerprint" in err
    assert _grants(cli) == before


class _Terminal(io.StringIO):
    """Standard input that says it is a terminal, with the user's answers in it."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_complete_and_cancel_act_on_the_invitation_only(
    cli: Cli, tmp_path: Path
) -> None:
    """`share --complete EMAIL` without --fingerprint asks once and completes (the reminder
    every other command shows must not complete it first and leave the command without an
    invitation: exit 2); `invitations --cancel EMAIL` cancels without offering to complete
    (a 'y' there would have shared the folder being cancelled)."""
    alice, _ = _alice_with_docs(cli, tmp_path)
    bob_email, carol_email = (f"{n}{secrets.token_hex(4)}@example.org" for n in ("bob", "carol"))
    alice.json("share", "/docs", "--with", bob_email)
    alice.json("share", "/docs", "--with", carol_email)
    _signup(cli, bob_email, "bob")
    _signup(cli, carol_email, "carol")
    before = _grants(cli)

    answers = _Terminal("y\n")
    cli.monkeypatch.setattr(sys, "stdin", answers)
    code, out, err = alice("share", "--complete", bob_email)
    assert code == 0, err
    assert out.count("Does it match?") == 1 and answers.tell() == 2  # asked once
    assert f"Shared /docs with {bob_email}" in out
    assert _grants(cli) == before + 1

    cli.monkeypatch.setattr(sys, "stdin", _Terminal("y\ny\n"))
    code, _, err = alice("invitations", "--cancel", carol_email)
    assert code == 0, err
    assert sys.stdin.tell() == 0 and _grants(cli) == before + 1  # nothing asked, nothing shared
    assert alice.json("invitations") == []


def test_a_single_file_invitation(cli: Cli, tmp_path: Path) -> None:
    """A single file can be shared with an address that has no account yet, as a folder
    can (it used to be refused: 'is not a folder of yours'); completed, it is a file share
    the new user finds under @shared/ and, with --write, edits."""
    alice, data = _alice_with_docs(cli, tmp_path)
    bob_email = f"bob{secrets.token_hex(4)}@example.org"
    before = _grants(cli)
    made = alice.json("share", "/docs/plan.txt", "--with", bob_email, "--write")
    assert made == {**made, "invitation": True, "remote": "/docs/plan.txt", "write": True}
    assert _grants(cli) == before
    bob = _signup(cli, bob_email, "bob")
    number = bob.json("fingerprint")["safety_number"]  # type: ignore[index]
    done = alice.json("share", "--complete", bob_email, "--fingerprint", number)
    assert [d["remote"] for d in done] == ["/docs/plan.txt"]  # type: ignore[index]
    alice_number = alice.json("fingerprint")["safety_number"]  # type: ignore[index]
    assert bob("trust", alice.email, "--fingerprint", alice_number)[0] == 0
    mount = bob.json("accept", done[0]["share_id"])["path"]  # type: ignore[index]
    assert mount == "@shared/plan.txt"
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "plan.txt").write_bytes(b"bob's version")
    assert bob("put", str(tmp_path / "v2" / "plan.txt"), mount)[0] == 0
    out = tmp_path / "alice-got"
    out.mkdir()
    assert alice("get", "/docs/plan.txt", str(out))[0] == 0
    assert (out / "plan.txt").read_bytes() == b"bob's version" != data
