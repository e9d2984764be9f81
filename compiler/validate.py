"""Check a pipeline against the catalog and report every problem, located and in plain words.

Each rule is one small function that appends to a shared list, so a pipeline
with five mistakes shows five messages at once. Messages start with where the
problem is (``node 'train':``, ``edge 'a.table -> b.model':``, ``pipeline:``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from nodes.base import NodeType, Resources
from nodes.catalog import Catalog

from .diagnostics import Diagnostic
from .durations import parse_duration
from .graph import PipelineGraph, build_graph, find_cycles, parse_port_ref
from .pydantic_messages import describe_error, suggest
from .quantities import QuantityError, parse_quantity
from .spec import Pipeline
from .yaml_io import SourceMap

__all__ = ["validate_pipeline", "check_pipeline", "name_problem", "NODE_ID_PATTERN", "PIPELINE_NAME_PATTERN", "MAX_RETRIES", "NO_NODES"]

#: what an empty pipeline is told (as ``pipeline: …``); the studio shows a start hint instead (studio/problems.py)
NO_NODES = "has no nodes yet; add one from the palette"

NODE_ID_PATTERN = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?\Z")
PIPELINE_NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
MAX_RETRIES = 20


class _Checker:
    def __init__(self, pipeline: Pipeline, catalog: Catalog, source_map: SourceMap | None) -> None:
        self.pipeline = pipeline
        self.catalog = catalog
        self.lines = source_map or SourceMap()
        self.found: list[Diagnostic] = []
        #: each node's params as its type's model, for the plan (so they are validated once)
        self.params: dict[str, BaseModel] = {}
        self.index_of: dict[str, int] = {}
        for index, node in enumerate(pipeline.spec.nodes):
            self.index_of.setdefault(node.id, index)
        self._types: dict[str, type[NodeType] | None] = {}

    def node_error(self, node_id: str, message: str, *, param: str | None = None, path: tuple = (), warning: bool = False) -> None:
        index = self.index_of.get(node_id)
        line = None
        if index is not None:
            line = self.lines.line("spec", "nodes", index, *path) or self.lines.line("spec", "nodes", index)
        severity = "warning" if warning else "error"
        self.found.append(Diagnostic(severity, f"node '{node_id}': {message}", node=node_id, param=param, line=line))

    def edge_error(self, index: int, label: str, message: str, node: str | None = None) -> None:
        line = self.lines.line("spec", "edges", index)
        self.found.append(Diagnostic("error", f"edge '{label}': {message}", edge=label, node=node, line=line))

    def pipeline_error(self, message: str, path: tuple = (), warning: bool = False) -> None:
        severity = "warning" if warning else "error"
        self.found.append(Diagnostic(severity, f"pipeline: {message}", line=self.lines.line(*path) if path else None))

    def node_type(self, node_id: str) -> type[NodeType] | None:
        """The type of the (first) node with this id, looked up once: each end of each edge asks."""
        if node_id not in self._types:
            index = self.index_of.get(node_id)
            self._types[node_id] = None if index is None else self.catalog.get(self.pipeline.spec.nodes[index].type)
        return self._types[node_id]


def validate_pipeline(pipeline: Pipeline, catalog: Catalog, source_map: SourceMap | None = None) -> list[Diagnostic]:
    """Every error and warning in ``pipeline``, in file order within each rule."""
    return check_pipeline(pipeline, catalog, source_map)[0]


def check_pipeline(
    pipeline: Pipeline, catalog: Catalog, source_map: SourceMap | None = None
) -> tuple[list[Diagnostic], PipelineGraph, dict[str, BaseModel]]:
    """``validate_pipeline``'s findings, and what ``compile_plan`` plans from: the graph it checked and every
    node's validated params (by node id; a node whose params or type are wrong has none)."""
    check = _Checker(pipeline, catalog, source_map)
    _check_metadata(check)
    _check_defaults(check)
    _check_nodes(check)
    fed = _check_edges(check)
    _check_required_inputs(check, fed)
    graph = build_graph(pipeline)
    _check_cycles(check, graph)
    _check_isolated(check, graph)
    return check.found, graph, check.params


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a pipeline name (``must be ...``), or None when it is valid.

    The one place the rule is written: validation and the studio's Rename both say it so.
    """
    if PIPELINE_NAME_PATTERN.fullmatch(name):
        return None
    return ("must be lowercase letters, digits and '-', start and end with a letter or digit, "
            "at most 63 characters (e.g. 'iris-classifier')")


def _check_metadata(check: _Checker) -> None:
    name = check.pipeline.metadata.name
    problem = name_problem(name)
    if problem:
        check.pipeline_error(f"name '{name}' {problem}", path=("metadata", "name"))
    if not check.pipeline.spec.nodes:
        check.pipeline_error(NO_NODES, path=("spec",))


def _check_defaults(check: _Checker) -> None:
    defaults = check.pipeline.spec.defaults
    if defaults is None:
        return
    if defaults.image is not None and (not defaults.image.strip() or any(c.isspace() for c in defaults.image)):
        check.pipeline_error(f"defaults.image '{defaults.image}' is not a container image name", path=("spec", "defaults", "image"))
    for field, problem in _resource_problems(defaults.resources):
        check.pipeline_error(f"defaults.{problem}", path=("spec", "defaults", "resources", field))


def _check_nodes(check: _Checker) -> None:
    first_index: dict[str, int] = {}
    for index, node in enumerate(check.pipeline.spec.nodes):
        if node.id in first_index:
            check.found.append(Diagnostic(
                "error",
                f"node '{node.id}': id is already used by node #{first_index[node.id] + 1}; ids must be unique",
                node=node.id,
                line=check.lines.line("spec", "nodes", index),
            ))
            continue
        first_index[node.id] = index
        if not NODE_ID_PATTERN.fullmatch(node.id):
            check.node_error(node.id, "id must be lowercase letters, digits and '-', start with a letter, "
                             "not end with '-', at most 40 characters", path=("id",))
        node_type = check.catalog.get(node.type)
        if node_type is None:
            check.node_error(node.id, f"unknown node type '{node.type}'" + suggest(node.type, check.catalog.type_ids()),
                             path=("type",))
        else:
            _check_params(check, node.id, node_type, node.params)
        for field, problem in _resource_problems(node.resources):
            check.node_error(node.id, problem, path=("resources", field))
        if node.retries is not None and not 0 <= node.retries <= MAX_RETRIES:
            check.node_error(node.id, f"retries must be between 0 and {MAX_RETRIES} (got {node.retries})", path=("retries",))
        if node.timeout is not None:
            try:
                if parse_duration(node.timeout) <= 0:
                    raise ValueError
            except ValueError:
                check.node_error(node.id, f"timeout '{node.timeout}' is not a duration such as 90s, 30m, 2h or 1h30m",
                                 path=("timeout",))


def _check_params(check: _Checker, node_id: str, node_type: type[NodeType], params: dict[str, Any]) -> None:
    try:
        check.params[node_id] = node_type.Params.model_validate(params)
    except ValidationError as exc:
        fields = list(node_type.Params.model_fields)
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or "params"
            check.node_error(node_id, f"param '{name}' {describe_error(error, fields)}", param=name,
                             path=("params", error["loc"][0]) if error["loc"] else ("params",))


def _resource_problems(resources: Resources | None) -> list[tuple[str, str]]:
    """(field, problem) pairs, so each problem can point at its own line."""
    if resources is None:
        return []
    problems = []
    for field, example in (("cpu", '"2" or "500m"'), ("memory", '"4Gi" or "512Mi"')):
        value = getattr(resources, field)
        if value is None:
            continue
        amount = _quantity(value)
        if amount is None:
            problems.append((field, f"resources.{field} '{value}' is not a Kubernetes quantity (e.g. {example})"))
        elif amount <= 0:
            problems.append((field, f"resources.{field} must be more than 0 (got '{value}')"))
        elif field == "memory" and amount < _LEAST_MEMORY:
            problems.append((field, _too_little_memory(value, amount)))
    if resources.gpu is not None and not 0 <= resources.gpu <= 64:
        problems.append(("gpu", f"resources.gpu must be between 0 and 64 (got {resources.gpu})"))
    return problems


#: less memory than any step can start with (Python alone needs some 10 MiB); what is written is a slip
_LEAST_MEMORY = Decimal(1024 * 1024)


def _too_little_memory(value: str, amount: Decimal) -> str:
    """``memory: 512m`` is 0.512 bytes ('m' is milli, as in CPU): say so, and what was meant."""
    number = str(value).strip()
    if number.endswith("m"):
        return (f"resources.memory '{value}' is {amount.normalize():f} bytes ('m' means thousandths); "
                f"for mebibytes write '{number[:-1]}Mi'")
    bytes_ = "1 byte" if amount == 1 else f"{amount.normalize():f} bytes"
    return f"resources.memory '{value}' is {bytes_}, too little to run a step; write e.g. '512Mi' or '4Gi'"


def _quantity(value: str) -> Decimal | None:
    """The amount in a Kubernetes quantity string, or None when Kubernetes would refuse it."""
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _check_edges(check: _Checker) -> dict[tuple[str, str], list[str]]:
    """Report bad edges; return which edges feed each (node, input port)."""
    fed: dict[tuple[str, str], list[str]] = defaultdict(list)
    ids = list(check.index_of)
    for index, edge in enumerate(check.pipeline.spec.edges):
        source, target = parse_port_ref(edge.from_), parse_port_ref(edge.to)
        if source is None or target is None or source.node not in check.index_of or target.node not in check.index_of:
            _report_ends(check, index, edge.label, ((source, edge.from_), (target, edge.to)), ids)
            continue
        out_type, in_type = check.node_type(source.node), check.node_type(target.node)
        out_port = out_type.output_port(source.port) if out_type else None
        in_port = in_type.input_port(target.port) if in_type else None
        if out_type and out_port is None:
            check.edge_error(index, edge.label, _no_port(source.node, out_type, "output", source.port), node=source.node)
        if in_type and in_port is None:
            check.edge_error(index, edge.label, _no_port(target.node, in_type, "input", target.port), node=target.node)
        if out_port and in_port and out_port.kind != in_port.kind:
            check.edge_error(index, edge.label, f"a {out_port.kind} cannot feed a {in_port.kind} input", node=target.node)
        fed[(target.node, target.port)].append(edge.from_)
    for (node_id, port), sources in fed.items():
        if len(sources) == 1:  # almost every input: nothing to say
            continue
        node_type = check.node_type(node_id)
        declared = node_type.input_port(port) if node_type else None
        if not (declared and declared.many):
            check.node_error(node_id, f"input '{port}' is fed by {len(sources)} edges ({', '.join(sources)}); "
                             "an input takes exactly one")
        repeated = sorted(source for source, times in Counter(sources).items() if times > 1)
        if repeated and declared and declared.many:
            check.node_error(node_id, f"input '{port}' is fed by {', '.join(repeated)} more than once; "
                             "connect each output once")
    return fed


def _report_ends(check: _Checker, index: int, label: str, ends: tuple, ids: list[str]) -> None:
    """An edge with an end that is not ``<node id>.<port>`` or names no node: one message per bad end."""
    for ref, raw in ends:
        if ref is None:
            check.edge_error(index, label, f"'{raw}' must be written <node id>.<port>, e.g. 'load.table'")
        elif ref.node not in check.index_of:
            check.edge_error(index, label, f"there is no node '{ref.node}'" + suggest(ref.node, ids))


def _no_port(node_id: str, node_type: type[NodeType], direction: str, port: str) -> str:
    ports = [p.name for p in (node_type.outputs if direction == "output" else node_type.inputs)]
    listing = ", ".join(ports) if ports else "none"
    return (f"node '{node_id}' ({node_type.type_id}) has no {direction} '{port}'" + suggest(port, ports)
            + f"; its {direction}s are: {listing}")


def _check_required_inputs(check: _Checker, fed: dict[tuple[str, str], list[str]]) -> None:
    for node_id in check.index_of:
        node_type = check.node_type(node_id)
        if node_type is None:
            continue
        for port in node_type.inputs:
            if port.required and (node_id, port.name) not in fed:
                check.node_error(node_id, f"input '{port.name}' ({port.kind}) is not connected")


def _check_cycles(check: _Checker, graph: PipelineGraph) -> None:
    for cycle in find_cycles(graph):
        check.pipeline_error(f"cycle {' -> '.join(cycle)}; a pipeline must flow one way", path=("spec", "edges"))


def _check_isolated(check: _Checker, graph: PipelineGraph) -> None:
    """Warn of a node connected to nothing, unless an error already says what it is missing (an input)."""
    if len(graph) < 2:
        return
    explained = {d.node for d in check.found if d.severity == "error"}
    for node_id in graph:
        if graph.is_isolated(node_id) and node_id not in explained:
            check.node_error(node_id, "is not connected to anything", warning=True)
