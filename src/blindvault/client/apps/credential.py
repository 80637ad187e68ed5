"""An app credential file (issue 16): what an app process holds, and nothing more.

    {"format": "blindvault-app-credential", "version": 1, "server": …, "account_id": hex,
     "email": the account's, "app_id": …, "space": hex (= container root node),
     "device_id": …, "token": the confined bearer token,
     "identity": {"secret": b64, "created_ms": int}   the app's own key pair,
     "account_bundle": b64   the account's identity bundle (to check what it signed),
     "envelope": b64         the container key sealed to the app's key, signed by the account}

It never holds the vault key, the password, a device token or any key of the account's
own tree. It is written readable by its owner only (0600); anyone holding it *is* the app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindvault.client.local.files import atomic_write
from blindvault.client.net.http import b64d, b64e
from blindvault.core.apps import app_email
from blindvault.core.identity import Identity, IdentityBundle
from blindvault.errors import FormatError, LocalError, UsageError
from blindvault.wire.apps import app_id_problem

__all__ = ["AppCredential", "check_app_id"]

FORMAT = "blindvault-app-credential"
VERSION = 1


def check_app_id(app_id: str) -> str:
    problem = app_id_problem(app_id)
    if problem is not None:
        raise UsageError(problem)
    return app_id


@dataclass(frozen=True)
class AppCredential:
    server: str
    account_id: bytes
    email: str
    app_id: str
    node_id: bytes
    device_id: str
    token: str
    identity: Identity
    account_bundle: IdentityBundle
    envelope: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "server": self.server,
            "account_id": self.account_id.hex(), "email": self.email, "app_id": self.app_id,
            "space": self.node_id.hex(), "device_id": self.device_id, "token": self.token,
            "identity": {"secret": b64e(self.identity.secret),
                         "created_ms": self.identity.bundle.created_ms},
            "account_bundle": b64e(self.account_bundle.encode()),
            "envelope": b64e(self.envelope),
        }  # fmt: skip

    @classmethod
    def from_json(cls, raw: Any) -> AppCredential:
        try:
            if raw["format"] != FORMAT or raw["version"] != VERSION:
                raise FormatError("not a blindvault app credential (or an unknown version)")
            app_id = check_app_id(str(raw["app_id"]))
            ident = raw["identity"]
            identity = Identity(b64d(ident["secret"]), app_email(app_id), int(ident["created_ms"]))
            return cls(
                server=str(raw["server"]), account_id=bytes.fromhex(raw["account_id"]),
                email=str(raw["email"]), app_id=app_id, node_id=bytes.fromhex(raw["space"]),
                device_id=str(raw["device_id"]), token=str(raw["token"]), identity=identity,
                account_bundle=IdentityBundle.decode(b64d(raw["account_bundle"])),
                envelope=b64d(raw["envelope"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise FormatError(f"the app credential is damaged: {exc}") from None

    def save(self, path: Path) -> None:
        """Write it readable by this user only."""
        atomic_write(path, json.dumps(self.to_json(), indent=1).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> AppCredential:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LocalError(f"no such app credential file: {path}") from None
        except (OSError, ValueError) as exc:
            raise FormatError(f"the app credential is not readable JSON: {path}") from exc
        return cls.from_json(raw)

    def __repr__(self) -> str:
        return f"AppCredential({self.app_id!r}, {self.email!r}, <redacted>)"
