"""Several people on one real server through the in-process CLI (sharing, audit and sync
tests): each with their own BLINDVAULT_HOME and password."""

from __future__ import annotations

import json
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from helpers.client import Cli

__all__ = ["User", "alice", "db", "incoming", "user"]


@dataclass
class User:
    cli: Cli
    email: str
    home: Path
    password: str

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.cli.monkeypatch.setenv("BLINDVAULT_HOME", str(self.home))
        return self.cli(*args, password=self.password)

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, (args, err)
        return out

    def json(self, *args: str) -> object:
        return json.loads(self.ok(*args, "--json"))

    def vault(self) -> Vault:
        return Vault.open(
            self.cli.server.url, self.email, self.password, store=StateStore(self.home)
        )


def user(cli: Cli, name: str) -> User:
    """A new account, signed up on the test server."""
    home = cli.home.parent / f"{name}-home"
    home.mkdir()
    email = f"{name}{secrets.token_hex(4)}@example.org"
    made = User(cli, email, home, f"{name}-pw")
    cli.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", made.password)
    code, _, err = made(
        "signup", "--accept-weak-password", "--server", cli.server.url, "--email", email,
        "--recovery-file", str(home / "words"),
    )  # fmt: skip
    assert code == 0, err
    return made


def alice(cli: Cli) -> User:
    """The `cli` fixture's own account."""
    return User(cli, cli.email, cli.home, "pw-1")


def db(cli: Cli) -> sqlite3.Connection:
    return closing(cli.server.db())  # type: ignore[return-value]


def incoming(person: User) -> list[dict[str, object]]:
    return list(person.json("shares")["incoming"])  # type: ignore[index]
