"""A model-based test of `blindvault sync` (issue 14): three devices of one account make
random offline creates, edits, renames, moves and deletes and sync in random order,
against a real server process (SQLite + local disk, and PostgreSQL + SeaweedFS).
Invariant, after every device synced twice: all devices hold the same files, and every
content ever written is still somewhere (`places`: the tree, a conflict copy, or a kept
version of a remote file, or the trash with the versions of what is in it), except content
a user overwrote or deleted before it was ever synced (it never left its device).

`max_examples` is small in CI; BLINDVAULT_LONG_MODEL=1 runs a long search."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from blindvault.client.local.state import StateStore
from blindvault.client.vault import Vault
from helpers.client import Cli, Server, new_cli
from helpers.servers import s3_spec, start_server, stop
from helpers.sync import Device

LONG = os.environ.get("BLINDVAULT_LONG_MODEL") == "1"
NAMES = ["a.txt", "b.txt", "d/c.txt", "d/e/f.md"]
DEVICES = 3


class Model(RuleBasedStateMachine):
    """Set by the test before it runs: the CLI, the device homes, a folder, counters."""

    cli: Cli
    homes: list[Path]
    tmp: Path
    runs: itertools.count[int]
    stats: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        run = next(self.runs)
        cli, homes, stats = self.cli, self.homes, self.stats
        self.devices = [
            Device(cli, homes[i], f"dev{i}", self.tmp / f"run{run}" / f"dev{i}")
            for i in range(DEVICES)
        ]
        self.remote = f"/Model{run}"
        self.written: set[bytes] = set()
        self.deleted: set[bytes] = set()  # removed by a user's delete (the trash's job)
        self.overwritten: set[bytes] = set()  # synced, then overwritten: a kept version
        self.discarded: set[bytes] = set()  # overwritten/deleted before it was ever synced
        self.pending: list[set[bytes]] = [set() for _ in range(DEVICES)]  # not yet synced
        self.counter = itertools.count()
        stats["examples"] += 1

    def _sync(self, dev: Device) -> None:
        code, out, err = dev("sync", str(dev.folder), self.remote, "--json")
        assert code == 0, err
        self.pending[self.devices.index(dev)].clear()
        for kind in ("conflict", "move-local", "move-remote", "delete-local", "delete-remote"):
            self.stats[kind] = self.stats.get(kind, 0) + out.count(f'"{kind}"')

    def _gone(self, d: int, data: bytes) -> None:
        """A user overwrote or deleted `data` on device `d`."""
        if data in self.pending[d]:
            self.discarded.add(data)
        else:
            self.overwritten.add(data)

    def places(self, tree: dict[str, bytes]) -> set[bytes]:
        """Every content kept: the tree (conflict copies included), the kept versions, and
        the trash (each trashed item under the model's folder is restored elsewhere, its
        folder's own trash included, and read with its versions)."""
        found = set(tree.values())
        store = StateStore(self.homes[0])
        with Vault.open(self.cli.server.url, self.cli.email, "pw-1", store=store) as v:
            roots = [self.remote] if v.exists(self.remote) else []
            rescued = f"{self.remote}-trash"
            for rnd in range(6):  # a trashed folder's own trash shows once it is back
                items = [
                    t
                    for t in v.trash()
                    if t.path == self.remote or t.path.startswith((self.remote + "/", rescued))
                ]
                if not items:
                    break
                if not v.exists(rescued):
                    v.mkdir(rescued)
                for i, t in enumerate(items):
                    v.trash_restore(t.id, to=f"{rescued}/{rnd}-{i}")
                    self.stats["trash"] = self.stats.get("trash", 0) + 1
            if v.exists(rescued):
                roots.append(rescued)
            for root in roots:
                found |= self._contents(v, root)
        return found

    def _contents(self, v: Vault, root: str) -> set[bytes]:
        found: set[bytes] = set()
        for e in v.walk(root):
            if e.kind != "file":
                continue
            for n, ver in enumerate(v.history.versions(e.path)):
                picked = v.history.pick(e.path, version=ver.version, at_ms=None)
                dest = self.tmp / "version"
                v.history.fetch(e.path, picked, dest)
                found.add(dest.read_bytes())
                dest.unlink()
                if n:
                    self.stats["versions"] = self.stats.get("versions", 0) + 1
        return found

    @rule(d=st.integers(0, DEVICES - 1), name=st.sampled_from(NAMES))
    def write(self, d: int, name: str) -> None:
        path = self.devices[d].folder / name
        if path.is_file():
            self._gone(d, path.read_bytes())
        data = f"content {next(self.counter)} by dev{d}".encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written.add(data)
        self.pending[d].add(data)
        self.stats["steps"] += 1

    @initialize()
    def synced_start(self) -> None:
        """Every random run starts from files all devices hold: in a short (CI) run, moves
        and deletes then hit synced files and travel as moves and tombstones."""
        for name in NAMES:
            self.write(0, name)
        for d in range(DEVICES):
            self.sync(d)

    def _existing(self, d: int, pick: int, *, folders: bool = False) -> Path | None:
        """One of device `d`'s files (or folders), so moves and deletes are never no-ops
        for lack of a target (the fixed NAMES rarely all exist)."""
        root = self.devices[d].folder
        found = sorted(
            p
            for p in root.rglob("*")
            if (p.is_dir() if folders else p.is_file()) and ".blindvault-tmp-" not in str(p)
        )
        return found[pick % len(found)] if found else None

    # moves and deletes of what a device holds, then (often) its sync at once, so a short
    # run sends them as moves and tombstones, racing the other devices' offline changes

    @rule(d=st.integers(0, DEVICES - 1), pick=st.integers(0, 99), then_sync=st.booleans())
    def delete_existing(self, d: int, pick: int, then_sync: bool = False) -> None:
        path = self._existing(d, pick)
        if path is not None:
            self.delete(d, path.relative_to(self.devices[d].folder).as_posix())
        if then_sync:
            self.sync(d)

    @rule(
        d=st.integers(0, DEVICES - 1),
        pick=st.integers(0, 99),
        dst=st.sampled_from(NAMES),
        then_sync=st.booleans(),
    )
    def move_existing(self, d: int, pick: int, dst: str, then_sync: bool = False) -> None:
        path = self._existing(d, pick)
        if path is not None:
            self.rename(d, path.relative_to(self.devices[d].folder).as_posix(), dst)
        if then_sync:
            self.sync(d)

    @rule(d=st.integers(0, DEVICES - 1), pick=st.integers(0, 99), then_sync=st.booleans())
    def move_folder(self, d: int, pick: int, then_sync: bool = False) -> None:
        """A folder renamed, or moved into the top: every file in it moves."""
        folder = self._existing(d, pick, folders=True)
        if folder is not None:
            target = self.devices[d].folder / f"moved{next(self.counter)}"
            folder.rename(target)
        self.stats["steps"] += 1
        if then_sync:
            self.sync(d)

    @rule(d=st.integers(0, DEVICES - 1), name=st.sampled_from(NAMES))
    def delete(self, d: int, name: str) -> None:
        path = self.devices[d].folder / name
        if path.is_file():
            data = path.read_bytes()
            self._gone(d, data)
            self.deleted.add(data)
            path.unlink()
        self.stats["steps"] += 1

    @rule(d=st.integers(0, DEVICES - 1), src=st.sampled_from(NAMES), dst=st.sampled_from(NAMES))
    def rename(self, d: int, src: str, dst: str) -> None:
        a, b = self.devices[d].folder / src, self.devices[d].folder / dst
        if a.is_file() and not b.exists():
            b.parent.mkdir(parents=True, exist_ok=True)
            a.rename(b)
        self.stats["steps"] += 1

    @rule(d=st.integers(0, DEVICES - 1))
    def sync(self, d: int) -> None:
        self._sync(self.devices[d])
        self.stats["steps"] += 1

    def teardown(self) -> None:
        for _ in range(2):
            for dev in self.devices:
                self._sync(dev)
        trees = [dev.files() for dev in self.devices]
        assert trees[0] == trees[1] == trees[2], trees
        lost = self.written - self.discarded - self.places(trees[0])
        assert not lost, (lost, trees[0])

    @invariant()
    def no_staging_left_between_syncs(self) -> None:
        for dev in self.devices:
            assert not list(dev.folder.glob(".blindvault-tmp-*"))


@pytest.fixture(params=["sqlite-disk", "pg-seaweedfs"])
def model_cli(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    """A fresh account on a server of its own: embedded, or PostgreSQL + SeaweedFS (S3)."""
    data, extra = tmp_path / "srv" / "data", []
    if request.param == "pg-seaweedfs":
        pg, weed = request.getfixturevalue("pg_url"), request.getfixturevalue("weed")
        extra = ["--db", pg, "--blobs", s3_spec(weed)]
    proc, url = start_server(data, *extra)
    try:
        yield new_cli(Server(url, data), tmp_path / "home", monkeypatch, capsys, "model")
    finally:
        stop(proc)


def _prepare(cli: Cli, tmp_path: Path) -> dict[str, int]:
    """Three device homes logged in to the account; the model's class attributes set."""
    homes = [Path(cli.monkeypatch_home)]
    for n in range(1, DEVICES):
        home = tmp_path / f"home{n}"
        home.mkdir()
        homes.append(home)
    stats = {"examples": 0, "steps": 0}
    Model.cli, Model.homes, Model.tmp = cli, homes, tmp_path
    Model.runs, Model.stats = itertools.count(), stats
    for n in range(1, DEVICES):
        dev = Device(cli, homes[n], f"dev{n}", tmp_path / "login")
        code, _, err = dev("login", "--server", cli.server.url, "--email", cli.email)
        assert code == 0, err
    return stats


@pytest.mark.parametrize("model_cli", ["sqlite-disk"], indirect=True)
def test_overwritten_and_deleted_content_is_kept(model_cli: Cli, tmp_path: Path) -> None:
    """A fixed run the random search rarely reaches: content synced, overwritten on another
    device, deleted on a third, a folder deleted with a file deleted inside it first. The
    invariant finds every one of them again, in a kept version or in the trash."""
    stats = _prepare(model_cli, tmp_path)
    m = Model()
    m.write(0, "a.txt")
    m.write(0, "d/c.txt")
    m.write(0, "d/e/f.md")
    for d in range(DEVICES):
        m.sync(d)
    m.write(1, "a.txt")  # overwrites synced content: a kept version
    m.sync(1)
    m.sync(2)
    m.delete(2, "a.txt")  # the file (both versions) to the trash
    m.delete(2, "d/e/f.md")  # into d/e's trash ...
    m.sync(2)
    m.delete(0, "d/c.txt")
    m.sync(0)
    m.teardown()
    assert stats.get("trash", 0) >= 2, stats
    assert stats.get("versions", 0) >= 1, stats


@pytest.mark.parametrize("model_cli", ["sqlite-disk"], indirect=True)
def test_moves_and_deletes_racing_edits_lose_nothing(model_cli: Cli, tmp_path: Path) -> None:
    """A fixed run of moves and deletes against concurrent edits: a folder renamed on one
    device while a file in it is edited on another and a file below it deleted on a third;
    a file moved, then deleted where it landed; a file moved onto a name another device
    deleted. Every device agrees, nothing is lost, and the moves travel as moves."""
    stats = _prepare(model_cli, tmp_path)
    m = Model()
    for name in NAMES:
        m.write(0, name)
    for d in range(DEVICES):
        m.sync(d)
    m.move_folder(1, 0)  # d (with d/c.txt and d/e/f.md) -> moved<N>
    m.write(2, "d/c.txt")  # edited under its old path meanwhile
    m.delete(0, "d/e/f.md")  # deleted under its old path meanwhile
    m.rename(0, "a.txt", "d/e/a.txt")
    m.sync(1)
    m.sync(0)
    m.sync(2)
    m.delete(1, "b.txt")
    m.sync(1)
    m.rename(0, "d/e/a.txt", "b.txt")  # onto the name another device deleted
    m.sync(0)
    m.delete_existing(2, 0)
    m.sync(2)
    m.teardown()
    moves = stats.get("move-local", 0) + stats.get("move-remote", 0)
    assert moves >= 3, stats
    assert stats.get("delete-local", 0) + stats.get("delete-remote", 0) >= 2, stats


def test_three_devices_agree_and_lose_nothing(
    model_cli: Cli, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    stats = _prepare(model_cli, tmp_path)
    run_state_machine_as_test(
        Model,
        settings=settings(
            max_examples=200 if LONG else 3,
            stateful_step_count=30 if LONG else 10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    for key, value in stats.items():
        record_property(key, value)
    print(f"sync model: {stats}")
