"""The pipeline as a directed graph: nodes by id, one edge per connected node pair.

Only edges whose endpoints are known nodes are in the graph; ``validate`` reports
the others. Each graph edge keeps the list of (output port, input port) pairs it
carries, since one node can feed another through several ports (split → clean).

The two algorithms the compiler needs, a topological order and the cycles, are
written out here (a few dozen lines) rather than taken from networkx, whose
import alone costs about a tenth of a second on every ``pipecanvas validate``.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from functools import lru_cache

from .spec import EdgeSpec, NodeSpec, Pipeline

__all__ = ["PortRef", "PipelineGraph", "parse_port_ref", "build_graph", "find_cycles"]


class PortRef(tuple):
    """``node.port`` split into its two parts."""

    __slots__ = ()

    def __new__(cls, node: str, port: str) -> "PortRef":
        return super().__new__(cls, (node, port))

    @property
    def node(self) -> str:
        return self[0]

    @property
    def port(self) -> str:
        return self[1]


@lru_cache(maxsize=16384)
def parse_port_ref(text: str) -> PortRef | None:
    """``"load.table"`` → PortRef("load", "table"); None when it is not of that form.

    Kept (a PortRef is immutable): validation and the graph each read every edge's two ends, and a
    fan-out repeats one end on every edge.
    """
    node, dot, port = text.rpartition(".")
    if not dot or not node or not port:
        return None
    return PortRef(node, port)


class PipelineGraph:
    """Node ids in file order, each with its NodeSpec and file index, and the port pairs on each edge.

    Neighbours keep the order their first edge has in the file, so every walk
    over the graph (and every message built from one) is the same from run to run.
    """

    def __init__(self) -> None:
        self._spec: dict[str, NodeSpec] = {}
        self._index: dict[str, int] = {}
        self._succ: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self._pred: dict[str, dict[str, list[tuple[str, str]]]] = {}

    def add_node(self, node_id: str, spec: NodeSpec, index: int) -> None:
        self._spec[node_id], self._index[node_id] = spec, index
        self._succ[node_id], self._pred[node_id] = {}, {}

    def add_ports(self, source: str, target: str, out_port: str, in_port: str) -> None:
        """Connect ``source.out_port`` to ``target.in_port`` (both nodes must be in the graph)."""
        self._succ[source].setdefault(target, []).append((out_port, in_port))
        self._pred[target][source] = self._succ[source][target]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._spec)

    def __len__(self) -> int:
        return len(self._spec)

    def spec(self, node_id: str) -> NodeSpec:
        return self._spec[node_id]

    def index(self, node_id: str) -> int:
        return self._index[node_id]

    def successors(self, node_id: str) -> list[str]:
        return list(self._succ[node_id])

    def predecessors(self, node_id: str) -> list[str]:
        return list(self._pred[node_id])

    def descendants(self, node_id: str) -> set[str]:
        """Every node reachable from ``node_id`` (not itself); empty for a node not in the graph."""
        return self._reach(node_id, self._succ)

    def ancestors(self, node_id: str) -> set[str]:
        """Every node ``node_id`` is reached from (not itself): what must run before it; empty when unknown."""
        return self._reach(node_id, self._pred)

    def _reach(self, node_id: str, links: dict) -> set[str]:
        if node_id not in self:
            return set()
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for neighbour in links[stack.pop()]:
                if neighbour not in seen:
                    seen.add(neighbour)
                    stack.append(neighbour)
        return seen

    def ports(self, source: str, target: str) -> list[tuple[str, str]]:
        """The (output port, input port) pairs from ``source`` to ``target``; empty when not connected."""
        return list(self._succ[source].get(target, ()))

    def is_isolated(self, node_id: str) -> bool:
        return not self._succ[node_id] and not self._pred[node_id]

    def topological_order(self) -> list[str]:
        """Every node after all it depends on; among nodes that are free at once, the earliest in the file first.

        Nodes on a cycle (and those downstream of one) are left out: validation reports the cycle.
        """
        waiting = {node_id: len(self._pred[node_id]) - (node_id in self._pred[node_id]) for node_id in self._spec}
        ready = [(self._index[n], n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, node_id = heapq.heappop(ready)
            order.append(node_id)
            for target in self._succ[node_id]:
                if target == node_id:
                    continue
                waiting[target] -= 1
                if waiting[target] == 0:
                    heapq.heappush(ready, (self._index[target], target))
        return order

    def tangles(self) -> list[set[str]]:
        """The strongly connected components with a cycle in them (Tarjan's algorithm, without recursion)."""
        number: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[set[str]] = []
        for root in self._spec:
            if root in number:
                continue
            number[root] = low[root] = len(number)
            stack.append(root)
            on_stack.add(root)
            work = [(root, iter(self._succ[root]))]
            while work:
                node_id, targets = work[-1]
                target = next(targets, None)
                if target is not None:
                    if target not in number:
                        number[target] = low[target] = len(number)
                        stack.append(target)
                        on_stack.add(target)
                        work.append((target, iter(self._succ[target])))
                    elif target in on_stack:
                        low[node_id] = min(low[node_id], number[target])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node_id])
                if low[node_id] == number[node_id]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node_id:
                            break
                    if len(component) > 1 or node_id in self._succ[node_id]:
                        found.append(component)
        return found


def build_graph(pipeline: Pipeline) -> PipelineGraph:
    """The pipeline's nodes (the first of any duplicated id) and the edges between known nodes."""
    graph = PipelineGraph()
    for index, node in enumerate(pipeline.spec.nodes):
        if node.id not in graph:
            graph.add_node(node.id, node, index)
    for edge in pipeline.spec.edges:
        _add_edge(graph, edge)
    return graph


def _add_edge(graph: PipelineGraph, edge: EdgeSpec) -> None:
    source, target = parse_port_ref(edge.from_), parse_port_ref(edge.to)
    if source is None or target is None or source.node not in graph or target.node not in graph:
        return
    graph.add_ports(source.node, target.node, source.port, target.port)


def find_cycles(graph: PipelineGraph) -> list[list[str]]:
    """One cycle (as a closed walk of node ids) per strongly connected tangle, in file order.

    Each walk starts and ends at the tangle's first node in the file and is a
    shortest way round through it, so the message names as few nodes as it can.
    """
    cycles = [_shortest_cycle_through(graph, min(component, key=graph.index), component)
              for component in graph.tangles()]
    cycles.sort(key=lambda cycle: graph.index(cycle[0]))
    return cycles


def _shortest_cycle_through(graph: PipelineGraph, start: str, component: set[str]) -> list[str]:
    """Breadth-first from ``start`` inside its component until an edge leads back to it."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node_id = queue.popleft()
        for target in graph.successors(node_id):
            if target == start:
                walk = [node_id]
                while walk[-1] != start:
                    walk.append(came_from[walk[-1]])
                return walk[::-1] + [start]
            if target in component and target not in came_from:
                came_from[target] = node_id
                queue.append(target)
    raise AssertionError(f"{start} is in a tangle but on no cycle")  # cannot happen: tangles() found one
