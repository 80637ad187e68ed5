"""Issue 14: the change feed under a lying server. The feed is a hint: a proxy that drops,
reorders or replays entries, replays an old signed root or leaves the root out never makes
the client miss a change the signed root names, nor act on what nothing signed says. A
replayed or reordered page, or a stale or missing root, is an integrity error (exit 10)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from blindvault.client.feed import FeedResult
from blindvault.client.vault import Vault
from blindvault.errors import IntegrityError, RollbackError
from helpers.adversarial import make_account
from helpers.proxy import Exchange, Proxy, on_json

FEED = "/v1/changes"


def _since(ex: Exchange) -> int:
    return int(parse_qs(ex.query).get("since", ["0"])[0])


def feed_rule(change: Callable[[dict[str, Any], int], dict[str, Any]]) -> Any:
    def rule(ex: Exchange) -> None:
        if ex.method != "GET" or ex.path != FEED or ex.status >= 300:
            return
        ex.set_json(change(ex.json(), _since(ex)))
        ex.mutated = True

    return rule


def _drop_all(doc: dict[str, Any], since: int) -> dict[str, Any]:
    return {**doc, "changes": [], "next": since, "more": False}


@pytest.fixture
def device(proxy: Proxy, tmp_path: Path) -> Iterator[tuple[Vault, Path]]:
    acc = make_account(
        proxy, tmp_path / "home", f"feed{secrets.token_hex(4)}@example.org", {"/d/a.txt": b"a"}, []
    )
    with acc.vault(proxy.url) as v:
        yield v, tmp_path


def _base(v: Vault) -> dict[bytes, int]:
    root = v.tree.load_root()
    assert root is not None
    return {h.node_id: h.version for h in root.heads}


def _write(v: Vault, tmp: Path, remote: str, content: bytes) -> None:
    local = tmp / remote.rsplit("/", 1)[1]
    local.write_bytes(content)
    v.put(local, remote.rsplit("/", 1)[0] or "/")


def _node(v: Vault, path: str) -> bytes:
    entry = v.stat(path)
    assert entry is not None
    return entry.node_id


def test_an_unchanged_tree_is_one_request(device: tuple[Vault, Path], proxy: Proxy) -> None:
    v, _ = device
    first = v.changes(0)
    again = v.changes(first.seq, _base(v))
    assert again == FeedResult(first.seq, frozenset(), requests=1)


def test_dropped_entries_still_show_the_change_through_the_signed_root(
    device: tuple[Vault, Path], proxy: Proxy
) -> None:
    v, tmp = device
    seq, base = v.changes(0).seq, _base(v)
    _write(v, tmp, "/d/b.txt", b"new")
    proxy.add(feed_rule(_drop_all))
    got = v.changes(seq, base)
    assert _node(v, "/d") in got.changed  # the signed root names /d's newer head
    assert got.seq == seq  # nothing said to have advanced


def test_reordered_or_replayed_pages_are_refused(device: tuple[Vault, Path], proxy: Proxy) -> None:
    v, tmp = device
    seq, base = v.changes(0).seq, _base(v)
    old_answer = json.loads(json.dumps(_feed_answer(v, 0)))
    _write(v, tmp, "/d/b.txt", b"one")
    _write(v, tmp, "/d/c.txt", b"two")
    honest = v.changes(seq, base)
    assert _node(v, "/d") in honest.changed and honest.seq > seq
    lies: dict[str, Callable[[dict[str, Any], int], dict[str, Any]]] = {
        "reversed": lambda d, s: {**d, "changes": d["changes"][::-1]},
        "replayed-old-page": lambda d, s: {**old_answer, "root": d["root"]},
        "duplicated": lambda d, s: {**d, "changes": d["changes"] + d["changes"][-1:]},
        "next-behind": lambda d, s: {**d, "next": s},
    }
    refused = 0
    for name, lie in lies.items():
        proxy.reset()
        proxy.add(feed_rule(lie))
        with pytest.raises(IntegrityError):
            v.changes(seq, base)
        refused += 1
        print(f"feed lie {name}: refused")
    assert refused == len(lies)


def test_a_replayed_or_missing_root_is_a_rollback(device: tuple[Vault, Path], proxy: Proxy) -> None:
    v, tmp = device
    seq, base = v.changes(0).seq, _base(v)
    old_root = _feed_answer(v, 0)["root"]
    _write(v, tmp, "/d/b.txt", b"new")
    v.changes(seq, base)  # this device has now seen the newer root
    for lie in (
        lambda d, s: {**_drop_all(d, s), "root": old_root},
        lambda d, s: {**_drop_all(d, s), "root": None},
    ):
        proxy.reset()
        proxy.add(feed_rule(lie))
        with pytest.raises(RollbackError):
            v.changes(seq, base)


def test_a_compacted_feed_asks_for_a_full_walk(device: tuple[Vault, Path], proxy: Proxy) -> None:
    v, _ = device
    from helpers.proxy import refuse

    proxy.before(refuse("GET", FEED, 410, {"error": {"code": "feed_reset", "message": "x"}}))
    got = v.changes(5, _base(v))
    assert got.reset and got.seq == 5 and got.changed == frozenset()


def _feed_answer(v: Vault, since: int) -> dict[str, Any]:
    return dict(v.api.get_json(FEED, params={"since": since, "root": v.owner.hex()}))


def test_second_device_refuses_an_older_folder_the_signed_root_names_newer(
    proxy: Proxy, tmp_path: Path
) -> None:
    """The feed hides a change from a second device and the server serves it the older
    manifest: the folder still comes back (signed root), and reading it is refused."""
    email = f"feed{secrets.token_hex(4)}@example.org"
    acc = make_account(proxy, tmp_path / "a", email, {"/d/a.txt": b"a"}, [])
    with acc.vault(proxy.url) as a, acc.vault(proxy.url, tmp_path / "b") as b:
        seq, base = b.changes(0).seq, _base(b)
        d = _node(b, "/d")
        old = a.api.get_json(f"/v1/records/manifest/{d.hex()}")
        _write(a, tmp_path, "/d/b.txt", b"new")
        proxy.add(feed_rule(_drop_all))
        proxy.add(on_json("GET", f"/v1/records/manifest/{d.hex()}", lambda _: old))
        got = b.changes(seq, base)
        assert d in got.changed
        with pytest.raises(RollbackError):
            b.ls("/d")
