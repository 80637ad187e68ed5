"""Pairing a new device by code (issue 17, part 4).

    signed-in device (`devices add`)            new device (`login --pair CODE`)
    A = SPAKE2_A(words) ──POST /pairings──▶ relay: channel
    shows CHANNEL-word-word-word (+ QR)  ··· user types it ···
                                             GET /pairings/CH ◀── A's message
                                             B = SPAKE2_B(words); K = finish(A)
                        relay ◀──POST /pairings/CH/join── B's message, tag(K), name
    K' = finish(B); tag must match (else: `fail`, mailbox closed, nobody gets anything)
    both show the confirmation string derived from K
    POST accept → the new device's token; PUT payload = AEAD_K(account payload)
                                             POST receive (claim) → payload; open, check

The payload carries the account's email, the new device's token and id, the vault key,
and this device's pins and high-water marks (own identity fingerprint, KDF pin, key
bundle version, signed root, folder heads, peers, rosters): the new device starts from
the signed-in device's verified state instead of trusting the server on first contact.
It then opens the key bundle with the vault key and checks it against those pins exactly
like a password login (`account.check_bundle`), and reads the signed root. Nothing is
saved on the new device before all of that passed; on any failure its token is revoked.
Later commands on the new device open the vault with the password, as on every device:
no key is kept on disk.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import httpx

from blindvault.client.account import check_bundle
from blindvault.client.local.state import AccountState, StateStore
from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.session import Session
from blindvault.core.kdf import normalize_email
from blindvault.core.keybundle import KeyBundle
from blindvault.core.keys import VaultKey
from blindvault.core.pake import Handshake, PairingCode, PairingKeys, new_words
from blindvault.errors import (
    BlindvaultError,
    CredentialError,
    FormatError,
    GoneError,
    IntegrityError,
    PolicyError,
)
from blindvault.wire import accounts as wire
from blindvault.wire.pairing import (
    PairingClaim,
    PairingDelivery,
    PairingOffer,
    PairingOpened,
    PairingStatus,
)

__all__ = ["PairedDevice", "add_device", "join"]

PAYLOAD_VERSION = 1
_LOCAL = ("server", "email", "token", "device_id")  # this device's own; never copied


@dataclass(frozen=True, slots=True)
class PairedDevice:
    device_id: str
    device_name: str
    confirmation: str


def add_device(
    session: Session,
    *,
    show: Callable[[str, float], None],
    confirm: Callable[[str, str], bool],
    poll: float = 0.5,
) -> PairedDevice:
    """On the signed-in device: show a code (`show(code, expires_at)`), wait for the new
    device, check its tag, ask `confirm(confirmation, device_name)`, then send it the
    account sealed under the SPAKE2 key. A wrong code or a refusal ends the pairing."""
    api = session.api
    words = new_words()
    handshake = Handshake(words, signed_in=True)
    opened = api.post_as(PairingOpened, "/v1/pairings", {"message": b64e(handshake.message)})
    channel = opened.channel
    show(str(PairingCode(channel, words)), opened.expires_at)
    status = _wait_for_join(api, channel, poll)
    try:
        keys = handshake.finish(b64d(status.message), channel)
        keys.check_confirm(b64d(status.confirm))
    except (IntegrityError, FormatError):
        api.request("POST", f"/v1/pairings/{channel}/fail")
        raise CredentialError(
            "the code was entered wrongly (or guessed) on the other device: the pairing "
            "ended and nothing was sent; run `blindvault devices add` again"
        ) from None
    name = status.device_name or "device"
    if not confirm(keys.confirmation, name):
        api.request("POST", f"/v1/pairings/{channel}/fail")
        raise CredentialError("pairing refused here: the pairing ended and nothing was sent")
    device = api.post_as(wire.Session, f"/v1/pairings/{channel}/accept", {})
    sealed = keys.seal(_payload(session, device))
    api.request("PUT", f"/v1/pairings/{channel}/payload", json={"sealed": b64e(sealed)})
    return PairedDevice(device.device_id, name, keys.confirmation)


def _wait_for_join(api: ApiClient, channel: str, poll: float) -> PairingStatus:
    while True:
        status = api.get_as(PairingStatus, f"/v1/pairings/{channel}/status")
        if status.state != "open":
            break
        time.sleep(poll)
    if status.state != "joined" or status.message is None or status.confirm is None:
        raise GoneError(410, "pairing_gone", "the pairing ended before the new device joined")
    return status


def _payload(session: Session, device: wire.Session) -> bytes:
    state = session.state
    trust = {f.name: getattr(state, f.name) for f in fields(state) if f.name not in _LOCAL}
    body = {
        "v": PAYLOAD_VERSION,
        "email": state.email,
        "token": device.token,
        "device_id": device.device_id,
        "vault_key": b64e(session.keys().vault.material),
        "state": trust,
    }
    return json.dumps(body, sort_keys=True).encode("utf-8")


def join(
    server: str,
    code: str,
    *,
    store: StateStore,
    insecure: bool,
    device_name: str,
    show: Callable[[str], None],
    poll: float = 0.5,
    transport: httpx.BaseTransport | None = None,
) -> Session:
    """On the new device: run the exchange, show the confirmation string, collect the
    payload and open the account with it (checked against the pins it carries)."""
    parsed = PairingCode.parse(code)
    api = ApiClient(server, insecure=insecure, transport=transport)
    channel = parsed.channel
    offer = api.get_as(PairingOffer, f"/v1/pairings/{channel}")
    handshake = Handshake(parsed.words, signed_in=False)
    keys = handshake.finish(b64d(offer.message), channel)
    api.retries = 0  # the mailbox takes one join: a retried one would be refused
    body = {
        "message": b64e(handshake.message),
        "confirm": b64e(keys.confirm_tag()),
        "device_name": device_name,
    }
    claim = api.post_as(PairingClaim, f"/v1/pairings/{channel}/join", body).claim
    show(keys.confirmation)
    api.retries = 4
    sealed = _wait_for_payload(api, channel, claim, poll)
    try:
        return _open_account(api, keys, sealed, store)
    except BlindvaultError:
        with contextlib.suppress(BlindvaultError):  # an honest relay revokes the new row
            api.request("POST", f"/v1/pairings/{channel}/abandon", json={"claim": claim})
        raise


def _wait_for_payload(api: ApiClient, channel: str, claim: str, poll: float) -> bytes:
    while True:
        try:
            got = api.post_as(PairingDelivery, f"/v1/pairings/{channel}/receive", {"claim": claim})
        except GoneError:
            raise CredentialError(
                "the signed-in device refused the code (wrong code, or the pairing was "
                "declined or expired): the pairing ended; start again with a new code"
            ) from None
        if got.state == "sealed" and got.sealed is not None:
            return b64d(got.sealed)
        time.sleep(poll)


def _open_account(api: ApiClient, keys: PairingKeys, sealed: bytes, store: StateStore) -> Session:
    payload = _parse_payload(keys.open(sealed))  # IntegrityError if the relay changed it
    state = AccountState(server=api.base_url, email=payload["email"], **payload["state"])
    state.token, state.device_id = payload["token"], payload["device_id"]
    api.token = state.token
    try:
        account = api.get_as(wire.Account, "/v1/account")
        bundle = KeyBundle.decode(b64d(account.key_bundle))
        vault: VaultKey = payload["vault_key"]
        if not state.own_fingerprint:  # the pin comes over the channel, never from the server
            raise PolicyError("the paired device sent no identity pin")
        opened = check_bundle(
            bundle, account, state, state.email, lambda b: b.open_with_vault(vault, state.email)
        )
        session = Session.start(api, state, store, opened)
    except BlindvaultError:
        _forget_token(api)
        raise
    session.save()
    return session


def _parse_payload(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
        ok = isinstance(data, dict) and data.get("v") == PAYLOAD_VERSION
        trust = data["state"] if ok else None
        allowed = {f.name for f in fields(AccountState)} - set(_LOCAL)
        ok = ok and isinstance(trust, dict) and set(trust) <= allowed
        for key in ("email", "token", "device_id", "vault_key"):
            ok = ok and isinstance(data.get(key), str)
        if not ok:
            raise FormatError("the paired device sent a payload of an unknown shape")
        data["vault_key"] = VaultKey(b64d(data["vault_key"]))
    except (ValueError, KeyError, TypeError, FormatError):
        raise FormatError("the paired device sent a payload of an unknown shape") from None
    if normalize_email(data["email"]) != data["email"]:
        raise FormatError("the paired device sent a payload of an unknown shape")
    return dict(data)


def _forget_token(api: ApiClient) -> None:
    with contextlib.suppress(BlindvaultError):  # else it expires; nothing was saved here
        api.request("DELETE", "/v1/sessions/current")
