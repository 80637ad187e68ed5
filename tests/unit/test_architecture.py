"""The shape of src/ (issue 13, docs/architecture.md): no import cycle between modules, no
module over 450 lines, and the wire models importing only pydantic and the standard library.
The layer contracts themselves are import-linter's (pyproject.toml, `lint-imports`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import blindvault

SRC = Path(blindvault.__file__).parent
MAX_LINES = 450
WIRE_MAY_IMPORT = {"pydantic", "pydantic_core", "annotated_types", "typing_extensions"}

# Legacy, split by issue 13 (h-rclient) and gone once it is merged: each entry must still be
# a violation (the test says when one is not: delete it then), and nothing may join the list.
LEGACY_LONG: set[str] = set()
LEGACY_CYCLES: set[str] = set()


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # TYPE_CHECKING imports count: an annotation pointing back is a cycle of the design too
    return grimp.build_graph("blindvault", include_external_packages=True)


def _strongly_connected(nodes: set[str], edges: dict[str, set[str]]) -> Iterator[set[str]]:
    """Tarjan's algorithm, iterative: every strongly connected component of the graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    yield component
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    ours = {m for m in graph.modules if m.split(".")[0] == "blindvault"}
    edges = {m: graph.find_modules_directly_imported_by(m) & ours for m in ours}
    return [c for c in _strongly_connected(ours, edges) if len(c) > 1]


def test_tarjan_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    found = [c for c in _strongly_connected(set(edges), edges) if len(c) > 1]
    assert found == [{"a", "b", "c"}]


def test_no_import_cycle_in_src(graph: grimp.ImportGraph) -> None:
    cycles = _cycles(graph)
    in_cycles = set().union(*cycles) if cycles else set()
    new = [sorted(c) for c in cycles if not c <= LEGACY_CYCLES]
    assert new == [], "import cycles (break them: see docs/architecture.md)"
    assert in_cycles >= LEGACY_CYCLES, f"no longer in a cycle: {LEGACY_CYCLES - in_cycles}"


def test_no_module_over_450_lines() -> None:
    lengths = {
        p.relative_to(SRC).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in SRC.rglob("*.py")
    }
    long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert {n: c for n, c in long.items() if n not in LEGACY_LONG} == {}
    assert set(long) == LEGACY_LONG, f"within {MAX_LINES} lines now: {LEGACY_LONG - set(long)}"


def test_wire_imports_only_pydantic_and_the_standard_library(graph: grimp.ImportGraph) -> None:
    wire = {m for m in graph.modules if m == "blindvault.wire" or m.startswith("blindvault.wire.")}
    imported = set().union(*(graph.find_modules_directly_imported_by(m) for m in wire))
    outside = {
        m
        for m in imported - wire
        if m.split(".")[0] not in sys.stdlib_module_names | WIRE_MAY_IMPORT
    }
    assert outside == set()
