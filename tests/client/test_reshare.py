"""Re-sharing (issue 19, `share --allow-reshare`), through the CLI against a real server:
a member the owner lets re-share adds a third person; one without the right cannot; the
owner removes either and the keys rotate for exactly the people who remain (P-RESHARE)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from blindvault.errors import ForbiddenError
from helpers.client import Cli
from helpers.people import User, alice, incoming, user


def _names(person: User, remote: str) -> set[str]:
    return {str(e["name"]) for e in person.json("ls", remote)}  # type: ignore[union-attr,index]


def _team_with_bob(cli: Cli, tmp_path: Path, *flags: str) -> tuple[User, User, User]:
    owner, bob, carol = alice(cli), user(cli, "bob"), user(cli, "carol")
    (tmp_path / "a.txt").write_bytes(b"alpha")
    owner.ok("mkdir", "/team")
    owner.ok("put", str(tmp_path / "a.txt"), "/team")
    shared = owner.json("share", "/team", "--with", bob.email, "--trust-on-first-use", *flags)
    assert shared["reshare"] is ("--allow-reshare" in flags)  # type: ignore[index]
    (item,) = incoming(bob)
    bob.ok("accept", str(item["id"]), "--trust-on-first-use")
    return owner, bob, carol


def _carol_joins_through_bob(bob: User, carol: User, tmp_path: Path) -> None:
    bob.ok("share", "@team", "--with", carol.email, "--trust-on-first-use")
    (item,) = incoming(carol)
    assert item["by_email"] == bob.email and "not verified" in str(item["problem"]), item
    # Carol verifies Bob, whom she knows; the owner's key comes with Bob's signed addition
    carol.ok("trust", bob.email, "--fingerprint", str(bob.json("fingerprint")["safety_number"]))  # type: ignore[index]
    (item,) = incoming(carol)
    assert item["name"] == "team" and not item["problem"], item
    assert carol.json("accept", str(item["id"]))["path"] == "@team"  # type: ignore[index]
    peers = {str(p["email"]) for p in carol.json("peers")}  # type: ignore[union-attr,index]
    assert item["owner_email"] in peers
    out = tmp_path / f"carol-{len(list(tmp_path.iterdir()))}"
    out.mkdir()
    carol.ok("get", "@team/a.txt", str(out))
    assert (out / "a.txt").read_bytes() == b"alpha"


def test_a_member_allowed_to_reshare_adds_someone_and_the_owner_removes_them(
    cli: Cli, tmp_path: Path
) -> None:
    owner, bob, carol = _team_with_bob(cli, tmp_path, "--allow-reshare")
    # read-only Bob cannot give more than he holds; nothing is granted
    code, _, err = bob("share", "@team", "--with", carol.email, "--write", "--trust-on-first-use")
    assert code == 8 and "read-only" in err
    assert incoming(carol) == []
    _carol_joins_through_bob(bob, carol, tmp_path)

    # the owner's list names who added Carol (from the checked, signed addition)
    (team,) = [i for i in owner.json("shares")["items"] if i["path"] == "/team"]  # type: ignore[index]
    members = {m["email"]: m for m in team["members"]}
    assert members[bob.email]["reshare"] and not members[carol.email]["reshare"]
    assert members[carol.email]["added_by"] == bob.email
    # Carol got no right to re-share in turn
    code, _, err = carol("share", "@team", "--with", owner.email, "--trust-on-first-use")
    assert code == 8 and "does not let you re-share" in err

    owner.ok("unshare", "/team", "--with", carol.email)
    (tmp_path / "new.txt").write_bytes(b"new")
    owner.ok("put", str(tmp_path / "new.txt"), "/team")
    assert _names(bob, "@team") == {"a.txt", "new.txt"}
    assert incoming(carol) == []
    assert carol("ls", "@team")[0] != 0


def test_removing_the_resharing_member_keeps_whom_they_added(cli: Cli, tmp_path: Path) -> None:
    """The owner removes Bob: Carol, whom Bob added, gets the new key from the owner (no
    extra check needed: Bob's signed addition vouched for her key) and Bob reads nothing."""
    owner, bob, carol = _team_with_bob(cli, tmp_path, "--allow-reshare")
    _carol_joins_through_bob(bob, carol, tmp_path)
    owner.ok("unshare", "/team", "--with", bob.email)  # no --trust-on-first-use
    (tmp_path / "new.txt").write_bytes(b"new")
    owner.ok("put", str(tmp_path / "new.txt"), "/team")
    (item,) = incoming(carol)
    assert item["by_email"] == "" and not item["problem"], item
    assert _names(carol, "@team") == {"a.txt", "new.txt"}
    assert incoming(bob) == []
    assert bob("ls", "@team")[0] != 0


def test_a_member_without_the_right_cannot_reshare(cli: Cli, tmp_path: Path) -> None:
    owner, bob, carol = _team_with_bob(cli, tmp_path)
    code, _, err = bob("share", "@team", "--with", carol.email, "--trust-on-first-use")
    assert code == 8 and "does not let you re-share" in err
    assert incoming(carol) == []
    # only the owner grants the right
    code, _, err = bob("share", "@team", "--with", carol.email, "--allow-reshare")
    assert code == 2 and "owner" in err
    assert _names(owner, "/team") == {"a.txt"}
    # an invitation (no account yet) carries no right to re-share: refused, not dropped
    code, _, err = owner("share", "/team", "--with", "nobody-yet@example.org", "--allow-reshare")
    assert code == 2 and "no account yet" in err
    # the server refuses the grant too (a hint only: the roster decides on every device)
    vault = bob.vault()
    try:
        (item,) = vault.api.get_json("/v1/shares")["incoming"]
        carol_id = vault.api.get_json(f"/v1/identities/{carol.email}")["account_id"]
        grant = {"id": os.urandom(16).hex(), "space": item["space"], "member": carol_id,
                 "role": "read", "envelope": "AAAA", "owner": item["owner"]}  # fmt: skip
        with pytest.raises(ForbiddenError):
            vault.api.put_json("/v1/shares", grant)
        reshares = vault.api.scoped(str(item["owner"]), str(item["space"]))
        with pytest.raises(ForbiddenError):
            reshares.put_json(f"/v1/records/reshares/{item['space']}",
                              {"expected_version": 0, "data": "AAAA"})  # fmt: skip
    finally:
        vault.close()
    assert incoming(carol) == []
