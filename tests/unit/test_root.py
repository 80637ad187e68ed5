from __future__ import annotations

import pytest

from blindvault.core.identity import Identity
from blindvault.core.manifest import ManifestHead
from blindvault.core.root import check_root_fresh, open_root, seal_root
from blindvault.errors import FormatError, IntegrityError, RollbackError, UsageError

OWNER = b"\x05" * 16
ZERO = bytes(32)


def heads(version: int) -> list[ManifestHead]:
    return [ManifestHead(bytes([i]) * 16, version, bytes([version]) * 32) for i in (3, 1, 2)]


def test_round_trip_and_chain(alice: Identity, bob: Identity) -> None:
    r1 = open_root(seal_root(OWNER, 1, ZERO, heads(1), alice), OWNER, alice.bundle)
    assert [h.node_id[0] for h in r1.heads] == [1, 2, 3]
    r2 = open_root(seal_root(OWNER, 2, r1.hash, heads(2), alice), OWNER, alice.bundle)
    check_root_fresh(r1, r2)
    with pytest.raises(RollbackError):
        check_root_fresh(r2, r1)
    with pytest.raises(IntegrityError):
        open_root(seal_root(OWNER, 1, ZERO, heads(1), bob), OWNER, alice.bundle)
    with pytest.raises(IntegrityError):
        open_root(seal_root(OWNER, 1, ZERO, heads(1), alice), b"\x06" * 16, alice.bundle)


def test_fork_and_folder_rollback(alice: Identity) -> None:
    r1 = open_root(seal_root(OWNER, 1, ZERO, heads(1), alice), OWNER, alice.bundle)
    r2 = open_root(seal_root(OWNER, 2, r1.hash, heads(2), alice), OWNER, alice.bundle)
    fork = open_root(seal_root(OWNER, 2, r1.hash, heads(3), alice), OWNER, alice.bundle)
    with pytest.raises(RollbackError):
        check_root_fresh(r2, fork)
    bad_chain = open_root(seal_root(OWNER, 3, b"\x09" * 32, heads(3), alice), OWNER, alice.bundle)
    check_root_fresh(r1, bad_chain)  # gap of more than one: the chain cannot be checked
    older_heads = open_root(seal_root(OWNER, 3, r2.hash, heads(1), alice), OWNER, alice.bundle)
    with pytest.raises(RollbackError):
        check_root_fresh(r2, older_heads)


def test_duplicate_heads_refused(alice: Identity) -> None:
    h = heads(1)
    with pytest.raises(UsageError):
        seal_root(OWNER, 1, ZERO, [h[0], h[0]], alice)


def test_roster_heads_are_signed_and_never_go_back(alice: Identity) -> None:
    """P-ROSTERFRESH: the root (version 2) names each shared folder's newest roster; a root
    that lowers a roster head is a rollback, a version-1 root is refused."""
    node = b"\x42" * 16
    r1 = open_root(
        seal_root(OWNER, 1, ZERO, heads(1), alice, [ManifestHead(node, 3, b"\x01" * 32)]),
        OWNER,
        alice.bundle,
    )
    assert r1.roster_of(node) == ManifestHead(node, 3, b"\x01" * 32)
    lower = seal_root(OWNER, 2, r1.hash, heads(1), alice, [ManifestHead(node, 2, b"\x02" * 32)])
    with pytest.raises(RollbackError):
        check_root_fresh(r1, open_root(lower, OWNER, alice.bundle))
    data = seal_root(OWNER, 1, ZERO, heads(1), alice)
    with pytest.raises(FormatError):
        open_root(data[:4] + b"\x01" + data[5:], OWNER, alice.bundle)
