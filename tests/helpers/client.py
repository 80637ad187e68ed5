"""A real `blindvault server` (embedded default) on loopback for the client tests, and the
in-process CLI runner; the fixtures are re-exported by tests/client/conftest.py."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.cli import main
from blindvault.client import kdf_policy
from blindvault.client.http import ApiClient
from blindvault.client.vault import Vault
from blindvault.core.kdf import KdfParams
from helpers.servers import start_server, stop

# The hard floor (Argon2id 19 MiB, t=2, p=1): what the SDK's `min_kdf` lets tests use. The
# default (64 MiB, t=3, p=4) costs ten times as much in every command of every test.
FAST_KDF = KdfParams.argon2id(19456, 2, 1)


def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the rest of this test, the in-process CLI signs up with FAST_KDF (unless a caller
    names its parameters) and a device with no pin accepts them: the CLI's equivalent of
    the SDK's `min_kdf`, which no flag offers. Tests about the KDF policy do not call it
    (tests/client/test_attacks.py); every check still runs, on the cheaper parameters."""
    signup = Vault.signup.__func__  # type: ignore[attr-defined]

    def fast_signup(cls: type[Vault], *args: Any, params: Any = None, **kw: Any) -> Any:
        return signup(cls, *args, params=params or FAST_KDF, **kw)

    monkeypatch.setattr(Vault, "signup", classmethod(fast_signup))
    monkeypatch.setattr(kdf_policy, "UNPINNED_FLOOR", FAST_KDF)


@dataclass
class Server:
    url: str
    data: Path

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.data / "blindvault.sqlite3")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("srv") / "data"
    proc, url = start_server(data)
    try:
        yield Server(url, data)
    finally:
        stop(proc)


@dataclass
class Cli:
    """Runs `blindvault ...` in-process as one user with their own BLINDVAULT_HOME."""

    server: Server
    email: str
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(
        self, *args: str, password: str = "pw-1", stdin: str | None = None
    ) -> tuple[int, str, str]:
        self.monkeypatch.setenv("BLINDVAULT_PASSWORD", password)
        if stdin is not None:
            import io
            import sys

            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def signup(self) -> None:
        self.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "pw-1")
        code, _, err = self(
            "signup",
            "--accept-weak-password",
            "--server",
            self.server.url,
            "--email",
            self.email,
            "--recovery-file",
            str(self.home / "words.txt"),
        )
        assert code == 0, err

    @property
    def home(self) -> Path:
        return Path(str(self.monkeypatch_home))

    monkeypatch_home: str = ""


def new_cli(
    server: Server,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str = "user",
    *,
    fast: bool = True,
) -> Cli:
    """A fresh account NAME<random>@example.org on `server`, signed up with the CLI from
    `home` (made here), which is BLINDVAULT_HOME from now on. `fast`: this test's accounts
    use FAST_KDF (`fast_kdf`); False keeps the CLI's default parameters and floor."""
    if fast:
        fast_kdf(monkeypatch)
    home.mkdir()
    monkeypatch.setenv("BLINDVAULT_HOME", str(home))
    monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    c = Cli(server, f"{name}{secrets.token_hex(5)}@example.org", monkeypatch, capsys, str(home))
    c.signup()
    return c


@pytest.fixture
def cli(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return new_cli(server, tmp_path / "home", monkeypatch, capsys)


def record_requests(cli: Cli) -> list[tuple[str, str]]:
    """Every request the client sends from now on, as (method, path), in order."""
    sent: list[tuple[str, str]] = []
    real = ApiClient.request

    def request(self: ApiClient, method: str, path: str, *args: Any, **kw: Any) -> Any:
        sent.append((method, path))
        return real(self, method, path, *args, **kw)

    cli.monkeypatch.setattr(ApiClient, "request", request)
    return sent


def after(sent: list[tuple[str, str]], lie: tuple[str, str]) -> list[tuple[str, str]]:
    """What was sent after the (first) answer that lied."""
    assert lie in sent, sent
    return sent[sent.index(lie) + 1 :]
