"""Social recovery on the new device: ask, wait for approvals, finish (issue 17).

`start` makes a fresh X25519 key for this request only and shows the short code derived
from it; the contacts compare that code before approving, and each approval is the
contact's share sealed to that key. `finish` opens the approvals, counts *distinct* shares
of one split (a replayed or duplicated approval counts once), refuses below the threshold
the shares themselves carry, combines them into the recovery key and ends in the same
path as `blindvault recover`: the recovery key logs in and a new password is set.

The request's key and token are kept in `$BLINDVAULT_HOME/recovery/<id>.json` (mode 0600)
between `start` and `finish` — the only secret this project writes to disk unsealed,
because the device has no password yet; it opens nothing but this request's approvals and
is deleted by `finish` and `cancel`.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from blindvault.client.account import recover_with_key
from blindvault.client.account_keys import replace_keys
from blindvault.client.local.files import atomic_write
from blindvault.client.local.state import StateStore
from blindvault.client.net.http import ApiClient, b64d, b64e
from blindvault.client.session import Session
from blindvault.client.tree import now_ms
from blindvault.core import primitives, social
from blindvault.core.kdf import normalize_email
from blindvault.core.recovery import combine_recovery_shares, share_info
from blindvault.errors import (
    FormatError,
    IntegrityError,
    LocalError,
    PolicyError,
    RemoteError,
    UsageError,
)
from blindvault.wire import recovery as wire

__all__ = ["Collected", "PendingRequest", "cancel", "collect", "finish", "load", "start"]

Transport = httpx.BaseTransport | None


@dataclass(frozen=True)
class PendingRequest:
    """A request this device made (kept on disk between `start` and `finish`)."""

    server: str
    email: str
    request_id: str
    token: str
    device_secret: bytes
    created_ms: int

    @property
    def device_key(self) -> bytes:
        return primitives.x25519_public_key(self.device_secret)

    @property
    def code(self) -> str:
        return social.request_code(bytes.fromhex(self.request_id), self.email, self.device_key)


@dataclass(frozen=True)
class Collected:
    state: str
    shares: list[str]  # distinct valid shares of one split
    threshold: int  # what those shares say they need (0: none yet)
    rejected: int  # approvals that did not open for this request and device


def _folder(store: StateStore) -> Path:
    return store.home / "recovery"


def _save(store: StateStore, req: PendingRequest) -> None:
    data = {
        "server": req.server, "email": req.email, "request_id": req.request_id,
        "token": req.token, "device_secret": req.device_secret.hex(),
        "created_ms": req.created_ms,
    }  # fmt: skip
    atomic_write(_folder(store) / f"{req.request_id}.json", json.dumps(data).encode())


def start(
    server: str, email: str, *, store: StateStore, insecure: bool, transport: Transport = None
) -> PendingRequest:
    """Open a request for `email`'s account; its code is `result.code`."""
    email = normalize_email(email)
    secret, rid = os.urandom(32), os.urandom(16).hex()
    api = ApiClient(server, insecure=insecure, transport=transport)
    try:
        answer = api.post_as(
            wire.Started,
            "/v1/recovery/requests",
            {"email": email, "request_id": rid,
             "device_key": b64e(primitives.x25519_public_key(secret))},
        )  # fmt: skip
    finally:
        api.close()
    if answer.request_id != rid:
        raise IntegrityError("the server answered for another request")
    req = PendingRequest(api.base_url, email, rid, answer.token, secret, now_ms())
    _save(store, req)
    return req


def load(store: StateStore, request_id: str | None) -> PendingRequest:
    """The request made on this device (the only one if `request_id` is None)."""
    folder = _folder(store)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if request_id is not None:
        files = [f for f in files if f.stem == request_id]
    if not files:
        raise UsageError("no recovery request from this device: run `recovery start` first")
    if len(files) > 1:
        raise UsageError("several recovery requests on this device: name one (--request ID)")
    try:
        raw: dict[str, Any] = json.loads(files[0].read_text(encoding="utf-8"))
        return PendingRequest(
            str(raw["server"]), str(raw["email"]), str(raw["request_id"]), str(raw["token"]),
            bytes.fromhex(str(raw["device_secret"])), int(raw["created_ms"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"local recovery request file is damaged: {files[0]}") from exc


def _api(req: PendingRequest, insecure: bool, transport: Transport) -> ApiClient:
    return ApiClient(req.server, insecure=insecure, transport=transport)


def collect(req: PendingRequest, *, insecure: bool, transport: Transport = None) -> Collected:
    """The request's state and the distinct shares its approvals hold for this device."""
    api = _api(req, insecure, transport)
    try:
        answer = api.post_as(
            wire.RequestState, f"/v1/recovery/requests/{req.request_id}/poll",
            {"token": req.token},
        )  # fmt: skip
    finally:
        api.close()
    rid, rejected = bytes.fromhex(req.request_id), 0
    by_index: dict[tuple[int, int], str] = {}
    thresholds: set[int] = set()
    for item in answer.approvals:
        try:
            _, share = social.open_approval(
                b64d(item.approval), request_id=rid, owner_email=req.email,
                device_secret=req.device_secret,
            )  # fmt: skip
            ident, index, threshold = share_info(share)
        except (IntegrityError, FormatError):
            rejected += 1
            continue
        by_index.setdefault((ident, index), share)
        thresholds.add(threshold)
    if len({ident for ident, _ in by_index}) > 1 or len(thresholds) > 1:
        raise IntegrityError("the approvals hold shares of different setups")
    threshold = thresholds.pop() if thresholds else 0
    return Collected(answer.state, list(by_index.values()), threshold, rejected)


def finish(
    req: PendingRequest,
    new_password: str,
    *,
    store: StateStore,
    insecure: bool,
    printed: list[str] | None = None,
    transport: Transport = None,
) -> Session:
    """Combine the approved shares (and any printed ones), log in with the recovery key and
    set `new_password`. Below the threshold nothing is sent and nothing changes."""
    got = collect(req, insecure=insecure, transport=transport)
    shares = list(got.shares)
    for text in printed or []:
        if share_info(text)[:2] not in {share_info(s)[:2] for s in shares}:
            shares.append(text)
    threshold = max([got.threshold, *(share_info(s)[2] for s in shares)])
    # mutant: social.threshold
    if len(shares) < threshold or not shares:
        raise PolicyError(
            f"{len(shares)} of {threshold or '?'} shares so far (request {got.state}): wait "
            "for more approvals; nothing was changed"
        )
    recovery = combine_recovery_shares(shares)
    session = recover_with_key(
        req.server, req.email, recovery, store=store, insecure=insecure, transport=transport,
        device_name="social recovery",
    )  # fmt: skip
    replace_keys(session, new_password)
    _forget(store, req)
    with contextlib.suppress(RemoteError):  # a courtesy: the recovery is done either way
        session.api.post_json(
            f"/v1/recovery/requests/{req.request_id}/finish", {"token": req.token}
        )
    return session


def cancel(
    req: PendingRequest, *, store: StateStore, insecure: bool, transport: Transport = None
) -> None:
    api = _api(req, insecure, transport)
    try:
        api.post_json(f"/v1/recovery/requests/{req.request_id}/cancel", {"token": req.token})
    finally:
        api.close()
    _forget(store, req)


def _forget(store: StateStore, req: PendingRequest) -> None:
    try:
        (_folder(store) / f"{req.request_id}.json").unlink(missing_ok=True)
    except OSError as exc:
        raise LocalError(f"could not delete the recovery request file: {exc}") from exc
