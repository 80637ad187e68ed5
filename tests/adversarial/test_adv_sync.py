"""Issue 14: `sync` through the change feed, under a lying server.

An unchanged remote tree costs ONE request (`/v1/changes` answering nothing new); a change
re-reads only the changed folders (and those on the way down to them). The feed is a hint:
a server that hides, replays or reorders feed entries, hides a manifest, or replays an
older one (a dropped tombstone or version) makes `sync` stop with an integrity error (exit
10) and the local folder stays byte-identical."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blindvault.client.vault import Vault
from blindvault.errors import IntegrityError
from blindvault.sync.engine import Report, sync_once
from blindvault.sync.index import Index
from blindvault.sync.remote import Snapshot
from helpers.adversarial import Account, make_account
from helpers.proxy import Exchange, Proxy, missing, refuse

FEED = "/v1/changes"
MANIFEST = "/v1/records/manifest/"


@dataclass
class World:
    acc: Account
    proxy: Proxy
    device: Vault  # the syncing device
    writer: Vault  # another device of the same account
    index: Index
    folder: Path
    tmp: Path

    def sync(self) -> Report:
        pair = self.index.pair(self.folder, "/S")
        return sync_once(self.device, self.index, pair)

    def write(self, remote: str, content: bytes) -> None:
        parent, name = remote.rsplit("/", 1)
        src = self.tmp / "src" / name
        src.parent.mkdir(exist_ok=True)
        src.write_bytes(content)
        if self.writer.exists(remote):
            self.writer.rm(remote)
        self.writer.put(src, parent)

    def node(self, path: str) -> str:
        entry = self.writer.stat(path)
        assert entry is not None
        return entry.node_id.hex()

    def tree_hash(self) -> str:
        h = hashlib.sha256()
        for p in sorted(self.folder.rglob("*")):
            h.update(p.relative_to(self.folder).as_posix().encode() + b"\0")
            if p.is_file():
                h.update(hashlib.sha256(p.read_bytes()).digest())
        return h.hexdigest()


@pytest.fixture
def world(proxy: Proxy, tmp_path: Path) -> Iterator[World]:
    files = {
        "/S/a.txt": b"a0",
        "/S/sub/b.txt": b"b0",
        "/S/sub/deep/c.txt": b"c0",
        "/S/other/d.txt": b"d0",
        "/elsewhere/e.txt": b"e0",
    }
    email = f"sync{secrets.token_hex(4)}@example.org"
    acc = make_account(proxy, tmp_path / "home", email, files, [])
    with acc.vault(proxy.url) as device, acc.vault(proxy.url, tmp_path / "writer") as writer:
        w = World(
            acc, proxy, device, writer, Index(tmp_path / "idx.sqlite"), tmp_path / "L", tmp_path
        )
        w.folder.mkdir()
        w.sync()
        assert (w.folder / "sub/deep/c.txt").read_bytes() == b"c0"
        yield w
        w.index.close()


def _requests(proxy: Proxy) -> list[tuple[str, str]]:
    return [(s.method, s.path) for s in proxy.log]


def test_an_unchanged_remote_costs_one_request(world: World) -> None:
    world.proxy.log.clear()
    report = world.sync()
    assert _requests(world.proxy) == [("GET", FEED)]
    assert report.read_folders == 0 and report.outcome.done == []
    # a change elsewhere in the account reads nothing of the pair's folders
    world.write("/elsewhere/e.txt", b"e1")
    world.proxy.log.clear()
    report = world.sync()
    assert report.read_folders == 0 and report.outcome.done == []


def test_a_change_rereads_only_the_changed_folder_and_its_way_down(world: World) -> None:
    world.write("/S/sub/deep/c.txt", b"c1")
    world.proxy.log.clear()
    report = world.sync()
    assert (world.folder / "sub/deep/c.txt").read_bytes() == b"c1"
    read = {p.removeprefix(MANIFEST) for m, p in _requests(world.proxy) if p.startswith(MANIFEST)}
    assert world.node("/S/other") not in read  # an unchanged sibling is not read again
    assert report.read_folders == 3  # /S and /S/sub (for the keys), /S/sub/deep (changed)
    # and a new sub-folder, a move and a delete come through
    world.writer.mkdir("/S/new")
    world.write("/S/new/f.txt", b"f0")
    world.writer.mv("/S/other/d.txt", "/S/new/d.txt")
    world.writer.rm("/S/a.txt")
    world.sync()
    got = sorted(p.relative_to(world.folder).as_posix() for p in world.folder.rglob("*.txt"))
    assert got == ["new/d.txt", "new/f.txt", "sub/b.txt", "sub/deep/c.txt"]
    assert world.sync().outcome.done == []


def test_dropped_feed_entries_hide_nothing(world: World) -> None:
    """The feed answers "nothing new" with the (honest, signed) root: the root's heads
    still name the changed folder, and it is read and verified."""

    def drop(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == FEED and ex.status == 200:
            doc = ex.json()
            since = int(ex.query.split("since=")[1].split("&")[0])
            ex.set_json({**doc, "changes": [], "next": since, "more": False})
            ex.mutated = True

    world.write("/S/sub/b.txt", b"b1")
    world.proxy.add(drop)
    world.sync()
    assert (world.folder / "sub/b.txt").read_bytes() == b"b1"


def _stops(world: World, lie: Callable[[], None]) -> None:
    """`sync` under the lie raises an integrity error and changes nothing locally."""
    before = world.tree_hash()
    lie()
    with pytest.raises(IntegrityError):
        world.sync()
    assert world.tree_hash() == before
    world.proxy.reset()


def _feed_rule(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Exchange], None]:
    def rule(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == FEED and ex.status == 200:
            ex.set_json(change(ex.json()))
            ex.mutated = True

    return rule


def test_reordered_or_replayed_feed_entries_stop_the_sync(world: World) -> None:
    world.write("/S/a.txt", b"a1")
    world.write("/S/sub/b.txt", b"b1")

    def reorder(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "changes": list(reversed(doc["changes"]))}

    def replay(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "changes": [*doc["changes"], doc["changes"][0]]}

    _stops(world, lambda: world.proxy.add(_feed_rule(reorder)))
    _stops(world, lambda: world.proxy.add(_feed_rule(replay)))
    world.sync()  # honest again: both changes arrive
    assert (world.folder / "a.txt").read_bytes() == b"a1"


def test_a_replayed_signed_root_in_the_feed_stops_the_sync(world: World) -> None:
    old = world.proxy.history[("GET", FEED)][-1]
    world.write("/S/a.txt", b"a1")
    world.sync()  # this device saw the newer root
    world.write("/S/a.txt", b"a2")

    def replay(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == FEED and ex.status == 200:
            ex.body, ex.mutated = old, True

    _stops(world, lambda: world.proxy.add(replay))


def test_a_hidden_manifest_stops_the_sync(world: World) -> None:
    world.write("/S/sub/deep/c.txt", b"c1")
    node = world.node("/S/sub/deep")
    _stops(world, lambda: world.proxy.add(missing("GET", MANIFEST + node)))


@pytest.mark.parametrize("what", ["tombstone", "version"])
def test_a_replayed_older_manifest_stops_the_sync(world: World, what: str) -> None:
    """Dropping a tombstone (the delete) or a new version = serving the folder's older
    manifest: the signed root names the newer head (P-FRESH)."""
    node = world.node("/S/sub")
    old = world.proxy.history[("GET", MANIFEST + node)][-1]
    if what == "tombstone":
        world.writer.rm("/S/sub/b.txt")
    else:
        world.write("/S/sub/b.txt", b"b1")

    def replay(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == MANIFEST + node and ex.status == 200:
            ex.body, ex.mutated = old, True

    _stops(world, lambda: world.proxy.add(replay))
    world.sync()
    assert (world.folder / "sub/b.txt").exists() == (what == "version")


def test_a_compacted_feed_walks_everything_and_starts_again_at_the_horizon(world: World) -> None:
    world.write("/S/sub/b.txt", b"b1")
    pair = world.index.pair(world.folder, "/S")
    kept = world.index.snapshot(pair)
    assert kept is not None
    since = Snapshot.loads(kept).seq
    body = {"error": {"code": "feed_reset", "message": "compacted", "horizon": since + 1}}

    def compacted(ex: Exchange) -> None:
        if f"since={since}&" in ex.query + "&":
            refuse("GET", FEED, 410, body)(ex)

    world.proxy.before(compacted)
    report = world.sync()
    assert (world.folder / "sub/b.txt").read_bytes() == b"b1"
    assert report.read_folders == 4  # /S, other, sub, deep: all of them
    kept = world.index.snapshot(pair)
    assert kept is not None and Snapshot.loads(kept).seq >= since + 1
