"""Reading and writing a paged folder's pages (issue 18; spec §7a, core/pages.py).

The signed root (a version-2 sealed manifest) names every page by its hash; the pages are
blobs at ids derived from those hashes. A read fetches the pages it needs — all of them,
or only the buckets of some names (a *partial* read: `put` into a folder of 100,000
entries reads one page) — and checks each against the root: a page that does not match,
or that the server does not produce, is an `IntegrityError`. A write seals only the
pages whose entries changed, uploads them before the root that names them, and deletes
the pages the new root no longer names after it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from blindvault.client.net.http import ApiClient
from blindvault.client.net.transfer import send_batch
from blindvault.core import constants
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import Entry, ManifestBody, OpenedManifest, check_unique
from blindvault.core.pages import (
    EMPTY_REF,
    Bucketer,
    PageRef,
    RootBody,
    choose_bits,
    open_page,
    page_blob_id,
    seal_page,
)
from blindvault.errors import IntegrityError, NotFoundError, UsageError

__all__ = [
    "PAGE_MAX",
    "PAGE_MERGE",
    "PAGE_SPLIT",
    "Loaded",
    "PageCache",
    "PageGoneError",
    "Plan",
    "load",
    "plan",
    "publish",
    "retire",
]

# the writer's thresholds (core/constants.py), as variables a benchmark or a test may move
PAGE_SPLIT: int = constants.PAGE_SPLIT
PAGE_MERGE: int = constants.PAGE_MERGE
PAGE_MAX: int = constants.PAGE_MAX

_BATCH_BYTES = 6 << 20  # below the server's 8 MiB batch answer
_BATCH_ITEMS = 1000


class PageGoneError(IntegrityError):
    """A page the signed root names is not on the server (or not the one named). The tree
    re-reads the root once: a writer may have replaced the page meanwhile."""


@dataclass(frozen=True)
class Loaded:
    """The pages of a paged folder one read opened: bucket -> its entries (name order)."""

    bits: int
    pages: dict[int, tuple[Entry, ...]]
    complete: bool


class PageCache:
    """Opened pages by (node id, page hash), for the life of a client: a page is immutable
    (content-addressed), so a hit needs no new check; the root that names it is always
    fetched and verified again."""

    def __init__(self, limit: int = 8192) -> None:
        self._pages: dict[tuple[bytes, bytes], tuple[Entry, ...]] = {}
        self._limit = limit

    def get(self, node_id: bytes, digest: bytes) -> tuple[Entry, ...] | None:
        return self._pages.get((node_id, digest))

    def put(self, node_id: bytes, digest: bytes, entries: tuple[Entry, ...]) -> None:
        if len(self._pages) >= self._limit:
            self._pages.clear()
        self._pages[(node_id, digest)] = entries


def _by_name(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    return tuple(sorted(entries, key=lambda e: e.name.encode("utf-8")))


Fetch = Callable[[list[bytes]], dict[bytes, bytes]]  # blob ids -> the blobs the server has


def load(
    fetch: Fetch,
    opened: OpenedManifest,
    key: FolderKey,
    cache: PageCache,
    names: Collection[str] | None = None,
) -> tuple[ManifestBody, Loaded]:
    """The folder's body from its pages: every page, or (`names`) only their buckets, so
    the body holds at least the entries of those names (and every tombstone and trash
    item, which live in the root)."""
    root = opened.paged
    if root is None:
        raise UsageError("not a paged manifest")
    node = opened.node_id
    bucketer = Bucketer(key, root.bits)
    wanted = range(len(root.refs)) if names is None else sorted({bucketer(n) for n in names})
    buckets = [b for b in wanted if root.refs[b].count]
    pages: dict[int, tuple[Entry, ...]] = dict.fromkeys(wanted, ())
    missing = []
    for b in buckets:
        hit = cache.get(node, root.refs[b].hash)
        if hit is None:
            missing.append(b)
        else:
            pages[b] = hit
    for group in _groups(missing, root.refs):
        ids = {page_blob_id(node, root.refs[b].hash): b for b in group}
        got = fetch(list(ids))
        for bid, b in ids.items():
            sealed = got.get(bid)
            if sealed is None:  # mutant: tree.page-missing
                raise PageGoneError("a page the signed manifest names is missing")
            ref = root.refs[b]
            opened_page = open_page(sealed, ref, key, node_id=node, bucket=b, bucketer=bucketer)
            cache.put(node, ref.hash, opened_page)
            pages[b] = opened_page
    entries = [e for b in buckets for e in pages[b]]
    body = ManifestBody(tuple(entries), opened.body.tombstones, opened.body.trash)
    if names is None:
        try:
            check_unique(entries, list(body.tombstones), body.trash)
        except UsageError:
            raise IntegrityError from None
    return body, Loaded(root.bits, pages, names is None)


def _groups(buckets: list[int], refs: tuple[PageRef, ...]) -> Iterable[list[int]]:
    group: list[int] = []
    size = 0
    for b in buckets:
        if group and (size + refs[b].size > _BATCH_BYTES or len(group) >= _BATCH_ITEMS):
            yield group
            group, size = [], 0
        group.append(b)
        size += refs[b].size
    if group:
        yield group


@dataclass
class Plan:
    """One write of a folder: its new root (None: written whole, format version 1), the
    pages to upload before it, the pages to delete after it, and what to cache."""

    root: RootBody | None
    uploads: list[tuple[bytes, bytes]] = field(default_factory=list)
    drops: list[bytes] = field(default_factory=list)
    opened: dict[bytes, tuple[Entry, ...]] = field(default_factory=dict)


def plan(
    node_id: bytes,
    key: FolderKey,
    body: ManifestBody,
    old: OpenedManifest | None,
    loaded: Loaded | None,
    *,
    rekey: bool,
) -> Plan | None:
    """How to write `body` (the result of an edit of what was read). None: the body came
    from a partial read and cannot be written as it is (an entry outside the buckets read,
    a page over PAGE_MAX, a merge, a re-key); the caller reads everything and edits again."""
    old_root = old.paged if old is not None else None
    if loaded is not None and not loaded.complete and old_root is not None:
        return _plan_partial(node_id, key, body, old_root, loaded, rekey=rekey)
    n = len(body.entries)
    if not (n > PAGE_SPLIT or (old_root is not None and n > PAGE_MERGE)):
        return Plan(None, drops=_page_ids(node_id, old_root.refs) if old_root else [])
    bucketer = Bucketer(key, old_root.bits if old_root and not rekey else choose_bits(n))
    groups = bucketer.split(body.entries)
    if max(len(g) for g in groups) > PAGE_MAX:
        bucketer = Bucketer(key, choose_bits(n))
        groups = bucketer.split(body.entries)
    keep = old_root is not None and loaded is not None and not rekey
    same = keep and old_root is not None and bucketer.bits == old_root.bits
    out = Plan(None)
    refs = []
    for b, group in enumerate(groups):
        ordered = _by_name(group)
        if same and loaded is not None and old_root is not None and ordered == loaded.pages.get(b):
            refs.append(old_root.refs[b])
            continue
        refs.append(_seal(out, node_id, key, bucketer.bits, b, ordered))
    named = {r.hash for r in refs}
    if old_root is not None:
        out.drops = _page_ids(node_id, tuple(r for r in old_root.refs if r.hash not in named))
    out.root = RootBody(bucketer.bits, tuple(refs), body.tombstones, body.trash)
    return out


def _plan_partial(
    node_id: bytes,
    key: FolderKey,
    body: ManifestBody,
    old_root: RootBody,
    loaded: Loaded,
    *,
    rekey: bool,
) -> Plan | None:
    if rekey:
        return None
    bucketer = Bucketer(key, old_root.bits)
    groups: dict[int, list[Entry]] = {b: [] for b in loaded.pages}
    for e in body.entries:
        b = bucketer(e.name)
        if b not in groups:
            return None
        groups[b].append(e)
    before = sum(len(p) for p in loaded.pages.values())
    if old_root.total - before + len(body.entries) <= PAGE_MERGE:
        return None
    if any(len(g) > PAGE_MAX for g in groups.values()):
        return None
    out = Plan(None)
    refs = list(old_root.refs)
    for b, group in groups.items():
        ordered = _by_name(group)
        if ordered == loaded.pages[b]:
            continue
        if old_root.refs[b].count:
            out.drops += _page_ids(node_id, (old_root.refs[b],))
        refs[b] = _seal(out, node_id, key, old_root.bits, b, ordered)
    out.root = RootBody(old_root.bits, tuple(refs), body.tombstones, body.trash)
    return out


def _seal(
    out: Plan, node_id: bytes, key: FolderKey, bits: int, bucket: int, ordered: tuple[Entry, ...]
) -> PageRef:
    if not ordered:
        return EMPTY_REF
    ref, sealed = seal_page(ordered, key, node_id=node_id, bits=bits, bucket=bucket)
    out.uploads.append((page_blob_id(node_id, ref.hash), sealed))
    out.opened[ref.hash] = ordered
    return ref


def _page_ids(node_id: bytes, refs: Iterable[PageRef]) -> list[bytes]:
    return [page_blob_id(node_id, r.hash) for r in refs if r.count]


def publish(api: ApiClient, todo: Plan) -> None:
    """Upload a write's new pages (before the root that names them)."""
    group: list[tuple[bytes, bytes]] = []
    size = 0
    for bid, sealed in todo.uploads:
        if group and (size + len(sealed) > _BATCH_BYTES or len(group) >= _BATCH_ITEMS):
            send_batch(api, group)
            group, size = [], 0
        group.append((bid, sealed))
        size += len(sealed)
    if group:
        send_batch(api, group)


def retire(api: ApiClient, ids: Iterable[bytes]) -> None:
    """Delete pages no stored root names any more (best effort: `prune` collects what a
    crash leaves behind, as it does a killed upload's blob)."""
    for bid in ids:
        try:
            api.request("DELETE", f"/v1/blobs/{bid.hex()}")
        except NotFoundError:
            continue
