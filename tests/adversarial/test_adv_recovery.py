"""Social recovery against a malicious server (issue 17): the lying proxy in front of a real
server. Fewer than K approvals, replayed or reordered approvals, an approval to the wrong
device key, a wait cut short by the server's clock, a vetoed request shown as open, a
tampered setup: each refused with a clear error, nothing sent after the lie, nothing changed.
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.client import orgrecovery, requester, social
from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core import recovery as core_recovery
from blindvault.core.identity import Identity
from blindvault.core.keys import RecoveryKey, VaultKey
from blindvault.core.orgkey import OrgKey, OrgPublic, seal_escrow
from blindvault.errors import IntegrityError, NotFoundError, PolicyError
from helpers.adversarial import FAST_KDF, PASSWORD, Upstream
from helpers.proxy import Exchange, Proxy, on_json


@dataclass
class Group:
    url: str
    owner: Vault
    contacts: list[Vault]
    root: Path

    def new_device(self) -> requester.PendingRequest:
        home = self.root / f"new-{secrets.token_hex(3)}"
        return requester.start(self.url, self.owner.state.email, store=StateStore(home),
                               insecure=False)  # fmt: skip

    def store_of(self, req: requester.PendingRequest) -> StateStore:
        return StateStore(self.root / next(
            p.name for p in self.root.iterdir() if (p / "recovery" / f"{req.request_id}.json").exists()
        ))  # fmt: skip


def _vault(url: str, home: Path, name: str) -> Vault:
    email = f"{name}{secrets.token_hex(4)}@example.org"
    vault, _ = Vault.signup(url, email, PASSWORD, store=StateStore(home), params=FAST_KDF)
    return vault


def make_group(proxy: Proxy, root: Path, threshold: int, contacts: int, wait_s: int = 0) -> Group:
    owner = _vault(proxy.url, root / "owner", "owner")
    people = [_vault(proxy.url, root / f"c{i}", f"c{i}") for i in range(contacts)]
    for c in people:
        owner.trust(c.state.email, c.fingerprint.hex())
        c.trust(owner.state.email, owner.fingerprint.hex())
    social.setup(owner.session, PASSWORD, [c.state.email for c in people],
                 threshold=threshold, wait_s=wait_s)  # fmt: skip
    return Group(proxy.url, owner, people, root)


@pytest.fixture
def group(proxy: Proxy, tmp_path: Path) -> Iterator[Group]:
    g = make_group(proxy, tmp_path, 2, 3)
    yield g
    for v in (g.owner, *g.contacts):
        v.close()


def poll_path(req: requester.PendingRequest) -> str:
    return f"/v1/recovery/requests/{req.request_id}/poll"


def changes_after_lie(proxy: Proxy) -> list[tuple[str, str, str, str]]:
    """What the client wrote after the lie (polling a request reads, it changes nothing)."""
    return [r for r in proxy.writes_after_lie() if not r[1].endswith("/poll")]


def test_a_replayed_approval_does_not_count_twice(proxy: Proxy, group: Group) -> None:
    req = group.new_device()
    social.approve(group.contacts[0].session, req.request_id, req.code)

    def twice(doc: Any) -> Any:
        doc["approvals"] = doc["approvals"] * 2
        return doc

    proxy.add(on_json("POST", poll_path(req), twice))
    with pytest.raises(PolicyError, match="1 of 2"):
        requester.finish(req, "new", store=group.store_of(req), insecure=False)
    assert changes_after_lie(proxy) == []  # no recovery login, no key change


def test_an_approval_from_another_request_is_rejected(proxy: Proxy, group: Group) -> None:
    old = group.new_device()
    social.approve(group.contacts[0].session, old.request_id, old.code)
    stolen = requester.collect(old, insecure=False)
    assert len(stolen.shares) == 1
    new = group.new_device()
    social.approve(group.contacts[1].session, new.request_id, new.code)
    replay: list[Any] = []
    proxy.add(lambda ex: _keep(ex, poll_path(old), replay))
    requester.collect(old, insecure=False)
    proxy.reset()
    proxy.add(
        on_json("POST", poll_path(new), lambda d: {**d, "approvals": d["approvals"] + replay})
    )
    got = requester.collect(new, insecure=False)
    assert (len(got.shares), got.rejected) == (1, 1)
    with pytest.raises(PolicyError, match="1 of 2"):
        requester.finish(new, "new", store=group.store_of(new), insecure=False)
    assert changes_after_lie(proxy) == []


def _keep(ex: Exchange, path: str, into: list[Any]) -> None:
    if ex.path == path and ex.status == 200:
        into.extend(ex.json()["approvals"])


def test_reordered_approvals_still_recover(proxy: Proxy, group: Group) -> None:
    req = group.new_device()
    for c in group.contacts[:2]:
        social.approve(c.session, req.request_id, req.code)
    proxy.add(on_json("POST", poll_path(req), lambda d: {**d, "approvals": d["approvals"][::-1]}))
    session = requester.finish(req, "new-pw", store=group.store_of(req), insecure=False)
    assert session.opened.identity.bundle.fingerprint == group.owner.fingerprint
    session.api.close()


def test_an_approval_to_the_wrong_device_key_is_impossible(proxy: Proxy, group: Group) -> None:
    """The server shows the contact its own device key: the code the requester read out does
    not match, so nothing is sealed to the server's key."""
    req = group.new_device()
    fake = base64.b64encode(secrets.token_bytes(32)).decode()

    def swap(doc: Any) -> Any:
        for r in doc["requests"]:
            r["device_key"] = fake
        return doc

    proxy.add(on_json("GET", "/v1/recovery/incoming", swap))
    home = group.contacts[0].store.home
    before = {p.name: p.read_bytes() for p in (home / "accounts").glob("*.json")}
    with pytest.raises(PolicyError, match="does not match"):
        social.approve(group.contacts[0].session, req.request_id, req.code)
    assert not [r for r in proxy.writes_after_lie() if r[1].endswith("/approval")]
    assert group.contacts[0].state.recovery_approved == {}
    assert requester.collect(req, insecure=False).shares == []
    assert before  # the contact's state file exists (first-seen times are its own facts)


def test_the_server_cannot_cut_the_wait_short(proxy: Proxy, tmp_path: Path) -> None:
    g = make_group(proxy, tmp_path, 1, 1, wait_s=3600)
    req = g.new_device()
    proxy.add(on_json("GET", "/v1/recovery/incoming", lambda d: {
        "requests": [{**r, "created_at": 0.0} for r in d["requests"]]}))  # fmt: skip
    got = social.approve(g.contacts[0].session, req.request_id, req.code)
    assert (got.released, got.approved_here) == (False, True)
    assert not [r for r in proxy.writes_after_lie() if r[1].endswith("/approval")]
    # the server forges the owner's wait in the setup: the signature fails
    proxy.reset()

    def zero_wait(doc: Any) -> Any:
        for r in doc["requests"]:
            raw = bytearray(base64.b64decode(r["setup"]))
            raw[_wait_offset(raw) : _wait_offset(raw) + 8] = bytes(8)
            r["setup"] = base64.b64encode(bytes(raw)).decode()
        return doc

    proxy.add(on_json("GET", "/v1/recovery/incoming", zero_wait))
    with pytest.raises(IntegrityError):
        social.approve(g.contacts[0].session, req.request_id, None)
    assert requester.collect(req, insecure=False).shares == []


def _wait_offset(raw: bytearray) -> int:
    """Where wait_s starts in an encoded setup (after magic, id, email, fingerprint, 3 u8)."""
    email_len = int.from_bytes(raw[5 + 16 : 5 + 18], "big")
    return 5 + 16 + 2 + email_len + 32 + 3


def test_a_vetoed_request_shown_as_open_is_not_approved(proxy: Proxy, group: Group) -> None:
    req = group.new_device()
    social.veto(group.owner.session, req.request_id)
    proxy.add(on_json("GET", "/v1/recovery/incoming", lambda d: {
        "requests": [{**r, "state": "open"} for r in d["requests"]]}))  # fmt: skip
    with pytest.raises(PolicyError, match="vetoed"):
        social.approve(group.contacts[0].session, req.request_id, req.code)
    assert not [r for r in proxy.writes_after_lie() if r[1].endswith("/approval")]
    # and the server cannot finish the recovery on its own: no approvals, no key
    with pytest.raises(PolicyError, match="0 of"):
        requester.finish(req, "x", store=group.store_of(req), insecure=False)


def test_the_server_learns_no_share(
    proxy: Proxy, tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real = core_recovery.split_recovery_key

    def spy(*args: Any) -> list[str]:
        made.extend(real(*args))
        return made

    monkeypatch.setattr(social, "split_recovery_key", spy)
    g = make_group(proxy, tmp_path, 2, 2)
    req = g.new_device()
    for c in g.contacts:
        social.approve(c.session, req.request_id, req.code)
    with closing(sqlite3.connect(upstream.data / "blindvault.sqlite3")) as db:
        dump = "\n".join(db.iterdump()).lower()
    for share in made:
        words = share.split()
        assert " ".join(words[:4]) not in dump
        assert share.encode().hex() not in dump
    with pytest.raises(NotFoundError):  # a stranger cannot ask for an account without setup
        requester.start(g.url, f"nobody{secrets.token_hex(3)}@example.org",
                        store=StateStore(tmp_path / "x"), insecure=False)  # fmt: skip


# --- the organisation recovery key (part 2): the server adds or swaps one ------------------


def _org_doc(name: str = "evil corp") -> tuple[OrgKey, OrgPublic]:
    key = OrgKey.from_recovery(RecoveryKey.generate())
    return key, key.public(name, 1)


def _serve_org(public: OrgPublic) -> Any:
    doc = base64.b64encode(public.document).decode()
    return on_json("GET", "/v1/org-key", lambda _: {"org_key": public.key_id, "document": doc})


def test_an_organisation_key_added_by_the_server_is_refused(proxy: Proxy, tmp_path: Path) -> None:
    user = _vault(proxy.url, tmp_path / "u", "u")
    before = user.state.org_key_pin
    _, public = _org_doc()
    proxy.add(_serve_org(public))
    with pytest.raises(PolicyError, match="added after"):
        orgrecovery.check(user.session)
    assert changes_after_lie(proxy) == []  # nothing sealed, nothing written
    assert user.state.org_key_pin == before == ""
    user.close()


def test_a_forged_consent_does_not_pin_a_key(proxy: Proxy, tmp_path: Path) -> None:
    """A device with no pin looks for the account's signed consent: an escrow the server made
    up (signed by another identity) is refused and nothing is pinned."""
    user = _vault(proxy.url, tmp_path / "u", "u")
    _, public = _org_doc()
    forger = Identity.generate(user.state.email, 1)
    forged = seal_escrow(VaultKey.generate(), public, user.owner, user.state.email, forger)
    proxy.add(_serve_org(public))
    proxy.add(lambda ex: _answer_escrow(ex, public, forged))
    with pytest.raises(IntegrityError):
        orgrecovery.check(user.session)
    assert user.state.org_key_pin == ""
    # a document whose self-signature is broken is an integrity failure too
    proxy.reset()
    broken = public.document[:-1] + bytes([public.document[-1] ^ 1])
    proxy.add(on_json("GET", "/v1/org-key", lambda _: {
        "org_key": public.key_id, "document": base64.b64encode(broken).decode()}))  # fmt: skip
    with pytest.raises(IntegrityError):
        orgrecovery.check(user.session)
    user.close()


def _answer_escrow(ex: Exchange, public: OrgPublic, forged: bytes) -> None:
    """The upstream has no escrow (404): answer one anyway."""
    if ex.method == "GET" and ex.path == "/v1/account/escrow":
        ex.status = 200
        ex.set_json({"org_key": public.key_id, "escrow": base64.b64encode(forged).decode()})
        ex.mutated = True
