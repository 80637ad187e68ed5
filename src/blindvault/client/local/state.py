"""Local client state: sessions, pins and high-water marks, one JSON file per account.

Everything lives under `$BLINDVAULT_HOME` when set, else the platform's user state
directory (`$XDG_STATE_HOME/blindvault`, default `~/.local/state/blindvault`). Writes go
to a temporary file, are fsynced and renamed, so a crash never leaves half a file.
Nothing secret is stored here: tokens are bearer tokens the server can revoke, pins and
heads are public values, and share mount names are bound here (`mounts`). No key is kept
on disk at all: the vault key exists only in memory while a command runs, derived again
from the password each time; so does the proof of the current secret (`Vault.proof`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blindvault.client.local.files import atomic_write
from blindvault.errors import FormatError, RollbackError

__all__ = ["AccountState", "StateStore", "state_home"]


def state_home() -> Path:
    env = os.environ.get("BLINDVAULT_HOME")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "blindvault"


@dataclass
class AccountState:
    """What this device remembers about one account on one server."""

    server: str
    email: str
    token: str = ""
    device_id: str = ""
    kdf_pin: dict[str, Any] | None = None
    own_fingerprint: str = ""
    bundle_version: int = 0
    peers: dict[str, str] = field(default_factory=dict)  # email -> fingerprint hex
    heads: dict[str, list[Any]] = field(default_factory=dict)  # node hex -> [version, hash hex]
    root_sequence: int = 0
    root_hash: str = ""
    rosters: dict[str, int] = field(default_factory=dict)  # node hex -> highest roster version
    roster_heads: dict[str, list[Any]] = field(default_factory=dict)  # node -> [ver, hash]
    key_versions: dict[str, int] = field(default_factory=dict)  # share node hex -> key version
    mounts: dict[str, list[str]] = field(default_factory=dict)  # @name -> [owner email, node]
    # social recovery, as a contact (issue 17): request id hex -> when this device first saw
    # it (ms, its own clock), the device key whose code the user confirmed, whether released
    recovery_seen: dict[str, int] = field(default_factory=dict)
    recovery_approved: dict[str, str] = field(default_factory=dict)
    recovery_released: list[str] = field(default_factory=list)
    org_key_pin: str = ""  # the organisation recovery key this account consented to (hex id)
    ca_pin: str = ""  # SHA-256 of the server CA's descriptor, pinned at first contact
    audit_head: list[Any] = field(default_factory=list)  # [seq, hash hex] last verified
    # upload-only links (issue 19): "link id hex.drop id hex" of every drop this device
    # imported or quarantined, so a drop the server serves again is never imported twice
    drops_seen: list[str] = field(default_factory=list)
    drop_links: bool = False  # this account has upload-only links: import drops on open
    # invitations (issue 19): folders to share with addresses that had no account yet
    # ({email, remote, write, created_at}); nothing is sealed until one is completed
    invitations: list[dict[str, Any]] = field(default_factory=list)
    # groups (issue 19): group id hex -> [version, hash hex] of the newest group roster seen
    group_heads: dict[str, list[Any]] = field(default_factory=dict)

    def remember_head(self, node_id: bytes, version: int, digest: bytes) -> None:
        """Advance the high-water mark of a folder; never move it backwards."""
        key = node_id.hex()
        old = self.heads.get(key)
        if old is not None and int(old[0]) > version:
            raise RollbackError
        self.heads[key] = [version, digest.hex()]

    def head(self, node_id: bytes) -> tuple[int, bytes] | None:
        old = self.heads.get(node_id.hex())
        if old is None:
            return None
        return int(old[0]), bytes.fromhex(str(old[1]))


class StateStore:
    """Reads and writes `AccountState` files under one home directory."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or state_home()

    def _path(self, server: str, email: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in f"{email}@{server}")
        return self.home / "accounts" / f"{safe}.json"

    def current_path(self) -> Path:
        return self.home / "current.json"

    def load(self, server: str, email: str) -> AccountState:
        path = self._path(server, email)
        if not path.exists():
            return AccountState(server=server, email=email)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return AccountState(**raw)
        except (ValueError, TypeError) as exc:
            raise FormatError(f"local state file is damaged: {path}") from exc

    def save(self, state: AccountState) -> None:
        data = json.dumps(state.__dict__, indent=1, sort_keys=True).encode("utf-8")
        atomic_write(self._path(state.server, state.email), data)

    def set_current(self, server: str, email: str) -> None:
        data = json.dumps({"server": server, "email": email}).encode("utf-8")
        atomic_write(self.current_path(), data)

    def current(self) -> tuple[str, str] | None:
        path = self.current_path()
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return str(raw["server"]), str(raw["email"])
        except (ValueError, KeyError, TypeError) as exc:
            raise FormatError("local state file is damaged: current.json") from exc

    def clear_current(self) -> None:
        self.current_path().unlink(missing_ok=True)
