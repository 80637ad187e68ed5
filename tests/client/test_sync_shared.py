"""Sync of pairs in shared spaces (issue 14). The owner's change feed covers folders it
shares, so an unchanged shared pair costs ONE request, like a private one; a member's write
shows up through its feed entry and only the changed folder (and the way down to it) is
read. A member's pair on `@team` follows that space's feed: ONE request when unchanged."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from helpers.client import Cli, record_requests
from helpers.people import user
from helpers.sync import Device

OPEN = {"/v1/prelogin", "/v1/sessions/check", "/v1/account"}  # the CLI opening its session


def _synced(sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The requests of the sync itself (the session's opening and own root left out)."""
    return [(m, p) for m, p in sent if p not in OPEN and not p.startswith("/v1/records/root/")]


def _sync(dev: Device, remote: str) -> dict[str, object]:
    code, out, err = dev("sync", str(dev.folder), remote, "--json")
    assert code == 0, err
    (report,) = json.loads(out)
    return report  # type: ignore[no-any-return]


@pytest.fixture
def two(cli: Cli, tmp_path: Path) -> tuple[Device, Device]:
    """Alice (the `cli` account) and Bob (a device of his own, not signed up yet)."""
    alice = Device(cli, Path(cli.monkeypatch_home), "alice", tmp_path / "alice")
    bob_home = tmp_path / "bob-home"
    bob_home.mkdir()
    return alice, Device(cli, bob_home, "bob", tmp_path / "bob")


def _share(cli: Cli, alice: Device, bob: Device, remote: str) -> None:
    bob_email = f"bob{os.getpid()}{time.time_ns()}@example.org"
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "pw-1")
    assert bob("signup", "--accept-weak-password", "--server", cli.server.url, "--email", bob_email,
               "--recovery-file", str(bob.home / "words"))[0] == 0  # fmt: skip

    def fingerprint(dev: Device) -> str:
        return str(json.loads(dev("fingerprint", "--json")[1])["safety_number"])

    assert alice("trust", bob_email, "--fingerprint", fingerprint(bob))[0] == 0
    assert alice("share", remote, "--with", bob_email, "--write")[0] == 0
    assert bob("trust", cli.email, "--fingerprint", fingerprint(alice))[0] == 0
    (pending,) = json.loads(bob("shares", "--json")[1])["incoming"]
    assert bob("accept", str(pending["id"]))[0] == 0


def _shared_team(cli: Cli, alice: Device, bob: Device) -> None:
    """Alice's /team (plan.txt, sub/notes.txt), synced, then shared with Bob (write)."""
    (alice.folder / "plan.txt").write_text("v1")
    (alice.folder / "sub").mkdir()
    (alice.folder / "sub" / "notes.txt").write_text("n1")
    _sync(alice, "/team")
    _share(cli, alice, bob, "/team")


def _one_request(dev: Device, remote: str, sent: list[tuple[str, str]]) -> None:
    """An unchanged pair: one feed request, no folder read."""
    sent.clear()
    assert _sync(dev, remote)["read_folders"] == 0
    assert _synced(sent) == [("GET", "/v1/changes")], sent


def test_an_unchanged_shared_pair_costs_one_request(cli: Cli, two: tuple[Device, Device]) -> None:
    alice, bob = two
    _shared_team(cli, alice, bob)
    _sync(alice, "/team")  # the snapshot, now that /team is a shared space

    sent = record_requests(cli)
    report = _sync(alice, "/team")
    assert _synced(sent) == [("GET", "/v1/changes")], sent  # measured: was a full walk of the space
    assert report["read_folders"] == 0 and report["actions"] == []

    # a member writes below: the owner reads the changed folder and the way down only
    assert bob("sync", str(bob.folder), "@team")[0] == 0
    (bob.folder / "sub" / "from-bob.txt").write_text("b1")
    assert bob("sync", str(bob.folder), "@team")[0] == 0
    sent.clear()
    report = _sync(alice, "/team")
    assert (alice.folder / "sub" / "from-bob.txt").read_text() == "b1"
    assert report["read_folders"] == 2  # /team (for the key) and /team/sub
    _one_request(alice, "/team", sent)


def test_a_pair_with_a_shared_folder_below_uses_the_feed(
    cli: Cli, two: tuple[Device, Device]
) -> None:
    alice, bob = two
    (alice.folder / "mine.txt").write_text("m1")
    (alice.folder / "team").mkdir()
    (alice.folder / "team" / "plan.txt").write_text("v1")
    _sync(alice, "/docs")
    _share(cli, alice, bob, "/docs/team")
    _sync(alice, "/docs")
    sent = record_requests(cli)
    assert _sync(alice, "/docs")["read_folders"] == 0
    assert _synced(sent) == [("GET", "/v1/changes")], sent
    (bob.folder).mkdir(exist_ok=True)
    assert bob("sync", str(bob.folder), "@team")[0] == 0
    (bob.folder / "plan.txt").write_text("v2 by bob")
    assert bob("sync", str(bob.folder), "@team")[0] == 0
    _sync(alice, "/docs")
    assert (alice.folder / "team" / "plan.txt").read_text() == "v2 by bob"


def test_a_members_unchanged_pair_costs_one_request(cli: Cli, two: tuple[Device, Device]) -> None:
    alice, bob = two
    _shared_team(cli, alice, bob)
    _sync(bob, "@team")
    assert (bob.folder / "sub" / "notes.txt").read_text() == "n1"
    sent = record_requests(cli)
    report = _sync(bob, "@team")
    assert _synced(sent) == [("GET", "/v1/changes")], sent  # measured: was a full walk of the space
    assert report["read_folders"] == 0 and report["actions"] == []
    (alice.folder / "sub" / "notes.txt").write_text("n2 by alice")
    _sync(alice, "/team")
    report = _sync(bob, "@team")  # the owner's write comes through the space's feed
    assert (bob.folder / "sub" / "notes.txt").read_text() == "n2 by alice"
    assert report["read_folders"] == 2  # @team (for the key) and sub
    _one_request(bob, "@team", sent)


def test_a_members_write_to_a_shared_file_reaches_the_owners_pair(cli: Cli, tmp_path: Path) -> None:
    """A file shared on its own lives in a holder of its own (no folder head moves when a
    member writes it): the owner's sync of the folder naming it still takes the new
    version, and `ls`/`get` show it (issue 19)."""
    alice = Device(cli, Path(cli.monkeypatch_home), "alice", tmp_path / "alice")
    (alice.folder / "report.pdf").write_bytes(b"v1 by alice")
    (alice.folder / "other.txt").write_text("not shared")
    _sync(alice, "/docs")
    carol = user(cli, "carol")
    share = ("share", "/docs/report.pdf", "--with", carol.email, "--write", "--trust-on-first-use")
    assert alice(*share)[0] == 0
    (item,) = carol.json("shares")["incoming"]  # type: ignore[index]
    carol.ok("accept", str(item["id"]), "--trust-on-first-use")
    _sync(alice, "/docs")  # the snapshot, now that the file is shared

    edited = tmp_path / "edited"  # large: fetched in resumable ranges from the holder
    v2 = os.urandom(9 << 20)
    edited.write_bytes(v2)
    carol.ok("put", str(edited), "@shared/report.pdf")
    code, out, err = alice("sync", str(alice.folder), "/docs", "--once", "--json")
    assert code == 0, err
    (report,) = json.loads(out)
    assert (alice.folder / "report.pdf").read_bytes() == v2
    assert [(a["action"], a["path"]) for a in report["actions"]] == [("download", "report.pdf")]
    assert (alice.folder / "other.txt").read_text() == "not shared"
    listed = {e["name"]: e for e in json.loads(alice("ls", "/docs", "--json")[1])}
    assert listed["report.pdf"]["size"] == len(v2)
    assert _sync(alice, "/docs")["actions"] == []  # taken once, not again
