"""The pure three-way merge of issue 14 (`blindvault.sync.plan`): a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blindvault.sync.plan import Action, Base, Kind, Local, Remote, conflict_name, plan

H1, H2, H3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
N1, N2 = b"n1", b"n2"


def base(h: bytes = H1, inode: int = 7, node: bytes = N1, v: int = 1) -> Base:
    return Base(h, inode, node, v)


def loc(h: bytes = H1, inode: int = 7) -> Local:
    return Local(h, 3, inode)


def rem(node: bytes = N1, v: int = 1) -> Remote:
    return Remote(node, v, 3)


CASES = [
    # name, base, local, remote, expected actions
    ("new local", {}, {"a": loc()}, {}, [Action(Kind.UPLOAD, "a")]),
    ("new remote", {}, {}, {"a": rem()}, [Action(Kind.DOWNLOAD, "a")]),
    ("new both", {}, {"a": loc()}, {"a": rem()}, [Action(Kind.CONFLICT, "a")]),
    ("in sync", {"a": base()}, {"a": loc()}, {"a": rem()}, []),
    ("local edit", {"a": base()}, {"a": loc(H2)}, {"a": rem()}, [Action(Kind.UPLOAD, "a")]),
    ("remote edit", {"a": base()}, {"a": loc()}, {"a": rem(v=2)}, [Action(Kind.DOWNLOAD, "a")]),
    ("both edit", {"a": base()}, {"a": loc(H2)}, {"a": rem(v=2)}, [Action(Kind.CONFLICT, "a")]),
    ("local delete", {"a": base()}, {}, {"a": rem()}, [Action(Kind.DELETE_REMOTE, "a")]),
    ("remote delete", {"a": base()}, {"a": loc()}, {}, [Action(Kind.DELETE_LOCAL, "a")]),
    ("both delete", {"a": base()}, {}, {}, [Action(Kind.FORGET, "a")]),
    ("edit beats remote delete", {"a": base()}, {"a": loc(H2)}, {}, [Action(Kind.UPLOAD, "a")]),
    ("edit beats local delete", {"a": base()}, {}, {"a": rem(v=2)}, [Action(Kind.DOWNLOAD, "a")]),
    (
        "local rename by inode",
        {"a": base()},
        {"b": loc(H2, inode=7)},
        {"a": rem()},
        [Action(Kind.MOVE_REMOTE, "a", "b")],
    ),
    (
        "local rename by content",
        {"a": base()},
        {"b": loc(H1, inode=99)},
        {"a": rem()},
        [Action(Kind.MOVE_REMOTE, "a", "b")],
    ),
    (
        "unrelated new file is no rename",
        {"a": base()},
        {"b": loc(H3, inode=99)},
        {"a": rem()},
        [Action(Kind.DELETE_REMOTE, "a"), Action(Kind.UPLOAD, "b")],
    ),
    (
        "remote rename by node",
        {"a": base()},
        {"a": loc()},
        {"d/b": rem()},
        [Action(Kind.MOVE_LOCAL, "a", "d/b")],
    ),
    (
        "remote rename plus edit is delete + download",
        {"a": base()},
        {"a": loc()},
        {"b": rem(v=2)},
        [Action(Kind.DELETE_LOCAL, "a"), Action(Kind.DOWNLOAD, "b")],
    ),
    (
        "a different node at the path is a remote change",
        {"a": base()},
        {"a": loc()},
        {"a": rem(node=N2)},
        [Action(Kind.DOWNLOAD, "a")],
    ),
]


@pytest.mark.parametrize(("name", "b", "lo", "r", "want"), CASES, ids=[c[0] for c in CASES])
def test_plan_table(
    name: str,
    b: dict[str, Base],
    lo: dict[str, Local],
    r: dict[str, Remote],
    want: list[Action],
) -> None:
    assert plan(b, lo, r) == want, name


def test_plan_is_pure_and_deterministic() -> None:
    b, lo, r = {"a": base()}, {"b": loc()}, {"a": rem()}
    assert plan(b, lo, r) == plan(b, lo, r)
    assert b == {"a": base()} and lo == {"b": loc()}


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("notes.txt", "notes (conflict laptop 2026-12-03 2215).txt"),
        ("d/e/archive.tar.gz", "d/e/archive.tar (conflict laptop 2026-12-03 2215).gz"),
        (".bashrc", ".bashrc (conflict laptop 2026-12-03 2215)"),
        ("README", "README (conflict laptop 2026-12-03 2215)"),
    ],
)
def test_conflict_name(path: str, want: str) -> None:
    assert conflict_name(path, "laptop", datetime(2026, 12, 3, 22, 15, tzinfo=UTC)) == want
