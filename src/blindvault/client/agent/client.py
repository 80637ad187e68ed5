"""What a command asks of the agent: start it, hand it a key, fetch a key, status, lock.

Every connection first checks the directory and socket (ownership, mode; `paths`), then
the peer's uid. A missing socket means "locked" (None); a socket nobody answers on means a
killed or wedged agent (`AgentUnavailableError`), and the caller falls back to the password.
`lock` asks the agent to wipe its keys and, if it does not answer, kills it by its pidfile."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from blindvault.client.agent.paths import (
    AgentPaths,
    check_dir,
    check_peer,
    check_socket,
    make_dir,
    paths,
)
from blindvault.client.agent.protocol import SECRET_ENV, read_message, send_message
from blindvault.errors import FormatError, LocalError

__all__ = ["AgentUnavailableError", "Unlocked", "fetch", "forget", "lock", "status", "unlock"]

DAEMON = "blindvault.client.agent.daemon"  # the bare key holder (the CLI adds a runner)
_TIMEOUT = 5.0  # generous: a busy machine must not look like a dead agent
_START_WAIT = 60.0  # the agent imports the whole client first: slow on a busy machine


class AgentUnavailableError(LocalError):
    """An agent socket exists but nothing sane answers on it (killed, wedged)."""


@dataclass(frozen=True)
class Unlocked:
    key: bytes
    until_ms: int


def _ask(where: AgentPaths, request: dict[str, Any]) -> dict[str, Any]:
    """One request; PolicyError if the directory, socket or peer is not this user's."""
    gone = AgentUnavailableError(f"the key agent at {where.socket} does not answer (killed?)")
    check_dir(where.dir)
    try:
        check_socket(where.socket)
    except FileNotFoundError:
        raise gone from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_TIMEOUT)
    try:
        try:
            sock.connect(str(where.socket))
        except OSError:
            raise gone from None
        check_peer(sock)
        try:
            send_message(sock, request)
            return read_message(sock)
        except (OSError, FormatError):
            raise gone from None
    finally:
        sock.close()


def fetch(server: str, email: str, where: AgentPaths | None = None) -> Unlocked | None:
    """The vault key the agent holds for (server, email); None when locked."""
    where = where or paths()
    if not os.path.lexists(where.socket):
        return None
    answer = _ask(where, {"op": "get", "server": server, "email": email})
    if not answer.get("ok"):
        return None
    try:
        key = base64.b64decode(str(answer["key"]), validate=True)
        until = int(answer["until_ms"])
    except (KeyError, ValueError, TypeError):
        raise AgentUnavailableError("the key agent sent a malformed answer") from None
    if len(key) != 32:
        raise AgentUnavailableError("the key agent sent a malformed answer")
    return Unlocked(key, until)


def unlock(
    server: str,
    email: str,
    key: bytes,
    seconds: int,
    where: AgentPaths | None = None,
    module: str = DAEMON,
) -> int:
    """Hand the vault key to the agent (starting `python -m module DIR` if none runs);
    returns until when (ms)."""
    where = where or paths()
    make_dir(where.dir)
    request = {
        "op": "put",
        "server": server,
        "email": email,
        "key": base64.b64encode(key).decode(),
        "seconds": seconds,
    }
    try:
        answer = _ask(where, request) if os.path.lexists(where.socket) else None
    except AgentUnavailableError:
        _kill(where)
        answer = None
    if answer is None:
        _start(where, module)
        answer = _ask(where, request)
    if not answer.get("ok"):
        raise AgentUnavailableError(f"the key agent refused: {answer.get('error')}")
    return int(answer["until_ms"])


def status(where: AgentPaths | None = None) -> list[dict[str, Any]]:
    """The unlocked entries (server, email, until_ms); [] when locked."""
    where = where or paths()
    if not os.path.lexists(where.socket):
        return []
    answer = _ask(where, {"op": "status"})
    entries = answer.get("entries")
    return list(entries) if isinstance(entries, list) else []


def lock(where: AgentPaths | None = None) -> bool:
    """Wipe every key and end the agent; kill it by pidfile if it does not answer.
    Returns whether an agent was there."""
    where = where or paths()
    if not os.path.lexists(where.dir):
        return False
    check_dir(where.dir)
    there = os.path.lexists(where.socket) or os.path.lexists(where.pidfile)
    try:
        if os.path.lexists(where.socket):
            _ask(where, {"op": "lock"})
            _wait_gone(where)
    except AgentUnavailableError:
        pass
    _kill(where)
    return there


def forget(server: str, email: str, where: AgentPaths | None = None) -> bool:
    """Wipe this account's key (at `logout`); whether the agent held one. Best effort: an
    agent that does not answer is left to its deadline (or `lock`)."""
    where = where or paths()
    if not os.path.lexists(where.socket):
        return False
    try:
        answer = _ask(where, {"op": "forget", "server": server, "email": email})
    except AgentUnavailableError:
        return False
    return bool(answer.get("wiped"))


def _start(where: AgentPaths, module: str) -> None:
    """Start the agent (it forks into its own session and the launcher exits at once)."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}  # no password kept
    try:
        launcher = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", module, str(where.dir)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            check=False,
            timeout=_START_WAIT,
        )
    except subprocess.TimeoutExpired:
        raise AgentUnavailableError("the key agent did not start") from None
    if launcher.returncode not in (0, 3):  # 3: a concurrent `unlock` started one first
        raise AgentUnavailableError("the key agent did not start")
    deadline = time.monotonic() + _START_WAIT
    while not os.path.lexists(where.socket) or not os.path.lexists(where.pidfile):
        if time.monotonic() > deadline:
            raise AgentUnavailableError("the key agent did not start")
        time.sleep(0.01)


def _agent_pid(where: AgentPaths) -> int | None:
    """The pid in the pidfile, if that process is this user's agent."""
    try:
        pid = int(where.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    proc = f"/proc/{pid}"
    if os.path.isdir("/proc"):  # the agent is not dumpable: /proc/PID is root's, read status
        try:
            with open(f"{proc}/status", "rb") as f:
                uids = [line.split()[1] for line in f if line.startswith(b"Uid:")]
            with open(f"{proc}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, IndexError):
            return None
        if uids != [str(os.getuid()).encode()]:
            return None
        if b"blindvault" not in cmdline or b"agent" not in cmdline:  # mutant: agent.kill-agent
            return None
    return pid


def _wait_gone(where: AgentPaths) -> None:
    deadline = time.monotonic() + _TIMEOUT
    while os.path.lexists(where.pidfile) and time.monotonic() < deadline:
        time.sleep(0.01)


def _kill(where: AgentPaths) -> None:
    """SIGKILL the agent named by the pidfile (if it is ours), then remove its files."""
    pid = _agent_pid(where)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + _TIMEOUT
        while os.path.isdir(f"/proc/{pid}") and time.monotonic() < deadline:
            if _zombie(pid):
                break
            time.sleep(0.01)
    for path in (where.socket, where.pidfile):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b") ", 1)[1][:1] == b"Z"
    except (OSError, IndexError):
        return True
