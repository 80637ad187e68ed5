"""The key agent's rules without a server (issue 18): who may talk to it (directory,
socket and peer checks), how long it keeps a key, and what a forwarded command sends."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blindvault.cli.agent import parse_duration
from blindvault.client.agent import daemon
from blindvault.client.agent.client import fetch, lock
from blindvault.client.agent.forward import forward
from blindvault.client.agent.paths import AgentPaths, check_dir, check_peer, check_socket
from blindvault.client.agent.protocol import read_message, send_message
from blindvault.errors import PolicyError, UsageError

KEY = bytes(range(32))
OTHER_UID = os.getuid() + 1


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A parent for agent directories with a short path (AF_UNIX paths are ~107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="bva-") as d:
        yield Path(d)


class FakeAgent:
    """A socket in `where` that records each request and answers `answer`."""

    def __init__(self, where: AgentPaths, answer: dict[str, Any]) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fds: list[int] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(where.socket))
        self.sock.listen(4)
        self.answer = answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                first, fds, _, _ = socket.recv_fds(conn, 1 << 18, 3)
                self.fds += fds
                self.requests.append(read_message(conn, first))
                send_message(conn, self.answer)

    def close(self) -> None:
        self.sock.close()
        for fd in self.fds:
            os.close(fd)


def _agent_dir(parent: Path, mode: int = 0o700) -> AgentPaths:
    where = AgentPaths(parent / "agent")
    where.dir.mkdir(mode=0o700)
    os.chmod(where.dir, mode)
    return where


# --- who may talk to the agent ---------------------------------------------------------------


def test_directory_of_another_user_or_open_to_others_is_refused(short_dir: Path) -> None:
    where = _agent_dir(short_dir)
    check_dir(where.dir)  # this user's, 0700: fine
    with pytest.raises(PolicyError, match="owned by uid"):
        check_dir(where.dir, uid=OTHER_UID)
    for mode in (0o750, 0o705, 0o777):
        os.chmod(where.dir, mode)
        with pytest.raises(PolicyError, match="mode"):
            check_dir(where.dir)
    link = short_dir / "link"
    link.symlink_to(where.dir)
    os.chmod(where.dir, 0o700)
    with pytest.raises(PolicyError, match="not a directory"):
        check_dir(link)  # a symlink planted in a shared /tmp is not followed


def test_socket_of_another_user_or_not_a_socket_is_refused(short_dir: Path) -> None:
    where = _agent_dir(short_dir)
    fake = FakeAgent(where, {"ok": False})
    try:
        check_socket(where.socket)
        with pytest.raises(PolicyError):
            check_socket(where.socket, uid=OTHER_UID)
    finally:
        fake.close()
    where.socket.unlink()
    where.socket.write_bytes(b"")
    with pytest.raises(PolicyError):
        check_socket(where.socket)


def test_peer_of_another_uid_is_refused() -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        check_peer(a)
        with pytest.raises(PolicyError, match="peer of uid"):
            check_peer(a, uid=OTHER_UID)


def test_no_key_is_fetched_through_a_directory_others_can_enter(short_dir: Path) -> None:
    """Someone else's agent in a shared /tmp would hand out a key of its choosing (or
    collect one): a directory with group/other bits is refused before connecting."""
    where = _agent_dir(short_dir, 0o755)
    key = base64.b64encode(KEY).decode()
    fake = FakeAgent(where, {"ok": True, "key": key, "until_ms": 1})
    try:
        with pytest.raises(PolicyError):
            fetch("http://127.0.0.1:1", "a@example.org", where)
        assert fake.requests == []
    finally:
        fake.close()


def test_forward_sends_no_password_and_runs_here_on_fallback(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _agent_dir(short_dir)
    fake = FakeAgent(where, {"ok": False, "error": "fallback"})
    monkeypatch.setenv("BLINDVAULT_AGENT_DIR", str(where.dir))
    monkeypatch.setenv("BLINDVAULT_PASSWORD", "the password")
    monkeypatch.setenv("BLINDVAULT_LINK_PASSWORD", "the link password")
    try:
        assert forward(["ls", "/docs"]) is None  # fallback: the caller runs it
        assert forward(["put", "a", "/"]) is None  # not a forwarded command: not sent
        (request,) = fake.requests
        assert request["op"] == "run" and request["argv"] == ["ls", "/docs"]
        assert request["cwd"] == os.getcwd()
        assert "BLINDVAULT_PASSWORD" not in request["env"]
        assert "BLINDVAULT_LINK_PASSWORD" not in request["env"]
        assert "the password" not in json.dumps(request)
        assert request["env"]["BLINDVAULT_AGENT_DIR"] == str(where.dir)
        os.chmod(where.dir, 0o755)
        assert forward(["ls", "/docs"]) is None
        assert len(fake.requests) == 1  # refused directory: nothing sent
    finally:
        fake.close()


# --- what the agent keeps, and for how long --------------------------------------------------


def _put(agent: daemon.Agent, seconds: object, email: str = "a@example.org") -> dict[str, Any]:
    return agent.answer(
        {
            "op": "put",
            "server": "http://s",
            "email": email,
            "key": base64.b64encode(KEY).decode(),
            "seconds": seconds,
        }
    )


def _get(agent: daemon.Agent, email: str = "a@example.org") -> dict[str, Any]:
    return agent.answer({"op": "get", "server": "http://s", "email": email})


def test_entries_are_per_account_and_lock_wipes_them() -> None:
    agent = daemon.Agent()
    assert _put(agent, 60)["ok"]
    got = _get(agent)
    assert got["ok"] and base64.b64decode(got["key"]) == KEY
    assert _get(agent, "b@example.org") == {"ok": False, "error": "locked"}
    held = agent.entries[("http://s", "a@example.org")].key
    assert agent.answer({"op": "lock"}) == {"ok": True, "wiped": 1}
    assert agent.done and not agent.entries
    assert held == bytearray(32)  # the key's bytes are zeroed, not just dropped


def test_expired_entry_is_wiped_and_not_served(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = daemon.Agent()
    assert _put(agent, 5)["ok"]
    held = agent.entries[("http://s", "a@example.org")].key
    now, mono = daemon.time.time(), daemon.time.monotonic()
    monkeypatch.setattr(daemon.time, "time", lambda: now + 6)
    monkeypatch.setattr(daemon.time, "monotonic", lambda: mono + 6)
    assert _get(agent) == {"ok": False, "error": "locked"}
    assert held == bytearray(32)
    assert agent.next_deadline() is None


def test_a_fork_takes_its_key_once_and_wipes_every_copy() -> None:
    agent = daemon.Agent()
    assert _put(agent, 60)["ok"] and _put(agent, 60, "b@example.org")["ok"]
    held = [e.key for e in agent.entries.values()]
    taken = agent.take("http://s", "a@example.org")
    assert taken is not None and taken[0] == KEY
    assert all(k == bytearray(32) for k in held) and not agent.entries
    assert agent.take("http://s", "a@example.org") is None  # once


def test_unlock_duration_is_bounded() -> None:
    agent = daemon.Agent()
    for bad in (0, -1, 24 * 3600 + 1, 10**9, "60", 1.5, None):
        assert _put(agent, bad) == {"ok": False, "error": "bad duration"}, bad
    assert not agent.entries
    assert _put(agent, 24 * 3600)["ok"]


def test_forget_wipes_one_account_and_the_last_one_ends_the_agent() -> None:
    agent = daemon.Agent()
    assert _put(agent, 60)["ok"] and _put(agent, 60, "b@example.org")["ok"]
    held = agent.entries[("http://s", "a@example.org")].key
    forget = {"op": "forget", "server": "http://s", "email": "a@example.org"}
    assert agent.answer(forget) == {"ok": True, "wiped": 1}
    assert held == bytearray(32) and not agent.done
    assert _get(agent) == {"ok": False, "error": "locked"}
    assert _get(agent, "b@example.org")["ok"]
    assert agent.answer({**forget, "email": "b@example.org"})["wiped"] == 1
    assert agent.done


def test_lock_kills_only_an_agent_named_by_the_pidfile(short_dir: Path) -> None:
    """A pidfile naming another process (stale, or planted) never gets it killed."""
    where = _agent_dir(short_dir)
    victim = subprocess.Popen(["sleep", "60"])
    try:
        where.pidfile.write_text(f"{victim.pid}\n")
        assert lock(where) is True
        assert victim.poll() is None  # still running: not a blindvault agent
        assert not where.pidfile.exists()
    finally:
        victim.kill()
        victim.wait()


def test_parse_duration() -> None:
    assert parse_duration("15m") == 900
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90") == 90
    assert parse_duration("24h") == 86400
    for bad in ("25h", "0s", "0", "1441m", "soon", "", "1d", "-5m"):
        with pytest.raises(UsageError):
            parse_duration(bad)
