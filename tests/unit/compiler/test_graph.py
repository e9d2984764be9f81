"""compiler.graph's own topological order and cycle finder agree with networkx on random graphs."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.graph import PipelineGraph, find_cycles

_graphs = st.integers(1, 9).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20))
)


def _build(n: int, edges: list[tuple[int, int]]) -> tuple[PipelineGraph, nx.DiGraph]:
    ours, theirs = PipelineGraph(), nx.DiGraph()
    for i in range(n):
        ours.add_node(f"n{i}", None, i)
        theirs.add_node(f"n{i}", index=i)
    for a, b in edges:
        ours.add_ports(f"n{a}", f"n{b}", "out", "in")
        theirs.add_edge(f"n{a}", f"n{b}")
    return ours, theirs


@settings(max_examples=500, deadline=None)
@given(_graphs)
def test_topological_order_is_networkx_lexicographical_by_file_index(case) -> None:
    ours, theirs = _build(*case)
    if not nx.is_directed_acyclic_graph(theirs):
        return
    expected = list(nx.lexicographical_topological_sort(theirs, key=lambda n: theirs.nodes[n]["index"]))
    assert ours.topological_order() == expected


@settings(max_examples=500, deadline=None)
@given(_graphs)
def test_one_shortest_cycle_per_tangle_starting_at_its_first_node(case) -> None:
    ours, theirs = _build(*case)
    tangles = [c for c in nx.strongly_connected_components(theirs)
               if len(c) > 1 or theirs.has_edge(next(iter(c)), next(iter(c)))]
    cycles = find_cycles(ours)
    assert len(cycles) == len(tangles)
    for cycle, tangle in zip(cycles, sorted(tangles, key=lambda c: min(theirs.nodes[n]["index"] for n in c))):
        assert cycle[0] == cycle[-1] == min(tangle, key=lambda n: theirs.nodes[n]["index"])
        assert all(theirs.has_edge(a, b) for a, b in zip(cycle, cycle[1:]))
        assert set(cycle) <= tangle
        shortest = min(len(p) for p in nx.simple_cycles(theirs.subgraph(tangle)) if cycle[0] in p)
        assert len(cycle) - 1 == shortest
    assert [c[0] for c in cycles] == sorted((c[0] for c in cycles), key=lambda n: theirs.nodes[n]["index"])


def test_an_acyclic_graph_has_no_cycles_and_a_node_on_its_own_is_isolated() -> None:
    ours, _ = _build(3, [(0, 1)])
    assert find_cycles(ours) == []
    assert [ours.is_isolated(n) for n in ours] == [False, False, True]
    assert ours.ports("n0", "n1") == [("out", "in")]
    assert ours.ports("n1", "n0") == []
