"""Slicing a pipeline: the part a "Run to here" runs (Kedro's ``Pipeline.to_nodes``).

``upstream_slice(pipeline, "train")`` is a new pipeline holding ``train``, every
node it depends on, and the edges between them; everything downstream or beside
it is left out. A step's cache key depends only on its own settings and on what
feeds it, so the kept steps have the keys they have in the whole pipeline: the
unchanged ones come from the cache when the slice runs.
"""

from __future__ import annotations

from .diagnostics import Diagnostic
from .errors import SpecError
from .graph import build_graph, parse_port_ref
from .spec import Pipeline

__all__ = ["upstream_slice"]


def upstream_slice(pipeline: Pipeline, node_id: str) -> Pipeline:
    """``node_id`` and its ancestors, as a pipeline of its own. Raises ``SpecError`` for an unknown node."""
    if pipeline.node(node_id) is None:
        known = ", ".join(node.id for node in pipeline.spec.nodes[:8]) or "none"
        raise SpecError([Diagnostic("error", f"pipeline: there is no node '{node_id}' to run to (nodes: {known})",
                                    node=node_id)])
    keep = build_graph(pipeline).ancestors(node_id) | {node_id}
    nodes = [node for node in pipeline.spec.nodes if node.id in keep]
    edges = [edge for edge in pipeline.spec.edges if _ends_in(edge.from_, keep) and _ends_in(edge.to, keep)]
    body = pipeline.spec.model_copy(update={"nodes": nodes, "edges": edges})
    return pipeline.model_copy(update={"spec": body})


def _ends_in(port_ref: str, keep: set[str]) -> bool:
    ref = parse_port_ref(port_ref)
    return ref is not None and ref.node in keep
