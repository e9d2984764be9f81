"""Which of a run's steps the pipeline on the canvas no longer matches (KNIME's yellow light).

A step is outdated when the cache key the current pipeline gives it differs
from the one the run recorded: its settings, its type's version, its image, or
anything upstream of it changed (and, for ``data.file``, the file itself). Its
badges and outputs are then from the previous run, and Resume must run the
current pipeline, not the stored one. When the pipeline does not compile (a
value out of range, an input not connected) the keys cannot be computed; the
nodes whose own spec or inputs differ from the run's, and everything
downstream of them, are outdated instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from compiler import NodeSpec, Pipeline, SpecError, compile_plan
from compiler.graph import build_graph
from nodes import Catalog
from runtime.run_store import StepRecord

__all__ = ["Freshness", "freshness"]


@dataclass(frozen=True)
class Freshness:
    """``outdated``: steps of the run whose node changed; ``changed``: whether the pipeline differs at all."""

    outdated: frozenset[str]
    changed: bool


def freshness(pipeline: Pipeline, catalog: Catalog, steps: list[StepRecord]) -> Freshness:
    """Compare the pipeline on the canvas with a run's recorded steps."""
    recorded = {step.step_id: step for step in steps}
    current = {node.id for node in pipeline.spec.nodes}
    try:
        plan = compile_plan(pipeline, catalog, "memory://freshness", fingerprint_sources=True)
    except SpecError:
        outdated = _by_spec(pipeline, catalog, recorded)
    else:
        outdated = {step.id for step in plan.steps if step.id in recorded and step.cache_key != recorded[step.id].cache_key}
    return Freshness(frozenset(outdated), bool(outdated) or current != set(recorded))


def _by_spec(pipeline: Pipeline, catalog: Catalog, recorded: dict[str, StepRecord]) -> set[str]:
    """Nodes whose type, params or inputs differ from the recorded step, and what lies downstream of them."""
    inputs: dict[str, dict[str, str]] = {}
    for edge in pipeline.spec.edges:
        target, port = edge.to.rsplit(".", 1)
        inputs.setdefault(target, {})[port] = edge.from_.rsplit(".", 1)[0]
    changed = {
        node.id for node in pipeline.spec.nodes
        if node.id in recorded and (
            node.type != recorded[node.id].type or _params(node, catalog) != recorded[node.id].params
            or inputs.get(node.id, {}) != recorded[node.id].inputs)
    }
    graph = build_graph(pipeline)
    downstream = set(changed)
    for node_id in changed:
        downstream |= graph.descendants(node_id)
    return {node_id for node_id in downstream if node_id in recorded}


def _params(node: NodeSpec, catalog: Catalog) -> dict[str, Any] | None:
    """The params as a run records them (defaults filled in), or None when they are not valid (so never ran)."""
    node_type = catalog.get(node.type)
    if node_type is None:
        return None
    try:
        return node_type.Params.model_validate(node.params).model_dump(mode="json")
    except ValidationError:
        return None
