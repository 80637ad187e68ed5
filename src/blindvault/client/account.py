"""An account's life cycle: sign up, log in (open), recover with the words, devices.

Each flow ends in a `Session` on a key bundle checked against this device's pins
(P-BIND, P-FRESH, P-OWNKEY) and a signed root checked for freshness.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx

from blindvault.client.account_keys import password_proof, recovery_proof
from blindvault.client.kdf_policy import check_login_params
from blindvault.client.local.state import AccountState, StateStore
from blindvault.client.net.answers import parse_model
from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.session import Session
from blindvault.client.tree import now_ms
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.core.kdf import (
    AccountKeys,
    KdfParams,
    account_id,
    derive_account_keys,
    normalize_email,
    recovery_auth_key,
)
from blindvault.core.keybundle import KeyBundle, OpenedBundle, new_account_bundle
from blindvault.core.keys import RecoveryKey, VaultKey
from blindvault.core.manifest import ManifestBody
from blindvault.core.recovery import recovery_key_from_words, recovery_words
from blindvault.errors import CredentialError, IntegrityError, PolicyError, RollbackError
from blindvault.wire import accounts as wire
from blindvault.wire.devices import DeviceList

__all__ = [
    "check_bundle",
    "devices",
    "log_in",
    "log_out",
    "open_unlocked",
    "recover",
    "recover_with_key",
    "revoke_device",
    "sign_up",
]

Transport = httpx.BaseTransport | None


def sign_up(
    server: str,
    email: str,
    password: str,
    *,
    store: StateStore,
    insecure: bool,
    params: KdfParams,
    device_name: str,
    post_quantum: bool,
    transport: Transport = None,
) -> tuple[Session, list[str]]:
    """Create an account (its empty root folder and first signed root included); returns
    its session and the 24 recovery words."""
    email = normalize_email(email)
    keys = derive_account_keys(password, email, params)
    recovery = RecoveryKey.generate()
    identity = Identity.generate(email, now_ms(), post_quantum=post_quantum)
    owner = account_id(email)
    opened = new_account_bundle(
        owner, email, keys.master, recovery, identity, os.urandom(16), os.urandom(16)
    )
    api = ApiClient(server, insecure=insecure, transport=transport)
    api.post_json(
        "/v1/accounts",
        {
            "email": email,
            "kdf": params.to_json(),
            "auth_key": b64e(keys.auth.material),
            "recovery_auth_key": b64e(recovery_auth_key(recovery).material),
            "key_bundle": b64e(opened.bundle.encode()),
            "identity_bundle": b64e(identity.bundle.encode()),
        },
    )
    state = AccountState(server=api.base_url, email=email)
    answer = api.post_as(
        wire.Session,
        "/v1/sessions",
        {"email": email, "auth_key": b64e(keys.auth.material), "device_name": device_name},
    )
    api.token = state.token = answer.token
    state.device_id = answer.device_id
    state.kdf_pin = params.to_json()
    state.own_fingerprint = identity.bundle.fingerprint.hex()
    state.bundle_version = opened.bundle.version
    session = Session.start(api, state, store, opened, new=True)
    session.proof = password_proof(keys.auth)
    tree = session.tree
    tree.update(opened.bundle.root_node, opened.root_key, _same, 1, tree.private, create=True)
    session.save()
    return session, recovery_words(recovery)


def log_in(
    server: str,
    email: str,
    password: str,
    *,
    store: StateStore,
    insecure: bool,
    device_name: str,
    totp: str | None,
    derived: tuple[KdfParams, AccountKeys] | None,
    min_kdf: KdfParams | None,
    transport: Transport = None,
) -> Session:
    """Log in (or reuse this device's session) and open the vault with the password."""
    email = normalize_email(email)
    api = ApiClient(server, insecure=insecure, transport=transport)
    state = store.load(api.base_url, email)
    params = KdfParams.from_json(api.post_as(wire.Prelogin, "/v1/prelogin", {"email": email}).kdf)
    pinned = KdfParams.from_json(state.kdf_pin) if state.kdf_pin else None
    check_login_params(params, pinned, min_kdf)  # P-KDFFLOOR: before anything is derived
    if derived is not None and derived[0] == params:
        keys = derived[1]
    else:
        keys = derive_account_keys(password, email, params, pinned)  # P-KDFFLOOR: first
    if not state.token:
        body: dict[str, object] = {
            "email": email,
            "auth_key": b64e(keys.auth.material),
            "device_name": device_name,
        }
        if totp:
            body["totp"] = totp
        answer = api.post_as(wire.Session, "/v1/sessions", body)
        state.token, state.device_id = answer.token, answer.device_id
        api.token = state.token
    else:  # an existing device session: the server still checks the password
        api.token = state.token
        api.request("POST", "/v1/sessions/check", json={"auth_key": b64e(keys.auth.material)})
    account = api.get_as(wire.Account, "/v1/account")
    bundle = KeyBundle.decode(b64d(account.key_bundle))
    opened = check_bundle(bundle, account, state, email, lambda b: b.open(keys.master, email))
    state.kdf_pin = params.to_json()
    session = Session.start(api, state, store, opened)
    session.proof = password_proof(keys.auth)
    session.save()
    return session


def open_unlocked(
    server: str,
    email: str,
    vault: VaultKey,
    *,
    store: StateStore,
    insecure: bool,
    transport: Transport = None,
) -> Session:
    """This device's session opened with the vault key the agent holds (issue 18): no
    password, no KDF. It needs this device's token and identity pin: the identity rebuilt
    from the served bundle must still be the pinned one (check_bundle), so a server cannot
    make the agent's key open a bundle of its choosing. No proof of the password exists in
    such a session: commands that change key material ask for the password."""
    email = normalize_email(email)
    api = ApiClient(server, insecure=insecure, transport=transport)
    state = store.load(api.base_url, email)
    if not state.token or not state.own_fingerprint:
        api.close()
        raise CredentialError("not logged in on this device: run `blindvault login` first")
    api.token = state.token
    try:
        account = api.get_as(wire.Account, "/v1/account")
        bundle = KeyBundle.decode(b64d(account.key_bundle))
        opened = check_bundle(
            bundle, account, state, email, lambda b: b.open_with_vault(vault, email)
        )
        return Session.start(api, state, store, opened)
    except BaseException:
        api.close()
        raise


def recover(
    server: str,
    email: str,
    words: str,
    *,
    store: StateStore,
    insecure: bool,
    transport: Transport = None,
) -> Session:
    """Forgotten password: the 24 words open the vault key (set a new password next)."""
    return recover_with_key(
        server, email, recovery_key_from_words(words), store=store, insecure=insecure,
        transport=transport,
    )  # fmt: skip


def recover_with_key(
    server: str,
    email: str,
    recovery: RecoveryKey,
    *,
    store: StateStore,
    insecure: bool,
    transport: Transport = None,
    device_name: str = "recovery",
) -> Session:
    """The recovery key (from the words, or combined from social recovery shares) opens the
    vault key; the caller sets a new password next."""
    email = normalize_email(email)
    api = ApiClient(server, insecure=insecure, transport=transport)
    state = store.load(api.base_url, email)
    answer = api.post_as(
        wire.Session,
        "/v1/recovery/sessions",
        {
            "email": email,
            "recovery_auth_key": b64e(recovery_auth_key(recovery).material),
            "device_name": device_name,
        },
    )
    api.token = state.token = answer.token
    state.device_id = answer.device_id
    account = api.get_as(wire.Account, "/v1/account")
    bundle = KeyBundle.decode(b64d(account.key_bundle))
    opened = check_bundle(
        bundle, account, state, email, lambda b: b.open_with_recovery(recovery, email)
    )
    session = Session.start(api, state, store, opened)
    session.proof = recovery_proof(recovery)
    return session


def check_bundle(
    bundle: KeyBundle,
    account: wire.Account,
    state: AccountState,
    email: str,
    opener: Callable[[KeyBundle], OpenedBundle],
) -> OpenedBundle:
    """Open the served key bundle if it is this account's, not older than seen, and holds
    the identity this device pinned and the server publishes."""
    # mutant: vault.bundle-owner
    if bundle.owner != account_id(email) or bundle.version != account.key_bundle_version:
        raise IntegrityError("the key bundle does not belong to this account")
    if bundle.version < state.bundle_version:  # mutant: vault.bundle-rollback
        raise RollbackError("the server returned an older key bundle")
    opened = opener(bundle)
    fingerprint = opened.identity.bundle.fingerprint.hex()
    # mutant: vault.own-identity-pin
    if state.own_fingerprint and fingerprint != state.own_fingerprint:
        raise PolicyError("this account's identity key changed since this device pinned it")
    served = IdentityBundle.decode(b64d(account.identity_bundle))
    # mutant: vault.p-ownkey
    if served.fingerprint != opened.identity.bundle.fingerprint:  # P-OWNKEY
        raise PolicyError("the server publishes an identity key that is not this account's")
    state.own_fingerprint = fingerprint
    state.bundle_version = bundle.version
    return opened


def log_out(session: Session) -> None:
    """Revoke this device's session; the local token is forgotten whatever happens."""
    try:
        session.api.request("DELETE", "/v1/sessions/current")
    finally:
        session.state.token = ""
        session.save()
        session.store.clear_current()


def devices(session: Session) -> list[dict[str, object]]:
    answer = session.api.get_json("/v1/devices")
    parse_model(answer, DeviceList)  # the shape checked; the items shown as sent
    return list(answer["devices"])


def revoke_device(session: Session, device_id: str) -> None:
    session.api.request("DELETE", f"/v1/devices/{device_id}")


def _same(body: ManifestBody) -> ManifestBody:
    return body
