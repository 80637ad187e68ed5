"""Per-app containers (issue 16) against the real server app in this process: authorize,
the confined token, the container's file API, grants with TOTP, ungrant and revoke."""

from __future__ import annotations

import base64
import sqlite3
import time
from pathlib import Path

import pytest

from blindvault.client.apps import AppCredential
from blindvault.client.net.http import ApiClient
from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.constants import ROLE_READ
from blindvault.core.envelope import seal_envelope
from blindvault.core.identity import Identity
from blindvault.core.kdf import KdfParams
from blindvault.core.keys import FolderKey
from blindvault.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    IntegrityError,
    NotFoundError,
    PathNotFoundError,
    PolicyError,
    RemoteError,
    UsageError,
)
from blindvault.server.domain.credentials import totp
from helpers.inprocess import InProcess, inprocess

__all__ = ["inprocess"]

FAST = KdfParams.argon2id(19456, 2, 1)


def _signup(server: InProcess, home: Path, email: str = "apps@example.org") -> Vault:
    vault, _ = Vault.signup(
        server.url, email, "pw", store=StateStore(home), params=FAST, transport=server.transport
    )
    return vault


def _app(server: InProcess, cred: AppCredential, home: Path) -> Vault:
    return Vault.open_app(cred, store=StateStore(home), transport=server.transport)


def _note(tmp: Path, name: str, text: str) -> Path:
    f = tmp / name
    f.write_text(text)
    return f


def test_container_file_api_and_isolation(inprocess: InProcess, tmp_path: Path) -> None:
    user = _signup(inprocess, tmp_path / "user")
    user.put(_note(tmp_path, "private.txt", "mine"), "/")
    cred = user.apps.authorize("com.example.notes")
    cred.save(tmp_path / "notes.cred")
    loaded = AppCredential.load(tmp_path / "notes.cred")
    assert (tmp_path / "notes.cred").stat().st_mode & 0o077 == 0
    app = _app(inprocess, loaded, tmp_path / "app")
    assert app.ls("/") == []
    app.mkdir("/notes")
    app.put(_note(tmp_path, "a.txt", "hello"), "/notes")
    app.mv("/notes/a.txt", "/notes/b.txt")
    assert [e.name for e in app.ls("/notes")] == ["b.txt"]
    app.get("/notes/b.txt", tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == "hello"
    # the account sees the container with the same API, and the app's writes verify
    assert [e.path for e in user.app("com.example.notes").walk("/")] == [
        "/notes", "/notes/b.txt"
    ]  # fmt: skip
    # the user's own tree is unchanged and unreachable with the app token
    assert [e.name for e in user.ls("/")] == ["private.txt"]
    raw = ApiClient(inprocess.url, loaded.token, transport=inprocess.transport)
    root = user.session.keys().bundle.root_node.hex()
    with pytest.raises(NotFoundError):
        raw.get_json(f"/v1/records/manifest/{root}")
    with pytest.raises(NotFoundError):  # naming the account as owner changes nothing
        raw.get_json(f"/v1/records/manifest/{root}", params={"owner": user.owner.hex(),
                                                              "space": root})  # fmt: skip
    with pytest.raises(NotFoundError):
        raw.get_json(f"/v1/records/root/{user.owner.hex()}")
    for path in ("/v1/account", "/v1/devices", "/v1/shares", "/v1/apps", "/v1/audit"):
        with pytest.raises(ForbiddenError):
            raw.get_json(path)
    app.rm("/notes", recursive=True)
    assert app.ls("/") == []


def test_app_cannot_reach_another_app(inprocess: InProcess, tmp_path: Path) -> None:
    user = _signup(inprocess, tmp_path / "user")
    a = _app(inprocess, user.apps.authorize("com.example.a"), tmp_path / "a")
    b_cred = user.apps.authorize("com.example.b")
    b = _app(inprocess, b_cred, tmp_path / "b")
    b.put(_note(tmp_path, "b.txt", "bee"), "/")
    with pytest.raises(PathNotFoundError):
        a.app("com.example.b")
    raw = ApiClient(inprocess.url, a.credential.token if a.credential else "",
                    transport=inprocess.transport)  # fmt: skip
    for kind in ("manifest",):
        with pytest.raises(NotFoundError):
            raw.get_json(f"/v1/records/{kind}/{b_cred.node_id.hex()}",
                         params={"space": b_cred.node_id.hex()})  # fmt: skip
    with pytest.raises(NotFoundError):
        raw.get_json("/v1/blobs", params={"space": b_cred.node_id.hex()})


@pytest.mark.parametrize(
    "bad", ["notes", "com..example", "../etc", "com.example/../x", "Com.Example", "com.example.",
            "c\u043em.example", "com.exam_ple", "com.-example", "com.example-", "", "a" * 300]
)  # fmt: skip
def test_bad_app_ids_refused(inprocess: InProcess, tmp_path: Path, bad: str) -> None:
    user = _signup(inprocess, tmp_path / "user")
    with pytest.raises(UsageError):
        user.apps.authorize(bad)


def test_grant_read_with_totp_then_ungrant(inprocess: InProcess, tmp_path: Path) -> None:
    user = _signup(inprocess, tmp_path / "user")
    a = _app(inprocess, user.apps.authorize("com.example.a"), tmp_path / "a")
    b = _app(inprocess, user.apps.authorize("com.example.b"), tmp_path / "b")
    b.put(_note(tmp_path, "b1.txt", "one"), "/")
    with pytest.raises(PolicyError):  # TOTP is off: no grant
        user.apps.grant("com.example.a", "com.example.b", write=False, totp="000000")
    secret = base64.b32encode(b"0123456789abcdef0123").decode()
    user.totp_enable(secret, totp(secret))
    with pytest.raises(PolicyError):  # wrong code
        user.apps.grant("com.example.a", "com.example.b", write=False, totp="000000")
    code = totp(secret, time.time() + 30)
    user.apps.grant("com.example.a", "com.example.b", write=False, totp=code)
    with pytest.raises(PolicyError):  # replayed code
        user.apps.grant("com.example.a", "com.example.b", write=False, totp=code)
    seen = a.app("com.example.b")
    seen.get("/b1.txt", tmp_path / "got.txt")
    assert (tmp_path / "got.txt").read_text() == "one"
    with pytest.raises(ForbiddenError):  # read only
        seen.put(_note(tmp_path, "x.txt", "x"), "/")
    old = seen.spaces.locate([])  # what A held
    user.apps.ungrant("com.example.a", "com.example.b")
    with pytest.raises(PathNotFoundError):
        a.app("com.example.b")
    b2 = _app(inprocess, b.credential, tmp_path / "b") if b.credential else b
    b2.put(_note(tmp_path, "b2.txt", "two"), "/")
    assert {e.name for e in b2.ls("/")} == {"b1.txt", "b2.txt"}
    # the new root does not open with the key A held
    rec = user.app("com.example.b").spaces.locate([])
    assert rec.key != old.key and rec.key_version == old.key_version + 1


@pytest.mark.parametrize("forgery", ["junk", "server-signed"])
def test_forged_grant_is_unverified(inprocess: InProcess, tmp_path: Path, forgery: str) -> None:
    """The server writes a grant row on its own: with junk, or with a well-formed envelope
    of a key it chose, sealed to A's (public) key and signed by a key of its own. A gets
    nothing it can decrypt and the SDK reports the grant as unverified."""
    user = _signup(inprocess, tmp_path / "user")
    a_cred = user.apps.authorize("com.example.a")
    a = _app(inprocess, a_cred, tmp_path / "a")
    b_node = user.apps.authorize("com.example.b").node_id
    envelope = b"BVSE junk"
    if forgery == "server-signed":
        evil = Identity.generate("server@evil.example", 1)
        envelope = seal_envelope(FolderKey.generate(), share_id=b_node, node_id=b_node,
                                 key_version=1, role=ROLE_READ, sender=evil,
                                 recipient=a_cred.identity.bundle)  # fmt: skip
    db = sqlite3.connect(inprocess.data / "blindvault.sqlite3")
    (account,) = db.execute("SELECT owner FROM apps WHERE app_id = 'com.example.b'").fetchone()
    db.execute(
        "INSERT INTO app_grants VALUES (?, ?, ?, ?, ?, ?)",
        (account, "com.example.a", "com.example.b", "read", envelope, time.time()),
    )
    db.commit()
    db.close()
    with pytest.raises(IntegrityError, match="unverified"):
        a.app("com.example.b")


def test_revoked_credential_is_401_everywhere(inprocess: InProcess, tmp_path: Path) -> None:
    user = _signup(inprocess, tmp_path / "user")
    cred = user.apps.authorize("com.example.a")
    a = _app(inprocess, cred, tmp_path / "a")
    a.put(_note(tmp_path, "a.txt", "a"), "/")
    assert [x["app_id"] for x in user.apps.listing()] == ["com.example.a"]
    user.apps.revoke("com.example.a")
    with pytest.raises(AuthError):
        a.ls("/")
    with pytest.raises(AuthError):
        _app(inprocess, cred, tmp_path / "a2")
    # the account still reads what the app wrote, now signed by the account
    assert [e.name for e in user.app("com.example.a").ls("/")] == ["a.txt"]
    again = _app(inprocess, user.apps.authorize("com.example.a"), tmp_path / "a3")
    assert [e.name for e in again.ls("/")] == ["a.txt"]


def _enable_totp(user: Vault) -> str:
    secret = base64.b32encode(b"0123456789abcdef0123").decode()
    user.totp_enable(secret, totp(secret))
    return secret


def test_grant_envelope_filed_under_another_app_is_refused(
    inprocess: InProcess, tmp_path: Path
) -> None:
    """The server moves A's (genuine) grant of C's container under B's name: the envelope
    names the app whose container it opens, so A refuses it instead of showing C as B."""
    user = _signup(inprocess, tmp_path / "user")
    a = _app(inprocess, user.apps.authorize("com.example.a"), tmp_path / "a")
    user.apps.authorize("com.example.b")
    user.apps.authorize("com.example.c")
    secret = _enable_totp(user)
    user.apps.grant("com.example.a", "com.example.c", write=False,
                    totp=totp(secret, time.time() + 30))  # fmt: skip
    assert a.app("com.example.c").ls("/") == []
    db = sqlite3.connect(inprocess.data / "blindvault.sqlite3")
    db.execute("UPDATE app_grants SET to_app = 'com.example.b'")
    db.commit()
    db.close()
    with pytest.raises(IntegrityError, match="unverified"):
        a.app("com.example.b")


def test_server_refuses_bad_app_ids_and_colliding_containers(
    inprocess: InProcess, tmp_path: Path
) -> None:
    """What the client checks, the server checks again (a script may call it directly)."""
    user = _signup(inprocess, tmp_path / "user")
    body = {"space": "ab" * 16, "bundle": "AA==", "attestation": "AA==", "envelope": "AA=="}
    for bad in ("../etc.passwd", "Com.Example", "c\u043em.example", "com.example-", "notes"):
        with pytest.raises(RemoteError) as info:
            user.api.post_json("/v1/apps", {**body, "app_id": bad})
        assert info.value.status in (400, 422), bad
    user.api.post_json("/v1/apps", {**body, "app_id": "com.example.one"})
    with pytest.raises(ConflictError):  # another app on the same container
        user.api.post_json("/v1/apps", {**body, "app_id": "com.example.two"})
    with pytest.raises(ConflictError):  # a second live credential: revoke first
        user.api.post_json("/v1/apps", {**body, "app_id": "com.example.one"})


def test_container_keeps_versions(inprocess: InProcess, tmp_path: Path) -> None:
    """Versions exist in containers as in the vault (the same signed manifests)."""
    user = _signup(inprocess, tmp_path / "user")
    app = _app(inprocess, user.apps.authorize("com.example.notes"), tmp_path / "app")
    note = tmp_path / "n.txt"
    for text in ("one", "two"):
        note.write_text(text)
        app.put(note, "/")
    assert sorted(v.version for v in app.history.versions("/n.txt")) == [1, 2]
    seen = user.app("com.example.notes").history.versions("/n.txt")
    assert len(seen) == 2


def test_totp_disable_needs_a_code_and_ends_grants_needing_it(
    inprocess: InProcess, tmp_path: Path
) -> None:
    user = _signup(inprocess, tmp_path / "user")
    user.apps.authorize("com.example.a")
    user.apps.authorize("com.example.b")
    secret = _enable_totp(user)
    with pytest.raises(PolicyError):  # a wrong code: TOTP stays on
        user.totp_disable("000000")
    user.totp_disable(totp(secret, time.time() + 30))
    with pytest.raises(PolicyError, match="totp_required"):
        user.apps.grant("com.example.a", "com.example.b", write=False,
                        totp=totp(secret, time.time() + 60))  # fmt: skip
