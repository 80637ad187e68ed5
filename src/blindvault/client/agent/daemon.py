"""The agent process, started by `unlock` (`python -m blindvault.cli.agent_worker`, which
adds the runner of forwarded commands; `python -m blindvault.client.agent.daemon` is the
bare key holder).

It listens on `agent.sock` in this user's 0700 agent directory, answers only peers of its
own uid (SO_PEERCRED), and keeps per (server, email) the vault key and a deadline, in
memory only (bytearrays, zeroed when they go; core dumps and ptrace attachment are turned
off where the platform allows). It keeps no password and nothing derived from one. When the
last entry expires, or on `lock`, it wipes the keys, removes its socket and pidfile and
exits; it exits too if nobody unlocks anything within its first seconds.

Forwarded runs (`forward`): a short command (`ls`, ...) of the same user is run in a fork
of this already-imported process, so it costs no interpreter start and no imports; the
fork closes the listening socket, and its first key lookup wipes every key it inherited."""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import fcntl
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindvault.client.agent.paths import AgentPaths, check_peer, make_dir
from blindvault.client.agent.protocol import (
    MAX_FDS,
    MAX_LINE,
    MAX_SECONDS,
    read_message,
    send_message,
)
from blindvault.errors import BlindvaultError

__all__ = ["Agent", "KeyLookup", "Runner", "main", "serve"]

# (server, email) -> (vault key, until ms), or None: locked. In a fork, the first lookup
# wipes every key the fork inherited, the one it returns included.
KeyLookup = Callable[[str, str], "tuple[bytes, int] | None"]
# argv, lookup -> exit code, or None: the command needs the password (nothing was done)
Runner = Callable[[list[str], KeyLookup], "int | None"]
_FALLBACK: dict[str, Any] = {"ok": False, "error": "fallback"}

IDLE_EXIT = 10.0  # seconds without any entry after start: nobody unlocked, exit
_CLIENT_TIMEOUT = 5.0  # a peer that sends nothing cannot hold the agent longer
_PR_SET_DUMPABLE = 4


@dataclass
class _Entry:
    key: bytearray
    until: float  # wall clock (seconds)
    until_mono: float  # and monotonic: whichever passes first ends the entry

    def wipe(self) -> None:
        self.key[:] = bytes(len(self.key))


class Agent:
    """The entries and the rules; `serve` adds the socket around it."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.done = False

    def expire(self) -> None:
        now, mono = time.time(), time.monotonic()
        for name, entry in list(self.entries.items()):
            if entry.until <= now or entry.until_mono <= mono:  # mutant: agent.expiry
                entry.wipe()
                del self.entries[name]

    def take(self, server: str, email: str) -> tuple[bytes, int] | None:
        """In a forwarded command's fork: the key of (server, email), if unlocked; every
        key of this copy is wiped at once (the fork needs one key, one time)."""
        self.expire()
        entry = self.entries.get((server, email))
        found = None if entry is None else (bytes(entry.key), int(entry.until * 1000))
        self.wipe()
        return found

    def wipe(self) -> int:
        count = len(self.entries)
        for entry in self.entries.values():
            entry.wipe()
        self.entries.clear()
        return count

    def next_deadline(self) -> float | None:
        if not self.entries:
            return None
        return min(e.until_mono for e in self.entries.values())

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.expire()
        op = request.get("op")
        if op == "lock":
            self.done = True
            return {"ok": True, "wiped": self.wipe()}
        if op == "status":
            entries = [
                {"server": s, "email": e, "until_ms": int(entry.until * 1000)}
                for (s, e), entry in sorted(self.entries.items())
            ]
            return {"ok": True, "pid": os.getpid(), "entries": entries}
        name = (request.get("server"), request.get("email"))
        if not all(isinstance(part, str) and part for part in name):
            return {"ok": False, "error": "bad request"}
        key = (str(name[0]), str(name[1]))
        if op == "get":
            entry = self.entries.get(key)
            if entry is None:
                return {"ok": False, "error": "locked"}
            return {
                "ok": True,
                "key": base64.b64encode(bytes(entry.key)).decode(),
                "until_ms": int(entry.until * 1000),
            }
        if op == "put":
            return self._put(key, request)
        if op == "forget":  # `logout`: this account's key goes, the others stay
            entry = self.entries.pop(key, None)
            if entry is not None:
                entry.wipe()
            self.done = not self.entries
            return {"ok": True, "wiped": int(entry is not None)}
        return {"ok": False, "error": "bad request"}

    def _put(self, name: tuple[str, str], request: dict[str, Any]) -> dict[str, Any]:
        seconds = request.get("seconds")
        if type(seconds) is not int or not 0 < seconds <= MAX_SECONDS:  # mutant: agent.max-for
            return {"ok": False, "error": "bad duration"}
        try:
            key = bytearray(base64.b64decode(str(request.get("key")), validate=True))
        except (binascii.Error, ValueError):
            return {"ok": False, "error": "bad key"}
        if len(key) != 32:
            return {"ok": False, "error": "bad key"}
        old = self.entries.pop(name, None)
        if old is not None:
            old.wipe()
        entry = _Entry(key, time.time() + seconds, time.monotonic() + seconds)
        self.entries[name] = entry
        return {"ok": True, "until_ms": int(entry.until * 1000)}


def _harden() -> None:
    """No core dump, and (Linux) no ptrace attachment by other processes of this user."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _listen(where: AgentPaths) -> socket.socket:
    make_dir(where.dir)
    with contextlib.suppress(FileNotFoundError):
        where.socket.unlink()  # a dead agent's (we hold agent.lock: no live agent has it)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(where.socket))
    finally:
        os.umask(old)
    sock.listen(8)
    tmp = where.pidfile.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, where.pidfile)
    return sock


def _handle(
    agent: Agent, conn: socket.socket, listener: socket.socket, runner: Runner | None
) -> None:
    conn.settimeout(_CLIENT_TIMEOUT)
    fds: list[int] = []
    try:
        check_peer(conn)
        first, fds, _flags, _addr = socket.recv_fds(conn, MAX_LINE, MAX_FDS)
        request = read_message(conn, first)
        if request.get("op") != "run":
            send_message(conn, agent.answer(request))
        elif runner is None or len(fds) != MAX_FDS or not _run_shape(request):
            send_message(conn, _FALLBACK)
        else:
            _fork_run(agent, conn, listener, request, fds, runner)
    except (OSError, BlindvaultError):
        pass  # a refused or broken peer gets nothing
    finally:
        for fd in fds:
            os.close(fd)


def _run_shape(request: dict[str, Any]) -> bool:
    argv, cwd, env = request.get("argv"), request.get("cwd"), request.get("env")
    return (
        isinstance(argv, list)
        and all(isinstance(a, str) for a in argv)
        and isinstance(cwd, str)
        and isinstance(env, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
    )


def _fork_run(
    agent: Agent,
    conn: socket.socket,
    listener: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    runner: Runner,
) -> None:
    """Run a command in a fork of this warm process, in the caller's directory, with its
    environment and its stdin/stdout/stderr; the caller gets the exit code (or `fallback`
    when the command needs the password: nothing was done then). The fork takes its own
    account's key from its copy of the entries (`Agent.take`), which wipes them all."""
    if os.fork() != 0:
        return
    answer = _FALLBACK  # until the command starts: the caller may run it itself
    try:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        conn.settimeout(None)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        sys.argv = ["blindvault", *request["argv"]]
        answer = {"ok": True, "code": 1}  # started: never run twice, whatever happens
        code = runner(list(request["argv"]), agent.take)
        answer = _FALLBACK if code is None else {"ok": True, "code": code}
        agent.wipe()  # if the command never asked for a key
    except SystemExit as exc:
        if answer is not _FALLBACK:
            answer = {"ok": True, "code": exc.code if isinstance(exc.code, int) else 1}
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(Exception):
            send_message(conn, answer)
        os._exit(0)


def serve(where: AgentPaths, runner: Runner | None = None) -> None:
    _harden()
    sock = _listen(where)
    started = time.monotonic()
    agent = Agent()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked runs are reaped by the kernel
    held = False  # once the last entry is gone (lock, expiry), the agent ends
    try:
        while not agent.done:
            agent.expire()
            held = held or bool(agent.entries)
            deadline = agent.next_deadline()
            if deadline is None:
                if held or time.monotonic() - started > IDLE_EXIT:
                    break
                deadline = started + IDLE_EXIT
            sock.settimeout(max(0.05, min(deadline - time.monotonic(), 60.0)))
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                _handle(agent, conn, sock, runner)
    finally:
        agent.wipe()
        sock.close()
        _remove(where)


def _remove(where: AgentPaths) -> None:
    """Remove the socket and pidfile if they are still this process's."""
    try:
        mine = where.pidfile.read_text().strip() == str(os.getpid())
    except OSError:
        mine = False
    if mine:
        with contextlib.suppress(FileNotFoundError):
            where.socket.unlink()
        with contextlib.suppress(FileNotFoundError):
            where.pidfile.unlink()


def main(argv: list[str], runner: Runner | None = None) -> int:
    """Fork: the launcher exits at once (so `unlock` leaves no child behind), the agent
    listens in the background until its last key is gone."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m blindvault.client.agent.daemon DIR\n")
        return 2
    where = AgentPaths(Path(argv[0]))
    make_dir(where.dir)  # refused (exit 1) if it is not this user's 0700 directory
    held = os.open(where.dir / "agent.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:  # one agent per directory: the lock lives as long as the agent (inherited by fork)
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 3  # another agent runs (a concurrent `unlock` started it): use that one
    if os.fork() != 0:
        return 0
    os.chdir("/")
    try:
        serve(where, runner)
    finally:
        os._exit(0)  # the forked agent never returns into the launcher's code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
