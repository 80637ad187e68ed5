"""The account's side of app containers (issue 16): authorize an app, list and revoke its
credential, open its container, grant one app's container to another, and end a grant.

Everything that hands out a key reads this device's keys and the account's own signatures
(attestations, envelopes), never the server's lists alone: the server's app list names the
apps and their attested keys (checked here), and a grant row opens nothing without the
envelope this device sealed and signed.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

from blindvault.client.apps.container import Container
from blindvault.client.apps.credential import AppCredential, check_app_id
from blindvault.client.net.http import b64d, b64e
from blindvault.client.session import Session
from blindvault.client.tree import Space, edits, now_ms
from blindvault.core.apps import (
    app_email,
    attest,
    check_attestation,
    container_key,
    container_node,
    envelope_id,
    manifest_key_version,
)
from blindvault.core.constants import ROLE_READ, ROLE_WRITE
from blindvault.core.envelope import seal_envelope
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FolderEntry, ManifestBody
from blindvault.errors import (
    BlindvaultError,
    ForbiddenError,
    NotFoundError,
    PathNotFoundError,
    PolicyError,
    UsageError,
)
from blindvault.wire.records import Record

__all__ = ["Apps"]


class Apps:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- where a container is ------------------------------------------------------------

    def _node(self, app_id: str) -> bytes:
        return container_node(self.session.keys().vault, check_app_id(app_id))

    def _key_version(self, node: bytes, space: Space) -> int:
        """The container root's key version, from its manifest head (0: not written yet).
        A lie only makes the open below fail: the head is signed, the AEAD keyed."""
        try:
            rec = space.api.get_as(Record, f"/v1/records/manifest/{node.hex()}")
        except NotFoundError:
            return 0
        return manifest_key_version(b64d(rec.data))

    def listing(self) -> list[dict[str, Any]]:
        """The server's app list, each app's key checked against this account's signature
        (`verified` False: shown, never trusted as a writer)."""
        me = self.session.identity.bundle
        out = []
        for a in self.session.api.get_json("/v1/apps")["apps"]:
            item = dict(a)
            try:
                bundle = IdentityBundle.decode(b64d(a["bundle"]))
                check_attestation(me, self.session.owner, str(a["app_id"]), bundle,
                                  b64d(a["attestation"]))  # fmt: skip
            except BlindvaultError:
                item["verified"], item["key"] = False, None
            else:
                item["verified"], item["key"] = True, bundle
            out.append(item)
        return out

    def _writers(self, app_id: str, apps: list[dict[str, Any]]) -> dict[bytes, IdentityBundle]:
        """Who may have written app_id's container: this account, the app, and the apps
        the server says hold a write grant on it (each key attested by this account)."""
        me = self.session.identity.bundle
        writers = {me.fingerprint: me}
        granted = {
            g["from_app"]
            for g in self.session.api.get_json("/v1/apps/grants")["grants"]
            if g["to_app"] == app_id and g["role"] == "write"
        }
        for a in apps:
            if a["verified"] and (a["app_id"] == app_id or a["app_id"] in granted):
                writers[a["key"].fingerprint] = a["key"]
        return writers

    def container(self, app_id: str, apps: list[dict[str, Any]] | None = None) -> Container:
        """App `app_id`'s container as this account sees it (read and write)."""
        node = self._node(app_id)
        apps = self.listing() if apps is None else apps
        if not any(a["app_id"] == app_id for a in apps):
            raise PathNotFoundError(f"no authorized app {app_id}")
        writers = self._writers(app_id, apps)
        space = Space(self.session.api.scoped(None, node.hex()), writers, node)
        kv = self._key_version(node, space) or 1
        key = container_key(self.session.keys().vault, app_id, kv)
        return Container(self.session, app_id, node, key, kv, writers)

    # --- credentials ----------------------------------------------------------------------

    def authorize(self, app_id: str) -> AppCredential:
        """A new credential for `app_id`: its own key pair, the container key sealed to it,
        a token the server confines to the container. The container is made if new."""
        s = self.session
        node, me = self._node(app_id), s.identity
        space = Space(s.api.scoped(None, node.hex()), {me.bundle.fingerprint: me.bundle}, node)
        kv = self._key_version(node, space)
        key = container_key(s.keys().vault, app_id, kv or 1)
        if kv == 0:  # an empty root, signed by the account, before anything names it
            s.tree.update(node, key, _same, 1, space, create=True)
            s.save()
            kv = 1
        app = Identity.generate(app_email(app_id), now_ms())
        envelope = seal_envelope(key, share_id=envelope_id(app_id), node_id=node, key_version=kv,
                                 role=ROLE_WRITE, sender=me, recipient=app.bundle)  # fmt: skip
        body = {"app_id": app_id, "space": node.hex(), "bundle": b64e(app.bundle.encode()),
                "attestation": b64e(attest(me, s.owner, app_id, app.bundle)),
                "envelope": b64e(envelope)}  # fmt: skip
        done = s.api.post_json("/v1/apps", body)
        return AppCredential(
            server=s.api.base_url, account_id=s.owner, email=s.state.email, app_id=app_id,
            node_id=node, device_id=str(done["device_id"]), token=str(done["token"]),
            identity=app, account_bundle=me.bundle, envelope=envelope,
        )  # fmt: skip

    def revoke(self, app_id: str) -> None:
        """Re-sign the container under new keys (nothing the app held opens what is written
        afterwards, nothing depends on its key any more), then revoke every token of it."""
        apps = self.listing()
        self._rotate(self.container(app_id, apps), envelope_for=None, apps=apps)
        self.session.api.request("DELETE", f"/v1/apps/{app_id}")

    # --- grants ---------------------------------------------------------------------------

    def grant(self, from_app: str, to_app: str, *, write: bool, totp: str) -> None:
        """Seal to_app's container key to from_app's attested key, signed by this account;
        the server records the grant only with a fresh TOTP code of the account."""
        if from_app == to_app:
            raise UsageError("an app already reaches its own container")
        apps = self.listing()
        target = self.container(check_app_id(to_app), apps)
        grantee = _verified_key(apps, check_app_id(from_app))
        envelope = seal_envelope(
            target.key, share_id=envelope_id(to_app), node_id=target.node_id,
            key_version=target.key_version, role=ROLE_WRITE if write else ROLE_READ,
            sender=self.session.identity, recipient=grantee,
        )  # fmt: skip
        body = {"from_app": from_app, "to_app": to_app, "role": "write" if write else "read",
                "envelope": b64e(envelope), "totp": totp}  # fmt: skip
        try:
            self.session.api.request("PUT", "/v1/apps/grants", json=body)
        except ForbiddenError as exc:
            if exc.code in ("proof_invalid", "totp_required"):
                raise PolicyError(f"grant refused: {exc}; nothing was granted") from None
            raise

    def grants(self) -> list[dict[str, Any]]:
        return [dict(g) for g in self.session.api.get_json("/v1/apps/grants")["grants"]]

    def ungrant(self, from_app: str, to_app: str) -> None:
        """End the grant, then rotate to_app's container keys (as `unshare` does) and hand
        the new key to to_app and to the apps still granted: nothing from_app held opens
        what is written afterwards."""
        check_app_id(from_app)
        check_app_id(to_app)
        # already gone (a retry after a failed rotation): rotate all the same
        with contextlib.suppress(NotFoundError):
            self.session.api.request("DELETE", f"/v1/apps/grants/{from_app}/{to_app}")
        apps = self.listing()
        self._rotate(self.container(to_app, apps), envelope_for=to_app, apps=apps)

    # --- key rotation ---------------------------------------------------------------------

    def _rotate(
        self, c: Container, *, envelope_for: str | None, apps: list[dict[str, Any]]
    ) -> None:
        fresh: dict[bytes, tuple[FolderKey, int]] = {}
        root, _ = self.session.tree.read(c.node_id, c.key, c.key_version, c.space)
        for e in root.body.entries:
            if isinstance(e, FolderEntry):
                fresh[e.node_id] = self._rekey(e.node_id, e.folder_key, e.key_version, c.space)
        kv = root.key_version + 1
        new_key = container_key(self.session.keys().vault, c.app_id, kv)
        change = partial(edits.rekey, fresh=fresh)
        self.session.tree.update(c.node_id, c.key, change, c.key_version, c.space, new_key=new_key)
        self.session.save()
        if envelope_for is not None:
            self._hand_over(c, new_key, kv, apps)

    def _rekey(self, node: bytes, key: FolderKey, kv: int, space: Space) -> tuple[FolderKey, int]:
        folder, _ = self.session.tree.read(node, key, kv, space)
        fresh: dict[bytes, tuple[FolderKey, int]] = {}
        for e in folder.body.entries:
            if isinstance(e, FolderEntry):
                fresh[e.node_id] = self._rekey(e.node_id, e.folder_key, e.key_version, space)
        new_key = FolderKey.generate()
        self.session.tree.update(node, key, partial(edits.rekey, fresh=fresh), kv, space,
                                 new_key=new_key)  # fmt: skip
        return new_key, folder.key_version + 1

    def _hand_over(self, c: Container, key: FolderKey, kv: int, apps: list[dict[str, Any]]) -> None:
        """The new container key to the container's own app (its envelope on the server)."""
        owner = _verified_key(apps, c.app_id)
        envelope = seal_envelope(
            key, share_id=envelope_id(c.app_id), node_id=c.node_id, key_version=kv,
            role=ROLE_WRITE, sender=self.session.identity, recipient=owner,
        )  # fmt: skip
        self.session.api.request("PUT", f"/v1/apps/{c.app_id}/envelope",
                                 json={"envelope": b64e(envelope)})  # fmt: skip


def _verified_key(apps: list[dict[str, Any]], app_id: str) -> IdentityBundle:
    for a in apps:
        if a["app_id"] == app_id:
            if not a["verified"]:
                raise UsageError(f"app {app_id}'s key is not signed by this account: refused")
            key: IdentityBundle = a["key"]
            return key
    raise PathNotFoundError(f"no authorized app {app_id}")


def _same(body: ManifestBody) -> ManifestBody:
    return body
