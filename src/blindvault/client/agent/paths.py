"""Where the agent lives, and the checks that keep another user's socket out.

The directory is `$BLINDVAULT_AGENT_DIR` when set, else `$XDG_RUNTIME_DIR/blindvault-agent`,
else `$TMPDIR/blindvault-agent-<uid>` (`/tmp` without TMPDIR). Before a command connects
(and before the agent listens) the directory must be a real directory (not a symlink)
owned by this user with no group or other permission bits, and the socket a socket owned
by this user; after connecting, the peer's uid (SO_PEERCRED, where the platform has it)
must be this user's. A shared /tmp where someone else made the directory first is
refused, never used."""

from __future__ import annotations

import os
import socket
import stat
import struct
from pathlib import Path

from blindvault.errors import PolicyError

__all__ = [
    "AgentPaths",
    "agent_dir",
    "check_dir",
    "check_peer",
    "check_socket",
    "make_dir",
    "paths",
]

_ENV = "BLINDVAULT_AGENT_DIR"


class AgentPaths:
    """The agent's directory, socket and pidfile."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.socket = directory / "agent.sock"
        self.pidfile = directory / "agent.pid"


def agent_dir() -> Path:
    env = os.environ.get(_ENV)
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "blindvault-agent"
    tmp = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 (checked: ours, 0700)
    return Path(tmp) / f"blindvault-agent-{os.getuid()}"


def paths() -> AgentPaths:
    return AgentPaths(agent_dir())


def check_dir(directory: Path, uid: int | None = None) -> None:
    """The agent directory is this user's and nobody else can enter it (PolicyError)."""
    uid = os.getuid() if uid is None else uid
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode):  # mutant: agent.dir-kind
        raise PolicyError(f"refusing the agent directory {directory}: not a directory")
    if st.st_uid != uid:  # mutant: agent.dir-owner
        raise PolicyError(
            f"refusing the agent directory {directory}: owned by uid {st.st_uid}, not {uid}"
        )
    if st.st_mode & 0o077:  # mutant: agent.dir-mode
        raise PolicyError(
            f"refusing the agent directory {directory}: mode {stat.S_IMODE(st.st_mode):o}, "
            "must be 700"
        )


def check_socket(path: Path, uid: int | None = None) -> None:
    """The socket file is a socket of this user (PolicyError)."""
    uid = os.getuid() if uid is None else uid
    st = os.lstat(path)
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != uid:  # mutant: agent.socket-owner
        raise PolicyError(f"refusing the agent socket {path}: not a socket of uid {uid}")


def check_peer(sock: socket.socket, uid: int | None = None) -> None:
    """The process at the other end runs as this user (SO_PEERCRED; PolicyError)."""
    uid = os.getuid() if uid is None else uid
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # no SO_PEERCRED (e.g. macOS): the 0700 directory is the guard
        return
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, peer_uid, _gid = struct.unpack("3i", creds)
    if peer_uid != uid:  # mutant: agent.peer-uid
        raise PolicyError(f"refusing an agent peer of uid {peer_uid}")


def make_dir(directory: Path) -> None:
    """Create the agent directory (0700) if missing, then check it either way."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700)
    except FileExistsError:
        pass
    check_dir(directory)
