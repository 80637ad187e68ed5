"""`Context`: what one CLI command run holds — its arguments, standard input (read once),
and the vaults it opened (saved and closed when it ends). No module-level state."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blindvault.cli.prompts import ask_secret
from blindvault.client.local.state import StateStore
from blindvault.core.kdf import AccountKeys, KdfParams, derive_account_keys, normalize_email
from blindvault.errors import (
    BlindvaultError,
    CredentialError,
    LocalError,
    PolicyError,
    UsageError,
)

if TYPE_CHECKING:
    from blindvault.client.agent.daemon import KeyLookup
    from blindvault.client.vault import Vault

__all__ = ["Context", "NeedsPasswordError", "agent_name"]

LINK_PASSWORD_ENV = "BLINDVAULT_LINK_PASSWORD"  # noqa: S105 (a variable name)
APP_PREFIX = "app:"  # `app:com.example.notes/path`: a path in an app container (issue 16)


class NeedsPasswordError(Exception):
    """A forwarded command (run by the agent) needs the password: it stops before doing
    anything, and the caller runs it in its own process instead."""


@dataclass
class Context:
    args: argparse.Namespace
    forwarded: bool = False  # run in the agent's fork: never prompt, give up instead
    agent_keys: KeyLookup | None = None  # in the fork: the agent's keys, without a socket
    _stdin: list[str] | None = None
    _opened: list[Vault] = field(default_factory=list)
    _vault: Vault | None = None

    # --- input ----------------------------------------------------------------------------

    def stdin_line(self) -> str:
        """The next line of standard input (read once: link, passwords, words)."""
        if self._stdin is None:
            self._stdin = sys.stdin.read().splitlines()
        if not self._stdin:
            raise UsageError("expected a line on standard input")
        return self._stdin.pop(0)

    def password(self, *, new: bool = False) -> str:
        env = "BLINDVAULT_NEW_PASSWORD" if new else "BLINDVAULT_PASSWORD"
        return self._secret(env, "New password: " if new else "Password: ", repeat=new)

    def link_password(self, *, confirm: bool) -> str:
        return self._secret(LINK_PASSWORD_ENV, "Link password: ", repeat=confirm, what="link ")

    def _secret(self, env: str, prompt: str, *, repeat: bool, what: str = "") -> str:
        """--password-stdin, else the environment variable, else a prompt on a terminal
        (never in the agent's fork: the caller runs the command itself then)."""
        if self.forwarded:
            raise NeedsPasswordError
        if getattr(self.args, "password_stdin", False):
            return self.stdin_line()
        if os.environ.get(env):
            return os.environ[env]
        if sys.stdin.isatty():
            return ask_secret(prompt, repeat=repeat)
        raise UsageError(
            f"no {what}password: set {env}, use --password-stdin, or run on a terminal"
        )

    # --- the vault --------------------------------------------------------------------------

    def store(self) -> StateStore:
        return StateStore()

    def keep(self, vault: Vault) -> Vault:
        """Save and close `vault` when the command ends, whatever happens."""
        self._opened.append(vault)
        return vault

    def open(self, *, password: bool = False) -> Vault:
        """The logged-in (or --server/--email) account's vault: with the vault key of an
        unlocked agent (issue 18), else opened with the password; with `password`, always
        the password (commands that change key material send proof of it). With
        --app-credential, the app's own container (no password: the credential)."""
        if self._vault is not None:
            return self._vault
        credential = getattr(self.args, "app_credential", None)
        if credential:
            from blindvault.client.vault import Vault

            app = Vault.open_app(Path(credential), store=self.store(), insecure=self.args.insecure)
            self._vault = self.keep(app)
            return app
        store = self.store()
        server, email = self.account(store)
        unlocked = None if password else self._unlocked(store, server, email)
        if unlocked is not None:
            self._vault = self.keep(unlocked)
            self._after_open(unlocked)
            return unlocked
        secret = self.password()  # in the agent's fork: NeedsPasswordError
        early = _derive_early(store, server, email, secret)
        from blindvault.client.vault import Vault  # the HTTP stack loads after Argon2id ran

        vault = Vault.open(
            server, email, secret, store=store, insecure=self.args.insecure, derived=early
        )
        self._vault = self.keep(vault)
        self._after_open(vault)
        return vault

    def _after_open(self, vault: Vault) -> None:
        """Dropped files are imported and pending invitations recalled (issue 19), however
        the vault was opened (password or unlocked agent)."""
        if vault.state.drop_links and not getattr(self.args, "no_drop_import", False):
            _import_drops(vault)
        # `share --complete` and `invitations` handle invitations themselves: no reminder
        # (it would complete, or offer to complete, the very invitation they act on)
        if vault.state.invitations and not getattr(self.args, "no_invite_reminder", False):
            from blindvault.cli.reminders import remind  # loaded only when needed

            remind(vault, ask=sys.stdin.isatty() and not getattr(self.args, "json", False))

    def account(self, store: StateStore) -> tuple[str, str]:
        """The (server, email) this command works on: --server/--email, else logged-in."""
        current = store.current()
        server = self.args.server or (current[0] if current else None)
        email = self.args.email or (current[1] if current else None)
        if not server or not email:
            raise CredentialError("not logged in: run `blindvault login` first")
        return server, email

    def _unlocked(self, store: StateStore, server: str, email: str) -> Vault | None:
        """The vault opened with the agent's key; None when locked. An agent that does not
        answer, or whose socket or directory is not this user's, is reported and skipped:
        the command asks for the password as if locked."""
        name = (agent_name(server), normalize_email(email))
        if self.agent_keys is not None:
            taken = self.agent_keys(*name)
            key = None if taken is None else taken[0]
        else:
            from blindvault.client.agent.client import fetch

            try:
                got = fetch(*name)
            except (LocalError, PolicyError) as exc:
                sys.stderr.write(f"blindvault: {exc}; the password is needed\n")
                return None
            key = None if got is None else got.key
        if key is None:
            return None
        from blindvault.client.vault import Vault
        from blindvault.core.keys import VaultKey

        return Vault.open_unlocked(
            server, email, VaultKey(key), store=store, insecure=self.args.insecure
        )

    def at(self, path: str) -> tuple[Vault, str]:
        """The vault and path a command argument names: `app:ID/path` is app ID's container
        (the account's view, or with --app-credential a container granted to the app)."""
        vault = self.open()
        if not path.startswith(APP_PREFIX):
            return vault, path
        app_id, _, rest = path[len(APP_PREFIX) :].partition("/")
        return vault.app(app_id), "/" + rest

    def finish(self) -> None:
        """Keep what this command verified (high-water marks, roots, rosters) and close.

        The state only ever holds verified facts (nothing is remembered before it checks
        out), so it is saved after a failure too; a failed save is reported, never silent."""
        while self._opened:
            vault = self._opened.pop()
            try:
                if vault.state.token or vault.credential is not None:
                    vault.store.save(vault.state)
            except OSError as exc:
                sys.stderr.write(f"blindvault: could not save local state: {exc}\n")
            finally:
                vault.close()

    # --- output ------------------------------------------------------------------------------

    def show(self, data: Any, text: str) -> None:
        """`data` as JSON with --json, else `text` (nothing when empty)."""
        if self.args.json:
            print(json.dumps(data, indent=1, default=str))
        elif text:
            print(text)


def agent_name(server: str) -> str:
    """The server part of an agent entry's name: the URL as the client's state keeps it."""
    return server.rstrip("/")


def _import_drops(vault: Vault) -> None:
    """Files dropped through this account's upload-only links become normal files first
    (issue 19); what happened is said on standard error, and a failure here never stops
    the command the user asked for."""
    try:
        report = vault.drops.collect()
    except BlindvaultError as exc:
        sys.stderr.write(f"blindvault: could not import dropped files now: {exc}\n")
        return
    for path in report.imported:
        sys.stderr.write(f"blindvault: dropped file imported: {path}\n")
    for path in report.quarantined:
        sys.stderr.write(f"blindvault: a drop did not verify and was quarantined: {path}\n")


def _derive_early(
    store: StateStore, server: str, email: str, secret: str
) -> tuple[KdfParams, AccountKeys] | None:
    """Run Argon2id with this device's pinned parameters before anything else is loaded.

    Its 64 MiB then come and go while the process is still small, which keeps the peak
    memory of every command under 100 MiB; `Vault.open` re-derives only if the server's
    parameters turn out to differ from the pin (and it checks them either way)."""
    state = store.load(server.rstrip("/"), normalize_email(email))
    if not state.kdf_pin or not state.token:
        return None
    params = KdfParams.from_json(state.kdf_pin)
    return params, derive_account_keys(secret, normalize_email(email), params, params)
