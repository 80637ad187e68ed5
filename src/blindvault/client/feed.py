"""Which folders changed since the local index's last feed position — a hint, checked.

`changes(tree, api, since, base)` reads the server's change feed after `since` and
returns the folder node ids the caller should re-read. The feed is never authority:

- the owner's signed root comes in the same answer; it is verified (signature, chain,
  freshness against this device's high-water mark) before anything is returned, so an
  unchanged tree costs one request and a replayed root is a rollback (exit 10);
- every folder whose head in that signed root is newer than the index's base version is
  returned even if the feed omitted it (a server that hides entries hides nothing);
- the entries themselves only add candidates: the caller reads each one through the
  verified path (`tree/store.Tree.read`: signature, freshness, signed root heads), so an
  invented or replayed entry costs a read, never a wrong answer.

A compacted feed (410 `feed_reset`) gives `reset=True` and `seq` = the server's horizon:
the caller walks the whole tree and asks again from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from blindvault.client.net.changes import FeedResetError, pages
from blindvault.client.net.http import ApiClient, b64d
from blindvault.client.tree.store import Tree
from blindvault.core.root import SignedRoot
from blindvault.errors import IntegrityError, RollbackError

MANIFEST = "manifest"


@dataclass(frozen=True)
class FeedResult:
    seq: int  # the position to store in the index once the caller has read the folders
    changed: frozenset[bytes] = field(default_factory=frozenset)  # folder node ids to re-read
    reset: bool = False  # the feed was compacted past `since`: walk everything
    requests: int = 0
    heads: Mapping[bytes, int] = field(
        default_factory=dict, compare=False
    )  # the verified root's folders


def _root_changes(root: SignedRoot, base: Mapping[bytes, int]) -> set[bytes]:
    """Folders the signed root says are newer than the index's base (P-FRESH)."""
    return {h.node_id for h in root.heads if h.version > base.get(h.node_id, 0)}


def changes(tree: Tree, api: ApiClient, since: int, base: Mapping[bytes, int]) -> FeedResult:
    """The owner's folders to re-read since `since` (`base`: node id → index version)."""
    candidates: set[bytes] = set()
    seq, requests, root_data = since, 0, None
    try:
        for page in pages(api, since, tree.owner.hex()):
            requests += 1
            seq = page.next
            if page.root is not None:
                root_data = (b64d(page.root.data), page.root.version)
            for entry in page.changes:
                if entry.kind == MANIFEST and entry.version != base.get(_node(entry.id), -1):
                    candidates.add(_node(entry.id))
    except FeedResetError as exc:
        return FeedResult(
            since if exc.horizon is None else exc.horizon, reset=True, requests=requests + 1
        )
    if root_data is None:  # mutant: feed.root-missing
        if tree.state.root_sequence:
            raise RollbackError("the change feed carried no signed root")
        raise IntegrityError("the account's signed root is missing")
    root = tree.accept_root(*root_data)  # signature and freshness (P-FRESH)
    candidates |= _root_changes(root, base)  # mutant: feed.root-heads
    heads = {h.node_id: h.version for h in root.heads}
    return FeedResult(seq, frozenset(candidates), requests=requests, heads=heads)


def _node(record_id: str) -> bytes:
    try:
        node = bytes.fromhex(record_id)
    except ValueError:
        raise IntegrityError("the change feed named a malformed record id") from None
    if len(node) != 16:
        raise IntegrityError("the change feed named a malformed record id")
    return node


def space_changes(api: ApiClient, since: int) -> FeedResult:
    """The folders of one incoming shared space (`api` scoped to its owner and space) to
    re-read since `since`. A member gets no signed root of the owner's: every manifest
    entry after `since` is a candidate, read through the verified path (signatures of
    roster writers, this device's high-water marks). A server that hides an entry leaves
    the member where serving the same older, verified manifest to a full walk would (the
    fork-consistency limit of the threat model), nothing worse."""
    candidates: set[bytes] = set()
    seq, requests = since, 0
    try:
        for page in pages(api, since, None):
            requests += 1
            seq = page.next
            candidates |= {_node(e.id) for e in page.changes if e.kind == MANIFEST}
    except FeedResetError as exc:
        return FeedResult(
            since if exc.horizon is None else exc.horizon, reset=True, requests=requests + 1
        )
    return FeedResult(seq, frozenset(candidates), requests=requests)
