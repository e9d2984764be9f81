"""Checks that need the data itself: run by ``pipecanvas validate``, before a run, and in the studio.

``validate_pipeline`` looks at the pipeline file only. These checks read each
data node's table the way its step will (a node type offers that through a
``load_table(params)`` class method, as ``data.file`` does), then report on the
data node what ``nodes.data_quality`` finds, and on a train node a target that
does not suit it (a classifier on a continuous number, a regressor on text),
naming the node to use instead. Data that cannot be read here (a bucket this
machine has no credentials for) gives one warning, not an error: the run may
still reach it.

Reading is cached by the node's params and the file's fingerprint (its content
digest, or size and modification time), so a studio page run re-reads nothing
that has not changed.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from nodes.base import NodeType
from nodes.catalog import Catalog
from nodes.errors import NodeInputError

from .diagnostics import Diagnostic
from .graph import PipelineGraph, build_graph
from .spec import NodeSpec, Pipeline
from .yaml_io import SourceMap

__all__ = ["check_data", "data_nodes", "loaded_table", "TARGET_PRESERVING_TYPES"]

#: Node types that pass the data node's target column on with its values unchanged.
TARGET_PRESERVING_TYPES = frozenset({"prepare.split", "prepare.clean", "prepare.rows", "prepare.join"})
_CLASSIFIERS = {"train.classifier": "Train classifier"}
_REGRESSORS = {"train.regressor": "Train regressor"}
_CACHE_SIZE = 16
_cache: "OrderedDict[str, Any]" = OrderedDict()
_lock = threading.Lock()


def loaded_table(node_type: type[NodeType], params: Any) -> Any:
    """``node_type.load_table(params)`` (a table and the columns it left out), cached; raises what it raises."""
    fingerprint = node_type.source_fingerprint(params)
    key = json.dumps([node_type.type_id, params.model_dump(mode="json"), fingerprint], sort_keys=True)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    result = node_type.load_table(params)  # type: ignore[attr-defined]
    if fingerprint is not None:  # no fingerprint: the data may change unseen, so it is not kept
        with _lock:
            _cache[key] = result
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return result


def data_nodes(pipeline: Pipeline, catalog: Catalog) -> Iterator[tuple[NodeSpec, type[NodeType], Any]]:
    """The nodes that read a table (their type has ``load_table``), with their checked params; a node whose
    params are invalid is left out (validate_pipeline reports those)."""
    for node in pipeline.spec.nodes:
        node_type = catalog.get(node.type)
        if node_type is None or not hasattr(node_type, "load_table"):
            continue
        try:
            yield node, node_type, node_type.Params.model_validate(node.params)
        except ValidationError:
            continue


def check_data(pipeline: Pipeline, catalog: Catalog, source_map: SourceMap | None = None) -> list[Diagnostic]:
    """Every data finding, on the node it concerns (warnings, or errors where a run cannot be right)."""
    lines = source_map or SourceMap()
    index_of = {node.id: i for i, node in reversed(list(enumerate(pipeline.spec.nodes)))}
    graph = build_graph(pipeline)
    found: list[Diagnostic] = []
    for node, node_type, params in data_nodes(pipeline, catalog):
        line = lines.line("spec", "nodes", index_of.get(node.id, 0))

        def say(severity: str, message: str, node_id: str = node.id, where: int | None = line) -> None:
            found.append(Diagnostic(severity, f"node '{node_id}': {message}", node=node_id, line=where))  # type: ignore[arg-type]

        try:
            table, left_out = loaded_table(node_type, params)
        except NodeInputError as exc:
            say("warning", f"the data could not be read to check it: {exc}")
            continue
        except Exception as exc:  # an untrusted file can break a reader in any way; the run will say more
            say("warning", f"the data could not be read to check it ({type(exc).__name__}: {exc})")
            continue
        for column, reason in left_out.items():
            say("warning", f"column {column!r} is left out of the features: it is {reason}")
        _check_findings(graph, catalog, node.id, table, say)
        _check_trainers(graph, catalog, node.id, table, index_of, lines, found)
    return found


def _check_findings(graph: PipelineGraph, catalog: Catalog, node_id: str, table: Any, say: Any) -> None:
    from nodes.data_quality import check_table

    trains = any(_type_of(graph, d).startswith("train.") for d in graph.descendants(node_id))
    for finding in check_table(table.frame, table.target, table.ignored):
        if finding.code == "missing_target":
            if _drops_missing_target(graph, node_id, table.target):
                continue
            say("error" if trains else "warning", finding.message)
        elif finding.code in ("infinite_values", "infinite_target"):
            say("error" if trains else "warning", finding.message)  # only a model refuses them
        else:
            say(finding.severity, finding.message)


def _check_trainers(
    graph: PipelineGraph, catalog: Catalog, node_id: str, table: Any, index_of: dict[str, int], lines: SourceMap,
    found: list[Diagnostic],
) -> None:
    """A train node fed (through target-preserving nodes) by this data must suit the target's values."""
    from nodes.data_quality import infer_task

    if table.target is None or table.target not in table.frame.columns:
        return
    guess = None
    for trainer in _trainers_fed_by(graph, node_id):
        kind = _type_of(graph, trainer)
        guess = guess or infer_task(table.frame[table.target])
        if kind in _CLASSIFIERS and guess.task == "regression":
            message = (f"the target {table.target!r} from node '{node_id}' is a quantity ({guess.reason[3:]}), not "
                       "categories: a classifier would treat every value as its own class; use a 'Train regressor' "
                       "(train.regressor) node instead")
        elif kind in _REGRESSORS and _is_text(table.frame[table.target]):
            message = (f"the target {table.target!r} from node '{node_id}' holds categories ({guess.reason}), not "
                       "numbers; use a 'Train classifier' (train.classifier) node instead")
        else:
            continue
        line = lines.line("spec", "nodes", index_of.get(trainer, 0), "type")
        found.append(Diagnostic("error", f"node '{trainer}': {message}", node=trainer, line=line))


def _is_text(series: Any) -> bool:
    from pandas.api import types

    return types.is_bool_dtype(series) or not types.is_numeric_dtype(series)


def _type_of(graph: PipelineGraph, node_id: str) -> str:
    return graph.spec(node_id).type


def _trainers_fed_by(graph: PipelineGraph, node_id: str) -> list[str]:
    """Train nodes reached from ``node_id`` through target-preserving nodes only, in file order."""
    seen, queue, trainers = {node_id}, [node_id], []
    while queue:
        current = queue.pop(0)
        for successor in graph.successors(current):
            if successor in seen:
                continue
            seen.add(successor)
            kind = _type_of(graph, successor)
            if kind in _CLASSIFIERS or kind in _REGRESSORS:
                trainers.append(successor)
            elif kind in TARGET_PRESERVING_TYPES:
                queue.append(successor)
    return sorted(trainers, key=graph.index)


def _drops_missing_target(graph: PipelineGraph, node_id: str, target: str | None) -> bool:
    """Whether a 'Filter rows' node downstream drops the rows whose target is missing."""
    for descendant in graph.descendants(node_id):
        spec = graph.spec(descendant)
        if spec.type == "prepare.rows" and target in (spec.params.get("drop_missing") or []):
            return True
    return False
