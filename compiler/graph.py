"""The pipeline as a networkx DiGraph: nodes by id, one edge per connected node pair.

Only edges whose endpoints are known nodes are in the graph; ``validate`` reports
the others. Each graph edge keeps the list of (output port, input port) pairs it
carries, since one node can feed another through several ports (split → clean).
"""

from __future__ import annotations

import networkx as nx

from .spec import EdgeSpec, Pipeline

__all__ = ["PortRef", "parse_port_ref", "build_graph", "find_cycles"]


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


def parse_port_ref(text: str) -> PortRef | None:
    """``"load.table"`` → PortRef("load", "table"); None when it is not of that form."""
    node, dot, port = text.rpartition(".")
    if not dot or not node or not port:
        return None
    return PortRef(node, port)


def build_graph(pipeline: Pipeline) -> nx.DiGraph:
    """Nodes carry ``spec`` (the NodeSpec) and ``index`` (position in the file)."""
    graph = nx.DiGraph()
    for index, node in enumerate(pipeline.spec.nodes):
        if node.id not in graph:
            graph.add_node(node.id, spec=node, index=index)
    for edge in pipeline.spec.edges:
        _add_edge(graph, edge)
    return graph


def _add_edge(graph: nx.DiGraph, edge: EdgeSpec) -> None:
    source, target = parse_port_ref(edge.from_), parse_port_ref(edge.to)
    if source is None or target is None or source.node not in graph or target.node not in graph:
        return
    if graph.has_edge(source.node, target.node):
        graph.edges[source.node, target.node]["ports"].append((source.port, target.port))
    else:
        graph.add_edge(source.node, target.node, ports=[(source.port, target.port)])


def find_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """One cycle (as a closed walk of node ids) per strongly connected tangle, in file order."""
    cycles = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (only,) = component
            if not graph.has_edge(only, only):
                continue
        sub = graph.subgraph(component)
        start = min(component, key=lambda n: graph.nodes[n]["index"])
        walk = [u for u, _ in nx.find_cycle(sub, source=start)]
        cycles.append(walk + [walk[0]])
    cycles.sort(key=lambda c: graph.nodes[c[0]]["index"])
    return cycles
