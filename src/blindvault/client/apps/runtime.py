"""An app process (issue 16): open a session from an app credential, and its containers.

The session holds the app's own key pair, the confined token and this app's high-water
marks (its own state file); no key bundle, no vault key, no signed root of the account.
A container key is taken only from an envelope signed by the account's identity (pinned in
the credential) and sealed to this app's key: a grant the server makes up, or a key it
swaps, opens nothing and is reported as unverified (`IntegrityError`).
"""

from __future__ import annotations

import httpx

from blindvault.client.apps.container import Container
from blindvault.client.apps.credential import AppCredential, check_app_id
from blindvault.client.local.state import StateStore
from blindvault.client.net.http import ApiClient, b64d
from blindvault.client.session import AppKeys, Session
from blindvault.client.tree import Tree
from blindvault.core.apps import check_attestation, envelope_id, local_key
from blindvault.core.constants import ROLE_WRITE
from blindvault.core.envelope import Envelope, open_envelope
from blindvault.core.identity import IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.errors import (
    BlindvaultError,
    FormatError,
    IntegrityError,
    PathNotFoundError,
    RollbackError,
)
from blindvault.wire.apps import AppSelf

__all__ = ["granted_container", "open_app_session", "own_container"]


def open_app_session(
    cred: AppCredential,
    *,
    store: StateStore | None = None,
    insecure: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> Session:
    store = store or StateStore()
    api = ApiClient(cred.server, cred.token, insecure=insecure, transport=transport)
    state = store.load(cred.server, f"app:{cred.app_id}:{cred.account_id.hex()}")
    tree = Tree(api, state, cred.identity, cred.account_id, rootless=True)
    keys = AppKeys(cred.identity, cred.account_id, local_key(cred.identity), cred.app_id)
    return Session(api, state, store, None, tree, app=keys)


def _open(session: Session, cred: AppCredential, data: bytes, app_id: str) -> Envelope:
    """An envelope of app `app_id`'s container key, signed by the account and sealed to this
    app, or IntegrityError (the signature is checked by `open_envelope`)."""
    env = open_envelope(data, cred.identity, cred.account_bundle)
    if env.share_id != envelope_id(app_id):  # mutant: apps.envelope-app
        raise IntegrityError(f"this key envelope is not the one of app {app_id}'s container")
    if not isinstance(env.key, FolderKey):
        raise IntegrityError("an app key envelope holds no folder key")
    return env


def _key(env: Envelope) -> FolderKey:
    if not isinstance(env.key, FolderKey):
        raise IntegrityError("an app key envelope holds no folder key")
    return env.key


def _fresh(session: Session, env: Envelope) -> Envelope:
    """Never go back to an older container key than this app has seen (P-FRESH)."""
    seen = session.state.key_versions.get(env.node_id.hex(), 0)
    if env.key_version < seen:
        raise RollbackError("the server served an older container key than this app has seen")
    session.state.key_versions[env.node_id.hex()] = env.key_version
    return env


def _attested(cred: AppCredential, me: AppSelf, app_id: str) -> IdentityBundle | None:
    for a in me.apps:
        if a.app_id != app_id:
            continue
        try:
            bundle = IdentityBundle.decode(b64d(a.bundle))
            check_attestation(cred.account_bundle, cred.account_id, app_id, bundle,
                              b64d(a.attestation))  # fmt: skip
        except BlindvaultError:
            return None
        return bundle
    return None


def own_container(session: Session, cred: AppCredential) -> Container:
    """This app's own container, under the newest key the account sealed to it."""
    me = session.api.get_as(AppSelf, "/v1/app")
    envelopes = [_open(session, cred, cred.envelope, cred.app_id)]
    if me.envelope:
        envelopes.append(_open(session, cred, b64d(me.envelope), cred.app_id))
    if any(e.node_id != cred.node_id for e in envelopes):
        raise IntegrityError("an envelope of this app's key names another container")
    env = _fresh(session, max(envelopes, key=lambda e: e.key_version))
    account = cred.account_bundle
    writers = {account.fingerprint: account, cred.identity.bundle.fingerprint: cred.identity.bundle}
    for other in me.writers:
        bundle = _attested(cred, me, other)
        if bundle is not None:
            writers[bundle.fingerprint] = bundle
    return Container(session, cred.app_id, cred.node_id, _key(env), env.key_version, writers)


def granted_container(session: Session, cred: AppCredential, app_id: str) -> Container:
    """Another app's container that the account granted to this app (read or write)."""
    check_app_id(app_id)
    if app_id == cred.app_id:
        return own_container(session, cred)
    me = session.api.get_as(AppSelf, "/v1/app")
    grant = next((g for g in me.grants if g.to_app == app_id), None)
    if grant is None:
        raise PathNotFoundError(f"no grant of app container {app_id} to this app")
    try:
        env = _open(session, cred, b64d(grant.envelope), app_id)
    except (IntegrityError, FormatError, ValueError):
        raise IntegrityError(
            f"the grant of {app_id} is unverified: not sealed and signed by the account"
        ) from None
    env = _fresh(session, env)
    owner = _attested(cred, me, app_id)
    account = cred.account_bundle
    writers = {account.fingerprint: account}
    if owner is not None:
        writers[owner.fingerprint] = owner
    if env.role == ROLE_WRITE:
        writers[cred.identity.bundle.fingerprint] = cred.identity.bundle
    return Container(session, app_id, env.node_id, _key(env), env.key_version, writers,
                     writable=env.role == ROLE_WRITE)  # fmt: skip
