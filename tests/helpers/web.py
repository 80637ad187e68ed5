"""The browser tests' server and CLI (tests/web): one `blindvault server` process whose whole
output (stderr and the access log on stdout) goes to one file, and the `blindvault` CLI run
as a subprocess with its own BLINDVAULT_HOME, as a user would run it beside the browser;
a vault server with an account the CLI signed up (`vault_server`), and the end of a
browser page that fails the test on any JavaScript error it threw (`checked_page`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from helpers.servers import free_port, stop, wait_http

__all__ = [
    "PASSWORD",
    "VaultServer",
    "WebServer",
    "checked_page",
    "close_page",
    "run_cli",
    "vault_server",
    "web_server",
]

PASSWORD = "correct horse battery staple"  # the web vault tests' accounts (test_vault_*)


@dataclass
class WebServer:
    url: str
    data: Path
    log: Path  # stdout and stderr of the server process


@contextmanager
def web_server(base: Path, *extra: str) -> Iterator[WebServer]:
    """A server on `base/data` and a free loopback port, logging to `base/server.log`."""
    port = free_port()
    data, log = base / "data", base / "server.log"
    cmd = [sys.executable, "-m", "blindvault", "server", "--data", str(data)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), *extra],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/v1/health", timeout=180)  # returns as soon as it answers
        yield WebServer(url, data, log)
    finally:
        stop(proc)


def run_cli(
    home: Path, *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 600
) -> str:
    """`blindvault ARGS` in a process of its own; exit 0 or the test fails; its stdout.
    `env` adds variables to this process's environment (None removes one)."""
    full = {**os.environ, "BLINDVAULT_HOME": str(home)}
    for name, value in (env or {}).items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    result = subprocess.run(
        [sys.executable, "-m", "blindvault", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


@dataclass
class VaultServer:
    """A `web_server` with one account, signed up by the CLI in `home` (password PASSWORD),
    and a folder `work` for the test's own files."""

    url: str
    data: Path
    home: Path
    work: Path
    cli_env: dict[str, str] = field(default_factory=dict)  # more variables for `cli`
    measured: dict[str, float] = field(default_factory=dict)  # what a test measured

    def cli(self, *args: str) -> str:
        """`blindvault ARGS` as the account (`run_cli`): exit 0 or the test fails; its stdout."""
        env = {"BLINDVAULT_PASSWORD": PASSWORD, "BLINDVAULT_NEW_PASSWORD": PASSWORD}
        return run_cli(self.home, *args, env={**env, **self.cli_env})

    def names(self, remote: str) -> set[str]:
        """The names in the remote folder, as `blindvault ls --json` lists them."""
        return {e["name"] for e in json.loads(self.cli("ls", remote, "--json"))}


@contextmanager
def vault_server(base: Path, email: str) -> Iterator[VaultServer]:
    """A `web_server` on `base` (warnings only in its log) whose account EMAIL the CLI signs
    up in `base/home`."""
    with web_server(base, "--log-level", "warning") as web:
        srv = VaultServer(web.url, web.data, base / "home", base / "work")
        srv.work.mkdir()
        srv.cli("signup", "--server", web.url, "--email", email)
        yield srv


class BrowserPage(Protocol):
    """A test's page: its own browser context and the JavaScript errors it threw."""

    context: Any
    errors: list[str]


P = TypeVar("P", bound=BrowserPage)


def close_page(page: BrowserPage) -> None:
    """Close the page's browser context; the test fails if the page threw any error."""
    page.context.close()
    assert page.errors == [], page.errors


@contextmanager
def checked_page(page: P) -> Iterator[P]:
    """`page` for a `with` block (a fixture's yield), then `close_page` whatever happened."""
    try:
        yield page
    finally:
        close_page(page)
