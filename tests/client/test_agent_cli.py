"""Unlocked commands (issue 18) as a user types them: real `blindvault` processes against a
real server, with a real agent process. `unlock` once with the password, then commands
without it; `lock` and the deadline wipe the key; a killed or wedged agent, or an agent
directory others can enter, never hands out a key and the password is asked again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.client import Cli

NO_PASSWORD = "no password"  # what a locked command says without one


class Shell:
    """`blindvault ...` as separate processes of one user (their home, their agent)."""

    def __init__(self, cli: Cli, agent_dir: Path) -> None:
        self.cli, self.agent_dir = cli, agent_dir

    def __call__(
        self, *args: str, password: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        full = {
            k: v
            for k, v in os.environ.items()
            if k not in ("BLINDVAULT_PASSWORD", "BLINDVAULT_NEW_PASSWORD")
        }
        full |= {"BLINDVAULT_HOME": str(self.cli.home), "BLINDVAULT_AGENT_DIR": str(self.agent_dir)}
        if password is not None:
            full["BLINDVAULT_PASSWORD"] = password
        full |= env
        return subprocess.run(
            [sys.executable, "-m", "blindvault", *args],
            env=full,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def agent_pid(self) -> int:
        return int((self.agent_dir / "agent.pid").read_text())


def _ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return False


def _wait_until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Wait for a condition (not a timing assertion: the limit only ends a hung test)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for: {what}")
        time.sleep(0.05)


@pytest.fixture
def sh(cli: Cli) -> Iterator[Shell]:
    with tempfile.TemporaryDirectory(prefix="bva-") as parent:  # a short socket path
        shell = Shell(cli, Path(parent) / "agent")
        code, _, err = cli("mkdir", "/docs")
        assert code == 0, err
        try:
            yield shell
        finally:
            shell("lock")  # never leave an agent behind


def test_unlock_then_commands_without_password_then_lock(sh: Shell) -> None:
    assert NO_PASSWORD in sh("ls", "/").stderr  # locked: needs the password
    done = sh("unlock", "--for", "5m", "--json", password="pw-1")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["unlocked"] is True and shown["email"] == sh.cli.email
    assert shown["until_ms"] > time.time() * 1000
    mode = os.stat(sh.agent_dir).st_mode & 0o777
    assert mode == 0o700
    assert os.stat(sh.agent_dir / "agent.sock").st_mode & 0o077 == 0

    with open(f"/proc/{sh.agent_pid()}/environ", "rb") as f:
        assert b"BLINDVAULT_PASSWORD" not in f.read()  # the agent never holds the password
    ls = sh("ls", "/")  # forwarded to the agent
    assert ls.returncode == 0, ls.stderr
    assert ls.stdout.split() == ["docs/"]
    made = sh("mkdir", "/docs/inner")
    assert made.returncode == 0, made.stderr
    here = sh("ls", "/docs", BLINDVAULT_AGENT_FORWARD="0")  # in this process, agent's key
    assert here.returncode == 0, here.stderr
    assert here.stdout.split() == ["inner/"]
    missing = sh("ls", "/nothing")  # the fork's exit code and stderr reach the caller
    assert missing.returncode == 4 and "no such" in missing.stderr

    status = json.loads(sh("status", "--json").stdout)
    assert status["unlocked"] is True and status["until_ms"] == shown["until_ms"]
    assert status["keyring"] is None

    pid = sh.agent_pid()
    locked = sh("lock")
    assert locked.returncode == 0 and "wiped" in locked.stdout
    _wait_until(lambda: not _alive(pid), "the agent to exit after lock")
    assert not (sh.agent_dir / "agent.sock").exists()
    again = sh("ls", "/")
    assert again.returncode == 2 and NO_PASSWORD in again.stderr
    assert json.loads(sh("status", "--json").stdout)["unlocked"] is False
    _ok(sh("ls", "/", password="pw-1"))  # locked behaviour is unchanged


def test_unlock_needs_the_password_and_a_bounded_duration(sh: Shell) -> None:
    assert sh("unlock", "--for", "5m").returncode == 2  # no password: nothing unlocked
    for bad in ("25h", "0", "forever"):
        done = sh("unlock", "--for", bad, password="pw-1")
        assert done.returncode == 2, bad
    wrong = sh("unlock", password="wrong password")
    assert wrong.returncode == 3
    assert not (sh.agent_dir / "agent.sock").exists()
    assert json.loads(sh("status", "--json").stdout)["unlocked"] is False


def test_the_deadline_wipes_the_key(sh: Shell) -> None:
    _ok(sh("unlock", "--for", "5s", password="pw-1"))
    try:
        pid = sh.agent_pid()
    except FileNotFoundError:  # a busy machine: the deadline already passed
        pid = None
    if pid is not None:
        _wait_until(lambda: not _alive(pid), "the agent to exit at its deadline")
    assert not (sh.agent_dir / "agent.sock").exists()
    done = sh("ls", "/")
    assert done.returncode == 2 and NO_PASSWORD in done.stderr


def test_killed_agent_falls_back_to_the_password_with_a_message(sh: Shell) -> None:
    _ok(sh("unlock", password="pw-1"))
    pid = sh.agent_pid()
    os.kill(pid, signal.SIGKILL)
    _wait_until(lambda: not _alive(pid), "the agent to die")
    assert (sh.agent_dir / "agent.sock").exists()  # a dead agent's socket is left behind
    done = sh("ls", "/")
    assert done.returncode == 2
    assert "does not answer" in done.stderr and "the password is needed" in done.stderr
    with_pw = sh("ls", "/", password="pw-1")
    assert with_pw.returncode == 0 and with_pw.stdout.split() == ["docs/"]
    assert "does not answer" in with_pw.stderr
    _ok(sh("unlock", password="pw-1"))  # a new agent replaces it
    _ok(sh("ls", "/"))


def test_lock_kills_a_wedged_agent(sh: Shell) -> None:
    _ok(sh("unlock", password="pw-1"))
    pid = sh.agent_pid()
    os.kill(pid, signal.SIGSTOP)  # it accepts nothing any more
    try:
        done = sh("lock")
        assert done.returncode == 0, done.stderr
        _wait_until(lambda: not _alive(pid), "the wedged agent to be killed")
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert not (sh.agent_dir / "agent.pid").exists()
    assert NO_PASSWORD in sh("ls", "/").stderr


def test_agent_directory_others_can_enter_is_refused(sh: Shell) -> None:
    """Another user's (or a world-writable) agent directory in a shared /tmp: `unlock`
    refuses it (exit 8) and commands never connect to it."""
    sh.agent_dir.mkdir(mode=0o700)
    os.chmod(sh.agent_dir, 0o777)
    done = sh("unlock", password="pw-1")
    assert done.returncode == 8 and "refusing the agent directory" in done.stderr
    assert not (sh.agent_dir / "agent.sock").exists()
    # a socket someone planted there: never used, the password is asked
    import socket

    planted = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    planted.bind(str(sh.agent_dir / "agent.sock"))
    planted.listen(1)
    planted.setblocking(False)
    try:
        ls = sh("ls", "/")
        assert ls.returncode == 2 and "refusing the agent directory" in ls.stderr
        with pytest.raises(BlockingIOError):
            planted.accept()  # nobody connected
    finally:
        planted.close()
    if os.getuid() == 0:  # as root the test can also give the directory to another user
        os.chmod(sh.agent_dir, 0o700)
        os.chown(sh.agent_dir, 65534, 65534)
        other = sh("ls", "/")
        assert other.returncode == 2 and "owned by uid 65534" in other.stderr
    os.chmod(sh.agent_dir, 0o700)
    os.chown(sh.agent_dir, os.getuid(), os.getgid())
    (sh.agent_dir / "agent.sock").unlink()


def test_other_account_and_key_changes_still_ask_for_the_password(sh: Shell) -> None:
    _ok(sh("unlock", password="pw-1"))
    other = sh("ls", "/", "--email", "nobody@example.org")  # not unlocked: not served
    assert other.returncode != 0 and "does not answer" not in other.stderr
    passwd = sh("passwd", "--accept-weak-password")  # needs proof of the password
    assert passwd.returncode == 2 and NO_PASSWORD in passwd.stderr


def test_logout_wipes_the_accounts_key(sh: Shell) -> None:
    _ok(sh("unlock", password="pw-1"))
    pid = sh.agent_pid()
    out = sh("logout")  # no password needed: unlocked
    assert out.returncode == 0, out.stderr
    _wait_until(lambda: not _alive(pid), "the agent to exit with its last key")
    assert json.loads(sh("status", "--json").stdout)["unlocked"] is False


def _agents(agent_dir: Path) -> list[int]:
    """The running agent processes of this directory."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if (
            b"agent_worker" in cmdline
            and str(agent_dir).encode() in cmdline
            and _alive(int(proc.name))
        ):
            found.append(int(proc.name))
    return found


def test_concurrent_unlocks_start_one_agent(sh: Shell) -> None:
    env = {**os.environ, "BLINDVAULT_HOME": str(sh.cli.home),
           "BLINDVAULT_AGENT_DIR": str(sh.agent_dir), "BLINDVAULT_PASSWORD": "pw-1"}  # fmt: skip
    cmd = [sys.executable, "-m", "blindvault", "unlock"]
    both = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(timeout=300) for p in both] == [0, 0]
    assert _agents(sh.agent_dir) == [sh.agent_pid()]
    _ok(sh("ls", "/"))
