"""The pipeline spec as the canvas draws it, and the canvas's edits applied back.

Python owns the pipeline; the canvas is a view of it. ``pipeline_to_graph``
turns the spec (plus the compiler's diagnostics) into the JSON the canvas reads;
``apply_graph`` takes the graph the canvas sends after an edit and returns a new
pipeline with its structure and positions, keeping everything the canvas does
not edit (params, resources, retries, timeout) on the nodes that already exist.

The graph::

    {"nodes": [{"id", "type", "position": {"x", "y"}, "errors": [str], "warnings": [str],
                "gpu"?: int, "config"?: {...}}],
     "edges": [{"from": "load.table", "to": "split.table"}],
     "notes": [{"id", "text", "position": {"x", "y"}, "width", "height"}]}

``notes`` are the canvas's sticky notes, kept in the pipeline's ``ui`` section;
a graph without the key leaves the pipeline's notes as they are.

``config`` carries a node's settings to the canvas and back untouched, so a
pasted copy or an undone deletion comes back with its params; it is only read
for nodes the pipeline does not have yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import networkx as nx
from pydantic import ValidationError

from compiler import Diagnostic, EdgeSpec, NodeSpec, Pipeline, PipelineUi, UiNote, UiPosition
from compiler.graph import parse_port_ref
from compiler.validate import NODE_ID_PATTERN

__all__ = ["pipeline_to_graph", "apply_graph", "fresh_node_id", "CONFIG_FIELDS"]

#: NodeSpec fields the canvas carries opaquely in ``config`` and never edits.
CONFIG_FIELDS = ("params", "resources", "retries", "timeout")

_COLUMN = 280  # canvas pixels between layers when a file has no positions
_ROW = 170


def pipeline_to_graph(pipeline: Pipeline, diagnostics: Iterable[Diagnostic] = ()) -> dict[str, Any]:
    """The canvas graph for ``pipeline``, with each node's errors and warnings on it.

    Nodes without a saved position (a hand-written file) are placed in layers,
    left to right, so the first view is readable without pressing auto-layout.
    """
    errors, warnings = _problems_by_node(diagnostics)
    positions = _positions(pipeline)
    defaults = pipeline.spec.defaults.resources if pipeline.spec.defaults else None
    nodes = []
    for node in pipeline.spec.nodes:
        x, y = positions[node.id]
        item: dict[str, Any] = {
            "id": node.id,
            "type": node.type,
            "position": {"x": _compact(x), "y": _compact(y)},
            "errors": errors.get(node.id, []),
            "warnings": warnings.get(node.id, []),
        }
        gpu = _set_gpu(node, defaults)
        if gpu is not None:
            item["gpu"] = gpu
        config = _config(node)
        if config:
            item["config"] = config
        nodes.append(item)
    edges = [{"from": edge.from_, "to": edge.to} for edge in pipeline.spec.edges]
    notes = [{"id": note.id, "text": note.text, "position": {"x": _compact(note.x), "y": _compact(note.y)},
              "width": _compact(note.width), "height": _compact(note.height)}
             for note in (pipeline.ui.notes if pipeline.ui else [])]
    return {"nodes": nodes, "edges": edges, "notes": notes}


def apply_graph(pipeline: Pipeline, graph: dict[str, Any]) -> Pipeline:
    """A copy of ``pipeline`` with the canvas graph's nodes, positions and edges.

    Existing nodes keep their spec and get the new position; nodes missing from
    the graph are removed; new nodes are added with the settings in their
    ``config`` (default params otherwise) under their canvas id, or a fresh one
    derived from the type when that id is missing, invalid or taken. Existing
    nodes and edges keep their order, so the saved YAML diffs cleanly.
    """
    items = [n for n in graph.get("nodes") or [] if isinstance(n, dict) and isinstance(n.get("type"), str)]
    wanted_ids = {n.get("id") for n in items}
    kept = [node.model_copy(deep=True) for node in pipeline.spec.nodes if node.id in wanted_ids]
    kept_ids = {node.id for node in kept}
    taken = set(kept_ids)
    renamed: dict[str, str] = {}
    added: list[NodeSpec] = []
    for item in items:
        position = _position(item)
        if item.get("id") in kept_ids:
            for node in kept:  # duplicate ids (a YAML mistake) move together
                if node.id == item["id"]:
                    node.ui = position
            continue
        node = _new_node(item, taken, position)
        if isinstance(item.get("id"), str) and item["id"] != node.id and item["id"] not in taken:
            renamed[item["id"]] = node.id
        taken.add(node.id)
        added.append(node)
    result = pipeline.model_copy(deep=True)
    result.spec.nodes = kept + added
    result.spec.edges = _edges(pipeline.spec.edges, graph.get("edges") or [], renamed)
    if "notes" in graph:
        notes = _notes(graph.get("notes") or [])
        result.ui = PipelineUi(notes=notes) if notes else None
    return result


def fresh_node_id(node_type: str, taken: Iterable[str]) -> str:
    """``train.classifier`` → ``train-classifier``, then ``-2``, ``-3``… (the canvas uses the same rule)."""
    used = set(taken)
    base = re.sub(r"[^a-z0-9]+", "-", node_type.lower())
    base = re.sub(r"^[^a-z]+", "", base)[:36].rstrip("-") or "node"
    if base not in used and NODE_ID_PATTERN.match(base):
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _problems_by_node(diagnostics: Iterable[Diagnostic]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    for diagnostic in diagnostics:
        if not diagnostic.node:
            continue
        target = errors if diagnostic.severity == "error" else warnings
        prefix = f"node '{diagnostic.node}': "
        message = diagnostic.message.removeprefix(prefix)  # the card already says which node
        target.setdefault(diagnostic.node, []).append(message)
    return errors, warnings


def _positions(pipeline: Pipeline) -> dict[str, tuple[float, float]]:
    """Saved positions; unplaced nodes go in topological layers, or in a row below the placed ones."""
    nodes = pipeline.spec.nodes
    placed = {n.id: (n.ui.x, n.ui.y) for n in nodes if n.ui is not None}
    unplaced = [n.id for n in nodes if n.ui is None and n.id not in placed]
    if not unplaced:
        return placed
    if placed:
        top = max(y for _, y in placed.values()) + _ROW
        return placed | {node_id: (i * _COLUMN, top) for i, node_id in enumerate(unplaced)}
    return _layers(pipeline, unplaced)


def _layers(pipeline: Pipeline, ids: list[str]) -> dict[str, tuple[float, float]]:
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for edge in pipeline.spec.edges:
        source, target = parse_port_ref(edge.from_), parse_port_ref(edge.to)
        if source and target and source.node in graph and target.node in graph and source.node != target.node:
            graph.add_edge(source.node, target.node)
    if not nx.is_directed_acyclic_graph(graph):
        return {node_id: (i * _COLUMN, 0) for i, node_id in enumerate(ids)}
    order = {node_id: i for i, node_id in enumerate(ids)}
    positions = {}
    for column, layer in enumerate(nx.topological_generations(graph)):
        for row, node_id in enumerate(sorted(layer, key=order.__getitem__)):
            positions[node_id] = (column * _COLUMN, row * _ROW)
    return positions


def _compact(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _set_gpu(node: NodeSpec, defaults: Any) -> int | None:
    """GPUs set on the node or the pipeline defaults; None means the node type decides."""
    if node.resources is not None and node.resources.gpu is not None:
        return node.resources.gpu
    if defaults is not None and defaults.gpu is not None:
        return defaults.gpu
    return None


def _config(node: NodeSpec) -> dict[str, Any]:
    dumped = node.model_dump(mode="json", include=set(CONFIG_FIELDS), exclude_none=True)
    return {key: value for key, value in dumped.items() if value not in ({}, None)}


def _position(item: dict[str, Any]) -> UiPosition | None:
    position = item.get("position")
    if not isinstance(position, dict):
        return None
    try:
        return UiPosition(x=float(position.get("x", 0)), y=float(position.get("y", 0)))
    except (TypeError, ValueError):
        return None


def _new_node(item: dict[str, Any], taken: set[str], position: UiPosition | None) -> NodeSpec:
    node_id = item.get("id")
    if not (isinstance(node_id, str) and NODE_ID_PATTERN.match(node_id) and node_id not in taken):
        node_id = fresh_node_id(item["type"], taken)
    config = item.get("config") if isinstance(item.get("config"), dict) else {}
    settings = {key: config[key] for key in CONFIG_FIELDS if key in config}
    try:
        return NodeSpec(id=node_id, type=item["type"], ui=position, **settings)
    except ValidationError:  # a config that no longer fits the spec: start from defaults
        return NodeSpec(id=node_id, type=item["type"], ui=position)


def _notes(items: list[Any]) -> list[UiNote]:
    """The canvas's notes; an entry that is not a note (no id, bad numbers) is left out, ids kept unique."""
    notes: list[UiNote] = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]):
            continue
        position = item.get("position") if isinstance(item.get("position"), dict) else {}
        try:
            note = UiNote(id=item["id"], text=str(item.get("text") or ""), x=float(position.get("x", 0)),
                          y=float(position.get("y", 0)), width=float(item.get("width", 240)),
                          height=float(item.get("height", 140)))
        except (TypeError, ValueError, ValidationError):
            continue
        if all(n.id != note.id for n in notes):
            notes.append(note)
    return notes


def _edges(existing: list[EdgeSpec], items: list[Any], renamed: dict[str, str]) -> list[EdgeSpec]:
    wanted: list[tuple[str, str]] = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("from"), str) and isinstance(item.get("to"), str)):
            continue
        pair = (_rename(item["from"], renamed), _rename(item["to"], renamed))
        if pair not in wanted:
            wanted.append(pair)
    old = [(e.from_, e.to) for e in existing]
    ordered = [pair for pair in dict.fromkeys(old) if pair in wanted] + [pair for pair in wanted if pair not in old]
    return [EdgeSpec(from_=source, to=target) for source, target in ordered]


def _rename(ref: str, renamed: dict[str, str]) -> str:
    parsed = parse_port_ref(ref)
    if parsed is None or parsed.node not in renamed:
        return ref
    return f"{renamed[parsed.node]}.{parsed.port}"
