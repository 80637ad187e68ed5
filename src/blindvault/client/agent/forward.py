"""Forwarded commands: while an agent runs, `blindvault ls` (and a few other short
commands) hand their arguments, directory, environment and stdin/stdout/stderr to it and
wait for the exit code; the agent runs them in a fork of its already-loaded process.

This module is what the `blindvault` entry point imports before anything else, so it
loads only the standard library: a forwarded command costs an interpreter start and one
round trip on the socket, not the ~0.5 s of imports of the crypto and HTTP stacks. Every
check of `paths` applies before anything is sent. The passwords of the environment are
never sent. When the agent is absent, refused, or answers `fallback` (the account is
locked, or the command needs the password), the command runs in this process as usual,
and reports there whatever it finds (e.g. a refused agent directory)."""

from __future__ import annotations

import json
import os
import socket

from blindvault.client.agent.paths import check_dir, check_peer, check_socket, paths
from blindvault.client.agent.protocol import SECRET_ENV, read_message
from blindvault.errors import BlindvaultError

__all__ = ["FORWARDED", "forward"]

# short commands that read or change the vault and never prompt (Ctrl-C reaches this
# process, not the fork: long transfers run here, with the agent's key)
FORWARDED = frozenset({"ls", "tree", "mkdir", "mv", "rm", "whoami"})
NO_FORWARD_ENV = "BLINDVAULT_AGENT_FORWARD"  # "0": run here even when unlocked
_CONNECT_TIMEOUT = 5.0
INTERRUPTED = 130  # as cli.errors


def forward(argv: list[str]) -> int | None:
    """The exit code of `argv` run by the agent, or None: run it here."""
    if not argv or argv[0] not in FORWARDED or os.environ.get(NO_FORWARD_ENV) == "0":
        return None
    where = paths()
    if not os.path.lexists(where.socket):
        return None
    try:
        check_dir(where.dir)
        check_socket(where.socket)
    except (OSError, BlindvaultError):
        return None
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    request = {"op": "run", "argv": argv, "cwd": os.getcwd(), "env": env}
    data = json.dumps(request, separators=(",", ":")).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_CONNECT_TIMEOUT)
        try:
            sock.connect(str(where.socket))
            check_peer(sock)
            sent = socket.send_fds(sock, [data], [0, 1, 2])
            sock.sendall(data[sent:])
        except (OSError, BlindvaultError):
            return None  # nothing ran: the command runs here
        sock.settimeout(None)  # the command takes as long as it takes
        try:
            answer = read_message(sock)
        except (OSError, BlindvaultError):
            answer = {}
        except KeyboardInterrupt:  # the fork is not in this terminal's process group
            os.write(2, b"interrupted (the agent finishes the command it started)\n")
            return INTERRUPTED
    code = answer.get("code")
    if answer.get("ok") and type(code) is int:
        return code
    if answer.get("error") == "fallback":
        return None
    os.write(2, b"blindvault: the key agent ended while it ran the command\n")
    return 1
