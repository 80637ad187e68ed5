"""The adversarial harness: a real server on loopback, the lying proxy in front of it, a victim
account with a known tree, and the CLI run in-process against the proxy.

`attack(...)` runs one CLI command under the proxy's current rules and checks the four
outcomes of ATTACKS.md: the expected typed exit code, nothing written locally (no output
file, no partial), trust state (everything under BLINDVAULT_HOME) unchanged, and returns
what the client sent after the lie so a test can compare it across mutations (no oracle).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from blindvault.cli import main
from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.content import blob_id
from blindvault.core.kdf import KdfParams
from blindvault.core.manifest import FileEntry, FolderEntry
from helpers.proxy import Proxy
from helpers.servers import start_server, stop

PASSWORD = "correct horse battery staple"


def pick(lies: dict[str, Any], n: int = 0, always: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every listed lie: each runs in under a second, and a sample left some never run.
    (Kept so that tests written against the old sampling still import it.)"""
    return lies


CHUNK = 16400  # 16 KiB of plaintext + the GCM tag
PREFIX = 61  # "BVCT" 0x01 salt[24] commitment[32]


@dataclass
class Upstream:
    url: str
    data: Path


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    data = tmp_path_factory.mktemp("adv-srv") / "data"
    proc, url = start_server(data)
    try:
        yield Upstream(url, data)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def _proxy(upstream: Upstream) -> Iterator[Proxy]:
    p = Proxy(upstream.url)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def proxy(_proxy: Proxy) -> Iterator[Proxy]:
    _proxy.reset()
    yield _proxy
    _proxy.reset()


@dataclass
class Account:
    """An account made through the proxy, with what the test needs to aim its lies."""

    email: str
    home: Path  # BLINDVAULT_HOME after an honest `verify`
    files: dict[str, bytes] = field(default_factory=dict)  # remote path -> content
    blobs: dict[str, str] = field(default_factory=dict)  # remote path -> blob id (hex)
    nodes: dict[str, str] = field(default_factory=dict)  # remote path -> node id (hex)
    entries: dict[str, FileEntry | FolderEntry] = field(default_factory=dict)
    owner: str = ""
    sent: dict[str, bytes] = field(default_factory=dict)  # blob id -> bytes the client sent

    def vault(self, url: str, home: Path | None = None) -> Vault:
        store = StateStore(home or self.home)
        return Vault.open(url, self.email, PASSWORD, store=store, min_kdf=FAST_KDF)


FAST_KDF = KdfParams.argon2id(19456, 2, 1)  # the floor: allowed, and keeps each command short


def make_account(
    proxy: Proxy,
    home: Path,
    email: str,
    files: dict[str, bytes],
    folders: list[str],
    params: KdfParams = FAST_KDF,
) -> Account:
    """Sign up through the proxy, upload `files`, and record ids; no lies yet."""
    vault, _ = Vault.signup(proxy.url, email, PASSWORD, store=StateStore(home), params=params)
    acc = Account(email, home, dict(files))
    with vault:
        for folder in [*folders, *(p.rsplit("/", 1)[0] for p in files)]:
            if folder:
                vault.mkdir(folder, parents=True)
        src = home.parent / f"{home.name}-src"
        src.mkdir()
        for path, content in files.items():
            parent, name = path.rsplit("/", 1)
            local = src / name
            local.write_bytes(content)
            vault.put(local, parent or "/")
        acc.owner = vault.owner.hex()
        acc.nodes["/"] = vault.opened.bundle.root_node.hex()
        for e in vault.walk("/"):
            acc.entries[e.path] = entry = vault.stat(e.path)  # type: ignore[assignment]
            assert entry is not None
            acc.nodes[e.path] = entry.node_id.hex()
            if isinstance(entry, FileEntry):
                acc.blobs[e.path] = blob_id(entry.node_id, entry.content_version).hex()
        assert vault.verify()[2] == []
    return acc


def new_account(
    proxy: Proxy,
    tmp: Path,
    name: str,
    files: dict[str, bytes] | None = None,
    folders: list[str] | None = None,
) -> Account:
    """`make_account` for a fresh user NAME (a random email, home `tmp/NAME-home`)."""
    email = f"{name}{secrets.token_hex(3)}@example.org"
    return make_account(proxy, tmp / f"{name}-home", email, files or {}, folders or [])


@pytest.fixture(scope="session")
def victim(_proxy: Proxy, tmp_path_factory: pytest.TempPathFactory) -> Account:
    """Three same-size files (two in the root, one in /sub) of three chunks each, and an
    empty /sub/deep. Read-only for the tests: they copy its home and only lie."""
    _proxy.reset()
    home = tmp_path_factory.mktemp("victim") / "home"
    files = {
        "/a.txt": os.urandom(40000),
        "/b.txt": os.urandom(40000),
        "/sub/c.txt": os.urandom(40000),
        "/small.txt": b"hello, world\n",
    }
    acc = make_account(_proxy, home, "victim@example.org", files, ["/sub/deep"])
    _proxy.reset()
    return acc


@dataclass
class Runner:
    """`blindvault ...` in-process with its own copy of an account's BLINDVAULT_HOME."""

    home: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.monkeypatch.setenv("BLINDVAULT_HOME", str(self.home))
        self.monkeypatch.setenv("BLINDVAULT_PASSWORD", PASSWORD)
        self.capsys.readouterr()
        try:
            code = main(list(args))
        except Exception as exc:  # escaped the CLI's error handling: a crash, reported as -1
            out, err = self.capsys.readouterr()
            return -1, out, f"{err}CRASH {type(exc).__name__}: {exc}"
        out, err = self.capsys.readouterr()
        return code, out, err

    def snapshot(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.home)): p.read_bytes()
            for p in sorted(self.home.rglob("*"))
            if p.is_file()
        }


@dataclass(kw_only=True)
class Cast:
    """A test's own accounts, each driven through the CLI in-process on its own home (not a
    copy): a test's dataclass of accounts derives from it and is made with
    `monkeypatch=` and `capsys=` after its own fields."""

    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def run(self, acc: Account) -> Runner:
        return Runner(acc.home, self.monkeypatch, self.capsys)

    def ok(self, acc: Account, *args: str) -> str:
        """`blindvault ARGS` as `acc`, which must succeed (exit 0); its stdout."""
        code, out, err = self.run(acc)(*args)
        assert code == 0, (args, err)
        return out


def runner_for(acc: Account, tmp: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str]):
    home = tmp / "home"
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(acc.home, home)
    return Runner(home, mp, cap)


def runner_in(home: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str]) -> Runner:
    """A runner on `home` itself (made if missing), not on a copy: a device of its own."""
    home.mkdir(parents=True, exist_ok=True)
    return Runner(home, mp, cap)


@pytest.fixture
def bv(
    victim: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Runner:
    monkeypatch.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    return runner_for(victim, tmp_path, monkeypatch, capsys)


@dataclass
class Lied:
    """One command run under the proxy's rules, before anything about it is checked."""

    args: list[str]
    code: int
    out: str
    err: str
    before: dict[str, bytes]  # the runner's home before the command


def run_lied(bv: Runner, proxy: Proxy, args: list[str]) -> Lied:
    """Run `args` under the proxy's rules, keeping what `refused` checks (no check yet)."""
    proxy.log.clear()
    before = bv.snapshot()
    rc, out, err = bv(*args)
    return Lied(args, rc, out, err, before)


def refused(
    bv: Runner, proxy: Proxy, run: Lied, code: int | set[int], *, out_dir: Path | None = None
) -> list[tuple[str, str, str, str]]:
    """The four outcomes of a run_lied run (see attack); what the client sent after the lie."""
    codes = {code} if isinstance(code, int) else code
    assert run.code in codes, f"exit {run.code}, expected {codes}: {run.err}"
    assert "Traceback" not in run.err, run.err
    if run.code == 10 and run.args[0] != "verify":
        assert run.out == "", run.out  # nothing of the refused answer was shown
    elif run.code == 10:
        assert "PROBLEM" in run.out
    if out_dir is not None:  # nothing unverified reached the disk, not even a partial
        assert sorted(p.name for p in out_dir.iterdir()) == []
    after = bv.snapshot()
    assert after == run.before, sorted(
        k for k in set(after) | set(run.before) if after.get(k) != run.before.get(k)
    )  # no pin, head or resume record moved
    return proxy.after_lie()


def attack(
    bv: Runner, proxy: Proxy, args: list[str], code: int | set[int], *, out_dir: Path | None = None
) -> list[tuple[str, str, str, str]]:
    """Run `args` under the proxy's rules; check the four outcomes; return what the client
    sent after the lie (compare it across mutations for the no-oracle check)."""
    return refused(bv, proxy, run_lied(bv, proxy, args), code, out_dir=out_dir)


def same_requests(runs: dict[str, list[tuple[str, str, str, str]]]) -> None:
    """No oracle: what the client sends after the lie does not depend on the lie."""
    distinct = {tuple(v) for v in runs.values()}
    assert len(distinct) == 1, runs
    assert not [r for r in next(iter(distinct)) if r[0] not in ("GET", "HEAD")]


def token_of(home: Path) -> str:
    import json

    (state,) = list((home / "accounts").glob("*.json"))
    return str(json.loads(state.read_text())["token"])


def fetch(upstream: Upstream, acc: Account, path: str) -> bytes:
    """The honest bytes behind an API path, straight from the real server."""
    import httpx

    r = httpx.get(upstream.url + path, headers={"Authorization": f"Bearer {token_of(acc.home)}"})
    r.raise_for_status()
    return r.content
