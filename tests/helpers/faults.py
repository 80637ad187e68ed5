"""Faults with real processes: a `blindvault server` on PostgreSQL + SeaweedFS that a test can
SIGKILL and restart, a SeaweedFS of its own that a test can stop and start again on the same
data and ports, and the adversarial proxy in front so a fault can be fired at an exact request.

BLINDVAULT_LONG_TESTS=1 repeats each kill at more moments (see ROUNDS)."""

from __future__ import annotations

import secrets
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from blindvault.cli import main
from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.kdf import KdfParams
from helpers.budgets import LONG
from helpers.proxy import Exchange, Proxy
from helpers.servers import Weed, s3_spec, start_server, stop

__all__ = ["LONG", "Server", "User", "Weed", "kill_during", "proxy", "server", "signup", "user"]

PASSWORD = "fault-tolerant password"
FAST_KDF = KdfParams.argon2id(19456, 2, 1)


@dataclass
class Server:
    """One `blindvault server` process behind the proxy; `kill()` is SIGKILL."""

    data: Path
    db: str
    blobs: str
    proxy: Proxy
    proc: subprocess.Popen[bytes] | None = None
    kills: int = 0
    log: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.proc, url = start_server(self.data, "--db", self.db, "--blobs", self.blobs)
        self.proxy.upstream = url

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc, timeout=2)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    p = Proxy("http://127.0.0.1:9")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def server(proxy: Proxy, pg_url: str, weed: str, tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "srv" / "data"
    data.mkdir(parents=True)
    s = Server(data, pg_url, s3_spec(weed), proxy)
    s.start()
    try:
        yield s
    finally:
        s.close()


@dataclass
class User:
    home: Path
    email: str
    proxy: Proxy
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.monkeypatch.setenv("BLINDVAULT_HOME", str(self.home))
        self.monkeypatch.setenv("BLINDVAULT_PASSWORD", PASSWORD)
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def token(self) -> str:
        import json

        (state,) = (self.home / "accounts").glob("*.json")
        return str(json.loads(state.read_text())["token"])

    def api(self, method: str, path: str) -> httpx.Response:
        return httpx.request(
            method,
            self.proxy.upstream + path,
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=30,
        )

    def check_no_partial_blob(self) -> None:
        """Every blob the server lists is whole: its bytes have the size it claims."""
        listed = self.api("GET", "/v1/blobs").json()["blobs"]
        for b in listed:
            assert len(self.api("GET", f"/v1/blobs/{b['id']}").content) == b["size"]


def signup(
    proxy: Proxy, tmp: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str]
) -> User:
    home = tmp / f"home-{secrets.token_hex(3)}"
    email = f"f{secrets.token_hex(4)}@example.org"
    vault, _ = Vault.signup(proxy.url, email, PASSWORD, store=StateStore(home), params=FAST_KDF)
    vault.close()
    return User(home, email, proxy, mp, cap)


@pytest.fixture
def user(
    server: Server,
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> User:
    return signup(proxy, tmp_path, monkeypatch, capsys)


def kill_during(proxy: Proxy, match: str, method: str, action: object, delay: float) -> object:
    """On the first request matching: run `action` `delay` seconds after it is forwarded
    (0: before it reaches the server). If the server answers sooner, the action runs at
    once and the answer is dropped: the server did the work, then died before replying.
    Either way the fault lands inside this request, never in a later one."""
    fired, done = threading.Event(), threading.Event()
    lock = threading.Lock()

    def act() -> None:
        with lock:
            if not done.is_set():
                done.set()
                action()  # type: ignore[operator]

    def before(ex: Exchange) -> None:
        if fired.is_set() or ex.method != method or match not in ex.path:
            return
        fired.set()
        ex.mutated = True
        if delay <= 0:
            act()
        else:
            threading.Timer(delay, act).start()

    def after(ex: Exchange) -> None:
        if ex.mutated and not done.is_set():
            act()
            ex.drop = True

    proxy.before(before)
    proxy.add(after)
    before.fired = fired  # type: ignore[attr-defined]
    return before
